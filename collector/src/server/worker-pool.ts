// SPDX-License-Identifier: Apache-2.0
/**
 * Hands datagrams from the receiver thread to decoding workers with exporter affinity: the worker is
 * chosen by a hash of the exporter address, so each exporter's templates live in exactly one worker
 * (DESIGN.md §1; a template learnt by one worker is useless to another). Datagrams are batched per worker
 * and sent once per event-loop turn, or sooner when a batch fills.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import { BatchWriter } from './batch';

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'start_failed'; error: string }
  | { type: 'metrics'; values: Record<string, number> }
  | { type: 'stopped'; values: Record<string, number> };

interface Slot {
  worker: Worker;
  batch: BatchWriter;
  /** The worker's latest full metrics snapshot (workers send totals, not deltas). */
  values: Record<string, number>;
  exited: boolean;
}

/** FNV-1a over the address text: cheap, stable, and spreads nearby addresses. */
export function exporterHash(address: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < address.length; i++) {
    h ^= address.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private flushScheduled = false;

  constructor(
    private readonly script: string,
    private readonly count: number,
    private readonly workerData: unknown,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {}

  /** Starts the workers and waits until each has started its outputs (or one failed to). */
  async start(): Promise<void> {
    const ready: Promise<void>[] = [];
    for (let i = 0; i < this.count; i++) {
      const worker = new Worker(this.script, { workerData: { ...(this.workerData as object), workerIndex: i } });
      const slot: Slot = { worker, batch: new BatchWriter(), values: {}, exited: false };
      this.slots.push(slot);
      ready.push(
        new Promise<void>((resolve, reject) => {
          worker.on('message', (msg: WorkerMessage) => {
            if (msg.type === 'ready') resolve();
            else if (msg.type === 'start_failed') reject(new Error(msg.error));
            else if (msg.type === 'metrics' || msg.type === 'stopped') slot.values = msg.values;
          });
          worker.once('error', (err) => {
            this.log.error({ err, worker: i }, 'decoding worker failed');
            reject(err);
          });
          worker.once('exit', (code) => {
            slot.exited = true;
            if (code !== 0) reject(new Error(`worker ${i} exited with code ${code}`));
          });
        }),
      );
    }
    await Promise.all(ready);
  }

  dispatch(buf: Buffer, address: string, port: number, receivedMs: number): void {
    const slot = this.slots.length === 1 ? this.slots[0] : this.slots[exporterHash(address) % this.slots.length];
    if (!slot.batch.add(buf, address, port, receivedMs)) {
      this.send(slot);
      slot.batch.add(buf, address, port, receivedMs);
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flushAll());
    }
  }

  private send(slot: Slot): void {
    if (slot.batch.empty || slot.exited) return;
    const ab = slot.batch.take();
    slot.worker.postMessage({ type: 'batch', data: ab }, [ab]);
  }

  private flushAll(): void {
    this.flushScheduled = false;
    for (const s of this.slots) this.send(s);
  }

  /**
   * Posts one message to every running worker, e.g. a new threat DB: the SharedArrayBuffers in it are
   * shared with each worker by the structured clone, not copied.
   */
  broadcast(msg: unknown): void {
    for (const s of this.slots) if (!s.exited) s.worker.postMessage(msg);
  }

  /** Sum of all workers' latest metrics. */
  workerMetrics(): Record<string, number> {
    const sum: Record<string, number> = {};
    for (const s of this.slots) for (const [k, v] of Object.entries(s.values)) sum[k] = (sum[k] ?? 0) + v;
    return sum;
  }

  /** Sends what is batched, asks each worker to flush its outputs and exit, and waits for it. */
  async stop(): Promise<void> {
    this.flushAll();
    await Promise.all(
      this.slots.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.exited) return resolve();
            s.worker.once('exit', () => resolve());
            s.worker.postMessage({ type: 'stop' });
          }),
      ),
    );
    this.metrics.merge(this.workerMetrics());
  }
}
