// SPDX-License-Identifier: Apache-2.0
/**
 * getDbStatus against the embedded Elasticsearch, on an indicator index built the way the collector builds
 * it (collector/src/enrich/riskiq-threat/indicators.ts): the demo blocklist parsed and built into a threat
 * DB, one `indicatorDocument()` per entry (its `@timestamp` is the fetch time), the collector's
 * `indicatorMappings()` with `_meta.fetched_at` (not read: it would need view_index_metadata), behind an alias. The collector's IndicatorIndex writes only its fixed alias, so the same steps are done
 * here under a unique one.
 */
import { readFileSync } from 'node:fs';
import { Client } from '@elastic/elasticsearch';
import { ES_URL, describeEs, es, uniqueId } from '../../../collector/test/helpers/es';
import { parseBlocklist } from '../../../collector/src/enrich/riskiq-threat/parse';
import { buildThreatDb } from '../../../collector/src/enrich/riskiq-threat/build';
import { ThreatDb } from '../../../collector/src/enrich/riskiq-threat/lookup';
import type { ThreatEntry } from '../../../collector/src/enrich/riskiq-threat/types';
import { indicatorDocument, indicatorMappings, indicatorName } from '../../../collector/src/enrich/riskiq-threat/indicators';
import { getDbStatus } from '../../server/lib';
import { BLOCKLIST, LAUNCH } from './fixture';

describeEs('server/lib getDbStatus on the embedded Elasticsearch', () => {
  const id = uniqueId();
  const alias = `tftest-kp-indicators-${id}`;
  const fetchedAt = Date.parse('2026-03-01T12:00:00.000Z');
  const index = `${alias}-${fetchedAt}-1`;
  let client: Client;
  let entries: ThreatEntry[];

  beforeAll(async () => {
    client = new Client({ node: ES_URL });
    const parsed = parseBlocklist(readFileSync(BLOCKLIST));
    const db = ThreatDb.fromData(buildThreatDb(parsed.entries, { fetchedAt, source: BLOCKLIST }));
    entries = [...db.entries()];
    const put = await es('PUT', `/${index}`, {
      settings: { index: { number_of_shards: 1, number_of_replicas: 0 } },
      mappings: { ...indicatorMappings(), _meta: { fetched_at: fetchedAt, source: BLOCKLIST, entries: entries.length } },
    });
    expect(put.status).toBe(200);
    const body = entries.map((e) => `${JSON.stringify({ index: { _id: indicatorName(e) } })}\n${JSON.stringify(indicatorDocument(e, fetchedAt, LAUNCH))}\n`).join('');
    const bulk = await es('POST', `/${index}/_bulk?refresh=true&filter_path=errors`, body);
    expect(bulk.json).toEqual({ errors: false });
    expect((await es('POST', '/_aliases', { actions: [{ add: { index, alias } }] })).status).toBe(200);
  });

  afterAll(async () => {
    await es('DELETE', `/${index}`);
    await client?.close();
  });

  const opts = (indicatorsIndex: string) => ({ flowsIndex: 'logs-threatflow.flows-*', indicatorsIndex, launchUrlTemplate: LAUNCH });

  it('reports size, types, age and feed of the DB behind the alias', async () => {
    const byType: Record<string, number> = {};
    for (const e of entries) {
      const t = e.family === 4 ? 'ipv4-addr' : 'ipv6-addr';
      byType[t] = (byType[t] ?? 0) + 1;
    }
    // The demo blocklist: 9 entries, 7 IPv4 and 2 IPv6.
    expect(entries.length).toBe(9);
    const got = await getDbStatus(client, opts(alias), undefined, fetchedAt + 90_500);
    expect(got).toEqual({
      present: true,
      index,
      indicators: entries.length,
      byType,
      fetchedAt: '2026-03-01T12:00:00.000Z',
      ageSeconds: 90,
      feed: 'RiskIQ PassiveTotal',
    });
    expect(byType).toEqual({ 'ipv4-addr': 7, 'ipv6-addr': 2 });
  });

  it('reads the concrete index too, and never reports a negative age', async () => {
    const got = await getDbStatus(client, opts(index), undefined, fetchedAt - 5_000);
    expect([got.present, got.index, got.ageSeconds]).toEqual([true, index, 0]);
  });

  it('says present=false for a missing alias instead of failing', async () => {
    const got = await getDbStatus(client, opts(`tftest-kp-missing-${id}`));
    expect(got).toEqual({ present: false, index: null, indicators: 0, byType: {}, fetchedAt: null, ageSeconds: null, feed: 'RiskIQ PassiveTotal' });
    // A wildcard that matches nothing is the same state.
    expect((await getDbStatus(client, opts(`tftest-kp-missing-${id}-*`))).present).toBe(false);
  });

  it('needs only search (read privileges): no mapping or other index metadata is read', async () => {
    // A read-only analyst role has no view_index_metadata: indices.getMapping would be a 403 there.
    const readOnly = { search: client.search.bind(client), transport: client.transport } as unknown as Client;
    const got = await getDbStatus(readOnly, opts(alias), undefined, fetchedAt + 60_000);
    expect([got.present, got.index, got.indicators, got.fetchedAt, got.ageSeconds]).toEqual([true, index, entries.length, '2026-03-01T12:00:00.000Z', 60]);
  });

  it('reads the fetch time from the documents, with no _meta in the mapping', async () => {
    const bare = `tftest-kp-bare-${id}`;
    try {
      expect((await es('PUT', `/${bare}`, { settings: { index: { number_of_replicas: 0 } }, mappings: indicatorMappings() })).status).toBe(200);
      const doc = indicatorDocument(entries[0], fetchedAt, LAUNCH);
      expect((await es('POST', `/${bare}/_doc?refresh=true`, doc)).status).toBe(201);
      const got = await getDbStatus(client, opts(bare), undefined, fetchedAt + 60_000);
      expect([got.present, got.index, got.indicators, got.fetchedAt, got.ageSeconds]).toEqual([true, bare, 1, '2026-03-01T12:00:00.000Z', 60]);
    } finally {
      await es('DELETE', `/${bare}`);
    }
  });

  it('reports the newest DB when an alias points at two', async () => {
    const older = `${alias}-older`;
    const olderAt = fetchedAt - 86_400_000;
    const twoAlias = `${alias}-two`;
    try {
      expect((await es('PUT', `/${older}`, { settings: { index: { number_of_replicas: 0 } }, mappings: indicatorMappings() })).status).toBe(200);
      const body = entries.slice(0, 3).map((e) => `${JSON.stringify({ index: {} })}\n${JSON.stringify(indicatorDocument(e, olderAt, LAUNCH))}\n`).join('');
      expect((await es('POST', `/${older}/_bulk?refresh=true&filter_path=errors`, body)).json).toEqual({ errors: false });
      expect((await es('POST', '/_aliases', { actions: [{ add: { index: older, alias: twoAlias } }, { add: { index, alias: twoAlias } }] })).status).toBe(200);
      const got = await getDbStatus(client, opts(twoAlias), undefined, fetchedAt);
      expect([got.index, got.indicators, got.fetchedAt]).toEqual([index, entries.length, '2026-03-01T12:00:00.000Z']);
    } finally {
      await es('DELETE', `/${older}`);
      await es('DELETE', `/${index}/_alias/${twoAlias}`);
    }
  });
});
