// SPDX-License-Identifier: Apache-2.0
/**
 * Community ID v1 flow hashing (https://github.com/corelight/community-id-spec).
 *
 * The hash input, in network byte order, is: seed (2 bytes), the smaller endpoint's address (4 or 16),
 * the other address, the IP protocol (1), one zero byte of padding, then for TCP, UDP, SCTP, ICMP and
 * ICMPv6 the two ports (2 + 2) in the same endpoint order. The result is `1:` followed by the base64 (or
 * hex) of the SHA-1 digest. Endpoints are ordered so that both directions of a flow give the same ID:
 * the numerically smaller address first, the smaller port first when the addresses are equal.
 *
 * ICMP and ICMPv6 map type and code to ports the way Zeek and pycommunityid do: for request/response
 * types the source "port" is the type and the destination "port" the counterpart type, so a request and
 * its reply meet in one ID; every other type is one-way (type, code) and is never reordered.
 *
 * Other IP protocols (GRE, ESP, RSVP, ...) hash the addresses and the protocol only.
 *
 * Hot path (PERFORMANCE.md §4 lesson 4): the input is assembled in one Buffer allocated per hasher, with
 * one fixed view per possible input length, and hashed with the one-shot `crypto.hash` (Node >= 20.12,
 * 2.2x faster than createHash/update/digest). The only allocation per call is the result string.
 */
import { hash } from 'node:crypto';

import { parseIPv4, parseIPv6 } from './ip-class';

export const PROTO_ICMP = 1;
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;
export const PROTO_ICMPV6 = 58;
export const PROTO_SCTP = 132;

/** Request/response ICMP types: type -> counterpart type (Zeek's ICMP analyzer). Others are one-way. */
const ICMP4_COUNTERPART: ReadonlyMap<number, number> = new Map([
  [8, 0], // echo request -> echo reply
  [0, 8],
  [13, 14], // timestamp
  [14, 13],
  [15, 16], // information
  [16, 15],
  [10, 9], // router solicitation -> advertisement
  [9, 10],
  [17, 18], // address mask
  [18, 17],
]);

const ICMP6_COUNTERPART: ReadonlyMap<number, number> = new Map([
  [128, 129], // echo request -> reply
  [129, 128],
  [130, 131], // multicast listener query -> report
  [131, 130],
  [133, 134], // router solicitation -> advertisement
  [134, 133],
  [135, 136], // neighbor solicitation -> advertisement
  [136, 135],
  [139, 140], // node information query (who-are-you) -> reply
  [140, 139],
  [144, 145], // home agent address discovery request -> reply
  [145, 144],
]);

/** Table form of the maps above for the hot path: counterpart type, or -1 when one-way. */
function table(map: ReadonlyMap<number, number>): Int16Array {
  const t = new Int16Array(256).fill(-1);
  for (const [k, v] of map) t[k] = v;
  return t;
}
const ICMP4_TABLE = table(ICMP4_COUNTERPART);
const ICMP6_TABLE = table(ICMP6_COUNTERPART);

/** True for the protocols whose ports (or ICMP type/code) take part in the hash. */
export function hasPorts(proto: number): boolean {
  return proto === PROTO_TCP || proto === PROTO_UDP || proto === PROTO_SCTP || proto === PROTO_ICMP || proto === PROTO_ICMPV6;
}

export interface CommunityIdOptions {
  /** Hash seed, 0..65535 (default 0). */
  seed?: number;
  /** Base64 (default, the spec's form) or lower-case hex digest. */
  encoding?: 'base64' | 'hex';
}

/**
 * Computes the Community ID of one flow. `srcPort`/`dstPort` are the transport ports, or for ICMP/ICMPv6
 * the message type and code. Returns null when the tuple cannot be hashed: an address that does not parse,
 * an IPv4/IPv6 mix, a protocol outside 0..255, or missing ports for a protocol that needs them.
 */
export type CommunityIdFn = (
  proto: number,
  srcAddr: string,
  dstAddr: string,
  srcPort: number | null,
  dstPort: number | null,
) => string | null;

export function createCommunityId(options: CommunityIdOptions = {}): CommunityIdFn {
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffff) {
    throw new RangeError(`community ID seed must be an integer 0..65535, got ${seed}`);
  }
  const encoding = options.encoding ?? 'base64';
  // 2 seed + 16 + 16 addresses + 1 proto + 1 pad + 2 + 2 ports = 40 bytes at most.
  const buf = Buffer.alloc(40);
  buf.writeUInt16BE(seed, 0);
  // One view per input length so that no subarray is made per call: v4 without/with ports, v6 without/with.
  const view12 = buf.subarray(0, 12);
  const view16 = buf.subarray(0, 16);
  const view36 = buf.subarray(0, 36);
  const view40 = buf.subarray(0, 40);
  const a = new Uint8Array(16);
  const b = new Uint8Array(16);

  return function communityId(proto, srcAddr, dstAddr, srcPort, dstPort) {
    if (!(proto >= 0 && proto <= 255) || !Number.isInteger(proto)) return null;
    let sport = 0;
    let dport = 0;
    let oneWay = false;
    const ports = hasPorts(proto);
    if (ports) {
      if (srcPort === null || dstPort === null) return null;
      sport = srcPort;
      dport = dstPort;
      if (proto === PROTO_ICMP || proto === PROTO_ICMPV6) {
        const counterpart = (proto === PROTO_ICMP ? ICMP4_TABLE : ICMP6_TABLE)[sport & 255];
        if (sport <= 255 && counterpart >= 0) dport = counterpart;
        else oneWay = true;
      }
      if (!(sport >= 0 && sport <= 0xffff && dport >= 0 && dport <= 0xffff)) return null;
    }

    const s4 = parseIPv4(srcAddr);
    let swap: boolean;
    let addrLen: number;
    if (s4 >= 0) {
      const d4 = parseIPv4(dstAddr);
      if (d4 < 0) return null;
      swap = !oneWay && (s4 > d4 || (s4 === d4 && sport > dport));
      const first = swap ? d4 : s4;
      const second = swap ? s4 : d4;
      buf.writeUInt32BE(first, 2);
      buf.writeUInt32BE(second, 6);
      addrLen = 4;
    } else {
      if (!parseIPv6(srcAddr, a, 0) || !parseIPv6(dstAddr, b, 0)) return null;
      if (parseIPv4(dstAddr) >= 0) return null;
      let cmp = 0;
      for (let i = 0; i < 16 && cmp === 0; i++) cmp = a[i] - b[i];
      swap = !oneWay && (cmp > 0 || (cmp === 0 && sport > dport));
      buf.set(swap ? b : a, 2);
      buf.set(swap ? a : b, 18);
      addrLen = 16;
    }
    let off = 2 + 2 * addrLen;
    buf[off++] = proto;
    buf[off++] = 0;
    let view: Buffer;
    if (ports) {
      buf.writeUInt16BE(swap ? dport : sport, off);
      buf.writeUInt16BE(swap ? sport : dport, off + 2);
      view = addrLen === 4 ? view16 : view40;
    } else {
      view = addrLen === 4 ? view12 : view36;
    }
    return '1:' + hash('sha1', view, encoding);
  };
}

/**
 * Community ID with the spec's ICMP handling spelled out: for ICMP/ICMPv6 pass the type and code as
 * `srcPort`/`dstPort`. A convenience over createCommunityId for callers that hash rarely (tests, CLI).
 */
export function communityId(
  proto: number,
  srcAddr: string,
  dstAddr: string,
  srcPort: number | null,
  dstPort: number | null,
  options: CommunityIdOptions = {},
): string | null {
  return createCommunityId(options)(proto, srcAddr, dstAddr, srcPort, dstPort);
}
