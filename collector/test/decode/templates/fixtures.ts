// SPDX-License-Identifier: Apache-2.0
/**
 * The v9 / IPFIX captures we ship in collector/test/fixtures (licences in their README.md), checked against
 * the counts published upstream (EXPECTED.json there) and, when tshark is installed, record by record
 * against tshark. These run without ../shared/testdata.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../../helpers/testdata';
import { feedAll, haveTshark, listFlowCaptures, newRun } from './cflow';
import { compareCapture } from './compare';

interface FixtureExpectation {
  records?: number;
  options_records?: number;
  templates_in_cache?: { domain: number; ids: number[] };
}

/** Fixtures where tshark 4.0 decodes less than we do (see walk.ts for the reasons). */
const TSHARK_DISAGREES = new Set(['logstash-netflow_9_h3c.pcap', 'vflow-ipfix_tpl_then_multiMessage.pcap']);

export function fixtureSuite(proto: 'netflow9' | 'ipfix'): void {
  const dir = join(FIXTURES, proto);
  const expected = (JSON.parse(readFileSync(join(dir, 'EXPECTED.json'), 'utf8')) as { files: Record<string, FixtureExpectation> }).files;
  const captures = listFlowCaptures(dir);
  const tshark = haveTshark();

  describe(`${proto} fixtures`, () => {
    test('every fixture has an expectation', () => {
      expect(captures.map((c) => c.name).sort()).toEqual(Object.keys(expected).sort());
    });

    test.each(captures.map((c) => [c.name, c] as const))('%s', (name, cap) => {
      const run = newRun();
      const records = feedAll(run, cap.datagrams);
      expect(run.crashes).toEqual([]);
      const e = expected[name];
      if (e.records !== undefined) expect(records.length).toBe(e.records);
      if (e.options_records !== undefined) expect(run.metrics.sum('options_records')).toBe(e.options_records);
      if (e.templates_in_cache) {
        const { domain, ids } = e.templates_in_cache;
        const address = cap.datagrams[0].srcAddr;
        expect(ids.filter((id) => run.env.templates.getTemplate(proto, address, domain, id, 0) !== undefined)).toEqual(ids);
      }
      if (tshark) {
        const c = compareCapture(cap);
        if (TSHARK_DISAGREES.has(name)) expect(c.matched).toBe(c.tsharkRecords);
        else expect(c.mismatches).toEqual([]);
      }
    });
  });
}
