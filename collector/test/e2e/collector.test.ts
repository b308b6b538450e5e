// SPDX-License-Identifier: Apache-2.0
/**
 * The collector as a user runs it (`threatflow run`, built CLI, real UDP on loopback, the embedded
 * Elasticsearch): what lands in Elasticsearch is what tshark reads in the same capture; hostile datagrams
 * are counted by reason without stopping anything; a bad variable stops startup before any socket opens;
 * secrets never reach the logs.
 */
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { readCaptureFile } from '../../src/capture/pcap';
import { CLI, freeUdpPort, metricSum, requireBuiltCli, sendDatagrams, startCollectorProcess, type CollectorProcess } from '../helpers/collector';
import { describeEs, es, uniqueId, waitFor } from '../helpers/es';
import { HAVE_SHARED, sharedPath } from '../helpers/testdata';

const HAVE_TSHARK = spawnSync('tshark', ['--version'], { stdio: 'ignore' }).status === 0;

/** NetFlow v5 records as tshark decodes them: one key per record (src, dst, ports, proto, octets, packets). */
function tsharkV5Records(file: string): string[] {
  const r = spawnSync(
    'tshark',
    ['-r', file, '-d', 'udp.port==2055,cflow', '-T', 'fields', '-E', 'separator=/t', '-E', 'aggregator=,',
      '-e', 'cflow.srcaddr', '-e', 'cflow.dstaddr', '-e', 'cflow.srcport', '-e', 'cflow.dstport', '-e', 'cflow.protocol', '-e', 'cflow.octets', '-e', 'cflow.packets'],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(r.stderr);
  const keys: string[] = [];
  for (const line of r.stdout.split('\n').filter(Boolean)) {
    const cols = line.split('\t').map((c) => c.split(','));
    for (let i = 0; i < cols[0].length; i++) keys.push(cols.map((c) => c[i]).join(' '));
  }
  return keys.sort();
}

const V5_CAPTURE = sharedPath('logstash-codec-netflow', 'pcap', 'netflow5_mikrotik.pcap');

describeEs('threatflow run into the embedded Elasticsearch', () => {
  let collector: CollectorProcess | null = null;
  const id = uniqueId();
  const dataStream = `logs-threatflow.flows-e2e${id}`;

  beforeAll(async () => {
    collector = await startCollectorProcess({
      EF_OUTPUT_ELASTICSEARCH_ENABLE: 'true',
      EF_OUTPUT_ELASTICSEARCH_ADDRESSES: new URL(process.env.TF_TEST_ES_URL ?? 'http://127.0.0.1:9200').host,
      EF_OUTPUT_ELASTICSEARCH_DATA_STREAM: dataStream,
      EF_OUTPUT_ELASTICSEARCH_INDEX_TEMPLATE_REPLICAS: '0',
      EF_OUTPUT_ELASTICSEARCH_BATCH_DEADLINE: '200',
      // Set but unused by the OSS node (no security): they must never be printed.
      EF_OUTPUT_ELASTICSEARCH_USERNAME: 'tf-e2e-user',
      EF_OUTPUT_ELASTICSEARCH_PASSWORD: 'S3cr3t-e2e-password-7f1a',
    });
  });
  afterAll(async () => {
    if (collector) await collector.stop();
    await es('DELETE', `/_data_stream/${dataStream}`);
  });

  (HAVE_SHARED && HAVE_TSHARK ? it : it.skip)('indexes every record of a NetFlow v5 capture as tshark decodes it', async () => {
    const datagrams = readCaptureFile(V5_CAPTURE);
    const expected = tsharkV5Records(V5_CAPTURE);
    expect(expected.length).toBeGreaterThan(0);
    await sendDatagrams(collector!.udpPort, datagrams.map((d) => d.payload));
    await waitFor(async () => {
      await es('POST', `/${dataStream}/_refresh`);
      return (await es('GET', `/${dataStream}/_count`)).json?.count >= expected.length;
    });
    const res = await es('POST', `/${dataStream}/_search`, { size: 1000, query: { term: { 'netflow.exporter.version': 5 } } });
    const got = res.json.hits.hits
      .map((h: any) => h._source)
      .map((s: any) => [s.source.ip, s.destination.ip, s.source.port ?? 0, s.destination.port ?? 0, s.network.iana_number, s.network.bytes, s.network.packets].join(' '))
      .sort();
    expect(got).toEqual(expected);
  });

  it('counts hostile datagrams by reason, keeps running, and decodes the next good datagram', async () => {
    const good = readCaptureFile(sharedPath('goflow2', 'nfv5.pcap'))[0].payload;
    const rnd = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7919 + 13) & 0xff));
    const hostile = [
      Buffer.alloc(0), // zero-length
      Buffer.from([0x00, 0x05]), // too short for any header
      good.subarray(0, 30), // truncated v5: header says more records than there are
      Buffer.concat([Buffer.from([0x00, 0x05, 0x00, 0xc8]), rnd(9000)]), // oversized, claiming 200 v5 records (max 30)
      Buffer.from([0x00, 0x63, 0x00, 0x01, 0, 0, 0, 0]), // version 99
      rnd(1400),
    ];
    const before = await collector!.settledMetrics();
    await sendDatagrams(collector!.udpPort, [...hostile, good]);
    const after = await waitFor(async () => {
      const m = await collector!.metrics();
      return metricSum(m, 'threatflow_records_total', 'netflow5') > metricSum(before, 'threatflow_records_total', 'netflow5') ? m : null;
    });
    const errs = (reason: string) => metricSum(after, 'threatflow_decode_errors_total', `reason="${reason}"`) - metricSum(before, 'threatflow_decode_errors_total', `reason="${reason}"`);
    expect(errs('short_datagram')).toBeGreaterThanOrEqual(2);
    expect(errs('unknown_version')).toBeGreaterThanOrEqual(1);
    expect(errs('short_datagram') + errs('bad_header') + errs('unknown_version')).toBeGreaterThanOrEqual(hostile.length - 1);
    expect(metricSum(after, 'threatflow_records_total', 'netflow5') - metricSum(before, 'threatflow_records_total', 'netflow5')).toBe(6);
    expect(collector!.child.exitCode).toBeNull();
    const warned = collector!.output().filter((l) => l.includes('malformed flow data skipped'));
    expect(warned.length).toBeGreaterThan(0);
  });

  it('never writes the password to its output', () => {
    const text = collector!.output().join('\n');
    expect(text).toContain('collector started');
    expect(text).not.toContain('S3cr3t-e2e-password-7f1a');
  });
});

describe('threatflow run with a bad configuration', () => {
  it('exits 2 before listening, naming the variable, the value and what is allowed', async () => {
    requireBuiltCli();
    const port = await freeUdpPort();
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EF_')));
    const r = spawnSync(process.execPath, [CLI, 'run'], {
      env: { ...base, EF_FLOW_SERVER_UDP_PORT: `${port},70000`, EF_OUTPUT_ELASTICSEARCH_PASSWORD: 'pw-never-shown-91' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('EF_FLOW_SERVER_UDP_PORT');
    expect(r.stderr).toContain('70000');
    expect(r.stderr).toMatch(/1-65535/);
    expect(r.stdout + r.stderr).not.toContain('pw-never-shown-91');
    // Nothing was bound: the port is still free.
    const s = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(port, '127.0.0.1', () => resolve());
    });
    s.close();
  });
});

describeEs('threatflow run and Elasticsearch at startup', () => {
  const esHost = new URL(process.env.TF_TEST_ES_URL ?? 'http://127.0.0.1:9200').host;

  it('fails over to the next address when the first node is down', async () => {
    const dead = await freeUdpPort(); // a TCP port nobody listens on (same number, other protocol)
    const dataStream = `logs-threatflow.flows-failover${uniqueId()}`;
    const c = await startCollectorProcess({
      EF_OUTPUT_ELASTICSEARCH_ENABLE: 'true',
      EF_OUTPUT_ELASTICSEARCH_ADDRESSES: `127.0.0.1:${dead},${esHost}`,
      EF_OUTPUT_ELASTICSEARCH_DATA_STREAM: dataStream,
      EF_OUTPUT_ELASTICSEARCH_INDEX_TEMPLATE_REPLICAS: '0',
      EF_OUTPUT_ELASTICSEARCH_BATCH_DEADLINE: '200',
    });
    try {
      await sendDatagrams(c.udpPort, readCaptureFile(sharedPath('goflow2', 'nfv5.pcap')).map((d) => d.payload));
      await waitFor(async () => {
        await es('POST', `/${dataStream}/_refresh`);
        return (await es('GET', `/${dataStream}/_count`)).json?.count === 6;
      });
    } finally {
      await c.stop();
      await es('DELETE', `/_data_stream/${dataStream}`);
    }
  });

  it('refuses to start when the default ingest pipeline does not exist, naming the variable', async () => {
    requireBuiltCli();
    const port = await freeUdpPort();
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EF_')));
    const r = spawnSync(process.execPath, [CLI, 'run'], {
      env: {
        ...base,
        EF_FLOW_SERVER_UDP_IP: '127.0.0.1',
        EF_FLOW_SERVER_UDP_PORT: String(port),
        EF_API_ENABLE: 'false',
        EF_OUTPUT_ELASTICSEARCH_ENABLE: 'true',
        EF_OUTPUT_ELASTICSEARCH_ADDRESSES: esHost,
        EF_OUTPUT_ELASTICSEARCH_DATA_STREAM: `logs-threatflow.flows-nopipe${uniqueId()}`,
        EF_OUTPUT_ELASTICSEARCH_INDEX_TEMPLATE_ENABLE: 'false',
        EF_OUTPUT_ELASTICSEARCH_INDEX_TEMPLATE_PIPELINE_DEFAULT: `tf-missing-${uniqueId()}`,
      },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(1);
    // The reason is a field of a JSON log line, so its quotes arrive escaped.
    expect(r.stderr).toMatch(/EF_OUTPUT_ELASTICSEARCH_INDEX_TEMPLATE_PIPELINE_DEFAULT names the ingest pipeline \\"tf-missing-[^"\\]+\\", which does not exist/);
  });
});
