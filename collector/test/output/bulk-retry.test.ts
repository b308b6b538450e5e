// SPDX-License-Identifier: Apache-2.0
/**
 * Retry behaviour of the bulk writer against a loopback HTTP server that answers `_bulk` the way
 * Elasticsearch does (product header, `errors`/`items` shape) but on our script: whole-request 429 and
 * 503, per-item 429 mixed with 201, and a port where nothing listens (connection refused).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@elastic/elasticsearch';
import { BulkWriter, type BulkConfig } from '../../src/output/elasticsearch/bulk';
import { Metrics } from '../../src/observability/metrics';
import { memoryLogger } from '../helpers/es';
import { fakeBulkServer, okReply as ok } from '../helpers/fake-bulk';

function config(over: Partial<BulkConfig> = {}): BulkConfig {
  return {
    target: 'logs-threatflow.flows-default',
    maxDocs: 100,
    maxBytes: 1024 * 1024,
    deadlineMs: 50,
    concurrency: 1,
    retryEnable: true,
    maxRetries: 3,
    retryBackoffMs: 20,
    maxQueuedBytes: 16 * 1024 * 1024,
    deadLetterPath: join(mkdtempSync(join(tmpdir(), 'tf-retry-')), 'dl.ndjson'),
    ...over,
  };
}

const docs = (n: number) => Array.from({ length: n }, (_, i) => JSON.stringify({ n: i }));

describe('bulk retries', () => {
  it('retries a whole request refused with 429 and then 503, and indexes everything', async () => {
    const srv = await fakeBulkServer([
      () => ({ status: 429, body: { error: { type: 'es_rejected_execution_exception' }, status: 429 } }),
      () => ({ status: 503, body: { error: { type: 'unavailable' }, status: 503 } }),
      ok,
    ]);
    const client = new Client({ node: srv.url });
    const metrics = new Metrics();
    const w = new BulkWriter(client, config(), memoryLogger().log, metrics);
    for (const d of docs(4)) w.add(d);
    await w.stop();
    expect(srv.requests.map((r) => r.length)).toEqual([4, 4, 4]);
    expect(metrics.get('bulk_retries', { output: 'elasticsearch' })).toBe(2);
    expect(metrics.get('output_documents', { output: 'elasticsearch' })).toBe(4);
    await client.close();
    await srv.close();
  });

  it('resends only the items that got 429, in order', async () => {
    const srv = await fakeBulkServer([
      (d) => ({
        status: 200,
        body: { errors: true, items: d.map((_, i) => ({ create: i % 2 ? { status: 429, error: { type: 'es_rejected_execution_exception', reason: 'queue full' } } : { status: 201 } })) },
      }),
      ok,
    ]);
    const client = new Client({ node: srv.url });
    const metrics = new Metrics();
    const w = new BulkWriter(client, config(), memoryLogger().log, metrics);
    for (const d of docs(6)) w.add(d);
    await w.stop();
    expect(srv.requests[0]).toEqual(docs(6));
    expect(srv.requests[1]).toEqual([docs(6)[1], docs(6)[3], docs(6)[5]]);
    expect(metrics.get('output_documents', { output: 'elasticsearch' })).toBe(6);
    await client.close();
    await srv.close();
  });

  it('drops with a count after the retries when nothing listens, and says so in the log', async () => {
    const srv = await fakeBulkServer([ok]);
    const url = srv.url;
    await srv.close(); // now the port refuses connections
    const client = new Client({ node: url });
    const metrics = new Metrics();
    const { log, lines } = memoryLogger();
    const w = new BulkWriter(client, config({ maxRetries: 2 }), log, metrics);
    for (const d of docs(3)) w.add(d);
    await w.stop();
    expect(metrics.get('bulk_retries', { output: 'elasticsearch' })).toBe(2);
    expect(metrics.get('output_dropped', { output: 'elasticsearch', reason: 'retries_exhausted' })).toBe(3);
    expect(lines.some((l) => l.includes('dropped after retries'))).toBe(true);
    await client.close();
  });
});
