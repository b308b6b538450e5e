// SPDX-License-Identifier: Apache-2.0
/**
 * akvorado's published expectations (../shared/testdata/akvorado/EXPECTED.json, transcribed from its Go
 * tests; AGPL-3.0 data, so read in place and not copied into fixtures): the captures of one upstream test are
 * fed in order into one env and the flows compared field by field.
 *
 * Conventions of that file: IPv4 addresses are IPv4-mapped, protocols are Go constants, SamplingRate 0
 * means unknown (ours: 1), ICMP type 0 is left out. akvorado splits an RFC 5103 biflow into a forward and
 * a reverse flow; we keep one record with reverse counters, so a reverse flow is compared with the
 * reverse side of the record before it.
 */
import { readFileSync } from 'node:fs';
import type { FlowRecord } from '../../../src/decode/types';
import { sharedPath } from '../../helpers/testdata';
import { feedAll, listFlowCaptures, newRun } from './cflow';

interface AkvoradoTest {
  test: string;
  pcaps_in_order: string[];
  expected_flow_lists: Array<{ after_reading: string | null; flows: Array<Record<string, unknown>> }>;
  compares_only_first_flow?: boolean;
}

const PROTO: Record<string, number> = { ProtoTCP: 6, ProtoUDP: 17, ProtoICMPv4: 1, ProtoICMPv6: 58, ProtoIPv4: 4 };
const ETYPE: Record<string, number> = { ETypeIPv4: 4, ETypeIPv6: 6, '2048': 4, '34525': 6 };

export function akvoradoTests(): AkvoradoTest[] {
  const d = JSON.parse(readFileSync(sharedPath('akvorado', 'EXPECTED.json'), 'utf8')) as { netflow_ipfix_tests: AkvoradoTest[] };
  return d.netflow_ipfix_tests;
}

/** Decodes the captures of one akvorado test in order into one env; returns all our records. */
export function runAkvorado(t: AkvoradoTest): FlowRecord[] {
  const byName = new Map(listFlowCaptures(sharedPath('akvorado', 'netflow')).map((c) => [c.name, c]));
  const run = newRun();
  const all: FlowRecord[] = [];
  for (const p of t.pcaps_in_order) {
    const cap = byName.get(p);
    if (!cap) throw new Error(`capture ${p} not found`);
    all.push(...feedAll(run, cap.datagrams));
  }
  if (run.crashes.length > 0) throw run.crashes[0];
  return all;
}

/** Our records as akvorado's flows: a biflow with reverse traffic becomes a forward and a reverse flow. */
export function splitBiflows(records: FlowRecord[]): Array<{ rec: FlowRecord; reverse: boolean }> {
  const out: Array<{ rec: FlowRecord; reverse: boolean }> = [];
  for (const rec of records) {
    out.push({ rec, reverse: false });
    if ((rec.reversePackets ?? 0) > 0) out.push({ rec, reverse: true });
  }
  return out;
}

const unmap = (a: unknown) => (typeof a === 'string' ? a.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1') : a);

/** Our record in akvorado's terms, for the keys the expected flow has (and we decode from IPFIX/v9 IEs). */
export function asAkvorado(r: FlowRecord, keys: string[], reverse = false): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    switch (k) {
      case 'SrcAddr':
        out[k] = reverse ? r.dstAddr : r.srcAddr;
        break;
      case 'DstAddr':
        out[k] = reverse ? r.srcAddr : r.dstAddr;
        break;
      case 'SrcPort':
        out[k] = reverse ? r.dstPort : r.srcPort;
        break;
      case 'DstPort':
        out[k] = reverse ? r.srcPort : r.dstPort;
        break;
      case 'InIf':
        out[k] = (reverse ? r.outputInterface : r.inputInterface) ?? 0;
        break;
      case 'OutIf':
        out[k] = (reverse ? r.inputInterface : r.outputInterface) ?? 0;
        break;
      case 'Bytes':
        out[k] = reverse ? r.reverseBytes : r.bytes;
        break;
      case 'Packets':
        out[k] = reverse ? r.reversePackets : r.packets;
        break;
      case 'Proto':
        out[k] = r.ipProtocol;
        break;
      case 'EType':
        out[k] = r.ipVersion;
        break;
      case 'SamplingRate':
        out[k] = r.samplingRate;
        break;
      case 'TCPFlags':
        out[k] = r.tcpFlags ?? 0;
        break;
      case 'ICMPv4Type':
      case 'ICMPv6Type':
        out[k] = r.icmpType ?? 0;
        break;
      case 'SrcAddrNAT':
        out[k] = r.fields.post_nat_source_ipv4_address;
        break;
      case 'DstAddrNAT':
        out[k] = r.fields.post_nat_destination_ipv4_address;
        break;
      case 'SrcPortNAT':
        out[k] = r.fields.post_napt_source_transport_port;
        break;
      case 'DstPortNAT':
        out[k] = r.fields.post_napt_destination_transport_port;
        break;
      case 'SrcVlan':
        out[k] = r.fields.vlan_id ?? r.fields.dot1q_vlan_id;
        break;
      case 'IngressVRFID':
        out[k] = r.fields.ingress_vrfid;
        break;
      case 'EgressVRFID':
        out[k] = r.fields.egress_vrfid;
        break;
      default:
        break;
    }
  }
  return out;
}

/** akvorado's expected flow reduced to the keys `asAkvorado` knows, in our units. */
export function expectedAkvorado(f: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    let v = f[k];
    if (k === 'Proto') v = PROTO[String(v)];
    else if (k === 'EType') v = ETYPE[String(v)];
    else if (k === 'SamplingRate') v = v === 0 ? 1 : v;
    else if (k.endsWith('Addr') || k.endsWith('AddrNAT')) v = unmap(v);
    out[k] = v ?? 0;
  }
  return out;
}

/** The keys of an expected flow we compare (decoded from information elements, not from sampled headers). */
export const COMPARABLE = [
  'SrcAddr',
  'DstAddr',
  'SrcPort',
  'DstPort',
  'InIf',
  'OutIf',
  'Bytes',
  'Packets',
  'Proto',
  'EType',
  'SamplingRate',
  'TCPFlags',
  'ICMPv4Type',
  'ICMPv6Type',
  'SrcAddrNAT',
  'DstAddrNAT',
  'SrcPortNAT',
  'DstPortNAT',
  'SrcVlan',
  'IngressVRFID',
  'EgressVRFID',
];
