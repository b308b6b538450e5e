// SPDX-License-Identifier: Apache-2.0
/**
 * Demo data for the harness, made by the real collector so a newcomer sees what production would show:
 * the bundled exporter captures decoded and threat-enriched with the demo blocklist by `threatflow decode`,
 * indexed with the collector's own flows mapping and settings (threat.enrichments is nested, IPs are `ip`),
 * and the blocklist as an indicator index the way the collector writes it (ECS indicator documents,
 * `_meta.fetched_at`), so the DB status panel has something to describe.
 *
 * The collector is used as built (`npm run build` → collector/dist), the same build its CLI runs from; the
 * few functions needed are loaded from there at runtime rather than compiled a second time into the
 * harness.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import type { TimeRange } from '../common';
import { HARNESS_DIR } from './paths';

export const REPO_ROOT = join(HARNESS_DIR, '..', '..');
const COLLECTOR_DIST = join(REPO_ROOT, 'collector', 'dist');
export const COLLECTOR_CLI = join(COLLECTOR_DIST, 'cli', 'main.js');
export const DEMO_BLOCKLIST = join(REPO_ROOT, 'collector', 'test', 'fixtures', 'riskiq-demo', 'blocklist.csv');
export const DEMO_CAPTURES_DIR = join(REPO_ROOT, 'collector', 'test', 'exporters', 'captures');
/** Index names the CLI's --demo uses (plain indices, outside the collector's data stream pattern). */
export const DEMO_FLOWS_INDEX = 'threatflow-harness-demo-flows';
export const DEMO_INDICATORS_INDEX = 'threatflow-harness-demo-indicators';

/** A decoded flow document, as far as the harness and its test read it. */
export interface FlowDoc {
  '@timestamp': number | string;
  threat?: { enrichments?: Array<{ matched?: { atomic?: string } }> };
  [field: string]: unknown;
}

/** The parts of collector/dist used here (typed locally: the collector's sources are another project). */
interface CollectorAssets {
  flowsMappings(): Record<string, unknown>;
  flowsSettingsComponent(cfg: { shards: number; replicas: number; refreshInterval: string; codec: string }): {
    template: { settings?: Record<string, unknown> };
  };
}
interface CollectorParse {
  parseBlocklist(body: Buffer): { entries: unknown[] };
}
interface CollectorIndicators {
  indicatorMappings(): Record<string, unknown>;
  indicatorDocument(entry: unknown, fetchedAt: number, launchUrl: string): Record<string, unknown>;
}

function collectorModule<T>(rel: string): T {
  const path = join(COLLECTOR_DIST, rel);
  try {
    // A computed path: bundlers leave it alone and Node loads the collector's own build.
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return require(path) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') {
      throw new Error(`${path} is missing: build the collector first (npm run build)`);
    }
    throw err;
  }
}

/** The bundled captures (`collector/test/exporters/captures/*.pcap*`), in name order. */
export function demoCaptures(): string[] {
  return readdirSync(DEMO_CAPTURES_DIR)
    .filter((f) => /\.pcap/.test(f))
    .sort()
    .map((f) => join(DEMO_CAPTURES_DIR, f));
}

/**
 * Runs `threatflow decode --quiet --threat-db <demo blocklist> <captures>` and returns its NDJSON output
 * (one ECS flow document per line) and the parsed documents.
 */
export function decodeDemo(): Promise<{ ndjson: string; docs: FlowDoc[] }> {
  const args = [COLLECTOR_CLI, 'decode', '--quiet', '--threat-db', DEMO_BLOCKLIST, ...demoCaptures()];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { maxBuffer: 256 * 1024 * 1024, timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) {
        const hint = (err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' || /Cannot find module/.test(stderr) ? ' (build the collector first: npm run build)' : '';
        reject(new Error(`threatflow decode failed${hint}: ${stderr || err.message}`));
        return;
      }
      const docs = stdout
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as FlowDoc);
      resolve({ ndjson: stdout, docs });
    });
  });
}

function epochMs(t: number | string): number {
  return typeof t === 'number' ? t : Date.parse(t);
}

/**
 * Whole UTC days around the documents' timestamps, so the range reads well in a date picker and in a URL:
 * [midnight before the first flow, midnight after the last).
 */
export function dataRange(docs: FlowDoc[]): TimeRange {
  if (docs.length === 0) throw new Error('no documents: nothing to take a time range from');
  let min = Infinity;
  let max = -Infinity;
  for (const d of docs) {
    const t = epochMs(d['@timestamp']);
    if (t < min) min = t;
    if (t > max) max = t;
  }
  const DAY = 86_400_000;
  return { from: new Date(Math.floor(min / DAY) * DAY).toISOString(), to: new Date(Math.floor(max / DAY) * DAY + DAY).toISOString() };
}

/**
 * Creates `index` with the collector's flows mapping and settings (the same component templates `threatflow
 * setup` installs), replicas 0 so a one-node cluster stays green. An existing index of that name is replaced.
 */
export async function createFlowsIndex(es: Client, index: string): Promise<void> {
  const assets = collectorModule<CollectorAssets>('output/elasticsearch/assets.js');
  const settings = assets.flowsSettingsComponent({ shards: 1, replicas: 0, refreshInterval: '1s', codec: 'default' }).template.settings;
  await es.indices.delete({ index, ignore_unavailable: true });
  await es.indices.create({ index, settings, mappings: assets.flowsMappings() as never });
}

/** Bulk-indexes the documents and refreshes; throws with the first item error (a mapping conflict, say). */
export async function indexDocs(es: Client, index: string, docs: readonly Record<string, unknown>[]): Promise<void> {
  const CHUNK = 1000;
  for (let i = 0; i < docs.length; i += CHUNK) {
    const operations = docs.slice(i, i + CHUNK).flatMap((d) => [{ create: {} }, d]);
    const res = await es.bulk({ index, operations, refresh: false });
    if (res.errors) {
      const failed = res.items.find((it) => Object.values(it)[0]?.error);
      const e = failed ? Object.values(failed)[0]?.error : undefined;
      throw new Error(`indexing into ${index} failed: ${e ? `${e.type}: ${e.reason}` : 'unknown item error'}`);
    }
  }
  await es.indices.refresh({ index });
}

/**
 * The demo blocklist as the collector's indicator documents, in `index` with the collector's indicator
 * mapping and `_meta.fetched_at` (what the DB status route reads). Replaces an existing index.
 */
export async function createIndicatorIndex(es: Client, index: string, launchUrlTemplate: string, fetchedAt = Date.now()): Promise<number> {
  const parse = collectorModule<CollectorParse>('enrich/riskiq-threat/parse.js');
  const ind = collectorModule<CollectorIndicators>('enrich/riskiq-threat/indicators.js');
  const { entries } = parse.parseBlocklist(readFileSync(DEMO_BLOCKLIST));
  const mappings = { ...ind.indicatorMappings(), _meta: { fetched_at: fetchedAt, source: DEMO_BLOCKLIST, entries: entries.length } };
  await es.indices.delete({ index, ignore_unavailable: true });
  await es.indices.create({ index, settings: { number_of_shards: 1, number_of_replicas: 0 }, mappings: mappings as never });
  await indexDocs(es, index, entries.map((e) => ind.indicatorDocument(e, fetchedAt, launchUrlTemplate)));
  return entries.length;
}

export interface DemoLoad {
  flows: number;
  indicators: number;
  range: TimeRange;
  docs: FlowDoc[];
}

/** Decodes the captures and (re)creates both demo indices. */
export async function loadDemo(es: Client, opts: { flowsIndex: string; indicatorsIndex: string; launchUrlTemplate: string }): Promise<DemoLoad> {
  const { docs } = await decodeDemo();
  await createFlowsIndex(es, opts.flowsIndex);
  await indexDocs(es, opts.flowsIndex, docs);
  const indicators = await createIndicatorIndex(es, opts.indicatorsIndex, opts.launchUrlTemplate);
  return { flows: docs.length, indicators, range: dataRange(docs), docs };
}
