// SPDX-License-Identifier: Apache-2.0
/**
 * The include/exclude file of `EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_THREAT_INCLEXCL_PATH` (DESIGN.md §5):
 * which public addresses the threat enricher looks up.
 *
 * File format: one entry per line; `#` starts a comment (whole line or after an entry); blank lines are
 * ignored. An entry is an IP address, a CIDR (`10.0.0.0/8`, `2001:db8::/32`) or an inclusive range
 * (`192.0.2.10-192.0.2.20`, `2001:db8::1-2001:db8::ff`, spaces around `-` allowed, both ends of one family,
 * start <= end). A plain entry includes, a `!`-prefixed one (`!10.0.0.0/8`) excludes. IPv4-mapped IPv6
 * (`::ffff:a.b.c.d`) means the IPv4 address, in the file and in lookups. A CIDR with host bits set is
 * taken as its network, as the blocklist parser and the private-range classifier do.
 *
 * Semantics: an address is looked up only if
 *   1. it is public (the caller decides that first, with the shared classifier `../ip-class.ts`), and
 *   2. there are no include lines at all, or it matches an include line, and
 *   3. it matches no exclude line (exclude wins over include).
 * "No include lines" is decided over the whole file, not per family: a file that includes only IPv4
 * ranges means no IPv6 address is looked up. Text that is not an address is never allowed.
 *
 * Bad lines are startup errors naming the file and the line (InclExclError). Lookups are binary searches
 * over merged ranges (IPv6 as four uint32 words), allocation-free for the uint32/bytes forms.
 */
import { readFileSync } from 'node:fs';
import { parseIPv4, parseIPv6 } from '../ip-class';
import { parseIndicatorText, parsedAddr } from './parse';

export interface InclExcl {
  /** The file it was loaded from. */
  readonly path: string;
  /** Number of include and exclude lines. */
  readonly includes: number;
  readonly excludes: number;
  /** True when the address (text) may be looked up; the caller has already checked that it is public. */
  allows(ip: string): boolean;
  /** Same for an IPv4 address as a uint32. */
  allowsV4(n: number): boolean;
  /** Same for 16 network-order bytes at `off` (IPv4-mapped → IPv4). */
  allowsV6(bytes: Uint8Array, off?: number): boolean;
}

/** A bad line (line >= 1) or an unreadable file (line 0). */
export class InclExclError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    reason: string,
  ) {
    super(line > 0 ? `${file}:${line}: ${reason}` : `${file}: ${reason}`);
    this.name = 'InclExclError';
  }
}

/** Sorted, merged, inclusive ranges: IPv4 as numbers, IPv6 as 4-word keys. */
class RangeSet {
  readonly s4: Float64Array;
  readonly e4: Float64Array;
  readonly s6: Uint32Array;
  readonly e6: Uint32Array;
  readonly count: number;

  constructor(v4: Array<[number, number]>, v6: Array<[bigint, bigint]>) {
    v4.sort((a, b) => a[0] - b[0]);
    const m4: Array<[number, number]> = [];
    for (const [s, e] of v4) {
      const last = m4[m4.length - 1];
      if (last !== undefined && s <= last[1] + 1) last[1] = Math.max(last[1], e);
      else m4.push([s, e]);
    }
    this.s4 = Float64Array.from(m4, (r) => r[0]);
    this.e4 = Float64Array.from(m4, (r) => r[1]);
    v6.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const m6: Array<[bigint, bigint]> = [];
    for (const [s, e] of v6) {
      const last = m6[m6.length - 1];
      if (last !== undefined && s <= last[1] + 1n) last[1] = e > last[1] ? e : last[1];
      else m6.push([s, e]);
    }
    this.s6 = new Uint32Array(m6.length * 4);
    this.e6 = new Uint32Array(m6.length * 4);
    m6.forEach(([s, e], i) => {
      for (let w = 0; w < 4; w++) {
        const shift = BigInt(96 - 32 * w);
        this.s6[i * 4 + w] = Number((s >> shift) & 0xffffffffn);
        this.e6[i * 4 + w] = Number((e >> shift) & 0xffffffffn);
      }
    });
    this.count = v4.length + v6.length;
  }

  has4(n: number): boolean {
    const s = this.s4;
    let lo = 0;
    let hi = s.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (s[mid] <= n) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 && n <= this.e4[lo - 1];
  }

  has6(q0: number, q1: number, q2: number, q3: number): boolean {
    const s = this.s6;
    let lo = 0;
    let hi = s.length >>> 2;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cmp4(s, mid * 4, q0, q1, q2, q3) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 && cmp4(this.e6, (lo - 1) * 4, q0, q1, q2, q3) >= 0;
  }
}

/** Compares the key at a[i..i+4) with q: negative, 0, positive. */
function cmp4(a: Uint32Array, i: number, q0: number, q1: number, q2: number, q3: number): number {
  if (a[i] !== q0) return a[i] - q0;
  if (a[i + 1] !== q1) return a[i + 1] - q1;
  if (a[i + 2] !== q2) return a[i + 2] - q2;
  return a[i + 3] - q3;
}

type Parsed = { family: 4; start: number; end: number } | { family: 6; start: bigint; end: bigint };

/** The range of `parsedAddr` after parseIndicatorText. */
function rangeOfParsed(): Parsed {
  if (parsedAddr.family === 4) return { family: 4, start: parsedAddr.v4, end: parsedAddr.v4 + 2 ** (32 - parsedAddr.len) - 1 };
  const start =
    (BigInt(parsedAddr.w0) << 96n) | (BigInt(parsedAddr.w1) << 64n) | (BigInt(parsedAddr.w2) << 32n) | BigInt(parsedAddr.w3);
  return { family: 6, start, end: start | ((1n << BigInt(128 - parsedAddr.len)) - 1n) };
}

function parseEntry(text: string): Parsed | string {
  const dash = text.indexOf('-');
  if (dash < 0) {
    if (!parseIndicatorText(text)) return 'not an IP address, CIDR or range';
    return rangeOfParsed();
  }
  const a = text.slice(0, dash).trim();
  const b = text.slice(dash + 1).trim();
  if (a.includes('/') || b.includes('/')) return 'a range is two addresses, not CIDRs';
  if (!parseIndicatorText(a)) return 'not an IP address, CIDR or range';
  const ra = rangeOfParsed();
  if (!parseIndicatorText(b)) return `range end "${b}" is not an IP address`;
  const rb = rangeOfParsed();
  if (ra.family !== rb.family) return 'range ends of different address families';
  if (ra.start > rb.start) return 'range start is after its end';
  return ra.family === 4 ? { family: 4, start: ra.start, end: rb.start as number } : { family: 6, start: ra.start, end: rb.start as bigint };
}

/** Parses include/exclude text (the file's contents); `path` names it in errors. */
export function parseInclExcl(text: string, path = '<inline>'): InclExcl {
  const inc4: Array<[number, number]> = [];
  const inc6: Array<[bigint, bigint]> = [];
  const exc4: Array<[number, number]> = [];
  const exc6: Array<[bigint, bigint]> = [];
  let includes = 0;
  let excludes = 0;
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const hash = raw.indexOf('#');
    let line = (hash >= 0 ? raw.slice(0, hash) : raw).trim();
    if (line.length === 0) return;
    const exclude = line.startsWith('!');
    if (exclude) line = line.slice(1).trim();
    if (line.length === 0) throw new InclExclError(path, i + 1, '"!" without an address');
    const r = parseEntry(line);
    if (typeof r === 'string') throw new InclExclError(path, i + 1, `invalid entry "${line}": ${r}`);
    if (exclude) {
      excludes++;
      if (r.family === 4) exc4.push([r.start, r.end]);
      else exc6.push([r.start, r.end]);
    } else {
      includes++;
      if (r.family === 4) inc4.push([r.start, r.end]);
      else inc6.push([r.start, r.end]);
    }
  });
  const inc = new RangeSet(inc4, inc6);
  const exc = new RangeSet(exc4, exc6);
  const anyInclude = includes > 0;
  const scratch = new Uint8Array(16);

  const allowsV4 = (n: number): boolean => {
    if (n >>> 0 !== n) return false;
    if (anyInclude && !inc.has4(n)) return false;
    return !exc.has4(n);
  };
  const allowsV6 = (b: Uint8Array, off = 0): boolean => {
    if (off < 0 || !(off + 16 <= b.length)) return false;
    const q0 = ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
    const q1 = ((b[off + 4] << 24) | (b[off + 5] << 16) | (b[off + 6] << 8) | b[off + 7]) >>> 0;
    const q2 = ((b[off + 8] << 24) | (b[off + 9] << 16) | (b[off + 10] << 8) | b[off + 11]) >>> 0;
    const q3 = ((b[off + 12] << 24) | (b[off + 13] << 16) | (b[off + 14] << 8) | b[off + 15]) >>> 0;
    if (q0 === 0 && q1 === 0 && q2 === 0xffff) return allowsV4(q3);
    if (anyInclude && !inc.has6(q0, q1, q2, q3)) return false;
    return !exc.has6(q0, q1, q2, q3);
  };
  const allows = (ip: string): boolean => {
    if (typeof ip !== 'string') return false;
    const n = parseIPv4(ip);
    if (n >= 0) return allowsV4(n);
    if (ip.length > 45 || !parseIPv6(ip, scratch, 0)) return false;
    return allowsV6(scratch, 0);
  };
  return { path, includes, excludes, allows, allowsV4, allowsV6 };
}

/** Loads the file at `path`. Throws InclExclError naming the file (and the line, for a bad entry). */
export function loadInclExcl(path: string): InclExcl {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InclExclError(path, 0, `cannot read the include/exclude file: ${(err as Error).message}`);
  }
  return parseInclExcl(text, path);
}
