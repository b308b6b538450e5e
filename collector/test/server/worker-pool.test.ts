// SPDX-License-Identifier: Apache-2.0
/**
 * Worker supervision in the receiver thread: a decoding worker that dies is started again, the current
 * threat DB is replayed to it, datagrams that arrive while it is down are counted as dropped, and
 * healthy() reports the gap. Real worker threads running a small script that speaks the pool's protocol.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Metrics } from '../../src/observability/metrics';
import { WorkerPool } from '../../src/server/worker-pool';
import { memoryLogger, waitFor } from '../helpers/es';

const SCRIPT = `
const { parentPort } = require('node:worker_threads');
let datagrams = 0, dbs = 0;
const report = () => parentPort.postMessage({ type: 'metrics', values: { test_datagrams: datagrams, test_dbs: dbs } });
parentPort.on('message', (m) => {
  if (m.type === 'batch') { datagrams += Buffer.from(m.data).length > 0 ? 1 : 0; report(); }
  else if (m.type === 'threat_db') { dbs++; report(); }
  else if (m.type === 'crash') { process.exit(3); }
  else if (m.type === 'stop') { report(); parentPort.postMessage({ type: 'stopped', values: { test_datagrams: datagrams, test_dbs: dbs } }); parentPort.close(); }
});
parentPort.postMessage({ type: 'ready' });
`;

describe('WorkerPool supervision', () => {
  it('restarts a dead worker, replays the threat DB to it, counts what it missed, keeps totals', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tf-pool-'));
    const script = join(dir, 'worker.js');
    writeFileSync(script, SCRIPT);
    const metrics = new Metrics();
    const { log, lines } = memoryLogger();
    const pool = new WorkerPool(script, 1, {}, log, metrics);
    await pool.start();
    expect(pool.healthy()).toBe(true);

    pool.broadcast({ type: 'threat_db', data: 1 });
    pool.dispatch(Buffer.from([1, 2, 3]), '192.0.2.1', 2055, Date.now());
    await waitFor(async () => pool.workerMetrics().test_datagrams === 1 && pool.workerMetrics().test_dbs === 1, 5000, 20);

    // A crash: the worker exits on its own.
    pool.broadcast({ type: 'crash' }, false);
    await waitFor(async () => !pool.healthy(), 5000, 10);
    pool.dispatch(Buffer.from([4, 5, 6]), '192.0.2.1', 2055, Date.now());
    await new Promise((r) => setTimeout(r, 20)); // past the 2 ms batch delay: the batch meets the dead worker
    expect(metrics.get('datagrams_dropped', { reason: 'worker_unavailable' })).toBe(1);

    // Restarted after ~1 s, with the threat DB replayed; the first worker's counts are kept.
    await waitFor(async () => pool.healthy(), 10_000, 50);
    await waitFor(async () => pool.workerMetrics().test_dbs === 2, 5000, 20);
    pool.dispatch(Buffer.from([7]), '192.0.2.1', 2055, Date.now());
    await waitFor(async () => pool.workerMetrics().test_datagrams === 2, 5000, 20);
    expect(metrics.get('worker_restarts')).toBe(1);
    expect(lines.some((l) => l.includes('decoding worker exited; restarting it'))).toBe(true);
    await pool.stop();
  });
});
