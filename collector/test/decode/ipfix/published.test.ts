// SPDX-License-Identifier: Apache-2.0
/**
 * IPFIX against the expectations published with the captures: akvorado (EXPECTED.json),
 * logstash-codec-netflow (EXPECTED_netflow_spec.json), telegraf (expected.out), vflow (EXPECTED.json) and
 * pmacct (nfacctd's expected output).
 */
import '../registry/ensure-generated';
import { readFileSync } from 'node:fs';
import { HAVE_SHARED, sharedPath } from '../../helpers/testdata';
import { feedAll, listFlowCaptures, newRun } from '../templates/cflow';
import { akvoradoSuite, logstashSuite, runTelegraf, telegrafFlowsMatch } from '../templates/published';

akvoradoSuite(10);
logstashSuite(10);

(HAVE_SHARED ? describe : describe.skip)('telegraf, vflow and pmacct expectations (IPFIX)', () => {
  test('telegraf ipfix_example (YAF, CERT and reverse elements): 29 flows', () => {
    telegrafFlowsMatch('ipfix_example');
  });

  test('telegraf issue_14370: zero-length flowStart/EndSeconds in the templates', () => {
    telegrafFlowsMatch('issue_14370');
    const { records } = runTelegraf('issue_14370');
    // Length-0 fields carry no value: no times.
    expect(records.map((r) => [r.startMs, r.endMs])).toEqual([
      [null, null],
      [null, null],
    ]);
  });

  test('telegraf ipfix_pen_35632 (ntop PEN 35632 elements): flows', () => {
    telegrafFlowsMatch('ipfix_pen_35632');
    const { records } = runTelegraf('ipfix_pen_35632');
    // The ntop elements are kept by PEN and id, in hex.
    expect(Object.keys(records[0].fields).filter((k) => k.startsWith('enterprise.35632.')).length).toBeGreaterThan(5);
  });

  test('vflow multiMessage: padded options template records; templates in the cache afterwards', () => {
    const exp = JSON.parse(readFileSync(sharedPath('vflow', 'EXPECTED.json'), 'utf8')).files['payloads/ipfix_decoder__multiMessage.bin'].expected;
    const run = newRun();
    const exporter = { address: '127.0.0.1', port: 4739, receivedMs: 0 };
    feedAll(run, [{ timeMs: 0, srcAddr: '127.0.0.1', srcPort: 4739, dstAddr: '', dstPort: 4739, payload: readFileSync(sharedPath('vflow', 'payloads', 'ipfix_decoder__multiMessage.bin')) }]);
    const ids = (exp.template_ids_in_cache_after_decode as number[]).filter((id) => run.env.templates.getTemplate('ipfix', exporter.address, 1, id, 0) !== undefined);
    expect(ids).toEqual(exp.template_ids_in_cache_after_decode);
  });

  test('vflow unknownDatasetMessage: no records, two data sets for template 264 waiting', () => {
    const run = newRun();
    const records = feedAll(run, [{ timeMs: 0, srcAddr: '127.0.0.1', srcPort: 4739, dstAddr: '', dstPort: 4739, payload: readFileSync(sharedPath('vflow', 'payloads', 'ipfix_decoder__unknownDatasetMessage.bin')) }]);
    expect(records).toEqual([]);
    expect(run.env.templates.pendingSize()).toBe(2);
  });

  test('pmacct 112: interface names from options data, re-assigned between exports, on the records nfacctd reports', () => {
    // The capture starts with data sets for templates that never come, then templates, options (interface
    // names per ifIndex, re-sent with other names later) and data. nfacctd's expected output: one line per
    // record here, in order, with the interface name in effect when the record arrived.
    const dir = '112-IPFIXv10-CISCO-options-map-reassignment';
    const cap = listFlowCaptures(sharedPath('pmacct', dir))[0];
    const run = newRun();
    const records = feedAll(run, cap.datagrams);
    const expected = readFileSync(sharedPath('pmacct', dir, 'output-flow-00.json'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l))
      .map((o) => [o.ip_src, o.ip_dst, o.port_src, o.port_dst, o.iface_in, o.iface_name_in, o.packets, o.bytes]);
    expect(records.map((r) => [r.srcAddr, r.dstAddr, r.srcPort, r.dstPort, r.inputInterface, r.inputInterfaceName, r.packets, r.bytes])).toEqual(expected);
  });

  test('pmacct 104: sampling from the options record of selector 1 (population 256 / size 1) scales the counters nfacctd reports', () => {
    // nfacctd (nfacctd_renormalize: true) multiplies packets and bytes by the sampling rate; its expected
    // output aggregates by (src, dst, input interface, ...).
    const dir = '104-IPFIXv10-IPv6-CISCO-sampling_option';
    const cap = listFlowCaptures(sharedPath('pmacct', dir))[0];
    const run = newRun();
    const records = feedAll(run, cap.datagrams);
    const ours = new Map<string, { packets: number; bytes: number }>();
    for (const r of records) {
      const k = `${r.srcAddr}|${r.dstAddr}|${r.inputInterface}`;
      const a = ours.get(k) ?? { packets: 0, bytes: 0 };
      a.packets += (r.packets ?? 0) * r.samplingRate;
      a.bytes += (r.bytes ?? 0) * r.samplingRate;
      ours.set(k, a);
    }
    const expected = new Map<string, { packets: number; bytes: number }>();
    for (const line of readFileSync(sharedPath('pmacct', dir, 'output-flow-00.json'), 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const o = JSON.parse(line);
      expected.set(`${o.ip_src}|${o.ip_dst}|${o.iface_in}`, { packets: o.packets, bytes: o.bytes });
    }
    expect(records.every((r) => r.samplingRate === 256)).toBe(true);
    expect(Object.fromEntries(ours)).toEqual(Object.fromEntries(expected));
  });
});
