// SPDX-License-Identifier: Apache-2.0
/**
 * Every sFlow v5 datagram of every capture under the shared test data, decoded and compared with tshark's
 * decode of the same capture, run at test time (`tshark -r FILE -T json -d udp.port==PORT,sflow`): one
 * record per flow sample in tshark's order, with the sample's counters, interfaces and sampling rate, the
 * raw header's lengths and everything tshark dissected in the sampled header (MACs, VLANs, MPLS labels,
 * addresses, TTL, TOS, IP length and id, flow label, protocol, ports, TCP flags, ICMP type/code), and the
 * extended switch/router/gateway records; counter samples and other samples counted as tshark lists them.
 */
import { decodeSflow } from '../../../src/decode/sflow';
import { DecodeError, type FlowRecord } from '../../../src/decode/types';
import { Metrics } from '../../../src/observability/metrics';
import { HAVE_SHARED } from '../../helpers/testdata';
import { expectedFromTshark, type ExpectedHeader } from '../packet/compare';
import { HAVE_TSHARK, JObject, flowCaptures, tsharkLayers } from '../packet/tshark';

const captures = HAVE_SHARED ? flowCaptures().filter((c) => c.sflow.length > 0) : [];
const totals = { datagrams: 0, flowSamples: 0, counterSamples: 0, otherSamples: 0, recordsCompared: 0, headersCompared: 0, withPorts: 0 };

/** JSON with the top-level keys sorted, for order-insensitive comparison. */
function canonical(o: Record<string, unknown>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
}

/** Records (nested objects with a flow record format) of a tshark flow sample, in order. */
function flowRecords(sample: JObject): JObject[] {
  return sample.entries.filter(([, v]) => v instanceof JObject && v.get('sflow_245.flow_record_format') !== undefined).map(([, v]) => v as JObject);
}

function headerView(r: FlowRecord): ExpectedHeader {
  const f = r.fields;
  return {
    srcMac: f.src_mac as string | undefined,
    dstMac: f.dst_mac as string | undefined,
    vlans: (f.vlans as number[] | undefined) ?? (f.vlan_id !== undefined ? [f.vlan_id as number] : []),
    mplsLabels: (f.mpls_labels as number[] | undefined) ?? [],
    ipVersion: r.ipVersion ?? undefined,
    srcAddr: r.srcAddr ?? undefined,
    dstAddr: r.dstAddr ?? undefined,
    ttl: f.ip_ttl as number | undefined,
    tos: f.ip_tos as number | undefined,
    l3Length: f.ip_total_length as number | undefined,
    ipId: f.ip_id as number | undefined,
    flowLabel: f.ipv6_flow_label as number | undefined,
    ipProtocol: r.ipProtocol ?? undefined,
    srcPort: r.srcPort ?? undefined,
    dstPort: r.dstPort ?? undefined,
    tcpFlags: r.tcpFlags ?? undefined,
    icmpType: r.icmpType ?? undefined,
    icmpCode: r.icmpCode ?? undefined,
    fragmentOffset: (f.ip_fragment_offset as number | undefined) ?? 0,
  };
}

/** What tshark says the record must hold. */
function expectedRecord(agent: JObject, sample: JObject): Record<string, unknown> {
  const expanded = sample.num('sflow_245.sampletype') === 3;
  const e: Record<string, unknown> = {};
  let inFormat: number;
  let inValue: number;
  let outFormat: number;
  let outValue: number;
  if (expanded) {
    inFormat = sample.num('sflow.flow_sample.input_interface_format')!;
    inValue = sample.num('sflow.flow_sample.input_interface_value')!;
    outFormat = sample.num('sflow.flow_sample.output_interface.format')!;
    outValue = sample.num('sflow.flow_sample.output_interface_value')!;
    e.source_id_type = sample.num('sflow.flow_sample.source_id_type');
    e.source_id_index = sample.num('sflow.flow_sample.source_id_index');
  } else {
    const input = sample.num('sflow.flow_sample.input_interface')!;
    const output = sample.num('sflow.flow_sample.output_interface')!;
    [inFormat, inValue, outFormat, outValue] = [Math.floor(input / 2 ** 30), input % 2 ** 30, Math.floor(output / 2 ** 30), output % 2 ** 30];
    e.source_id_type = sample.num('sflow.flow_sample.source_id_class');
    e.source_id_index = sample.num('sflow.flow_sample.index');
  }
  const iface = (format: number, value: number) => (format === 0 && value !== 0x3fffffff ? value : 0);
  e.agent_address = agent.str('sflow_245.agent') ?? agent.str('sflow_245.agent.v6');
  e.sub_agent_id = agent.num('sflow_245.sub_agent_id');
  e.sequence = agent.num('sflow_245.sequence_number');
  e.uptime = agent.num('sflow_245.sysuptime');
  e.sample_sequence_number = sample.num('sflow.flow_sample.sequence_number');
  const rate = sample.num('sflow.flow_sample.sampling_rate')!;
  e.sampling_rate = rate === 0 ? 1 : rate;
  e.sample_pool = sample.num('sflow.flow_sample.sample_pool');
  e.drops = sample.num('sflow.flow_sample.dropped_packets');
  e.interfaces = [inFormat, inValue, outFormat, outValue, iface(inFormat, inValue), iface(outFormat, outValue)];
  e.packets = 1;
  let bytes: number | undefined;
  let ethLength: number | undefined;
  for (const rec of flowRecords(sample)) {
    const fmt = rec.num('sflow_245.flow_record_format');
    if (rec.num('sflow.enterprise') !== 0) continue;
    if (fmt === 1 && e.frame_length === undefined) {
      e.header_protocol = rec.num('sflow_245.header_protocol');
      e.frame_length = rec.num('sflow_245.header.frame_length');
      e.stripped = rec.num('sflow_245.header.payload_stripped');
      e.header_length = rec.num('sflow_245.header.sampled_header_length');
      bytes = e.frame_length as number;
      const tree = rec.obj('sflow_245.header_tree');
      if (tree) e.header = expectedFromTshark(tree);
    } else if (fmt === 2) {
      ethLength = rec.num('sflow_245.ethernet.length');
    } else if (fmt === 1001) {
      const [vin, vout] = [rec.num('sflow_245.vlan.in')!, rec.num('sflow_245.vlan.out')!];
      e.switch = [vin <= 4095 ? vin : undefined, rec.num('sflow_245.pri.in'), vout <= 4095 ? vout : undefined, rec.num('sflow_245.pri.out')];
    } else if (fmt === 1002) {
      e.router = [rec.str('sflow_245.nexthop'), rec.num('sflow_245.nexthop.src_mask'), rec.num('sflow_245.nexthop.dst_mask')];
    } else if (fmt === 1003) {
      const routerAs = rec.num('sflow_245.as')!;
      const srcAs = rec.num('sflow_245.srcAS')!;
      const path: number[] = [];
      for (const t of rec.all('sflow.as_type_tree')) for (const a of (t as JObject).all('sflow_245.dstAS')) path.push(Number(a));
      const comm = rec.obj('sflow_245.communityEntries_tree');
      const communities = comm ? comm.all('sflow_245.dstAS').map(Number) : [];
      e.gateway = [
        rec.str('sflow_245.nexthop'),
        routerAs,
        srcAs === 0 ? routerAs : srcAs,
        rec.num('sflow_245.peerAS'),
        path.length ? path[path.length - 1] : routerAs,
        path.length ? path : undefined,
        communities.length ? communities : undefined,
        rec.num('sflow_245.localpref'),
      ];
    }
  }
  e.bytes = bytes ?? ethLength ?? null;
  return e;
}

function actualRecord(r: FlowRecord, like: Record<string, unknown>): Record<string, unknown> {
  const f = r.fields;
  const a: Record<string, unknown> = {
    agent_address: f.agent_address,
    sub_agent_id: r.sourceId,
    sequence: r.sequence,
    uptime: r.sysUptimeMs,
    sample_sequence_number: f.sample_sequence_number,
    source_id_type: f.source_id_type,
    source_id_index: f.source_id_index,
    sampling_rate: r.samplingRate,
    sample_pool: f.sample_pool,
    drops: f.drops,
    interfaces: [f.input_interface_format, f.input_interface_value, f.output_interface_format, f.output_interface_value, r.inputInterface, r.outputInterface],
    packets: r.packets,
    bytes: r.bytes,
  };
  if ('frame_length' in like) Object.assign(a, { header_protocol: f.header_protocol, frame_length: f.frame_length, stripped: f.stripped, header_length: f.header_length });
  if ('switch' in like) a.switch = [f.src_vlan, f.src_priority, f.dst_vlan, f.dst_priority];
  if ('router' in like) a.router = [f.next_hop, f.src_mask, f.dst_mask];
  if ('gateway' in like) a.gateway = [f.bgp_next_hop, f.router_as, f.src_as, f.src_peer_as, f.dst_as, f.as_path, f.communities, f.local_pref];
  return a;
}

/** Our record against tshark's header dissection, field by field where tshark has a value. */
function diffHeader(want: ExpectedHeader, r: FlowRecord): string[] {
  const got = headerView(r);
  const d: string[] = [];
  const eq = (k: keyof ExpectedHeader, g: unknown, w: unknown) => {
    if (w !== undefined && JSON.stringify(g) !== JSON.stringify(w)) d.push(`${k}: got ${JSON.stringify(g)}, tshark ${JSON.stringify(w)}`);
  };
  for (const k of ['srcMac', 'dstMac', 'vlans', 'mplsLabels', 'ipVersion', 'srcAddr', 'dstAddr', 'ttl', 'tos', 'l3Length'] as const) eq(k, got[k], want[k]);
  if (!want.ipVersion) return d;
  if (want.ipVersion === 4) eq('ipId', got.ipId, want.ipId);
  else eq('flowLabel', got.flowLabel, want.flowLabel);
  eq('ipProtocol', got.ipProtocol, want.ipProtocol);
  eq('fragmentOffset', got.fragmentOffset, want.fragmentOffset);
  if (want.l4 === 'icmp' || want.l4 === 'icmpv6') {
    eq('icmpType', got.icmpType, want.icmpType);
    eq('icmpCode', got.icmpCode, want.icmpCode);
  } else if (want.l4) {
    eq('srcPort', got.srcPort, want.srcPort);
    eq('dstPort', got.dstPort, want.dstPort);
    if (want.l4 === 'tcp') eq('tcpFlags', got.tcpFlags, want.tcpFlags);
  } else if (got.srcPort !== undefined && !want.moreFragments) {
    d.push(`ports ${got.srcPort}->${got.dstPort} where tshark decoded no transport header`);
  }
  return d;
}

(HAVE_SHARED && HAVE_TSHARK ? describe : describe.skip)('sflow: every capture against tshark', () => {
  for (const cap of captures) {
    test(cap.name, () => {
      const ports = [...new Set(cap.sflow.map((i) => cap.datagrams[i].dstPort))];
      const layers = tsharkLayers(
        cap.path,
        ports.map((p) => `udp.port==${p},sflow`),
      );
      expect(layers).toHaveLength(cap.datagrams.length); // every frame is a UDP datagram: frame i is datagram i
      const problems: string[] = [];
      for (const i of cap.sflow) {
        totals.datagrams++;
        const d = cap.datagrams[i];
        const sf = layers[i].obj('sflow')!;
        const samples = sf.entries.filter(([, v]) => v instanceof JObject && v.get('sflow_245.sampletype') !== undefined).map(([, v]) => v as JObject);
        const isFlow = (s: JObject) => s.num('sflow.enterprise') === 0 && [1, 3].includes(s.num('sflow_245.sampletype')!);
        const isCounter = (s: JObject) => s.num('sflow.enterprise') === 0 && [2, 4].includes(s.num('sflow_245.sampletype')!);
        const flows = samples.filter(isFlow);
        const counters = samples.filter(isCounter).length;
        const others = samples.length - flows.length - counters;
        totals.flowSamples += flows.length;
        totals.counterSamples += counters;
        totals.otherSamples += others;

        const metrics = new Metrics();
        const records: FlowRecord[] = [];
        try {
          decodeSflow(d.payload, { address: d.srcAddr, port: d.srcPort, receivedMs: d.timeMs }, { metrics }, (r) => records.push(r));
        } catch (e) {
          if (!(e instanceof DecodeError)) throw e;
          // tcpdump/sflow_print-segv.pcap: 8 bytes of datagram; tshark reports it Malformed with no samples.
          expect([i, e.reason, d.payload.length < 28, samples.length, layers[i].get('_ws.malformed') !== undefined]).toEqual([i, 'short_datagram', true, 0, true]);
          continue;
        }
        expect([i, records.length]).toEqual([i, flows.length]);
        const snapshot = metrics.snapshot();
        const want: Record<string, number> = {};
        if (flows.length) want['flow_samples{protocol="sflow5"}'] = flows.length;
        if (counters) want['counter_samples{protocol="sflow5"}'] = counters;
        if (others) want['skipped_samples{protocol="sflow5"}'] = others;
        delete snapshot['skipped_flow_records{protocol="sflow5"}'];
        expect([i, snapshot]).toEqual([i, want]); // in particular: no decode errors

        records.forEach((r, k) => {
          const e = expectedRecord(sf, flows[k]);
          const header = e.header as ExpectedHeader | undefined;
          delete e.header;
          const a = actualRecord(r, e);
          if (canonical(a) !== canonical(e)) problems.push(`datagram ${i} sample ${k}: got ${JSON.stringify(a)}, tshark ${JSON.stringify(e)}`);
          if (header) {
            totals.headersCompared++;
            if (header.l4 && header.srcPort !== undefined) totals.withPorts++;
            for (const p of diffHeader(header, r)) problems.push(`datagram ${i} sample ${k} header: ${p}`);
          }
          totals.recordsCompared++;
        });
      }
      expect(problems).toEqual([]);
    });
  }

  test('totals match SOURCES.md', () => {
    // SOURCES.md: 33 sFlow captures, 279 samples (1 counter-only datagram among them with a v5 neighbour);
    // 81 sFlow datagrams (86 frames less the 5 NetFlow v5 datagrams of tcpdump's multi-counter capture).
    expect(captures).toHaveLength(33);
    expect(totals.datagrams).toBe(81);
    expect(totals.flowSamples + totals.counterSamples + totals.otherSamples).toBe(279);
    expect(totals.recordsCompared).toBe(totals.flowSamples);
    // Every flow sample of the data carries a raw header that tshark dissected.
    expect(totals.headersCompared).toBe(totals.flowSamples);
    expect(totals).toMatchObject({ flowSamples: 76, counterSamples: 199, otherSamples: 4 });
    expect(totals.withPorts).toBeGreaterThan(50);
  });
});
