// SPDX-License-Identifier: Apache-2.0
/**
 * NetFlow v5 decoder (Cisco "NetFlow Export Datagram Format", version 5): a 24-byte header and 1..30
 * fixed 48-byte records.
 *
 * Metrics convention (pipeline/pipeline.ts): the caller counts `datagrams` and `records` and counts a
 * thrown `DecodeError` by its reason; the decoder counts only what happens inside a datagram that it goes on
 * decoding. A v5 datagram is all or nothing, so every problem here is a thrown `DecodeError`.
 *
 * Header rules: the version must be 5, the count 1..30 (else `bad_header`), and the datagram must hold all
 * `24 + 48 * count` bytes (else `short_datagram`). Bytes after the last record are tolerated and counted
 * (`trailing_bytes_datagrams`): netcat captures and some exporters pad datagrams, and the published
 * expectations for such captures (logstash-codec-netflow netflow5.dat, vflow TestV5FlowPacket, tshark)
 * decode the announced records.
 *
 * Hot path (STYLE.md §8): header values are read once per datagram; each record is one object literal of
 * the same shape as `newFlowRecord` plus one `fields` literal of fixed shape, with no intermediate objects.
 */
import { formatIPv4 } from '../ip';
import { DecodeEnv, DecodeError, EmitRecord, ExporterInfo, FlowRecord } from '../types';

export const NETFLOW5_HEADER_LENGTH = 24;
export const NETFLOW5_RECORD_LENGTH = 48;
export const NETFLOW5_MAX_COUNT = 30;

const PROTOCOL = 'netflow5';

/** Signed 32-bit difference a - b of two uint32 millisecond uptimes, so that a wrap of sysUptime is harmless. */
function uptimeDelta(a: number, b: number): number {
  return (a - b) | 0;
}

function fail(exporter: ExporterInfo, reason: 'short_datagram' | 'bad_header' | 'unknown_version', message: string): never {
  throw new DecodeError(reason, message, { exporter: exporter.address, version: 5, offset: 0 });
}

/**
 * Decodes one NetFlow v5 datagram and emits one record per flow. Throws `DecodeError` (for the caller to
 * count) when the header is unusable; never throws anything else.
 */
export function decodeNetflow5(buf: Buffer, exporter: ExporterInfo, env: DecodeEnv, emit: EmitRecord): void {
  const len = buf.length;
  if (len < NETFLOW5_HEADER_LENGTH) {
    fail(exporter, 'short_datagram', `netflow v5 datagram of ${len} bytes is shorter than its 24-byte header`);
  }
  const version = buf.readUInt16BE(0);
  if (version !== 5) fail(exporter, 'unknown_version', `version ${version} is not netflow v5`);
  const count = buf.readUInt16BE(2);
  if (count < 1 || count > NETFLOW5_MAX_COUNT) {
    fail(exporter, 'bad_header', `netflow v5 header count ${count} is outside 1..${NETFLOW5_MAX_COUNT}`);
  }
  const needed = NETFLOW5_HEADER_LENGTH + NETFLOW5_RECORD_LENGTH * count;
  if (len < needed) {
    fail(exporter, 'short_datagram', `netflow v5 header count ${count} needs ${needed} bytes, datagram has ${len}`);
  }
  if (len > needed) env.metrics.count('trailing_bytes_datagrams', PROTOCOL);

  const sysUptime = buf.readUInt32BE(4);
  const unixSecs = buf.readUInt32BE(8);
  const unixNsecs = buf.readUInt32BE(12);
  const sequence = buf.readUInt32BE(16);
  const engineType = buf[20];
  const engineId = buf[21];
  const sampling = buf.readUInt16BE(22);
  const samplingAlgorithm = sampling >>> 14;
  const samplingInterval = sampling & 0x3fff;
  const samplingRate = samplingInterval === 0 ? 1 : samplingInterval;
  const exportTimeMs = unixSecs * 1000 + Math.floor(unixNsecs / 1e6);
  const sourceId = (engineType << 8) | engineId;
  const exporterAddress = exporter.address;

  for (let i = 0, o = NETFLOW5_HEADER_LENGTH; i < count; i++, o += NETFLOW5_RECORD_LENGTH) {
    const input = buf.readUInt16BE(o + 12);
    const output = buf.readUInt16BE(o + 14);
    const packets = buf.readUInt32BE(o + 16);
    const octets = buf.readUInt32BE(o + 20);
    const first = buf.readUInt32BE(o + 24);
    const last = buf.readUInt32BE(o + 28);
    const srcPort = buf.readUInt16BE(o + 32);
    const dstPort = buf.readUInt16BE(o + 34);
    const tcpFlags = buf[o + 37];
    const proto = buf[o + 38];
    const tos = buf[o + 39];
    const srcAs = buf.readUInt16BE(o + 40);
    const dstAs = buf.readUInt16BE(o + 42);
    const srcMask = buf[o + 44];
    const dstMask = buf[o + 45];
    const srcAddr = formatIPv4(buf, o);
    const dstAddr = formatIPv4(buf, o + 4);
    const nextHop = formatIPv4(buf, o + 8);
    // ICMP: the exporter puts type * 256 + code in the destination port; the ports themselves mean nothing.
    const icmp = proto === 1;
    const record: FlowRecord = {
      protocol: PROTOCOL,
      exporterAddress,
      sourceId,
      exportTimeMs,
      sysUptimeMs: sysUptime,
      sequence,
      ipVersion: 4,
      srcAddr,
      dstAddr,
      srcPort: icmp ? null : srcPort,
      dstPort: icmp ? null : dstPort,
      ipProtocol: proto,
      icmpType: icmp ? dstPort >>> 8 : null,
      icmpCode: icmp ? dstPort & 0xff : null,
      bytes: octets,
      packets,
      reverseBytes: null,
      reversePackets: null,
      samplingRate,
      startMs: exportTimeMs - uptimeDelta(sysUptime, first),
      endMs: exportTimeMs - uptimeDelta(sysUptime, last),
      tcpFlags,
      inputInterface: input,
      outputInterface: output,
      inputInterfaceName: null,
      outputInterfaceName: null,
      fields: {
        source_ipv4_address: srcAddr,
        destination_ipv4_address: dstAddr,
        ip_next_hop_ipv4_address: nextHop,
        ingress_interface: input,
        egress_interface: output,
        packet_delta_count: packets,
        octet_delta_count: octets,
        flow_start_sys_up_time: first,
        flow_end_sys_up_time: last,
        source_transport_port: srcPort,
        destination_transport_port: dstPort,
        tcp_control_bits: tcpFlags,
        protocol_identifier: proto,
        ip_class_of_service: tos,
        bgp_source_as_number: srcAs,
        bgp_destination_as_number: dstAs,
        source_ipv4_prefix_length: srcMask,
        destination_ipv4_prefix_length: dstMask,
        engine_type: engineType,
        engine_id: engineId,
        sampling_interval: samplingInterval,
        sampling_algorithm: samplingAlgorithm,
      },
    };
    if (icmp) {
      record.fields.icmp_type_code_ipv4 = dstPort;
      record.fields.icmp_type_ipv4 = dstPort >>> 8;
      record.fields.icmp_code_ipv4 = dstPort & 0xff;
    }
    emit(record);
  }
}
