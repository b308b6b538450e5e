// SPDX-License-Identifier: Apache-2.0
/**
 * Every NetFlow v5 datagram of every capture under the shared test data, decoded and compared record by
 * record with tshark's decode of the same capture (run at test time: `tshark -r FILE -T json -d
 * udp.port==PORT,cflow`). A datagram whose header count does not fit (1..30, 24 + 48 * count bytes) must be
 * rejected instead; tshark's own header count is what says so.
 */
import { decodeNetflow5 } from '../../../src/decode/netflow5';
import { DecodeError, type FlowRecord } from '../../../src/decode/types';
import { Metrics } from '../../../src/observability/metrics';
import { HAVE_SHARED } from '../../helpers/testdata';
import { HAVE_TSHARK, JObject, flowCaptures, tsharkLayers } from '../packet/tshark';

/** tshark shows times in seconds with nine decimals ("4294967.295000000"); as integer ms. */
function secondsToMs(s: string): number {
  const [int, frac = ''] = s.split('.');
  return Number(int) * 1000 + Number((frac + '000').slice(0, 3));
}

const captures = HAVE_SHARED ? flowCaptures().filter((c) => c.v5.length > 0) : [];
let comparedRecords = 0;
let rejectedTsharkRecords = 0;

(HAVE_SHARED && HAVE_TSHARK ? describe : describe.skip)('netflow v5: every capture against tshark', () => {
  test('the shared test data has the NetFlow v5 captures SOURCES.md lists', () => {
    // SOURCES.md: 11 captures (among them tcpdump's sFlow capture with 5 v5 datagrams sent to the sFlow
    // port); 26 v5 datagrams.
    expect(captures.map((c) => c.name)).toHaveLength(11);
    expect(captures.reduce((n, c) => n + c.v5.length, 0)).toBe(26);
  });

  for (const cap of captures) {
    test(cap.name, () => {
      const ports = [...new Set(cap.v5.map((i) => cap.datagrams[i].dstPort))];
      const layers = tsharkLayers(
        cap.path,
        ports.map((p) => `udp.port==${p},cflow`),
      );
      // Every frame of these captures is a UDP datagram, so frame i is datagram i.
      expect(layers).toHaveLength(cap.datagrams.length);
      const problems: string[] = [];
      let compared = 0;
      for (const i of cap.v5) {
        const d = cap.datagrams[i];
        const cflow = layers[i].obj('cflow');
        expect(cflow?.num('cflow.version')).toBe(5);
        const hdr = cflow!;
        const count = hdr.num('cflow.count')!;
        const metrics = new Metrics();
        const records: FlowRecord[] = [];
        let error: DecodeError | null = null;
        try {
          decodeNetflow5(d.payload, { address: d.srcAddr, port: d.srcPort, receivedMs: d.timeMs }, { metrics }, (r) => records.push(r));
        } catch (e) {
          if (!(e instanceof DecodeError)) throw e;
          error = e;
        }
        const pdus = hdr.entries.filter(([k]) => /^pdu \d+\/\d+$/.test(k)).map(([, v]) => v as JObject);
        if (count < 1 || count > 30) {
          // logstash netflow5_test_invalid01/02: counts 55582 and 163; tshark decodes the 30 records that
          // fit, we reject the datagram.
          expect([i, error?.reason]).toEqual([i, 'bad_header']);
          expect(records).toEqual([]);
          rejectedTsharkRecords += pdus.length;
          continue;
        }
        expect([i, error]).toEqual([i, null]);
        expect([i, records.length]).toEqual([i, count]);
        expect([i, pdus.length]).toEqual([i, count]);
        const secs = hdr.obj('cflow.timestamp_tree')!.num('cflow.unix_secs')!;
        const nsecs = hdr.obj('cflow.timestamp_tree')!.num('cflow.unix_nsecs')!;
        const exportMs = secs * 1000 + Math.floor(nsecs / 1e6);
        const uptime = secondsToMs(hdr.str('cflow.sysuptime')!);
        const rate = hdr.num('cflow.samplerate')!;
        const sourceId = (hdr.num('cflow.engine_type')! << 8) | hdr.num('cflow.engine_id')!;
        records.forEach((r, k) => {
          const p = pdus[k];
          const t = p.obj('cflow.timedelta_tree')!;
          const start = secondsToMs(t.str('cflow.timestart')!);
          const end = secondsToMs(t.str('cflow.timeend')!);
          const proto = p.num('cflow.protocol')!;
          const srcPort = p.num('cflow.srcport')!;
          const dstPort = p.num('cflow.dstport')!;
          const want = {
            exportTimeMs: exportMs,
            sysUptimeMs: uptime,
            sequence: hdr.num('cflow.sequence'),
            sourceId,
            samplingRate: rate === 0 ? 1 : rate,
            srcAddr: p.str('cflow.srcaddr'),
            dstAddr: p.str('cflow.dstaddr'),
            nextHop: p.str('cflow.nexthop'),
            inputInterface: p.num('cflow.inputint'),
            outputInterface: p.num('cflow.outputint'),
            packets: p.num('cflow.packets'),
            bytes: p.num('cflow.octets'),
            // Absolute times from the uptime-relative ones: export time minus the signed 32-bit distance to
            // the header's sysUptime.
            startMs: exportMs - ((uptime - start) | 0),
            endMs: exportMs - ((uptime - end) | 0),
            srcPort: proto === 1 ? null : srcPort,
            dstPort: proto === 1 ? null : dstPort,
            icmp: proto === 1 ? [dstPort >> 8, dstPort & 0xff] : [null, null],
            ipProtocol: proto,
            tcpFlags: p.num('cflow.tcpflags'),
            tos: p.num('cflow.tos'),
            srcAs: p.num('cflow.srcas'),
            dstAs: p.num('cflow.dstas'),
            srcMask: p.num('cflow.srcmask'),
            dstMask: p.num('cflow.dstmask'),
          };
          const got = {
            exportTimeMs: r.exportTimeMs,
            sysUptimeMs: r.sysUptimeMs,
            sequence: r.sequence,
            sourceId: r.sourceId,
            samplingRate: r.samplingRate,
            srcAddr: r.srcAddr,
            dstAddr: r.dstAddr,
            nextHop: r.fields.ip_next_hop_ipv4_address,
            inputInterface: r.inputInterface,
            outputInterface: r.outputInterface,
            packets: r.packets,
            bytes: r.bytes,
            startMs: r.startMs,
            endMs: r.endMs,
            srcPort: r.srcPort,
            dstPort: r.dstPort,
            icmp: [r.icmpType, r.icmpCode],
            ipProtocol: r.ipProtocol,
            tcpFlags: r.tcpFlags,
            tos: r.fields.ip_class_of_service,
            srcAs: r.fields.bgp_source_as_number,
            dstAs: r.fields.bgp_destination_as_number,
            srcMask: r.fields.source_ipv4_prefix_length,
            dstMask: r.fields.destination_ipv4_prefix_length,
          };
          if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`datagram ${i} record ${k}: got ${JSON.stringify(got)}, tshark ${JSON.stringify(want)}`);
          compared++;
        });
      }
      expect(problems).toEqual([]);
      comparedRecords += compared;
    });
  }

  test('all 230 records tshark decodes are accounted for', () => {
    // SOURCES.md: tshark decodes 230 v5 records; the 60 of the two datagrams with lying counts are rejected.
    expect([comparedRecords, rejectedTsharkRecords]).toEqual([170, 60]);
  });
});
