// SPDX-License-Identifier: Apache-2.0
/**
 * Live RiskIQ export: softflowd (NetFlow v5, v9, IPFIX) and pmacct (IPFIX, sFlow) export the known traffic
 * of collector/test/exporters/traffic.pcap to `threatflow run` (the built CLI), which indexes into the
 * embedded Elasticsearch and exports to a `threatflow riskiq-sink` child on loopback. The sink must print
 * exactly the public-side records of expected-flows.json (private side "" / null, flows without a public
 * side absent) while the same flows are in Elasticsearch, and each record must equal the public-side
 * projection of its Elasticsearch document (times, counters, flags, protocol, Community ID).
 */
import { spawnSync } from 'node:child_process';
import { freeTcpPort, metricSum, startCollectorProcess, type CollectorProcess } from '../helpers/collector';
import { describeEs, es, uniqueId, waitFor } from '../helpers/es';
import { killExporterChildren, loadExpectedFlows, LIVE_EXPORTER_CASES, type ExpectedFlow } from '../helpers/exporters';
import { KEYS, startSinkProcess, TEST_UUID, type SinkProcess } from '../output/riskiq/helpers';

const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const HAVE_EXPORTERS = have('softflowd') && have('pmacctd');

/** The traffic generator's addresses are RFC 1918 / ULA / link-local (private) or plainly global. */
const isPrivate = (ip: string) => /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|f[cd]|fe80:)/.test(ip);
const isIcmp = (p: number) => p === 1 || p === 58;

/** The public-side key of a flow: what the record shows of its 5-tuple. */
function key(proto: number, src: string, sport: number | null, dst: string, dport: number | null): string {
  return `${proto} ${src}:${sport} > ${dst}:${dport}`;
}
function expectedKey(f: ExpectedFlow): string {
  const icmp = isIcmp(f.protocol);
  return key(
    f.protocol,
    isPrivate(f.src_ip) ? '' : f.src_ip,
    isPrivate(f.src_ip) || icmp ? null : f.src_port,
    isPrivate(f.dst_ip) ? '' : f.dst_ip,
    isPrivate(f.dst_ip) || icmp ? null : f.dst_port,
  );
}
const recordKey = (r: any) => key(r.protocol, r.src_ip, r.src_port, r.dst_ip, r.dst_port);

/** The record an Elasticsearch document must have given, written here from DESIGN.md §6. */
function projection(d: any): Record<string, unknown> | null {
  const srcPub = d.source?.ip !== undefined && !isPrivate(d.source.ip);
  const dstPub = d.destination?.ip !== undefined && !isPrivate(d.destination.ip);
  if (!srcPub && !dstPub) return null;
  const fields = d.netflow ?? d.sflow;
  return {
    start: d.event.start ?? d.event.end ?? d['@timestamp'],
    end: d.event.end ?? d.event.start ?? d['@timestamp'],
    bytes: d.network.bytes,
    packets: d.network.packets,
    src_ip: srcPub ? d.source.ip : '',
    src_port: srcPub ? (d.source.port ?? null) : null,
    dst_ip: dstPub ? d.destination.ip : '',
    dst_port: dstPub ? (d.destination.port ?? null) : null,
    tcp_flags: fields?.tcp_control_bits ?? 0,
    protocol: Number(d.network.iana_number),
    community_id: d.network.community_id ?? '',
  };
}

const sortByJson = (a: unknown[]) => a.map((x) => JSON.stringify(x)).sort();

const CASES = LIVE_EXPORTER_CASES;

describeEs('live exporters -> threatflow run -> Elasticsearch + RiskIQ sink', () => {
  const expected = loadExpectedFlows().flows;
  afterAll(() => killExporterChildren());

  it('the expected flows have unique public-side keys and some have no public side', () => {
    const pub = expected.filter((f) => !isPrivate(f.src_ip) || !isPrivate(f.dst_ip));
    expect(new Set(pub.map(expectedKey)).size).toBe(pub.length);
    expect(expected.length - pub.length).toBeGreaterThan(0);
  });

  for (const c of CASES) {
    (HAVE_EXPORTERS ? it : it.skip)(`${c.name}: the sink receives exactly the public-side records, and Elasticsearch the same flows`, async () => {
      const dataStream = `logs-threatflow.flows-riskiq${uniqueId()}`;
      let collector: CollectorProcess | null = null;
      let sink: SinkProcess | null = null;
      try {
        const port = await freeTcpPort();
        sink = await startSinkProcess({ port, key: KEYS[256] });
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
          EF_OUTPUT_RISKIQ_CUSTOMER_ENCRYPTION_KEY: KEYS[256].toString('base64'),
          EF_OUTPUT_RISKIQ_BATCH_DEADLINE: '200',
        });
        await c.run(collector.udpPort);
        const want = expected.filter(c.carries);
        const wantPub = want.filter((f) => !isPrivate(f.src_ip) || !isPrivate(f.dst_ip));
        const wantDocs = c.sflow ? want.reduce((n, f) => n + f.packets, 0) : want.length;
        const wantRecords = c.sflow ? wantPub.reduce((n, f) => n + f.packets, 0) : wantPub.length;
        let docs = 0;
        await waitFor(async () => {
          await es('POST', `/${dataStream}/_refresh`);
          docs = (await es('GET', `/${dataStream}/_count`)).json?.count ?? 0;
          return docs >= wantDocs && sink!.records().length >= wantRecords;
        }, 30_000).catch((e: Error) => {
          throw new Error(`${e.message}: ${docs}/${wantDocs} documents, ${sink!.records().length}/${wantRecords} records`);
        });
        // Nothing more arrives later (no duplicates, no stragglers).
        await new Promise((r) => setTimeout(r, 500));
        const hits = (await es('POST', `/${dataStream}/_search`, { size: 5000 })).json.hits.hits.map((h: any) => h._source);
        expect(hits).toHaveLength(wantDocs);
        const records = sink.records().map((l) => JSON.parse(l));
        expect(records).toHaveLength(wantRecords);

        // Each record is the public-side projection of one Elasticsearch document, and every document with a
        // public side gave one record.
        expect(sortByJson(records)).toEqual(sortByJson(hits.map(projection).filter((p: unknown) => p !== null)));

        // And the records are the known flows: public sides, counters, flags and times.
        const byKey = new Map<string, any[]>();
        for (const r of records) byKey.set(recordKey(r), [...(byKey.get(recordKey(r)) ?? []), r]);
        expect([...byKey.keys()].sort()).toEqual(wantPub.map(expectedKey).sort());
        for (const f of wantPub) {
          const rs = byKey.get(expectedKey(f))!;
          const label = `${c.name} ${f.conversation} ${expectedKey(f)}`;
          const sum = (k: string) => rs.reduce((n, r) => n + r[k], 0);
          for (const r of rs) {
            expect([label, Object.keys(r)]).toEqual([label, ['start', 'end', 'bytes', 'packets', 'src_ip', 'src_port', 'dst_ip', 'dst_port', 'tcp_flags', 'protocol', 'community_id']]);
            expect([label, r.community_id]).toEqual([label, expect.stringMatching(/^1:[A-Za-z0-9+/]+=*$/)]);
            // No private address anywhere in the record.
            for (const v of Object.values(r)) if (typeof v === 'string') expect([label, isPrivate(v)]).toEqual([label, false]);
          }
          if (c.sflow) {
            expect([label, rs.length, sum('packets')]).toEqual([label, f.packets, f.packets]);
            expect([label, sum('bytes')]).toEqual([label, f.frame_bytes + 4 * f.packets]);
            if (f.protocol === 6) expect([label, rs.reduce((n, r) => n | r.tcp_flags, 0)]).toEqual([label, f.tcp_flags]);
          } else {
            const r = rs[0];
            expect([label, rs.length, r.bytes, r.packets]).toEqual([label, 1, f.bytes, f.packets]);
            if (f.protocol === 6) expect([label, r.tcp_flags]).toEqual([label, f.tcp_flags]);
            const tol = c.timeToleranceMs!;
            expect([label, Math.abs(r.start - f.pair_first_ms) <= tol, Math.abs(r.end - f.pair_last_ms) <= tol]).toEqual([label, true, true]);
          }
        }

        // The collector's counters agree, and the sink saw no bad frame.
        await waitFor(async () => metricSum(await collector!.metrics(), 'threatflow_riskiq_records_sent_total') === wantRecords, 5000);
        const m = await collector.metrics();
        expect(metricSum(m, 'threatflow_riskiq_records_skipped_total')).toBe(wantDocs - wantRecords);
        expect(metricSum(m, 'threatflow_output_dropped_total', 'riskiq')).toBe(0);
        expect(metricSum(m, 'threatflow_riskiq_connects_total')).toBe(1);
        expect(metricSum(m, 'threatflow_riskiq_connections')).toBe(1);
        expect(sink.logs().filter((l) => l.msg === 'bad frame' || l.msg === 'bad record')).toEqual([]);
      } finally {
        if (collector) await collector.stop();
        if (sink) await sink.stop();
        await es('DELETE', `/_data_stream/${dataStream}`);
      }
    }, 90_000);
  }
});
