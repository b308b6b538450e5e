// SPDX-License-Identifier: Apache-2.0
/**
 * The RiskIQ export over TLS end to end, as a user runs it: `threatflow run` (the built CLI, one decoding
 * worker) receives NetFlow v5 on loopback and exports to `threatflow riskiq-sink --tls-cert --tls-key`
 * (a child process listening with TLS on loopback), with a throw-away CA and a server certificate for
 * 127.0.0.1/localhost made here with `openssl`:
 *
 *   1. EF_OUTPUT_RISKIQ_TLS_CA_CERT_FILEPATH = that CA: the sink decrypts exactly the expected records.
 *   2. no CA file (system CAs): the connection is refused — counted on /metrics, logged with the reason and
 *      what to set, without any secret — nothing reaches the sink, and Elasticsearch indexes every flow.
 *   3. EF_OUTPUT_RISKIQ_TLS_SKIP_VERIFICATION=true: connects to the unverifiable sink, with a warning at
 *      startup.
 *   4. Configuration errors: a missing CA file, a file that is not PEM: exit 2 naming the variable and the
 *      path, never the file's content.
 */
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, freeTcpPort, metricSum, requireBuiltCli, startCollectorProcess, type CollectorProcess } from '../helpers/collector';
import { describeEs, es, uniqueId, waitFor } from '../helpers/es';
import { KEYS, startSinkProcess, TEST_UUID, until, type SinkProcess } from '../output/riskiq/helpers';
import { testPki } from './threat-api-server';

const KEY = KEYS[256];
const PUBLIC = '93.184.216.34';

/** A NetFlow v5 datagram of `n` flows 10.0.0.x -> PUBLIC:443, flow i carrying `base + i` bytes (its id). */
function netflow5(base: number, n: number): Buffer {
  const b = Buffer.alloc(24 + 48 * n);
  const now = Date.now();
  b.writeUInt16BE(5, 0);
  b.writeUInt16BE(n, 2);
  b.writeUInt32BE(100_000, 4); // sysUptime (ms)
  b.writeUInt32BE(Math.floor(now / 1000), 8);
  b.writeUInt32BE((now % 1000) * 1_000_000, 12);
  b.writeUInt32BE(base, 16); // flow sequence
  for (let i = 0; i < n; i++) {
    const o = 24 + 48 * i;
    b.set([10, 0, 0, 1 + i], o); // srcaddr (private)
    b.set(PUBLIC.split('.').map(Number), o + 4); // dstaddr (public)
    b.writeUInt32BE(3, o + 16); // packets
    b.writeUInt32BE(base + i, o + 20); // bytes: the flow's id
    b.writeUInt32BE(90_000, o + 24); // first
    b.writeUInt32BE(99_000, o + 28); // last
    b.writeUInt16BE(40_000 + i, o + 32);
    b.writeUInt16BE(443, o + 34);
    b[o + 37] = 0x1b; // tcp flags
    b[o + 38] = 6; // TCP
  }
  return b;
}

async function sendFlows(port: number, base: number, n: number): Promise<void> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => s.send(netflow5(base, n), port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
  await new Promise<void>((r) => s.close(() => r()));
}

const pki = testPki();
const SINK_TLS = ['--tls-cert', join(pki.dir, 'srv.pem'), '--tls-key', join(pki.dir, 'srv.key')];
const serverKeyLine = pki.keyPem.split('\n')[1];

function exportEnv(port: number, extra: Record<string, string>): Record<string, string> {
  return {
    EF_FLOW_SERVER_WORKERS: '1',
    EF_OUTPUT_RISKIQ_ENABLE: 'true',
    EF_OUTPUT_RISKIQ_HOST: 'localhost',
    EF_OUTPUT_RISKIQ_PORT: String(port),
    EF_OUTPUT_RISKIQ_CUSTOMER_UUID: TEST_UUID,
    EF_OUTPUT_RISKIQ_CUSTOMER_ENCRYPTION_KEY: KEY.toString('base64'),
    EF_OUTPUT_RISKIQ_BATCH_DEADLINE: '200',
    EF_OUTPUT_RISKIQ_TLS_ENABLE: 'true',
    ...extra,
  };
}

const json = (lines: string[]) => lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>);
const expectedBytes = (base: number, n: number) => Array.from({ length: n }, (_, i) => base + i);

describe('threatflow run -> riskiq-sink over TLS', () => {
  let collector: CollectorProcess | null = null;
  let sink: SinkProcess | null = null;
  afterEach(async () => {
    if (collector) await collector.stop();
    if (sink) await sink.stop();
    collector = sink = null;
  });

  it('with EF_OUTPUT_RISKIQ_TLS_CA_CERT_FILEPATH: the sink decrypts exactly the expected records', async () => {
    sink = await startSinkProcess({ port: await freeTcpPort(), key: KEY, extraArgs: SINK_TLS });
    expect(sink.logs().find((l) => l.msg === 'riskiq sink listening')).toMatchObject({ tls: true });
    collector = await startCollectorProcess(exportEnv(sink.port, { EF_OUTPUT_RISKIQ_TLS_CA_CERT_FILEPATH: pki.caFile }));
    await sendFlows(collector.udpPort, 1000, 7);
    await until(() => sink!.records().length >= 7, 15_000, '7 records at the TLS sink');
    const records = sink.records().map((l) => JSON.parse(l));
    expect(records.map((r) => r.bytes).sort()).toEqual(expectedBytes(1000, 7));
    for (const r of records) {
      expect(r).toMatchObject({ src_ip: '', src_port: null, dst_ip: PUBLIC, dst_port: 443, packets: 3, protocol: 6, tcp_flags: 0x1b });
    }
    const connected = json(collector.output()).find((l) => l.msg === 'connected to the RiskIQ receiver');
    expect(connected).toMatchObject({ host: 'localhost', tls: true, tls_verified: true });
    await waitFor(async () => metricSum(await collector!.metrics(), 'threatflow_riskiq_records_sent_total') === 7, 5000);
    expect(metricSum(await collector.metrics(), 'threatflow_riskiq_connect_failures_total')).toBe(0);
    expect(sink.logs().filter((l) => l.msg === 'bad frame' || l.msg === 'bad record')).toEqual([]);
  }, 60_000);

  it('EF_OUTPUT_RISKIQ_TLS_SKIP_VERIFICATION=true: connects without a CA, and warns at startup', async () => {
    sink = await startSinkProcess({ port: await freeTcpPort(), key: KEY, extraArgs: SINK_TLS });
    collector = await startCollectorProcess(exportEnv(sink.port, { EF_OUTPUT_RISKIQ_HOST: '127.0.0.1', EF_OUTPUT_RISKIQ_TLS_SKIP_VERIFICATION: 'true' }));
    const warning = json(collector.output()).find((l) => l.level === 'warn' && /^EF_OUTPUT_RISKIQ_TLS_SKIP_VERIFICATION=true/.test(l.msg));
    expect(warning?.msg).toContain('the RiskIQ receiver certificate is not verified');
    await sendFlows(collector.udpPort, 2000, 4);
    await until(() => sink!.records().length >= 4, 15_000, '4 records at the TLS sink');
    expect(sink.records().map((l) => JSON.parse(l).bytes).sort()).toEqual(expectedBytes(2000, 4));
    expect(json(collector.output()).find((l) => l.msg === 'connected to the RiskIQ receiver')).toMatchObject({ tls: true, tls_verified: false });
  }, 60_000);
});

describeEs('threatflow run -> riskiq-sink over TLS, system CAs only (+ Elasticsearch)', () => {
  it('refuses the receiver: counted and logged with the reason, nothing delivered, Elasticsearch unaffected', async () => {
    const dataStream = `logs-threatflow.flows-riskiqtls${uniqueId()}`;
    let collector: CollectorProcess | null = null;
    let sink: SinkProcess | null = null;
    try {
      sink = await startSinkProcess({ port: await freeTcpPort(), key: KEY, extraArgs: SINK_TLS });
      collector = await startCollectorProcess(
        exportEnv(sink.port, {
          EF_OUTPUT_ELASTICSEARCH_ENABLE: 'true',
          EF_OUTPUT_ELASTICSEARCH_ADDRESSES: new URL(process.env.TF_TEST_ES_URL ?? 'http://127.0.0.1:9200').host,
          EF_OUTPUT_ELASTICSEARCH_DATA_STREAM: dataStream,
          EF_OUTPUT_ELASTICSEARCH_INDEX_TEMPLATE_REPLICAS: '0',
          EF_OUTPUT_ELASTICSEARCH_BATCH_DEADLINE: '200',
        }),
      );
      await sendFlows(collector.udpPort, 3000, 5);
      await waitFor(async () => {
        await es('POST', `/${dataStream}/_refresh`);
        return ((await es('GET', `/${dataStream}/_count`)).json?.count ?? 0) === 5;
      }, 30_000);
      await waitFor(async () => metricSum(await collector!.metrics(), 'threatflow_riskiq_connect_failures_total', 'reason="certificate"') >= 1, 10_000);
      const m = await collector.metrics();
      expect(metricSum(m, 'threatflow_riskiq_records_sent_total')).toBe(0);
      expect(metricSum(m, 'threatflow_riskiq_connects_total')).toBe(0);
      expect(metricSum(m, 'threatflow_riskiq_connections')).toBe(0);
      expect(metricSum(m, 'threatflow_riskiq_records_queued_total')).toBe(5);
      const refused = json(collector.output()).find((l) => l.msg === 'RiskIQ receiver certificate not verified: nothing is sent to it, retrying');
      expect(refused).toMatchObject({
        level: 'warn',
        host: 'localhost',
        port: sink.port,
        code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
        error: 'unable to verify the first certificate',
        hint: expect.stringContaining('EF_OUTPUT_RISKIQ_TLS_CA_CERT_FILEPATH'),
      });
      expect(sink.records()).toEqual([]);
      const text = collector.output().join('\n') + sink.stderr();
      for (const secret of [KEY.toString('base64'), KEY.toString('hex'), serverKeyLine]) expect(text).not.toContain(secret);
    } finally {
      if (collector) await collector.stop();
      if (sink) expect(sink.records()).toEqual([]);
      if (sink) await sink.stop();
      await es('DELETE', `/_data_stream/${dataStream}`);
    }
  }, 90_000);
});

describe('threatflow run: EF_OUTPUT_RISKIQ_TLS_CA_CERT_FILEPATH errors stop startup', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tf-riskiq-tls-config-'));
  const notPem = join(dir, 'ca.der');
  // Looks like a secret; must never be echoed.
  const CONTENT = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7-not-a-certificate';
  writeFileSync(notPem, `${CONTENT}\n`);

  function run(env: Record<string, string>) {
    requireBuiltCli();
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EF_')));
    return spawnSync(process.execPath, [CLI, 'run'], {
      env: { ...base, EF_FLOW_SERVER_UDP_IP: '127.0.0.1', EF_FLOW_SERVER_UDP_PORT: '1', EF_API_ENABLE: 'false', ...exportEnv(1, env) },
      encoding: 'utf8',
      timeout: 20_000,
    });
  }

  it.each([
    ['a missing file', '/nonexistent/riskiq-ca.pem', 'no such file'],
    ['a file that is not PEM', notPem, 'no PEM certificate (-----BEGIN CERTIFICATE-----) in it'],
    ['a private key instead of a certificate', join(pki.dir, 'srv.key'), 'no PEM certificate (-----BEGIN CERTIFICATE-----) in it'],
  ])('%s', (_name, path, detail) => {
    const r = run({ EF_OUTPUT_RISKIQ_TLS_CA_CERT_FILEPATH: path });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      `EF_OUTPUT_RISKIQ_TLS_CA_CERT_FILEPATH: ${JSON.stringify(path)} is not valid: empty or the path of an existing readable PEM file of certificates; ${detail}`,
    );
    for (const secret of [CONTENT, serverKeyLine, KEY.toString('base64')]) expect(r.stderr + r.stdout).not.toContain(secret);
  });
});
