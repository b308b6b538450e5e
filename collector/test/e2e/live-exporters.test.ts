// SPDX-License-Identifier: Apache-2.0
/**
 * Live exporters into the running collector and the embedded Elasticsearch: softflowd (NetFlow v5, v9,
 * IPFIX) and pmacct (IPFIX, sFlow) export the known traffic of collector/test/exporters/traffic.pcap over
 * UDP on loopback to `threatflow run`; the documents in Elasticsearch must match the flows the traffic
 * generator wrote down (expected-flows.json): 5-tuple, bytes, packets, TCP flags, start/end, Community ID
 * (from an independent Python implementation of the spec), locality and direction.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { loadExpectedFlows, LIVE_EXPORTER_CASES, type ExpectedFlow } from '../helpers/exporters';
import { startCollectorProcess, type CollectorProcess } from '../helpers/collector';
import { describeEs, es, uniqueId, waitFor } from '../helpers/es';
import { sharedPath, HAVE_SHARED } from '../helpers/testdata';

const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const HAVE_EXPORTERS = have('softflowd') && have('pmacctd') && spawnSync('/usr/bin/python3', ['-c', '1']).status === 0;

/** Community IDs from the independent Python implementation, in input order. */
function pythonCommunityIds(flows: Array<{ proto: number; saddr: string; daddr: string; sport: number; dport: number }>): string[] {
  const r = spawnSync('/usr/bin/python3', [join(__dirname, '..', 'helpers', 'community-id.py')], {
    input: flows.map((f) => JSON.stringify(f)).join('\n') + '\n',
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.trim().split('\n');
}

/** The generator's addresses are RFC 1918 / ULA / link-local (private) or plainly global (public). */
function locality(ip: string): 'private' | 'public' {
  return /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|f[cd]|fe80:)/.test(ip) ? 'private' : 'public';
}

function direction(src: string, dst: string): string {
  const s = locality(src);
  const d = locality(dst);
  if (s === 'private' && d === 'private') return 'internal';
  if (s === 'public' && d === 'public') return 'external';
  return s === 'private' ? 'outbound' : 'inbound';
}

const isIcmp = (f: ExpectedFlow) => f.protocol === 1 || f.protocol === 58;
const keyOf = (src: string, dst: string, sport: number, dport: number, proto: number) => `${proto} ${src}:${sport} > ${dst}:${dport}`;

/** The expected key of a flow: ICMP carries type*256+code in the destination port (NetFlow convention). */
function expectedKey(f: ExpectedFlow): string {
  return keyOf(f.src_ip, f.dst_ip, f.src_port, f.dst_port, f.protocol);
}

function docKey(s: any): string {
  const icmp = s.flow?.icmp;
  const dport = icmp ? icmp.type * 256 + (icmp.code ?? 0) : (s.destination.port ?? 0);
  return keyOf(s.source.ip, s.destination.ip, icmp ? 0 : (s.source.port ?? 0), dport, Number(s.network.iana_number));
}

const CASES = LIVE_EXPORTER_CASES;

describeEs('live exporters -> threatflow run -> Elasticsearch', () => {
  const expected = loadExpectedFlows().flows;

  (HAVE_SHARED ? it : it.skip)('the Python Community ID reference agrees with the spec baseline', () => {
    const base = JSON.parse(readFileSync(sharedPath('community-id-spec', 'baseline', 'baseline_deflt.json'), 'utf8')) as any[];
    const tcpUdp = base.filter((v) => v.proto === 6 || v.proto === 17).slice(0, 10);
    const icmp = base.filter((v) => v.proto === 1 || v.proto === 58).slice(0, 10);
    const vectors = [...tcpUdp, ...icmp];
    expect(pythonCommunityIds(vectors)).toEqual(vectors.map((v) => v.communityid));
  });

  for (const c of CASES) {
    (HAVE_EXPORTERS ? it : it.skip)(`${c.name}: documents match the known flows`, async () => {
      const dataStream = `logs-threatflow.flows-live${uniqueId()}`;
      let collector: CollectorProcess | null = null;
      try {
        collector = await startCollectorProcess({
          EF_OUTPUT_ELASTICSEARCH_ENABLE: 'true',
          EF_OUTPUT_ELASTICSEARCH_ADDRESSES: new URL(process.env.TF_TEST_ES_URL ?? 'http://127.0.0.1:9200').host,
          EF_OUTPUT_ELASTICSEARCH_DATA_STREAM: dataStream,
          EF_OUTPUT_ELASTICSEARCH_INDEX_TEMPLATE_REPLICAS: '0',
          EF_OUTPUT_ELASTICSEARCH_BATCH_DEADLINE: '200',
        });
        await c.run(collector.udpPort);
        const want = expected.filter(c.carries);
        const wantDocs = c.sflow ? want.reduce((n, f) => n + f.packets, 0) : want.length;
        await waitFor(async () => {
          await es('POST', `/${dataStream}/_refresh`);
          return (await es('GET', `/${dataStream}/_count`)).json?.count >= wantDocs;
        }, 30_000);
        const hits = (await es('POST', `/${dataStream}/_search`, { size: 2000 })).json.hits.hits.map((h: any) => h._source);
        expect(hits).toHaveLength(wantDocs);

        // Group documents by 5-tuple (sFlow: one document per sampled packet, summed here).
        const byKey = new Map<string, any[]>();
        for (const d of hits) byKey.set(docKey(d), [...(byKey.get(docKey(d)) ?? []), d]);
        expect([...byKey.keys()].sort()).toEqual(want.map(expectedKey).sort());

        const ids = pythonCommunityIds(
          want.map((f) => ({
            proto: f.protocol,
            saddr: f.src_ip,
            daddr: f.dst_ip,
            sport: isIcmp(f) ? f.dst_port >> 8 : f.src_port,
            dport: isIcmp(f) ? f.dst_port & 0xff : f.dst_port,
          })),
        );
        want.forEach((f, i) => {
          const docs = byKey.get(expectedKey(f))!;
          const d = docs[0];
          const label = `${c.name} ${f.conversation} ${expectedKey(f)}`;
          const sum = (get: (x: any) => number) => docs.reduce((n, x) => n + get(x), 0);
          if (c.sflow) {
            // One sample per packet at rate 1; sFlow reports the frame length (pmacct adds a 4-byte FCS).
            expect([label, docs.length, sum((x) => x.network.packets)]).toEqual([label, f.packets, f.packets]);
            expect([label, sum((x) => x.network.bytes)]).toEqual([label, f.frame_bytes + 4 * f.packets]);
            const flags = docs.reduce((n, x) => n | (x.sflow.tcp_control_bits ?? 0), 0);
            if (f.protocol === 6) expect([label, flags]).toEqual([label, f.tcp_flags]);
          } else {
            expect(docs).toHaveLength(1);
            expect([label, d.network.bytes, d.network.packets]).toEqual([label, f.bytes, f.packets]);
            if (f.protocol === 6) expect([label, d.netflow.tcp_control_bits]).toEqual([label, f.tcp_flags]);
            // Exporters stamp one first/last time on both directions of a conversation.
            const tol = c.timeToleranceMs!;
            expect([label, Math.abs(d.event.start - f.pair_first_ms) <= tol, Math.abs(d.event.end - f.pair_last_ms) <= tol]).toEqual([label, true, true]);
          }
          expect([label, d.network.community_id]).toEqual([label, ids[i]]);
          expect([label, d.source.locality, d.destination.locality]).toEqual([label, locality(f.src_ip), locality(f.dst_ip)]);
          expect([label, d.network.direction]).toEqual([label, direction(f.src_ip, f.dst_ip)]);
          expect([label, d.network.type]).toEqual([label, f.ip_version === 4 ? 'ipv4' : 'ipv6']);
          expect(d.observer.ip).toBe('127.0.0.1');
        });
      } finally {
        if (collector) await collector.stop();
        await es('DELETE', `/_data_stream/${dataStream}`);
      }
    }, 90_000);
  }
});
