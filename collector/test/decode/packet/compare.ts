// SPDX-License-Identifier: Apache-2.0
/**
 * Reads what tshark decoded from a packet header (a frame's layers, or an sFlow raw header's
 * `sflow_245.header_tree`) into the values our parser reports, so tests can compare them field by field.
 *
 * Without decapsulation we report the outermost IP packet and its transport header, so the expected
 * values are the first `ip`/`ipv6` layer and the first transport layer that comes before any second IP
 * layer (the inner packet of a tunnel).
 */
import { formatMac } from '../../../src/decode/ip';
import { MAX_MPLS_LABELS, MAX_VLANS, PacketInfo, formatAddress } from '../../../src/decode/packet';
import { JObject } from './tshark';

export interface ExpectedHeader {
  srcMac?: string;
  dstMac?: string;
  vlans: number[];
  mplsLabels: number[];
  ipVersion?: 4 | 6;
  srcAddr?: string;
  dstAddr?: string;
  ttl?: number;
  tos?: number;
  l3Length?: number;
  ipId?: number;
  flowLabel?: number;
  /** The upper-layer protocol (after IPv6 extension headers). */
  ipProtocol?: number;
  /** tshark saw the transport layer (so ports/type are comparable). */
  l4?: 'tcp' | 'udp' | 'sctp' | 'icmp' | 'icmpv6';
  srcPort?: number;
  dstPort?: number;
  tcpFlags?: number;
  icmpType?: number;
  icmpCode?: number;
  /** Fragment offset in 8-byte units (IPv4 header or IPv6 fragment header). */
  fragmentOffset?: number;
  moreFragments?: boolean;
}

const L4: Record<string, number> = { tcp: 6, udp: 17, sctp: 132, icmp: 1, icmpv6: 58 };

function num(o: JObject, key: string): number | undefined {
  return o.num(key);
}

/** Last `<ext>.nxt` among the IPv6 extension headers tshark nested in its ipv6 layer. */
function ipv6UpperProtocol(ip: JObject): number | undefined {
  let proto = num(ip, 'ipv6.nxt');
  for (const [k, v] of ip.entries) {
    if (!(v instanceof JObject)) continue;
    const m = /^ipv6\.(hopopts|routing|fraghdr|dstopts|shim6|mipv6)$/.exec(k);
    if (!m) continue;
    const n = v.num(`ipv6.${m[1]}.nxt`) ?? v.num(`ipv6.${m[1]}.next_header`);
    if (n !== undefined) proto = n;
  }
  return proto;
}

export function expectedFromTshark(tree: JObject): ExpectedHeader {
  const e: ExpectedHeader = { vlans: [], mplsLabels: [] };
  let sawIp = false;
  for (const [layer, v] of tree.entries) {
    if (!(v instanceof JObject)) continue;
    if (sawIp) {
      if (layer === 'ip' || layer === 'ipv6') break; // inner packet of a tunnel
      if (layer in L4 && e.l4 === undefined) {
        e.l4 = layer as ExpectedHeader['l4'];
        if (layer === 'icmp' || layer === 'icmpv6') {
          e.icmpType = num(v, `${layer}.type`);
          e.icmpCode = num(v, `${layer}.code`);
        } else {
          e.srcPort = num(v, `${layer}.srcport`);
          e.dstPort = num(v, `${layer}.dstport`);
          if (layer === 'tcp') {
            const f = num(v, 'tcp.flags');
            if (f !== undefined) e.tcpFlags = f & 0x1ff;
          }
        }
        e.ipProtocol = L4[layer];
      }
      continue;
    }
    if (layer === 'eth' && e.srcMac === undefined) {
      e.srcMac = v.str('eth.src');
      e.dstMac = v.str('eth.dst');
    } else if (layer === 'vlan' || layer === 'ieee8021ad') {
      const id = num(v, `${layer}.id`);
      if (id !== undefined) e.vlans.push(id);
    } else if (layer === 'mpls') {
      for (const l of v.all('mpls.label')) e.mplsLabels.push(Number(l));
    } else if (layer === 'ip') {
      sawIp = true;
      e.ipVersion = 4;
      e.srcAddr = v.str('ip.src');
      e.dstAddr = v.str('ip.dst');
      e.ttl = num(v, 'ip.ttl');
      e.tos = num(v, 'ip.dsfield');
      e.l3Length = num(v, 'ip.len');
      e.ipId = num(v, 'ip.id');
      e.ipProtocol = num(v, 'ip.proto');
      e.fragmentOffset = num(v, 'ip.frag_offset');
      const flags = num(v, 'ip.flags');
      if (flags !== undefined) e.moreFragments = (flags & 0x1) !== 0 || (flags & 0x20) !== 0;
    } else if (layer === 'ipv6') {
      sawIp = true;
      e.ipVersion = 6;
      e.srcAddr = v.str('ipv6.src');
      e.dstAddr = v.str('ipv6.dst');
      e.ttl = num(v, 'ipv6.hlim');
      e.tos = num(v, 'ipv6.tclass');
      e.flowLabel = num(v, 'ipv6.flow');
      const plen = num(v, 'ipv6.plen');
      if (plen !== undefined) e.l3Length = plen + 40;
      e.ipProtocol = ipv6UpperProtocol(v);
      const frag = v.obj('ipv6.fraghdr');
      if (frag) {
        e.fragmentOffset = frag.num('ipv6.fraghdr.offset');
        e.moreFragments = frag.num('ipv6.fraghdr.more') === 1;
      }
    }
  }
  return e;
}

/** Differences between what tshark decoded and what `parsePacket` reported (empty when they agree). */
export function diffPacket(e: ExpectedHeader, buf: Uint8Array, info: PacketInfo): string[] {
  const d: string[] = [];
  const eq = (what: string, got: unknown, want: unknown) => {
    if (want === undefined) return;
    if (JSON.stringify(got) !== JSON.stringify(want)) d.push(`${what}: got ${JSON.stringify(got)}, tshark ${JSON.stringify(want)}`);
  };
  eq('src mac', info.srcMacOff >= 0 ? formatMac(buf, info.srcMacOff) : undefined, e.srcMac);
  eq('dst mac', info.dstMacOff >= 0 ? formatMac(buf, info.dstMacOff) : undefined, e.dstMac);
  eq('vlans', Array.from(info.vlans.subarray(0, Math.min(info.vlanCount, MAX_VLANS))), e.vlans);
  eq('mpls labels', Array.from(info.mplsLabels.subarray(0, Math.min(info.mplsCount, MAX_MPLS_LABELS))), e.mplsLabels);
  eq('ip version', info.ipVersion, e.ipVersion ?? 0);
  if (!e.ipVersion) return d;
  eq('src addr', formatAddress(buf, info.srcAddrOff, info.ipVersion), e.srcAddr);
  eq('dst addr', formatAddress(buf, info.dstAddrOff, info.ipVersion), e.dstAddr);
  eq('ttl', info.ttl, e.ttl);
  eq('tos', info.tos, e.tos);
  eq('l3 length', info.l3Length, e.l3Length);
  if (e.ipVersion === 4) {
    eq('ip id', info.ipId, e.ipId);
    eq('fragment offset', info.fragOffset, e.fragmentOffset);
  } else {
    eq('flow label', info.flowLabel, e.flowLabel);
    if (e.fragmentOffset !== undefined) eq('fragment offset', info.fragOffset, e.fragmentOffset);
  }
  eq('protocol', info.ipProtocol, e.ipProtocol);
  if (e.l4 === 'icmp' || e.l4 === 'icmpv6') {
    eq('icmp type', info.icmpType, e.icmpType);
    eq('icmp code', info.icmpCode, e.icmpCode);
  } else if (e.l4) {
    eq('src port', info.srcPort, e.srcPort);
    eq('dst port', info.dstPort, e.dstPort);
    if (e.l4 === 'tcp') eq('tcp flags', info.tcpFlags, e.tcpFlags);
  } else if (info.srcPort >= 0 && !e.moreFragments) {
    d.push(`ports ${info.srcPort}->${info.dstPort} where tshark decoded no transport header`);
  }
  return d;
}
