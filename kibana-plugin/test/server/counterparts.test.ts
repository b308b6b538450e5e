// SPDX-License-Identifier: Apache-2.0
/**
 * getFlows' counterpart cap on the embedded Elasticsearch: at most MAX_COUNTERPARTS are listed, and
 * `counterpartsTruncated` says when there were more; internal hosts never get a launch link. Synthetic
 * documents shaped like the collector's (fixture.ts Doc), in a data stream with the collector's mapping:
 *
 * - indicator 45.1.0.1 talked to MAX_COUNTERPARTS + 1 internal hosts, 45.1.0.2 to exactly MAX_COUNTERPARTS;
 * - internal host 10.40.0.1 talked to MAX_COUNTERPARTS + 1 indicators, 10.40.0.2 to exactly MAX_COUNTERPARTS.
 */
import { Client } from '@elastic/elasticsearch';
import { ES_URL, describeEs } from '../../../collector/test/helpers/es';
import { getFlows, MAX_COUNTERPARTS, type ThreatflowEsOptions } from '../../server/lib';
import { LAUNCH, loadFlows, type Doc, type Range } from './fixture';

const RANGE: Range = { from: '2026-04-01T00:00:00Z', to: '2026-04-02T00:00:00Z' };
const T0 = Date.parse(RANGE.from);

/** One outbound threat flow from internal `host` to indicator `indicator`. */
function flow(host: string, indicator: string, n: number): Doc {
  return {
    '@timestamp': T0 + n * 1000,
    source: { ip: host, port: 40000, locality: 'private' },
    destination: { ip: indicator, port: 443, locality: 'public' },
    network: { bytes: 100 + n, packets: 2, direction: 'outbound', transport: 'tcp' },
    related: { ip: [host, indicator] },
    sec: { threat: { name: ['botnet'] } },
    threat: { enrichments: [{ matched: { atomic: indicator, field: 'destination.ip' }, indicator: { description: 'botnet' } }] },
  };
}

describeEs('server/lib getFlows counterpart cap', () => {
  let client: Client;
  let opts: ThreatflowEsOptions;
  let drop: () => Promise<void> = async () => undefined;

  beforeAll(async () => {
    const docs: Doc[] = [];
    let n = 0;
    for (let h = 1; h <= MAX_COUNTERPARTS + 1; h++) docs.push(flow(`10.30.0.${h}`, '45.1.0.1', n++));
    for (let h = 1; h <= MAX_COUNTERPARTS; h++) docs.push(flow(`10.31.0.${h}`, '45.1.0.2', n++));
    for (let i = 1; i <= MAX_COUNTERPARTS + 1; i++) docs.push(flow('10.40.0.1', `45.2.0.${i}`, n++));
    for (let i = 1; i <= MAX_COUNTERPARTS; i++) docs.push(flow('10.40.0.2', `45.3.0.${i}`, n++));
    const loaded = await loadFlows(docs);
    drop = loaded.drop;
    client = new Client({ node: ES_URL });
    opts = { flowsIndex: loaded.dataStream, indicatorsIndex: `${loaded.dataStream}-none`, launchUrlTemplate: LAUNCH };
  }, 120_000);

  afterAll(async () => {
    await drop();
    await client?.close();
  });

  const flows = (ip: string, role: 'indicator' | 'host') => getFlows(client, { ...RANGE, ip, role, size: 10 }, opts);

  it('caps an indicator\'s internal hosts and says so; hosts get no launch link', async () => {
    const over = await flows('45.1.0.1', 'indicator');
    expect([over.total, over.counterparts.length, over.counterpartsTruncated]).toEqual([MAX_COUNTERPARTS + 1, MAX_COUNTERPARTS, true]);
    expect(over.counterparts.every((c) => /^10\.30\.0\.\d+$/.test(c.ip) && c.flows === 1 && c.launchUrl === null)).toBe(true);
    expect(over.launchUrl).toBe('https://community.riskiq.com/research?query=45.1.0.1');
    const exact = await flows('45.1.0.2', 'indicator');
    expect([exact.total, exact.counterparts.length, exact.counterpartsTruncated]).toEqual([MAX_COUNTERPARTS, MAX_COUNTERPARTS, false]);
  });

  it('caps an internal host\'s indicators and says so; indicators keep their links, the host has none', async () => {
    const over = await flows('10.40.0.1', 'host');
    expect([over.total, over.counterparts.length, over.counterpartsTruncated, over.launchUrl]).toEqual([MAX_COUNTERPARTS + 1, MAX_COUNTERPARTS, true, null]);
    for (const c of over.counterparts) expect(c.launchUrl).toBe(`https://community.riskiq.com/research?query=${c.ip}`);
    const exact = await flows('10.40.0.2', 'host');
    expect([exact.total, exact.counterparts.length, exact.counterpartsTruncated]).toEqual([MAX_COUNTERPARTS, MAX_COUNTERPARTS, false]);
  });
});
