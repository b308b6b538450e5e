// SPDX-License-Identifier: Apache-2.0
/**
 * Entries → the compact shared tables that lookup.ts reads (layout described there; DESIGN.md §5,
 * PERFORMANCE.md §5).
 *
 * Steps per family, all on typed arrays (no object per entry):
 * 1. Sort the parser's records by (network, prefix length) with an LSD radix sort that moves whole
 *    records sequentially (IPv4: 4 passes of at most 11 bits; IPv6: up to 9 passes of 16 bits; passes
 *    whose digit is the same for every record are skipped).
 * 2. Merge duplicates (the same network and prefix listed more than once): tags are united in the order
 *    first seen, the earliest first-seen and the latest last-seen are kept, and the first confidence given.
 * 3. Sweep: CIDRs either nest or are disjoint, so one pass with a stack of open entries emits the disjoint
 *    segments, each carrying the most specific entry covering it (longest-prefix semantics resolved once).
 *    An entry starts a segment at its network address; when a nested entry ends before its parent, the
 *    parent resumes right after it; a segment that would be empty (a later entry starts at the same
 *    address) is overwritten. Entries that end up with no segment (covered entirely by more specific
 *    ones) are kept after the segments for `entries()`.
 * 4. Date and payload-id widths chosen, records written once into SharedArrayBuffers of exactly the
 *    needed size, bucket index over the top bits.
 *
 * Written for a fresh worker thread (STYLE.md §8): every loop over the entries runs in chunks of 32K
 * through a small function called again and again, and the rare cases (a duplicate, two segments starting
 * at one address) are branch-free. A function whose one big loop runs once is optimised mid-loop (OSR)
 * from the type feedback seen so far and thrown back to the interpreter by the first branch it had not
 * seen; with chunks, the next call runs re-optimised code and a deopt costs at most one chunk.
 */
import { DATE_MS, DATE_NONE, DATE_SECONDS, LAYOUT_VERSION, META } from './lookup';
import { EntryColumns, MASK6, MS_DATE, NO_DATE, PayloadTable, REC4, REC6, parseIndicatorText, wordDate, type ThreatPayload } from './parse';
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

/** Entries per chunk of every loop (see the header comment). */
const CHUNK = 1 << 15;

/** The builder proper, over the parser's columns (what the worker calls). It sorts the columns' records in place. */
export function buildFromColumns(cols: EntryColumns, meta: BuildMeta): ThreatDbData {
  const byPrefix: Record<string, number> = {};
  const u4 = uniqueEntries(cols.v4Rec, cols.v4Count, REC4, 1, 26, DIGITS4, cols.v4Ms, cols.payloads);
  const u6 = uniqueEntries(cols.v6Rec, cols.v6Count, REC6, 4, 24, DIGITS6, cols.v6Ms, cols.payloads);
  countPrefixes(u4, 'v4', byPrefix);
  countPrefixes(u6, 'v6', byPrefix);
  const s4 = sweep4(u4);
  const s6 = sweep6(u6);
  const tables: Record<string, SharedArrayBuffer> = {};
  const metaBuf = new SharedArrayBuffer(META.length * 4);
  const metaWords = new Uint32Array(metaBuf);
  metaWords[META.version] = LAYOUT_VERSION;
  tables.meta = metaBuf;
  const pidBytes = cols.payloads.payloads.length <= 65536 ? 2 : 4;
  writeFamily(u4, s4, 0, 'v4Start', 'v4', pidBytes, metaWords, tables);
  writeFamily(u6, s6, 1, 'v6Key', 'v6', pidBytes, metaWords, tables);
  writePayloads(cols.payloads.payloads, metaWords, tables);
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
    // The payload table is in tables.payloadText/payloadOffsets (see lookup.ts): nothing to clone here.
    payloads: [],
  };
}

/**
 * The interned payloads as UTF-8 JSON texts (`[tags]` or `[tags, confidence]`) back to back in one shared
 * buffer, with their offsets in another: a DB with 10,000 payloads then crosses threads without 10,000
 * objects to clone (measured ~8 ms of main-thread time per message as objects), and a reader decodes a
 * payload only when a lookup first hits it.
 */
function writePayloads(payloads: readonly ThreatPayload[], meta: Uint32Array, tables: Record<string, SharedArrayBuffer>): void {
  const texts = payloads.map((p) => JSON.stringify(p.confidence === undefined ? [p.tags] : [p.tags, p.confidence]));
  const offsetsBuf = new SharedArrayBuffer((texts.length + 1) * 4);
  const offsets = new Uint32Array(offsetsBuf);
  let at = 0;
  for (let i = 0; i < texts.length; i++) {
    offsets[i] = at;
    at += Buffer.byteLength(texts[i]);
  }
  offsets[texts.length] = at;
  const textBuf = new SharedArrayBuffer(at);
  Buffer.from(textBuf).write(texts.join(''), 0, 'utf8');
  tables.payloadOffsets = offsetsBuf;
  tables.payloadText = textBuf;
  meta[META.payloadCount] = texts.length;
}

// ---------------------------------------------------------------------------------------------------------
// Sorting

type Digit = readonly [word: number, shift: number, bits: number];

/**
 * LSD radix sort of records of `R` uint32 words, stable, by the digits listed least significant first.
 * Records move whole and sequentially (reads in order, writes to one cursor per bucket). Passes whose
 * digit is the same for every record are skipped. Returns the array holding the sorted records (`a` or
 * `b`).
 */
function radixSort(a: Uint32Array, b: Uint32Array, n: number, R: number, digits: readonly Digit[]): Uint32Array {
  const count = new Uint32Array(65537);
  for (const [word, shift, bits] of digits) {
    const size = 1 << bits;
    const mask = size - 1;
    count.fill(0);
    for (let from = 0; from < n; from += CHUNK) histogram(a, R, word, shift, mask, count, from, Math.min(n, from + CHUNK));
    if (!prefixSums(count, size, n)) continue;
    for (let from = 0; from < n; from += CHUNK) scatter(a, b, R, word, shift, mask, count, from, Math.min(n, from + CHUNK));
    const t = a;
    a = b;
    b = t;
  }
  return a;
}

function histogram(a: Uint32Array, R: number, word: number, shift: number, mask: number, count: Uint32Array, from: number, to: number): void {
  for (let j = from; j < to; j++) count[((a[j * R + word] >>> shift) & mask) + 1]++;
}

/** Turns counts into bucket starts; false when one bucket holds everything (the pass would do nothing). */
function prefixSums(count: Uint32Array, size: number, n: number): boolean {
  let uniform = false;
  for (let d = 1; d <= size; d++) {
    if (count[d] === n) uniform = true;
    count[d] += count[d - 1];
  }
  return !uniform;
}

function scatter(a: Uint32Array, b: Uint32Array, R: number, word: number, shift: number, mask: number, count: Uint32Array, from: number, to: number): void {
  // Unrolled for IPv4 records (5 words): the copy is the whole cost of a pass.
  if (R === 5) {
    for (let j = from; j < to; j++) {
      const src = j * 5;
      const dst = count[(a[src + word] >>> shift) & mask]++ * 5;
      b[dst] = a[src];
      b[dst + 1] = a[src + 1];
      b[dst + 2] = a[src + 2];
      b[dst + 3] = a[src + 3];
      b[dst + 4] = a[src + 4];
    }
    return;
  }
  for (let j = from; j < to; j++) {
    const src = j * R;
    const dst = count[(a[src + word] >>> shift) & mask]++ * R;
    for (let w = 0; w < R; w++) b[dst + w] = a[src + w];
  }
}

/**
 * IPv4 records: prefix length (6 bits from bit 26 of word 1), then the network in 11-bit digits (2048
 * write cursors stay in cache where 65536 do not).
 */
const DIGITS4: readonly Digit[] = [
  [1, 26, 6],
  [0, 0, 11],
  [0, 11, 11],
  [0, 22, 10],
];
/** IPv6 records: prefix length (8 bits from bit 24 of word 4), then words 3..0 in 16-bit digits. */
const DIGITS6: readonly Digit[] = [
  [4, 24, 8],
  [3, 0, 16],
  [3, 16, 16],
  [2, 0, 16],
  [2, 16, 16],
  [1, 0, 16],
  [1, 16, 16],
  [0, 0, 16],
  [0, 16, 16],
];

// ---------------------------------------------------------------------------------------------------------
// Unique entries

interface Unique {
  count: number;
  /** Key words per entry (1 or 4). */
  words: number;
  net: Uint32Array;
  len: Uint8Array;
  pid: Uint32Array;
  /** Date words (seconds, NO_DATE or MS_DATE, see parse.ts) and the entry number for the side table. */
  first: Uint32Array;
  last: Uint32Array;
  entry: Uint32Array;
  /** Sub-second dates by entry number, [first, last] pairs. */
  ms: Float64Array | null;
}

/** Sorted, duplicate-free entries of one family from its records (see parse.ts for the layout). */
function uniqueEntries(
  rec: Uint32Array,
  n: number,
  R: number,
  words: number,
  lenShift: number,
  digits: readonly Digit[],
  ms: Float64Array | null,
  payloads: PayloadTable,
): Unique {
  const sorted = radixSort(rec, new Uint32Array(n * R), n, R, digits);
  const u: Unique = {
    count: 0,
    words,
    net: new Uint32Array(n * words),
    len: new Uint8Array(n),
    pid: new Uint32Array(n),
    first: new Uint32Array(n),
    last: new Uint32Array(n),
    entry: new Uint32Array(n),
    ms,
  };
  const dup: Dups = { at: new Int32Array(n), into: new Int32Array(n), count: 0 };
  let c = 0;
  for (let from = 0; from < n; from += CHUNK) c = mergeChunk(sorted, R, words, lenShift, u, c, from, Math.min(n, from + CHUNK), dup);
  u.count = c;
  for (let k = 0; k < dup.count; k++) mergeDuplicate(u, dup.into[k], sorted, dup.at[k], words, lenShift, payloads);
  return u;
}

/** Duplicates found by mergeChunk: record offset and the unique entry it merges into. */
interface Dups {
  at: Int32Array;
  into: Int32Array;
  count: number;
}

/**
 * Copies sorted records [from, to) into `u` from position `c`, skipping repeats of the previous (network,
 * length) and noting them in `dup`. Branch-free on "is this a duplicate", so that the first duplicate does
 * not deoptimise the loop. Returns the new count.
 */
function mergeChunk(rec: Uint32Array, R: number, words: number, lenShift: number, u: Unique, c: number, from: number, to: number, dup: Dups): number {
  const uNet = u.net;
  const uLen = u.len;
  const uPid = u.pid;
  const uFirst = u.first;
  const uLast = u.last;
  const uEntry = u.entry;
  const dupAt = dup.at;
  const dupInto = dup.into;
  let nd = dup.count;
  const idxMask = (1 << lenShift) - 1;
  for (let j = from; j < to; j++) {
    const r = j * R;
    const tail = rec[r + words];
    const len = tail >>> lenShift;
    let same = c > 0 && uLen[c - 1] === len;
    for (let w = 0; w < words && same; w++) same = uNet[(c - 1) * words + w] === rec[r + w];
    const isDup = same ? 1 : 0;
    dupAt[nd] = r;
    dupInto[nd] = c - 1;
    nd += isDup;
    // Written even for a duplicate: slot c is free and the next unique entry overwrites it.
    for (let w = 0; w < words; w++) uNet[c * words + w] = rec[r + w];
    uLen[c] = len;
    uEntry[c] = tail & idxMask;
    uPid[c] = rec[r + words + 1];
    uFirst[c] = rec[r + words + 2];
    uLast[c] = rec[r + words + 3];
    c += 1 - isDup;
  }
  dup.count = nd;
  return c;
}

/**
 * Merges the duplicate record at rec[r..] into unique entry i (the sort is stable on the input order, so
 * entry i is the earlier listing): tags united, earliest first-seen, latest last-seen, first confidence.
 */
function mergeDuplicate(u: Unique, i: number, rec: Uint32Array, r: number, words: number, lenShift: number, payloads: PayloadTable): void {
  const dupEntry = rec[r + words] & ((1 << lenShift) - 1);
  u.pid[i] = payloads.mergedPayloadId(u.pid[i], rec[r + words + 1]);
  const f0 = wordDate(u.first[i], u.ms, u.entry[i] * 2);
  const f1 = wordDate(rec[r + words + 2], u.ms, dupEntry * 2);
  const l0 = wordDate(u.last[i], u.ms, u.entry[i] * 2 + 1);
  const l1 = wordDate(rec[r + words + 3], u.ms, dupEntry * 2 + 1);
  const first = f0 !== f0 ? f1 : f1 !== f1 ? f0 : Math.min(f0, f1);
  const last = l0 !== l0 ? l1 : l1 !== l1 ? l0 : Math.max(l0, l1);
  u.first[i] = dateWordOf(u, first, u.entry[i] * 2);
  u.last[i] = dateWordOf(u, last, u.entry[i] * 2 + 1);
}

/** Date in ms → word, writing a sub-second date into the side table at `at`. */
function dateWordOf(u: Unique, ms: number, at: number): number {
  if (ms !== ms) return NO_DATE;
  if (ms >= 0 && ms % 1000 === 0 && ms < MS_DATE * 1000) return ms / 1000;
  let side = u.ms ?? new Float64Array(at + 2).fill(NaN);
  if (at >= side.length) {
    const g = new Float64Array(Math.max(at + 2, side.length * 2)).fill(NaN);
    g.set(side);
    side = g;
  }
  side[at] = ms;
  u.ms = side;
  return MS_DATE;
}

function countPrefixes(u: Unique, family: string, byPrefix: Record<string, number>): void {
  const counts = new Uint32Array(129);
  for (let from = 0; from < u.count; from += CHUNK) countChunk(u.len, counts, from, Math.min(u.count, from + CHUNK));
  for (let l = 0; l <= 128; l++) if (counts[l] > 0) byPrefix[`${family}/${l}`] = counts[l];
}

function countChunk(len: Uint8Array, counts: Uint32Array, from: number, to: number): void {
  for (let i = from; i < to; i++) counts[len[i]]++;
}

// ---------------------------------------------------------------------------------------------------------
// Sweep: nested CIDRs → disjoint segments carrying the most specific entry

/** Segments of one family: start key words and the unique entry each carries; S of them. */
interface Segments {
  start: Uint32Array;
  entry: Uint32Array;
  S: number;
}

/** Sweep state carried from chunk to chunk: segment count, stack of open entries (entry, end). */
class SweepState {
  S = 0;
  sp = 0;
  readonly stU = new Int32Array(140);
  readonly stEnd4 = new Float64Array(40);
  readonly stEnd6 = new Uint32Array(140 * 4);
  readonly tmp = new Uint32Array(4);
}

/**
 * Appends a segment starting at `start` for entry `e`, or replaces the last one when it starts at the same
 * address (it would be empty); drops it when the previous segment already carries `e` (contiguous pieces).
 * Returns the new segment count. Branch-free on the rare cases (see the header comment).
 */
function emit4(segStart: Uint32Array, segU: Uint32Array, S: number, start: number, e: number): number {
  const at = S > 0 && segStart[S - 1] === start ? S - 1 : S;
  segStart[at] = start;
  segU[at] = e;
  S = at + 1;
  return S > 1 && segU[S - 1] === segU[S - 2] ? S - 1 : S;
}

function sweep4(u: Unique): Segments {
  const cap = 2 * u.count + 1;
  const seg: Segments = { start: new Uint32Array(cap), entry: new Uint32Array(cap), S: 0 };
  const st = new SweepState();
  for (let from = 0; from < u.count; from += CHUNK) sweep4Chunk(u, seg, st, from, Math.min(u.count, from + CHUNK));
  sweep4Close(seg, st, Infinity);
  seg.S = st.S;
  return seg;
}

/** Closes the open entries that end before `start`; a parent resumes right after a child ending inside it. */
function sweep4Close(seg: Segments, st: SweepState, start: number): void {
  const stEnd = st.stEnd4;
  const stU = st.stU;
  let sp = st.sp;
  let S = st.S;
  while (sp > 0 && stEnd[sp - 1] < start) {
    sp--;
    if (sp > 0 && stEnd[sp] < stEnd[sp - 1]) S = emit4(seg.start, seg.entry, S, stEnd[sp] + 1, stU[sp - 1]);
  }
  st.sp = sp;
  st.S = S;
}

function sweep4Chunk(u: Unique, seg: Segments, st: SweepState, from: number, to: number): void {
  const net = u.net;
  const len = u.len;
  const stEnd = st.stEnd4;
  const stU = st.stU;
  for (let e = from; e < to; e++) {
    const start = net[e];
    if (st.sp > 0 && stEnd[st.sp - 1] < start) sweep4Close(seg, st, start);
    st.S = emit4(seg.start, seg.entry, st.S, start, e);
    stU[st.sp] = e;
    stEnd[st.sp++] = start + 2 ** (32 - len[e]) - 1;
  }
}

/** emit4 for IPv6: the start is the 4 words at from[at..at+4). */
function emit6(segStart: Uint32Array, segU: Uint32Array, S: number, from: Uint32Array, at: number, e: number): number {
  const p = (S - 1) * 4;
  const same = S > 0 && segStart[p] === from[at] && segStart[p + 1] === from[at + 1] && segStart[p + 2] === from[at + 2] && segStart[p + 3] === from[at + 3];
  const i = same ? S - 1 : S;
  const q = i * 4;
  segStart[q] = from[at];
  segStart[q + 1] = from[at + 1];
  segStart[q + 2] = from[at + 2];
  segStart[q + 3] = from[at + 3];
  segU[i] = e;
  S = i + 1;
  return S > 1 && segU[S - 1] === segU[S - 2] ? S - 1 : S;
}

/** a[ai..ai+4) < b[bi..bi+4) as 128-bit numbers. */
function less128(a: Uint32Array, ai: number, b: Uint32Array, bi: number): boolean {
  for (let w = 0; w < 4; w++) if (a[ai + w] !== b[bi + w]) return a[ai + w] < b[bi + w];
  return false;
}

function sweep6(u: Unique): Segments {
  const cap = 2 * u.count + 1;
  const seg: Segments = { start: new Uint32Array(cap * 4), entry: new Uint32Array(cap), S: 0 };
  const st = new SweepState();
  for (let from = 0; from < u.count; from += CHUNK) sweep6Chunk(u, seg, st, from, Math.min(u.count, from + CHUNK));
  sweep6Close(seg, st, null, 0);
  seg.S = st.S;
  return seg;
}

/** sweep4Close for IPv6; `net` null closes everything. */
function sweep6Close(seg: Segments, st: SweepState, net: Uint32Array | null, at: number): void {
  const stEnd = st.stEnd6;
  const tmp = st.tmp;
  while (st.sp > 0 && (net === null || less128(stEnd, (st.sp - 1) * 4, net, at))) {
    const sp = --st.sp;
    if (sp > 0 && less128(stEnd, sp * 4, stEnd, (sp - 1) * 4)) {
      // The parent resumes at child end + 1 (no overflow: the child ends below the parent's end).
      for (let w = 0; w < 4; w++) tmp[w] = stEnd[sp * 4 + w];
      for (let w = 3; w >= 0; w--) {
        tmp[w] = (tmp[w] + 1) >>> 0;
        if (tmp[w] !== 0) break;
      }
      st.S = emit6(seg.start, seg.entry, st.S, tmp, 0, st.stU[sp - 1]);
    }
  }
}

function sweep6Chunk(u: Unique, seg: Segments, st: SweepState, from: number, to: number): void {
  const net = u.net;
  const len = u.len;
  const stEnd = st.stEnd6;
  for (let e = from; e < to; e++) {
    const at = e * 4;
    sweep6Close(seg, st, net, at);
    st.S = emit6(seg.start, seg.entry, st.S, net, at, e);
    const sp = st.sp++;
    st.stU[sp] = e;
    const m = len[e] * 4;
    for (let w = 0; w < 4; w++) stEnd[sp * 4 + w] = (net[at + w] | ~MASK6[m + w]) >>> 0;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Shared tables

/** 0 none, 1 whole seconds in uint32, 2 float64 ms: the narrowest that loses nothing. */
function dateModeOf(u: Unique): number {
  let r = 0;
  for (let from = 0; from < u.count; from += CHUNK) r |= dateChunk(u.first, u.last, from, Math.min(u.count, from + CHUNK));
  return (r & 2) !== 0 ? DATE_MS : (r & 1) !== 0 ? DATE_SECONDS : DATE_NONE;
}

/** Bit 1: a date is present; bit 2: a sub-second one. */
function dateChunk(first: Uint32Array, last: Uint32Array, from: number, to: number): number {
  let r = 0;
  for (let i = from; i < to; i++) {
    const a = first[i];
    const b = last[i];
    r |= (a !== NO_DATE ? 1 : 0) | (b !== NO_DATE ? 1 : 0) | (a === MS_DATE || b === MS_DATE ? 2 : 0);
  }
  return r;
}

/** Views over the final shared tables of one family. */
interface Out {
  key: Uint32Array;
  len: Uint8Array;
  pid: Uint16Array | Uint32Array;
  first: Uint32Array | Float64Array;
  last: Uint32Array | Float64Array;
  dateMode: number;
}

function writeFamily(
  u: Unique,
  seg: Segments,
  fam: number,
  keyName: string,
  prefix: string,
  pidBytes: number,
  meta: Uint32Array,
  tables: Record<string, SharedArrayBuffer>,
): void {
  const words = u.words;
  const S = seg.S;
  // Entries without a segment (shadowed by more specific ones) go after the segments.
  const used = new Uint8Array(u.count);
  for (let i = 0; i < S; i++) used[seg.entry[i]] = 1;
  let shadow = 0;
  for (let i = 0; i < u.count; i++) if (used[i] === 0) shadow++;
  const T = S + shadow;
  const dateMode = dateModeOf(u);
  const dateBytes = dateMode === DATE_NONE ? 0 : dateMode === DATE_SECONDS ? 4 : 8;
  const keyBuf = new SharedArrayBuffer(T * words * 4);
  const lenBuf = new SharedArrayBuffer(T);
  const pidBuf = new SharedArrayBuffer(T * pidBytes);
  const firstBuf = new SharedArrayBuffer(T * dateBytes);
  const lastBuf = new SharedArrayBuffer(T * dateBytes);
  const out: Out = {
    key: new Uint32Array(keyBuf),
    len: new Uint8Array(lenBuf),
    pid: pidBytes === 2 ? new Uint16Array(pidBuf) : new Uint32Array(pidBuf),
    first: dateMode === DATE_SECONDS ? new Uint32Array(firstBuf) : new Float64Array(firstBuf),
    last: dateMode === DATE_SECONDS ? new Uint32Array(lastBuf) : new Float64Array(lastBuf),
    dateMode,
  };
  for (let from = 0; from < S; from += CHUNK) writeChunk(u, seg.start, seg.entry, out, from, Math.min(S, from + CHUNK));
  if (shadow > 0) {
    let r = S;
    for (let i = 0; i < u.count; i++) if (used[i] === 0) writeRecord(u, u.net, i * words, i, out, r++);
  }
  const index = bucketIndex(out.key, words, S);
  if (words === 4) {
    // IPv6: the leading word of each searchable segment, densely (lookup.ts searches it first).
    const topBuf = new SharedArrayBuffer(S * 4);
    const top = new Uint32Array(topBuf);
    for (let i = 0; i < S; i++) top[i] = out.key[i * 4];
    tables.v6Top = topBuf;
  }
  tables[keyName] = keyBuf;
  tables[`${prefix}Len`] = lenBuf;
  tables[`${prefix}Pid`] = pidBuf;
  tables[`${prefix}First`] = firstBuf;
  tables[`${prefix}Last`] = lastBuf;
  tables[`${prefix}Index`] = index.buf;
  const base = META.familyBase + fam * META.familyStride;
  meta[base + META.segments] = S;
  meta[base + META.total] = T;
  meta[base + META.dateMode] = dateMode;
  meta[base + META.pidBytes] = pidBytes;
  meta[base + META.skip] = index.skip;
  meta[base + META.k] = index.k;
  meta[base + META.top] = index.top;
}

function writeChunk(u: Unique, segStart: Uint32Array, segU: Uint32Array, out: Out, from: number, to: number): void {
  const words = u.words;
  for (let i = from; i < to; i++) writeRecord(u, segStart, i * words, segU[i], out, i);
}

/** Record `r`: key words from keyFrom[at..], the rest from unique entry `e`. */
function writeRecord(u: Unique, keyFrom: Uint32Array, at: number, e: number, out: Out, r: number): void {
  const words = u.words;
  const key = out.key;
  if (words === 1) key[r] = keyFrom[at];
  else for (let w = 0; w < words; w++) key[r * words + w] = keyFrom[at + w];
  out.len[r] = u.len[e];
  out.pid[r] = u.pid[e];
  if (out.dateMode === DATE_SECONDS) {
    // Same words: NO_DATE is also the tables' "absent" (NO_SECONDS).
    out.first[r] = u.first[e];
    out.last[r] = u.last[e];
  } else if (out.dateMode === DATE_MS) {
    out.first[r] = wordDate(u.first[e], u.ms, u.entry[e] * 2);
    out.last[r] = wordDate(u.last[e], u.ms, u.entry[e] * 2 + 1);
  }
}

/**
 * Bucket index: skip the leading bits every segment shares (up to 16), then k bits chosen for about four
 * segments per bucket (at most 18 bits, 1 MiB). index[b] = first segment in bucket b or later.
 */
function bucketIndex(key: Uint32Array, words: number, S: number): { buf: SharedArrayBuffer; skip: number; k: number; top: number } {
  let skip = 0;
  let top = 0;
  let k = 1;
  if (S > 0) {
    const a = key[0];
    const b = key[(S - 1) * words];
    skip = Math.min(16, Math.clz32((a ^ b) >>> 0));
    top = skip === 0 ? 0 : a >>> (32 - skip);
    k = Math.max(1, Math.min(18, 32 - skip, Math.ceil(Math.log2(S + 1)) - 2));
  }
  const buckets = 2 ** k;
  const buf = new SharedArrayBuffer((buckets + 1) * 4);
  const index = new Uint32Array(buf);
  // Count per bucket, then prefix sums (segments are sorted, so this is their first position).
  const sh = 32 - k;
  for (let from = 0; from < S; from += CHUNK) bucketChunk(key, words, skip, sh, index, from, Math.min(S, from + CHUNK));
  let sum = 0;
  for (let b = 0; b <= buckets; b++) {
    const c = index[b];
    index[b] = sum;
    sum += c;
  }
  return { buf, skip, k, top };
}

function bucketChunk(key: Uint32Array, words: number, skip: number, sh: number, index: Uint32Array, from: number, to: number): void {
  for (let i = from; i < to; i++) {
    const w0 = key[i * words];
    index[skip !== 0 ? (w0 << skip) >>> sh : w0 >>> sh]++;
  }
}
