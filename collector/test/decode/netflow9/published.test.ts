// SPDX-License-Identifier: Apache-2.0
/**
 * NetFlow v9 against the expectations published with the captures: akvorado (EXPECTED.json),
 * logstash-codec-netflow (EXPECTED_netflow_spec.json), telegraf (expected.out), goflow2 (EXPECTED.json).
 */
import '../registry/ensure-generated';
import { readFileSync } from 'node:fs';
import { HAVE_SHARED, sharedPath } from '../../helpers/testdata';
import { feed, newRun } from '../templates/cflow';
import { akvoradoSuite, logstashSuite, runTelegraf, telegrafFlowsMatch } from '../templates/published';

akvoradoSuite(9);
logstashSuite(9);

(HAVE_SHARED ? describe : describe.skip)('telegraf and goflow2 expectations (NetFlow v9)', () => {
  test('telegraf netflow_v9_example: addresses, ports, counters, start/end from FIRST/LAST_SWITCHED', () => {
    telegrafFlowsMatch('netflow_v9_example');
  });

  test('telegraf netflow_v9_options: interface names learnt from options data', () => {
    const { run, lines, exporter } = runTelegraf('netflow_v9_options');
    const names = run.env.templates.domain('netflow9', exporter.address, 6)!.interfaceNames;
    const expected = lines.map((l) => [l.fields.in_snmp, l.fields.interface]);
    expect(expected).toHaveLength(8);
    expect([...names].sort((a, b) => a[0] - b[0])).toEqual(expected);
  });

  test('goflow2 TestDecodeNetFlowV9: first record of template 260 (source id 256)', () => {
    const exp = JSON.parse(readFileSync(sharedPath('goflow2', 'EXPECTED.json'), 'utf8')).files['payloads/netflow_netflow__TestDecodeNetFlowV9__data.bin'].expected;
    const run = newRun();
    const exporter = { address: '127.0.0.1', port: 2055, receivedMs: 0 };
    feed(run, readFileSync(sharedPath('goflow2', 'payloads', 'netflow_netflow__TestDecodeNetFlowV9__template.bin')), exporter);
    const out = feed(run, readFileSync(sharedPath('goflow2', 'payloads', 'netflow_netflow__TestDecodeNetFlowV9__data.bin')), exporter);
    expect(out).toHaveLength(21); // the payload holds 21 records (tshark agrees); goflow2 checks the first
    const r = out[0];
    const f = exp.first_record;
    expect([r.sourceId, r.sequence, r.sysUptimeMs, r.exportTimeMs]).toEqual([exp.source_id, exp.sequence, exp.sys_uptime, exp.unix_secs * 1000]);
    expect([r.packets, r.bytes, r.srcAddr, r.dstAddr, r.inputInterface, r.outputInterface]).toEqual([
      f['IN_PKTS(2)'],
      f['IN_BYTES(1)'],
      f['IPV4_SRC_ADDR(8)'],
      f['IPV4_DST_ADDR(12)'],
      f['INPUT_SNMP(10)'],
      f['OUTPUT_SNMP(14)'],
    ]);
    expect([r.srcPort, r.dstPort, r.ipProtocol, r.tcpFlags]).toEqual([f['L4_SRC_PORT(7)'], f['L4_DST_PORT(11)'], f['PROTOCOL(4)'], f['TCP_FLAGS(6)']]);
    expect(r.fields).toMatchObject({
      flow_end_sys_up_time: f['LAST_SWITCHED(21)'],
      flow_start_sys_up_time: f['FIRST_SWITCHED(22)'],
      bgp_next_hop_ipv4_address: f['BGP_IPV4_NEXT_HOP(18)'],
      source_ipv4_prefix_length: f['SRC_MASK(9)'],
      destination_ipv4_prefix_length: f['DST_MASK(13)'],
      flow_direction: f['DIRECTION(61)'],
      forwarding_status: f['FORWARDING_STATUS(89)'],
      sampler_id: f['FLOW_SAMPLER_ID(48)'],
      ingress_vrfid: f['type234(ingressVRFID)'],
      egress_vrfid: f['type235(egressVRFID)'],
    });
    // abs = exportTime - sysUptime + switched.
    expect(r.startMs).toBe(exp.unix_secs * 1000 - exp.sys_uptime + f['FIRST_SWITCHED(22)']);
  });
});
