// SPDX-License-Identifier: Apache-2.0
/**
 * getThreats at scale, on the embedded Elasticsearch: more indicators than MAX_INDICATORS, each with three
 * internal hosts and two directions. A single search with tags, directions and the host sample under every
 * indicator bucket asks for about eight buckets per indicator (1 terms + 1 tag + 2 directions + 4 related.ip
 * values), some 80,000 for the 10,000 ranked ones: past Elasticsearch's default `search.max_buckets`
 * (65,536), so that search fails with "Too many buckets". getThreats must answer, say `truncated`, and get
 * the totals and the first page right.
 *
 * The documents are synthetic but shaped like the collector's (fixture.ts Doc: locality, related.ip,
 * threat.enrichments with matched.atomic/field and indicator.description, sec.threat.name), indexed in one
 * _bulk into a data stream with the collector's own flows mapping. Expected values are computed here from
 * the same documents (fixture.ts expectedThreats), independently of the aggregations.
 */
import { Client } from '@elastic/elasticsearch';
import { ES_URL, describeEs } from '../../../collector/test/helpers/es';
import { MAX_INDICATORS, type ThreatRow, type ThreatsQuery } from '../../common';
import { getThreats, type ThreatflowEsOptions } from '../../server/lib';
import { LAUNCH, expectedOrder, expectedThreats, loadFlows, type Doc, type Range } from './fixture';

const INDICATORS = MAX_INDICATORS + 50;
const HOST_POOL = 900;
const BASE = Date.parse('2026-02-01T00:00:00Z');
const RANGE: Range = { from: '2026-02-01T00:00:00Z', to: '2026-03-01T00:00:00Z' };

const indicatorIp = (i: number) => `45.${10 + (i >> 8)}.${i & 255}.1`;
const hostIp = (j: number) => `10.20.${j >> 8}.${j & 255}`;

/** Indicator i: three flows with three hosts (outbound, inbound, outbound), a fourth for every 7th. */
function syntheticDocs(): Doc[] {
  const docs: Doc[] = [];
  for (let i = 0; i < INDICATORS; i++) {
    const indicator = indicatorIp(i);
    const tags = i % 3 === 0 ? 'scanner, ssh-bruteforce' : 'botnet';
    const flows = i % 7 === 0 ? 4 : 3;
    for (let k = 0; k < flows; k++) {
      const host = hostIp((i * 3 + (k % 3)) % HOST_POOL);
      const outbound = k % 2 === 0;
      const inside = { ip: host, port: 40000 + k, locality: 'private' };
      const outside = { ip: indicator, port: 443, locality: 'public' };
      docs.push({
        '@timestamp': BASE + i * 60_000 + k * 1000,
        source: outbound ? inside : outside,
        destination: outbound ? outside : inside,
        network: { bytes: 100 + ((i * 37 + k * 11) % 1000), packets: 2 + k, direction: outbound ? 'outbound' : 'inbound', transport: 'tcp' },
        related: { ip: [outbound ? host : indicator, outbound ? indicator : host] },
        sec: { threat: { name: tags.split(', ') } },
        threat: { enrichments: [{ matched: { atomic: indicator, field: outbound ? 'destination.ip' : 'source.ip' }, indicator: { description: tags } }] },
      });
    }
  }
  return docs;
}

/** A row with its host sample in a fixed order (ties in host flow counts have no defined order). */
const normalized = (r: ThreatRow): ThreatRow => ({ ...r, internalHostSample: [...r.internalHostSample].sort() });

describeEs('server/lib getThreats with more indicators than MAX_INDICATORS', () => {
  let docs: Doc[];
  let client: Client;
  let opts: ThreatflowEsOptions;
  let drop: () => Promise<void> = async () => undefined;

  const threats = (extra: Partial<ThreatsQuery> = {}) => getThreats(client, { ...RANGE, page: 0, perPage: 100, sortField: 'flows', sortDirection: 'desc', ...extra }, opts);

  beforeAll(async () => {
    docs = syntheticDocs();
    const loaded = await loadFlows(docs);
    drop = loaded.drop;
    client = new Client({ node: ES_URL, requestTimeout: 120_000 });
    opts = { flowsIndex: loaded.dataStream, indicatorsIndex: `${loaded.dataStream}-no-indicators`, launchUrlTemplate: LAUNCH };
  }, 300_000);

  afterAll(async () => {
    await drop();
    await client?.close();
  });

  it('answers without "Too many buckets", says truncated, and gets totals and first pages right', async () => {
    const want = expectedThreats(docs, RANGE);
    expect(want.rows).toHaveLength(INDICATORS);
    // Every indicator has three internal hosts and both directions: the data the old single search choked on.
    expect(want.rows.every((r) => r.internalHosts === 3 && Object.keys(r.directions).length === 2)).toBe(true);

    const got = await threats();
    expect(got.truncated).toBe(true);
    // Flows and bytes are exact; the distinct counts come from cardinality aggregations, which at this size
    // (10,950 distinct related.ip values) estimate their hash collisions: within 0.1% (several standard
    // errors), never below the ranked buckets.
    expect(want.totals).toMatchObject({ indicators: INDICATORS, internalHosts: HOST_POOL });
    expect({ ...got.totals, indicators: 0, internalHosts: 0 }).toEqual({ ...want.totals, indicators: 0, internalHosts: 0 });
    expect(got.totals.indicators).toBeGreaterThanOrEqual(MAX_INDICATORS);
    expect(Math.abs(got.totals.indicators - INDICATORS)).toBeLessThanOrEqual(INDICATORS * 0.001);
    expect(Math.abs(got.totals.internalHosts - HOST_POOL)).toBeLessThanOrEqual((INDICATORS + HOST_POOL) * 0.001);

    // Busiest first: the 4-flow indicators, ties by indicator ascending.
    const byIp = new Map(want.rows.map((r) => [r.indicator, r]));
    const firstPage = expectedOrder(want.rows, 'flows', 'desc').slice(0, 100);
    expect(got.threats.map((t) => t.indicator)).toEqual(firstPage);
    expect(got.threats.map(normalized)).toEqual(firstPage.map((ip) => normalized(byIp.get(ip)!)));

    // Another sort over the same ranked set; the ranking keeps the MAX_INDICATORS busiest (ties: indicator
    // ascending), so the 50 indicators left out are 3-flow ones with the largest addresses.
    const ranked = new Set(expectedOrder(want.rows, 'flows', 'desc').slice(0, MAX_INDICATORS));
    const rankedRows = want.rows.filter((r) => ranked.has(r.indicator));
    for (const [sortField, sortDirection, page] of [
      ['bytes', 'desc', 0],
      ['indicator', 'desc', 0],
      ['lastSeen', 'asc', 3],
    ] as const) {
      const res = await threats({ sortField, sortDirection, page, perPage: 50 });
      const ips = expectedOrder(rankedRows, sortField, sortDirection).slice(page * 50, page * 50 + 50);
      expect([sortField, res.threats.map(normalized)]).toEqual([sortField, ips.map((ip) => normalized(byIp.get(ip)!))]);
    }
  }, 240_000);
});
