// SPDX-License-Identifier: Apache-2.0
/**
 * The disk spool of the bulk writer (DESIGN.md §8) against a loopback `_bulk` server that answers 503 or
 * refuses connections for a while and then recovers: every document arrives exactly once, spooled batches
 * in the order they were spooled, and the spool directory is empty afterwards; beyond the bound exactly the
 * overflow is counted; what a previous run left is replayed at start; an unwritable spool costs only the
 * batches it could not keep.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@elastic/elasticsearch';
import { BulkWriter, type BulkConfig } from '../../src/output/elasticsearch/bulk';
import { Metrics } from '../../src/observability/metrics';
import { memoryLogger, waitFor } from '../helpers/es';
import { fakeBulkServer, okReply, type Reply } from '../helpers/fake-bulk';

const L = { output: 'elasticsearch' };
/** The module object itself (not an import wrapper), so a test can make one of its calls fail. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const fsp = require('node:fs/promises') as typeof import('node:fs/promises');
const tmp = () => mkdtempSync(join(tmpdir(), 'tf-spool-'));

function config(spoolDir: string, over: Partial<BulkConfig> = {}): BulkConfig {
  return {
    target: 'logs-threatflow.flows-default',
    maxDocs: 10,
    maxBytes: 1024 * 1024,
    deadlineMs: 20,
    concurrency: 1,
    retryEnable: true,
    maxRetries: 1,
    retryBackoffMs: 10,
    maxQueuedBytes: 16 * 1024 * 1024,
    deadLetterPath: join(tmp(), 'dl.ndjson'),
    spool: { dir: spoolDir, maxBytes: 1024 * 1024 },
    spoolReplayIntervalMs: 50,
    ...over,
  };
}

/** Documents of the same size, numbered from `from`. */
const docs = (from: number, n: number) => Array.from({ length: n }, (_, i) => JSON.stringify({ n: String(from + i).padStart(6, '0') }));
const num = (d: string) => Number(JSON.parse(d).n);

/** A server that is down (503) until `up` is set; `indexed` holds what it accepted, in arrival order. */
async function flakyServer() {
  const state = { up: false, indexed: [] as string[] };
  const srv = await fakeBulkServer([
    (d): Reply => {
      if (!state.up) return { status: 503, body: { error: { type: 'unavailable_shards_exception' }, status: 503 } };
      state.indexed.push(...d);
      return okReply(d);
    },
  ]);
  return { srv, state };
}

/** Adds batches of 10 documents, each cut and flushed (so each fails on its own and is spooled). */
async function addBatches(w: BulkWriter, from: number, batches: number): Promise<void> {
  for (let i = 0; i < batches; i++) {
    for (const d of docs(from + i * 10, 10)) w.add(d);
    await w.flush();
  }
}

/** The batch files of a spool directory (not its lock file). */
const spoolFiles = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((n) => n !== '.lock') : []);

describe('the disk spool of the bulk writer', () => {
  it('keeps batches through a 503 outage and replays them in order, exactly once, when the server recovers', async () => {
    const { srv, state } = await flakyServer();
    const dir = join(tmp(), 'spool');
    const client = new Client({ node: srv.url });
    const metrics = new Metrics();
    const w = new BulkWriter(client, config(dir), memoryLogger().log, metrics);
    w.startReplay();
    await addBatches(w, 0, 5);
    expect(metrics.get('output_spool_batches', L)).toBe(5);
    expect(metrics.get('output_spooled_documents', L)).toBe(50);
    expect(spoolFiles(dir)).toHaveLength(5);
    expect(metrics.sum('output_dropped')).toBe(0);
    state.up = true;
    // New documents after the outage: the successful request starts the replay.
    await addBatches(w, 50, 1);
    await waitFor(async () => state.indexed.length >= 60, 10_000, 20);
    await waitFor(async () => metrics.get('output_spool_batches', L) === 0, 10_000, 20);
    await w.stop();
    const got = state.indexed.map(num);
    expect([...got].sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    const spooled = got.filter((n) => n < 50);
    expect(spooled).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(metrics.get('output_replayed_documents', L)).toBe(50);
    expect(metrics.get('output_documents', L)).toBe(60);
    expect(metrics.get('output_spool_bytes', L)).toBe(0);
    expect(spoolFiles(dir)).toEqual([]);
    await client.close();
    await srv.close();
  });

  it('drains on its timer, without new documents, when refused connections give way to a server again', async () => {
    const { srv, state } = await flakyServer();
    state.up = true;
    await srv.close(); // the port now refuses connections
    const dir = join(tmp(), 'spool');
    const client = new Client({ node: srv.url });
    const metrics = new Metrics();
    const w = new BulkWriter(client, config(dir), memoryLogger().log, metrics);
    w.startReplay();
    await addBatches(w, 0, 4);
    expect(spoolFiles(dir)).toHaveLength(4);
    expect(state.indexed).toEqual([]);
    await new Promise((r) => setTimeout(r, 200)); // a few replay attempts fail meanwhile: the head stays
    expect(spoolFiles(dir)).toHaveLength(4);
    await srv.reopen();
    await waitFor(async () => state.indexed.length >= 40, 10_000, 20);
    await waitFor(async () => spoolFiles(dir).length === 0, 10_000, 20);
    await w.stop();
    expect(state.indexed.map(num)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(metrics.sum('output_dropped')).toBe(0);
    await client.close();
    await srv.close();
  });

  it('counts exactly the batches beyond the bound as spool_full, and replays the ones within it', async () => {
    const { srv, state } = await flakyServer();
    const dir = join(tmp(), 'spool');
    const batchBytes = docs(0, 10).reduce((n, d) => n + Buffer.byteLength('{"create":{}}\n' + d + '\n'), 0);
    const client = new Client({ node: srv.url });
    const metrics = new Metrics();
    const { log, lines } = memoryLogger();
    const w = new BulkWriter(client, config(dir, { spool: { dir, maxBytes: 2 * batchBytes + batchBytes / 2 } }), log, metrics);
    w.startReplay();
    await addBatches(w, 0, 5);
    expect(metrics.get('output_spool_batches', L)).toBe(2);
    expect(metrics.get('output_spool_bytes', L)).toBe(2 * batchBytes);
    expect(metrics.get('output_dropped', { output: 'elasticsearch', reason: 'spool_full' })).toBe(30);
    expect(metrics.sum('output_dropped')).toBe(30);
    expect(lines.some((l) => l.includes('spool full'))).toBe(true);
    state.up = true;
    await waitFor(async () => spoolFiles(dir).length === 0, 10_000, 20);
    await w.stop();
    expect(state.indexed.map(num)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    await client.close();
    await srv.close();
  });

  it('replays at start what a previous run left, oldest first, and ignores half-written temporary files', async () => {
    const { srv, state } = await flakyServer();
    state.up = true;
    const dir = join(tmp(), 'spool');
    mkdirSync(dir, { recursive: true });
    const body = (from: number) => Buffer.from(docs(from, 10).map((d) => `{"create":{}}\n${d}\n`).join(''));
    // Written out of order on purpose: the names say the order.
    writeFileSync(join(dir, '00000000000000000002-10.bulk'), body(20));
    writeFileSync(join(dir, '00000000000000000000-10.bulk'), body(0));
    writeFileSync(join(dir, '00000000000000000001-10.bulk'), body(10));
    writeFileSync(join(dir, '.tmp-00000000000000000003-10.bulk'), body(30).subarray(0, 40));
    const client = new Client({ node: srv.url });
    const metrics = new Metrics();
    const { log, lines } = memoryLogger();
    const w = new BulkWriter(client, config(dir), log, metrics);
    expect(metrics.get('output_spool_batches', L)).toBe(3);
    expect(lines.some((l) => l.includes('previous run'))).toBe(true);
    expect(state.indexed).toEqual([]); // nothing before the output is ready
    w.startReplay();
    await waitFor(async () => spoolFiles(dir).length === 0, 10_000, 20);
    await w.stop();
    expect(state.indexed.map(num)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(metrics.get('output_replayed_documents', L)).toBe(30);
    await client.close();
    await srv.close();
  });

  it('resends only what a replayed batch did not get indexed, so nothing arrives twice', async () => {
    const state = { step: 0, indexed: [] as string[] };
    const srv = await fakeBulkServer([
      (): Reply => ({ status: 503, body: { status: 503 } }), // live attempt
      (): Reply => ({ status: 503, body: { status: 503 } }), // its retry: spooled
      (d): Reply => {
        // First replay: odd items refused with 429, even ones indexed.
        d.forEach((x, i) => i % 2 === 0 && state.indexed.push(x));
        return { status: 200, body: { errors: true, items: d.map((_, i) => ({ create: i % 2 ? { status: 429, error: { type: 'es_rejected_execution_exception', reason: 'busy' } } : { status: 201 } })) } };
      },
      (d): Reply => {
        state.indexed.push(...d);
        return okReply(d);
      },
    ]);
    const dir = join(tmp(), 'spool');
    const client = new Client({ node: srv.url });
    const metrics = new Metrics();
    const w = new BulkWriter(client, config(dir), memoryLogger().log, metrics);
    await addBatches(w, 0, 1);
    expect(spoolFiles(dir)).toHaveLength(1);
    w.startReplay();
    await waitFor(async () => spoolFiles(dir).length === 0, 10_000, 20);
    await w.stop();
    expect(srv.requests[3].map(num)).toEqual([1, 3, 5, 7, 9]);
    expect(state.indexed.map(num).sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(metrics.get('output_replayed_documents', L)).toBe(10);
    await client.close();
    await srv.close();
  });

  it('counts and logs once when the spool cannot be written, and keeps indexing when the server is back', async () => {
    const { srv, state } = await flakyServer();
    const blocker = join(tmp(), 'a-file');
    writeFileSync(blocker, 'not a directory');
    const dir = join(blocker, 'spool'); // mkdir fails with ENOTDIR, even as root
    const client = new Client({ node: srv.url });
    const metrics = new Metrics();
    const { log, lines } = memoryLogger();
    const w = new BulkWriter(client, config(dir), log, metrics);
    w.startReplay();
    await addBatches(w, 0, 3);
    expect(metrics.get('output_dropped', { output: 'elasticsearch', reason: 'spool_write_error' })).toBe(30);
    expect(metrics.get('output_spool_write_errors', L)).toBeGreaterThanOrEqual(3);
    expect(metrics.get('output_spool_bytes', L)).toBe(0);
    expect(lines.filter((l) => l.includes('spool is off for this run') && l.includes(dir)).length).toBe(1);
    state.up = true;
    await addBatches(w, 30, 2);
    await w.stop();
    expect(state.indexed.map(num)).toEqual(Array.from({ length: 20 }, (_, i) => 30 + i));
    await client.close();
    await srv.close();
  });

  it('spools what the in-memory queue cannot hold instead of dropping it', async () => {
    const { srv, state } = await flakyServer();
    const dir = join(tmp(), 'spool');
    const client = new Client({ node: srv.url });
    const metrics = new Metrics();
    // A queue of one batch, slow retries: batches that wait behind the first one overflow it.
    const w = new BulkWriter(client, config(dir, { maxQueuedBytes: 1, retryBackoffMs: 200 }), memoryLogger().log, metrics);
    w.startReplay();
    for (let i = 0; i < 4; i++) {
      for (const d of docs(i * 10, 10)) w.add(d);
      await new Promise((r) => setTimeout(r, 30));
    }
    await w.flush();
    expect(metrics.get('output_dropped', { output: 'elasticsearch', reason: 'queue_full' })).toBe(0);
    expect(metrics.get('output_spooled_documents', L)).toBe(40);
    state.up = true;
    await waitFor(async () => spoolFiles(dir).length === 0 && state.indexed.length >= 40, 10_000, 20);
    await w.stop();
    expect(state.indexed.map(num).sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(state.indexed.length).toBe(40);
    await client.close();
    await srv.close();
  });

  it('never overwrites what a previous run left, even when the scan meets an entry it cannot remove', async () => {
    const { srv, state } = await flakyServer();
    const dir = join(tmp(), 'spool');
    mkdirSync(join(dir, '.tmp-stuck', 'inside'), { recursive: true }); // unlink fails (a directory)
    const body = (from: number) => Buffer.from(docs(from, 10).map((d) => `{"create":{}}\n${d}\n`).join(''));
    writeFileSync(join(dir, '00000000000000000000-10.bulk'), body(0));
    writeFileSync(join(dir, '00000000000000000001-10.bulk'), body(10));
    const client = new Client({ node: srv.url });
    const metrics = new Metrics();
    const w = new BulkWriter(client, config(dir), memoryLogger().log, metrics);
    expect(metrics.get('output_spool_batches', L)).toBe(2);
    // A file that appears under the next name after the scan is not overwritten either.
    writeFileSync(join(dir, '00000000000000000002-10.bulk'), body(20));
    await addBatches(w, 30, 1);
    expect(spoolFiles(dir).filter((n) => n.endsWith('.bulk'))).toHaveLength(4);
    expect(readFileSync(join(dir, '00000000000000000002-10.bulk'), 'utf8')).toBe(body(20).toString());
    state.up = true;
    w.startReplay();
    await waitFor(async () => metrics.get('output_spool_batches', L) === 0, 10_000, 20);
    await w.stop();
    // 0-19 and 30-39 replayed in order; 20-29 was not known to this run and stays for the next.
    expect(state.indexed.map(num)).toEqual([...Array.from({ length: 20 }, (_, i) => i), ...Array.from({ length: 10 }, (_, i) => 30 + i)]);
    expect(spoolFiles(dir).filter((n) => n.endsWith('.bulk'))).toEqual(['00000000000000000002-10.bulk']);
    await client.close();
    await srv.close();
  });

  it('keeps a replayed batch refused as a whole with 401/403/407/413 at the head, and dead-letters it only on 400', async () => {
    let status = 503;
    const indexed: string[] = [];
    const srv = await fakeBulkServer([
      (d): Reply => {
        if (status === 200) {
          indexed.push(...d);
          return okReply(d);
        }
        return { status, body: { error: { type: 'x' }, status } };
      },
    ]);
    const dir = join(tmp(), 'spool');
    const client = new Client({ node: srv.url });
    const metrics = new Metrics();
    const w = new BulkWriter(client, config(dir), memoryLogger().log, metrics);
    await addBatches(w, 0, 2);
    expect(spoolFiles(dir)).toHaveLength(2);
    w.startReplay();
    for (const s of [401, 403, 407, 413]) {
      status = s;
      const before = srv.requests.length;
      await waitFor(async () => srv.requests.length >= before + 2, 10_000, 10);
      expect(spoolFiles(dir)).toHaveLength(2);
    }
    expect(metrics.get('output_dead_letter', L)).toBe(0);
    status = 400; // the body itself is refused: the head goes to the dead letter file, then the next
    await waitFor(async () => spoolFiles(dir).length === 0, 10_000, 10);
    await w.stop();
    expect(metrics.get('output_dead_letter', L)).toBe(20);
    expect(indexed).toEqual([]);
    await client.close();
    await srv.close();
  });

  it('backs off between failed replay turns, whatever live successes do meanwhile, and counts them', async () => {
    // Spooled documents (n < 10) are refused with 503; live ones are indexed.
    const srv = await fakeBulkServer([
      (d): Reply => (d.some((x) => num(x) < 10) ? { status: 503, body: { status: 503 } } : okReply(d)),
    ]);
    const dir = join(tmp(), 'spool');
    const client = new Client({ node: srv.url });
    const metrics = new Metrics();
    const w = new BulkWriter(client, config(dir, { retryBackoffMs: 100, spoolReplayIntervalMs: 20 }), memoryLogger().log, metrics);
    await addBatches(w, 0, 1);
    expect(spoolFiles(dir)).toHaveLength(1);
    w.startReplay();
    const replays = () => srv.requests.filter((r) => r.some((x) => num(x) < 10)).length;
    const before = replays();
    const t0 = Date.now();
    // 30 live batches, each indexed: each success used to start a replay turn at once.
    await addBatches(w, 10, 30);
    const elapsed = Date.now() - t0;
    const turns = replays() - before;
    // Backoff 100, 200, 400, 800 ms...: a handful of turns at most in this time.
    expect(turns).toBeLessThanOrEqual(2 + Math.ceil(Math.log2(elapsed / 50 + 1)));
    expect(turns).toBeGreaterThanOrEqual(1);
    expect(metrics.get('output_spool_replay_failures', L)).toBeGreaterThanOrEqual(turns - 1);
    expect(spoolFiles(dir)).toHaveLength(1); // the head stays the head
    await w.stop();
    await client.close();
    await srv.close();
  });

  it('counts and logs once when a replayed file cannot be deleted', async () => {
    const { srv, state } = await flakyServer();
    const dir = join(tmp(), 'spool');
    const client = new Client({ node: srv.url });
    const metrics = new Metrics();
    const { log, lines } = memoryLogger();
    const w = new BulkWriter(client, config(dir), log, metrics);
    await addBatches(w, 0, 3);
    expect(spoolFiles(dir)).toHaveLength(3);
    const spy = jest.spyOn(fsp, 'unlink').mockImplementation(async (p) => {
      if (String(p).endsWith('.bulk')) throw Object.assign(new Error('EIO: i/o error'), { code: 'EIO' });
    });
    try {
      state.up = true;
      w.startReplay();
      await waitFor(async () => metrics.get('output_spool_batches', L) === 0, 10_000, 20);
      await w.stop();
    } finally {
      spy.mockRestore();
    }
    expect(state.indexed).toHaveLength(30);
    expect(metrics.get('output_spool_delete_errors', L)).toBe(3);
    expect(lines.filter((l) => l.includes('indexed again at the next start')).length).toBe(1);
    await client.close();
    await srv.close();
  });

  it('keeps a spooled batch at the head when reading it fails (EMFILE), and still drops a truncated one', async () => {
    const { srv, state } = await flakyServer();
    state.up = true;
    const dir = join(tmp(), 'spool');
    mkdirSync(dir, { recursive: true });
    const body = (from: number) => Buffer.from(docs(from, 10).map((d) => `{"create":{}}\n${d}\n`).join(''));
    writeFileSync(join(dir, '00000000000000000000-10.bulk'), body(0));
    writeFileSync(join(dir, '00000000000000000001-10.bulk'), body(10).subarray(0, 30)); // truncated
    writeFileSync(join(dir, '00000000000000000002-10.bulk'), body(20));
    const client = new Client({ node: srv.url });
    const metrics = new Metrics();
    const { log, lines } = memoryLogger();
    const w = new BulkWriter(client, config(dir), log, metrics);
    const real = fsp.readFile;
    let failures = 3;
    const spy = jest.spyOn(fsp, 'readFile').mockImplementation(((...a: Parameters<typeof real>) => {
      if (failures > 0 && String(a[0]).endsWith('.bulk')) {
        failures--;
        return Promise.reject(Object.assign(new Error('EMFILE: too many open files'), { code: 'EMFILE' }));
      }
      return real(...a);
    }) as typeof real);
    try {
      w.startReplay();
      await waitFor(async () => metrics.get('output_spool_batches', L) === 0, 10_000, 20);
      await w.stop();
    } finally {
      spy.mockRestore();
    }
    expect(state.indexed.map(num)).toEqual([...Array.from({ length: 10 }, (_, i) => i), ...Array.from({ length: 10 }, (_, i) => 20 + i)]);
    expect(metrics.get('output_spool_read_errors', L)).toBe(3);
    expect(metrics.get('output_dropped', { output: 'elasticsearch', reason: 'spool_unreadable' })).toBe(10);
    expect(lines.filter((l) => l.includes('cannot read a spooled batch')).length).toBe(1);
    await client.close();
    await srv.close();
  });

  it('stop() during an outage spools what is queued or waiting to be retried, and returns promptly', async () => {
    const { srv } = await flakyServer();
    await srv.close(); // connections refused
    const dir = join(tmp(), 'spool');
    const client = new Client({ node: srv.url });
    const metrics = new Metrics();
    const w = new BulkWriter(client, config(dir, { maxRetries: 8, retryBackoffMs: 1000 }), memoryLogger().log, metrics);
    w.startReplay();
    for (const d of docs(0, 50)) w.add(d); // 5 batches: one in retry backoff, four queued
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    const done = await Promise.race([w.stop().then(() => true), new Promise((r) => setTimeout(() => r(false), 3000))]);
    expect(done).toBe(true);
    expect(Date.now() - t0).toBeLessThan(1500);
    const files = spoolFiles(dir).filter((n) => n.endsWith('.bulk'));
    const spooled = files.flatMap((n) => readFileSync(join(dir, n), 'utf8').split('\n').filter((_, i) => i % 2 === 1).filter(Boolean));
    expect(spooled.map(num).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(metrics.sum('output_dropped')).toBe(0);
    await client.close();
  });

  it('stays off when another live process holds the spool directory, and takes over a stale lock', async () => {
    const { srv, state } = await flakyServer();
    const dir = join(tmp(), 'spool');
    mkdirSync(dir, { recursive: true });
    const old = Buffer.from(docs(0, 10).map((d) => `{"create":{}}\n${d}\n`).join(''));
    writeFileSync(join(dir, '00000000000000000000-10.bulk'), old);
    writeFileSync(join(dir, '.lock'), String(process.ppid)); // a live process that is not this one
    const client = new Client({ node: srv.url });
    const metrics = new Metrics();
    const { log, lines } = memoryLogger();
    const w = new BulkWriter(client, config(dir), log, metrics);
    expect(metrics.get('output_spool_batches', L)).toBe(0);
    await addBatches(w, 10, 1);
    expect(metrics.get('output_dropped', { output: 'elasticsearch', reason: 'spool_write_error' })).toBe(10);
    expect(lines.filter((l) => l.includes('another live process') && l.includes(dir) && l.includes(`"pid":${process.ppid}`)).length).toBe(1);
    expect(spoolFiles(dir).filter((n) => n.endsWith('.bulk'))).toEqual(['00000000000000000000-10.bulk']);
    await w.stop();
    expect(readFileSync(join(dir, '.lock'), 'utf8')).toBe(String(process.ppid));
    // The holder is gone (a pid no process has): the next one takes over and replays.
    writeFileSync(join(dir, '.lock'), '4194303');
    state.up = true;
    const metrics2 = new Metrics();
    const w2 = new BulkWriter(client, config(dir), memoryLogger().log, metrics2);
    expect(readFileSync(join(dir, '.lock'), 'utf8')).toBe(String(process.pid));
    w2.startReplay();
    await waitFor(async () => metrics2.get('output_spool_batches', L) === 0, 10_000, 20);
    await w2.stop();
    expect(state.indexed.map(num)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(existsSync(join(dir, '.lock'))).toBe(false);
    await client.close();
    await srv.close();
  });

  it('warns at start when a full batch cannot be spooled, and when the spool is off but a previous run left batches', async () => {
    const client = new Client({ node: 'http://127.0.0.1:9' });
    const dir = join(tmp(), 'spool');
    const small = memoryLogger();
    const w1 = new BulkWriter(client, config(dir, { spool: { dir, maxBytes: 1000 } }), small.log, new Metrics());
    expect(small.lines.filter((l) => l.includes('a full batch cannot be spooled')).length).toBe(1);
    await w1.stop();
    writeFileSync(join(dir, '00000000000000000000-10.bulk'), '{"create":{}}\n{}\n');
    const off = memoryLogger();
    const w2 = new BulkWriter(client, config(dir, { spool: { dir, maxBytes: 0 } }), off.log, new Metrics());
    expect(off.lines.filter((l) => l.includes('not replayed') && l.includes(dir)).length).toBe(1);
    await w2.stop();
    const fine = memoryLogger();
    const w3 = new BulkWriter(client, config(join(tmp(), 'spool')), fine.log, new Metrics());
    expect(fine.lines.filter((l) => l.includes('cannot be spooled') || l.includes('not replayed'))).toEqual([]);
    await w3.stop();
    await client.close();
  });
});
