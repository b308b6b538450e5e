// SPDX-License-Identifier: Apache-2.0
/**
 * End to end: live softflowd/pmacct exports of the known traffic into `threatflow run` (built CLI child,
 * decoding workers) with the RiskIQ threat enrichment on against a loopback HTTPS PassiveTotal (CA trusted
 * through NODE_EXTRA_CA_CERTS), into the real Elasticsearch. Documents with a listed public address carry
 * the threat fields of DESIGN.md §4 and no others do (expected values from a brute-force reference over the
 * demo blocklist read by hand); the indicator index holds the DB as ECS indicators; and indicator-match
 * style queries (a terms lookup from the indicator index, and a join over all its indicators) find exactly
 * the threat flows.
 */
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { startCollectorProcess, type CollectorProcess } from '../helpers/collector';
import { describeEs, es, uniqueId, waitFor } from '../helpers/es';
import { runPmacct, runSoftflowd, TRAFFIC_PCAP } from '../helpers/exporters';
import {
  DEMO_BLOCKLIST,
  demoEntries,
  generatorPrivate,
  randomKey,
  referenceMatch,
  startFakePassiveTotal,
  testPki,
  type FakePassiveTotal,
} from './threat-api-server';

const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const HAVE_EXPORTERS = have('softflowd') && have('pmacctd');
const INDICATORS = 'logs-ti_threatflow_latest.indicators';
const USER = 'analyst@example.com';

const CASES: Array<{ name: string; run: (port: number) => Promise<unknown>; sflow?: boolean }> = [
  { name: 'softflowd IPFIX', run: (port) => runSoftflowd(TRAFFIC_PCAP, { version: 10, port }) },
  { name: 'pmacct sFlow', run: (port) => runPmacct(TRAFFIC_PCAP, { protocol: 'sflow', port }), sflow: true },
];

/** waitFor with a label and the collector's last lines in the error, so a timeout says which wait it was. */
async function waitLabelled<T>(label: string, proc: CollectorProcess, fn: () => Promise<T | null | undefined | false>, ms: number): Promise<T> {
  try {
    return await waitFor(fn, ms);
  } catch (err) {
    throw new Error(`${label}: ${(err as Error).message}\n${proc.output().slice(-15).join('\n')}`);
  }
}

describeEs('threat enrichment: live exporters -> threatflow run -> Elasticsearch', () => {
  const key = randomKey();
  let api: FakePassiveTotal;
  const entries = demoEntries();

  beforeAll(async () => {
    api = await startFakePassiveTotal({ tls: true, user: USER, key, behaviour: { kind: 'ok', body: readFileSync(DEMO_BLOCKLIST), gzip: true } });
  });
  afterAll(async () => {
    await api?.close();
  });

  for (const c of CASES) {
    (HAVE_EXPORTERS ? it : it.skip)(`${c.name}: threat fields on exactly the flows with a listed public address`, async () => {
      const dataStream = `logs-threatflow.flows-threat${uniqueId()}`;
      let collector: CollectorProcess | null = null;
      try {
        collector = await startCollectorProcess({
          NODE_EXTRA_CA_CERTS: testPki().caFile,
          EF_OUTPUT_ELASTICSEARCH_ENABLE: 'true',
          EF_OUTPUT_ELASTICSEARCH_ADDRESSES: new URL(process.env.TF_TEST_ES_URL ?? 'http://127.0.0.1:9200').host,
          EF_OUTPUT_ELASTICSEARCH_DATA_STREAM: dataStream,
          EF_OUTPUT_ELASTICSEARCH_INDEX_TEMPLATE_REPLICAS: '0',
          EF_OUTPUT_ELASTICSEARCH_BATCH_DEADLINE: '200',
          EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_THREAT_ENABLE: 'true',
          EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_API_USER: USER,
          EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_API_KEY: key,
          EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_THREAT_ENDPOINT: api.url,
          EF_FLOW_SERVER_WORKERS: '2',
        });
        const proc = collector;
        // The DB downloads in the background after startup: wait for it before the flows.
        await waitLabelled('threat DB loaded', proc, async () => proc.output().some((l) => l.includes('RiskIQ Threats: DB successfully populated.')), 30_000);
        const msgs = proc.output().filter((l) => l.startsWith('{')).map((l) => JSON.parse(l).msg as string);
        expect(msgs.filter((m) => m.startsWith('RiskIQ Threats:'))).toEqual([
          `RiskIQ Threats: Fetching Threat DB from enrichment API at ${api.url}`,
          expect.stringMatching(/^RiskIQ Threats: received enrichment API response: \d+ bytes$/),
          'RiskIQ Threats: DB successfully populated.',
        ]);

        await c.run(proc.udpPort);
        const docs = await waitLabelled('flow documents indexed', proc, async () => {
          await es('POST', `/${dataStream}/_refresh`);
          const r = await es('POST', `/${dataStream}/_search`, { size: 2000 });
          const hits = (r.json?.hits?.hits ?? []).map((h: any) => h._source);
          // softflowd IPFIX: 24 flows; pmacct sFlow: one document per sampled packet.
          return hits.length >= (c.sflow ? 80 : 24) ? hits : null;
        }, 30_000);

        const threatDocs = new Set<any>();
        for (const d of docs) {
          const side = (ip: string) => (generatorPrivate(ip) ? null : referenceMatch(entries, ip));
          const s = side(d.source.ip);
          const t = side(d.destination.ip);
          const label = `${d.source.ip} > ${d.destination.ip}`;
          if (!s && !t) {
            expect([label, d.threat, d.sec, d.flow.src, d.flow.dst]).toEqual([label, undefined, undefined, undefined, undefined]);
            continue;
          }
          threatDocs.add(d);
          expect([label, d.sec]).toEqual([label, { threat: { name: [...new Set([...(s?.tags ?? []), ...(t?.tags ?? [])])], feed: { name: 'RiskIQ PassiveTotal' } } }]);
          expect([label, d.flow.src?.sec.threat.name, d.flow.dst?.sec.threat.name]).toEqual([label, s?.tags, t?.tags]);
          // client/server follow the document's client/server.
          const clientIsSource = d.client?.ip === d.source.ip && d.client?.port === d.source.port;
          expect([label, d.flow.client?.sec.threat.name, d.flow.server?.sec.threat.name]).toEqual([
            label,
            (clientIsSource ? s : t)?.tags,
            (clientIsSource ? t : s)?.tags,
          ]);
          const got = d.threat.enrichments.map((e: any) => [e.matched.field, e.matched.atomic, e.indicator.ip, e.indicator.description, e.indicator.confidence]);
          const want = [
            ...(s ? [['source.ip', d.source.ip, d.source.ip, s.tags.join(', '), s.confidence]] : []),
            ...(t ? [['destination.ip', d.destination.ip, d.destination.ip, t.tags.join(', '), t.confidence]] : []),
          ];
          expect([label, got]).toEqual([label, want]);
          for (const e of d.threat.enrichments) {
            expect(e.indicator.reference).toBe(`https://community.riskiq.com/research?query=${encodeURIComponent(e.indicator.ip)}`);
            expect(e.indicator.provider).toBe('RiskIQ PassiveTotal');
            expect(e.matched.type).toBe('indicator_match_rule');
          }
        }
        expect(threatDocs.size).toBeGreaterThan(5);

        // The indicator index: the DB as ECS indicators, behind the alias.
        const ind = await waitLabelled('indicator index written', proc, async () => {
          await es('POST', `/${INDICATORS}/_refresh`);
          const r = await es('POST', `/${INDICATORS}/_search`, { size: 100 });
          return r.json?.hits?.total?.value === entries.length ? r.json.hits.hits.map((h: any) => h._source) : null;
        }, 30_000);
        const byName = new Map<string, any>(ind.map((i: any) => [i.threat.indicator.name, i]));
        expect([...byName.keys()].sort()).toEqual(entries.map((e) => e.text).sort());
        expect(byName.get('45.33.32.156')).toMatchObject({
          event: { kind: 'enrichment', category: ['threat'], type: ['indicator'] },
          threat: { indicator: { ip: '45.33.32.156', type: 'ipv4-addr', provider: 'RiskIQ PassiveTotal', description: 'scanner, ssh-bruteforce', confidence: '85' } },
        });
        expect(byName.get('185.220.101.0/24').threat.indicator.ip).toBeUndefined();
        const aliased = await es('GET', `/_alias/${INDICATORS}`);
        expect(Object.keys(aliased.json)).toHaveLength(1);

        // Indicator match, 1: a join over every indicator in the index (terms on an ip field take CIDRs).
        const names = [...byName.keys()];
        const join = await es('POST', `/${dataStream}/_search`, {
          size: 2000,
          query: { bool: { should: [{ terms: { 'source.ip': names } }, { terms: { 'destination.ip': names } }], minimum_should_match: 1 } },
        });
        // Private listed addresses (10.0.0.5) match too in a raw join: the collector never looks them up.
        const joined = join.json.hits.hits.map((h: any) => h._source).filter((d: any) => !generatorPrivate(d.source.ip) || !generatorPrivate(d.destination.ip));
        const publicOnly = (d: any) =>
          (!generatorPrivate(d.source.ip) && referenceMatch(entries, d.source.ip)) || (!generatorPrivate(d.destination.ip) && referenceMatch(entries, d.destination.ip));
        expect(joined.filter(publicOnly).length).toBe(threatDocs.size);

        // Indicator match, 2: a terms lookup from the indicator index, per indicator document.
        for (const name of ['45.33.32.156', '185.220.101.0/24', '2606:4700::1111']) {
          const lookup = { index: INDICATORS, id: name, path: 'threat.indicator.name' };
          const r = await es('POST', `/${dataStream}/_search`, {
            size: 2000,
            query: { bool: { should: [{ terms: { 'source.ip': lookup } }, { terms: { 'destination.ip': lookup } }], minimum_should_match: 1 } },
          });
          const found = r.json.hits.hits.map((h: any) => h._source);
          const expected = [...threatDocs].filter((d) => d.threat.enrichments.some((e: any) => referenceMatch(entries, e.indicator.ip)?.text === name));
          expect([name, found.length]).toEqual([name, expected.length]);
          expect(found.length).toBeGreaterThan(0);
        }

        // Metrics: the DB size and the matches counted in the workers.
        // (Not settledMetrics: the DB age gauge changes every second.) Workers report every second.
        const enrichments = [...threatDocs].reduce((n, d) => n + d.threat.enrichments.length, 0);
        const matchesOf = (m: Record<string, number>) =>
          Object.entries(m).filter(([k]) => k.startsWith('threatflow_threat_matches')).reduce((n, [, v]) => n + v, 0);
        const m = await waitLabelled('match metrics', proc, async () => {
          const v = await proc.metrics();
          return matchesOf(v) >= enrichments ? v : null;
        }, 10_000);
        expect(matchesOf(m)).toBe(enrichments);
        expect(m['threatflow_threat_db_size']).toBe(entries.length);
        expect(m['threatflow_threat_db_loads_total{result="ok"}']).toBe(1);
        expect(proc.output().join('\n')).not.toContain(key);
      } finally {
        if (collector) await collector.stop();
        await es('DELETE', `/_data_stream/${dataStream}`);
      }
    }, 120_000);
  }
});
