// SPDX-License-Identifier: Apache-2.0
/**
 * sFlow version 5 decoder (sflow.org "sFlow Version 5", 2004, XDR encoded).
 *
 * One `FlowRecord` per flow sample (format 1) and expanded flow sample (format 3). Its addresses, ports,
 * protocol, TCP flags and ICMP type/code come from the raw packet header record (flow record format 1,
 * parsed by `decode/packet`), or else from the sampled IPv4 / IPv6 records (3 / 4). Choices:
 *
 * - `bytes` is the sampled packet's *frame length* as the agent reports it (raw header `frame_length`:
 *   the original frame including the Ethernet FCS), as ElastiFlow and goflow2 do; without a raw header, the
 *   sampled Ethernet record's length (2), else the sampled IPv4/IPv6 record's IP length (3/4). The IP
 *   length of a parsed header is kept in `fields.ip_total_length` (what akvorado reports as bytes).
 *   `packets` is 1 and `samplingRate` the sample's sampling rate (0 read as 1).
 * - Interfaces: a compact sample carries a 2-bit format and a 30-bit value, an expanded sample a format and a
 *   32-bit value. Only format 0 with a value other than 0x3FFFFFFF ("internal": the packet came from or
 *   went to the agent itself) names an interface; internal, discarded (format 1, value = reason) and
 *   multiple (format 2, value = count) give interface 0, the NetFlow convention for "none", and the raw
 *   format and value stay in `fields`.
 * - Extended gateway (1003): `src_as` is the record's source AS or, when 0 (local origin), the router's own
 *   AS; `dst_as` is the last AS of the destination path or, when the path is empty, the router's AS.
 * - sFlow has no wall clock: `exportTimeMs`, `startMs` and `endMs` are the receive time.
 *
 * Robustness: every length is checked before it is used. A sample whose length runs past the datagram is
 * `short_datagram` and ends the datagram; a sample or record whose contents do not fit its length is
 * `bad_sample` and only that sample is dropped (sample lengths let the rest be decoded); a packet header
 * that cannot be parsed is `bad_packet_header` and the record is still emitted without layer 3-4 values.
 * Counter samples (2, 4) are counted (`counter_samples`), other sample types (discard samples 5,
 * enterprise formats) are skipped by their length and counted (`skipped_samples`), unknown flow records are
 * skipped and counted (`skipped_flow_records`). Errors that reject the whole datagram (short header,
 * version, agent address type) are thrown as `DecodeError`.
 *
 * Metrics convention (pipeline/pipeline.ts): the caller counts `datagrams` and `records` and counts a
 * thrown `DecodeError` by its reason; the decoder counts, through `env.metrics`, only what happens inside a
 * datagram that it goes on decoding (the errors above that drop a sample or end the datagram early, and
 * the sample/record counters).
 */
import { formatIPv4, formatIPv6, formatMac } from '../ip';
import {
  DECAP_GRE,
  DECAP_IPIP,
  DECAP_NONE,
  DECAP_SRV6,
  DECAP_VXLAN,
  PARSE_MALFORMED,
  PARSE_OK,
  PacketInfo,
  formatAddress,
  parsePacket,
} from '../packet';
import { DecodeEnv, DecodeError, EmitRecord, ExporterInfo, FieldValue, FlowRecord } from '../types';

const PROTOCOL = 'sflow5';

/** Sample formats (enterprise 0). */
export const SFLOW_FLOW_SAMPLE = 1;
export const SFLOW_COUNTER_SAMPLE = 2;
export const SFLOW_EXPANDED_FLOW_SAMPLE = 3;
export const SFLOW_EXPANDED_COUNTER_SAMPLE = 4;

/** Flow record formats (enterprise 0). */
export const SFLOW_RAW_HEADER = 1;
export const SFLOW_SAMPLED_ETHERNET = 2;
export const SFLOW_SAMPLED_IPV4 = 3;
export const SFLOW_SAMPLED_IPV6 = 4;
export const SFLOW_EXTENDED_SWITCH = 1001;
export const SFLOW_EXTENDED_ROUTER = 1002;
export const SFLOW_EXTENDED_GATEWAY = 1003;

/** Interface value meaning "no interface: the packet came from / went to the agent itself". */
export const SFLOW_INTERNAL_INTERFACE = 0x3fffffff;

/** Upper bound on AS path entries and communities kept from one gateway record (the rest are skipped). */
const MAX_AS_LIST = 256;

export interface SflowOptions {
  /** DECAP_* mask from `decode/packet`: report the inner packet of these tunnels. Default none. */
  decap?: number;
}

/** Reused for every sample: the packet parser allocates nothing (STYLE.md §8). One decoder per thread. */
const packet = new PacketInfo();

function u32(b: Buffer, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

/** Bytes an XDR opaque of `n` bytes occupies (padded to 4). */
function pad4(n: number): number {
  return n + ((4 - (n & 3)) & 3);
}

/** Per-datagram values shared by every sample. */
interface DatagramContext {
  exporter: ExporterInfo;
  env: DecodeEnv;
  agent: string;
  subAgentId: number;
  sequence: number;
  uptime: number;
  decap: number;
}

/** Thrown inside a sample to drop it; caught per sample, never leaves the decoder. */
class BadSample extends Error {
  constructor(readonly offset: number, message: string) {
    super(message);
  }
}

function rejectDatagram(
  exporter: ExporterInfo,
  reason: 'short_datagram' | 'bad_header' | 'unknown_version',
  message: string,
  offset: number,
): never {
  throw new DecodeError(reason, message, { exporter: exporter.address, version: 5, offset });
}

/**
 * Decodes one sFlow v5 datagram and emits one record per flow sample. Throws `DecodeError` (for the
 * caller to count) only when the datagram header is unusable; never throws anything else.
 */
export function decodeSflow(
  buf: Buffer,
  exporter: ExporterInfo,
  env: DecodeEnv,
  emit: EmitRecord,
  options?: SflowOptions,
): void {
  const metrics = env.metrics;
  const len = buf.length;
  if (len < 8) rejectDatagram(exporter, 'short_datagram', `sflow datagram of ${len} bytes is shorter than its header`, 0);
  const version = u32(buf, 0);
  if (version !== 5) rejectDatagram(exporter, 'unknown_version', `version ${version} is not sflow v5`, 0);
  const addrType = u32(buf, 4);
  const addrLen = addrType === 1 ? 4 : addrType === 2 ? 16 : addrType === 0 ? 0 : -1;
  if (addrLen < 0) rejectDatagram(exporter, 'bad_header', `sflow agent address type ${addrType} is not 0, 1 or 2`, 4);
  let o = 8 + addrLen;
  if (o + 16 > len) {
    rejectDatagram(exporter, 'short_datagram', `sflow datagram of ${len} bytes is shorter than its ${o + 16}-byte header`, 0);
  }
  const ctx: DatagramContext = {
    exporter,
    env,
    agent: addrLen === 4 ? formatIPv4(buf, 8) : addrLen === 16 ? formatIPv6(buf, 8) : '',
    subAgentId: u32(buf, o),
    sequence: u32(buf, o + 4),
    uptime: u32(buf, o + 8),
    decap: options?.decap ?? DECAP_NONE,
  };
  const numSamples = u32(buf, o + 12);
  o += 16;

  let flowSamples = 0;
  let counterSamples = 0;
  let skippedSamples = 0;
  let skippedRecords = 0;
  // Each sample takes at least 8 bytes, so the loop ends within len / 8 steps whatever numSamples says.
  for (let i = 0; i < numSamples; i++) {
    if (o + 8 > len) {
      metrics.error('short_datagram', exporter.address, PROTOCOL, `sflow sample ${i + 1} of ${numSamples} starts past the end (offset ${o})`);
      break;
    }
    const format = u32(buf, o);
    const sampleLen = u32(buf, o + 4);
    o += 8;
    if (sampleLen > len - o) {
      metrics.error(
        'short_datagram',
        exporter.address,
        PROTOCOL,
        `sflow sample ${i + 1} of ${numSamples} (format ${format}) length ${sampleLen} runs past the end (offset ${o - 8})`,
      );
      break;
    }
    const sampleEnd = o + sampleLen;
    if (format === SFLOW_FLOW_SAMPLE || format === SFLOW_EXPANDED_FLOW_SAMPLE) {
      flowSamples++;
      try {
        const record = decodeFlowSample(buf, o, sampleEnd, format === SFLOW_EXPANDED_FLOW_SAMPLE, ctx);
        skippedRecords += skippedInSample;
        emit(record);
      } catch (e) {
        if (!(e instanceof BadSample)) throw e;
        metrics.error('bad_sample', exporter.address, PROTOCOL, `sflow sample ${i + 1} (offset ${e.offset}): ${e.message}`);
      }
    } else if (format === SFLOW_COUNTER_SAMPLE || format === SFLOW_EXPANDED_COUNTER_SAMPLE) {
      counterSamples++;
    } else {
      skippedSamples++;
    }
    o = Math.min(len, o + pad4(sampleLen));
  }
  if (flowSamples) metrics.count('flow_samples', PROTOCOL, flowSamples);
  if (counterSamples) metrics.count('counter_samples', PROTOCOL, counterSamples);
  if (skippedSamples) metrics.count('skipped_samples', PROTOCOL, skippedSamples);
  if (skippedRecords) metrics.count('skipped_flow_records', PROTOCOL, skippedRecords);
}

/** Unknown flow records of the last decoded sample (a module variable rather than a result object per sample). */
let skippedInSample = 0;

/** Interface number for the record: the ifIndex for format 0, else 0 ("no single interface"). */
function interfaceOf(format: number, value: number): number {
  return format === 0 && value !== SFLOW_INTERNAL_INTERFACE ? value : 0;
}

function decodeFlowSample(buf: Buffer, o: number, end: number, expanded: boolean, ctx: DatagramContext): FlowRecord {
  const fixed = expanded ? 44 : 32;
  if (end - o < fixed) throw new BadSample(o, `flow sample of ${end - o} bytes is shorter than its ${fixed}-byte fixed part`);
  const sampleSeq = u32(buf, o);
  let sourceIdType: number;
  let sourceIdIndex: number;
  let inFormat: number;
  let inValue: number;
  let outFormat: number;
  let outValue: number;
  let p = o + 4;
  if (expanded) {
    sourceIdType = u32(buf, p);
    sourceIdIndex = u32(buf, p + 4);
    p += 8;
  } else {
    const sourceId = u32(buf, p);
    sourceIdType = sourceId >>> 24;
    sourceIdIndex = sourceId & 0x00ffffff;
    p += 4;
  }
  const rate = u32(buf, p);
  const pool = u32(buf, p + 4);
  const drops = u32(buf, p + 8);
  p += 12;
  if (expanded) {
    inFormat = u32(buf, p);
    inValue = u32(buf, p + 4);
    outFormat = u32(buf, p + 8);
    outValue = u32(buf, p + 12);
    p += 16;
  } else {
    const input = u32(buf, p);
    const output = u32(buf, p + 4);
    inFormat = input >>> 30;
    inValue = input & 0x3fffffff;
    outFormat = output >>> 30;
    outValue = output & 0x3fffffff;
    p += 8;
  }
  const numRecords = u32(buf, p);
  p += 4;

  const fields: Record<string, FieldValue> = {
    agent_address: ctx.agent,
    sub_agent_id: ctx.subAgentId,
    sequence_number: ctx.sequence,
    sample_type: expanded ? SFLOW_EXPANDED_FLOW_SAMPLE : SFLOW_FLOW_SAMPLE,
    sample_sequence_number: sampleSeq,
    source_id_type: sourceIdType,
    source_id_index: sourceIdIndex,
    sampling_rate: rate,
    sample_pool: pool,
    drops,
    input_interface_format: inFormat,
    input_interface_value: inValue,
    output_interface_format: outFormat,
    output_interface_value: outValue,
  };
  const exportTimeMs = ctx.exporter.receivedMs;
  const record: FlowRecord = {
    protocol: PROTOCOL,
    exporterAddress: ctx.exporter.address,
    sourceId: ctx.subAgentId,
    exportTimeMs,
    sysUptimeMs: ctx.uptime,
    sequence: ctx.sequence,
    ipVersion: null,
    srcAddr: null,
    dstAddr: null,
    srcPort: null,
    dstPort: null,
    ipProtocol: null,
    icmpType: null,
    icmpCode: null,
    bytes: null,
    packets: 1,
    reverseBytes: null,
    reversePackets: null,
    samplingRate: rate === 0 ? 1 : rate,
    startMs: exportTimeMs,
    endMs: exportTimeMs,
    tcpFlags: null,
    inputInterface: interfaceOf(inFormat, inValue),
    outputInterface: interfaceOf(outFormat, outValue),
    inputInterfaceName: null,
    outputInterfaceName: null,
    fields,
  };

  // Where the records that describe the packet are; resolved after the loop, by precedence.
  let headerOff = -1;
  let headerEnd = -1;
  let headerProtocol = 0;
  let frameLength = -1;
  let ethOff = -1;
  let ipv4Off = -1;
  let ipv6Off = -1;
  skippedInSample = 0;

  // Each record takes at least 8 bytes, so the loop ends within (end - p) / 8 steps.
  for (let r = 0; r < numRecords; r++) {
    if (p + 8 > end) throw new BadSample(p, `flow record ${r + 1} of ${numRecords} starts past the sample end`);
    const format = u32(buf, p);
    const recLen = u32(buf, p + 4);
    p += 8;
    if (recLen > end - p) throw new BadSample(p - 8, `flow record ${r + 1} (format ${format}) length ${recLen} runs past the sample end`);
    const q = p;
    const recEnd = p + recLen;
    p = Math.min(end, p + pad4(recLen));
    switch (format) {
      case SFLOW_RAW_HEADER: {
        if (recLen < 16) throw new BadSample(q, `raw packet header record of ${recLen} bytes`);
        const headerLen = u32(buf, q + 12);
        if (headerLen > recLen - 16) throw new BadSample(q, `raw packet header of ${headerLen} bytes in a ${recLen}-byte record`);
        if (headerOff >= 0) break; // one header per sample; a second one (never seen) is ignored
        headerProtocol = u32(buf, q);
        frameLength = u32(buf, q + 4);
        fields.header_protocol = headerProtocol;
        fields.frame_length = frameLength;
        fields.stripped = u32(buf, q + 8);
        fields.header_length = headerLen;
        headerOff = q + 16;
        headerEnd = headerOff + headerLen;
        break;
      }
      case SFLOW_SAMPLED_ETHERNET:
        if (recLen < 24) throw new BadSample(q, `sampled ethernet record of ${recLen} bytes`);
        ethOff = q;
        break;
      case SFLOW_SAMPLED_IPV4:
        if (recLen < 32) throw new BadSample(q, `sampled IPv4 record of ${recLen} bytes`);
        ipv4Off = q;
        break;
      case SFLOW_SAMPLED_IPV6:
        if (recLen < 56) throw new BadSample(q, `sampled IPv6 record of ${recLen} bytes`);
        ipv6Off = q;
        break;
      case SFLOW_EXTENDED_SWITCH: {
        if (recLen < 16) throw new BadSample(q, `extended switch record of ${recLen} bytes`);
        const srcVlan = u32(buf, q);
        const dstVlan = u32(buf, q + 8);
        // 802.1Q ids are 12 bits; agents send 0xFFFFFFFF (or other junk) for "unknown".
        if (srcVlan <= 4095) fields.src_vlan = srcVlan;
        if (dstVlan <= 4095) fields.dst_vlan = dstVlan;
        fields.src_priority = u32(buf, q + 4);
        fields.dst_priority = u32(buf, q + 12);
        break;
      }
      case SFLOW_EXTENDED_ROUTER: {
        const a = readAddress(buf, q, recEnd);
        if (a.next + 8 > recEnd) throw new BadSample(q, `extended router record of ${recLen} bytes`);
        if (a.text !== null) fields.next_hop = a.text;
        fields.src_mask = u32(buf, a.next);
        fields.dst_mask = u32(buf, a.next + 4);
        break;
      }
      case SFLOW_EXTENDED_GATEWAY:
        decodeGateway(buf, q, recEnd, fields);
        break;
      default:
        skippedInSample++;
    }
  }

  if (headerOff >= 0) {
    record.bytes = frameLength;
    applyHeader(buf, headerOff, headerEnd, headerProtocol, ctx, record, fields);
  } else {
    if (ethOff >= 0) {
      record.bytes = u32(buf, ethOff);
      fields.src_mac = formatMac(buf, ethOff + 4);
      fields.dst_mac = formatMac(buf, ethOff + 12);
      fields.ether_type = u32(buf, ethOff + 20);
    }
    if (ipv4Off >= 0) applySampledIp(buf, ipv4Off, 4, record, fields);
    else if (ipv6Off >= 0) applySampledIp(buf, ipv6Off, 6, record, fields);
  }
  return record;
}

/** An sFlow `address`: type 1 IPv4, 2 IPv6, 0 unknown (no bytes). */
function readAddress(buf: Buffer, o: number, end: number): { text: string | null; next: number } {
  if (o + 4 > end) throw new BadSample(o, 'address runs past its record');
  const type = u32(buf, o);
  if (type === 1) {
    if (o + 8 > end) throw new BadSample(o, 'IPv4 address runs past its record');
    return { text: formatIPv4(buf, o + 4), next: o + 8 };
  }
  if (type === 2) {
    if (o + 20 > end) throw new BadSample(o, 'IPv6 address runs past its record');
    return { text: formatIPv6(buf, o + 4), next: o + 20 };
  }
  if (type === 0) return { text: null, next: o + 4 };
  throw new BadSample(o, `address type ${type} is not 0, 1 or 2`);
}

/** Extended gateway (1003): BGP next hop, router/source/peer AS, destination AS path, communities, local pref. */
function decodeGateway(buf: Buffer, q: number, end: number, fields: Record<string, FieldValue>): void {
  const a = readAddress(buf, q, end);
  let p = a.next;
  if (p + 16 > end) throw new BadSample(q, 'extended gateway record too short');
  const routerAs = u32(buf, p);
  const srcAs = u32(buf, p + 4);
  const srcPeerAs = u32(buf, p + 8);
  const segments = u32(buf, p + 12);
  p += 16;
  const path: number[] = [];
  for (let s = 0; s < segments; s++) {
    if (p + 8 > end) throw new BadSample(p, `AS path segment ${s + 1} of ${segments} runs past its record`);
    const n = u32(buf, p + 4);
    p += 8;
    if (n > (end - p) / 4) throw new BadSample(p, `AS path segment of ${n} entries runs past its record`);
    for (let k = 0; k < n; k++) if (path.length < MAX_AS_LIST) path.push(u32(buf, p + 4 * k));
    p += 4 * n;
  }
  if (p + 4 > end) throw new BadSample(p, 'extended gateway communities run past its record');
  const nComm = u32(buf, p);
  p += 4;
  if (nComm > (end - p) / 4) throw new BadSample(p, `${nComm} communities run past their record`);
  const communities: number[] = [];
  for (let k = 0; k < nComm && k < MAX_AS_LIST; k++) communities.push(u32(buf, p + 4 * k));
  p += 4 * nComm;
  if (p + 4 > end) throw new BadSample(p, 'extended gateway local preference runs past its record');
  if (a.text !== null) fields.bgp_next_hop = a.text;
  fields.router_as = routerAs;
  fields.src_as = srcAs === 0 ? routerAs : srcAs;
  fields.src_peer_as = srcPeerAs;
  fields.dst_as = path.length ? path[path.length - 1] : routerAs;
  if (path.length) {
    fields.dst_peer_as = path[0];
    fields.as_path = path;
  }
  if (communities.length) fields.communities = communities;
  fields.local_pref = u32(buf, p);
}

const ENCAP_NAMES: Record<number, string> = {
  [DECAP_IPIP]: 'ipip',
  [DECAP_GRE]: 'gre',
  [DECAP_VXLAN]: 'vxlan',
  [DECAP_SRV6]: 'srv6',
};

/** Parses the raw packet header and copies what it found into the record. */
function applyHeader(
  buf: Buffer,
  off: number,
  end: number,
  headerProtocol: number,
  ctx: DatagramContext,
  record: FlowRecord,
  fields: Record<string, FieldValue>,
): void {
  if (end <= off) return;
  const status = parsePacket(buf, off, end, headerProtocol, ctx.decap, packet);
  if (status === PARSE_MALFORMED) {
    ctx.env.metrics.error(
      'bad_packet_header',
      ctx.exporter.address,
      PROTOCOL,
      `sampled header (protocol ${headerProtocol}, ${end - off} bytes at offset ${off}) cannot be parsed`,
    );
  }
  const pk = packet;
  if (pk.srcMacOff >= 0) {
    fields.src_mac = formatMac(buf, pk.srcMacOff);
    fields.dst_mac = formatMac(buf, pk.dstMacOff);
  }
  if (pk.etherType >= 0) fields.ether_type = pk.etherType;
  if (pk.vlanCount > 0) {
    const n = Math.min(pk.vlanCount, pk.vlans.length);
    // The tag nearest the payload is the one that classifies the packet (the customer tag of QinQ).
    fields.vlan_id = pk.vlans[n - 1];
    if (n > 1) fields.vlans = Array.from(pk.vlans.subarray(0, n));
  }
  if (pk.mplsCount > 0) fields.mpls_labels = Array.from(pk.mplsLabels.subarray(0, Math.min(pk.mplsCount, pk.mplsLabels.length)));
  if (status !== PARSE_OK) return;
  record.ipVersion = pk.ipVersion === 6 ? 6 : 4;
  record.srcAddr = formatAddress(buf, pk.srcAddrOff, pk.ipVersion);
  record.dstAddr = formatAddress(buf, pk.dstAddrOff, pk.ipVersion);
  record.ipProtocol = pk.ipProtocol;
  if (pk.srcPort >= 0) {
    record.srcPort = pk.srcPort;
    record.dstPort = pk.dstPort;
  }
  if (pk.tcpFlags >= 0) record.tcpFlags = pk.tcpFlags;
  if (pk.icmpType >= 0) {
    record.icmpType = pk.icmpType;
    record.icmpCode = pk.icmpCode;
  }
  fields.ip_tos = pk.tos;
  fields.ip_ttl = pk.ttl;
  fields.ip_total_length = pk.l3Length;
  if (pk.ipVersion === 4) {
    fields.ip_id = pk.ipId;
    fields.ip_flags = pk.ipFlags;
  } else {
    fields.ipv6_flow_label = pk.flowLabel;
    if (pk.ipId >= 0) fields.ip_id = pk.ipId;
  }
  if (pk.fragOffset !== 0) fields.ip_fragment_offset = pk.fragOffset;
  if (pk.encap !== 0) {
    fields.encapsulation = ENCAP_NAMES[pk.encap] ?? String(pk.encap);
    const outerSrc = formatAddress(buf, pk.outerSrcAddrOff, pk.outerIpVersion);
    const outerDst = formatAddress(buf, pk.outerDstAddrOff, pk.outerIpVersion);
    if (outerSrc !== null) fields.outer_src_address = outerSrc;
    if (outerDst !== null) fields.outer_dst_address = outerDst;
    if (pk.tunnelId >= 0) fields.tunnel_id = pk.tunnelId;
  }
}

/** Sampled IPv4 (3) / IPv6 (4) record, used when the sample has no raw packet header. */
function applySampledIp(buf: Buffer, q: number, version: 4 | 6, record: FlowRecord, fields: Record<string, FieldValue>): void {
  const ipLength = u32(buf, q);
  const proto = u32(buf, q + 4);
  const alen = version === 4 ? 4 : 16;
  const rest = q + 8 + 2 * alen;
  if (record.bytes === null) record.bytes = ipLength;
  record.ipVersion = version;
  record.srcAddr = version === 4 ? formatIPv4(buf, q + 8) : formatIPv6(buf, q + 8);
  record.dstAddr = version === 4 ? formatIPv4(buf, q + 8 + alen) : formatIPv6(buf, q + 8 + alen);
  record.ipProtocol = proto;
  if (proto === 6 || proto === 17 || proto === 132 || proto === 33 || proto === 136) {
    record.srcPort = u32(buf, rest) & 0xffff;
    record.dstPort = u32(buf, rest + 4) & 0xffff;
  }
  if (proto === 6) record.tcpFlags = u32(buf, rest + 8) & 0x1ff;
  fields.ip_total_length = ipLength;
  fields.ip_tos = u32(buf, rest + 12) & 0xff;
}
