// SPDX-License-Identifier: Apache-2.0
/**
 * A decoding worker of `threatflow run`: receives batches of datagrams from the receiver thread, runs
 * them through its own pipeline (its own template caches and outputs), and reports its metrics.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from '../config';
import { threadThreatDb } from '../enrich/riskiq-threat/enricher';
import { ThreatDb } from '../enrich/riskiq-threat/lookup';
import type { ThreatDbData } from '../enrich/riskiq-threat/types';
import { createLogger } from '../observability/logger';
import { Metrics } from '../observability/metrics';
import { readBatch } from '../server/batch';
import type { WorkerMessage } from '../server/worker-pool';
import { buildPipeline } from './build';

interface WorkerInput {
  config: Config;
  workerIndex: number;
  metricsIntervalMs?: number;
}

async function main(): Promise<void> {
  const input = workerData as WorkerInput;
  const port = parentPort!;
  const log = createLogger({ level: input.config.logger.level }).child({ worker: input.workerIndex });
  const metrics = new Metrics();
  const pipeline = buildPipeline(input.config, log, metrics);
  try {
    await pipeline.start();
  } catch (err) {
    port.postMessage({ type: 'start_failed', error: (err as Error).message } satisfies WorkerMessage);
    return;
  }
  const send = (type: 'metrics' | 'stopped') => {
    const values = metrics.snapshot();
    for (const [k, v] of Object.entries(pipeline.stats())) values[k] = v;
    port.postMessage({ type, values } satisfies WorkerMessage);
  };
  const timer = setInterval(() => {
    pipeline.tick(Date.now());
    send('metrics');
  }, input.metricsIntervalMs ?? 1000);
  // Batches are decoded one per event-loop turn: a port delivers every queued message in one go, and
  // decoding them back to back kept the outputs' HTTP responses and timers waiting until the backlog was
  // gone (at 50k flows/s the bulk queue overflowed meanwhile). setImmediate runs after the poll phase, so
  // responses and timers get their turn between two batches.
  const pending: ArrayBuffer[] = [];
  let pendingBytes = 0;
  // A bound on the backlog (batches are at most ~256 KB): when decoding falls this far behind, the oldest
  // datagrams are dropped and counted instead of growing the heap until the process dies.
  const maxPendingBytes = 256 * 1024 * 1024;
  let scheduled = false;
  const onDatagram = (payload: Buffer, address: string, p: number, receivedMs: number): void => {
    pipeline.handleDatagram(payload, { address, port: p, receivedMs });
  };
  const processNext = (): void => {
    scheduled = false;
    const ab = pending.shift();
    if (ab !== undefined) {
      pendingBytes -= ab.byteLength;
      readBatch(ab, onDatagram);
    }
    metrics.set('worker_backlog_bytes', pendingBytes);
    if (pending.length > 0) {
      scheduled = true;
      setImmediate(processNext);
    }
  };
  port.on('message', (msg: { type: 'batch'; data: ArrayBuffer } | { type: 'threat_db'; data: ThreatDbData } | { type: 'stop' }) => {
    if (msg.type === 'threat_db') {
      // A new threat DB from the main thread (its tables are shared memory): one reference assignment, so
      // the next flow is enriched with it and none sees a half-built DB.
      threadThreatDb.set(ThreatDb.fromData(msg.data));
    } else if (msg.type === 'batch') {
      pending.push(msg.data);
      pendingBytes += msg.data.byteLength;
      while (pendingBytes > maxPendingBytes && pending.length > 1) {
        const dropped = pending.shift()!;
        pendingBytes -= dropped.byteLength;
        metrics.inc('datagrams_dropped', { reason: 'worker_backlog' }, readBatch(dropped, () => undefined));
      }
      if (!scheduled) {
        scheduled = true;
        setImmediate(processNext);
      }
    } else if (msg.type === 'stop') {
      clearInterval(timer);
      // Everything received before the stop is decoded before the outputs flush.
      while (pending.length > 0) readBatch(pending.shift()!, onDatagram);
      void (async () => {
        await pipeline.stop();
        send('stopped');
        port.close();
      })();
    }
  });
  port.postMessage({ type: 'ready' } satisfies WorkerMessage);
}

void main();
