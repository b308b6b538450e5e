// SPDX-License-Identifier: Apache-2.0
/**
 * The RiskIQ export record (DESIGN.md §6): one NDJSON line per flow with at least one public side, built
 * from the finished ECS document. Keys, in this order:
 *
 *   start, end        flow start and end, epoch ms (`event.start` / `event.end`; a missing one falls back
 *                     to the other, then to `@timestamp`)
 *   bytes, packets    `network.bytes` / `network.packets` (sampling-scaled; a biflow's two directions
 *                     summed), 0 when unknown
 *   src_ip, src_port  the source when it is public; "" and null when it is private (or absent)
 *   dst_ip, dst_port  the same for the destination (ports are null for ICMP, which has none)
 *   tcp_flags         `netflow.tcp_control_bits` / `sflow.tcp_control_bits`, 0 when absent
 *   protocol          IP protocol number (`network.iana_number`), null when unknown
 *   community_id      `network.community_id`, "" when absent
 *
 * Privacy (DESIGN.md §6, §7): an address is written only when the shared classifier (`enrich/ip-class.ts`,
 * built from the same `EF_PROCESSOR_ENRICH_IPADDR_PRIVATE_CIDRS` as the normalizer) says it is public AND
 * the document's own `*.locality` says `public`, so the two can only disagree towards "not sent". Two
 * further fail-closed rules: text with any character outside `[0-9A-Fa-f.:]` (a zone id, garbage) is not
 * sent, and an IPv6 address that spells an IPv4 address by one of the algorithmic mappings (NAT64
 * 64:ff9b::/96, 6to4 2002::/16, SIIT ::ffff:0:0:0/96, the deprecated IPv4-compatible ::/96) is not sent
 * when the embedded IPv4 address is not public: its text *is* the private address in another form. The
 * Community ID is a one-way hash of both addresses and ports; §6 allows it, and it carries no address.
 *
 * Hot path (STYLE.md §8): called once per flow by the output's `write()`. Classification parses the text
 * without allocating (ip-class.ts); the line is built by string concatenation from values whose text is
 * known to need no JSON escaping (checked, not assumed), which is cheaper than an object plus
 * `JSON.stringify` for 11 fixed keys (~0.3 µs against ~1.2 µs per record, bench/riskiq.mjs).
 */
import { createIpClassifier, parseIPv6, type IpClassifier } from '../../enrich/ip-class';
import type { EcsDocument, EcsEndpoint } from '../../pipeline/ecs';

/** The record's keys, in wire order. */
export const RECORD_KEYS = [
  'start',
  'end',
  'bytes',
  'packets',
  'src_ip',
  'src_port',
  'dst_ip',
  'dst_port',
  'tcp_flags',
  'protocol',
  'community_id',
] as const;

/** One exported record, as the receiver parses it. */
export interface RiskiqRecord {
  start: number;
  end: number;
  bytes: number;
  packets: number;
  /** Public source address, or "" when the source is private or absent. */
  src_ip: string;
  /** Port of a public source, else null (also null for ICMP). */
  src_port: number | null;
  dst_ip: string;
  dst_port: number | null;
  tcp_flags: number;
  protocol: number | null;
  community_id: string;
}

export interface RecordBuilder {
  /** The NDJSON line (no newline) for a document, or null when neither side is public. Never throws. */
  line(doc: EcsDocument): string | null;
  /** The classifier the builder uses (the shared one, with the user's private ranges). */
  readonly classifier: IpClassifier;
}

/** True when every character is one an IP address literal uses: digits, hex letters, `.` and `:`. */
function isAddressText(s: string): boolean {
  const n = s.length;
  if (n === 0 || n > 45) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 48 && c <= 58) || c === 46 || (c >= 97 && c <= 102) || (c >= 65 && c <= 70))) return false;
  }
  return true;
}

/** True when the text is a Community ID (`1:` + base64) or similar: letters, digits, `+/=:` only. */
function isTokenText(s: string): boolean {
  const n = s.length;
  if (n > 128) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 48 && c <= 58) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 43 || c === 47 || c === 61)) return false;
  }
  return true;
}

/**
 * True when an IPv6 address embeds an IPv4 address by an algorithmic mapping and that IPv4 address is not
 * public. `scratch` is a reused 16-byte buffer; IPv4 text and unparseable text return false (the
 * classifier already decides those).
 */
export function embedsNonPublicIPv4(ip: string, classifier: IpClassifier, scratch: Uint8Array = new Uint8Array(16)): boolean {
  if (ip.indexOf(':') < 0 || !parseIPv6(ip, scratch, 0)) return false;
  const b = scratch;
  let v4Off = -1;
  if (b[0] === 0x20 && b[1] === 0x02) {
    v4Off = 2; // 6to4 2002:V4ADDR::/48
  } else {
    let zeros8 = true;
    for (let i = 0; i < 8; i++) if (b[i] !== 0) zeros8 = false;
    if (zeros8) {
      if (b[8] === 0 && b[9] === 0 && b[10] === 0 && b[11] === 0) v4Off = 12; // IPv4-compatible ::/96
      else if (b[8] === 0xff && b[9] === 0xff && b[10] === 0 && b[11] === 0) v4Off = 12; // SIIT ::ffff:0:0:0/96
    } else if (b[0] === 0 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b) {
      let zeros = true;
      for (let i = 4; i < 12; i++) if (b[i] !== 0) zeros = false;
      if (zeros) v4Off = 12; // NAT64 well-known prefix 64:ff9b::/96
    }
  }
  if (v4Off < 0) return false;
  const v4 = ((b[v4Off] << 24) | (b[v4Off + 1] << 16) | (b[v4Off + 2] << 8) | b[v4Off + 3]) >>> 0;
  return classifier.isPrivateIPv4(v4);
}

const PAD = ['', '0', '00', '000', '0000', '00000', '000000'];

/**
 * Decimal text of a number, as JSON writes it. Integers of 10 to 15 digits (epoch milliseconds, large
 * counters) are written as two small integers: V8 formats those from a cache in ~20 ns, whereas a
 * 13-digit heap number takes ~200-400 ns, twice per record (measured with bench/riskiq.mjs).
 */
export function numberText(n: number): string {
  if (n < 1e9 || n >= 1e15 || n !== Math.floor(n)) return '' + n;
  const hi = Math.floor(n / 1e6);
  const lo = '' + (n - hi * 1e6);
  return hi + PAD[6 - lo.length] + lo;
}

function finiteOr(v: number | undefined, dflt: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : dflt;
}

function portOrNull(v: number | undefined): number | null {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 65535 ? v : null;
}

/** IANA protocol numbers as the normalizer writes them ("6"), parsed once. */
const PROTOCOL_NUMBER = new Map<string, number>(Array.from({ length: 256 }, (_, i) => [String(i), i]));

/**
 * Builds the record builder over the shared classifier. `privateCidrs` must be the normalizer's
 * (`EF_PROCESSOR_ENRICH_IPADDR_PRIVATE_CIDRS`); throws CidrError for a bad entry (a startup error).
 */
export function createRecordBuilder(privateCidrs: readonly string[] = []): RecordBuilder {
  const classifier = createIpClassifier(privateCidrs);
  const scratch = new Uint8Array(16);

  /** The address to send for one side, or null when it must not leave the collector. */
  function publicAddress(ep: EcsEndpoint | undefined): string | null {
    if (ep === undefined) return null;
    const ip = ep.ip;
    if (typeof ip !== 'string' || ep.locality !== 'public') return null;
    if (!isAddressText(ip) || classifier.isPrivate(ip) || embedsNonPublicIPv4(ip, classifier, scratch)) return null;
    return ip;
  }

  function line(doc: EcsDocument): string | null {
    try {
      const srcIp = publicAddress(doc.source);
      const dstIp = publicAddress(doc.destination);
      if (srcIp === null && dstIp === null) return null;
      const ev = doc.event;
      const ts = finiteOr(doc['@timestamp'], 0);
      const start = finiteOr(ev?.start, finiteOr(ev?.end, ts));
      const end = finiteOr(ev?.end, start);
      const net = doc.network ?? {};
      const fields = doc.netflow ?? doc.sflow;
      const flags = fields === undefined ? 0 : finiteOr(fields.tcp_control_bits, 0);
      const proto = net.iana_number === undefined ? undefined : PROTOCOL_NUMBER.get(net.iana_number);
      const cid = typeof net.community_id === 'string' && isTokenText(net.community_id) ? net.community_id : '';
      const srcPort = srcIp === null ? null : portOrNull(doc.source!.port);
      const dstPort = dstIp === null ? null : portOrNull(doc.destination!.port);
      return (
        '{"start":' +
        numberText(start) +
        ',"end":' +
        numberText(end) +
        ',"bytes":' +
        numberText(finiteOr(net.bytes, 0)) +
        ',"packets":' +
        numberText(finiteOr(net.packets, 0)) +
        ',"src_ip":"' +
        (srcIp ?? '') +
        '","src_port":' +
        (srcPort === null ? 'null' : srcPort) +
        ',"dst_ip":"' +
        (dstIp ?? '') +
        '","dst_port":' +
        (dstPort === null ? 'null' : dstPort) +
        ',"tcp_flags":' +
        flags +
        ',"protocol":' +
        (proto === undefined ? 'null' : proto) +
        ',"community_id":"' +
        cid +
        '"}'
      );
    } catch {
      // A document of an unexpected shape: nothing is sent for it (fail closed).
      return null;
    }
  }

  return { line, classifier };
}
