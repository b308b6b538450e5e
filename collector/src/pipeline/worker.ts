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
  port.on('message', (msg: { type: 'batch'; data: ArrayBuffer } | { type: 'threat_db'; data: ThreatDbData } | { type: 'stop' }) => {
    if (msg.type === 'threat_db') {
      // A new threat DB from the main thread (its tables are shared memory): one reference assignment, so
      // the next flow is enriched with it and none sees a half-built DB.
      threadThreatDb.set(ThreatDb.fromData(msg.data));
    } else if (msg.type === 'batch') {
      readBatch(msg.data, (payload, address, p, receivedMs) => {
        pipeline.handleDatagram(payload, { address, port: p, receivedMs });
      });
    } else if (msg.type === 'stop') {
      clearInterval(timer);
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
