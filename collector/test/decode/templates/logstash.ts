// SPDX-License-Identifier: Apache-2.0
/**
 * logstash-codec-netflow's published expectations (EXPECTED_netflow_spec.json, transcribed from its
 * spec/codecs/netflow_spec.rb): for each spec context the .dat payloads are fed in order into one env, one
 * datagram each, as the spec does.
 *
 * How its events line up with ours: Logstash emits one event per data record, options records included; we
 * emit flow records and only count options records. Within a datagram the options sets of these captures
 * come before the data sets, so our event list is rebuilt per datagram as (options placeholders, flows).
 *
 * Field names: IPFIX events use IANA camelCase names (ours: the snake_case of the same element) and vendor
 * names for enterprise elements (ours: enterprise.<pen>.<id>, not compared); v9 events use the lower-case
 * RFC 3954 names (in_bytes, ipv4_src_addr, ...), which map to the v9 field types of our registry. Logstash
 * renders times as ISO text; they are compared as unix ms.
 */
import { readFileSync } from 'node:fs';
import type { FieldValue, FlowRecord } from '../../../src/decode/types';
import { lookupIpfix, lookupV9 } from '../../../src/decode/registry';
import { V9_FIELD_TYPES } from '../../../src/decode/registry/generated';
import { sharedPath } from '../../helpers/testdata';
import { feed, newRun, type Run } from './cflow';

export interface LogstashCase {
  context: string;
  inputs: string[];
  event_count: number | null;
  field_checks: Array<{ event_index: number; field: string; value: unknown }>;
  whole_event_checks: Array<{ event_index: number; json_event: number }>;
  must_not_raise: boolean;
  json_events: Array<{ netflow?: Record<string, unknown> }> | Record<string, unknown> | null;
}

export function logstashCases(): LogstashCase[] {
  const d = JSON.parse(readFileSync(sharedPath('logstash-codec-netflow', 'EXPECTED_netflow_spec.json'), 'utf8')) as { cases: LogstashCase[] };
  return d.cases;
}

export function versionOf(c: LogstashCase): number {
  return readFileSync(sharedPath('logstash-codec-netflow', 'dat', c.inputs[0])).readUInt16BE(0);
}

/** One event of ours: a flow record, or an options record we only counted. */
export type OurEvent = FlowRecord | 'options';

export function runLogstash(c: LogstashCase): { run: Run; events: OurEvent[] } {
  const run = newRun();
  const events: OurEvent[] = [];
  const exporter = { address: '127.0.0.1', port: 2055, receivedMs: 1_500_000_000_000 };
  for (const f of c.inputs) {
    const before = run.metrics.sum('options_records');
    const flows = feed(run, readFileSync(sharedPath('logstash-codec-netflow', 'dat', f)), exporter);
    const options = run.metrics.sum('options_records') - before;
    for (let i = 0; i < options; i++) events.push('options');
    events.push(...flows);
  }
  return { run, events };
}

const IPFIX_SNAKE = new Map<string, string>();
for (let id = 1; id < 1024; id++) {
  const e = lookupIpfix(id);
  if (e.known) {
    IPFIX_SNAKE.set(e.name, e.snake);
    IPFIX_SNAKE.set(`reverse${e.name[0].toUpperCase()}${e.name.slice(1)}`, `reverse_${e.snake}`);
  }
}
/**
 * Logstash's v9 names are mostly RFC 3954's in lower case, but not always the same element: its `icmp_type`
 * is ASA's icmpTypeIPv4 (176) as well as ICMP_TYPE (32), `conn_id` is flowId, ... So only the names whose
 * meaning is unambiguous are compared, through our v9 table.
 */
const V9_NAMES = [
  'in_bytes', 'in_pkts', 'protocol', 'tcp_flags', 'l4_src_port', 'l4_dst_port', 'ipv4_src_addr', 'ipv4_dst_addr',
  'ipv6_src_addr', 'ipv6_dst_addr', 'src_mask', 'dst_mask', 'input_snmp', 'output_snmp', 'ipv4_next_hop', 'src_as',
  'dst_as', 'ipv6_src_mask', 'ipv6_dst_mask', 'direction', 'ip_protocol_version', 'sampling_interval',
  'sampling_algorithm', 'src_vlan', 'dst_vlan', 'in_src_mac', 'out_dst_mac', 'in_dst_mac', 'out_src_mac',
];
const V9_SNAKE = new Map<string, string>();
for (const [id, , , , v9name] of V9_FIELD_TYPES) {
  const n = v9name.toLowerCase();
  if (V9_NAMES.includes(n)) V9_SNAKE.set(n, lookupV9(id).snake);
}

/** ISO text with any number of fraction digits -> unix ms (floored); NaN when not a time. */
function isoMs(s: string): number {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(s);
  if (!m) return NaN;
  return Date.parse(`${m[1]}Z`) + Math.floor(Number((m[2] ?? '0').padEnd(3, '0').slice(0, 3)));
}

/**
 * The value we have for a Logstash field, or undefined when we cannot say (a vendor name, a Logstash-only
 * field such as flowset_id). Returned with the expected value normalised to our representation.
 */
export function ourValue(rec: FlowRecord, name: string, expected: unknown, version: number): { ours: unknown; expected: unknown } | undefined {
  if (name === 'version' || name === 'flow_seq_num' || name === 'flowset_id') return undefined;
  // Logstash's v9 first_switched/last_switched are one second later than exportTime - sysUptime +
  // switched, which tshark, telegraf and goflow2 (and we) compute; they are not compared here (the tshark
  // walk and the telegraf/goflow2 tests cover v9 times).
  if (version === 9 && (name === 'first_switched' || name === 'last_switched')) return undefined;
  const snake = version === 10 ? IPFIX_SNAKE.get(name) : V9_SNAKE.get(name);
  if (snake === undefined) return undefined;
  const v: FieldValue | undefined = rec.fields[snake];
  if (typeof expected === 'string' && /^\d{4}-\d\d-\d\dT/.test(expected)) {
    const ms = isoMs(expected);
    if (ms !== ms) return undefined; // Logstash's own placeholder text ("#{nanos}")
    return { ours: v, expected: ms };
  }
  if (typeof expected === 'object') return undefined; // Logstash sub-objects (forwarding_status)
  return { ours: v, expected };
}
