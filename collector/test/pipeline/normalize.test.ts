// SPDX-License-Identifier: Apache-2.0
/**
 * FlowRecord -> ECS document. Expected documents are written out by hand, in the order the keys must
 * appear; Community IDs were computed independently (Python hashlib over the spec's byte layout).
 */
import { newFlowRecord, type FlowProtocol, type FlowRecord } from '../../src/decode/types';
import { serializeDocument } from '../../src/pipeline/ecs';
import { createNormalizer, sourceIsClient, type NormalizerConfig } from '../../src/pipeline/normalize';

const BASE: NormalizerConfig = {
  timestampSource: 'end',
  communityIdEnable: true,
  communityIdSeed: 0,
  expandClientServer: true,
  privateCidrs: [],
};

const COLLECTED = 1_700_000_009_000;

function rec(protocol: FlowProtocol, exporter: string, fill: Partial<FlowRecord>): FlowRecord {
  return Object.assign(newFlowRecord(protocol, exporter), fill);
}

/** NetFlow v5: 192.168.1.10:51000 -> 93.184.216.34:443, TCP, a complete connection. */
function v5Tcp(): FlowRecord {
  return rec('netflow5', '10.255.0.1', {
    sourceId: 0x0102,
    exportTimeMs: 1_700_000_006_000,
    sysUptimeMs: 123_456,
    sequence: 77,
    ipVersion: 4,
    srcAddr: '192.168.1.10',
    dstAddr: '93.184.216.34',
    srcPort: 51000,
    dstPort: 443,
    ipProtocol: 6,
    bytes: 1500,
    packets: 10,
    startMs: 1_700_000_000_000,
    endMs: 1_700_000_005_000,
    tcpFlags: 0x1b,
    inputInterface: 2,
    outputInterface: 3,
    fields: { src_as: 0, dst_as: 15133, ip_class_of_service: 0, next_hop: '10.255.0.254' },
  });
}

describe('normalize: whole documents', () => {
  const n = createNormalizer(BASE);

  it('NetFlow v5 TCP, outbound', () => {
    const doc = n.toDocument(v5Tcp(), COLLECTED);
    const expected = {
      '@timestamp': 1_700_000_005_000,
      event: {
        kind: 'event',
        category: ['network'],
        type: ['connection'],
        module: 'threatflow',
        dataset: 'threatflow.flows',
        start: 1_700_000_000_000,
        end: 1_700_000_005_000,
        duration: 5_000_000_000,
      },
      source: { ip: '192.168.1.10', port: 51000, bytes: 1500, packets: 10, locality: 'private' },
      destination: { ip: '93.184.216.34', port: 443, locality: 'public' },
      client: { ip: '192.168.1.10', port: 51000, bytes: 1500, packets: 10 },
      server: { ip: '93.184.216.34', port: 443 },
      network: {
        transport: 'tcp',
        iana_number: '6',
        type: 'ipv4',
        bytes: 1500,
        packets: 10,
        community_id: '1:s43u5bTV+aexfs3jmdqig3d1r48=',
        direction: 'outbound',
      },
      observer: { ip: '10.255.0.1', ingress: { interface: { id: '2' } }, egress: { interface: { id: '3' } } },
      flow: { locality: 'public', sampling_rate: 1 },
      related: { ip: ['192.168.1.10', '93.184.216.34'] },
      netflow: {
        exporter: { address: '10.255.0.1', version: 5, source_id: 258, uptime_millis: 123_456 },
        src_as: 0,
        dst_as: 15133,
        ip_class_of_service: 0,
        next_hop: '10.255.0.254',
        tcp_control_bits: 0x1b,
      },
    };
    expect(doc).toEqual(expected);
    expect(serializeDocument(doc)).toBe(JSON.stringify(expected));
  });

  it('IPFIX biflow: forward on source, reverse on destination, sum on network', () => {
    const r = rec('ipfix', '2001:db8:ffff::1', {
      sourceId: 42,
      exportTimeMs: 1_700_000_100_000,
      sysUptimeMs: null,
      ipVersion: 4,
      srcAddr: '10.0.0.5',
      dstAddr: '8.8.8.8',
      srcPort: 40000,
      dstPort: 53,
      ipProtocol: 17,
      bytes: 80,
      packets: 1,
      reverseBytes: 120,
      reversePackets: 1,
      startMs: 1_700_000_099_000,
      endMs: 1_700_000_099_250,
      inputInterface: 7,
      inputInterfaceName: 'ge-0/0/7',
      outputInterface: 1,
      outputInterfaceName: 'xe-0/1/0',
      fields: {
        source_ipv4_address: '10.0.0.5',
        destination_ipv4_address: '8.8.8.8',
        octet_delta_count: 80,
        reverse_octet_delta_count: 120,
        'enterprise.9.12235': '0a0b',
        'enterprise.9.12236': 7,
        application_name: 'dns',
      },
    });
    const doc = n.toDocument(r, COLLECTED);
    const expected = {
      '@timestamp': 1_700_000_099_250,
      event: {
        kind: 'event',
        category: ['network'],
        type: ['connection'],
        module: 'threatflow',
        dataset: 'threatflow.flows',
        start: 1_700_000_099_000,
        end: 1_700_000_099_250,
        duration: 250_000_000,
      },
      source: { ip: '10.0.0.5', port: 40000, bytes: 80, packets: 1, locality: 'private' },
      destination: { ip: '8.8.8.8', port: 53, bytes: 120, packets: 1, locality: 'public' },
      client: { ip: '10.0.0.5', port: 40000, bytes: 80, packets: 1 },
      server: { ip: '8.8.8.8', port: 53, bytes: 120, packets: 1 },
      network: {
        transport: 'udp',
        iana_number: '17',
        type: 'ipv4',
        bytes: 200,
        packets: 2,
        community_id: '1:k18PXxQjdSERrJvQUQTMW2N+3UY=',
        direction: 'outbound',
      },
      observer: {
        ip: '2001:db8:ffff::1',
        ingress: { interface: { id: '7', name: 'ge-0/0/7' } },
        egress: { interface: { id: '1', name: 'xe-0/1/0' } },
      },
      flow: { locality: 'public', sampling_rate: 1 },
      related: { ip: ['10.0.0.5', '8.8.8.8'] },
      netflow: {
        exporter: { address: '2001:db8:ffff::1', version: 10, source_id: 42 },
        source_ipv4_address: '10.0.0.5',
        destination_ipv4_address: '8.8.8.8',
        octet_delta_count: 80,
        reverse_octet_delta_count: 120,
        enterprise: { '9': { '12235': '0a0b', '12236': 7 } },
        application_name: 'dns',
      },
    };
    expect(doc).toEqual(expected);
    expect(serializeDocument(doc)).toBe(JSON.stringify(expected));
  });

  it('sFlow sampled 1 in 1000, SYN+ACK sample from the server, inbound', () => {
    const r = rec('sflow5', '10.1.1.1', {
      sourceId: 3,
      exportTimeMs: 1_700_000_200_000,
      sysUptimeMs: 999_000,
      ipVersion: 4,
      srcAddr: '93.184.216.34',
      dstAddr: '100.64.1.2',
      srcPort: 443,
      dstPort: 50000,
      ipProtocol: 6,
      bytes: 1514,
      packets: 1,
      samplingRate: 1000,
      tcpFlags: 0x12,
      inputInterface: 12,
      outputInterface: 14,
      fields: { agent_address: '10.1.1.1', sample_pool: 123456, header_protocol: 1, vlan: [10, 20] },
    });
    const doc = n.toDocument(r, COLLECTED);
    const expected = {
      '@timestamp': 1_700_000_200_000,
      event: { kind: 'event', category: ['network'], type: ['connection'], module: 'threatflow', dataset: 'threatflow.flows' },
      source: { ip: '93.184.216.34', port: 443, bytes: 1_514_000, packets: 1000, locality: 'public' },
      destination: { ip: '100.64.1.2', port: 50000, locality: 'private' },
      client: { ip: '100.64.1.2', port: 50000 },
      server: { ip: '93.184.216.34', port: 443, bytes: 1_514_000, packets: 1000 },
      network: {
        transport: 'tcp',
        iana_number: '6',
        type: 'ipv4',
        bytes: 1_514_000,
        packets: 1000,
        community_id: '1:Wv578bvDeP4oZaX/NKCUIZzo7Z4=',
        direction: 'inbound',
      },
      observer: { ip: '10.1.1.1', ingress: { interface: { id: '12' } }, egress: { interface: { id: '14' } } },
      flow: { locality: 'public', sampling_rate: 1000 },
      related: { ip: ['93.184.216.34', '100.64.1.2'] },
      sflow: {
        exporter: { address: '10.1.1.1', version: 5, source_id: 3, uptime_millis: 999_000 },
        agent_address: '10.1.1.1',
        sample_pool: 123456,
        header_protocol: 1,
        vlan: [10, 20],
        tcp_control_bits: 0x12,
        sampling_rate: 1000,
      },
    };
    expect(doc).toEqual(expected);
    expect(serializeDocument(doc)).toBe(JSON.stringify(expected));
  });

  it('ICMP echo request (v5 type/code in the destination port) and its reply share a Community ID', () => {
    const req = rec('netflow5', '10.255.0.1', {
      exportTimeMs: 1_700_000_006_000,
      sysUptimeMs: 1000,
      ipVersion: 4,
      srcAddr: '192.168.1.10',
      dstAddr: '8.8.8.8',
      srcPort: 0,
      dstPort: 8 << 8,
      ipProtocol: 1,
      bytes: 84,
      packets: 1,
      startMs: 1_700_000_001_000,
      endMs: 1_700_000_001_000,
    });
    const doc = n.toDocument(req, COLLECTED);
    const expected = {
      '@timestamp': 1_700_000_001_000,
      event: {
        kind: 'event',
        category: ['network'],
        type: ['connection'],
        module: 'threatflow',
        dataset: 'threatflow.flows',
        start: 1_700_000_001_000,
        end: 1_700_000_001_000,
        duration: 0,
      },
      source: { ip: '192.168.1.10', bytes: 84, packets: 1, locality: 'private' },
      destination: { ip: '8.8.8.8', locality: 'public' },
      client: { ip: '192.168.1.10', bytes: 84, packets: 1 },
      server: { ip: '8.8.8.8' },
      network: {
        transport: 'icmp',
        iana_number: '1',
        type: 'ipv4',
        bytes: 84,
        packets: 1,
        community_id: '1:fe2IoFmt4Kr/Wy/bC1+fZSfRwmw=',
        direction: 'outbound',
      },
      observer: { ip: '10.255.0.1' },
      flow: { locality: 'public', sampling_rate: 1, icmp: { type: 8, code: 0 } },
      related: { ip: ['192.168.1.10', '8.8.8.8'] },
      netflow: { exporter: { address: '10.255.0.1', version: 5, source_id: 0, uptime_millis: 1000 } },
    };
    expect(doc).toEqual(expected);
    expect(serializeDocument(doc)).toBe(JSON.stringify(expected));

    const reply = rec('netflow9', '10.255.0.1', {
      exportTimeMs: 1_700_000_006_000,
      ipVersion: 4,
      srcAddr: '8.8.8.8',
      dstAddr: '192.168.1.10',
      ipProtocol: 1,
      icmpType: 0,
      icmpCode: 0,
      bytes: 84,
      packets: 1,
    });
    const rdoc = n.toDocument(reply, COLLECTED);
    expect(rdoc.network.community_id).toBe('1:fe2IoFmt4Kr/Wy/bC1+fZSfRwmw=');
    expect(rdoc.network.direction).toBe('inbound');
    expect(rdoc.flow.icmp).toEqual({ type: 0, code: 0 });
    // An echo reply comes from the server.
    expect(rdoc.client).toEqual({ ip: '192.168.1.10' });
    expect(rdoc.server).toEqual({ ip: '8.8.8.8', bytes: 84, packets: 1 });
    expect(rdoc['@timestamp']).toBe(1_700_000_006_000); // no flow end: export time

    // The v5/v9 encoding of an echo reply is destination port 0.
    const v9reply = n.toDocument({ ...reply, icmpType: null, icmpCode: null, srcPort: 0, dstPort: 0 }, COLLECTED);
    expect(v9reply.flow.icmp).toEqual({ type: 0, code: 0 });
    expect(v9reply.network.community_id).toBe('1:fe2IoFmt4Kr/Wy/bC1+fZSfRwmw=');
    expect(v9reply.source?.port).toBeUndefined();
  });

  it('IPv6 TCP, public client to a ULA server (inbound)', () => {
    const r = rec('netflow9', '192.0.2.1', {
      sourceId: 1,
      exportTimeMs: 1_700_000_300_000,
      sysUptimeMs: 5000,
      ipVersion: 6,
      srcAddr: '2a00:1450:4001::200e',
      dstAddr: 'fd00::1',
      srcPort: 50123,
      dstPort: 443,
      ipProtocol: 6,
      bytes: 4000,
      packets: 12,
      startMs: 1_700_000_290_000,
      endMs: 1_700_000_299_500,
      tcpFlags: 0x1a,
      fields: { source_ipv6_address: '2a00:1450:4001::200e', destination_ipv6_address: 'fd00::1', ip_version: 6 },
    });
    const doc = n.toDocument(r, COLLECTED);
    const expected = {
      '@timestamp': 1_700_000_299_500,
      event: {
        kind: 'event',
        category: ['network'],
        type: ['connection'],
        module: 'threatflow',
        dataset: 'threatflow.flows',
        start: 1_700_000_290_000,
        end: 1_700_000_299_500,
        duration: 9_500_000_000,
      },
      source: { ip: '2a00:1450:4001::200e', port: 50123, bytes: 4000, packets: 12, locality: 'public' },
      destination: { ip: 'fd00::1', port: 443, locality: 'private' },
      client: { ip: '2a00:1450:4001::200e', port: 50123, bytes: 4000, packets: 12 },
      server: { ip: 'fd00::1', port: 443 },
      network: {
        transport: 'tcp',
        iana_number: '6',
        type: 'ipv6',
        bytes: 4000,
        packets: 12,
        community_id: '1:0U3qc2Lbr+JVzTV+HJon/i2mtZ0=',
        direction: 'inbound',
      },
      observer: { ip: '192.0.2.1' },
      flow: { locality: 'public', sampling_rate: 1 },
      related: { ip: ['2a00:1450:4001::200e', 'fd00::1'] },
      netflow: {
        exporter: { address: '192.0.2.1', version: 9, source_id: 1, uptime_millis: 5000 },
        source_ipv6_address: '2a00:1450:4001::200e',
        destination_ipv6_address: 'fd00::1',
        ip_version: 6,
        tcp_control_bits: 0x1a,
      },
    };
    expect(doc).toEqual(expected);
    expect(serializeDocument(doc)).toBe(JSON.stringify(expected));
  });

  it('a record with nothing but its exporter: absent values are left out, never null', () => {
    const r = rec('netflow9', '10.255.0.1', { exportTimeMs: 0 });
    const doc = n.toDocument(r, COLLECTED);
    expect(doc).toEqual({
      '@timestamp': COLLECTED,
      event: { kind: 'event', category: ['network'], type: ['connection'], module: 'threatflow', dataset: 'threatflow.flows' },
      network: {},
      observer: { ip: '10.255.0.1' },
      flow: { sampling_rate: 1 },
      netflow: { exporter: { address: '10.255.0.1', version: 9, source_id: 0 } },
    });
    expect(serializeDocument(doc)).not.toMatch(/null/);
  });
});

describe('normalize: network.direction and localities', () => {
  const n = createNormalizer(BASE);
  const flow = (src: string, dst: string): FlowRecord =>
    rec('netflow5', '10.255.0.1', { exportTimeMs: 1, srcAddr: src, dstAddr: dst, srcPort: 1234, dstPort: 80, ipProtocol: 6 });

  it.each([
    ['10.0.0.1', '192.168.0.1', 'internal', 'private', 'private', 'private'],
    ['8.8.8.8', '1.1.1.1', 'external', 'public', 'public', 'public'],
    ['172.16.0.1', '1.1.1.1', 'outbound', 'private', 'public', 'public'],
    ['1.1.1.1', '172.31.255.255', 'inbound', 'public', 'private', 'public'],
    ['::ffff:10.0.0.1', '2606:4700::1111', 'outbound', 'private', 'public', 'public'],
    ['fe80::1', 'ff02::1', 'internal', 'private', 'private', 'private'],
  ])('%s -> %s is %s', (src, dst, direction, srcLoc, dstLoc, flowLoc) => {
    const doc = n.toDocument(flow(src, dst), 0);
    expect(doc.network.direction).toBe(direction);
    expect(doc.source?.locality).toBe(srcLoc);
    expect(doc.destination?.locality).toBe(dstLoc);
    expect(doc.flow.locality).toBe(flowLoc);
  });

  it('honours user private CIDRs', () => {
    const doc = createNormalizer({ ...BASE, privateCidrs: ['8.8.8.0/24'] }).toDocument(flow('10.0.0.1', '8.8.8.8'), 0);
    expect(doc.network.direction).toBe('internal');
    expect(doc.flow.locality).toBe('private');
  });

  it('has no direction with one side missing, and flow.locality from the known side', () => {
    const doc = n.toDocument(rec('netflow9', '10.255.0.1', { exportTimeMs: 1, srcAddr: '10.0.0.1' }), 0);
    expect(doc.network.direction).toBeUndefined();
    expect(doc.flow.locality).toBe('private');
    expect(doc.related).toEqual({ ip: ['10.0.0.1'] });
    expect(doc.destination).toBeUndefined();
  });
});

describe('normalize: @timestamp sources', () => {
  const r = (): FlowRecord => ({ ...v5Tcp() });
  const cases: Array<[NormalizerConfig['timestampSource'], Partial<FlowRecord>, number]> = [
    ['end', {}, 1_700_000_005_000],
    ['end', { endMs: null }, 1_700_000_006_000],
    ['end', { endMs: null, exportTimeMs: 0 }, COLLECTED],
    ['start', {}, 1_700_000_000_000],
    ['start', { startMs: null }, 1_700_000_005_000],
    ['start', { startMs: null, endMs: null }, 1_700_000_006_000],
    ['export', {}, 1_700_000_006_000],
    ['export', { exportTimeMs: 0 }, COLLECTED],
    ['collect', {}, COLLECTED],
  ];
  it.each(cases)('%s with %j gives %d', (source, patch, expected) => {
    const doc = createNormalizer({ ...BASE, timestampSource: source }).toDocument({ ...r(), ...patch }, COLLECTED);
    expect(doc['@timestamp']).toBe(expected);
  });

  it('leaves event.duration out when the end precedes the start', () => {
    const doc = createNormalizer(BASE).toDocument({ ...r(), startMs: 2000, endMs: 1000 }, COLLECTED);
    expect(doc.event).toMatchObject({ start: 2000, end: 1000 });
    expect(doc.event.duration).toBeUndefined();
  });
});

describe('normalize: client/server inference', () => {
  const n = createNormalizer(BASE);
  const tcp = (srcPort: number | null, dstPort: number | null, flags: number | null, protocol: FlowProtocol = 'netflow9'): FlowRecord =>
    rec(protocol, '10.255.0.1', {
      exportTimeMs: 1,
      srcAddr: '1.1.1.1',
      dstAddr: '2.2.2.2',
      srcPort,
      dstPort,
      ipProtocol: flags === null ? 17 : 6,
      tcpFlags: flags,
      bytes: 100,
      packets: 2,
    });

  it.each([
    ['SYN without ACK: the source opened it, even from port 80', tcp(80, 51000, 0x02), '1.1.1.1'],
    ['SYN+ACK on an aggregated flow decides nothing: ports do (source 443 is the server)', tcp(443, 51000, 0x12), '2.2.2.2'],
    ['sFlow single-packet SYN+ACK: the source is the server, whatever the ports', tcp(51000, 443, 0x12, 'sflow5'), '2.2.2.2'],
    ['well-known destination port', tcp(51000, 22, null), '1.1.1.1'],
    ['well-known source port', tcp(53, 40000, null), '2.2.2.2'],
    ['registered service port (3306) vs ephemeral', tcp(40000, 3306, 0x18), '1.1.1.1'],
    ['registered service port on the source side', tcp(3389, 61000, 0x18), '2.2.2.2'],
    ['both well-known: the lower one is the server', tcp(123, 53, null), '1.1.1.1'],
    ['both ephemeral: the lower one is the server', tcp(50000, 60000, null), '2.2.2.2'],
    ['equal ports: the exporter direction stays', tcp(123, 123, null), '1.1.1.1'],
    ['no ports: the exporter direction stays', tcp(null, null, null), '1.1.1.1'],
  ])('%s', (_label, r, clientIp) => {
    const doc = n.toDocument(r, 0);
    expect(doc.client?.ip).toBe(clientIp);
    expect(doc.server?.ip).toBe(clientIp === '1.1.1.1' ? '2.2.2.2' : '1.1.1.1');
    // Counters follow the side: forward counters belong to the source.
    const srcSide = clientIp === '1.1.1.1' ? doc.client : doc.server;
    expect(srcSide?.bytes).toBe(100);
  });

  it('classifies ICMPv6 replies as coming from the server', () => {
    expect(sourceIsClient(rec('ipfix', 'x', { ipProtocol: 58 }), 128)).toBe(true);
    expect(sourceIsClient(rec('ipfix', 'x', { ipProtocol: 58 }), 129)).toBe(false);
    expect(sourceIsClient(rec('ipfix', 'x', { ipProtocol: 58 }), 1)).toBe(true);
  });

  it('writes no client/server when expansion is off', () => {
    const doc = createNormalizer({ ...BASE, expandClientServer: false }).toDocument(v5Tcp(), 0);
    expect(doc.client).toBeUndefined();
    expect(doc.server).toBeUndefined();
  });
});

describe('normalize: network fields', () => {
  const n = createNormalizer(BASE);

  it.each([
    [6, 'tcp'], [17, 'udp'], [1, 'icmp'], [58, 'ipv6-icmp'], [47, 'gre'], [50, 'esp'], [132, 'sctp'], [89, 'ospfigp'], [253, '253'],
  ])('protocol %d is transport %s', (proto, name) => {
    const doc = n.toDocument(rec('netflow5', 'x', { ipProtocol: proto, srcAddr: '1.1.1.1', dstAddr: '9.9.9.9' }), 0);
    expect(doc.network.transport).toBe(name);
    expect(doc.network.iana_number).toBe(String(proto));
  });

  it('hashes port-less protocols and honours the seed and the switch', () => {
    const gre = rec('netflow5', 'x', { ipProtocol: 47, srcAddr: '1.1.1.1', dstAddr: '9.9.9.9', srcPort: 0, dstPort: 0 });
    expect(n.toDocument(gre, 0).network.community_id).toBe('1:GrueTPUGX2EqiHPDfakro/e9JkM=');
    expect(createNormalizer({ ...BASE, communityIdSeed: 7 }).toDocument(v5Tcp(), 0).network.community_id).toBe(
      '1:QT1eVzwpmkM8eZ4dQjM7RB7iQYk=',
    );
    expect(createNormalizer({ ...BASE, communityIdEnable: false }).toDocument(v5Tcp(), 0).network.community_id).toBeUndefined();
  });

  it('does not overwrite the collector keys with decoded elements of the same name', () => {
    const r = rec('netflow9', '10.0.0.1', { fields: { exporter: 'bogus', sampling_rate: 5, 'exporter.x': 1, tcp_control_bits: 2 }, tcpFlags: 3 });
    const doc = n.toDocument(r, 0);
    expect(doc.netflow).toEqual({ exporter: { address: '10.0.0.1', version: 9, source_id: 0 }, tcp_control_bits: 3 });
  });

  it('treats a sampling rate of 0 as unsampled', () => {
    const doc = n.toDocument({ ...v5Tcp(), samplingRate: 0 }, 0);
    expect(doc.flow.sampling_rate).toBe(1);
    expect(doc.network.bytes).toBe(1500);
  });
});

describe('normalize: determinism', () => {
  it('gives byte-identical NDJSON for the same record, across normalizers and calls', () => {
    const a = createNormalizer(BASE);
    const b = createNormalizer(BASE);
    const lines = new Set<string>();
    for (let i = 0; i < 3; i++) {
      lines.add(serializeDocument(a.toDocument(v5Tcp(), COLLECTED)));
      lines.add(serializeDocument(b.toDocument(v5Tcp(), COLLECTED)));
    }
    expect(lines.size).toBe(1);
  });

  it('does not share mutable arrays or objects between documents', () => {
    const n = createNormalizer(BASE);
    const d1 = n.toDocument(v5Tcp(), 0);
    const d2 = n.toDocument(v5Tcp(), 0);
    d1.event.category.push('threat');
    expect(d2.event.category).toEqual(['network']);
    expect(d1.netflow).not.toBe(d2.netflow);
  });
});
