// SPDX-License-Identifier: Apache-2.0
/**
 * Address syntax for configuration values: IP literals, CIDRs, host names and `host:port`. Strict on
 * purpose (no leading zeros in IPv4 octets, no zone ids, no host bits in a CIDR): a typo in a private
 * range must stop startup, not silently classify addresses wrongly.
 */
import { formatIPv6 } from '../decode/ip';

/** The 4 bytes of a dotted-quad IPv4 address, or null. */
export function parseIPv4(s: string): Uint8Array | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

/** The 16 bytes of an IPv6 address (RFC 4291 text forms, including a trailing dotted quad), or null. */
export function parseIPv6(s: string): Uint8Array | null {
  if (!/^[0-9A-Fa-f:.]+$/.test(s)) return null;
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const groups = (h: string): number[] | null => {
    if (h === '') return [];
    const out: number[] = [];
    const parts = h.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIPv4(p);
        if (!v4) return null;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else {
        if (!/^[0-9A-Fa-f]{1,4}$/.test(p)) return null;
        out.push(parseInt(p, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return null;
  // A dotted quad may only end the address.
  if (halves.length === 2 && halves[0].includes('.')) return null;
  let all: number[];
  if (halves.length === 2) {
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return null;
    all = [...head, ...new Array<number>(missing).fill(0), ...tail];
  } else {
    if (head.length !== 8) return null;
    all = head;
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = all[i] >> 8;
    out[2 * i + 1] = all[i] & 255;
  }
  return out;
}

/** Whether s is an IPv4 or IPv6 address literal (no brackets, no zone). */
export function isIpLiteral(s: string): boolean {
  return parseIPv4(s) !== null || parseIPv6(s) !== null;
}

/** Whether s is a host name made of RFC 1123 labels (letters, digits, inner hyphens; 253 characters at most). */
export function isHostname(s: string): boolean {
  if (s.length === 0 || s.length > 253) return false;
  const labels = s.endsWith('.') ? s.slice(0, -1).split('.') : s.split('.');
  if (!labels.every((l) => /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(l))) return false;
  // All-numeric dotted names are malformed IPv4 addresses, not host names.
  return !/^[0-9.]+$/.test(s);
}

export type CidrResult = { ok: true } | { ok: false; reason: string };

/** Checks `address/prefix` for IPv4 or IPv6; a network with host bits set is refused with the right one. */
export function checkCidr(s: string): CidrResult {
  const slash = s.indexOf('/');
  if (slash < 0) return { ok: false, reason: `${s} has no /prefix` };
  const addr = s.slice(0, slash);
  const len = s.slice(slash + 1);
  const bytes = parseIPv4(addr) ?? parseIPv6(addr);
  if (!bytes) return { ok: false, reason: `${addr} is not an IPv4 or IPv6 address` };
  const bits = bytes.length * 8;
  if (!/^(0|[1-9][0-9]{0,2})$/.test(len) || Number(len) > bits) {
    return { ok: false, reason: `/${len} is not a prefix length 0-${bits}` };
  }
  const prefix = Number(len);
  const net = new Uint8Array(bytes);
  for (let i = 0; i < net.length; i++) {
    const keep = Math.max(0, Math.min(8, prefix - 8 * i));
    net[i] &= keep === 0 ? 0 : (0xff << (8 - keep)) & 0xff;
  }
  if (!net.every((b, i) => b === bytes[i])) {
    const canonical = net.length === 4 ? Array.from(net).join('.') : formatIPv6(net, 0);
    return { ok: false, reason: `${s} has host bits set, did you mean ${canonical}/${prefix}?` };
  }
  return { ok: true };
}

export type HostPortResult = { ok: true } | { ok: false; reason: string };

/** Checks `host:port`, `a.b.c.d:port` or `[ipv6]:port`. */
export function checkHostPort(s: string): HostPortResult {
  let host: string;
  let port: string;
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0 || s[end + 1] !== ':') return { ok: false, reason: `${s} is not [address]:port` };
    host = s.slice(1, end);
    port = s.slice(end + 2);
    if (!parseIPv6(host)) return { ok: false, reason: `${host} is not an IPv6 address` };
  } else {
    const colon = s.lastIndexOf(':');
    if (colon < 0) return { ok: false, reason: `${s} has no :port` };
    host = s.slice(0, colon);
    port = s.slice(colon + 1);
    if (host.includes(':')) return { ok: false, reason: `write an IPv6 address in brackets, as [${host}]:${port}` };
    if (!parseIPv4(host) && !isHostname(host)) return { ok: false, reason: `${host} is not a host name or IPv4 address` };
  }
  if (!isPort(port)) return { ok: false, reason: `${port === '' ? 'the port is empty' : `${port} is not a port 1-65535`}` };
  return { ok: true };
}

/** Whether s is a decimal port 1..65535 without sign or leading zeros. */
export function isPort(s: string): boolean {
  return /^[1-9][0-9]{0,4}$/.test(s) && Number(s) <= 65535;
}
