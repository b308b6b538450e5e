// SPDX-License-Identifier: Apache-2.0
/**
 * The RiskIQ transport over real loopback sockets: batching by count and time, the drop-oldest queue,
 * reconnection with exponential backoff and jitter, a receiver that dies and comes back, a receiver that
 * stops reading (full TCP window), TLS, and an O(1) non-blocking enqueue. What arrives is checked by
 * opening the raw bytes with the independent opener of helpers.ts.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Metrics } from '../../../src/observability/metrics';
import { uuidBytes } from '../../../src/output/riskiq/frame';
import { DropOldestQueue } from '../../../src/output/riskiq/queue';
import { startRiskiqSink } from '../../../src/output/riskiq/sink';
import { RiskiqTransport, TRANSPORT_DEFAULTS, type TransportOptions } from '../../../src/output/riskiq/transport';
import { memoryLogger } from '../../helpers/es';
import { freeTcpPort } from '../../helpers/collector';
import { KEYS, openFramesIndependently, rawReceiver, TEST_UUID, until } from './helpers';

const KEY = KEYS[256];
const UUID = uuidBytes(TEST_UUID);
const line = (i: number) =>
  `{"start":${i},"end":${i},"bytes":1,"packets":1,"src_ip":"8.8.8.8","src_port":53,"dst_ip":"","dst_port":null,"tcp_flags":0,"protocol":17,"community_id":""}`;
const seq = (recs: string[]) => recs.map((l) => JSON.parse(l).start as number);

function options(port: number, o: Partial<TransportOptions> = {}): TransportOptions {
  return {
    host: '127.0.0.1',
    port,
    tls: false,
    key: KEY,
    uuid: UUID,
    batchSize: 10,
    batchDeadlineMs: 100,
    queueMax: 1000,
    ...TRANSPORT_DEFAULTS,
    backoffInitialMs: 50,
    backoffMaxMs: 400,
    stopTimeoutMs: 2000,
    ...o,
  };
}

const live: Array<{ stop(): Promise<void> } | { close(): Promise<void> }> = [];
afterEach(async () => {
  for (const x of live.splice(0)) await ('stop' in x ? x.stop() : x.close());
});

function transport(o: TransportOptions) {
  const metrics = new Metrics();
  const { log, lines } = memoryLogger('debug');
  const t = new RiskiqTransport(o, log, metrics);
  live.push(t);
  return { t, metrics, lines };
}

describe('DropOldestQueue', () => {
  it('keeps the newest lines in order and counts each drop', () => {
    const q = new DropOldestQueue(5);
    const dropped = Array.from({ length: 12 }, (_, i) => q.push(String(i))).filter(Boolean).length;
    expect(dropped).toBe(7);
    expect(q.take(3)).toEqual(['7', '8', '9']);
    q.push('12');
    expect(q.take(10)).toEqual(['10', '11', '12']);
    expect(q.length).toBe(0);
  });

  it('grows past its initial size up to the bound, and no further', () => {
    const q = new DropOldestQueue(5000);
    for (let i = 0; i < 7000; i++) q.push(String(i));
    expect(q.length).toBe(5000);
    const all = q.take(6000);
    expect(all[0]).toBe('2000');
    expect(all[4999]).toBe('6999');
  });
});

describe('RiskiqTransport', () => {
  it('cuts frames by count, then by deadline for the rest', async () => {
    const rx = await rawReceiver();
    live.push(rx);
    const { t, metrics } = transport(options(rx.port, { batchSize: 10, batchDeadlineMs: 300 }));
    t.start();
    await until(() => t.stats().connected, 5000, 'connection');
    for (let i = 0; i < 25; i++) t.enqueue(line(i));
    await until(() => t.stats().framesSent === 2, 2000, 'two full frames');
    const early = Date.now();
    await until(() => t.stats().framesSent === 3, 2000, 'the deadline frame');
    expect(Date.now() - early).toBeGreaterThan(100);
    await until(() => rx.bytes().length === t.stats().bytesSent, 2000, 'bytes at the receiver');
    const frames = openFramesIndependently(rx.bytes(), KEY);
    expect(frames.map((f) => f.lines.length)).toEqual([10, 10, 5]);
    expect(seq(frames.flatMap((f) => f.lines))).toEqual([...Array(25).keys()]);
    t.publish();
    expect(metrics.get('riskiq_records_sent')).toBe(25);
    expect(metrics.get('riskiq_frames_sent')).toBe(3);
    expect(metrics.get('riskiq_bytes_sent')).toBe(rx.bytes().length);
    expect(metrics.get('riskiq_queue_size')).toBe(0);
  });

  it('receiver down at start: queues, drops the oldest beyond the bound, then delivers the newest once it is up', async () => {
    const port = await freeTcpPort();
    const { t, metrics, lines } = transport(options(port, { queueMax: 100, batchSize: 30 }));
    t.start();
    for (let i = 0; i < 250; i++) t.enqueue(line(i));
    await until(() => t.stats().reconnects >= 3, 5000, 'a few reconnection attempts');
    expect(t.stats()).toMatchObject({ connected: false, queued: 100, recordsSent: 0, dropped: { queue_full: 150 } });
    const rx = await rawReceiver({ port });
    live.push(rx);
    await until(() => t.stats().recordsSent === 100, 5000, 'the queued records');
    await until(() => rx.bytes().length === t.stats().bytesSent, 2000, 'bytes at the receiver');
    expect(seq(openFramesIndependently(rx.bytes(), KEY).flatMap((f) => f.lines))).toEqual(Array.from({ length: 100 }, (_, i) => 150 + i));
    t.publish();
    expect(metrics.get('output_dropped', { output: 'riskiq', reason: 'queue_full' })).toBe(150);
    expect(metrics.get('riskiq_connects')).toBe(1);
    expect(metrics.get('riskiq_connections')).toBe(1);
    const logs = lines.map((l) => JSON.parse(l));
    expect(logs.some((l) => l.msg === 'RiskIQ receiver unreachable, retrying' && /ECONNREFUSED/.test(l.error))).toBe(true);
    expect(logs.some((l) => l.msg === 'connected to the RiskIQ receiver')).toBe(true);
  });

  it('backs off exponentially with jitter in [d/2, d], capped', async () => {
    const port = await freeTcpPort();
    const { t, lines } = transport(options(port, { backoffInitialMs: 20, backoffMaxMs: 160 }));
    t.start();
    await until(() => t.stats().reconnects >= 5, 10_000, 'five attempts');
    const delays = lines
      .map((l) => JSON.parse(l))
      .filter((l) => l.msg === 'RiskIQ receiver unreachable, retrying')
      .map((l) => [l.attempt, l.retry_in_ms]);
    expect(delays.length).toBeGreaterThanOrEqual(5);
    for (const [attempt, ms] of delays) {
      const d = Math.min(160, 20 * 2 ** (attempt - 1));
      expect([attempt, ms >= d / 2 - 1 && ms <= d + 1]).toEqual([attempt, true]);
    }
  });

  it('receiver killed mid-stream and restarted: reconnects, counts it, and goes on', async () => {
    const port = await freeTcpPort();
    const out1: string[] = [];
    const sinkLog = memoryLogger('info');
    const collect = (into: string[]) => new Writable({ write: (c, _e, cb) => (into.push(...String(c).split('\n').filter(Boolean)), cb()) });
    let sink = await startRiskiqSink({ host: '127.0.0.1', port, uuid: UUID, key: KEY }, collect(out1), sinkLog.log);
    const { t, metrics } = transport(options(port, { batchSize: 20, batchDeadlineMs: 50 }));
    t.start();
    await until(() => t.stats().connected, 5000, 'connection');
    for (let i = 0; i < 100; i++) t.enqueue(line(i));
    await until(() => out1.length === 100, 5000, 'first records');
    await sink.close(); // the receiver dies
    await until(() => !t.stats().connected, 5000, 'disconnect noticed');
    for (let i = 100; i < 150; i++) t.enqueue(line(i));
    const out2: string[] = [];
    sink = await startRiskiqSink({ host: '127.0.0.1', port, uuid: UUID, key: KEY }, collect(out2), sinkLog.log);
    live.push(sink);
    await until(() => out2.length === 50, 10_000, 'records after the restart');
    expect(seq(out2)).toEqual(Array.from({ length: 50 }, (_, i) => 100 + i));
    const s = t.stats();
    expect(s.connects).toBe(2);
    expect(s.reconnects).toBeGreaterThanOrEqual(1);
    expect(s.disconnects.closed + s.disconnects.error).toBe(1);
    t.publish();
    expect(metrics.get('riskiq_connects')).toBe(2);
    expect(metrics.get('riskiq_connections')).toBe(1);
  });

  it('receiver that stops reading: enqueue stays fast, the queue stays bounded, the stall is detected and the connection reopened', async () => {
    const rx = await rawReceiver({ paused: true });
    live.push(rx);
    const { t, metrics } = transport(options(rx.port, { queueMax: 5000, batchSize: 1000, batchDeadlineMs: 20, stallTimeoutMs: 600 }));
    t.start();
    await until(() => t.stats().connected, 5000, 'connection');
    // Incompressible-ish lines so the kernel buffers fill quickly.
    const pad = (i: number) => line(i).replace('"community_id":""', `"community_id":"${randomBytes(150).toString('base64')}"`);
    let slowest = 0;
    for (let round = 0; round < 40; round++) {
      const batch = Array.from({ length: 5000 }, (_, i) => pad(round * 5000 + i));
      const t0 = process.hrtime.bigint();
      for (const l of batch) t.enqueue(l);
      slowest = Math.max(slowest, Number(process.hrtime.bigint() - t0) / 1e6);
      await new Promise((r) => setTimeout(r, 25));
      expect(t.stats().queued).toBeLessThanOrEqual(5000 + 1000 * (TRANSPORT_DEFAULTS.maxRetryFrames + 2));
    }
    // 5,000 enqueues never take long, whatever the receiver does (generous bound for a loaded CI box).
    expect(slowest).toBeLessThan(250);
    await until(() => t.stats().disconnects.stalled >= 1, 10_000, 'stall detection');
    await until(() => t.stats().connects >= 2, 10_000, 'a new connection');
    const s = t.stats();
    expect(s.dropped.queue_full).toBeGreaterThan(0);
    t.publish();
    expect(metrics.get('riskiq_disconnects', { reason: 'stalled' })).toBeGreaterThanOrEqual(1);
    expect(metrics.get('output_dropped', { output: 'riskiq', reason: 'queue_full' })).toBe(s.dropped.queue_full);
    // Everything accepted is accounted for: sent, waiting, or dropped with a reason.
    const d = s.dropped;
    expect(s.recordsSent + s.queued + d.queue_full + d.connection_lost + d.stopped + d.encode_error).toBe(s.recordsQueued);
  });

  it('enqueue is O(1) and never blocks while the receiver is unreachable', async () => {
    const port = await freeTcpPort();
    const { t } = transport(options(port, { queueMax: 10_000 }));
    t.start();
    const lines = Array.from({ length: 200_000 }, (_, i) => line(i));
    const t0 = process.hrtime.bigint();
    for (const l of lines) t.enqueue(l);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    expect(ms).toBeLessThan(1000); // ~20 ms on the 2-core box: 0.1 µs per record
    expect(t.stats()).toMatchObject({ queued: 10_000, dropped: { queue_full: 190_000 } });
  });

  it('stop() drops what cannot be sent and counts it as stopped', async () => {
    const port = await freeTcpPort();
    const { t, metrics } = transport(options(port));
    t.start();
    for (let i = 0; i < 42; i++) t.enqueue(line(i));
    const t0 = Date.now();
    await t.stop();
    expect(Date.now() - t0).toBeLessThan(1500);
    t.enqueue(line(99));
    expect(t.stats().dropped.stopped).toBe(43);
    t.publish();
    expect(metrics.get('output_dropped', { output: 'riskiq', reason: 'stopped' })).toBe(43);
  });

  it('stop() flushes what is queued when connected', async () => {
    const rx = await rawReceiver();
    live.push(rx);
    const { t } = transport(options(rx.port, { batchSize: 1000, batchDeadlineMs: 60_000 }));
    t.start();
    await until(() => t.stats().connected, 5000, 'connection');
    for (let i = 0; i < 42; i++) t.enqueue(line(i));
    await t.stop();
    await until(() => rx.bytes().length === t.stats().bytesSent, 2000, 'bytes at the receiver');
    expect(seq(openFramesIndependently(rx.bytes(), KEY).flatMap((f) => f.lines))).toEqual([...Array(42).keys()]);
    expect(t.stats().dropped.stopped).toBe(0);
  });

  describe('TLS', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tf-riskiq-tls-'));
    let cert: Buffer;
    let key: Buffer;
    beforeAll(() => {
      execFileSync('openssl', [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
        '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
      ], { stdio: 'ignore' });
      cert = readFileSync(join(dir, 'cert.pem'));
      key = readFileSync(join(dir, 'key.pem'));
    });

    it('sends frames over TLS to a sink that trusts nothing but its own certificate', async () => {
      const out: string[] = [];
      const sink = await startRiskiqSink(
        { host: '127.0.0.1', port: 0, uuid: UUID, key: KEY, tls: { cert, key } },
        new Writable({ write: (c, _e, cb) => (out.push(...String(c).split('\n').filter(Boolean)), cb()) }),
        memoryLogger().log,
      );
      live.push(sink);
      const { t } = transport(options(sink.port, { host: 'localhost', tls: { ca: cert } }));
      t.start();
      for (let i = 0; i < 30; i++) t.enqueue(line(i));
      await until(() => out.length === 30, 5000, 'records over TLS');
      expect(seq(out)).toEqual([...Array(30).keys()]);
    });

    it('does not send to a receiver whose certificate it cannot verify', async () => {
      const sinkLog = memoryLogger();
      const sink = await startRiskiqSink({ host: '127.0.0.1', port: 0, uuid: UUID, key: KEY, tls: { cert, key } }, process.stdout, sinkLog.log);
      live.push(sink);
      const { t, lines } = transport(options(sink.port, { host: '127.0.0.1', tls: {} })); // system CAs only
      t.start();
      for (let i = 0; i < 5; i++) t.enqueue(line(i));
      await until(() => lines.some((l) => /self.signed|unable to verify|certificate/i.test(l)), 5000, 'a certificate error');
      expect(t.stats()).toMatchObject({ connected: false, recordsSent: 0 });
      expect(sink.stats().records).toBe(0);
    });
  });
});
