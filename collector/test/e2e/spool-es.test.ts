// SPDX-License-Identifier: Apache-2.0
/**
 * The disk spool end to end: `threatflow run` (built CLI, real UDP) writes into the embedded
 * Elasticsearch through a loopback TCP proxy that the test cuts (listener closed, open connections
 * destroyed: connections are refused) and restores. Flows keep arriving while Elasticsearch is away; after
 * the proxy is back every flow is in Elasticsearch exactly once and the spool is empty.
 */
import dgram from 'node:dgram';
import { mkdtempSync, readdirSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { metricSum, startCollectorProcess, type CollectorProcess } from '../helpers/collector';
import { describeEs, es, uniqueId, waitFor } from '../helpers/es';

const ES_HOST = new URL(process.env.TF_TEST_ES_URL ?? 'http://127.0.0.1:9200');

/** A TCP proxy to Elasticsearch that can be cut and restored on the same port. */
class CuttableProxy {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  constructor(private readonly host: string, private readonly targetPort: number) {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.targetPort, this.host);
      this.sockets.add(client).add(upstream);
      const done = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', done).on('close', done);
      upstream.on('error', done).on('close', done);
      client.pipe(upstream).pipe(client);
    });
  }

  listen(): Promise<void> {
    return new Promise((resolve) =>
      this.server.listen(this.port, '127.0.0.1', () => {
        this.port = (this.server.address() as net.AddressInfo).port;
        resolve();
      }),
    );
  }

  /** From now on connections are refused, and the open ones are gone. */
  cut(): Promise<void> {
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    return closed;
  }
}

/** A NetFlow v5 datagram of `n` flows, flow i carrying `base + i` bytes (its id). */
function netflow5(base: number, n: number): Buffer {
  const b = Buffer.alloc(24 + 48 * n);
  const now = Date.now();
  b.writeUInt16BE(5, 0);
  b.writeUInt16BE(n, 2);
  b.writeUInt32BE(100_000, 4);
  b.writeUInt32BE(Math.floor(now / 1000), 8);
  b.writeUInt32BE((now % 1000) * 1_000_000, 12);
  b.writeUInt32BE(base, 16);
  for (let i = 0; i < n; i++) {
    const o = 24 + 48 * i;
    b.set([10, 0, 0, 1 + i], o);
    b.set([10, 1, 0, 1 + i], o + 4);
    b.writeUInt32BE(3, o + 16);
    b.writeUInt32BE(base + i, o + 20);
    b.writeUInt32BE(90_000, o + 24);
    b.writeUInt32BE(99_000, o + 28);
    b.writeUInt16BE(40_000 + i, o + 32);
    b.writeUInt16BE(443, o + 34);
    b[o + 38] = 6;
  }
  return b;
}

async function sendFlows(port: number, base: number, n: number): Promise<void> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => s.send(netflow5(base, n), port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
  await new Promise<void>((r) => s.close(() => r()));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeEs('threatflow run spools while Elasticsearch is cut off and replays when it is back', () => {
  let collector: CollectorProcess | null = null;
  let proxy: CuttableProxy | null = null;
  const dataStream = `logs-threatflow.flows-spool${uniqueId()}`;
  const spoolDir = join(mkdtempSync(join(tmpdir(), 'tf-spool-e2e-')), 'spool');

  afterAll(async () => {
    if (collector) await collector.stop();
    if (proxy) await proxy.cut().catch(() => undefined);
    await es('DELETE', `/_data_stream/${dataStream}`);
  });

  /** The ids (bytes) of the flows in the data stream, sorted, duplicates kept. */
  async function indexedIds(): Promise<number[]> {
    await es('POST', `/${dataStream}/_refresh`);
    const res = await es('POST', `/${dataStream}/_search`, { size: 1000, _source: ['network.bytes'], query: { match_all: {} } });
    return (res.json?.hits?.hits ?? []).map((h: any) => h._source.network.bytes as number).sort((a: number, b: number) => a - b);
  }

  it('keeps every flow sent during the outage and indexes each exactly once after it', async () => {
    proxy = new CuttableProxy(ES_HOST.hostname, Number(ES_HOST.port || 9200));
    await proxy.listen();
    collector = await startCollectorProcess({
      EF_FLOW_SERVER_WORKERS: '1',
      EF_OUTPUT_ELASTICSEARCH_ENABLE: 'true',
      EF_OUTPUT_ELASTICSEARCH_ADDRESSES: `127.0.0.1:${proxy.port}`,
      EF_OUTPUT_ELASTICSEARCH_DATA_STREAM: dataStream,
      EF_OUTPUT_ELASTICSEARCH_INDEX_TEMPLATE_REPLICAS: '0',
      EF_OUTPUT_ELASTICSEARCH_BATCH_DEADLINE: '100',
      EF_OUTPUT_ELASTICSEARCH_MAX_RETRIES: '1',
      EF_OUTPUT_ELASTICSEARCH_RETRY_BACKOFF: '100',
      EF_OUTPUT_ELASTICSEARCH_SPOOL_PATH: spoolDir,
      EF_OUTPUT_ELASTICSEARCH_SPOOL_MAX_SIZE: String(4 * 1024 * 1024),
    });
    const c = collector;
    const expected: number[] = [];
    const send = async (base: number, n: number) => {
      await sendFlows(c.udpPort, base, n);
      for (let i = 0; i < n; i++) expected.push(base + i);
    };

    // Healthy first.
    await send(1000, 20);
    await waitFor(async () => (await indexedIds()).length >= 20);

    // Elasticsearch goes away; flows keep coming, in several batches.
    await proxy.cut();
    for (let k = 0; k < 5; k++) {
      await send(2000 + k * 100, 25);
      await sleep(250);
    }
    const during = await waitFor(async () => {
      const m = await c.metrics();
      return metricSum(m, 'threatflow_output_spooled_documents_total') >= 125 && metricSum(m, 'threatflow_records_total') >= 145 ? m : null;
    });
    // Received and decoded meanwhile (the 20 of before plus the 125), and all of them kept.
    expect(metricSum(during, 'threatflow_records_total')).toBe(145);
    expect(metricSum(during, 'threatflow_output_spooled_documents_total')).toBe(125);
    expect(metricSum(during, 'threatflow_output_spool_batches')).toBeGreaterThan(0);
    expect(metricSum(during, 'threatflow_output_dropped_total')).toBe(0);
    expect(readdirSync(join(spoolDir, 'worker-0')).filter((n) => n.endsWith('.bulk')).length).toBeGreaterThan(0);
    expect(c.child.exitCode).toBeNull();

    // Back: the spool drains on its own (no new flows needed), then new flows still go through.
    await proxy.listen();
    await waitFor(async () => (await indexedIds()).length >= 145, 30_000, 250);
    await send(3000, 10);
    await waitFor(async () => (await indexedIds()).length >= 155, 30_000, 250);
    const after = await waitFor(async () => {
      const m = await c.metrics();
      return metricSum(m, 'threatflow_output_spool_batches') === 0 ? m : null;
    });
    expect(metricSum(after, 'threatflow_output_replayed_documents_total')).toBe(125);
    expect(metricSum(after, 'threatflow_output_spool_bytes')).toBe(0);
    expect(metricSum(after, 'threatflow_output_dropped_total')).toBe(0);
    expect(readdirSync(join(spoolDir, 'worker-0')).filter((n) => n !== '.lock')).toEqual([]); // the lock stays while it runs
    await sleep(500);
    expect(await indexedIds()).toEqual([...expected].sort((a, b) => a - b));
  }, 90_000);
});
