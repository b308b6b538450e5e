// SPDX-License-Identifier: Apache-2.0
/**
 * Test data for the route functions: the real collector CLI decodes the real exporter captures
 * (softflowd/pmacct, collector/test/exporters/captures) enriched with the demo blocklist, and the documents
 * go into a unique data stream whose mapping is the collector's own component template. Expected values
 * are computed here from the same NDJSON lines in plain JS, independently of the aggregations.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { es, uniqueId } from '../../../collector/test/helpers/es';
import { COLLECTOR_CLI, DEMO_BLOCKLIST, demoCaptures } from '../../harness/demo';
import { flowsMappingsComponent } from '../../../collector/src/output/elasticsearch/assets';
import { launchUrlFor, type ThreatRow } from '../../common';

/** The demo data is the harness's: the same captures and blocklist (harness/demo.ts says which). */
export const BLOCKLIST = DEMO_BLOCKLIST;
export const LAUNCH = 'https://community.riskiq.com/research?query={{value}}';

/** A flow document as the collector writes it (only the fields the tests read). */
export interface Doc {
  '@timestamp': number;
  related?: { ip: string[] };
  source: { ip: string; port?: number; locality: string };
  destination: { ip: string; port?: number; locality: string };
  network: { bytes: number; packets: number; direction: string; transport?: string; community_id?: string };
  sec?: { threat?: { name?: string[] } };
  threat?: { enrichments?: Array<{ matched: { atomic: string; field: string }; indicator: { description?: string } }> };
}

/** Runs `threatflow decode` on every capture with the demo blocklist; returns the NDJSON documents. */
export function decodeCaptures(): Doc[] {
  if (!existsSync(COLLECTOR_CLI)) throw new Error(`${COLLECTOR_CLI} missing: run npm run build at the repository root first`);
  const out = execFileSync(process.execPath, [COLLECTOR_CLI, 'decode', '--quiet', '--threat-db', BLOCKLIST, ...demoCaptures()], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  return out.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Doc);
}

/** A unique data stream with the collector's flows mapping, loaded with `docs`; `drop()` removes it all. */
export async function loadFlows(docs: Doc[]): Promise<{ dataStream: string; drop: () => Promise<void> }> {
  const id = uniqueId();
  const component = `tftest-kp-${id}@mappings`;
  const template = `tftest-kp-${id}`;
  const dataStream = `logs-threatflow.flows-tftestkp${id}`;
  const drop = async () => {
    await es('DELETE', `/_data_stream/${dataStream}`);
    await es('DELETE', `/_index_template/${template}`);
    await es('DELETE', `/_component_template/${encodeURIComponent(component)}`);
  };
  const c = await es('PUT', `/_component_template/${encodeURIComponent(component)}`, flowsMappingsComponent());
  if (c.status !== 200) throw new Error(`component template: ${JSON.stringify(c.json)}`);
  const t = await es('PUT', `/_index_template/${template}`, {
    index_patterns: [`${dataStream}*`],
    data_stream: {},
    priority: 500,
    composed_of: [component],
    template: { settings: { index: { number_of_shards: 1, number_of_replicas: 0 } } },
  });
  if (t.status !== 200) throw new Error(`index template: ${JSON.stringify(t.json)}`);
  const body = docs.map((d) => `{"create":{}}\n${JSON.stringify(d)}\n`).join('');
  const bulk = await es('POST', `/${dataStream}/_bulk?refresh=true&filter_path=errors,items.*.error`, body);
  if (bulk.status !== 200 || bulk.json.errors !== false) throw new Error(`bulk: ${JSON.stringify(bulk.json).slice(0, 2000)}`);
  return { dataStream, drop };
}

export interface Range {
  from: string;
  to: string;
}

export function inRange(docs: Doc[], r: Range): Doc[] {
  const a = Date.parse(r.from);
  const b = Date.parse(r.to);
  return docs.filter((d) => d['@timestamp'] >= a && d['@timestamp'] < b);
}

const enrichments = (d: Doc) => d.threat?.enrichments ?? [];
const privateSides = (d: Doc) => [d.source, d.destination].filter((s) => s.locality === 'private').map((s) => s.ip);

/** Expected rows and totals for a range, straight from the documents. */
export function expectedThreats(all: Doc[], r: Range): { rows: ThreatRow[]; totals: Record<string, number> } {
  const docs = inRange(all, r);
  const per = new Map<string, { flows: number; bytes: number; first: number; last: number; tags: Set<string>; hosts: Map<string, number>; directions: Record<string, number> }>();
  const hosts = new Set<string>();
  let threatFlows = 0;
  let bytes = 0;
  for (const d of docs) {
    const es = enrichments(d);
    if (es.length === 0) continue;
    threatFlows++;
    bytes += d.network.bytes;
    for (const h of privateSides(d)) hosts.add(h);
    for (const indicator of new Set(es.map((e) => e.matched.atomic))) {
      let p = per.get(indicator);
      if (!p) per.set(indicator, (p = { flows: 0, bytes: 0, first: Infinity, last: -Infinity, tags: new Set(), hosts: new Map(), directions: {} }));
      p.flows++;
      p.bytes += d.network.bytes;
      p.first = Math.min(p.first, d['@timestamp']);
      p.last = Math.max(p.last, d['@timestamp']);
      p.directions[d.network.direction] = (p.directions[d.network.direction] ?? 0) + 1;
      for (const e of es.filter((x) => x.matched.atomic === indicator)) {
        for (const t of (e.indicator.description ?? '').split(',')) if (t.trim()) p.tags.add(t.trim());
        // The other side of the match, when it is an internal address.
        const other = e.matched.field === 'source.ip' ? d.destination : d.source;
        if (other.locality === 'private') p.hosts.set(other.ip, (p.hosts.get(other.ip) ?? 0) + 1);
      }
    }
  }
  const rows: ThreatRow[] = [...per].map(([indicator, p]) => ({
    indicator,
    tags: [...p.tags].sort(),
    flows: p.flows,
    bytes: p.bytes,
    firstSeen: new Date(p.first).toISOString(),
    lastSeen: new Date(p.last).toISOString(),
    internalHosts: p.hosts.size,
    internalHostSample: [...p.hosts].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([ip]) => ip),
    directions: p.directions,
    launchUrl: launchUrlFor(LAUNCH, indicator),
  }));
  return { rows, totals: { indicators: per.size, threatFlows, allFlows: docs.length, bytes, internalHosts: hosts.size } };
}

/** Independent sort: the comparator written out per field, ties by indicator ascending. */
export function expectedOrder(rows: ThreatRow[], field: string, dir: 'asc' | 'desc'): string[] {
  const key = (r: ThreatRow): number | string =>
    field === 'indicator' ? r.indicator : field === 'firstSeen' ? Date.parse(r.firstSeen) : field === 'lastSeen' ? Date.parse(r.lastSeen) : (r as unknown as Record<string, number>)[field];
  return [...rows]
    .sort((a, b) => {
      const ka = key(a);
      const kb = key(b);
      const c = ka < kb ? -1 : ka > kb ? 1 : 0;
      if (c !== 0) return dir === 'asc' ? c : -c;
      return a.indicator < b.indicator ? -1 : a.indicator > b.indicator ? 1 : 0;
    })
    .map((r) => r.indicator);
}

/** Expected flows of an IP: indicator = flows matching it; host = threat flows where it is a private side. */
export function expectedFlows(all: Doc[], r: Range, ip: string, role: 'indicator' | 'host') {
  const docs = inRange(all, r).filter((d) =>
    role === 'indicator'
      ? enrichments(d).some((e) => e.matched.atomic === ip)
      : enrichments(d).length > 0 && privateSides(d).includes(ip),
  );
  const counter = new Map<string, { flows: number; bytes: number }>();
  for (const d of docs) {
    const others =
      role === 'indicator'
        ? [...new Set(enrichments(d).filter((e) => e.matched.atomic === ip).map((e) => (e.matched.field === 'source.ip' ? d.destination : d.source)).filter((s) => s.locality === 'private').map((s) => s.ip))]
        : [...new Set(enrichments(d).map((e) => e.matched.atomic))];
    for (const o of others) {
      const c = counter.get(o) ?? { flows: 0, bytes: 0 };
      c.flows++;
      c.bytes += d.network.bytes;
      counter.set(o, c);
    }
  }
  return {
    docs,
    total: docs.length,
    bytes: docs.reduce((s, d) => s + d.network.bytes, 0),
    // An indicator's counterparts are internal hosts: no PassiveTotal link; a host's are indicators.
    counterparts: [...counter]
      .map(([cip, c]) => ({ ip: cip, ...c, launchUrl: role === 'indicator' ? null : launchUrlFor(LAUNCH, cip) }))
      .sort((a, b) => b.flows - a.flows || (a.ip < b.ip ? -1 : 1)),
  };
}
