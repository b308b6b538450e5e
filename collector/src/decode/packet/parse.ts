// SPDX-License-Identifier: Apache-2.0
/**
 * Parser for sampled packet headers: the first bytes of a frame as sFlow's raw packet header record (and
 * IPFIX dataLinkFrameSection) carry them.
 *
 * Handled: Ethernet II and 802.3 LLC/SNAP, any number of 802.1Q / 802.1ad / 0x9100 tags, MPLS label stacks
 * (with or without an RFC 4448 control word before an Ethernet pseudowire), IPv4 (IHL, options, fragments:
 * ports only from the first fragment), IPv6 with hop-by-hop, routing, destination-options, fragment,
 * AH and mobility extension headers, TCP (ports, flags including ECE/CWR and the AE/NS bit), UDP, SCTP,
 * UDP-Lite, DCCP (ports), ICMP and ICMPv6 (type/code). On request (`decap`), the inner packet of IP-in-IP,
 * GRE (version 0; IPv4, IPv6, transparent Ethernet bridging and MPLS payloads), VXLAN (UDP 4789) and SRv6
 * (segment routing header followed by an IP packet) replaces the outer one, whose addresses are kept.
 *
 * Hot path (STYLE.md §8): the parser writes numbers and buffer offsets into a caller-owned `PacketInfo`
 * that is reset and reused for every sample, so parsing allocates nothing; addresses stay in the buffer
 * until the caller formats the ones it needs. Every read is bounds-checked against `end` with plain index
 * arithmetic rather than `readUInt*BE`, which throws past the end of the buffer: a hostile header can make
 * the parser stop early, never throw.
 */

/** sFlow `header_protocol` values the parser understands (sFlow v5 spec, "sampled_header"). */
export const HEADER_ETHERNET = 1;
export const HEADER_IPV4 = 11;
export const HEADER_IPV6 = 12;
export const HEADER_MPLS = 13;

/** Decapsulation switches (bit mask): report the inner packet instead of the outer one. */
export const DECAP_NONE = 0;
export const DECAP_IPIP = 1;
export const DECAP_GRE = 2;
export const DECAP_VXLAN = 4;
export const DECAP_SRV6 = 8;
export const DECAP_ALL = DECAP_IPIP | DECAP_GRE | DECAP_VXLAN | DECAP_SRV6;

/** Result of `parsePacket`. */
export const PARSE_OK = 0; // an IP header was found (addresses and protocol are set)
export const PARSE_NOT_IP = 1; // understood as far as it goes, but carries no IP (ARP, unknown EtherType, ...)
export const PARSE_MALFORMED = 2; // a header that cannot be right or is cut short before its fixed part

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_VLAN = 0x8100;
const ETH_QINQ = 0x88a8;
const ETH_QINQ_OLD = 0x9100;
const ETH_MPLS = 0x8847;
const ETH_MPLS_MC = 0x8848;
const ETH_TEB = 0x6558; // transparent Ethernet bridging (GRE payload type)

const VXLAN_PORT = 4789;

/** Bound on nesting (tunnel in tunnel, Ethernet in MPLS in GRE...) so hostile input cannot recurse deeply. */
const MAX_DEPTH = 4;
export const MAX_VLANS = 8;
export const MAX_MPLS_LABELS = 16;

/**
 * What the parser found. Fields are -1 (or 0 for counts/versions) when absent. Offsets are into the buffer
 * given to `parsePacket`.
 */
export class PacketInfo {
  dstMacOff = -1;
  srcMacOff = -1;
  /** EtherType that carried the reported IP packet (after VLAN tags), or the last one seen. */
  etherType = -1;
  vlanCount = 0;
  /** VLAN ids, outermost first (only the first MAX_VLANS are kept; `vlanCount` counts them all). */
  readonly vlans = new Uint16Array(MAX_VLANS);
  mplsCount = 0;
  readonly mplsLabels = new Uint32Array(MAX_MPLS_LABELS);

  ipVersion: 0 | 4 | 6 = 0;
  l3Off = -1;
  srcAddrOff = -1;
  dstAddrOff = -1;
  /** IPv4 total length or IPv6 payload length + 40: the packet's size at layer 3. */
  l3Length = 0;
  /** IPv4 TOS byte or IPv6 traffic class. */
  tos = -1;
  /** IPv4 TTL or IPv6 hop limit. */
  ttl = -1;
  /** IPv4 identification, or the IPv6 fragment header's identification. */
  ipId = -1;
  /** IPv4 flags (3 bits: reserved, DF, MF); for IPv6 with a fragment header, the M flag (1). */
  ipFlags = -1;
  /** Fragment offset in 8-byte units (0 when not a fragment). */
  fragOffset = 0;
  /** True for a non-first fragment: no transport header, so no ports. */
  fragment = false;
  flowLabel = -1;
  /** Upper-layer protocol after IPv6 extension headers. */
  ipProtocol = -1;
  l4Off = -1;
  srcPort = -1;
  dstPort = -1;
  /** TCP flags: the classic 8 bits plus AE/NS as 0x100. */
  tcpFlags = -1;
  icmpType = -1;
  icmpCode = -1;

  /** Which DECAP_* bit was applied (0: the reported packet is the outermost one). */
  encap = 0;
  outerIpVersion: 0 | 4 | 6 = 0;
  outerSrcAddrOff = -1;
  outerDstAddrOff = -1;
  /** VXLAN network identifier or GRE key of the tunnel that was decapsulated. */
  tunnelId = -1;

  reset(): void {
    this.dstMacOff = -1;
    this.srcMacOff = -1;
    this.etherType = -1;
    this.vlanCount = 0;
    this.mplsCount = 0;
    this.encap = 0;
    this.outerIpVersion = 0;
    this.outerSrcAddrOff = -1;
    this.outerDstAddrOff = -1;
    this.tunnelId = -1;
    this.clearL3();
  }

  /** Forgets everything from layer 3 up (before parsing an inner packet). */
  clearL3(): void {
    this.ipVersion = 0;
    this.l3Off = -1;
    this.srcAddrOff = -1;
    this.dstAddrOff = -1;
    this.l3Length = 0;
    this.tos = -1;
    this.ttl = -1;
    this.ipId = -1;
    this.ipFlags = -1;
    this.fragOffset = 0;
    this.fragment = false;
    this.flowLabel = -1;
    this.ipProtocol = -1;
    this.l4Off = -1;
    this.srcPort = -1;
    this.dstPort = -1;
    this.tcpFlags = -1;
    this.icmpType = -1;
    this.icmpCode = -1;
  }
}

function u16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

function u32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

/**
 * Parses the header bytes `buf[off, end)` of the given sFlow header protocol into `out` (reset first).
 * Returns PARSE_OK, PARSE_NOT_IP or PARSE_MALFORMED.
 */
export function parsePacket(
  buf: Uint8Array,
  off: number,
  end: number,
  headerProtocol: number,
  decap: number,
  out: PacketInfo,
): number {
  out.reset();
  if (end > buf.length) end = buf.length;
  if (off < 0 || off >= end) return PARSE_MALFORMED;
  switch (headerProtocol) {
    case HEADER_ETHERNET:
      return parseEthernet(buf, off, end, decap, out, 0, true);
    case HEADER_IPV4:
      return parseIPv4(buf, off, end, decap, out, 0);
    case HEADER_IPV6:
      return parseIPv6(buf, off, end, decap, out, 0);
    case HEADER_MPLS:
      return parseMpls(buf, off, end, decap, out, 0);
    default:
      return PARSE_NOT_IP;
  }
}

/** Ethernet II / 802.3 frame. `setMacs` is false for an Ethernet pseudowire inside MPLS (outer MACs stay). */
function parseEthernet(
  buf: Uint8Array,
  o: number,
  end: number,
  decap: number,
  out: PacketInfo,
  depth: number,
  setMacs: boolean,
): number {
  if (o + 14 > end) return PARSE_MALFORMED;
  if (setMacs) {
    out.dstMacOff = o;
    out.srcMacOff = o + 6;
  }
  let et = u16(buf, o + 12);
  o += 14;
  if (et < 0x0600) {
    // 802.3 length field: only LLC/SNAP (AA AA 03 + OUI) carries an EtherType.
    if (o + 8 > end || buf[o] !== 0xaa || buf[o + 1] !== 0xaa || buf[o + 2] !== 0x03) return PARSE_NOT_IP;
    et = u16(buf, o + 6);
    o += 8;
  }
  while (et === ETH_VLAN || et === ETH_QINQ || et === ETH_QINQ_OLD) {
    if (o + 4 > end) {
      out.etherType = et;
      return PARSE_MALFORMED;
    }
    if (out.vlanCount < MAX_VLANS) out.vlans[out.vlanCount] = u16(buf, o) & 0x0fff;
    out.vlanCount++;
    et = u16(buf, o + 2);
    o += 4;
  }
  out.etherType = et;
  return parseEtherType(buf, o, end, et, decap, out, depth);
}

function parseEtherType(
  buf: Uint8Array,
  o: number,
  end: number,
  et: number,
  decap: number,
  out: PacketInfo,
  depth: number,
): number {
  switch (et) {
    case ETH_IPV4:
      return parseIPv4(buf, o, end, decap, out, depth);
    case ETH_IPV6:
      return parseIPv6(buf, o, end, decap, out, depth);
    case ETH_MPLS:
    case ETH_MPLS_MC:
      return parseMpls(buf, o, end, decap, out, depth);
    default:
      return PARSE_NOT_IP;
  }
}

/**
 * MPLS label stack, then what follows the bottom label, guessed from its first nibble as routers do:
 * 4 IPv4, 6 IPv6, an all-zero word is an RFC 4448 control word before an Ethernet frame, 1 is an
 * associated channel (G-ACh, not user traffic); anything else is taken as an Ethernet frame without
 * control word (which then must carry a known EtherType to yield anything).
 */
function parseMpls(buf: Uint8Array, o: number, end: number, decap: number, out: PacketInfo, depth: number): number {
  for (;;) {
    if (o + 4 > end) return PARSE_MALFORMED;
    const label = u32(buf, o) >>> 12;
    const bottom = buf[o + 2] & 1;
    if (out.mplsCount < MAX_MPLS_LABELS) out.mplsLabels[out.mplsCount] = label;
    out.mplsCount++;
    o += 4;
    if (bottom) break;
  }
  if (o >= end) return PARSE_MALFORMED;
  const nibble = buf[o] >> 4;
  if (nibble === 4) {
    out.etherType = ETH_IPV4;
    return parseIPv4(buf, o, end, decap, out, depth);
  }
  if (nibble === 6) {
    out.etherType = ETH_IPV6;
    return parseIPv6(buf, o, end, decap, out, depth);
  }
  if (nibble === 1 || depth >= MAX_DEPTH) return PARSE_NOT_IP;
  if (o + 4 <= end && u32(buf, o) === 0) return parseEthernet(buf, o + 4, end, decap, out, depth + 1, false);
  return o + 14 <= end ? parseEthernet(buf, o, end, decap, out, depth + 1, false) : PARSE_NOT_IP;
}

function parseIPv4(buf: Uint8Array, o: number, end: number, decap: number, out: PacketInfo, depth: number): number {
  if (o + 20 > end || buf[o] >> 4 !== 4) return PARSE_MALFORMED;
  const ihl = (buf[o] & 0x0f) * 4;
  if (ihl < 20) return PARSE_MALFORMED;
  out.ipVersion = 4;
  out.l3Off = o;
  out.srcAddrOff = o + 12;
  out.dstAddrOff = o + 16;
  out.tos = buf[o + 1];
  out.l3Length = u16(buf, o + 2);
  out.ipId = u16(buf, o + 4);
  out.ipFlags = buf[o + 6] >> 5;
  out.fragOffset = u16(buf, o + 6) & 0x1fff;
  out.ttl = buf[o + 8];
  const proto = buf[o + 9];
  out.ipProtocol = proto;
  if (out.fragOffset !== 0) {
    out.fragment = true;
    return PARSE_OK;
  }
  parseL4(buf, o + ihl, end, proto, decap, out, depth, false);
  return PARSE_OK;
}

function parseIPv6(buf: Uint8Array, o: number, end: number, decap: number, out: PacketInfo, depth: number): number {
  if (o + 40 > end || buf[o] >> 4 !== 6) return PARSE_MALFORMED;
  out.ipVersion = 6;
  out.l3Off = o;
  out.srcAddrOff = o + 8;
  out.dstAddrOff = o + 24;
  out.tos = (u16(buf, o) >> 4) & 0xff;
  out.flowLabel = u32(buf, o) & 0xfffff;
  out.l3Length = u16(buf, o + 4) + 40;
  out.ttl = buf[o + 7];
  let next = buf[o + 6];
  let p = o + 40;
  let segmentRouting = false;
  // Extension headers: each is at least 8 bytes, so the walk ends within (end - p) / 8 steps.
  for (;;) {
    if (next !== 0 && next !== 43 && next !== 44 && next !== 60 && next !== 51 && next !== 135) break;
    if (p + 8 > end) {
      // Cut short inside the extension headers: the upper-layer protocol is unknown.
      out.ipProtocol = next;
      return PARSE_OK;
    }
    const nh = buf[p];
    if (next === 44) {
      const fo = u16(buf, p + 2);
      out.fragOffset = fo >> 3;
      out.ipFlags = fo & 1;
      out.ipId = u32(buf, p + 4);
      p += 8;
      if (out.fragOffset !== 0) {
        out.fragment = true;
        out.ipProtocol = nh;
        return PARSE_OK;
      }
    } else if (next === 51) {
      p += (buf[p + 1] + 2) * 4;
    } else {
      if (next === 43 && buf[p + 2] === 4) segmentRouting = true;
      p += (buf[p + 1] + 1) * 8;
    }
    next = nh;
  }
  out.ipProtocol = next;
  if (p <= end) parseL4(buf, p, end, next, decap, out, depth, segmentRouting);
  return PARSE_OK;
}

/** Transport header (or tunnel payload, when decapsulating). `p` may equal `end` (nothing captured). */
function parseL4(
  buf: Uint8Array,
  p: number,
  end: number,
  proto: number,
  decap: number,
  out: PacketInfo,
  depth: number,
  segmentRouting: boolean,
): void {
  out.l4Off = p;
  switch (proto) {
    case 6: // TCP
      if (p + 4 <= end) {
        out.srcPort = u16(buf, p);
        out.dstPort = u16(buf, p + 2);
      }
      if (p + 14 <= end) out.tcpFlags = ((buf[p + 12] & 1) << 8) | buf[p + 13];
      return;
    case 17: // UDP
      if (p + 4 <= end) {
        out.srcPort = u16(buf, p);
        out.dstPort = u16(buf, p + 2);
        if (decap & DECAP_VXLAN && out.dstPort === VXLAN_PORT && p + 16 <= end && buf[p + 8] & 0x08) {
          const vni = u32(buf, p + 12) >>> 8;
          decapsulate(buf, p + 16, end, ETH_TEB, DECAP_VXLAN, vni, decap, out, depth);
        }
      }
      return;
    case 33: // DCCP
    case 132: // SCTP
    case 136: // UDP-Lite
      if (p + 4 <= end) {
        out.srcPort = u16(buf, p);
        out.dstPort = u16(buf, p + 2);
      }
      return;
    case 1: // ICMP
    case 58: // ICMPv6
      if (p + 2 <= end) {
        out.icmpType = buf[p];
        out.icmpCode = buf[p + 1];
      }
      return;
    case 4: // IPv4 in IP
    case 41: // IPv6 in IP
      if (decap & DECAP_IPIP) {
        decapsulate(buf, p, end, proto === 4 ? ETH_IPV4 : ETH_IPV6, DECAP_IPIP, -1, decap, out, depth);
      } else if (segmentRouting && decap & DECAP_SRV6) {
        decapsulate(buf, p, end, proto === 4 ? ETH_IPV4 : ETH_IPV6, DECAP_SRV6, -1, decap, out, depth);
      }
      return;
    case 47: // GRE
      if (decap & DECAP_GRE) parseGre(buf, p, end, decap, out, depth);
      return;
    default:
      return;
  }
}

/** GRE version 0 (RFC 2784/2890); version 1 (PPTP) and source-routed GRE are left alone. */
function parseGre(buf: Uint8Array, p: number, end: number, decap: number, out: PacketInfo, depth: number): void {
  if (p + 4 > end) return;
  const flags = u16(buf, p);
  if ((flags & 0x0007) !== 0 || flags & 0x4000) return;
  const type = u16(buf, p + 2);
  let q = p + 4;
  let key = -1;
  if (flags & 0x8000) q += 4; // checksum + reserved
  if (flags & 0x2000) {
    if (q + 4 > end) return;
    key = u32(buf, q);
    q += 4;
  }
  if (flags & 0x1000) q += 4; // sequence number
  decapsulate(buf, q, end, type, DECAP_GRE, key, decap, out, depth);
}

/**
 * Replaces the outer packet by the inner one at `o` (of EtherType `type`), but only when the inner IP
 * header is complete: a tunnel whose payload was cut off keeps reporting its outer packet.
 */
function decapsulate(
  buf: Uint8Array,
  o: number,
  end: number,
  type: number,
  kind: number,
  tunnelId: number,
  decap: number,
  out: PacketInfo,
  depth: number,
): void {
  if (depth >= MAX_DEPTH || !innerIsComplete(buf, o, end, type)) return;
  if (out.encap === 0) {
    out.outerIpVersion = out.ipVersion;
    out.outerSrcAddrOff = out.srcAddrOff;
    out.outerDstAddrOff = out.dstAddrOff;
  }
  out.encap = kind;
  out.tunnelId = tunnelId;
  out.clearL3();
  if (type === ETH_TEB) {
    parseEthernet(buf, o, end, decap, out, depth + 1, true);
  } else {
    out.etherType = type;
    parseEtherType(buf, o, end, type, decap, out, depth + 1);
  }
}

/** True when an IP header (possibly behind Ethernet, VLAN tags or MPLS labels) starts complete at `o`. */
function innerIsComplete(buf: Uint8Array, o: number, end: number, type: number): boolean {
  if (type === ETH_TEB) {
    if (o + 14 > end) return false;
    type = u16(buf, o + 12);
    o += 14;
    while ((type === ETH_VLAN || type === ETH_QINQ || type === ETH_QINQ_OLD) && o + 4 <= end) {
      type = u16(buf, o + 2);
      o += 4;
    }
  }
  if (type === ETH_MPLS || type === ETH_MPLS_MC) {
    while (o + 4 <= end && !(buf[o + 2] & 1)) o += 4;
    o += 4;
    if (o >= end) return false;
    const nibble = buf[o] >> 4;
    type = nibble === 4 ? ETH_IPV4 : nibble === 6 ? ETH_IPV6 : -1;
  }
  if (type === ETH_IPV4) return o + 20 <= end && buf[o] >> 4 === 4 && (buf[o] & 0x0f) >= 5;
  if (type === ETH_IPV6) return o + 40 <= end && buf[o] >> 4 === 6;
  return false;
}
