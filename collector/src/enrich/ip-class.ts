// SPDX-License-Identifier: Apache-2.0
/**
 * Public/private classification of IP addresses (DESIGN.md §7).
 *
 * "Private" means not globally reachable according to the IANA IPv4 and IPv6 Special-Purpose Address
 * Registries, plus multicast, plus the user's own ranges (`EF_PROCESSOR_ENRICH_IPADDR_PRIVATE_CIDRS`). The
 * same classifier feeds `*.locality`, `network.direction` and the RiskIQ privacy filter, so when in doubt it
 * errs towards "private": text that does not parse as an address is private (never exported).
 *
 * Decisions, where the registries leave room:
 * - 192.0.0.0/24 is private except 192.0.0.9 (PCP anycast) and 192.0.0.10 (TURN anycast), which the
 *   registry marks globally reachable.
 * - 192.88.99.0/24 (6to4 relay anycast, deprecated by RFC 7526) is public: the registry gives no
 *   "not globally reachable" verdict for it, the prefix was designed to be routed on the Internet, and
 *   traffic to it is traffic to whoever still announces it. CPython's `is_global` agrees.
 * - 2001::/23 is private except the registry's globally reachable blocks inside it: 2001:1::1, 2001:1::2,
 *   2001:1::3 (anycast services), 2001:3::/32 (AMT), 2001:4:112::/48 (AS112-v6), 2001:20::/28 (ORCHIDv2),
 *   2001:30::/28 (DRIP). Teredo (2001::/32, "N/A" in the registry) follows the enclosing /23: private.
 * - 2002::/16 (6to4, "N/A") and 64:ff9b::/96 (well-known NAT64 prefix, globally reachable) are public.
 * - 3fff::/20 (documentation, RFC 9637) and 5f00::/16 (SRv6 SIDs, RFC 9602) are private, as the current
 *   registry says.
 * - ::ffff:0:0/96 (IPv4-mapped) takes the class of the embedded IPv4 address, user ranges included.
 * - Multicast (224.0.0.0/4, ff00::/8) and the limited broadcast address are private: they never name one
 *   host on the Internet.
 *
 * Hot path (DESIGN.md §1, STYLE.md §8): IPv4 text is parsed straight from the character codes into a
 * uint32 without allocating, then a 256-entry table on the first octet answers most addresses; the rest
 * take a binary search over a few sorted, disjoint ranges. IPv6 text is parsed into one reused 16-byte
 * buffer and answered by a table on the first byte plus a short longest-prefix scan.
 */

export type Locality = 'public' | 'private';

/** IPv4 blocks that are not globally reachable (IANA IPv4 Special-Purpose Address Registry + multicast). */
export const SPECIAL_IPV4_PRIVATE: readonly string[] = [
  '0.0.0.0/8', // "this network"
  '10.0.0.0/8', // RFC 1918
  '100.64.0.0/10', // shared address space (CGNAT)
  '127.0.0.0/8', // loopback
  '169.254.0.0/16', // link local
  '172.16.0.0/12', // RFC 1918
  '192.0.0.0/24', // IETF protocol assignments
  '192.0.2.0/24', // TEST-NET-1
  '192.168.0.0/16', // RFC 1918
  '198.18.0.0/15', // benchmarking
  '198.51.100.0/24', // TEST-NET-2
  '203.0.113.0/24', // TEST-NET-3
  '224.0.0.0/4', // multicast
  '240.0.0.0/4', // reserved, includes 255.255.255.255 (limited broadcast)
];

/** Globally reachable blocks inside the private ones above. */
export const SPECIAL_IPV4_GLOBAL_EXCEPTIONS: readonly string[] = [
  '192.0.0.9/32', // Port Control Protocol anycast
  '192.0.0.10/32', // Traversal Using Relays around NAT anycast
];

/** IPv6 blocks that are not globally reachable (IANA IPv6 Special-Purpose Address Registry + multicast). */
export const SPECIAL_IPV6_PRIVATE: readonly string[] = [
  '::/128', // unspecified
  '::1/128', // loopback
  // ::ffff:0:0/96 (IPv4-mapped) is classified by the embedded IPv4 address, see isPrivateIPv6.
  '64:ff9b:1::/48', // local-use IPv4/IPv6 translation
  '100::/64', // discard-only
  '2001::/23', // IETF protocol assignments (includes Teredo, benchmarking 2001:2::/48, ORCHID 2001:10::/28)
  '2001:db8::/32', // documentation
  '3fff::/20', // documentation (RFC 9637)
  '5f00::/16', // segment routing (SRv6) SIDs (RFC 9602)
  'fc00::/7', // unique local
  'fe80::/10', // link-local unicast
  'ff00::/8', // multicast
];

/** Globally reachable blocks inside 2001::/23. */
export const SPECIAL_IPV6_GLOBAL_EXCEPTIONS: readonly string[] = [
  '2001:1::1/128', // Port Control Protocol anycast
  '2001:1::2/128', // Traversal Using Relays around NAT anycast
  '2001:1::3/128', // DNS-SD service registration protocol anycast (RFC 9665)
  '2001:3::/32', // AMT
  '2001:4:112::/48', // AS112-v6
  '2001:20::/28', // ORCHIDv2
  '2001:30::/28', // Drone Remote ID Protocol entity tags
];

/** A parsed CIDR: IPv4 as an inclusive uint32 range, IPv6 as 16 network-order bytes and a prefix length. */
export type Cidr =
  | { version: 4; start: number; end: number }
  | { version: 6; bytes: Uint8Array; prefixLen: number };

/** Thrown for a CIDR that cannot be parsed (a configuration error, so only at startup). */
export class CidrError extends Error {
  constructor(readonly text: string, reason: string) {
    super(`invalid CIDR "${text}": ${reason}`);
    this.name = 'CidrError';
  }
}

/**
 * Parses dotted-quad IPv4 text into a uint32 (as a non-negative number), or -1 when it is not exactly four
 * decimal octets 0..255. Allocates nothing.
 */
export function parseIPv4(s: string): number {
  const n = s.length;
  if (n < 7 || n > 15) return -1;
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return -1;
    } else if (c === 46) {
      if (digits === 0 || ++dots > 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + octet;
}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * Parses IPv6 text (RFC 4291 §2.2 forms: hex groups, one `::`, a trailing dotted IPv4; a `%zone` suffix is
 * ignored) into `out[off..off+16)` in network byte order. Returns false, leaving `out` unspecified, when the
 * text is not an IPv6 address. Allocates nothing.
 */
export function parseIPv6(s: string, out: Uint8Array, off = 0): boolean {
  let n = s.length;
  // A %zone suffix ends the address (charCodeAt scan instead of indexOf: no rope flattening surprises).
  for (let k = n - 1; k > 0; k--) {
    const c = s.charCodeAt(k);
    if (c === 37) {
      if (k === n - 1) return false; // an empty zone id
      n = k;
      break;
    }
    if (c === 58) break; // reached the address part (zone ids may contain dots: eth0.100)
  }
  if (n < 2 || n > 45) return false;
  let group = 0; // groups written before the "::" (or in total when there is none)
  let gapAt = -1; // group index where "::" sits
  let i = 0;
  if (s.charCodeAt(0) === 58) {
    if (s.charCodeAt(1) !== 58) return false;
    gapAt = 0;
    i = 2;
    if (i === n) {
      for (let k = 0; k < 16; k++) out[off + k] = 0;
      return true;
    }
  }
  while (i < n) {
    if (group >= 8) return false;
    // Read one group: up to 4 hex digits, or a dotted IPv4 in the last 32 bits.
    let v = 0;
    let digits = 0;
    const start = i;
    while (i < n) {
      const h = hexVal(s.charCodeAt(i));
      if (h < 0) break;
      v = (v << 4) | h;
      i++;
      if (++digits > 4) return false;
    }
    if (i < n && s.charCodeAt(i) === 46) {
      // Embedded IPv4: must be the last thing and leave room for 2 groups.
      if (group > 6) return false;
      const v4 = parseIPv4(s.slice(start, n));
      if (v4 < 0) return false;
      out[off + group * 2] = v4 >>> 24;
      out[off + group * 2 + 1] = (v4 >>> 16) & 255;
      out[off + group * 2 + 2] = (v4 >>> 8) & 255;
      out[off + group * 2 + 3] = v4 & 255;
      group += 2;
      i = n;
      break;
    }
    if (digits === 0) return false;
    out[off + group * 2] = v >>> 8;
    out[off + group * 2 + 1] = v & 255;
    group++;
    if (i === n) break;
    if (s.charCodeAt(i) !== 58) return false;
    i++;
    if (i < n && s.charCodeAt(i) === 58) {
      if (gapAt >= 0) return false;
      gapAt = group;
      i++;
      if (i === n) break;
    } else if (i === n) {
      return false; // trailing single colon
    }
  }
  if (gapAt < 0) return group === 8;
  if (group > 7) return false;
  // Move the groups after the gap to the end and zero the gap.
  const tail = group - gapAt;
  for (let k = tail - 1; k >= 0; k--) {
    out[off + (8 - tail + k) * 2] = out[off + (gapAt + k) * 2];
    out[off + (8 - tail + k) * 2 + 1] = out[off + (gapAt + k) * 2 + 1];
  }
  for (let k = off + gapAt * 2, end = off + (8 - tail) * 2; k < end; k++) out[k] = 0;
  return true;
}

/** Parses `a.b.c.d/len`, `ipv6/len`, or a bare address (a host route). Throws CidrError. */
export function parseCidr(text: string): Cidr {
  const t = text.trim();
  const slash = t.indexOf('/');
  const addr = slash >= 0 ? t.slice(0, slash) : t;
  const lenText = slash >= 0 ? t.slice(slash + 1) : null;
  const v4 = parseIPv4(addr);
  const v6 = new Uint8Array(16);
  const isV6 = v4 < 0 && parseIPv6(addr, v6);
  if (v4 < 0 && !isV6) throw new CidrError(text, 'not an IPv4 or IPv6 address');
  const max = isV6 ? 128 : 32;
  let len = max;
  if (lenText !== null) {
    if (!/^\d{1,3}$/.test(lenText)) throw new CidrError(text, 'prefix length is not a number');
    len = Number(lenText);
    if (len > max) throw new CidrError(text, `prefix length above ${max}`);
  }
  if (!isV6) {
    const size = 2 ** (32 - len);
    const start = v4 - (v4 % size); // host bits cleared, as routers do
    return { version: 4, start, end: start + size - 1 };
  }
  for (let bit = len; bit < 128; bit++) v6[bit >> 3] &= ~(0x80 >> (bit & 7));
  return { version: 6, bytes: v6, prefixLen: len };
}

/** True when the 16 bytes at `off` are ::ffff:a.b.c.d. */
function isMappedV4(b: Uint8Array, off: number): boolean {
  for (let i = 0; i < 10; i++) if (b[off + i] !== 0) return false;
  return b[off + 10] === 0xff && b[off + 11] === 0xff;
}

function prefixMatches(b: Uint8Array, off: number, prefix: Uint8Array, len: number): boolean {
  const full = len >> 3;
  for (let i = 0; i < full; i++) if (b[off + i] !== prefix[i]) return false;
  const rest = len & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (b[off + full] & mask) === prefix[full];
}

/** Sorted, disjoint IPv4 ranges with a first-octet table: 0 all public, 1 all private, 2 search. */
class V4Set {
  private readonly table = new Uint8Array(256);
  private readonly starts: Uint32Array;
  private readonly ends: Uint32Array;

  constructor(ranges: Array<[number, number]>) {
    ranges.sort((a, b) => a[0] - b[0]);
    const merged: Array<[number, number]> = [];
    for (const [s, e] of ranges) {
      const last = merged[merged.length - 1];
      if (last && s <= last[1] + 1) last[1] = Math.max(last[1], e);
      else merged.push([s, e]);
    }
    this.starts = Uint32Array.from(merged, (r) => r[0]);
    this.ends = Uint32Array.from(merged, (r) => r[1]);
    for (let o = 0; o < 256; o++) {
      const lo = o * 0x1000000;
      const hi = lo + 0xffffff;
      let state = 0;
      for (const [s, e] of merged) {
        if (e < lo || s > hi) continue;
        state = s <= lo && e >= hi ? 1 : 2;
        break; // merged ranges are disjoint and non-adjacent, so one covering range means all of it
      }
      this.table[o] = state;
    }
  }

  has(n: number): boolean {
    const state = this.table[n >>> 24];
    if (state !== 2) return state === 1;
    const starts = this.starts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (starts[mid] <= n) lo = mid + 1;
      else hi = mid - 1;
    }
    return hi >= 0 && n <= this.ends[hi];
  }
}

interface V6Rule {
  prefix: Uint8Array;
  len: number;
  private: boolean;
}

/**
 * Longest-prefix match over IPv6 rules. A first-byte table answers bytes that only rules of length <= 8
 * cover (or none); other first bytes keep their candidate rules, longest first.
 */
class V6Rules {
  private readonly table = new Uint8Array(256);
  private readonly lists: Array<V6Rule[] | null> = new Array(256).fill(null);

  constructor(rules: V6Rule[]) {
    const sorted = [...rules].sort((a, b) => b.len - a.len);
    const byte = new Uint8Array(16);
    for (let b = 0; b < 256; b++) {
      byte[0] = b;
      const candidates = sorted.filter((r) => (r.len >= 8 ? r.prefix[0] === b : prefixMatches(byte, 0, r.prefix, r.len)));
      if (candidates.length === 0) this.table[b] = 0;
      else if (candidates[0].len <= 8) this.table[b] = candidates[0].private ? 1 : 0;
      else {
        this.table[b] = 2;
        this.lists[b] = candidates;
      }
    }
  }

  isPrivate(a: Uint8Array, off: number): boolean {
    const state = this.table[a[off]];
    if (state !== 2) return state === 1;
    const list = this.lists[a[off]] as V6Rule[];
    for (let i = 0; i < list.length; i++) {
      const r = list[i];
      if (prefixMatches(a, off, r.prefix, r.len)) return r.private;
    }
    return false;
  }
}

export interface IpClassifier {
  /** True when the address text is not globally reachable, is in a user range, or does not parse. */
  isPrivate(addr: string): boolean;
  /** Same for an IPv4 address as a uint32. */
  isPrivateIPv4(n: number): boolean;
  /** Same for 16 network-order bytes at `off` (IPv4-mapped addresses by their IPv4 class). */
  isPrivateIPv6(bytes: Uint8Array, off?: number): boolean;
  /** `private` or `public`, as `source.locality` etc. want it. */
  locality(addr: string): Locality;
}

/**
 * Builds a classifier for the built-in special-purpose ranges plus `privateCidrs` (each a CIDR or a bare
 * address, IPv4 or IPv6). Throws CidrError for a bad entry; call it once at startup.
 */
export function createIpClassifier(privateCidrs: readonly string[] = []): IpClassifier {
  // IPv4: built-in private minus the exceptions, then the user's ranges on top.
  let builtin: Array<[number, number]> = SPECIAL_IPV4_PRIVATE.map((c) => v4Range(parseCidr(c)));
  for (const ex of SPECIAL_IPV4_GLOBAL_EXCEPTIONS) builtin = subtract(builtin, v4Range(parseCidr(ex)));
  const userV6: V6Rule[] = [];
  const v4: Array<[number, number]> = builtin;
  for (const text of privateCidrs) {
    if (text.trim() === '') continue;
    const c = parseCidr(text);
    if (c.version === 4) {
      v4.push([c.start, c.end]);
    } else {
      userV6.push({ prefix: c.bytes, len: c.prefixLen, private: true });
      // A user range inside ::ffff:0:0/96 also names IPv4 addresses.
      if (c.prefixLen >= 96 && isMappedV4(c.bytes, 0)) {
        const start = ((c.bytes[12] << 24) | (c.bytes[13] << 16) | (c.bytes[14] << 8) | c.bytes[15]) >>> 0;
        v4.push([start, start + 2 ** (128 - c.prefixLen) - 1]);
      }
    }
  }
  const v4Set = new V4Set(v4);
  const builtinV6 = new V6Rules([
    ...SPECIAL_IPV6_PRIVATE.map((t) => v6Rule(t, true)),
    ...SPECIAL_IPV6_GLOBAL_EXCEPTIONS.map((t) => v6Rule(t, false)),
  ]);
  const userV6Rules = userV6.length > 0 ? new V6Rules(userV6) : null;
  const scratch = new Uint8Array(16); // reused by every isPrivate() on IPv6 text

  function isPrivateIPv4(n: number): boolean {
    return v4Set.has(n);
  }

  function isPrivateIPv6(b: Uint8Array, off = 0): boolean {
    if (userV6Rules !== null && userV6Rules.isPrivate(b, off)) return true;
    if (isMappedV4(b, off)) {
      return v4Set.has(((b[off + 12] << 24) | (b[off + 13] << 16) | (b[off + 14] << 8) | b[off + 15]) >>> 0);
    }
    return builtinV6.isPrivate(b, off);
  }

  function isPrivate(addr: string): boolean {
    const n = parseIPv4(addr);
    if (n >= 0) return v4Set.has(n);
    if (!parseIPv6(addr, scratch, 0)) return true; // fail closed
    return isPrivateIPv6(scratch, 0);
  }

  return {
    isPrivate,
    isPrivateIPv4,
    isPrivateIPv6,
    locality: (addr) => (isPrivate(addr) ? 'private' : 'public'),
  };
}

function v4Range(c: Cidr): [number, number] {
  if (c.version !== 4) throw new Error('internal: IPv4 range expected');
  return [c.start, c.end];
}

function v6Rule(text: string, isPrivate: boolean): V6Rule {
  const c = parseCidr(text);
  if (c.version !== 6) throw new Error('internal: IPv6 range expected');
  return { prefix: c.bytes, len: c.prefixLen, private: isPrivate };
}

/** Removes [s, e] from a list of inclusive ranges. */
function subtract(ranges: Array<[number, number]>, [s, e]: [number, number]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const [a, b] of ranges) {
    if (b < s || a > e) {
      out.push([a, b]);
      continue;
    }
    if (a < s) out.push([a, s - 1]);
    if (b > e) out.push([e + 1, b]);
  }
  return out;
}
