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
  index: number;
  worker: Worker;
  batch: BatchWriter;
  /** The worker's latest full metrics snapshot (workers send totals, not deltas). */
  values: Record<string, number>;
  /** Totals of earlier incarnations of this slot's worker (kept across restarts). */
  retired: Record<string, number>;
  exited: boolean;
  /** Running and past its startup. */
  ready: boolean;
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

  private stopping = false;
  /** Messages every worker must have seen (the current threat DB), replayed to a restarted worker. */
  private sticky: unknown = null;
  private restartDelayMs = 1000;

  /** Starts the workers and waits until each has started its outputs (or one failed to). */
  async start(): Promise<void> {
    const ready: Promise<void>[] = [];
    for (let i = 0; i < this.count; i++) {
      const slot: Slot = { index: i, worker: null as unknown as Worker, batch: new BatchWriter(), values: {}, retired: {}, exited: false, ready: false };
      this.slots.push(slot);
      ready.push(this.spawn(slot));
    }
    await Promise.all(ready);
  }

  /**
   * Starts the worker of a slot. A worker that dies after its startup (a bug, an exhausted heap) is
   * started again after a short pause instead of leaving its exporters unserved: while it is down their
   * datagrams are dropped and counted (`worker_unavailable`), and /readyz and /health say so.
   */
  private spawn(slot: Slot): Promise<void> {
    const i = slot.index;
    const worker = new Worker(this.script, { workerData: { ...(this.workerData as object), workerIndex: i } });
    slot.worker = worker;
    slot.exited = false;
    slot.ready = false;
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (msg: WorkerMessage) => {
        if (msg.type === 'ready') {
          slot.ready = true;
          if (this.sticky !== null) worker.postMessage(this.sticky);
          resolve();
        } else if (msg.type === 'start_failed') reject(new Error(msg.error));
        else if (msg.type === 'metrics' || msg.type === 'stopped') slot.values = msg.values;
      });
      worker.on('error', (err) => {
        this.log.error({ error: err.message, worker: i }, 'decoding worker failed');
        reject(err);
      });
      worker.once('exit', (code) => {
        const wasReady = slot.ready;
        slot.exited = true;
        slot.ready = false;
        if (!wasReady) {
          reject(new Error(`worker ${i} exited with code ${code} during startup`));
          return;
        }
        if (this.stopping) return;
        // Keep what the dead worker had counted, then start a new one.
        for (const [k, v] of Object.entries(slot.values)) slot.retired[k] = (slot.retired[k] ?? 0) + v;
        slot.values = {};
        this.metrics.inc('worker_restarts');
        this.log.error({ worker: i, code, restart_in_ms: this.restartDelayMs }, 'decoding worker exited; restarting it');
        setTimeout(() => {
          if (this.stopping) return;
          this.spawn(slot).catch((err: Error) => this.log.error({ worker: i, error: err.message }, 'decoding worker failed to restart'));
        }, this.restartDelayMs).unref();
      });
    });
  }

  /** True when every worker runs (for /readyz and /health). */
  healthy(): boolean {
    return this.slots.every((s) => s.ready && !s.exited);
  }

  /** For tests: terminate one worker as a crash would. */
  async killWorkerForTest(index: number): Promise<void> {
    await this.slots[index].worker.terminate();
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
    if (slot.batch.empty) return;
    if (slot.exited || !slot.ready) {
      // The worker is being restarted: these datagrams have nowhere to go.
      this.metrics.inc('datagrams_dropped', { reason: 'worker_unavailable' }, slot.batch.count);
      slot.batch.take();
      return;
    }
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
  broadcast(msg: unknown, sticky = true): void {
    if (sticky) this.sticky = msg;
    for (const s of this.slots) if (!s.exited && s.ready) s.worker.postMessage(msg);
  }

  /** Sum of all workers' latest metrics. */
  workerMetrics(): Record<string, number> {
    const sum: Record<string, number> = {};
    for (const s of this.slots) {
      for (const [k, v] of Object.entries(s.values)) sum[k] = (sum[k] ?? 0) + v;
      for (const [k, v] of Object.entries(s.retired)) sum[k] = (sum[k] ?? 0) + v;
    }
    return sum;
  }

  /** Sends what is batched, asks each worker to flush its outputs and exit, and waits for it. */
  async stop(): Promise<void> {
    this.stopping = true;
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
  }
}
