// SPDX-License-Identifier: Apache-2.0
/**
 * The RiskIQ record (DESIGN.md §6) for a known set of flows, built by the real normalizer: exact lines,
 * key order, the private side emptied, flows without a public side skipped, and the fail-closed rules.
 */
import { newFlowRecord, type FlowRecord } from '../../../src/decode/types';
import { createIpClassifier } from '../../../src/enrich/ip-class';
import { createRecordBuilder, embedsNonPublicIPv4, RECORD_KEYS } from '../../../src/output/riskiq/record';
import type { EcsDocument } from '../../../src/pipeline/ecs';
import { createNormalizer } from '../../../src/pipeline/normalize';

const T0 = 1_767_225_601_000;
const USER_CIDRS = ['81.2.69.0/24', '2a02:1234::/32'];

function flow(p: Partial<FlowRecord>): FlowRecord {
  return Object.assign(newFlowRecord('ipfix', '192.0.2.1'), { exportTimeMs: T0 + 60_000, startMs: T0, endMs: T0 + 141, bytes: 881, packets: 7 }, p);
}

const normalizer = createNormalizer({
  timestampSource: 'end',
  communityIdEnable: true,
  communityIdSeed: 0,
  expandClientServer: true,
  privateCidrs: USER_CIDRS,
});
const builder = createRecordBuilder(USER_CIDRS);
const doc = (f: FlowRecord) => normalizer.toDocument(f, T0 + 61_000);

/** The known flows and the record each must give (null: no record). */
const CASES: Array<[string, FlowRecord, Record<string, unknown> | null]> = [
  [
    'outbound TCP, RFC 1918 source',
    flow({ ipVersion: 4, srcAddr: '10.0.0.10', dstAddr: '93.184.216.34', srcPort: 50001, dstPort: 443, ipProtocol: 6, tcpFlags: 27 }),
    { start: T0, end: T0 + 141, bytes: 881, packets: 7, src_ip: '', src_port: null, dst_ip: '93.184.216.34', dst_port: 443, tcp_flags: 27, protocol: 6 },
  ],
  [
    'inbound TCP to a private server',
    flow({ ipVersion: 4, srcAddr: '45.33.32.156', dstAddr: '192.168.1.10', srcPort: 40022, dstPort: 22, ipProtocol: 6, tcpFlags: 2, bytes: 120, packets: 3 }),
    { start: T0, end: T0 + 141, bytes: 120, packets: 3, src_ip: '45.33.32.156', src_port: 40022, dst_ip: '', dst_port: null, tcp_flags: 2, protocol: 6 },
  ],
  [
    'external UDP (both public)',
    flow({ ipVersion: 4, srcAddr: '45.33.32.156', dstAddr: '162.159.200.1', srcPort: 123, dstPort: 123, ipProtocol: 17, bytes: 152, packets: 2 }),
    { start: T0, end: T0 + 141, bytes: 152, packets: 2, src_ip: '45.33.32.156', src_port: 123, dst_ip: '162.159.200.1', dst_port: 123, tcp_flags: 0, protocol: 17 },
  ],
  [
    'ICMP echo request to a public host: no ports',
    flow({ ipVersion: 4, srcAddr: '10.0.0.10', dstAddr: '1.1.1.1', srcPort: 0, dstPort: 2048, ipProtocol: 1, bytes: 252, packets: 3 }),
    { start: T0, end: T0 + 141, bytes: 252, packets: 3, src_ip: '', src_port: null, dst_ip: '1.1.1.1', dst_port: null, tcp_flags: 0, protocol: 1 },
  ],
  [
    'IPv6 ULA to public, ICMPv6',
    flow({ ipVersion: 6, srcAddr: 'fd00::10', dstAddr: '2606:4700::1111', srcPort: 0, dstPort: 32768, ipProtocol: 58, bytes: 208, packets: 2 }),
    { start: T0, end: T0 + 141, bytes: 208, packets: 2, src_ip: '', src_port: null, dst_ip: '2606:4700::1111', dst_port: null, tcp_flags: 0, protocol: 58 },
  ],
  [
    'CGNAT source',
    flow({ ipVersion: 4, srcAddr: '100.64.1.2', dstAddr: '8.8.8.8', srcPort: 5353, dstPort: 53, ipProtocol: 17, bytes: 60, packets: 1 }),
    { start: T0, end: T0 + 141, bytes: 60, packets: 1, src_ip: '', src_port: null, dst_ip: '8.8.8.8', dst_port: 53, tcp_flags: 0, protocol: 17 },
  ],
  [
    'user private CIDR (a public range made private)',
    flow({ ipVersion: 4, srcAddr: '81.2.69.160', dstAddr: '8.8.4.4', srcPort: 40000, dstPort: 53, ipProtocol: 17, bytes: 62, packets: 1 }),
    { start: T0, end: T0 + 141, bytes: 62, packets: 1, src_ip: '', src_port: null, dst_ip: '8.8.4.4', dst_port: 53, tcp_flags: 0, protocol: 17 },
  ],
  [
    'user private IPv6 CIDR on the destination',
    flow({ ipVersion: 6, srcAddr: '2001:4860:4860::8888', dstAddr: '2a02:1234::5', srcPort: 443, dstPort: 50000, ipProtocol: 6, tcpFlags: 18 }),
    { start: T0, end: T0 + 141, bytes: 881, packets: 7, src_ip: '2001:4860:4860::8888', src_port: 443, dst_ip: '', dst_port: null, tcp_flags: 18, protocol: 6 },
  ],
  [
    'IPv4-mapped private source',
    flow({ ipVersion: 6, srcAddr: '::ffff:10.1.2.3', dstAddr: '2001:4860:4860::8844', srcPort: 1234, dstPort: 443, ipProtocol: 6, tcpFlags: 16 }),
    { start: T0, end: T0 + 141, bytes: 881, packets: 7, src_ip: '', src_port: null, dst_ip: '2001:4860:4860::8844', dst_port: 443, tcp_flags: 16, protocol: 6 },
  ],
  [
    'biflow, sampled 1:10: counters scaled and summed',
    flow({ ipVersion: 4, srcAddr: '10.0.0.5', dstAddr: '151.101.1.69', srcPort: 55000, dstPort: 443, ipProtocol: 6, tcpFlags: 27, bytes: 100, packets: 2, reverseBytes: 300, reversePackets: 3, samplingRate: 10 }),
    { start: T0, end: T0 + 141, bytes: 4000, packets: 50, src_ip: '', src_port: null, dst_ip: '151.101.1.69', dst_port: 443, tcp_flags: 27, protocol: 6 },
  ],
  [
    'no flow times: start and end fall back to @timestamp (the export time)',
    flow({ ipVersion: 4, srcAddr: '8.8.8.8', dstAddr: '10.0.0.53', srcPort: 53, dstPort: 40000, ipProtocol: 17, startMs: null, endMs: null, bytes: 94, packets: 1 }),
    { start: T0 + 60_000, end: T0 + 60_000, bytes: 94, packets: 1, src_ip: '8.8.8.8', src_port: 53, dst_ip: '', dst_port: null, tcp_flags: 0, protocol: 17 },
  ],
  ['private to private (RFC 1918)', flow({ ipVersion: 4, srcAddr: '10.0.0.10', dstAddr: '192.168.1.10', srcPort: 50200, dstPort: 445, ipProtocol: 6 }), null],
  ['ULA to link-local', flow({ ipVersion: 6, srcAddr: 'fd00::1', dstAddr: 'fe80::1', srcPort: 1, dstPort: 2, ipProtocol: 17 }), null],
  ['documentation to multicast', flow({ ipVersion: 4, srcAddr: '192.0.2.7', dstAddr: '239.255.255.250', srcPort: 1900, dstPort: 1900, ipProtocol: 17 }), null],
  ['no addresses at all', flow({ ipVersion: null, srcAddr: null, dstAddr: null, ipProtocol: 6 }), null],
];

describe('RiskIQ record of a known set of flows', () => {
  it.each(CASES)('%s', (_name, f, want) => {
    const d = doc(f);
    const line = builder.line(d);
    if (want === null) {
      expect(line).toBeNull();
      return;
    }
    expect(line).not.toBeNull();
    const rec = JSON.parse(line!);
    expect(Object.keys(rec)).toEqual([...RECORD_KEYS]);
    // The Community ID is the document's (tested against the spec elsewhere): present and the same.
    expect(rec.community_id).toBe(d.network.community_id);
    expect(rec.community_id).toMatch(/^1:[A-Za-z0-9+/]+=*$/);
    expect({ ...rec, community_id: undefined }).toEqual({ ...want, community_id: undefined });
    // The line is exactly JSON.stringify of the record: no stray whitespace, same key order.
    expect(line).toBe(JSON.stringify(rec));
  });

  it('writes "" and null for the private side, and a missing Community ID as ""', () => {
    const f = flow({ ipVersion: 4, srcAddr: '172.16.5.4', dstAddr: '9.9.9.9', srcPort: 1, dstPort: 853, ipProtocol: 6 });
    const d = doc(f);
    delete d.network.community_id;
    expect(builder.line(d)).toBe(
      `{"start":${T0},"end":${T0 + 141},"bytes":881,"packets":7,"src_ip":"","src_port":null,"dst_ip":"9.9.9.9","dst_port":853,"tcp_flags":0,"protocol":6,"community_id":""}`,
    );
  });
});

describe('RiskIQ record: fail closed', () => {
  const base = () => doc(flow({ ipVersion: 4, srcAddr: '10.0.0.1', dstAddr: '8.8.8.8', srcPort: 1, dstPort: 53, ipProtocol: 17 }));

  it('sends an address only when the document also says it is public', () => {
    const d = base();
    d.destination!.locality = 'private';
    expect(builder.line(d)).toBeNull();
    const e = base();
    delete e.destination!.locality;
    expect(builder.line(e)).toBeNull();
  });

  it('sends an address only when the shared classifier says it is public, whatever the document says', () => {
    const d = base();
    d.source!.locality = 'public'; // 10.0.0.1 marked public by mistake upstream
    const rec = JSON.parse(builder.line(d)!);
    expect([rec.src_ip, rec.src_port]).toEqual(['', null]);
  });

  it('never sends text that is not a bare address (zone ids, garbage, quotes)', () => {
    for (const ip of ['8.8.8.8%eth0', '2606:4700::1111%1', '8.8.8.8"', ' 8.8.8.8', 'not an ip', '8.8.8.8\n', '']) {
      const d = base();
      d.destination!.ip = ip;
      d.destination!.locality = 'public';
      expect([ip, builder.line(d)]).toEqual([ip, null]);
    }
  });

  it('withholds IPv6 addresses that spell a non-public IPv4 address (NAT64, 6to4, SIIT, IPv4-compatible)', () => {
    const c = createIpClassifier(USER_CIDRS);
    const cases: Array<[string, boolean]> = [
      ['64:ff9b::10.0.0.1', true],
      ['64:ff9b::a00:1', true],
      ['64:ff9b::8.8.8.8', false],
      ['2002:a00:1::1', true],
      ['2002:c0a8:101::', true],
      ['2002:808:808::1', false],
      ['2002:5102:45a0::1', true], // 81.2.69.160, a user range
      ['::ffff:0:10.0.0.1', true],
      ['::ffff:0:808:808', false],
      ['::10.0.0.1', true],
      ['::8.8.8.8', false],
      ['2606:4700::1111', false],
      ['8.8.8.8', false],
      ['garbage', false],
    ];
    for (const [ip, want] of cases) expect([ip, embedsNonPublicIPv4(ip, c)]).toEqual([ip, want]);
    for (const [ip, hidden] of cases.slice(0, 12)) {
      const d = base();
      d.destination!.ip = ip;
      d.destination!.locality = 'public';
      const line = builder.line(d);
      if (hidden) expect([ip, line]).toEqual([ip, null]);
      else expect([ip, JSON.parse(line!).dst_ip]).toEqual([ip, ip]);
    }
  });

  it('never throws, whatever the document', () => {
    for (const bad of [{}, { source: null }, { source: { ip: 5, locality: 'public' } }, { network: null, source: { ip: '8.8.8.8', locality: 'public' } }]) {
      expect(() => builder.line(bad as unknown as EcsDocument)).not.toThrow();
    }
    // A document without network/event fields still gives a well-formed record.
    const rec = JSON.parse(builder.line({ source: { ip: '8.8.8.8', locality: 'public', port: 70000 } } as unknown as EcsDocument)!);
    expect(rec).toEqual({ start: 0, end: 0, bytes: 0, packets: 0, src_ip: '8.8.8.8', src_port: null, dst_ip: '', dst_port: null, tcp_flags: 0, protocol: null, community_id: '' });
  });
});

describe('numberText', () => {
  it('writes numbers exactly as JSON does', () => {
    const { numberText } = require('../../../src/output/riskiq/record') as typeof import('../../../src/output/riskiq/record');
    const cases = [0, 1, 999_999_999, 1e9, 1_000_000_001, 1_767_225_600_000, 1_767_225_600_007, 1_767_225_000_001, 999_999_999_999_999, 1e15, 2 ** 53 - 1, 1.5, -1, 1e21, 123_456_789_012];
    for (let i = 0; i < 10_000; i++) cases.push(Math.floor(Math.random() * 10 ** Math.floor(Math.random() * 16)));
    for (const n of cases) expect([n, numberText(n)]).toEqual([n, JSON.stringify(n)]);
  });
});
