// SPDX-License-Identifier: Apache-2.0
/**
 * detection-rules/threatflow-rules-8.14.ndjson (Elastic Security rule import format): required fields per
 * rule type, KQL field names mapped, threat_match fields in both the flows and the indicator mappings, one
 * ML rule per job id of the README contract; and, on the real embedded Elasticsearch, each query rule's
 * query written by hand as query DSL runs as a search on `logs-threatflow.flows-*` and matches exactly the
 * documents the rule is about.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { newFlowRecord, type FlowRecord } from '../../src/decode/types';
import { serializeDocument } from '../../src/pipeline/ecs';
import { createNormalizer } from '../../src/pipeline/normalize';
import { FLOWS_INDEX_PATTERN, flowsMappingsComponent, resolveFlowsField } from '../../src/output/elasticsearch/assets';
import { INDICATOR_ALIAS, indicatorMappings } from '../../src/enrich/riskiq-threat/indicators';
import { describeEs, es, uniqueId } from '../helpers/es';
import { conformingPath, unexpectedFailures, kqlFields, kqlMatches, parseKql } from './dashboards-kql.test';

const DIR = join(__dirname, '..', '..', '..', 'detection-rules');
const text = readFileSync(join(DIR, 'threatflow-rules-8.14.ndjson'), 'utf8');
const rules = text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, any>);
const ofType = (t: string): Array<Record<string, any>> => rules.filter((r) => r.type === t);

const ML_JOB_IDS = [
  'threatflow_threat_activity_internal_host',
  'threatflow_rare_threat_counterpart',
  'threatflow_port_scan',
  'threatflow_icmp_sweep',
  'threatflow_brute_force_ssh_rdp_vnc',
  'threatflow_syn_flood',
  'threatflow_udp_amplification',
  'threatflow_exfiltration_outbound_bytes',
];

/** Leaf type of a dotted path in a plain `properties` mapping (the indicator index). */
function typeIn(mapping: Record<string, any>, path: string): string | undefined {
  let props = mapping.properties as Record<string, any> | undefined;
  const parts = path.split('.');
  for (let i = 0; i < parts.length; i++) {
    const m = props?.[parts[i]];
    if (!m) return undefined;
    if (i === parts.length - 1) return m.properties ? undefined : m.type;
    props = m.properties;
  }
  return undefined;
}

const SEVERITY = ['low', 'medium', 'high', 'critical'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('detection rules (detection-rules/threatflow-rules-8.14.ndjson)', () => {
  it('is NDJSON with one rule per line and unique rule ids and names', () => {
    expect(text.endsWith('\n')).toBe(true);
    for (const l of text.split('\n').slice(0, -1)) expect(() => JSON.parse(l)).not.toThrow();
    expect(new Set(rules.map((r) => r.rule_id)).size).toBe(rules.length);
    expect(new Set(rules.map((r) => r.name)).size).toBe(rules.length);
    expect(ofType('threat_match')).toHaveLength(1);
    expect(ofType('query')).toHaveLength(3);
    expect(ofType('machine_learning')).toHaveLength(ML_JOB_IDS.length);
    expect(rules).toHaveLength(4 + ML_JOB_IDS.length);
  });

  it('is what detection-rules/build.mjs generates (regenerate after changing either)', () => {
    const out = execFileSync(process.execPath, [join(DIR, 'build.mjs'), '--stdout'], { encoding: 'utf8' });
    expect(out === text).toBe(true);
  });

  it('gives every rule the common required fields', () => {
    for (const r of rules) {
      const at = (k: string): unknown[] => [r.name, k];
      expect([...at('rule_id'), UUID.test(r.rule_id)]).toEqual([...at('rule_id'), true]);
      for (const k of ['name', 'description', 'interval', 'from', 'to']) expect([...at(k), typeof r[k], r[k].length > 0]).toEqual([...at(k), 'string', true]);
      expect([...at('risk_score'), Number.isInteger(r.risk_score) && r.risk_score >= 0 && r.risk_score <= 100]).toEqual([...at('risk_score'), true]);
      expect(SEVERITY).toContain(r.severity);
      expect(r.version).toBeGreaterThanOrEqual(1);
      expect(r.interval).toMatch(/^\d+[smh]$/);
      expect(r.from).toMatch(/^now-\d+[smh]$/);
      expect(r.tags).toContain('threatflow');
      expect(r.references.some((u: string) => u.startsWith('https://community.riskiq.com/'))).toBe(true);
      expect(r.enabled).toBe(false);
      for (const t of r.threat ?? []) expect(t.framework).toBe('MITRE ATT&CK');
    }
  });

  it('has query rules over the flows in KQL naming only mapped fields', () => {
    for (const r of ofType('query')) {
      expect(r.language).toBe('kuery');
      expect(r.index).toEqual([FLOWS_INDEX_PATTERN]);
      const fields = kqlFields(r.query);
      expect(fields).toEqual(expect.arrayContaining(['source.locality', 'destination.locality', 'destination.port']));
      for (const f of fields) expect([r.name, f, resolveFlowsField(f)?.via]).toEqual([r.name, f, 'property']);
    }
    const ports = ofType('query').map((r) => kqlMatches(r.query).find((m) => m.field === 'destination.port')!.values.map(Number).sort((a, b) => a - b));
    expect(ports).toEqual([[139, 445], [3389], [1433, 1521, 3306, 5432, 6379, 9200, 27017]]);
  });

  it('has an indicator-match rule between the flows and the indicator index on fields both mappings have as ip', () => {
    const [r] = ofType('threat_match');
    expect(r.index).toEqual([FLOWS_INDEX_PATTERN]);
    expect(r.threat_index).toEqual([INDICATOR_ALIAS]);
    expect(r.language).toBe('kuery');
    expect(r.threat_language).toBe('kuery');
    expect(r.threat_indicator_path).toBe('threat.indicator');
    for (const f of kqlFields(r.query)) expect([f, resolveFlowsField(f)?.type]).toEqual([f, 'ip']);
    for (const f of kqlFields(r.threat_query)) expect([f, typeIn(indicatorMappings(), f) !== undefined]).toEqual([f, true]);
    const entries = r.threat_mapping.flatMap((m: { entries: unknown[] }) => m.entries);
    expect(entries.map((e: { field: string }) => e.field).sort()).toEqual(['destination.ip', 'source.ip']);
    for (const e of entries) {
      expect(e.type).toBe('mapping');
      expect([e.field, resolveFlowsField(e.field)?.type]).toEqual([e.field, 'ip']);
      expect([e.value, typeIn(indicatorMappings(), e.value)]).toEqual([e.value, 'ip']);
    }
  });

  it('has one machine learning rule per job id of the README contract', () => {
    const ml = ofType('machine_learning');
    expect(ml.flatMap((r) => r.machine_learning_job_id).sort()).toEqual([...ML_JOB_IDS].sort());
    for (const r of ml) {
      expect(r.machine_learning_job_id).toHaveLength(1);
      expect(r.anomaly_threshold).toBeGreaterThanOrEqual(0);
      expect(r.anomaly_threshold).toBeLessThanOrEqual(100);
      expect(r.index).toBeUndefined();
      expect(r.query).toBeUndefined();
    }
    const readme = readFileSync(join(DIR, 'README.md'), 'utf8');
    for (const id of ML_JOB_IDS) expect(readme).toContain(`\`${id}\``);
  });
});

/** The hand-written query DSL equivalent of each query rule's KQL, by rule name. */
function publicToPrivate(ports: number[]): Record<string, unknown> {
  return {
    bool: {
      filter: [
        { bool: { should: [{ match: { 'source.locality': 'public' } }], minimum_should_match: 1 } },
        { bool: { should: [{ match: { 'destination.locality': 'private' } }], minimum_should_match: 1 } },
        { bool: { should: ports.map((p) => ({ match: { 'destination.port': p } })), minimum_should_match: 1 } },
      ],
    },
  };
}
const DSL: Record<string, { query: Record<string, unknown>; ports: number[] }> = {
  'threatflow: public client reaching SMB on a private server': { query: publicToPrivate([445, 139]), ports: [445, 139] },
  'threatflow: public client reaching RDP on a private server': { query: publicToPrivate([3389]), ports: [3389] },
  'threatflow: public client reaching a database port on a private server': {
    query: publicToPrivate([1433, 1521, 3306, 5432, 6379, 9200, 27017]),
    ports: [1433, 1521, 3306, 5432, 6379, 9200, 27017],
  },
};

describe('query rules: DSL equivalents', () => {
  it('has a hand-written DSL for every query rule, with the KQL ports', () => {
    expect(Object.keys(DSL).sort()).toEqual(ofType('query').map((r) => r.name).sort());
    for (const r of ofType('query')) {
      expect(parseKql(r.query)).not.toBeNull();
      const kqlPorts = kqlMatches(r.query).find((m) => m.field === 'destination.port')!.values.map(Number);
      expect(kqlPorts).toEqual(DSL[r.name].ports);
    }
  });
});

describeEs('query rules on the embedded Elasticsearch', () => {
  const id = uniqueId();
  const component = `tftest-rules-${id}@mappings`;
  const template = `tftest-rules-${id}`;
  // Matches the rules' `logs-threatflow.flows-*` and, through our own higher-priority template, gets the
  // flows mapping without touching the collector's real templates.
  const dataStream = `logs-threatflow.flows-tftestrules${id}`;

  afterAll(async () => {
    await es('DELETE', `/_data_stream/${dataStream}`);
    await es('DELETE', `/_index_template/${template}`);
    await es('DELETE', `/_component_template/${encodeURIComponent(component)}`);
  });

  const n = createNormalizer({ timestampSource: 'end', communityIdEnable: true, communityIdSeed: 0, expandClientServer: true, privateCidrs: [] });
  const flow = (src: string, dst: string, dstPort: number): FlowRecord =>
    Object.assign(newFlowRecord('ipfix', '10.255.0.1'), {
      exportTimeMs: Date.now(), sysUptimeMs: 5, srcAddr: src, dstAddr: dst, srcPort: 40000 + dstPort, dstPort, ipProtocol: 6, bytes: 100, packets: 2,
      startMs: Date.now() - 1000, endMs: Date.now(), tcpFlags: 0x02,
    });

  it('runs each query rule as a search on logs-threatflow.flows-* and matches exactly public → private on its ports', async () => {
    expect((await es('PUT', `/_component_template/${encodeURIComponent(component)}`, flowsMappingsComponent())).status).toBe(200);
    const put = await es('PUT', `/_index_template/${template}`, {
      index_patterns: [`${dataStream}*`], data_stream: {}, priority: 500, composed_of: [component],
      template: { settings: { index: { number_of_shards: 1, number_of_replicas: 0 } } },
    });
    expect([put.status, put.json]).toEqual([200, { acknowledged: true }]);

    const PUBLIC = '93.184.216.34';
    const PRIVATE = '10.20.30.40';
    const allPorts = Object.values(DSL).flatMap((d) => d.ports);
    const docs = [
      ...allPorts.map((p) => n.toDocument(flow(PUBLIC, PRIVATE, p), Date.now())), // the pattern
      ...allPorts.map((p) => n.toDocument(flow('10.1.1.1', PRIVATE, p), Date.now())), // private → private
      ...allPorts.map((p) => n.toDocument(flow(PRIVATE, PUBLIC, p), Date.now())), // private → public
      n.toDocument(flow(PUBLIC, PRIVATE, 443), Date.now()), // another port
    ];
    expect([docs[0].source?.locality, docs[0].destination?.locality]).toEqual(['public', 'private']);
    const body = docs.map((d) => `{"create":{}}\n${serializeDocument(d)}\n`).join('');
    const bulk = await es('POST', `/${dataStream}/_bulk?refresh=true&filter_path=errors,items.*.error`, body);
    expect(bulk.json).toEqual({ errors: false });

    const fields = ofType('query').flatMap((r) => kqlFields(r.query));
    const { path } = await conformingPath(FLOWS_INDEX_PATTERN, fields, (f) => resolveFlowsField(f)?.type, (p) => es('GET', p));
    for (const r of ofType('query')) {
      const { query, ports } = DSL[r.name];
      // The rule's own index pattern: must run without an error on any shard.
      const all = await es('POST', `/${path}/_search?size=0&track_total_hits=true`, { query });
      expect([r.name, all.status, unexpectedFailures(all.json, dataStream)]).toEqual([r.name, 200, []]);
      expect(all.json.hits.total.value).toBeGreaterThanOrEqual(ports.length);
      // Our data stream: exactly the public → private flows on the rule's ports.
      const ours = await es('POST', `/${dataStream}/_search?size=100`, { query });
      expect([r.name, ours.status]).toEqual([r.name, 200]);
      const hits = ours.json.hits.hits.map((h: any) => [h._source.source.ip, h._source.destination.ip, h._source.destination.port]);
      expect([r.name, hits.sort()]).toEqual([r.name, ports.map((p) => [PUBLIC, PRIVATE, p]).sort()]);
    }
  });

  it('runs the indicator-match rule\'s threat query as a search on the indicator mapping', async () => {
    const [r] = ofType('threat_match');
    const idx = `tftest-rules-ti-${id}`;
    expect((await es('PUT', `/${idx}`, { mappings: indicatorMappings() })).status).toBe(200);
    try {
      // threat.indicator.ip : *  ==  exists
      expect(kqlMatches(r.threat_query)).toEqual([{ kind: 'match', field: 'threat.indicator.ip', op: ':', values: ['*'] }]);
      const res = await es('POST', `/${idx}/_search`, { query: { exists: { field: 'threat.indicator.ip' } } });
      expect([res.status, res.json._shards.failed]).toEqual([200, 0]);
    } finally {
      await es('DELETE', `/${idx}`);
    }
  });
});
