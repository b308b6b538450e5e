// SPDX-License-Identifier: Apache-2.0
/**
 * Hands datagrams from the receiver thread to decoding workers with exporter affinity: the worker is
 * chosen by a hash of the exporter address, so each exporter's templates live in exactly one worker
 * (DESIGN.md §1; a template learnt by one worker is useless to another). Datagrams are batched per worker
 * and a batch is sent when it holds BATCH_DATAGRAMS datagrams, when its buffer is full, or BATCH_DELAY_MS
 * after the first datagram went in, whichever comes first: a bounded delay, and far fewer messages than
 * one per event-loop turn (at low rates that was one postMessage, ~60-95 µs of receiver CPU plus a
 * message turn in the worker, per datagram).
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

/** A batch is sent once it holds this many datagrams (~90 KB of 30-record NetFlow v5)... */
export const BATCH_DATAGRAMS = 64;
/** ...or this long after its first datagram, whichever comes first. */
export const BATCH_DELAY_MS = 2;

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  private readonly flushAllFn = (): void => this.flushAll();

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
    if (slot.batch.count >= BATCH_DATAGRAMS) this.send(slot);
    else if (this.flushTimer === null) this.flushTimer = setTimeout(this.flushAllFn, BATCH_DELAY_MS);
  }

  private send(slot: Slot): void {
    if (slot.batch.empty || slot.exited) return;
    const ab = slot.batch.take();
    slot.worker.postMessage({ type: 'batch', data: ab }, [ab]);
  }

  private flushAll(): void {
    if (this.flushTimer !== null) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
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
