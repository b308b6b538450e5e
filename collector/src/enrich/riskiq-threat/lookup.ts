// SPDX-License-Identifier: Apache-2.0
/**
 * Read side of the threat DB (DESIGN.md §5, PERFORMANCE.md §5): the table layout that build.ts writes,
 * the lookup that every pipeline worker runs twice per flow, and the on-disk cache format.
 *
 * Layout (per family; IPv4 keys are one uint32, IPv6 keys four network-order uint32 words):
 * - Overlapping entries are resolved at build time into sorted, disjoint segments, each carrying the most
 *   specific entry that covers it. A segment is stored as its first address (`start`) and the prefix
 *   length of its entry (`len`); its last address is implied: the end of the entry's network
 *   (`start | hostmask(len)`) or the address before the next segment, whichever comes first. So a lookup
 *   is "the last segment whose start is <= the address" plus one check that the address lies in that
 *   segment's network: `((addr ^ start) & netmask(len)) == 0`. That is exact longest-prefix matching
 *   with a single binary search, and it stores 5 bytes of key per segment instead of 8 for [start, end]
 *   pairs, which is what keeps 1M entries with tags and dates under 24 MB.
 * - IPv6 also keeps the leading word of each segment in a dense array of its own (`v6Top`, 4 bytes per
 *   segment), searched before the 16-byte keys: one cache line instead of several per lookup.
 * - A bucket index over the top k bits (after the `skip` leading bits every key shares, e.g. the 001 of
 *   2000::/3) narrows the binary search to a few probes: `index[b]` is the first segment whose start
 *   falls in bucket b or later, `index[2^k]` the segment count. k grows with the segment count (at most
 *   18 bits: 1 MiB).
 * - Per segment: payload id (uint16, or uint32 past 65,536 distinct payloads) into the interned payload
 *   table (tag set + confidence; UTF-8 JSON texts in `payloadText` at `payloadOffsets`, decoded on first
 *   hit; `ThreatDbData.payloads` stays empty so that a DB crosses threads without per-object cloning),
 *   and first/last seen as uint32 epoch seconds (0xffffffff = absent) when every date of the family is a
 *   whole second, float64 ms (NaN = absent) otherwise, and no date tables when the family has no dates.
 * - Entries that no address resolves to (fully covered by more specific ones) are stored after the
 *   segments, outside the searched range, so `entries()` can still list every entry.
 *
 * Everything is in SharedArrayBuffers, so one copy serves every worker thread and the swap to a new DB
 * is one reference assignment (PERFORMANCE.md §5).
 *
 * Hot path (STYLE.md §8): findV4/findV6 do integer work on typed arrays only and allocate nothing; a
 * miss costs nothing more. A hit builds its ThreatMatch once and keeps it in a small direct-mapped cache
 * (4096 slots), so the few indicators real traffic keeps hitting do not allocate; the cache is small on
 * purpose: a large one keeps every match alive into the old generation and the collector pays for it in
 * full GCs (measured: a 64K-entry Map cache made random hits 3x slower). Junk input returns null, never
 * throws.
 */
import { isSharedArrayBuffer } from 'node:util/types';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { parseIPv4, parseIPv6 } from '../ip-class';
import { MASK4, MASK6, formatIPv4, formatIndicator4, formatIndicator6, type ThreatPayload } from './parse';
import type { ThreatDbData, ThreatDbInfo, ThreatEntry, ThreatLookup, ThreatMatch } from './types';

/** Version of the table layout (the `meta` table's first word). */
export const LAYOUT_VERSION = 3;

/** Words of the `meta` table. */
export const META = {
  version: 0,
  /** Per family f (0 = IPv4, 1 = IPv6) at `familyBase + f * familyStride`. */
  familyBase: 1,
  familyStride: 8,
  /** Offsets inside a family block. */
  segments: 0,
  total: 1,
  dateMode: 2,
  pidBytes: 3,
  skip: 4,
  k: 5,
  top: 6,
  /** Number of payloads (word 17). */
  payloadCount: 17,
  length: 18,
} as const;

export const DATE_NONE = 0;
export const DATE_SECONDS = 1;
export const DATE_MS = 2;
export const NO_SECONDS = 0xffffffff;

/** Table names in ThreatDbData.tables. */
export const TABLES = [
  'meta',
  'v4Start',
  'v4Len',
  'v4Pid',
  'v4First',
  'v4Last',
  'v4Index',
  'v6Key',
  'v6Len',
  'v6Pid',
  'v6First',
  'v6Last',
  'v6Index',
  'v6Top',
  'payloadOffsets',
  'payloadText',
] as const;

/** A built DB whose tables do not fit together (a bug, or a cache file that is not ours). */
export class ThreatDbFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ThreatDbFormatError';
  }
}

interface Family {
  segments: number;
  total: number;
  dateMode: number;
  pidBytes: number;
  skip: number;
  k: number;
  top: number;
}

function readFamily(meta: Uint32Array, f: number): Family {
  const b = META.familyBase + f * META.familyStride;
  return {
    segments: meta[b + META.segments],
    total: meta[b + META.total],
    dateMode: meta[b + META.dateMode],
    pidBytes: meta[b + META.pidBytes],
    skip: meta[b + META.skip],
    k: meta[b + META.k],
    top: meta[b + META.top],
  };
}

/** Checks that the tables have the sizes the meta table announces; O(1). Throws ThreatDbFormatError. */
function checkShape(data: ThreatDbData): { meta: Uint32Array; v4: Family; v6: Family } {
  if (data === null || typeof data !== 'object' || data.tables === null || typeof data.tables !== 'object') {
    throw new ThreatDbFormatError('threat DB data without tables');
  }
  for (const name of TABLES) {
    const t = data.tables[name];
    // isSharedArrayBuffer rather than instanceof: buffers from another realm (a vm context, e.g. jest) count.
    if (!isSharedArrayBuffer(t)) throw new ThreatDbFormatError(`threat DB table ${name} missing`);
  }
  if (data.tables.meta.byteLength !== META.length * 4) throw new ThreatDbFormatError('threat DB meta table has the wrong size');
  const meta = new Uint32Array(data.tables.meta);
  if (meta[META.version] !== LAYOUT_VERSION) {
    throw new ThreatDbFormatError(`threat DB layout version ${meta[META.version]}, this build reads ${LAYOUT_VERSION}`);
  }
  if (!Array.isArray(data.payloads)) throw new ThreatDbFormatError('threat DB payload list missing');
  const npay = meta[META.payloadCount];
  if (data.tables.payloadOffsets.byteLength !== (npay + 1) * 4) throw new ThreatDbFormatError('threat DB payload offsets have the wrong size');
  const offsets = new Uint32Array(data.tables.payloadOffsets);
  if (offsets[npay] !== data.tables.payloadText.byteLength) throw new ThreatDbFormatError('threat DB payload text has the wrong size');
  const fams = [readFamily(meta, 0), readFamily(meta, 1)];
  fams.forEach((f, i) => {
    const p = i === 0 ? 'v4' : 'v6';
    const words = i === 0 ? 1 : 4;
    const bad = (what: string): never => {
      throw new ThreatDbFormatError(`threat DB ${p} tables inconsistent: ${what}`);
    };
    if (f.segments > f.total) bad('more segments than records');
    if (f.pidBytes !== 2 && f.pidBytes !== 4) bad(`payload id width ${f.pidBytes}`);
    if (f.k < 1 || f.k > 24 || f.skip > 31 || f.skip + f.k > 32) bad(`bucket bits ${f.skip}+${f.k}`);
    if (f.dateMode > DATE_MS) bad(`date mode ${f.dateMode}`);
    const t = data.tables;
    const key = i === 0 ? t.v4Start : t.v6Key;
    if (key.byteLength !== f.total * 4 * words) bad('key table size');
    if ((i === 0 ? t.v4Len : t.v6Len).byteLength !== f.total) bad('prefix table size');
    if ((i === 0 ? t.v4Pid : t.v6Pid).byteLength !== f.total * f.pidBytes) bad('payload id table size');
    const dateBytes = f.dateMode === DATE_NONE ? 0 : f.dateMode === DATE_SECONDS ? 4 : 8;
    if ((i === 0 ? t.v4First : t.v6First).byteLength !== f.total * dateBytes) bad('first-seen table size');
    if ((i === 0 ? t.v4Last : t.v6Last).byteLength !== f.total * dateBytes) bad('last-seen table size');
    if ((i === 0 ? t.v4Index : t.v6Index).byteLength !== ((1 << f.k) + 1) * 4) bad('index table size');
    if (i === 1 && t.v6Top.byteLength !== f.segments * 4) bad('leading-word table size');
  });
  return { meta, v4: fams[0], v6: fams[1] };
}

/** Slots of the direct-mapped ThreatMatch cache (a power of two). */
const MATCH_CACHE_SLOTS = 4096;

export class ThreatDb implements ThreatLookup {
  readonly info: ThreatDbInfo;
  // IPv4 tables.
  private readonly s4: Uint32Array;
  private readonly l4: Uint8Array;
  private readonly p4: Uint16Array | Uint32Array;
  private readonly fs4: Uint32Array | Float64Array | null;
  private readonly ls4: Uint32Array | Float64Array | null;
  private readonly i4: Uint32Array;
  private readonly n4: number;
  private readonly skip4: number;
  private readonly sh4: number;
  private readonly top4: number;
  // IPv6 tables.
  private readonly k6: Uint32Array;
  /** Leading word of each searchable IPv6 segment (a copy of k6[4 i]), searched first. */
  private readonly t6: Uint32Array;
  private readonly l6: Uint8Array;
  private readonly p6: Uint16Array | Uint32Array;
  private readonly fs6: Uint32Array | Float64Array | null;
  private readonly ls6: Uint32Array | Float64Array | null;
  private readonly i6: Uint32Array;
  private readonly n6: number;
  private readonly skip6: number;
  private readonly sh6: number;
  private readonly top6: number;
  private readonly payloadOffsets: Uint32Array;
  private readonly payloadText: Buffer;
  /** Payloads decoded so far, by id (a lookup decodes one the first time it hits it). */
  private readonly payloadCache = new Map<number, ThreatPayload>();
  private readonly cacheRef = new Int32Array(MATCH_CACHE_SLOTS).fill(-1);
  private readonly cacheMatch: Array<ThreatMatch | null> = new Array<ThreatMatch | null>(MATCH_CACHE_SLOTS).fill(null);
  private readonly scratch = new Uint8Array(16);

  private constructor(readonly data: ThreatDbData) {
    const { v4, v6 } = checkShape(data);
    const t = data.tables;
    this.info = data.info;
    this.s4 = new Uint32Array(t.v4Start);
    this.l4 = new Uint8Array(t.v4Len);
    this.p4 = v4.pidBytes === 2 ? new Uint16Array(t.v4Pid) : new Uint32Array(t.v4Pid);
    this.fs4 = dates(t.v4First, v4.dateMode);
    this.ls4 = dates(t.v4Last, v4.dateMode);
    this.i4 = new Uint32Array(t.v4Index);
    this.n4 = v4.segments;
    this.skip4 = v4.skip;
    this.sh4 = 32 - v4.k;
    this.top4 = v4.top;
    this.k6 = new Uint32Array(t.v6Key);
    this.t6 = new Uint32Array(t.v6Top);
    this.l6 = new Uint8Array(t.v6Len);
    this.p6 = v6.pidBytes === 2 ? new Uint16Array(t.v6Pid) : new Uint32Array(t.v6Pid);
    this.fs6 = dates(t.v6First, v6.dateMode);
    this.ls6 = dates(t.v6Last, v6.dateMode);
    this.i6 = new Uint32Array(t.v6Index);
    this.n6 = v6.segments;
    this.skip6 = v6.skip;
    this.sh6 = 32 - v6.k;
    this.top6 = v6.top;
    // Structured clone (worker messages) loses Object.freeze; tag arrays are shared by every match.
    this.payloadOffsets = new Uint32Array(t.payloadOffsets);
    this.payloadText = Buffer.from(t.payloadText);
  }

  /** Wraps built data (from buildThreatDb, a worker message or the cache): views over the shared buffers. */
  static fromData(data: ThreatDbData): ThreatDb {
    return new ThreatDb(data);
  }

  /** Number of searchable segments (IPv4, IPv6): the size of what a lookup searches. */
  get segmentCounts(): { v4: number; v6: number } {
    return { v4: this.n4, v6: this.n6 };
  }

  /** Looks up address text (IPv4, IPv6, IPv4-mapped IPv6 as IPv4). Null when not listed or not an address. */
  lookup(ip: string): ThreatMatch | null {
    if (typeof ip !== 'string') return null;
    const n = parseIPv4(ip);
    if (n >= 0) {
      const r = this.findV4(n);
      return r < 0 ? null : this.matchAt(r);
    }
    if (ip.length > 45 || !parseIPv6(ip, this.scratch, 0)) return null;
    const r = this.findV6(this.scratch, 0);
    return r < 0 ? null : this.matchAt(r);
  }

  /** IPv4 as a uint32 (0..2^32-1). */
  lookupV4(n: number): ThreatMatch | null {
    const r = this.findV4(n);
    return r < 0 ? null : this.matchAt(r);
  }

  /** 16 network-order bytes at `off`; IPv4-mapped addresses are looked up as IPv4. */
  lookupV6(bytes: Uint8Array, off = 0): ThreatMatch | null {
    const r = this.findV6(bytes, off);
    return r < 0 ? null : this.matchAt(r);
  }

  /**
   * The allocation-free core: a segment reference (>= 0, for matchAt) or -1. References of IPv4 segments
   * are 0..v4-1, of IPv6 segments v4..v4+v6-1.
   */
  findV4(n: number): number {
    if (n >>> 0 !== n || this.n4 === 0) return -1;
    const s = this.s4;
    let b: number;
    if (this.skip4 !== 0) {
      const t = n >>> (32 - this.skip4);
      if (t !== this.top4) {
        if (t < this.top4) return -1;
        const i = this.n4 - 1;
        return ((n ^ s[i]) & MASK4[this.l4[i]]) === 0 ? i : -1;
      }
      b = (n << this.skip4) >>> this.sh4;
    } else {
      b = n >>> this.sh4;
    }
    let lo = this.i4[b];
    let hi = this.i4[b + 1];
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (s[mid] <= n) lo = mid + 1;
      else hi = mid;
    }
    const i = lo - 1;
    if (i < 0) return -1;
    return ((n ^ s[i]) & MASK4[this.l4[i]]) === 0 ? i : -1;
  }

  /** See findV4. IPv4-mapped addresses (::ffff:a.b.c.d) are looked up as IPv4. */
  findV6(bytes: Uint8Array, off = 0): number {
    if (off < 0 || !(off + 16 <= bytes.length)) return -1;
    const q0 = ((bytes[off] << 24) | (bytes[off + 1] << 16) | (bytes[off + 2] << 8) | bytes[off + 3]) >>> 0;
    const q1 = ((bytes[off + 4] << 24) | (bytes[off + 5] << 16) | (bytes[off + 6] << 8) | bytes[off + 7]) >>> 0;
    const q2 = ((bytes[off + 8] << 24) | (bytes[off + 9] << 16) | (bytes[off + 10] << 8) | bytes[off + 11]) >>> 0;
    const q3 = ((bytes[off + 12] << 24) | (bytes[off + 13] << 16) | (bytes[off + 14] << 8) | bytes[off + 15]) >>> 0;
    if (q0 === 0 && q1 === 0 && q2 === 0xffff) return this.findV4(q3);
    return this.findV6Words(q0, q1, q2, q3);
  }

  /** See findV4: an IPv6 address as four network-order words (no IPv4-mapped redirection). */
  findV6Words(q0: number, q1: number, q2: number, q3: number): number {
    const n = this.n6;
    if (n === 0) return -1;
    const top = this.t6;
    let lo: number;
    let hi: number;
    if (this.skip6 !== 0 && q0 >>> (32 - this.skip6) !== this.top6) {
      if (q0 >>> (32 - this.skip6) < this.top6) return -1;
      lo = n;
      hi = n;
    } else {
      const b = this.skip6 !== 0 ? (q0 << this.skip6) >>> this.sh6 : q0 >>> this.sh6;
      lo = this.i6[b];
      hi = this.i6[b + 1];
    }
    // First on the dense array of leading words: a bucket's candidates share one cache line there,
    // where their 16-byte keys span several (PERFORMANCE.md §5's point about cache misses).
    const bucketLo = lo;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (top[mid] <= q0) lo = mid + 1;
      else hi = mid;
    }
    let i = lo - 1;
    if (i >= bucketLo && top[i] === q0) {
      // Segments with the same leading word (all in this bucket): the run's start, then a search on the
      // full keys inside the run. The segment before the run is below q in any case.
      let a = bucketLo;
      let z = i;
      while (a < z) {
        const mid = (a + z) >>> 1;
        if (top[mid] < q0) a = mid + 1;
        else z = mid;
      }
      const k = this.k6;
      let l2 = a;
      let h2 = i + 1;
      while (l2 < h2) {
        const mid = (l2 + h2) >>> 1;
        const m = mid * 4;
        const a1 = k[m + 1];
        let le: boolean;
        if (a1 !== q1) le = a1 < q1;
        else {
          const a2 = k[m + 2];
          le = a2 !== q2 ? a2 < q2 : k[m + 3] <= q3;
        }
        if (le) l2 = mid + 1;
        else h2 = mid;
      }
      i = l2 - 1;
    }
    if (i < 0) return -1;
    const l = this.l6[i] * 4;
    // The leading word decides most misses without touching the 16-byte key (one cache miss fewer).
    if (((q0 ^ top[i]) & MASK6[l]) !== 0) return -1;
    const k = this.k6;
    const m = i * 4;
    if (
      ((q1 ^ k[m + 1]) & MASK6[l + 1]) !== 0 ||
      ((q2 ^ k[m + 2]) & MASK6[l + 2]) !== 0 ||
      ((q3 ^ k[m + 3]) & MASK6[l + 3]) !== 0
    ) {
      return -1;
    }
    return this.n4 + i;
  }

  /** The match for a reference from findV4/findV6 (shared between lookups: treat it as read-only). */
  matchAt(ref: number): ThreatMatch {
    const slot = ref & (MATCH_CACHE_SLOTS - 1);
    if (this.cacheRef[slot] === ref) return this.cacheMatch[slot] as ThreatMatch;
    const m = ref < this.n4 ? this.record4(ref) : this.record6(ref - this.n4);
    this.cacheRef[slot] = ref;
    this.cacheMatch[slot] = m;
    return m;
  }

  /** Payload `id`, decoded on first use (tags frozen: every match with this payload shares them). */
  private payloadAt(id: number): ThreatPayload {
    let p = this.payloadCache.get(id);
    if (p === undefined) {
      p = decodePayload(this.payloadText, this.payloadOffsets, id);
      this.payloadCache.set(id, p);
    }
    return p;
  }

  private record4(i: number): ThreatMatch {
    const len = this.l4[i];
    const p = this.payloadAt(this.p4[i]);
    const m: ThreatMatch = { indicator: formatIndicator4((this.s4[i] & MASK4[len]) >>> 0, len), prefixLength: len, tags: p.tags };
    addDates(m, this.fs4, this.ls4, i);
    if (p.confidence !== undefined) m.confidence = p.confidence;
    return m;
  }

  private record6(i: number): ThreatMatch {
    const len = this.l6[i];
    const k = this.k6;
    const l = len * 4;
    const p = this.payloadAt(this.p6[i]);
    const indicator = formatIndicator6(
      (k[i * 4] & MASK6[l]) >>> 0,
      (k[i * 4 + 1] & MASK6[l + 1]) >>> 0,
      (k[i * 4 + 2] & MASK6[l + 2]) >>> 0,
      (k[i * 4 + 3] & MASK6[l + 3]) >>> 0,
      len,
    );
    const m: ThreatMatch = { indicator, prefixLength: len, tags: p.tags };
    addDates(m, this.fs6, this.ls6, i);
    if (p.confidence !== undefined) m.confidence = p.confidence;
    return m;
  }

  /**
   * Every entry of the DB once (after the build merged duplicates), IPv4 first, for the indicator index,
   * `threatdb stats` and the CLI. Entries come out in address order, then the fully shadowed ones.
   */
  *entries(): IterableIterator<ThreatEntry> {
    // IPv4: a segment starts a new entry unless the entry is still open from an earlier segment (an entry
    // split by more specific ones inside it); a stack of open entries tells.
    const st: number[] = [];
    const sl: number[] = [];
    const total4 = this.s4.length;
    for (let i = 0; i < total4; i++) {
      const len = this.l4[i];
      const net = (this.s4[i] & MASK4[len]) >>> 0;
      if (i < this.n4) {
        while (st.length > 0 && st[st.length - 1] + 2 ** (32 - sl[sl.length - 1]) - 1 < this.s4[i]) {
          st.pop();
          sl.pop();
        }
        if (st.length > 0 && st[st.length - 1] === net && sl[sl.length - 1] === len) continue;
        st.push(net);
        sl.push(len);
      }
      const m = this.record4(i);
      yield entryOf(m, 4, formatIPv4(net));
    }
    // IPv6: the same with 128-bit keys as words; the stack holds each open entry's first record.
    const open: number[] = [];
    const total6 = this.l6.length;
    for (let i = 0; i < total6; i++) {
      if (i < this.n6) {
        // Pop entries that end before this segment starts: (start ^ open net) & open mask != 0.
        while (open.length > 0 && !this.sameNetwork6(open[open.length - 1], i)) open.pop();
        const top = open.length > 0 ? open[open.length - 1] : -1;
        if (top >= 0 && this.l6[top] === this.l6[i] && this.sameNetwork6(i, top)) continue;
        open.push(i);
      }
      const m = this.record6(i);
      const slash = m.indicator.indexOf('/');
      yield entryOf(m, 6, slash < 0 ? m.indicator : m.indicator.slice(0, slash));
    }
  }

  /** True when the start of IPv6 record b lies in the network of record a (a's prefix length). */
  private sameNetwork6(a: number, b: number): boolean {
    const k = this.k6;
    const l = this.l6[a] * 4;
    for (let w = 0; w < 4; w++) if (((k[a * 4 + w] ^ k[b * 4 + w]) & MASK6[l + w]) !== 0) return false;
    return true;
  }
}

/** Payload `id` of a payload table; throws ThreatDbFormatError when its text is not a payload. */
function decodePayload(text: Buffer, offsets: Uint32Array, id: number): ThreatPayload {
  let v: unknown;
  try {
    v = JSON.parse(text.toString('utf8', offsets[id], offsets[id + 1]));
  } catch {
    v = null;
  }
  if (!Array.isArray(v) || !Array.isArray(v[0]) || (v[0] as unknown[]).some((t) => typeof t !== 'string') || (v.length > 1 && typeof v[1] !== 'string')) {
    throw new ThreatDbFormatError(`threat DB payload ${id} is not a payload`);
  }
  const tags = Object.freeze(v[0] as string[]);
  return v.length > 1 ? { tags, confidence: v[1] as string } : { tags };
}

function entryOf(m: ThreatMatch, family: 4 | 6, address: string): ThreatEntry {
  const e: ThreatEntry = { address, prefixLength: m.prefixLength, family, tags: m.tags as string[] };
  if (m.firstSeen !== undefined) e.firstSeen = m.firstSeen;
  if (m.lastSeen !== undefined) e.lastSeen = m.lastSeen;
  if (m.confidence !== undefined) e.confidence = m.confidence;
  return e;
}

function dates(buf: SharedArrayBuffer, mode: number): Uint32Array | Float64Array | null {
  if (mode === DATE_SECONDS) return new Uint32Array(buf);
  if (mode === DATE_MS) return new Float64Array(buf);
  return null;
}

function dateAt(t: Uint32Array | Float64Array, i: number): number | undefined {
  const v = t[i];
  if (t instanceof Uint32Array) return v === NO_SECONDS ? undefined : v * 1000;
  return v === v ? v : undefined;
}

function addDates(m: ThreatMatch, first: Uint32Array | Float64Array | null, last: Uint32Array | Float64Array | null, i: number): void {
  if (first !== null) {
    const f = dateAt(first, i);
    if (f !== undefined) m.firstSeen = f;
  }
  if (last !== null) {
    const l = dateAt(last, i);
    if (l !== undefined) m.lastSeen = l;
  }
}

// ---------------------------------------------------------------------------------------------------------
// On-disk cache

/**
 * Cache file format, version 1 (all integers little-endian):
 *
 *   magic   "TFTHRTDB"                                   8 bytes
 *   version 1                                           u32
 *   hlen    length of the header JSON                   u32
 *   header  JSON {info, payloads, tables: [[name, bytes], ...]}, zero-padded to a multiple of 8
 *   tables  each table's bytes in header order, each zero-padded to a multiple of 8
 *   crc     CRC-32 of every byte before it              u32
 *
 * A file with another magic, another version, a wrong length or checksum, or tables that do not fit
 * together is rejected with ThreatDbFormatError (the caller keeps running without a disk copy).
 */
export const CACHE_MAGIC = 'TFTHRTDB';
export const CACHE_VERSION = 1;

const pad8 = (n: number): number => (n + 7) & ~7;

export function serializeThreatDb(data: ThreatDbData): Buffer {
  checkShape(data);
  const names = Object.keys(data.tables);
  const header = Buffer.from(
    JSON.stringify({ info: data.info, payloads: data.payloads, tables: names.map((n) => [n, data.tables[n].byteLength]) }),
    'utf8',
  );
  let size = 16 + pad8(header.length);
  for (const n of names) size += pad8(data.tables[n].byteLength);
  size += 4;
  const out = Buffer.alloc(size);
  out.write(CACHE_MAGIC, 0, 'latin1');
  out.writeUInt32LE(CACHE_VERSION, 8);
  out.writeUInt32LE(header.length, 12);
  header.copy(out, 16);
  let at = 16 + pad8(header.length);
  for (const n of names) {
    const t = new Uint8Array(data.tables[n]);
    out.set(t, at);
    at += pad8(t.length);
  }
  out.writeUInt32LE(crc32(out.subarray(0, at)), at);
  return out;
}

export function deserializeThreatDb(buf: Buffer): ThreatDbData {
  const fail = (why: string): never => {
    throw new ThreatDbFormatError(`threat DB cache rejected: ${why}`);
  };
  if (!Buffer.isBuffer(buf) || buf.length < 20) fail('file too short');
  if (buf.toString('latin1', 0, 8) !== CACHE_MAGIC) fail('not a threatflow threat DB file (bad magic)');
  const version = buf.readUInt32LE(8);
  if (version !== CACHE_VERSION) fail(`format version ${version}, this build reads ${CACHE_VERSION}`);
  const stored = buf.readUInt32LE(buf.length - 4);
  if (crc32(buf.subarray(0, buf.length - 4)) !== stored) fail('checksum mismatch (file corrupt or truncated)');
  const hlen = buf.readUInt32LE(12);
  if (16 + hlen > buf.length - 4) fail('header length beyond the end of the file');
  let header: { info: ThreatDbInfo; payloads: unknown[]; tables: Array<[string, number]> };
  try {
    header = JSON.parse(buf.toString('utf8', 16, 16 + hlen));
  } catch (err) {
    return fail(`header is not JSON (${(err as Error).message})`);
  }
  if (!header || typeof header !== 'object' || !Array.isArray(header.tables) || !Array.isArray(header.payloads) || !header.info) {
    fail('header lacks info, payloads or tables');
  }
  const tables: Record<string, SharedArrayBuffer> = {};
  let at = 16 + pad8(hlen);
  for (const entry of header.tables) {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string' || !Number.isSafeInteger(entry[1]) || entry[1] < 0) fail('bad table entry in header');
    const [name, bytes] = entry;
    if (at + bytes > buf.length - 4) fail(`table ${name} runs past the end of the file`);
    const sab = new SharedArrayBuffer(bytes);
    new Uint8Array(sab).set(buf.subarray(at, at + bytes));
    tables[name] = sab;
    at += pad8(bytes);
  }
  if (at !== buf.length - 4) fail('trailing bytes after the tables');
  const data: ThreatDbData = { info: header.info, tables, payloads: header.payloads };
  try {
    validateThreatDb(data);
  } catch (err) {
    fail((err as Error).message);
  }
  return data;
}

/**
 * Full structural check of built data, O(n): shapes, sorted keys, bucket index, payload ids and prefix
 * lengths in range. The cache loader runs it so that a lookup can never read out of bounds.
 */
export function validateThreatDb(data: ThreatDbData): void {
  const { v4, v6 } = checkShape(data);
  const t = data.tables;
  const npay = new Uint32Array(t.meta)[META.payloadCount];
  const offsets = new Uint32Array(t.payloadOffsets);
  const text = Buffer.from(t.payloadText);
  for (let i = 0; i < npay; i++) {
    if (offsets[i] > offsets[i + 1]) throw new ThreatDbFormatError(`payload offsets not monotonic at ${i}`);
    decodePayload(text, offsets, i);
  }
  const check = (f: Family, words: number, keyBuf: SharedArrayBuffer, lenBuf: SharedArrayBuffer, pidBuf: SharedArrayBuffer, idxBuf: SharedArrayBuffer, name: string): void => {
    const key = new Uint32Array(keyBuf);
    const len = new Uint8Array(lenBuf);
    const pid = f.pidBytes === 2 ? new Uint16Array(pidBuf) : new Uint32Array(pidBuf);
    const idx = new Uint32Array(idxBuf);
    const max = words * 32;
    for (let i = 0; i < f.total; i++) {
      if (len[i] > max) throw new ThreatDbFormatError(`${name} prefix length ${len[i]} at record ${i}`);
      if (pid[i] >= npay) throw new ThreatDbFormatError(`${name} payload id out of range at record ${i}`);
    }
    for (let i = 1; i < f.segments; i++) {
      let c = 0;
      for (let w = 0; w < words && c === 0; w++) c = key[(i - 1) * words + w] - key[i * words + w];
      if (c >= 0) throw new ThreatDbFormatError(`${name} segments not sorted at ${i}`);
    }
    const buckets = 1 << f.k;
    if (idx[buckets] !== f.segments) throw new ThreatDbFormatError(`${name} index does not end at the segment count`);
    for (let b = 0; b < buckets; b++) if (idx[b] > idx[b + 1]) throw new ThreatDbFormatError(`${name} index not monotonic at ${b}`);
    for (let i = 0; i < f.segments; i++) {
      const w0 = key[i * words];
      if (f.skip !== 0 && w0 >>> (32 - f.skip) !== f.top) throw new ThreatDbFormatError(`${name} key outside the common prefix at ${i}`);
      const b = f.skip !== 0 ? (w0 << f.skip) >>> (32 - f.k) : w0 >>> (32 - f.k);
      if (i < idx[b] || i >= idx[b + 1]) throw new ThreatDbFormatError(`${name} index disagrees with segment ${i}`);
    }
  };
  check(v4, 1, t.v4Start, t.v4Len, t.v4Pid, t.v4Index, 'v4');
  check(v6, 4, t.v6Key, t.v6Len, t.v6Pid, t.v6Index, 'v6');
  const key6 = new Uint32Array(t.v6Key);
  const top6 = new Uint32Array(t.v6Top);
  for (let i = 0; i < v6.segments; i++) if (top6[i] !== key6[i * 4]) throw new ThreatDbFormatError(`v6 leading word disagrees with segment ${i}`);
}

/** CRC-32 (zlib's when Node has it, 20.15+; a table otherwise). */
function crc32(b: Uint8Array): number {
  if (typeof zlibCrc32 === 'function') return zlibCrc32(b) >>> 0;
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) {
    c ^= b[i];
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return (c ^ 0xffffffff) >>> 0;
}
