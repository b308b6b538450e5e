// SPDX-License-Identifier: Apache-2.0
/**
 * Entries → the compact shared tables that lookup.ts reads (layout described there; DESIGN.md §5,
 * PERFORMANCE.md §5).
 *
 * Steps per family, all on typed arrays (no object per entry):
 * 1. Sort by (network, prefix length) with an LSD radix sort on 16-bit digits of the key words (3 passes
 *    for IPv4, up to 9 for IPv6; passes whose digit is the same for every entry are skipped).
 * 2. Merge duplicates (the same network and prefix listed more than once): tags are united in the order
 *    first seen, the earliest first-seen and the latest last-seen are kept, and the first confidence given.
 * 3. Sweep: CIDRs either nest or are disjoint, so one pass with a stack of open entries emits the disjoint
 *    segments, each carrying the most specific entry covering it (longest-prefix semantics resolved once).
 *    An entry starts a segment at its network address; when a nested entry ends before its parent, the
 *    parent resumes right after it; a segment that would be empty (a later entry starts at the same
 *    address) is overwritten. Entries that end up with no segment (covered entirely by more specific
 *    ones) are kept after the segments for `entries()`.
 * 4. Bucket index over the top bits, date and payload-id widths chosen, tables copied into
 *    SharedArrayBuffers of exactly the needed size.
 */
import { DATE_MS, DATE_NONE, DATE_SECONDS, LAYOUT_VERSION, META, NO_SECONDS } from './lookup';
import { EntryColumns, MASK6, PayloadTable, parseIndicatorText } from './parse';
import type { ThreatDbData, ThreatEntry } from './types';

export interface BuildMeta {
  /** When the body was downloaded (unix ms). */
  fetchedAt: number;
  /** The endpoint URL (never credentials) or the cache file path. */
  source: string;
}

/**
 * Builds the DB from entries (e.g. `parseBlocklist(body).entries`). Overlaps are resolved to the most
 * specific entry; duplicates merged. Throws TypeError for an entry whose address is not an address (the
 * parser never produces one).
 */
export function buildThreatDb(entries: readonly ThreatEntry[], meta: BuildMeta): ThreatDbData {
  const cols = new EntryColumns(entries.length);
  const payloads = cols.payloads;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    const addr = e && typeof e.address === 'string' ? e.address : '';
    const text = addr.includes('/') || e.prefixLength === undefined ? addr : `${addr}/${e.prefixLength}`;
    if (!parseIndicatorText(text)) throw new TypeError(`threat entry ${i}: not an address or CIDR: ${JSON.stringify(text)}`);
    const pid = payloads.payloadId(payloads.tagSetId(Array.isArray(e.tags) ? e.tags : []), payloads.confidenceId(e.confidence));
    cols.addParsed(pid, dateOrNaN(e.firstSeen), dateOrNaN(e.lastSeen));
  }
  return buildFromColumns(cols, meta);
}

function dateOrNaN(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : NaN;
}

/** One family's records before they go into shared buffers. */
interface FamilyBuild {
  /** Searchable segments; records S..total-1 are shadowed entries. */
  segments: number;
  total: number;
  words: number;
  key: Uint32Array;
  len: Uint8Array;
  pid: Uint32Array;
  first: Float64Array;
  last: Float64Array;
}

/** The builder proper, over the parser's columns (what the worker calls). */
export function buildFromColumns(cols: EntryColumns, meta: BuildMeta): ThreatDbData {
  const byPrefix: Record<string, number> = {};
  const u4 = unique4(cols, byPrefix);
  const u6 = unique6(cols, byPrefix);
  const f4 = sweep4(u4);
  const f6 = sweep6(u6);
  const tables: Record<string, SharedArrayBuffer> = {};
  const metaBuf = new SharedArrayBuffer(META.length * 4);
  const metaWords = new Uint32Array(metaBuf);
  metaWords[META.version] = LAYOUT_VERSION;
  tables.meta = metaBuf;
  const pidBytes = cols.payloads.payloads.length <= 65536 ? 2 : 4;
  emitFamily(f4, 0, 'v4Start', 'v4', pidBytes, metaWords, tables);
  emitFamily(f6, 1, 'v6Key', 'v6', pidBytes, metaWords, tables);
  let memoryBytes = 0;
  for (const t of Object.values(tables)) memoryBytes += t.byteLength;
  return {
    info: {
      entries: u4.count + u6.count,
      ipv4Entries: u4.count,
      ipv6Entries: u6.count,
      byPrefix,
      fetchedAt: meta.fetchedAt,
      source: meta.source,
      memoryBytes,
    },
    tables,
    payloads: cols.payloads.payloads.map((p) => (p.confidence === undefined ? { tags: [...p.tags] } : { tags: [...p.tags], confidence: p.confidence })),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Sorting

/**
 * One stable counting-sort pass of `src` (a permutation) into `dst` by the digit
 * `(key[src[j] * stride + off] >>> shift) & 0xffff`. Returns false, writing nothing, when every entry has
 * the same digit (the pass would not change the order).
 */
function radixPass(
  src: Uint32Array,
  dst: Uint32Array,
  n: number,
  key: Uint32Array | Uint8Array,
  stride: number,
  off: number,
  shift: number,
  count: Uint32Array,
): boolean {
  count.fill(0);
  for (let j = 0; j < n; j++) count[((key[src[j] * stride + off] >>> shift) & 0xffff) + 1]++;
  for (let d = 1; d <= 65536; d++) if (count[d] === n) return false;
  for (let d = 1; d <= 65536; d++) count[d] += count[d - 1];
  for (let j = 0; j < n; j++) {
    const s = src[j];
    dst[count[(key[s * stride + off] >>> shift) & 0xffff]++] = s;
  }
  return true;
}

/** Order of entries by (key words, prefix length), ascending. */
function sortOrder(n: number, key: Uint32Array, words: number, len: Uint8Array): Uint32Array {
  let a = new Uint32Array(n);
  let b = new Uint32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  const count = new Uint32Array(65537);
  if (radixPass(a, b, n, len, 1, 0, 0, count)) [a, b] = [b, a];
  for (let w = words - 1; w >= 0; w--) {
    if (radixPass(a, b, n, key, words, w, 0, count)) [a, b] = [b, a];
    if (radixPass(a, b, n, key, words, w, 16, count)) [a, b] = [b, a];
  }
  return a;
}

// ---------------------------------------------------------------------------------------------------------
// Unique entries

interface Unique {
  count: number;
  net: Uint32Array;
  len: Uint8Array;
  pid: Uint32Array;
  first: Float64Array;
  last: Float64Array;
}

function minDate(a: number, b: number): number {
  return a !== a ? b : b !== b ? a : Math.min(a, b);
}
function maxDate(a: number, b: number): number {
  return a !== a ? b : b !== b ? a : Math.max(a, b);
}

function unique4(cols: EntryColumns, byPrefix: Record<string, number>): Unique {
  const n = cols.v4Count;
  const order = sortOrder(n, cols.v4Net, 1, cols.v4Len);
  const u: Unique = { count: 0, net: new Uint32Array(n), len: new Uint8Array(n), pid: new Uint32Array(n), first: new Float64Array(n), last: new Float64Array(n) };
  mergeDuplicates(order, n, 1, cols.v4Net, cols.v4Len, cols.v4Pid, cols.v4First, cols.v4Last, cols.payloads, u);
  for (let i = 0; i < u.count; i++) {
    const k = `v4/${u.len[i]}`;
    byPrefix[k] = (byPrefix[k] ?? 0) + 1;
  }
  return u;
}

function unique6(cols: EntryColumns, byPrefix: Record<string, number>): Unique {
  const n = cols.v6Count;
  const order = sortOrder(n, cols.v6Net, 4, cols.v6Len);
  const u: Unique = { count: 0, net: new Uint32Array(n * 4), len: new Uint8Array(n), pid: new Uint32Array(n), first: new Float64Array(n), last: new Float64Array(n) };
  mergeDuplicates(order, n, 4, cols.v6Net, cols.v6Len, cols.v6Pid, cols.v6First, cols.v6Last, cols.payloads, u);
  for (let i = 0; i < u.count; i++) {
    const k = `v6/${u.len[i]}`;
    byPrefix[k] = (byPrefix[k] ?? 0) + 1;
  }
  return u;
}

function mergeDuplicates(
  order: Uint32Array,
  n: number,
  words: number,
  net: Uint32Array,
  len: Uint8Array,
  pid: Uint32Array,
  first: Float64Array,
  last: Float64Array,
  payloads: PayloadTable,
  u: Unique,
): void {
  let c = 0;
  for (let j = 0; j < n; j++) {
    const e = order[j];
    if (c > 0 && u.len[c - 1] === len[e]) {
      let same = true;
      for (let w = 0; w < words; w++) {
        if (u.net[(c - 1) * words + w] !== net[e * words + w]) {
          same = false;
          break;
        }
      }
      if (same) {
        // Sorting is stable on the input order, so the earlier listing is u[c-1].
        u.pid[c - 1] = payloads.mergedPayloadId(u.pid[c - 1], pid[e]);
        u.first[c - 1] = minDate(u.first[c - 1], first[e]);
        u.last[c - 1] = maxDate(u.last[c - 1], last[e]);
        continue;
      }
    }
    for (let w = 0; w < words; w++) u.net[c * words + w] = net[e * words + w];
    u.len[c] = len[e];
    u.pid[c] = pid[e];
    u.first[c] = first[e];
    u.last[c] = last[e];
    c++;
  }
  u.count = c;
}

// ---------------------------------------------------------------------------------------------------------
// Sweep: nested CIDRs → disjoint segments carrying the most specific entry

/** Segments (start, unique entry) → records, with the shadowed entries appended. */
function finishFamily(u: Unique, words: number, segStart: Uint32Array, segU: Uint32Array, segments: number): FamilyBuild {
  const used = new Uint8Array(u.count);
  for (let i = 0; i < segments; i++) used[segU[i]] = 1;
  let shadow = 0;
  for (let i = 0; i < u.count; i++) if (used[i] === 0) shadow++;
  const total = segments + shadow;
  const f: FamilyBuild = {
    segments,
    total,
    words,
    key: new Uint32Array(total * words),
    len: new Uint8Array(total),
    pid: new Uint32Array(total),
    first: new Float64Array(total),
    last: new Float64Array(total),
  };
  const put = (r: number, e: number, startFrom: Uint32Array, startAt: number): void => {
    for (let w = 0; w < words; w++) f.key[r * words + w] = startFrom[startAt * words + w];
    f.len[r] = u.len[e];
    f.pid[r] = u.pid[e];
    f.first[r] = u.first[e];
    f.last[r] = u.last[e];
  };
  for (let i = 0; i < segments; i++) put(i, segU[i], segStart, i);
  let r = segments;
  for (let i = 0; i < u.count; i++) if (used[i] === 0) put(r++, i, u.net, i);
  return f;
}

function sweep4(u: Unique): FamilyBuild {
  const cap = 2 * u.count + 1;
  const segStart = new Uint32Array(cap);
  const segU = new Uint32Array(cap);
  let S = 0;
  const stU = new Int32Array(40);
  const stEnd = new Float64Array(40);
  let sp = 0;
  const emit = (start: number, e: number): void => {
    if (S > 0 && segStart[S - 1] === start) segU[S - 1] = e; // the earlier one would be empty
    else {
      segStart[S] = start;
      segU[S++] = e;
    }
    if (S > 1 && segU[S - 1] === segU[S - 2]) S--; // contiguous pieces of one entry
  };
  const pop = (): void => {
    sp--;
    if (sp > 0 && stEnd[sp] < stEnd[sp - 1]) emit(stEnd[sp] + 1, stU[sp - 1]);
  };
  for (let e = 0; e < u.count; e++) {
    const start = u.net[e];
    const end = start + 2 ** (32 - u.len[e]) - 1;
    while (sp > 0 && stEnd[sp - 1] < start) pop();
    emit(start, e);
    stU[sp] = e;
    stEnd[sp++] = end;
  }
  while (sp > 0) pop();
  return finishFamily(u, 1, segStart, segU, S);
}

function sweep6(u: Unique): FamilyBuild {
  const cap = 2 * u.count + 1;
  const segStart = new Uint32Array(cap * 4);
  const segU = new Uint32Array(cap);
  let S = 0;
  const stU = new Int32Array(140);
  const stEnd = new Uint32Array(140 * 4);
  let sp = 0;
  /** a[ai..ai+4) < b[bi..bi+4) */
  const less = (a: Uint32Array, ai: number, b: Uint32Array, bi: number): boolean => {
    for (let w = 0; w < 4; w++) if (a[ai + w] !== b[bi + w]) return a[ai + w] < b[bi + w];
    return false;
  };
  const tmp = new Uint32Array(4);
  const emit = (from: Uint32Array, at: number, e: number): void => {
    const p = (S - 1) * 4;
    if (S > 0 && segStart[p] === from[at] && segStart[p + 1] === from[at + 1] && segStart[p + 2] === from[at + 2] && segStart[p + 3] === from[at + 3]) {
      segU[S - 1] = e;
    } else {
      segStart.set(from.subarray(at, at + 4), S * 4);
      segU[S++] = e;
    }
    if (S > 1 && segU[S - 1] === segU[S - 2]) S--;
  };
  const pop = (): void => {
    sp--;
    if (sp > 0 && less(stEnd, sp * 4, stEnd, (sp - 1) * 4)) {
      // Resume the parent right after the child: child end + 1 (no overflow, it is below the parent's end).
      tmp.set(stEnd.subarray(sp * 4, sp * 4 + 4));
      for (let w = 3; w >= 0; w--) {
        tmp[w] = (tmp[w] + 1) >>> 0;
        if (tmp[w] !== 0) break;
      }
      emit(tmp, 0, stU[sp - 1]);
    }
  };
  for (let e = 0; e < u.count; e++) {
    const at = e * 4;
    while (sp > 0 && less(stEnd, (sp - 1) * 4, u.net, at)) pop();
    emit(u.net, at, e);
    stU[sp] = e;
    const m = u.len[e] * 4;
    for (let w = 0; w < 4; w++) stEnd[sp * 4 + w] = (u.net[at + w] | ~MASK6[m + w]) >>> 0;
    sp++;
  }
  while (sp > 0) pop();
  return finishFamily(u, 4, segStart, segU, S);
}

// ---------------------------------------------------------------------------------------------------------
// Shared tables

function emitFamily(
  f: FamilyBuild,
  fam: number,
  keyName: string,
  prefix: string,
  pidBytes: number,
  meta: Uint32Array,
  tables: Record<string, SharedArrayBuffer>,
): void {
  const base = META.familyBase + fam * META.familyStride;
  const S = f.segments;
  const T = f.total;
  // Bucket index: skip the leading bits every segment shares, then k bits (about 4 segments per bucket).
  let skip = 0;
  let top = 0;
  let k = 1;
  if (S > 0) {
    const a = f.key[0];
    const b = f.key[(S - 1) * f.words];
    skip = Math.min(16, Math.clz32((a ^ b) >>> 0));
    top = skip === 0 ? 0 : a >>> (32 - skip);
    k = Math.max(1, Math.min(18, 32 - skip, Math.ceil(Math.log2(S + 1)) - 2));
  }
  const buckets = 2 ** k;
  const indexBuf = new SharedArrayBuffer((buckets + 1) * 4);
  const index = new Uint32Array(indexBuf);
  let i = 0;
  const sh = 32 - k;
  for (let bkt = 0; bkt < buckets; bkt++) {
    while (i < S) {
      const w0 = f.key[i * f.words];
      const bi = skip !== 0 ? (w0 << skip) >>> sh : w0 >>> sh;
      if (bi >= bkt) break;
      i++;
    }
    index[bkt] = i;
  }
  index[buckets] = S;
  // Dates: whole seconds in uint32 when that loses nothing.
  let any = false;
  let seconds = true;
  for (let r = 0; r < T; r++) {
    for (const v of [f.first[r], f.last[r]]) {
      if (v !== v) continue;
      any = true;
      if (seconds && !(v >= 0 && v % 1000 === 0 && v / 1000 < NO_SECONDS)) seconds = false;
    }
  }
  const dateMode = !any ? DATE_NONE : seconds ? DATE_SECONDS : DATE_MS;
  const keyBuf = new SharedArrayBuffer(T * f.words * 4);
  new Uint32Array(keyBuf).set(f.key.subarray(0, T * f.words));
  const lenBuf = new SharedArrayBuffer(T);
  new Uint8Array(lenBuf).set(f.len.subarray(0, T));
  const pidBuf = new SharedArrayBuffer(T * pidBytes);
  (pidBytes === 2 ? new Uint16Array(pidBuf) : new Uint32Array(pidBuf)).set(f.pid.subarray(0, T));
  const dateBytes = dateMode === DATE_NONE ? 0 : dateMode === DATE_SECONDS ? 4 : 8;
  const firstBuf = new SharedArrayBuffer(T * dateBytes);
  const lastBuf = new SharedArrayBuffer(T * dateBytes);
  if (dateMode === DATE_SECONDS) {
    const fs = new Uint32Array(firstBuf);
    const ls = new Uint32Array(lastBuf);
    for (let r = 0; r < T; r++) {
      const a = f.first[r];
      const b = f.last[r];
      fs[r] = a === a ? a / 1000 : NO_SECONDS;
      ls[r] = b === b ? b / 1000 : NO_SECONDS;
    }
  } else if (dateMode === DATE_MS) {
    new Float64Array(firstBuf).set(f.first.subarray(0, T));
    new Float64Array(lastBuf).set(f.last.subarray(0, T));
  }
  tables[keyName] = keyBuf;
  tables[`${prefix}Len`] = lenBuf;
  tables[`${prefix}Pid`] = pidBuf;
  tables[`${prefix}First`] = firstBuf;
  tables[`${prefix}Last`] = lastBuf;
  tables[`${prefix}Index`] = indexBuf;
  meta[base + META.segments] = S;
  meta[base + META.total] = T;
  meta[base + META.dateMode] = dateMode;
  meta[base + META.pidBytes] = pidBytes;
  meta[base + META.skip] = skip;
  meta[base + META.k] = k;
  meta[base + META.top] = top;
}
