// SPDX-License-Identifier: Apache-2.0
/**
 * dashboards/kibana-8.14.x-threatflow.ndjson (Kibana 8.14 saved objects export): valid NDJSON, unique ids,
 * references that resolve inside the file, migration fields, every field a saved object names mapped in the
 * flows index template (collected structurally from the data view, Lens columns, queries and filters), every
 * `ip` field with the PassiveTotal URL formatter, and a navigation strip on each dashboard linking the others.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FLOWS_INDEX_PATTERN, flowsMappedFields, resolveFlowsField } from '../../src/output/elasticsearch/assets';
import { VARIABLES_BY_NAME } from '../../src/config/variables';
import { newFlowRecord, type FlowRecord } from '../../src/decode/types';
import { serializeDocument } from '../../src/pipeline/ecs';
import { createNormalizer } from '../../src/pipeline/normalize';
import { flowsMappingsComponent } from '../../src/output/elasticsearch/assets';
import { describeEs, es, uniqueId } from '../helpers/es';
import { conformingPath, unexpectedFailures, kqlFields, kqlToDsl, parseKql } from './dashboards-kql.test';

const FILE = join(__dirname, '..', '..', '..', 'dashboards', 'kibana-8.14.x-threatflow.ndjson');
const LAUNCH_URL = VARIABLES_BY_NAME.get('EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_LAUNCH_URL')!.default as string;

interface SavedObject {
  id: string;
  type: string;
  attributes: Record<string, any>;
  references: Array<{ id: string; name: string; type: string }>;
  coreMigrationVersion?: string;
  typeMigrationVersion?: string;
  migrationVersion?: Record<string, string>;
  managed?: boolean;
}

const text = readFileSync(FILE, 'utf8');
const lines = text.split('\n');
const parsed = lines.filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, any>);
const summary = parsed[parsed.length - 1];
const objects = parsed.slice(0, -1) as SavedObject[];
const byType = (t: string): SavedObject[] => objects.filter((o) => o.type === t);
const dataView = byType('index-pattern')[0];
const dashboards = byType('dashboard');
const lenses = byType('lens');

/** Whether the flows mapping has the field, explicitly or through a dynamic template for `sample`'s kind. */
function mapped(field: string, sample?: unknown): boolean {
  return resolveFlowsField(field) !== null || (sample !== undefined && resolveFlowsField(field, sample) !== null);
}

/** Every field name a saved object names, with where it was found. */
function namedFields(): Array<{ field: string; where: string; sample?: unknown }> {
  const out: Array<{ field: string; where: string; sample?: unknown }> = [];
  const kql = (q: { query?: unknown; language?: string } | undefined, where: string): void => {
    if (!q || typeof q.query !== 'string' || q.query === '') return;
    expect(q.language).toBe('kuery');
    for (const field of kqlFields(q.query)) out.push({ field, where });
  };
  const filters = (fs: any[], where: string): void => {
    for (const f of fs ?? []) {
      if (f.meta?.key) out.push({ field: f.meta.key, where: `${where} filter` });
      if (f.query) kql(f.query, `${where} filter`);
    }
  };
  for (const o of objects) {
    const where = `${o.type}:${o.id}`;
    if (o.type === 'index-pattern') {
      out.push({ field: o.attributes.timeFieldName, where: `${where} timeFieldName` });
      for (const k of Object.keys(JSON.parse(o.attributes.fieldFormatMap))) out.push({ field: k, where: `${where} fieldFormatMap`, sample: '192.0.2.1' });
      for (const k of Object.keys(JSON.parse(o.attributes.fieldAttrs ?? '{}'))) out.push({ field: k, where: `${where} fieldAttrs` });
    } else if (o.type === 'lens') {
      const st = o.attributes.state;
      kql(st.query, `${where} query`);
      filters(st.filters, where);
      for (const [lid, layer] of Object.entries<any>(st.datasourceStates.formBased.layers)) {
        for (const [cid, c] of Object.entries<any>(layer.columns)) {
          if (c.sourceField !== undefined && c.sourceField !== '___records___') out.push({ field: c.sourceField, where: `${where} layer ${lid} column ${cid}` });
          if (c.filter) kql(c.filter, `${where} column ${cid} filter`);
        }
      }
    } else if (o.type === 'dashboard') {
      const ss = JSON.parse(o.attributes.kibanaSavedObjectMeta.searchSourceJSON);
      kql(ss.query, `${where} query`);
      filters(ss.filter, where);
    }
  }
  return out;
}

function markdownLinks(md: string): string[] {
  const out: string[] = [];
  // [text](url): walk the markdown, no nesting in our strip.
  let i = 0;
  while ((i = md.indexOf('](', i)) !== -1) {
    const end = md.indexOf(')', i);
    out.push(md.slice(i + 2, end));
    i = end;
  }
  return out;
}

describe('Kibana saved objects (dashboards/kibana-8.14.x-threatflow.ndjson)', () => {
  it('is NDJSON: one JSON object per line, a final newline, the export summary last', () => {
    expect(text.endsWith('\n')).toBe(true);
    expect(lines[lines.length - 1]).toBe('');
    for (const l of lines.slice(0, -1)) expect(() => JSON.parse(l)).not.toThrow();
    expect(summary).toEqual({ excludedObjects: [], excludedObjectsCount: 0, exportedCount: objects.length, missingRefCount: 0, missingReferences: [] });
    expect(objects.length).toBeGreaterThan(10);
  });

  it('has unique ids, known types, migration fields and managed: false on every object', () => {
    const keys = objects.map((o) => `${o.type}:${o.id}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(new Set(objects.map((o) => o.id)).size).toBe(objects.length);
    for (const o of objects) {
      expect(['index-pattern', 'lens', 'dashboard', 'visualization']).toContain(o.type);
      expect(typeof o.id).toBe('string');
      expect(o.id).toMatch(/^[a-z0-9-]+$/);
      expect(o.coreMigrationVersion).toBe('8.8.0');
      expect(o.typeMigrationVersion ?? o.migrationVersion).toBeTruthy();
      if (o.typeMigrationVersion) expect(o.typeMigrationVersion).toMatch(/^\d+\.\d+\.\d+$/);
      expect(o.managed).toBe(false);
      expect(Array.isArray(o.references)).toBe(true);
      expect(typeof o.attributes.title).toBe('string');
    }
  });

  it('claims no migration version newer than Kibana 8.14 knows (Kibana refuses such objects on import)', () => {
    // The last migration each type has in 8.14; an older claim is migrated forward on import.
    const known: Record<string, string> = { 'index-pattern': '8.0.0', lens: '8.9.0', dashboard: '8.9.0', visualization: '8.5.0' };
    const num = (v: string): number[] => v.split('.').map(Number);
    const le = (a: string, b: string): boolean => {
      const [x, y] = [num(a), num(b)];
      for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] < y[i];
      return true;
    };
    for (const o of objects) expect([o.id, o.typeMigrationVersion, le(o.typeMigrationVersion!, known[o.type])]).toEqual([o.id, o.typeMigrationVersion, true]);
  });

  const dist = join(__dirname, '..', '..', 'dist', 'output', 'elasticsearch', 'assets.js');
  (existsSync(dist) ? it : it.skip)('is what dashboards/build.mjs generates (regenerate after changing either)', () => {
    const out = execFileSync(process.execPath, [join(FILE, '..', 'build.mjs'), '--stdout'], { encoding: 'utf8' });
    expect(out === text).toBe(true);
  });

  it('resolves every reference inside the file, with unique reference names per object', () => {
    const ids = new Set(objects.map((o) => `${o.type}:${o.id}`));
    for (const o of objects) {
      for (const r of o.references) expect([o.id, r.name, ids.has(`${r.type}:${r.id}`)]).toEqual([o.id, r.name, true]);
      const names = o.references.map((r) => r.name);
      expect(new Set(names).size).toBe(names.length);
    }
  });

  it('has one data view for the flows with @timestamp', () => {
    expect(byType('index-pattern')).toHaveLength(1);
    expect(dataView.attributes.title).toBe(FLOWS_INDEX_PATTERN);
    expect(dataView.attributes.timeFieldName).toBe('@timestamp');
  });

  it('gives every ip field of the mapping (and only ip fields) the PassiveTotal URL formatter', () => {
    expect(LAUNCH_URL).toBe('https://community.riskiq.com/research?query={{value}}');
    const fmt = JSON.parse(dataView.attributes.fieldFormatMap) as Record<string, { id: string; params: Record<string, unknown> }>;
    const ipFields = [...flowsMappedFields()].filter(([, t]) => t === 'ip').map(([p]) => p);
    expect(ipFields).toEqual(expect.arrayContaining(['source.ip', 'destination.ip', 'client.ip', 'server.ip', 'related.ip', 'observer.ip', 'threat.enrichments.indicator.ip']));
    for (const f of ipFields) {
      expect([f, fmt[f]?.id]).toEqual([f, 'url']);
      expect([f, fmt[f].params.urlTemplate, fmt[f].params.labelTemplate]).toEqual([f, LAUNCH_URL, '{{value}}']);
    }
    for (const [f, v] of Object.entries(fmt)) {
      expect([f, (resolveFlowsField(f) ?? resolveFlowsField(f, '192.0.2.1'))?.type]).toEqual([f, 'ip']);
      expect([f, v.id, v.params.urlTemplate]).toEqual([f, 'url', LAUNCH_URL]);
    }
  });

  it('names only fields the flows index template maps', () => {
    const named = namedFields();
    expect(named.length).toBeGreaterThan(50);
    const missing = named.filter((n) => !mapped(n.field, n.sample)).map((n) => `${n.field} (${n.where})`);
    expect(missing).toEqual([]);
  });

  it('has Lens visualizations whose layers reference the data view and whose columns fit the mapping', () => {
    expect(lenses.length).toBeGreaterThanOrEqual(15);
    const lensType: Record<string, string> = { ip: 'ip', keyword: 'string', long: 'number', double: 'number', date: 'date' };
    for (const l of lenses) {
      const st = l.attributes.state;
      expect(['lnsXY', 'lnsDatatable', 'lnsPie', 'lnsMetric']).toContain(l.attributes.visualizationType);
      if (st.query.query) expect(() => parseKql(st.query.query)).not.toThrow();
      const layers = Object.entries<any>(st.datasourceStates.formBased.layers);
      expect(layers.length).toBeGreaterThan(0);
      for (const [lid, layer] of layers) {
        const ref = l.references.find((r) => r.name === `indexpattern-datasource-layer-${lid}`);
        expect([l.id, lid, ref?.type, ref?.id]).toEqual([l.id, lid, 'index-pattern', dataView.id]);
        expect(Object.keys(layer.columns).sort()).toEqual([...layer.columnOrder].sort());
        for (const [cid, c] of Object.entries<any>(layer.columns)) {
          if (c.operationType === 'count') continue;
          const r = resolveFlowsField(c.sourceField);
          // Lens aggregates without a nested aggregation: a field under threat.enrichments would show nothing.
          expect([l.id, cid, r?.nested]).toEqual([l.id, cid, undefined]);
          if (c.operationType === 'terms' || c.operationType === 'date_histogram') expect([l.id, cid, c.dataType]).toEqual([l.id, cid, lensType[r!.type]]);
          if (c.operationType === 'terms') expect(Object.keys(layer.columns)).toContain(c.params.orderBy.columnId);
        }
      }
      // Accessors name columns of the layer.
      const vis = l.attributes.state.visualization;
      const cols = new Set(layers.flatMap(([, layer]) => layer.columnOrder as string[]));
      const accessors: string[] = [];
      if (l.attributes.visualizationType === 'lnsXY') for (const y of vis.layers) accessors.push(y.xAccessor, ...y.accessors, ...(y.splitAccessor ? [y.splitAccessor] : []));
      if (l.attributes.visualizationType === 'lnsDatatable') accessors.push(...vis.columns.map((c: { columnId: string }) => c.columnId));
      if (l.attributes.visualizationType === 'lnsPie') for (const y of vis.layers) accessors.push(...y.primaryGroups, ...y.metrics);
      if (l.attributes.visualizationType === 'lnsMetric') accessors.push(vis.metricAccessor);
      expect(accessors.length).toBeGreaterThan(0);
      for (const a of accessors) expect([l.id, a, cols.has(a)]).toEqual([l.id, a, true]);
    }
  });

  it('has the five dashboards, each panel wired to a reference', () => {
    expect(dashboards.map((d) => d.attributes.title).sort()).toEqual(
      ['[threatflow] Brute force', '[threatflow] DDoS', '[threatflow] Flows overview', '[threatflow] Reconnaissance', '[threatflow] Threats'].sort(),
    );
    for (const d of dashboards) {
      const panels = JSON.parse(d.attributes.panelsJSON) as any[];
      expect(JSON.parse(d.attributes.optionsJSON)).toBeTruthy();
      const indices = panels.map((p) => p.panelIndex);
      expect(new Set(indices).size).toBe(indices.length);
      for (const p of panels) {
        expect(p.gridData.i).toBe(p.panelIndex);
        expect(p.gridData.x + p.gridData.w).toBeLessThanOrEqual(48);
        if (p.panelRefName) {
          const ref = d.references.find((r) => r.name === `${p.panelIndex}:${p.panelRefName}`);
          expect([d.id, p.panelIndex, ref?.type]).toEqual([d.id, p.panelIndex, p.type]);
        } else {
          expect(p.embeddableConfig.savedVis).toBeTruthy(); // by-value panel
        }
      }
      expect(panels.filter((p) => p.type === 'lens').length).toBeGreaterThanOrEqual(2);
    }
    const threats = dashboards.find((d) => d.attributes.title === '[threatflow] Threats')!;
    const titles = threats.references.map((r) => lenses.find((l) => l.id === r.id)!.attributes.title);
    for (const t of ['Threat flows over time', 'Threat conversations', 'Top threat tags', 'Public Threats', 'At-Risk Servers', 'High-Risk Clients']) {
      expect(titles).toContain(`[threatflow] ${t}`);
    }
  });

  it('puts a markdown navigation strip on each dashboard that links every other dashboard', () => {
    for (const d of dashboards) {
      const panels = JSON.parse(d.attributes.panelsJSON) as any[];
      const strip = panels.filter((p) => p.embeddableConfig?.savedVis?.type === 'markdown');
      expect(strip).toHaveLength(1);
      const links = markdownLinks(strip[0].embeddableConfig.savedVis.params.markdown);
      const others = dashboards.filter((o) => o.id !== d.id).map((o) => `/app/dashboards#/view/${o.id}`);
      expect(links.sort()).toEqual(others.sort());
    }
  });
});

/** The aggregation Lens runs for a column (the subset of operations the file uses). */
function columnAgg(c: any): Record<string, unknown> {
  switch (c.operationType) {
    case 'date_histogram': return { date_histogram: { field: c.sourceField, fixed_interval: '1h' } };
    case 'terms': return { terms: { field: c.sourceField, size: c.params.size } };
    case 'sum': return { sum: { field: c.sourceField } };
    case 'unique_count': return { cardinality: { field: c.sourceField } };
    case 'count': return { value_count: { field: '_index' } };
    default: throw new Error(`no aggregation for ${c.operationType}`);
  }
}

describeEs('Lens visualizations on the embedded Elasticsearch', () => {
  const id = uniqueId();
  const component = `tftest-dash-${id}@mappings`;
  const template = `tftest-dash-${id}`;
  const dataStream = `logs-threatflow.flows-tftestdash${id}`;

  afterAll(async () => {
    await es('DELETE', `/_data_stream/${dataStream}`);
    await es('DELETE', `/_index_template/${template}`);
    await es('DELETE', `/_component_template/${encodeURIComponent(component)}`);
  });

  it('runs each visualization\'s query and column aggregations as a search on the data view\'s pattern', async () => {
    expect((await es('PUT', `/_component_template/${encodeURIComponent(component)}`, flowsMappingsComponent())).status).toBe(200);
    const put = await es('PUT', `/_index_template/${template}`, {
      index_patterns: [`${dataStream}*`], data_stream: {}, priority: 500, composed_of: [component],
      template: { settings: { index: { number_of_shards: 1, number_of_replicas: 0 } } },
    });
    expect(put.status).toBe(200);
    const n = createNormalizer({ timestampSource: 'end', communityIdEnable: true, communityIdSeed: 0, expandClientServer: true, privateCidrs: [] });
    const rec = (fill: Partial<FlowRecord>): FlowRecord =>
      Object.assign(newFlowRecord('ipfix', '10.255.0.1'), { exportTimeMs: Date.now(), sysUptimeMs: 5, startMs: Date.now() - 1000, endMs: Date.now(), bytes: 100, packets: 2 }, fill);
    const threat = n.toDocument(rec({ srcAddr: '10.0.0.5', dstAddr: '93.184.216.34', srcPort: 50000, dstPort: 443, ipProtocol: 6, tcpFlags: 0x1b }), Date.now());
    threat.sec = { threat: { name: ['botnet'], feed: { name: 'RiskIQ PassiveTotal' } } };
    threat.flow.dst = { sec: { threat: { name: ['botnet'] } } };
    threat.flow.server = { sec: { threat: { name: ['botnet'] } } };
    const docs = [
      threat,
      n.toDocument(rec({ srcAddr: '93.184.216.35', dstAddr: '10.0.0.6', srcPort: 40000, dstPort: 22, ipProtocol: 6, tcpFlags: 0x02 }), Date.now()),
      n.toDocument(rec({ srcAddr: '10.0.0.7', dstAddr: '10.0.0.8', ipProtocol: 1, icmpType: 8, icmpCode: 0 }), Date.now()),
      n.toDocument(rec({ srcAddr: '93.184.216.36', dstAddr: '10.0.0.9', srcPort: 123, dstPort: 33000, ipProtocol: 17 }), Date.now()),
    ];
    const bulk = await es('POST', `/${dataStream}/_bulk?refresh=true&filter_path=errors,items.*.error`, docs.map((d) => `{"create":{}}\n${serializeDocument(d)}\n`).join(''));
    expect(bulk.json).toEqual({ errors: false });

    const used = lenses.flatMap((l) => Object.values<any>(l.attributes.state.datasourceStates.formBased.layers)
      .flatMap((layer) => Object.values<any>(layer.columns).map((c) => c.sourceField).filter((f) => f && f !== '___records___')));
    const { path: pattern } = await conformingPath(dataView.attributes.title, [...used, ...namedFields().map((f) => f.field)], (f) => resolveFlowsField(f)?.type, (p) => es('GET', p));
    expect(pattern).toContain(encodeURIComponent(dataView.attributes.title));
    for (const l of lenses) {
      const st = l.attributes.state;
      for (const layer of Object.values<any>(st.datasourceStates.formBased.layers)) {
        const aggs: Record<string, unknown> = {};
        for (const [cid, c] of Object.entries<any>(layer.columns)) {
          const agg = columnAgg(c);
          aggs[cid] = c.filter ? { filter: kqlToDsl(parseKql(c.filter.query)), aggs: { v: agg } } : agg;
        }
        const body = { size: 0, query: { bool: { filter: [kqlToDsl(parseKql(st.query.query)), { range: { '@timestamp': { gte: 'now-24h' } } }] } }, aggs };
        for (const index of [pattern, dataStream]) {
          const res = await es('POST', `/${index}/_search`, body);
          expect([l.id, index, res.status, unexpectedFailures(res.json, dataStream)]).toEqual([l.id, index, 200, []]);
        }
      }
    }
    // The Threats tables find the threat flow: the query matches what the enrichment writes.
    const pub = lenses.find((l) => l.id === 'threatflow-lens-public-threats')!;
    const res = await es('POST', `/${dataStream}/_search`, { query: kqlToDsl(parseKql(pub.attributes.state.query.query)) });
    expect(res.json.hits.hits.map((h: any) => h._source.destination.ip)).toEqual(['93.184.216.34']);
  });
});
