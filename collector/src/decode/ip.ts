// SPDX-License-Identifier: Apache-2.0
/** Formatting of IP and MAC addresses read from wire buffers, without intermediate objects. */

/** Dotted-quad strings for 0..255, so an IPv4 address costs three concatenations and no number formatting. */
const OCTET: string[] = Array.from({ length: 256 }, (_, i) => String(i));

export function formatIPv4(buf: Buffer | Uint8Array, off: number): string {
  return `${OCTET[buf[off]]}.${OCTET[buf[off + 1]]}.${OCTET[buf[off + 2]]}.${OCTET[buf[off + 3]]}`;
}

export function formatIPv4Number(n: number): string {
  return `${OCTET[(n >>> 24) & 255]}.${OCTET[(n >>> 16) & 255]}.${OCTET[(n >>> 8) & 255]}.${OCTET[n & 255]}`;
}

/**
 * RFC 5952 text form of an IPv6 address: lower-case hex, leading zeros dropped, the longest run (>= 2) of
 * zero groups as `::` (first such run on ties). IPv4-mapped addresses (::ffff:a.b.c.d) keep their IPv6 form
 * here; callers that want the IPv4 address unmap them first.
 */
export function formatIPv6(buf: Buffer | Uint8Array, off: number): string {
  const g = new Array<number>(8);
  for (let i = 0; i < 8; i++) g[i] = (buf[off + 2 * i] << 8) | buf[off + 2 * i + 1];
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  // IPv4-mapped: ::ffff:a.b.c.d (RFC 5952 §5).
  if (bestStart === 0 && bestLen === 5 && g[5] === 0xffff) {
    return `::ffff:${formatIPv4(buf, off + 12)}`;
  }
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      s += i === 0 ? '::' : ':';
      i += bestLen - 1;
      continue;
    }
    s += g[i].toString(16);
    if (i < 7) s += ':';
  }
  return s;
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function formatMac(buf: Buffer | Uint8Array, off: number): string {
  return `${HEX[buf[off]]}:${HEX[buf[off + 1]]}:${HEX[buf[off + 2]]}:${HEX[buf[off + 3]]}:${HEX[buf[off + 4]]}:${HEX[buf[off + 5]]}`;
}

export function toHex(buf: Buffer | Uint8Array, off: number, len: number): string {
  let s = '';
  for (let i = 0; i < len; i++) s += HEX[buf[off + i]];
  return s;
}
