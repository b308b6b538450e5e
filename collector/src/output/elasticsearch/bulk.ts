// SPDX-License-Identifier: Apache-2.0
/**
 * Bulk indexing into a data stream with the semantics of the elasticsearch-js bulk helper (flush by count,
 * bytes and time; bounded concurrency; retry with backoff; a drop callback with status and reason) without
 * its per-document costs (STYLE.md §9): documents arrive already serialized and are written straight into
 * reusable batch Buffers, requests use `filter_path` so responses stay small, and a document rejected for
 * its content goes to the dead-letter file instead of being retried forever.
 *
 * With a spool (DESIGN.md §8), a batch that would be dropped because Elasticsearch is unreachable (retries
 * exhausted) or the in-memory queue is full goes to disk instead, and the spool is replayed oldest first,
 * one batch at a time, after each successful request and on a timer; a replayed batch that fails again
 * stays at the head. The healthy path does no file work.
 */
import { createWriteStream, mkdirSync, readdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import type { Logger } from '../../observability/logger';
import type { Metrics } from '../../observability/metrics';
import { Spool, type SpoolConfig } from './spool';

export interface BulkConfig {
  /** Data stream (or index) to `create` into. */
  target: string;
  maxDocs: number;
  maxBytes: number;
  deadlineMs: number;
  concurrency: number;
  retryEnable: boolean;
  maxRetries: number;
  retryBackoffMs: number;
  /** Most bytes of batches waiting for a free request slot before new batches are dropped (counted). */
  maxQueuedBytes: number;
  deadLetterPath: string;
  /** Disk spool for batches Elasticsearch cannot take; absent or maxBytes 0 = drop them (counted). */
  spool?: SpoolConfig;
  /** How often the spool is retried while Elasticsearch stays silent; default max(retryBackoffMs, 1000). */
  spoolReplayIntervalMs?: number;
}

/** The action line of every item: `create` with an auto-generated id, as data streams require. */
const ACTION = '{"create":{}}\n';
const ACTION_BYTES = Buffer.byteLength(ACTION);
/** Cap of the backoff between failed replay turns. */
const REPLAY_BACKOFF_MAX_MS = 60_000;

interface Batch {
  buf: Buffer;
  len: number;
  /** Byte offset of each item's action line; the item ends where the next one starts (or at len). */
  starts: number[];
  attempt: number;
  /** Set on a batch read back from the spool: the file it came from. */
  spoolName?: string;
}

/** Per-item statuses that mean "try again later" rather than "this document is wrong". */
function retryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

export class BulkWriter {
  private current: Batch | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly queue: Batch[] = [];
  private queuedBytes = 0;
  private inFlight = 0;
  private readonly pool: Buffer[] = [];
  private idleWaiters: Array<() => void> = [];
  private deadLetter: WriteStream | null = null;
  private deadLetterBroken = false;
  private stopped = false;
  private readonly bufSize: number;
  private readonly spool: Spool | null = null;
  private replayTimer: NodeJS.Timeout | null = null;
  private replaying: Promise<void> | null = null;
  private replayStarted = false;
  /** Failed replay turns in a row, and until when no turn starts (neither timer nor live successes). */
  private replayFailures = 0;
  private replayPausedUntil = 0;
  private replayWake: NodeJS.Timeout | null = null;
  /** stop() has begun: with a spool, queued batches and batches waiting to be retried go straight to it. */
  private stopping = false;
  private readonly sleepers = new Set<() => void>();

  constructor(
    private readonly client: Client,
    private readonly cfg: BulkConfig,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {
    // Room for a full batch plus one more large document, so a batch is cut before it overflows.
    this.bufSize = cfg.maxBytes + 1024 * 1024;
    if (cfg.spool && cfg.spool.maxBytes > 0) {
      if (cfg.spool.maxBytes < cfg.maxBytes) {
        log.warn(
          { spool_bytes_per_worker: cfg.spool.maxBytes, batch_max_bytes: cfg.maxBytes },
          'the spool share of each worker (EF_OUTPUT_ELASTICSEARCH_SPOOL_MAX_SIZE / workers) is smaller than EF_OUTPUT_ELASTICSEARCH_BATCH_MAX_BYTES: a full batch cannot be spooled',
        );
      }
      this.spool = new Spool(cfg.spool, log, metrics);
    } else if (cfg.spool) {
      let left = 0;
      try {
        left = readdirSync(cfg.spool.dir).filter((n) => n.endsWith('.bulk')).length;
      } catch {
        /* no spool directory */
      }
      if (left > 0) {
        log.warn(
          { path: cfg.spool.dir, batches: left },
          'the spool is off (EF_OUTPUT_ELASTICSEARCH_SPOOL_MAX_SIZE=0) but a previous run left spooled batches there: they are not replayed',
        );
      }
    }
  }

  /**
   * Starts replaying the spool (what a previous run left included): called once the output is ready for
   * documents (templates installed), so replayed documents get the same mappings as live ones.
   */
  startReplay(): void {
    if (!this.spool || this.replayStarted || this.stopped) return;
    this.replayStarted = true;
    const every = this.cfg.spoolReplayIntervalMs ?? Math.max(this.cfg.retryBackoffMs, 1000);
    this.replayTimer = setInterval(() => this.replayNext(), every);
    this.replayTimer.unref();
    this.replayNext();
  }

  /** Sends the oldest spooled batch unless one is already on its way; on success, the next one. */
  private replayNext(): void {
    const spool = this.spool;
    if (!spool || !this.replayStarted || this.replaying || this.stopped || spool.batches === 0) return;
    if (Date.now() < this.replayPausedUntil) return;
    this.replaying = (async () => {
      const head = await spool.head();
      // Null with batches left: the head could not be read now, a failed turn.
      if (!head) return spool.batches === 0;
      const b = batchFromBody(head.body, head.name);
      if (!b) {
        this.metrics.inc('output_dropped', { output: 'elasticsearch', reason: 'spool_unreadable' }, head.docs);
        this.log.error({ file: head.name }, 'spooled batch is not a bulk body; dropped');
        await spool.remove(head.name);
        return true;
      }
      // One attempt per turn: the timer paces the retries while Elasticsearch is away.
      b.attempt = this.cfg.maxRetries;
      return this.send(b);
    })().then(
      (delivered) => {
        this.replaying = null;
        if (delivered) {
          this.replayFailures = 0;
          this.replayNext();
        } else if (!this.stopped) {
          this.replayFailed();
        }
      },
      (err: Error) => {
        this.replaying = null;
        this.log.error({ error: err.message }, 'spool replay failed');
      },
    );
  }

  /**
   * A replay turn failed (the head stays the head): no turn for an exponential backoff with jitter, from
   * retryBackoffMs up to 60 s, whatever live requests do meanwhile. Counted; one warning per step.
   */
  private replayFailed(): void {
    this.replayFailures++;
    this.metrics.inc('output_spool_replay_failures', { output: 'elasticsearch' });
    const step = Math.min(REPLAY_BACKOFF_MAX_MS, this.cfg.retryBackoffMs * 2 ** Math.min(this.replayFailures - 1, 30));
    const delay = step * (0.5 + Math.random() / 2);
    this.replayPausedUntil = Date.now() + delay;
    if (step < REPLAY_BACKOFF_MAX_MS || this.replayFailures === 1 || this.replayFailures % 10 === 0) {
      this.log.warn({ failures: this.replayFailures, retry_in_ms: Math.round(delay) }, 'spooled batch not delivered; replay backs off');
    }
    if (this.replayWake) clearTimeout(this.replayWake);
    this.replayWake = setTimeout(() => {
      this.replayWake = null;
      this.replayNext();
    }, delay + 1);
    this.replayWake.unref();
  }

  /**
   * Hands a batch Elasticsearch could not take to the spool: true when the spool dealt with it (kept it,
   * or dropped it as spool_full), false when there is no spool. The batch buffer then belongs to the spool.
   */
  private spoolBatch(b: Batch): boolean {
    if (!this.spool) return false;
    if (!this.spool.add(b.buf.subarray(0, b.len), b.starts.length)) {
      this.metrics.inc('output_dropped', { output: 'elasticsearch', reason: 'spool_full' }, b.starts.length);
      this.log.error({ documents: b.starts.length, max_bytes: this.cfg.spool!.maxBytes }, 'spool full (EF_OUTPUT_ELASTICSEARCH_SPOOL_MAX_SIZE); batch dropped');
      this.releaseBuffer(b.buf);
    }
    return true;
  }

  /** Adds one serialized document (a JSON object, no trailing newline). */
  add(line: string): void {
    if (this.stopped) {
      this.metrics.inc('output_dropped', { output: 'elasticsearch', reason: 'stopped' });
      return;
    }
    // Upper bound of the UTF-8 size without measuring it: 3 bytes per UTF-16 unit.
    const worst = ACTION_BYTES + line.length * 3 + 1;
    if (worst > this.bufSize) {
      this.addOversized(line);
      return;
    }
    let b = this.current;
    if (b && b.len + worst > this.bufSize) {
      this.cut();
      b = null;
    }
    if (!b) {
      b = this.current = { buf: this.takeBuffer(), len: 0, starts: [], attempt: 0 };
      this.timer = setTimeout(() => this.cut(), this.cfg.deadlineMs);
    }
    b.starts.push(b.len);
    b.len += b.buf.write(ACTION, b.len, 'latin1');
    b.len += b.buf.write(line, b.len, 'utf8');
    b.buf[b.len++] = 0x0a;
    if (b.starts.length >= this.cfg.maxDocs || b.len >= this.cfg.maxBytes) this.cut();
  }

  /** A document larger than a batch buffer goes alone in its own request. */
  private addOversized(line: string): void {
    this.cut();
    const body = Buffer.from(ACTION + line + '\n');
    this.enqueue({ buf: body, len: body.length, starts: [0], attempt: 0 });
  }

  /** Closes the current batch and queues it for sending. */
  private cut(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const b = this.current;
    this.current = null;
    if (b && b.starts.length > 0) this.enqueue(b);
    else if (b) this.releaseBuffer(b.buf);
  }

  private enqueue(b: Batch): void {
    if (this.queuedBytes + b.len > this.cfg.maxQueuedBytes && this.queue.length > 0) {
      // Elasticsearch is not keeping up and every slot is busy: drop the oldest waiting batch rather than
      // grow without bound; the count tells the operator to add capacity.
      const old = this.queue.shift()!;
      this.queuedBytes -= old.len;
      if (!this.spoolBatch(old)) {
        this.metrics.inc('output_dropped', { output: 'elasticsearch', reason: 'queue_full' }, old.starts.length);
        this.releaseBuffer(old.buf);
      }
    }
    this.queue.push(b);
    this.queuedBytes += b.len;
    this.pump();
  }

  private pump(): void {
    if (this.stopping && this.spool) {
      for (const b of this.queue.splice(0)) {
        this.queuedBytes -= b.len;
        this.spoolBatch(b);
      }
      this.metrics.set('output_queue_batches', 0, { output: 'elasticsearch' });
      if (this.inFlight === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
      return;
    }
    while (this.inFlight < this.cfg.concurrency && this.queue.length > 0) {
      const b = this.queue.shift()!;
      this.queuedBytes -= b.len;
      this.inFlight++;
      this.metrics.set('output_queue_batches', this.queue.length, { output: 'elasticsearch' });
      void this.send(b).finally(() => {
        this.inFlight--;
        this.pump();
        if (this.inFlight === 0 && this.queue.length === 0) {
          const waiters = this.idleWaiters;
          this.idleWaiters = [];
          for (const w of waiters) w();
        }
      });
    }
  }

  /** True when every document was indexed or dead-lettered; false when they were spooled or dropped. */
  private async send(b: Batch): Promise<boolean> {
    for (;;) {
      const started = Date.now();
      let items: Array<Record<string, { status: number; error?: { type?: string; reason?: string } }>> | null = null;
      let failure: string | null = null;
      try {
        const res = (await this.client.transport.request(
          {
            method: 'POST',
            path: `/${encodeURIComponent(this.cfg.target)}/_bulk`,
            querystring: { filter_path: 'errors,items.*.status,items.*.error.type,items.*.error.reason' },
            bulkBody: b.buf.subarray(0, b.len),
          },
          { maxRetries: 0, meta: true },
        )) as { body: { errors?: boolean; items?: typeof items } };
        this.metrics.inc('bulk_requests', { output: 'elasticsearch', result: 'ok' });
        this.metrics.inc('bulk_latency_ms', { output: 'elasticsearch' }, Date.now() - started);
        // Elasticsearch answers again: time to send what was spooled meanwhile.
        if (this.spool !== null && this.replaying === null) this.replayNext();
        if (!res.body.errors) {
          this.metrics.inc('output_documents', { output: 'elasticsearch' }, b.starts.length);
          if (b.spoolName) await this.replayed(b, b.starts.length);
          this.releaseBuffer(b.buf);
          return true;
        }
        items = res.body.items ?? [];
      } catch (err) {
        const e = err as { meta?: { statusCode?: number }; name?: string; message?: string };
        const status = e.meta?.statusCode;
        failure = status ? `HTTP ${status}` : `${e.name ?? 'Error'}: ${e.message ?? ''}`;
        this.metrics.inc('bulk_requests', { output: 'elasticsearch', result: 'error' });
        if (status && !retryableStatus(status) && b.spoolName && status !== 400) {
          // 401/403/404/407/408/413... on a replayed batch: credentials, a proxy or routing, not the body.
          // The batch stays at the head of the spool and is tried again later.
          this.log.debug({ status, documents: b.starts.length }, 'spooled batch refused as a whole; kept');
          return false;
        }
        if (status && !retryableStatus(status)) {
          // The whole request was refused for a reason that retrying will not fix (e.g. 400 on the body).
          this.log.error({ status, error: failure, documents: b.starts.length }, 'bulk request rejected');
          this.deadLetterAll(b, status, failure);
          if (b.spoolName) await this.replayed(b, b.starts.length);
          this.releaseBuffer(b.buf);
          return true;
        }
      }

      let retry: Batch | null = null;
      if (items) {
        const before = b.starts.length;
        retry = this.splitItems(b, items);
        if (b.spoolName) this.metrics.inc('output_replayed_documents', { output: 'elasticsearch' }, before - (retry?.starts.length ?? 0));
        if (!retry) {
          if (b.spoolName) await this.spool!.remove(b.spoolName);
          this.releaseBuffer(b.buf);
          return true;
        }
      } else {
        retry = b;
      }
      if (!this.cfg.retryEnable || retry.attempt >= this.cfg.maxRetries || (this.stopping && this.spool !== null)) {
        if (b.spoolName) {
          // A replayed batch that fails again stays at the head (without the items indexed meanwhile).
          if (retry !== b) await this.spool!.replaceHead(b.spoolName, retry.buf.subarray(0, retry.len), retry.starts.length);
          this.log.debug({ documents: retry.starts.length, error: failure ?? 'items rejected with 429/5xx' }, 'spooled batch not delivered yet');
          return false;
        }
        if (this.spoolBatch(retry)) {
          this.log.warn(
            { documents: retry.starts.length, attempts: retry.attempt + 1, error: failure ?? 'items rejected with 429/5xx' },
            'bulk documents spooled after retries',
          );
          if (retry !== b) this.releaseBuffer(b.buf);
          return false;
        }
        this.metrics.inc('output_dropped', { output: 'elasticsearch', reason: 'retries_exhausted' }, retry.starts.length);
        this.log.error(
          { documents: retry.starts.length, attempts: retry.attempt + 1, error: failure ?? 'items rejected with 429/5xx' },
          'bulk documents dropped after retries',
        );
        if (retry !== b) this.releaseBuffer(retry.buf);
        this.releaseBuffer(b.buf);
        return false;
      }
      retry.attempt++;
      this.metrics.inc('bulk_retries', { output: 'elasticsearch' });
      // Exponential backoff with full jitter so several collectors don't retry in step.
      const delay = this.cfg.retryBackoffMs * 2 ** (retry.attempt - 1) * (0.5 + Math.random() / 2);
      this.log.warn(
        { attempt: retry.attempt, delay_ms: Math.round(delay), error: failure ?? 'items rejected with 429/5xx' },
        'bulk request will be retried',
      );
      await new Promise<void>((r) => {
        const wake = () => {
          clearTimeout(t);
          this.sleepers.delete(wake);
          r();
        };
        const t = setTimeout(wake, delay);
        this.sleepers.add(wake);
      });
      if (retry !== b) this.releaseBuffer(b.buf);
      b = retry;
      if (this.stopping && this.spool !== null && !b.spoolName) {
        // stop() has begun: no further attempt, the batch goes to the spool.
        if (!this.spoolBatch(b)) this.releaseBuffer(b.buf);
        return false;
      }
    }
  }

  /**
   * Sorts the items of a response with errors: indexed ones are counted, content errors go to the dead
   * letter file, and retryable ones (429/5xx) are copied into a new batch, which is returned (or null).
   */
  private splitItems(
    b: Batch,
    items: Array<Record<string, { status: number; error?: { type?: string; reason?: string } }>>,
  ): Batch | null {
    let retry: Batch | null = null;
    let ok = 0;
    for (let i = 0; i < b.starts.length; i++) {
      const item = items[i] ? Object.values(items[i])[0] : undefined;
      const status = item?.status ?? 0;
      if (status >= 200 && status < 300) {
        ok++;
        continue;
      }
      const start = b.starts[i];
      const end = i + 1 < b.starts.length ? b.starts[i + 1] : b.len;
      if (!item || retryableStatus(status)) {
        if (!retry) retry = { buf: this.takeBuffer(Math.max(this.bufSize, end - start)), len: 0, starts: [], attempt: b.attempt, spoolName: b.spoolName };
        retry.starts.push(retry.len);
        retry.len += b.buf.copy(retry.buf, retry.len, start, end);
        continue;
      }
      const reason = `${item.error?.type ?? 'error'}: ${item.error?.reason ?? ''}`;
      this.writeDeadLetter(b.buf.toString('utf8', start + ACTION_BYTES, end - 1), status, reason);
    }
    this.metrics.inc('output_documents', { output: 'elasticsearch' }, ok);
    return retry;
  }

  private deadLetterAll(b: Batch, status: number, reason: string): void {
    for (let i = 0; i < b.starts.length; i++) {
      const end = i + 1 < b.starts.length ? b.starts[i + 1] : b.len;
      this.writeDeadLetter(b.buf.toString('utf8', b.starts[i] + ACTION_BYTES, end - 1), status, reason);
    }
  }

  /** One line per rejected document: when, why, and the document itself, so it can be fixed and re-sent. */
  private writeDeadLetter(doc: string, status: number, reason: string): void {
    this.metrics.inc('output_dead_letter', { output: 'elasticsearch' });
    if (this.deadLetterBroken) {
      this.metrics.inc('output_dead_letter_write_errors', { output: 'elasticsearch' });
      return;
    }
    try {
      if (!this.deadLetter) {
        mkdirSync(dirname(this.cfg.deadLetterPath), { recursive: true });
        const stream = createWriteStream(this.cfg.deadLetterPath, { flags: 'a' });
        // An unwritable dead-letter file must cost the rejected documents, never the output itself.
        stream.on('error', (err) => this.deadLetterFailed(err));
        this.deadLetter = stream;
      }
      this.deadLetter.write(
        `{"ts":${Date.now()},"target":${JSON.stringify(this.cfg.target)},"status":${status},"reason":${JSON.stringify(reason)},"document":${doc}}\n`,
      );
    } catch (err) {
      this.deadLetterFailed(err as Error);
    }
  }

  private deadLetterFailed(err: Error): void {
    this.metrics.inc('output_dead_letter_write_errors', { output: 'elasticsearch' });
    if (this.deadLetterBroken) return;
    this.deadLetterBroken = true;
    this.deadLetter = null;
    this.log.error(
      { path: this.cfg.deadLetterPath, error: err.message },
      'cannot write the dead-letter file (EF_OUTPUT_ELASTICSEARCH_DEAD_LETTER_PATH); rejected documents are counted and dropped',
    );
  }

  private takeBuffer(size = this.bufSize): Buffer {
    if (size === this.bufSize) {
      const b = this.pool.pop();
      if (b) return b;
    }
    return Buffer.allocUnsafe(size);
  }

  private releaseBuffer(buf: Buffer): void {
    if (buf.length === this.bufSize && this.pool.length < this.cfg.concurrency + 2) this.pool.push(buf);
  }

  /** Counts a replayed batch as delivered (indexed or dead-lettered) and deletes its file. */
  private async replayed(b: Batch, indexed: number): Promise<void> {
    this.metrics.inc('output_replayed_documents', { output: 'elasticsearch' }, indexed);
    await this.spool!.remove(b.spoolName!);
  }

  /**
   * Sends the open batch now and resolves when nothing is queued or in flight and what had to be spooled
   * is on disk (the spool itself is not waited for: it drains when Elasticsearch answers).
   */
  async flush(): Promise<void> {
    this.cut();
    if (this.inFlight > 0 || this.queue.length > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    if (this.replaying) await this.replaying;
    if (this.spool) await this.spool.settled();
  }

  async stop(): Promise<void> {
    // With a spool, stopping during an outage does not wait for retries: what is not sent yet is spooled.
    this.stopping = true;
    for (const wake of [...this.sleepers]) wake();
    await this.flush();
    this.stopped = true;
    if (this.replayTimer) clearInterval(this.replayTimer);
    this.replayTimer = null;
    if (this.replayWake) clearTimeout(this.replayWake);
    this.replayWake = null;
    if (this.replaying) await this.replaying;
    if (this.spool) {
      await this.spool.settled();
      this.spool.close();
    }
    if (this.deadLetter) {
      const dl = this.deadLetter;
      this.deadLetter = null;
      await new Promise<void>((r) => dl.end(r));
    }
  }
}

/** A batch from a spooled bulk body: an action line and a document line per item; null if it is not one. */
function batchFromBody(body: Buffer, spoolName: string): Batch | null {
  const starts: number[] = [];
  let pos = 0;
  let line = 0;
  while (pos < body.length) {
    const nl = body.indexOf(0x0a, pos);
    if (nl < 0) return null;
    if (line % 2 === 0) starts.push(pos);
    pos = nl + 1;
    line++;
  }
  if (line === 0 || line % 2 !== 0) return null;
  return { buf: body, len: body.length, starts, attempt: 0, spoolName };
}
