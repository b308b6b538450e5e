// SPDX-License-Identifier: Apache-2.0
/**
 * The contract between the wire decoders and the rest of the collector.
 *
 * A decoder turns one UDP datagram into zero or more `FlowRecord`s and hands each to a callback. It knows
 * nothing of sockets, enrichment or outputs (DESIGN.md §1). Everything a decoder learns about the wire
 * (templates, options data) lives in the `DecodeEnv` it is given, keyed by exporter, so that the same
 * decoder code serves the live collector, `threatflow decode` and the tests.
 */

/** Which wire protocol a record came from. */
export type FlowProtocol = 'netflow5' | 'netflow9' | 'ipfix' | 'sflow5';

/** A value of one decoded information element, as it goes into `netflow.*` / `sflow.*`. */
export type FieldValue = number | string | boolean | Array<number | string>;

/** The exporter a datagram came from: the UDP source of the datagram. */
export interface ExporterInfo {
  /** Source IP address of the datagram, as text (IPv4 dotted quad or IPv6, IPv4-mapped IPv6 unmapped). */
  address: string;
  /** Source UDP port. */
  port: number;
  /** When the collector received the datagram (unix ms). `threatflow decode` uses the capture time. */
  receivedMs: number;
}

/**
 * One flow, normalized enough that the normalizer can build the ECS document without knowing the wire
 * format. Counters are as exported (unscaled); `samplingRate` says by how much to scale them.
 */
export interface FlowRecord {
  protocol: FlowProtocol;
  exporterAddress: string;
  /** NetFlow v9 source id, IPFIX observation domain id, sFlow sub-agent id, v5 (engine_type << 8 | engine_id). */
  sourceId: number;
  /** Export time from the datagram header (unix ms). sFlow has none: the receive time is used. */
  exportTimeMs: number;
  /** Exporter uptime at export (ms), when the protocol carries it (v5, v9, sFlow); null for IPFIX. */
  sysUptimeMs: number | null;
  /** Datagram sequence number (v5 flow_sequence, v9 package sequence, IPFIX sequence, sFlow datagram seq). */
  sequence: number;

  ipVersion: 4 | 6 | null;
  srcAddr: string | null;
  dstAddr: string | null;
  srcPort: number | null;
  dstPort: number | null;
  /** IP protocol number (6 tcp, 17 udp, 1 icmp, 58 ipv6-icmp, ...). */
  ipProtocol: number | null;
  /** For ICMP: type and code (from the ports of v5, icmpTypeCode elements, or the sampled header). */
  icmpType: number | null;
  icmpCode: number | null;

  /** Octets and packets of the forward direction, unscaled. */
  bytes: number | null;
  packets: number | null;
  /** Reverse direction of an IPFIX biflow (RFC 5103 reverse elements), unscaled; null when not a biflow. */
  reverseBytes: number | null;
  reversePackets: number | null;
  /** 1 when unsampled or unknown; counters are multiplied by it during normalization. */
  samplingRate: number;

  /** Absolute flow start and end (unix ms), already converted from sysUptime-relative time where needed. */
  startMs: number | null;
  endMs: number | null;

  /** TCP flags (OR of all packets), low 8 bits are the classic flags. */
  tcpFlags: number | null;
  inputInterface: number | null;
  outputInterface: number | null;
  /** Interface names learnt from options data (IPFIX interfaceName / v9 IF_NAME), when known. */
  inputInterfaceName: string | null;
  outputInterfaceName: string | null;

  /**
   * Every decoded element by its snake_case name (IANA name for IPFIX and for v9 types that map to one,
   * the vendor name otherwise; unknown enterprise elements as `enterprise.<pen>.<id>` in hex). Becomes
   * `netflow.*` (v5/v9/IPFIX) or `sflow.*` (sFlow) in the document.
   */
  fields: Record<string, FieldValue>;
}

/** Creates a record with every field empty; decoders fill what they know. */
export function newFlowRecord(protocol: FlowProtocol, exporterAddress: string): FlowRecord {
  return {
    protocol,
    exporterAddress,
    sourceId: 0,
    exportTimeMs: 0,
    sysUptimeMs: null,
    sequence: 0,
    ipVersion: null,
    srcAddr: null,
    dstAddr: null,
    srcPort: null,
    dstPort: null,
    ipProtocol: null,
    icmpType: null,
    icmpCode: null,
    bytes: null,
    packets: null,
    reverseBytes: null,
    reversePackets: null,
    samplingRate: 1,
    startMs: null,
    endMs: null,
    tcpFlags: null,
    inputInterface: null,
    outputInterface: null,
    inputInterfaceName: null,
    outputInterfaceName: null,
    fields: {},
  };
}

/**
 * Why a datagram or part of it could not be decoded. Reasons are a closed set of stable snake_case words
 * because they are metric label values and test expectations.
 */
export type DecodeErrorReason =
  | 'short_datagram' // shorter than the protocol's header, or a record/sample runs past the end
  | 'unknown_version' // no decoder for the version at offset 0
  | 'protocol_disabled' // EF_PROCESSOR_DECODE_*_ENABLE=false
  | 'bad_header' // header fields that cannot be right (count 0 with data, count too large, ...)
  | 'bad_set_length' // a v9 flowset / IPFIX set whose length is < 4 or runs past the message
  | 'bad_template' // a template record that cannot be right (zero fields, field runs past the set, ...)
  | 'template_missing' // data for a template never seen, held then expired or dropped
  | 'pending_overflow' // data held for a missing template, dropped because the bound was reached
  | 'bad_record' // a data record that does not fit its template (e.g. variable length past the set)
  | 'bad_sample' // an sFlow sample or record with an impossible length
  | 'bad_packet_header'; // a sampled packet header that cannot be parsed

/** An error with the context needed to find the bad bytes again (STYLE.md §4). */
export class DecodeError extends Error {
  constructor(
    readonly reason: DecodeErrorReason,
    message: string,
    readonly context: {
      exporter?: string;
      version?: number;
      domain?: number;
      templateId?: number;
      offset?: number;
    } = {},
  ) {
    super(message);
    this.name = 'DecodeError';
  }
}

/** Counters a decoder bumps. Implemented by observability/metrics; tests read them back. */
export interface DecodeMetrics {
  /** Counts one event, e.g. `datagrams`, `records`, `templates`, `counter_samples`, by protocol. */
  count(name: string, protocol: FlowProtocol | 'unknown', n?: number): void;
  /** Counts one decode error by reason (and exporter, for the logs). */
  error(reason: DecodeErrorReason, exporter: string, protocol: FlowProtocol | 'unknown', detail: string): void;
}

/** What every decoder gets besides the bytes. */
export interface DecodeEnv {
  metrics: DecodeMetrics;
}

export type EmitRecord = (record: FlowRecord) => void;
