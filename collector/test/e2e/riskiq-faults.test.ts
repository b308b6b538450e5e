// SPDX-License-Identifier: Apache-2.0
/**
 * RiskIQ export faults against the real collector (built CLI, one decoding worker), the embedded
 * Elasticsearch and `threatflow riskiq-sink` children, in one run through five phases:
 *
 *   1. sink down at start     ES indexes everything; the export queues up to EF_OUTPUT_RISKIQ_QUEUE_MAX,
 *                             drops the oldest (counted) and keeps retrying.
 *   2. sink comes up          the newest queued records arrive, then everything sent.
 *   3. sink killed mid-stream and restarted on the same port: ES unaffected, the collector reconnects and
 *                             the records sent after the restart arrive.
 *   4. sink stops reading     (a fresh sink, SIGSTOPped before the collector reconnects, so its receive
 *                             window never grows: the connection then takes ~4 MB on loopback before it
 *                             is full, hence 90k high-entropy public->public IPv6 flows): ES keeps indexing
 *                             with the same lag, drops are counted, the export's queue gauge stays within
 *                             its bound, RSS stays bounded.
 *   5. sink reads again       (SIGCONT): delivery resumes.
 *
 * Flows are synthetic IPFIX (IPv6, one template per message), 90 % public->private and 10 %
 * private->private; each flow's octet count is a unique id (phase * 10^7 + index) so records can be traced.
 * Every wait is bounded; children are stopped in afterAll.
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { freeTcpPort, metricSum, startCollectorProcess, type CollectorProcess } from '../helpers/collector';
import { describeEs, es, uniqueId, waitFor } from '../helpers/es';
import { KEYS, rssBytes, startSinkProcess, TEST_UUID, type SinkProcess } from '../output/riskiq/helpers';

const QUEUE_MAX = 3000;
const BATCH = 500;
const RATE = 4000; // flows per second offered
const RECORDS_PER_MESSAGE = 20;

// IPFIX template 256: source/destination IPv6, ports, protocol, tcpControlBits, octets, packets, start/end ms.
const FIELDS: Array<[number, number]> = [[27, 16], [28, 16], [7, 2], [11, 2], [4, 1], [6, 2], [1, 8], [2, 8], [152, 8], [153, 8]];
const REC_LEN = FIELDS.reduce((n, [, l]) => n + l, 0);

interface SynthFlow {
  id: number;
  hasPublic: boolean;
}

let sequence = 0;
function ipfixMessage(flows: Array<{ src: Buffer; dst: Buffer; id: number }>): Buffer {
  const tmplLen = 4 + 4 + FIELDS.length * 4;
  const dataLen = 4 + flows.length * REC_LEN;
  const total = 16 + tmplLen + dataLen;
  const b = Buffer.alloc(total);
  const now = Date.now();
  b.writeUInt16BE(10, 0);
  b.writeUInt16BE(total, 2);
  b.writeUInt32BE(Math.floor(now / 1000), 4);
  b.writeUInt32BE(sequence, 8);
  b.writeUInt32BE(7, 12);
  let o = 16;
  b.writeUInt16BE(2, o);
  b.writeUInt16BE(tmplLen, o + 2);
  b.writeUInt16BE(256, o + 4);
  b.writeUInt16BE(FIELDS.length, o + 6);
  o += 8;
  for (const [id, len] of FIELDS) {
    b.writeUInt16BE(id, o);
    b.writeUInt16BE(len, o + 2);
    o += 4;
  }
  b.writeUInt16BE(256, o);
  b.writeUInt16BE(dataLen, o + 2);
  o += 4;
  for (const f of flows) {
    f.src.copy(b, o);
    f.dst.copy(b, o + 16);
    b.writeUInt16BE(1024 + Math.floor(Math.random() * 60000), o + 32);
    b.writeUInt16BE([22, 80, 443, 3389][f.id % 4], o + 34);
    b[o + 36] = 6;
    b.writeUInt16BE(0x1b, o + 37);
    b.writeBigUInt64BE(BigInt(f.id), o + 39);
    b.writeBigUInt64BE(1n, o + 47);
    b.writeBigUInt64BE(BigInt(now - 1000), o + 55);
    b.writeBigUInt64BE(BigInt(now), o + 63);
    o += REC_LEN;
  }
  sequence += flows.length;
  return b;
}

const publicV6 = () => Buffer.concat([Buffer.from([0x26, 0x06, 0x47, 0x00]), randomBytes(12)]);
const privateV6 = () => Buffer.concat([Buffer.from([0xfd]), randomBytes(15)]);

/**
 * Sends `count` flows of a phase at `rate` flows/s (paced every 20 ms); resolves with the flows sent.
 * `external`: public -> public (two random IPv6 addresses per record: more bytes per record).
 */
async function sendPhase(port: number, phase: number, count: number, rate = RATE, external = false): Promise<SynthFlow[]> {
  const sock = dgram.createSocket('udp4');
  const flows: SynthFlow[] = [];
  const started = Date.now();
  try {
    let i = 0;
    while (i < count) {
      const due = Math.min(count, Math.floor(((Date.now() - started + 20) * rate) / 1000));
      while (i < due) {
        const batch: Array<{ src: Buffer; dst: Buffer; id: number }> = [];
        for (let k = 0; k < RECORDS_PER_MESSAGE && i < count; k++, i++) {
          const id = phase * 10_000_000 + i;
          const hasPublic = i % 10 !== 9;
          batch.push({ src: hasPublic ? publicV6() : privateV6(), dst: hasPublic && external ? publicV6() : privateV6(), id });
          flows.push({ id, hasPublic });
        }
        await new Promise<void>((resolve, reject) => sock.send(ipfixMessage(batch), port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    sock.close();
  }
  return flows;
}

const ids = (lines: string[], phase: number) =>
  new Set(lines.map((l) => JSON.parse(l).bytes as number).filter((b) => Math.floor(b / 10_000_000) === phase));

describeEs('RiskIQ export faults: the collector keeps indexing, reconnects, counts drops, stays bounded', () => {
  const dataStream = `logs-threatflow.flows-riskiqf${uniqueId()}`;
  let port = 0;
  let collector: CollectorProcess;
  let sink: SinkProcess | null = null;
  let sent = 0;
  const lags: Record<string, number> = {};
  const exportFigures: Record<string, number> = {};

  /** Waits until Elasticsearch holds every document sent so far; returns how long that took (ms). */
  async function esCaughtUp(label: string): Promise<number> {
    const t0 = Date.now();
    let n = 0;
    await waitFor(async () => {
      await es('POST', `/${dataStream}/_refresh`);
      n = (await es('GET', `/${dataStream}/_count`)).json?.count ?? 0;
      return n >= sent;
    }, 60_000, 250).catch((e: Error) => {
      throw new Error(`${label}: ${e.message}: ${n} of ${sent} documents indexed`);
    });
    expect(n).toBe(sent);
    lags[label] = Date.now() - t0;
    return lags[label];
  }

  /** The collector's metrics once the worker has reported (it reports every second). */
  async function metrics(): Promise<Record<string, number>> {
    await new Promise((r) => setTimeout(r, 1200));
    return collector.metrics();
  }
  const m = (v: Record<string, number>, name: string, filter = '') => metricSum(v, `threatflow_${name}`, filter);

  beforeAll(async () => {
    port = await freeTcpPort();
    collector = await startCollectorProcess({
      EF_FLOW_SERVER_WORKERS: '1',
      EF_OUTPUT_ELASTICSEARCH_ENABLE: 'true',
      EF_OUTPUT_ELASTICSEARCH_ADDRESSES: new URL(process.env.TF_TEST_ES_URL ?? 'http://127.0.0.1:9200').host,
      EF_OUTPUT_ELASTICSEARCH_DATA_STREAM: dataStream,
      EF_OUTPUT_ELASTICSEARCH_INDEX_TEMPLATE_REPLICAS: '0',
      EF_OUTPUT_ELASTICSEARCH_BATCH_DEADLINE: '200',
      EF_OUTPUT_RISKIQ_ENABLE: 'true',
      EF_OUTPUT_RISKIQ_HOST: '127.0.0.1',
      EF_OUTPUT_RISKIQ_PORT: String(port),
      EF_OUTPUT_RISKIQ_CUSTOMER_UUID: TEST_UUID,
      EF_OUTPUT_RISKIQ_CUSTOMER_ENCRYPTION_KEY: KEYS[128].toString('base64'),
      EF_OUTPUT_RISKIQ_BATCH_SIZE: String(BATCH),
      EF_OUTPUT_RISKIQ_BATCH_DEADLINE: '200',
      EF_OUTPUT_RISKIQ_QUEUE_MAX: String(QUEUE_MAX),
    });
  }, 60_000);

  afterAll(async () => {
    if (sink) await sink.stop();
    if (collector) await collector.stop();
    await es('DELETE', `/_data_stream/${dataStream}`);
    // eslint-disable-next-line no-console
    console.log(`Elasticsearch catch-up after each phase (ms): ${JSON.stringify(lags)}; export: ${JSON.stringify(exportFigures)}`);
  }, 60_000);

  let phase1: SynthFlow[] = [];

  it('1. sink down at start: every flow is indexed; the export keeps the newest, counts the drops, and retries', async () => {
    phase1 = await sendPhase(collector.udpPort, 1, 10_000);
    sent += phase1.length;
    await esCaughtUp('1 sink down');
    const v = await metrics();
    const pub = phase1.filter((f) => f.hasPublic).length;
    expect(m(v, 'riskiq_records_skipped_total')).toBe(phase1.length - pub);
    expect(m(v, 'riskiq_records_queued_total')).toBe(pub);
    expect(m(v, 'riskiq_records_sent_total')).toBe(0);
    expect(m(v, 'riskiq_queue_size')).toBe(QUEUE_MAX);
    expect(m(v, 'output_dropped_total', 'reason="queue_full"')).toBe(pub - QUEUE_MAX);
    expect(m(v, 'riskiq_reconnects_total')).toBeGreaterThanOrEqual(2);
    expect(m(v, 'riskiq_connects_total')).toBe(0);
    expect(m(v, 'riskiq_connections')).toBe(0);
    expect(collector.output().some((l) => l.includes('RiskIQ receiver unreachable, retrying') && l.includes('ECONNREFUSED'))).toBe(true);
  }, 120_000);

  it('2. sink comes up: the newest queued records arrive, then everything sent', async () => {
    sink = await startSinkProcess({ port, key: KEYS[128] });
    // Backoff may have grown to several seconds while the sink was down (capped at 30 s).
    await waitFor(async () => sink!.records().length >= QUEUE_MAX, 45_000, 100);
    const newest = phase1.filter((f) => f.hasPublic).slice(-QUEUE_MAX).map((f) => f.id);
    expect([...ids(sink.records(), 1)].sort()).toEqual(newest.sort());
    const flows = await sendPhase(collector.udpPort, 2, 5000);
    sent += flows.length;
    await esCaughtUp('2 sink up');
    const want = flows.filter((f) => f.hasPublic).map((f) => f.id);
    await waitFor(async () => ids(sink!.records(), 2).size >= want.length, 20_000, 100);
    expect([...ids(sink.records(), 2)].sort()).toEqual(want.sort());
    expect(sink.records()).toHaveLength(QUEUE_MAX + want.length);
    const v = await metrics();
    expect(m(v, 'riskiq_connects_total')).toBe(1);
    expect(m(v, 'riskiq_connections')).toBe(1);
    expect(m(v, 'riskiq_queue_size')).toBe(0);
  }, 120_000);

  it('3. sink killed mid-stream and restarted: indexing goes on, the collector reconnects, later records arrive', async () => {
    const sending = sendPhase(collector.udpPort, 3, 12_000);
    await new Promise((r) => setTimeout(r, 1000));
    sink!.kill('SIGKILL');
    await sink!.stop();
    await new Promise((r) => setTimeout(r, 1000));
    sink = await startSinkProcess({ port, key: KEYS[128] });
    const flows = await sending;
    sent += flows.length;
    await esCaughtUp('3 sink killed');
    // Everything sent in the last half second of the phase, long after the restart, arrives.
    const last = flows.filter((f) => f.hasPublic).slice(-1800).map((f) => f.id);
    await waitFor(async () => {
      const got = ids(sink!.records(), 3);
      return last.every((id) => got.has(id));
    }, 45_000, 100);
    const v = await metrics();
    expect(m(v, 'riskiq_connects_total')).toBe(2);
    expect(m(v, 'riskiq_disconnects_total')).toBe(1);
    expect(m(v, 'riskiq_reconnects_total')).toBeGreaterThan(0);
    expect(collector.output().some((l) => l.includes('reconnected to the RiskIQ receiver'))).toBe(true);
    // Every record the export accepted is accounted for: sent, waiting, or dropped with a reason.
    await waitFor(async () => m(await collector.metrics(), 'riskiq_queue_size') === 0, 10_000);
    const w = await metrics();
    expect(m(w, 'riskiq_records_sent_total') + m(w, 'output_dropped_total', 'output="riskiq"')).toBe(m(w, 'riskiq_records_queued_total'));
  }, 120_000);

  it('4. sink stops reading (full TCP window): same indexing lag, drops counted, queue and memory bounded', async () => {
    await sink!.stop();
    sink = await startSinkProcess({ port, key: KEYS[128] });
    sink.kill('SIGSTOP');
    // The kernel completes the handshake for a stopped process: the collector reconnects all the same.
    await waitFor(async () => m(await collector.metrics(), 'riskiq_connects_total') === 3, 45_000, 200);
    const before = await metrics();
    const dropped0 = m(before, 'output_dropped_total', 'output="riskiq"');
    const rss0 = rssBytes(collector.child.pid!)!;
    let maxRss = rss0;
    let maxQueue = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        maxRss = Math.max(maxRss, rssBytes(collector.child.pid!) ?? 0);
        maxQueue = Math.max(maxQueue, m(await collector.metrics(), 'riskiq_queue_size'));
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    try {
      const flows = await sendPhase(collector.udpPort, 4, 90_000, 4500, true);
      sent += flows.length;
      await esCaughtUp('4 sink stopped');
    } finally {
      sampling = false;
      await sampler;
    }
    const v = await metrics();
    const dropped = m(v, 'output_dropped_total', 'reason="queue_full"');
    Object.assign(exportFigures, {
      bytesPerRecord: Math.round(m(v, 'riskiq_bytes_sent_total') / Math.max(1, m(v, 'riskiq_records_sent_total'))),
      droppedInPhase4: m(v, 'output_dropped_total', 'output="riskiq"') - dropped0,
      maxQueue,
      rssGrowthMB: Math.round((maxRss - rss0) / 1048576),
    });
    expect(m(v, 'output_dropped_total', 'output="riskiq"') - dropped0).toBeGreaterThan(0);
    expect(dropped).toBeGreaterThan(0);
    // Lines waiting: the queue plus at most the frames in flight (one being built, a few unconfirmed).
    expect(maxQueue).toBeLessThanOrEqual(QUEUE_MAX + 4 * BATCH);
    expect(maxQueue).toBeGreaterThanOrEqual(QUEUE_MAX);
    // 64k flows went through; the export's share of memory is bounded by the queue, not by the backlog.
    expect(maxRss - rss0).toBeLessThan(150 * 1024 * 1024);
    // Indexing kept its pace: the catch-up after this phase is not much slower than with a healthy sink.
    expect(lags['4 sink stopped']).toBeLessThan(Math.max(15_000, 3 * lags['2 sink up']));
  }, 180_000);

  it('5. sink reads again: delivery resumes', async () => {
    sink!.kill('SIGCONT');
    const flows = await sendPhase(collector.udpPort, 5, 4000);
    sent += flows.length;
    await esCaughtUp('5 sink resumed');
    const want = flows.filter((f) => f.hasPublic).map((f) => f.id);
    await waitFor(async () => ids(sink!.records(), 5).size >= want.length, 60_000, 200);
    expect([...ids(sink!.records(), 5)].sort()).toEqual(want.sort());
    expect(sink!.logs().filter((l) => l.msg === 'bad frame' || l.msg === 'bad record')).toEqual([]);
    const v = await metrics();
    expect(m(v, 'riskiq_connects_total')).toBe(3);
    expect(m(v, 'riskiq_disconnects_total', 'reason="stalled"')).toBe(0);
  }, 120_000);
});
