// SPDX-License-Identifier: Apache-2.0
/**
 * The RiskIQ export transport (DESIGN.md §6): record lines in, frames out over one TCP (optionally TLS)
 * connection, with these guarantees.
 *
 * - `enqueue()` is O(1) and never blocks: it appends to a bounded queue that drops the OLDEST line when
 *   full (`output_dropped{output="riskiq",reason="queue_full"}`). Nothing else runs on the caller's stack
 *   except arming a timer / scheduling a `setImmediate`.
 * - Frames are cut by count (`batchSize`, at most MAX_RECORDS_PER_FRAME) or when the oldest queued line
 *   has waited `batchDeadlineMs`. gzip runs on libuv's thread pool; AES-GCM (hardware AES, ~1 GB/s) runs on
 *   this thread once per frame. One frame is built at a time, and only while the socket takes data
 *   (`writableNeedDrain` false): a slow receiver leaves lines in the bounded queue rather than in memory
 *   anywhere else.
 * - While disconnected, lines wait in the queue (same bound, same drops). Reconnection uses exponential
 *   backoff with "equal jitter" (a random delay in [d/2, d], d doubling from `backoffInitialMs` up to
 *   `backoffMaxMs`), reset once a frame has been delivered to the kernel.
 * - A receiver that stops reading (its TCP window stays full) is detected when no frame completes for
 *   `stallTimeoutMs`: the connection is dropped and reopened.
 * - Frames not yet handed to the kernel when a connection dies are sent again on the next connection
 *   (bounded: `maxRetryFrames`, beyond which the oldest are dropped as `connection_lost`). TCP gives no
 *   application acknowledgement, so data already in the kernel's send buffer when the receiver dies is
 *   lost without a count; "sent" means handed to the kernel.
 *
 * Metrics (worker totals, summed by the receiver thread): `riskiq_records_skipped{reason="no_public_side"}`,
 * `riskiq_records_queued`, `riskiq_records_sent`,
 * `riskiq_frames_sent`, `riskiq_bytes_sent`, `riskiq_connects` (successful connects),
 * `riskiq_reconnects` (connection attempts after a failure or loss), `riskiq_connect_failures{reason}`
 * (attempts that never connected: `certificate`, `tls`, `network`; a certificate that does not verify is
 * also logged with the reason and what to set), `riskiq_disconnects{reason}`,
 * `output_dropped{output="riskiq",reason}` (queue_full, connection_lost, stopped, encode_error) and the
 * gauges `riskiq_queue_size` (lines waiting, in the queue or in frames not yet sent) and `riskiq_connections`
 * (open connections: 0 or 1 per worker).
 */
import net from 'node:net';
import tls from 'node:tls';
import { BurstLimiter, type Logger } from '../../observability/logger';
import type { Metrics } from '../../observability/metrics';
import { encodeRecordsFrame } from './frame';
import { DropOldestQueue } from './queue';

/** Records per frame at most, whatever the batch size: keeps a frame's NDJSON below ~40 MiB. */
export const MAX_RECORDS_PER_FRAME = 100_000;

export interface TransportOptions {
  host: string;
  port: number;
  /** TLS connection options (CA, servername...), or false for plain TCP. */
  tls: false | tls.ConnectionOptions;
  /** AES key, 16/24/32 bytes. */
  key: Buffer;
  /** Customer UUID, 16 bytes. */
  uuid: Buffer;
  batchSize: number;
  batchDeadlineMs: number;
  queueMax: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  connectTimeoutMs: number;
  stallTimeoutMs: number;
  /** How long `stop()` waits for queued records to go out while connected. */
  stopTimeoutMs: number;
  maxRetryFrames: number;
}

export const TRANSPORT_DEFAULTS = {
  backoffInitialMs: 500,
  backoffMaxMs: 30_000,
  connectTimeoutMs: 10_000,
  stallTimeoutMs: 30_000,
  stopTimeoutMs: 5_000,
  maxRetryFrames: 16,
} as const;

export type DropReason = 'queue_full' | 'connection_lost' | 'stopped' | 'encode_error';
export type DisconnectReason = 'closed' | 'error' | 'stalled' | 'connect_timeout';
/**
 * Why a connection attempt failed before it was established: the receiver's certificate did not verify
 * (untrusted issuer, self-signed, expired, wrong name...), another TLS handshake failure, or the network
 * (refused, unreachable, name resolution, timeout).
 */
export type ConnectFailureReason = 'certificate' | 'tls' | 'network';

/** OpenSSL/Node error codes of a certificate that did not verify (X509_V_ERR_* names, ERR_TLS_CERT_ALTNAME_INVALID). */
const CERT_ERROR_RE = /^(ERR_TLS_CERT_ALTNAME_INVALID|(?!ERR_)[A-Z_]*(CERT|SELF_SIGNED|ISSUER|CHAIN|SIGNATURE|UNABLE_TO_)[A-Z_]*)$/;

/** Classifies the error of a failed connection attempt (see ConnectFailureReason). */
export function connectFailureReason(err: Error | null): ConnectFailureReason {
  const code = (err as NodeJS.ErrnoException | null)?.code ?? '';
  if (CERT_ERROR_RE.test(code)) return 'certificate';
  if (/^ERR_(SSL|TLS)_/.test(code) || /^ERR_OSSL_/.test(code)) return 'tls';
  return 'network';
}

interface Frame {
  buf: Buffer;
  records: number;
}

/** Counters of one transport; also published to the Metrics registry. */
export interface TransportStats {
  /** Flows without a public side (never sent). */
  recordsSkipped: number;
  recordsQueued: number;
  recordsSent: number;
  framesSent: number;
  bytesSent: number;
  /** Successful connects since start. */
  connects: number;
  reconnects: number;
  /** Connection attempts that failed before the connection was established, by reason. */
  connectFailures: Record<ConnectFailureReason, number>;
  dropped: Record<DropReason, number>;
  disconnects: Record<DisconnectReason, number>;
  /** Lines waiting: in the queue, in a frame being built, in frames not yet handed to the kernel. */
  queued: number;
  connected: boolean;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class RiskiqTransport {
  private readonly queue: DropOldestQueue;
  private readonly batch: number;
  private sock: net.Socket | null = null;
  private connected = false;
  private connectedAt = 0;
  private attempt = 0;
  private stopped = false;
  private started = false;
  private flushing = 0;
  private building = 0; // records in the frame being built (0 = none)
  private readonly pending = new Set<Frame>(); // written, callback not yet called
  private retry: Frame[] = [];
  private firstQueuedAt = 0;
  private lastProgress = 0;
  private stalled = false;
  private lastError: Error | null = null;
  private everConnected = false;
  private downSince = 0;
  private deadlineTimer: NodeJS.Timeout | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private connectTimer: NodeJS.Timeout | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  private pumpScheduled = false;
  private readonly limiter = new BurstLimiter(5, 60_000);
  private readonly s: TransportStats = {
    recordsSkipped: 0,
    recordsQueued: 0,
    recordsSent: 0,
    framesSent: 0,
    bytesSent: 0,
    connects: 0,
    reconnects: 0,
    connectFailures: { certificate: 0, tls: 0, network: 0 },
    dropped: { queue_full: 0, connection_lost: 0, stopped: 0, encode_error: 0 },
    disconnects: { closed: 0, error: 0, stalled: 0, connect_timeout: 0 },
    queued: 0,
    connected: false,
  };
  private readonly pumpNow = () => {
    this.pumpScheduled = false;
    this.pump();
  };

  constructor(
    private readonly opts: TransportOptions,
    private readonly log: Logger,
    private readonly metrics: Metrics | null,
  ) {
    this.queue = new DropOldestQueue(opts.queueMax);
    this.batch = Math.max(1, Math.min(opts.batchSize, MAX_RECORDS_PER_FRAME));
  }

  /** Starts connecting in the background; never fails (an unreachable receiver is retried). */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.downSince = Date.now();
    const every = Math.max(50, Math.min(1000, Math.floor(this.opts.stallTimeoutMs / 4)));
    this.watchdog = setInterval(() => this.tick(), every);
    this.watchdog.unref();
    this.connect();
  }

  /** Queues one record line. O(1), never blocks, never throws. */
  enqueue(line: string): void {
    if (this.stopped) {
      this.s.dropped.stopped++;
      return;
    }
    this.s.recordsQueued++;
    if (this.queue.length === 0) {
      this.firstQueuedAt = Date.now();
      this.armDeadline(this.opts.batchDeadlineMs);
    }
    if (this.queue.push(line)) this.s.dropped.queue_full++;
    if (this.queue.length >= this.batch && !this.pumpScheduled) {
      // Build the frame after the current datagram's records, not on the decoder's stack.
      this.pumpScheduled = true;
      setImmediate(this.pumpNow);
    }
  }

  /** Counts a flow that has no public side (nothing is queued for it). */
  skip(): void {
    this.s.recordsSkipped++;
  }

  stats(): TransportStats {
    this.s.queued = this.waiting();
    this.s.connected = this.connected;
    return { ...this.s, connectFailures: { ...this.s.connectFailures }, dropped: { ...this.s.dropped }, disconnects: { ...this.s.disconnects } };
  }

  /** Sends what is queued; waits until it is handed to the kernel, at most `stopTimeoutMs`. */
  async flush(): Promise<void> {
    if (!this.connected) {
      this.publish();
      return;
    }
    this.flushing++;
    try {
      this.pump();
      const end = Date.now() + this.opts.stopTimeoutMs;
      while (this.waiting() > 0 && Date.now() < end && !this.stopped) await sleep(10);
    } finally {
      this.flushing--;
      this.publish();
    }
  }

  /** Flushes (when connected), then drops what is left (counted as `stopped`) and closes. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    await this.flush();
    this.stopped = true;
    for (const t of [this.deadlineTimer, this.reconnectTimer, this.connectTimer]) if (t) clearTimeout(t);
    if (this.watchdog) clearInterval(this.watchdog);
    this.deadlineTimer = this.reconnectTimer = this.connectTimer = this.watchdog = null;
    let left = this.queue.clear() + this.building;
    for (const f of this.retry) left += f.records;
    for (const f of this.pending) left += f.records;
    this.retry = [];
    this.pending.clear();
    this.s.dropped.stopped += left;
    const sock = this.sock;
    if (sock) {
      const closed = new Promise<void>((r) => sock.once('close', () => r()));
      sock.end();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([closed, new Promise<void>((r) => (timer = setTimeout(r, 1000)))]);
      clearTimeout(timer);
      sock.destroy();
    }
    this.sock = null;
    this.connected = false;
    if (left > 0) this.log.warn({ dropped: left }, 'RiskIQ export stopped with records not sent');
    this.publish();
  }

  // ------------------------------------------------------------------------------------------------
  // Connection

  private connect(): void {
    if (this.stopped || this.sock) return;
    const { host, port } = this.opts;
    const sock = this.opts.tls
      ? tls.connect({ ...this.opts.tls, host, port, servername: this.opts.tls.servername ?? (net.isIP(host) ? undefined : host) })
      : net.connect({ host, port });
    this.sock = sock;
    this.stalled = false;
    this.lastError = null;
    sock.setNoDelay(true);
    sock.once(this.opts.tls ? 'secureConnect' : 'connect', () => this.onConnected(sock));
    // The receiver sends nothing; read and discard so that its FIN is seen.
    sock.on('data', () => {});
    sock.on('error', (err) => {
      this.lastError = err;
    });
    sock.on('drain', () => this.pump());
    sock.on('close', () => this.onClose(sock));
    this.connectTimer = setTimeout(() => {
      this.connectTimer = null;
      if (this.sock === sock && !this.connected) {
        this.s.disconnects.connect_timeout++;
        sock.destroy(new Error(`no connection within ${this.opts.connectTimeoutMs} ms`));
      }
    }, this.opts.connectTimeoutMs);
    this.connectTimer.unref();
  }

  private onConnected(sock: net.Socket): void {
    if (this.sock !== sock) return;
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.connectTimer = null;
    sock.setKeepAlive(true, 30_000);
    this.connected = true;
    this.connectedAt = Date.now();
    this.s.connects++;
    const fields = {
      host: this.opts.host,
      port: this.opts.port,
      tls: this.opts.tls !== false,
      ...(this.opts.tls !== false ? { tls_verified: this.opts.tls.rejectUnauthorized !== false } : {}),
    };
    if (!this.everConnected) this.log.info(fields, 'connected to the RiskIQ receiver');
    else this.log.info({ ...fields, down_ms: Date.now() - this.downSince, queued: this.waiting() }, 'reconnected to the RiskIQ receiver');
    this.everConnected = true;
    this.publish();
    this.pump();
  }

  private onClose(sock: net.Socket): void {
    if (this.sock !== sock) return;
    this.sock = null;
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.connectTimer = null;
    const wasConnected = this.connected;
    this.connected = false;
    // Frames the kernel never took go out again on the next connection, in order.
    for (const f of this.pending) this.retryFrame(f);
    this.pending.clear();
    this.publish();
    if (this.stopped) return;
    if (wasConnected) {
      const reason: DisconnectReason = this.stalled ? 'stalled' : this.lastError ? 'error' : 'closed';
      this.s.disconnects[reason]++;
      if (Date.now() - this.connectedAt >= 10_000) this.attempt = 0;
      this.downSince = Date.now();
      this.logLimited('disconnect', 'lost the connection to the RiskIQ receiver', {
        reason,
        ...(this.lastError ? { error: this.lastError.message } : {}),
      });
      this.scheduleReconnect(null);
    } else {
      const failure = connectFailureReason(this.lastError);
      this.s.connectFailures[failure]++;
      this.scheduleReconnect(failure);
    }
  }

  /** `failure`: why the attempt that just ended never connected (null after losing an established connection). */
  private scheduleReconnect(failure: ConnectFailureReason | null): void {
    if (this.stopped || this.reconnectTimer) return;
    this.attempt++;
    const d = Math.min(this.opts.backoffMaxMs, this.opts.backoffInitialMs * 2 ** Math.min(this.attempt - 1, 30));
    const delay = Math.round(d / 2 + Math.random() * (d / 2));
    this.s.reconnects++;
    const fields = {
      host: this.opts.host,
      port: this.opts.port,
      attempt: this.attempt,
      retry_in_ms: delay,
      ...(this.lastError ? { error: this.lastError.message } : {}),
    };
    if (failure === 'certificate') {
      // Say why in words an operator can act on; the error is OpenSSL's verdict (never key material).
      this.logLimited('certificate', 'RiskIQ receiver certificate not verified: nothing is sent to it, retrying', {
        ...fields,
        code: (this.lastError as NodeJS.ErrnoException).code,
        hint: 'set EF_OUTPUT_RISKIQ_TLS_CA_CERT_FILEPATH to the PEM file of the CA that signed the receiver certificate, or check EF_OUTPUT_RISKIQ_HOST against the names in it',
      });
    } else {
      this.logLimited('retry', 'RiskIQ receiver unreachable, retrying', fields);
    }
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, delay);
    this.reconnectTimer.unref();
  }

  private tick(): void {
    const now = Date.now();
    if (this.connected && this.sock && this.pending.size > 0 && now - this.lastProgress > this.opts.stallTimeoutMs) {
      // The receiver has not taken a byte for too long (full TCP window): start over on a new connection.
      this.stalled = true;
      this.sock.destroy(new Error(`no progress for ${this.opts.stallTimeoutMs} ms: the receiver stopped reading`));
    }
    this.publish();
  }

  private logLimited(key: string, msg: string, fields: Record<string, unknown>): void {
    const suppressed = this.limiter.allow(key);
    if (suppressed < 0) return;
    this.log.warn(suppressed > 0 ? { ...fields, suppressed } : fields, msg);
  }

  // ------------------------------------------------------------------------------------------------
  // Frames

  private waiting(): number {
    let n = this.queue.length + this.building;
    for (const f of this.retry) n += f.records;
    for (const f of this.pending) n += f.records;
    return n;
  }

  private armDeadline(ms: number): void {
    if (this.deadlineTimer) return;
    this.deadlineTimer = setTimeout(() => {
      this.deadlineTimer = null;
      this.pump();
    }, Math.max(1, ms));
    this.deadlineTimer.unref();
  }

  private retryFrame(f: Frame): void {
    this.retry.push(f);
    while (this.retry.length > this.opts.maxRetryFrames) this.s.dropped.connection_lost += this.retry.shift()!.records;
  }

  /** Sends what can be sent now: frames to resend first, then one new frame when one is due. */
  private pump(): void {
    const sock = this.sock;
    if (this.building > 0 || !this.connected || sock === null || this.stopped) return;
    while (this.retry.length > 0 && !sock.writableNeedDrain) this.send(sock, this.retry.shift()!);
    if (sock.writableNeedDrain) return;
    const n = this.queue.length;
    if (n === 0) return;
    const age = Date.now() - this.firstQueuedAt;
    if (n < this.batch && this.flushing === 0 && age < this.opts.batchDeadlineMs) {
      this.armDeadline(this.opts.batchDeadlineMs - age);
      return;
    }
    const lines = this.queue.take(this.batch);
    // Lines still queued are at most as old as the ones just taken: keep the earlier clock (never late).
    this.building = lines.length;
    encodeRecordsFrame(lines, this.opts.key, this.opts.uuid).then(
      (buf) => {
        const f: Frame = { buf, records: this.building };
        this.building = 0;
        if (this.stopped) return; // stop() has counted these records as dropped
        if (this.connected && this.sock !== null) this.send(this.sock, f);
        else this.retryFrame(f);
        this.pump();
      },
      (err: unknown) => {
        if (!this.stopped) this.s.dropped.encode_error += this.building;
        this.building = 0;
        this.logLimited('encode', 'RiskIQ frame could not be built', { error: (err as Error).message });
        this.pump();
      },
    );
  }

  private send(sock: net.Socket, f: Frame): void {
    if (this.pending.size === 0) this.lastProgress = Date.now();
    this.pending.add(f);
    sock.write(f.buf, (err) => {
      if (!this.pending.delete(f)) return; // already moved to `retry` by the close handler
      if (err) {
        this.retryFrame(f);
        return;
      }
      this.lastProgress = Date.now();
      this.attempt = 0;
      this.s.recordsSent += f.records;
      this.s.framesSent++;
      this.s.bytesSent += f.buf.length;
    });
  }

  /** Copies the counters into the Metrics registry (worker metrics are sent as totals every second). */
  publish(): void {
    const m = this.metrics;
    if (!m) return;
    const s = this.s;
    m.set('riskiq_records_skipped', s.recordsSkipped, { reason: 'no_public_side' });
    m.set('riskiq_records_queued', s.recordsQueued);
    m.set('riskiq_records_sent', s.recordsSent);
    m.set('riskiq_frames_sent', s.framesSent);
    m.set('riskiq_bytes_sent', s.bytesSent);
    m.set('riskiq_connects', s.connects);
    m.set('riskiq_connections', this.connected ? 1 : 0);
    m.set('riskiq_reconnects', s.reconnects);
    for (const r of Object.keys(s.connectFailures) as ConnectFailureReason[]) m.set('riskiq_connect_failures', s.connectFailures[r], { reason: r });
    for (const r of Object.keys(s.disconnects) as DisconnectReason[]) m.set('riskiq_disconnects', s.disconnects[r], { reason: r });
    for (const r of Object.keys(s.dropped) as DropReason[]) {
      if (s.dropped[r] > 0) m.set('output_dropped', s.dropped[r], { output: 'riskiq', reason: r });
    }
    m.set('riskiq_queue_size', this.waiting());
  }
}
