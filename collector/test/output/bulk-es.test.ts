// SPDX-License-Identifier: Apache-2.0
/**
 * The Elasticsearch output against the real embedded Elasticsearch: templates install idempotently, a
 * document the mapping rejects goes to the dead-letter file with its reason while the rest of the batch is
 * indexed, and batches are cut by count and by deadline.
 */
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@elastic/elasticsearch';
import { BulkWriter, type BulkConfig } from '../../src/output/elasticsearch/bulk';
import { installTemplates } from '../../src/output/elasticsearch/install';
import { flowsTemplateSet } from '../../src/output/elasticsearch/assets';
import { Metrics } from '../../src/observability/metrics';
import { describeEs, es, ES_URL, memoryLogger, uniqueId } from '../helpers/es';

function bulkConfig(target: string, dir: string, over: Partial<BulkConfig> = {}): BulkConfig {
  return {
    target,
    maxDocs: 1000,
    maxBytes: 1024 * 1024,
    deadlineMs: 200,
    concurrency: 2,
    retryEnable: true,
    maxRetries: 2,
    retryBackoffMs: 50,
    maxQueuedBytes: 64 * 1024 * 1024,
    deadLetterPath: join(dir, 'dead-letter.ndjson'),
    ...over,
  };
}

describeEs('Elasticsearch output on the embedded Elasticsearch', () => {
  const id = uniqueId();
  const client = new Client({ node: ES_URL });
  const pattern = `logs-tftest.bulk${id}-*`;
  const target = `logs-tftest.bulk${id}-default`;
  const names = { settings: `tftest-bulk-${id}@settings`, mappings: `tftest-bulk-${id}@mappings`, template: `tftest-bulk-${id}` };

  /** The collector's real templates, renamed so the test owns them. */
  const templateSet = (ilm: boolean) => {
    const set = flowsTemplateSet({ shards: 1, replicas: 0, refreshInterval: '1s', codec: 'default', ilmLifecycle: 'threatflow' }, { ilmAvailable: ilm });
    const [settings, mappings] = Object.values(set.componentTemplates);
    const tpl = Object.values(set.indexTemplates)[0];
    return {
      componentTemplates: { [names.settings]: settings, [names.mappings]: mappings },
      indexTemplates: { [names.template]: { ...tpl, index_patterns: [pattern], composed_of: [names.settings, names.mappings] } },
    };
  };

  afterAll(async () => {
    await es('DELETE', `/_data_stream/${target}`);
    await es('DELETE', `/_index_template/${names.template}`);
    await es('DELETE', `/_component_template/${encodeURIComponent(names.settings)}`);
    await es('DELETE', `/_component_template/${encodeURIComponent(names.mappings)}`);
    await client.close();
  });

  it('installs templates idempotently and reports the missing ILM', async () => {
    const { log, lines } = memoryLogger();
    const first = await installTemplates(client, templateSet, false, log);
    expect(first.ilm).toBe(false);
    expect(first.written.sort()).toEqual([names.mappings, names.settings, names.template].sort());
    expect(lines.some((l) => l.includes('no ILM'))).toBe(true);
    // Same version, no overwrite: nothing is written again.
    const second = await installTemplates(client, templateSet, false, log);
    expect(second.written).toEqual([]);
    expect(second.unchanged.sort()).toEqual([names.mappings, names.settings, names.template].sort());
    // Overwrite (the default): written again, and what is stored equals what we sent.
    const third = await installTemplates(client, templateSet, true, log);
    expect(third.written.length).toBe(3);
    const stored = await es('GET', `/_index_template/${names.template}`);
    expect(stored.json.index_templates[0].index_template.index_patterns).toEqual([pattern]);
    expect(stored.json.index_templates[0].index_template.data_stream).toBeDefined();
  });

  it('indexes a batch and sends the document the mapping rejects to the dead-letter file with its reason', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tf-bulk-'));
    const metrics = new Metrics();
    const { log } = memoryLogger();
    const writer = new BulkWriter(client, bulkConfig(target, dir), log, metrics);
    const now = Date.now();
    const good = (i: number) => JSON.stringify({ '@timestamp': now + i, source: { ip: `10.0.0.${i}`, port: 1000 + i }, network: { bytes: 100 * i } });
    // `source` is an object in the mapping: a plain value there is a content error, not a transient one
    // (index.mapping.ignore_malformed skips bad leaf values, but not a value where an object belongs).
    const bad = JSON.stringify({ '@timestamp': now, source: 'not-an-object', network: { bytes: 1 } });
    for (let i = 1; i <= 5; i++) writer.add(good(i));
    writer.add(bad);
    for (let i = 6; i <= 9; i++) writer.add(good(i));
    await writer.stop();

    await es('POST', `/${target}/_refresh`);
    const count = await es('GET', `/${target}/_count`);
    expect(count.json.count).toBe(9);
    const sum = await es('POST', `/${target}/_search`, { size: 0, aggs: { b: { sum: { field: 'network.bytes' } } } });
    expect(sum.json.aggregations.b.value).toBe(100 * (45)); // 1..9 summed, times 100
    expect(metrics.get('output_documents', { output: 'elasticsearch' })).toBe(9);
    expect(metrics.get('output_dead_letter', { output: 'elasticsearch' })).toBe(1);

    const dl = readFileSync(join(dir, 'dead-letter.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(dl).toHaveLength(1);
    expect(dl[0].status).toBe(400);
    expect(dl[0].reason).toMatch(/source/);
    expect(dl[0].document).toEqual(JSON.parse(bad));
    expect(dl[0].target).toBe(target);
  });

  it('keeps a document with one malformed value, skipping only that value (index.mapping.ignore_malformed)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tf-bulk-'));
    const metrics = new Metrics();
    const writer = new BulkWriter(client, bulkConfig(target, dir), memoryLogger().log, metrics);
    writer.add(JSON.stringify({ '@timestamp': Date.now(), source: { ip: '10.7.7.7', port: 'not-a-port' }, network: { bytes: 7 } }));
    await writer.stop();
    await es('POST', `/${target}/_refresh`);
    const hit = (await es('POST', `/${target}/_search`, { query: { term: { 'source.ip': '10.7.7.7' } } })).json.hits.hits[0];
    expect(hit._ignored).toEqual(['source.port']);
    expect(metrics.get('output_dead_letter', { output: 'elasticsearch' })).toBe(0);
  });

  it('cuts batches by document count and by deadline', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tf-bulk-'));
    const metrics = new Metrics();
    const { log } = memoryLogger();
    const writer = new BulkWriter(client, bulkConfig(target, dir, { maxDocs: 10, deadlineMs: 100 }), log, metrics);
    for (let i = 0; i < 25; i++) writer.add(JSON.stringify({ '@timestamp': Date.now(), network: { bytes: 1 } }));
    // 2 full batches go at once; the last 5 wait for the deadline (no flush called).
    await new Promise((r) => setTimeout(r, 1500));
    expect(metrics.get('bulk_requests', { output: 'elasticsearch', result: 'ok' })).toBe(3);
    expect(metrics.get('output_documents', { output: 'elasticsearch' })).toBe(25);
    await writer.stop();
    expect(existsSync(join(dir, 'dead-letter.ndjson'))).toBe(false);
  });
});

describeEs('dead-letter file that cannot be written', () => {
  it('logs once, counts, and keeps indexing the good documents', async () => {
    const id = uniqueId();
    const client = new Client({ node: ES_URL });
    const index = `tftest-dlq-${id}`;
    await es('PUT', `/${index}`, { mappings: { properties: { n: { type: 'long' } } } });
    const metrics = new Metrics();
    const { log, lines } = memoryLogger();
    // A path below a regular file can never be created.
    const writer = new BulkWriter(client, bulkConfig(index, '/dev/null/not-a-dir'), log, metrics);
    writer.add(JSON.stringify({ n: 'x' }));
    writer.add(JSON.stringify({ n: 1 }));
    await writer.flush();
    writer.add(JSON.stringify({ n: 'y' }));
    writer.add(JSON.stringify({ n: 2 }));
    await writer.stop();
    await es('POST', `/${index}/_refresh`);
    expect((await es('GET', `/${index}/_count`)).json.count).toBe(2);
    expect(metrics.get('output_dead_letter', { output: 'elasticsearch' })).toBe(2);
    expect(metrics.get('output_dead_letter_write_errors', { output: 'elasticsearch' })).toBe(2);
    expect(lines.filter((l) => l.includes('cannot write the dead-letter file'))).toHaveLength(1);
    await es('DELETE', `/${index}`);
    await client.close();
  });
});
