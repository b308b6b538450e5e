// SPDX-License-Identifier: Apache-2.0
/**
 * IPFIX hard cases (DESIGN.md §3) on hand-built messages. Every expected value is written out from the bytes
 * in the comment next to them, not taken from the decoder.
 */
import '../registry/ensure-generated';
import { DecodeError, type ExporterInfo, type FlowRecord } from '../../../src/decode/types';
import { decodeIpfix } from '../../../src/decode/ipfix';
import { feed, ipfixMessage, ipfixSet, newRun, type Run } from '../templates/cflow';

const A: ExporterInfo = { address: '192.0.2.1', port: 4739, receivedMs: 1_700_000_000_000 };
const B: ExporterInfo = { address: '192.0.2.2', port: 4739, receivedMs: 1_700_000_000_000 };
const at = (e: ExporterInfo, plusMs: number): ExporterInfo => ({ ...e, receivedMs: e.receivedMs + plusMs });

// Template 256: sourceIPv4Address(8)/4, destinationIPv4Address(12)/4, sourceTransportPort(7)/2,
// destinationTransportPort(11)/2, protocolIdentifier(4)/1, octetDeltaCount(1)/4 (reduced size). 17-byte records.
const T256 = '0100 0006  0008 0004  000c 0004  0007 0002  000b 0002  0004 0001  0001 0004';
// 192.0.2.1 -> 198.51.100.1, 54321 -> 80, TCP, 1500 bytes.
const R256a = 'c0000201 c6336401 d431 0050 06 000005dc';
// 192.0.2.2 -> 198.51.100.2, 53 -> 53, UDP, 64 bytes.
const R256b = 'c0000202 c6336402 0035 0035 11 00000040';

function errors(run: Run): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(run.metrics.snapshot())) {
    const m = /^decode_errors\{protocol="ipfix",reason="([a-z_]+)"\}$/.exec(k);
    if (m) out[m[1]] = v;
  }
  return out;
}

function brief(r: FlowRecord) {
  return { src: r.srcAddr, dst: r.dstAddr, sport: r.srcPort, dport: r.dstPort, proto: r.ipProtocol, bytes: r.bytes };
}

const REC_A = { src: '192.0.2.1', dst: '198.51.100.1', sport: 54321, dport: 80, proto: 6, bytes: 1500 };
const REC_B = { src: '192.0.2.2', dst: '198.51.100.2', sport: 53, dport: 53, proto: 17, bytes: 64 };

describe('data before its template', () => {
  test('held, then decoded with the header of the message it came in when the template arrives', () => {
    const run = newRun();
    // Export time 0x65000000 = 1694498816 s, sequence 7, domain 1.
    expect(feed(run, ipfixMessage(0x65000000, 7, 1, [ipfixSet(256, R256a + R256b)]), A)).toEqual([]);
    expect(run.env.templates.pendingSize()).toBe(1);
    expect(run.metrics.get('pending_held', { protocol: 'ipfix' })).toBe(1);
    const out = feed(run, ipfixMessage(0x65000010, 8, 1, [ipfixSet(2, T256)]), at(A, 1000));
    expect(out.map(brief)).toEqual([REC_A, REC_B]);
    expect(out[0].exportTimeMs).toBe(1694498816000);
    expect(out[0].sequence).toBe(7);
    expect(out[0].sourceId).toBe(1);
    expect(out[0].protocol).toBe('ipfix');
    expect(out[0].sysUptimeMs).toBeNull();
    expect(out[0].fields).toEqual({
      source_ipv4_address: '192.0.2.1',
      destination_ipv4_address: '198.51.100.1',
      source_transport_port: 54321,
      destination_transport_port: 80,
      protocol_identifier: 6,
      octet_delta_count: 1500,
    });
    expect(run.env.templates.pendingSize()).toBe(0);
    expect(run.metrics.get('pending_replayed', { protocol: 'ipfix' })).toBe(1);
    expect(run.metrics.get('templates', { protocol: 'ipfix' })).toBe(1);
    expect(errors(run)).toEqual({});
  });

  test('in the same message: data set, template set, data set', () => {
    const run = newRun();
    const out = feed(run, ipfixMessage(1, 1, 1, [ipfixSet(256, R256a), ipfixSet(2, T256), ipfixSet(256, R256b)]), A);
    expect(out.map(brief)).toEqual([REC_A, REC_B]);
  });

  test('held sets that outlive the age bound are counted as template_missing', () => {
    const run = newRun({ pendingMaxAgeMs: 60_000 });
    feed(run, ipfixMessage(1, 1, 1, [ipfixSet(256, R256a)]), A);
    feed(run, ipfixMessage(1, 2, 1, [ipfixSet(300, R256a)]), at(A, 30_000));
    // 60.001 s after the first: it expires; the second (30.001 s old) stays.
    feed(run, ipfixMessage(1, 3, 1, []), at(A, 60_001));
    expect(errors(run)).toEqual({ template_missing: 1 });
    expect(feed(run, ipfixMessage(1, 4, 1, [ipfixSet(2, T256)]), at(A, 60_002))).toEqual([]);
    expect(run.env.templates.pendingSize()).toBe(1);
  });

  test('over the count bound the oldest held set is dropped as pending_overflow', () => {
    const run = newRun({ pendingMaxSets: 2 });
    feed(run, ipfixMessage(1, 1, 1, [ipfixSet(256, R256a)]), A);
    feed(run, ipfixMessage(1, 2, 1, [ipfixSet(256, R256b)]), A);
    feed(run, ipfixMessage(1, 3, 1, [ipfixSet(256, R256b)]), A);
    expect(errors(run)).toEqual({ pending_overflow: 1 });
    expect(feed(run, ipfixMessage(1, 4, 1, [ipfixSet(2, T256)]), A).map(brief)).toEqual([REC_B, REC_B]);
  });
});

describe('template withdrawal and reuse', () => {
  // Template 256 again, now IPv6: sourceIPv6Address(27)/16, destinationIPv6Address(28)/16, packetDeltaCount(2)/4.
  const T256v6 = '0100 0003  001b 0010  001c 0010  0002 0004';
  // 2001:db8::1 -> 2001:db8::2, 7 packets.
  const R256v6 = '20010db8000000000000000000000001 20010db8000000000000000000000002 00000007';

  test('field count 0 withdraws one template; the id is then reused with another layout', () => {
    const run = newRun();
    expect(feed(run, ipfixMessage(1, 1, 1, [ipfixSet(2, T256), ipfixSet(256, R256a)]), A).map(brief)).toEqual([REC_A]);
    feed(run, ipfixMessage(1, 2, 1, [ipfixSet(2, '0100 0000')]), A);
    expect(run.env.templates.getTemplate('ipfix', A.address, 1, 256, A.receivedMs)).toBeUndefined();
    expect(run.metrics.get('template_withdrawals', { protocol: 'ipfix' })).toBe(1);
    const out = feed(run, ipfixMessage(1, 3, 1, [ipfixSet(2, T256v6), ipfixSet(256, R256v6)]), A);
    expect(out.map((r) => [r.ipVersion, r.srcAddr, r.dstAddr, r.packets, r.bytes])).toEqual([[6, '2001:db8::1', '2001:db8::2', 7, null]]);
    expect(errors(run)).toEqual({});
  });

  test('template id 2 with count 0 withdraws every template of the domain, id 3 every options template', () => {
    const run = newRun();
    // Options template 400: scope selectorId(302)/4, samplingInterval(34)/4.
    const OT400 = '0190 0002 0001  012e 0004  0022 0004';
    feed(run, ipfixMessage(1, 1, 1, [ipfixSet(2, T256 + T256.replace(/^0100/, '0101')), ipfixSet(3, OT400)]), A);
    feed(run, ipfixMessage(1, 1, 2, [ipfixSet(2, T256)]), A);
    expect(run.env.templates.size()).toBe(4);
    feed(run, ipfixMessage(1, 2, 1, [ipfixSet(2, '0002 0000')]), A);
    const get = (d: number, id: number) => run.env.templates.getTemplate('ipfix', A.address, d, id, 0);
    expect([get(1, 256), get(1, 257), get(1, 400) !== undefined, get(2, 256) !== undefined]).toEqual([undefined, undefined, true, true]);
    feed(run, ipfixMessage(1, 3, 1, [ipfixSet(3, '0003 0000')]), A);
    expect(get(1, 400)).toBeUndefined();
    expect(run.env.templates.size()).toBe(1);
  });
});

describe('same template id, different exporters and domains', () => {
  test('each (exporter, domain) decodes with its own layout', () => {
    const run = newRun();
    // A/domain 1: IPv4 layout T256. A/domain 2: template 256 = destinationTransportPort(11)/2 only.
    // B/domain 1: template 256 = packetDeltaCount(2)/8.
    feed(run, ipfixMessage(1, 1, 1, [ipfixSet(2, T256)]), A);
    feed(run, ipfixMessage(1, 1, 2, [ipfixSet(2, '0100 0001 000b 0002')]), A);
    feed(run, ipfixMessage(1, 1, 1, [ipfixSet(2, '0100 0001 0002 0008')]), B);
    expect(feed(run, ipfixMessage(1, 2, 1, [ipfixSet(256, R256a)]), A).map(brief)).toEqual([REC_A]);
    // 0x01bb = 443; 0x0016 = 22 (two 2-byte records).
    expect(feed(run, ipfixMessage(1, 2, 2, [ipfixSet(256, '01bb 0016')]), A).map((r) => r.dstPort)).toEqual([443, 22]);
    // 0x0000000100000000 = 4294967296 packets.
    expect(feed(run, ipfixMessage(1, 2, 1, [ipfixSet(256, '0000000100000000')]), B).map((r) => r.packets)).toEqual([4294967296]);
    expect(errors(run)).toEqual({});
  });
});

describe('variable-length fields (RFC 7011 §7)', () => {
  // Template 257: sourceIPv4Address(8)/4, interfaceName(82)/var, interfaceDescription(83)/var.
  const T257 = '0101 0003  0008 0004  0052 ffff  0053 ffff';

  test('1-byte and 3-byte length prefixes, and a zero length', () => {
    const run = newRun();
    const text = Buffer.from('a'.repeat(300)).toString('hex');
    // Record 1: 192.0.2.1, "eth" (03 657468), 300 x "a" with prefix ff 012c.
    // Record 2: 192.0.2.2, "" (00), "hello" (05 68656c6c6f).
    const data = `c0000201 03657468 ff012c ${text}  c0000202 00 0568656c6c6f`;
    const out = feed(run, ipfixMessage(1, 1, 1, [ipfixSet(2, T257), ipfixSet(257, data)]), A);
    expect(out).toHaveLength(2);
    expect(out[0].fields).toEqual({ source_ipv4_address: '192.0.2.1', interface_name: 'eth', interface_description: 'a'.repeat(300) });
    // A zero-length value carries nothing and is left out.
    expect(out[1].fields).toEqual({ source_ipv4_address: '192.0.2.2', interface_description: 'hello' });
  });

  test('a length that runs past the set is bad_record; records before it are kept', () => {
    const run = newRun();
    // Record 2 announces 0x0200 = 512 bytes of interfaceName, 4 present.
    const data = 'c0000201 01 41 01 42   c0000202 ff0200 41414141';
    const out = feed(run, ipfixMessage(1, 1, 1, [ipfixSet(2, T257), ipfixSet(257, data)]), A);
    expect(out.map((r) => r.fields.interface_name)).toEqual(['A']);
    expect(errors(run)).toEqual({ bad_record: 1 });
  });
});

describe('enterprise and reverse elements', () => {
  test('an unknown enterprise element is enterprise.<pen>.<id> in hex; RFC 5103 reverse counters fill the biflow', () => {
    const run = newRun();
    // Template 258: sourceIPv4Address(8)/4; id 0x8064 = enterprise bit + 100, length 4, PEN 0x00001234 = 4660;
    // octetDeltaCount(1)/8; id 0x8001 = enterprise bit + 1, length 8, PEN 29305 (0x7279): reverseOctetDeltaCount.
    const T258 = '0102 0004  0008 0004  8064 0004 00001234  0001 0008  8001 0008 00007279';
    // 192.0.2.1, deadbeef, 1000 forward bytes (0x3e8), 250 reverse bytes (0xfa).
    const data = 'c0000201 deadbeef 00000000000003e8 00000000000000fa';
    const [r] = feed(run, ipfixMessage(1, 1, 1, [ipfixSet(2, T258), ipfixSet(258, data)]), A);
    expect(r.fields).toEqual({
      source_ipv4_address: '192.0.2.1',
      'enterprise.4660.100': 'deadbeef',
      octet_delta_count: 1000,
      reverse_octet_delta_count: 250,
    });
    expect([r.bytes, r.reverseBytes]).toEqual([1000, 250]);
  });
});

describe('options data: sampling and interface names', () => {
  // Options template 259: scope selectorId(302 = 0x012e)/4; samplingSize(309 = 0x0135)/4,
  // samplingPopulation(310 = 0x0136)/4.
  const OT259 = '0103 0003 0001  012e 0004  0135 0004  0136 0004';
  // Selector 1: 1 of 1024 (0x400); selector 2: 1 of 100 (0x64).
  const OD259 = '00000001 00000001 00000400   00000002 00000001 00000064';
  // Template 260: sourceIPv4Address(8)/4, octetDeltaCount(1)/4, selectorId(302)/4.
  const T260 = '0104 0003  0008 0004  0001 0004  012e 0004';

  test('samplingRate from the options record of the flow selector (PSAMP population / size)', () => {
    const run = newRun();
    const data = 'c0000201 00000064 00000001   c0000202 000000c8 00000002   c0000203 00000001 00000009';
    const out = feed(run, ipfixMessage(1, 1, 1, [ipfixSet(3, OT259), ipfixSet(259, OD259), ipfixSet(2, T260), ipfixSet(260, data)]), A);
    // Selector 9 is unknown and the domain has two rates: no basis for a rate, 1.
    expect(out.map((r) => [r.srcAddr, r.bytes, r.samplingRate])).toEqual([
      ['192.0.2.1', 100, 1024],
      ['192.0.2.2', 200, 100],
      ['192.0.2.3', 1, 1],
    ]);
    expect(run.metrics.get('options_records', { protocol: 'ipfix' })).toBe(2);
    expect(run.metrics.get('options_templates', { protocol: 'ipfix' })).toBe(1);
  });

  test("the record's own samplingInterval wins; options without sampler id apply to the whole domain", () => {
    const run = newRun();
    // Options template 261: scope meteringProcessId(143 = 0x8f)/4, samplingInterval(34)/4 = 0x10 (16).
    const opts = ipfixSet(3, '0105 0002 0001  008f 0004  0022 0004') + ipfixSet(261, '00000001 00000010');
    // Template 262: sourceIPv4Address/4, samplingInterval(34)/4.
    const t = ipfixSet(2, '0106 0002  0008 0004  0022 0004');
    // 192.0.2.1 with its own interval 0 (none), 192.0.2.2 with 0x20 = 32.
    const out = feed(run, ipfixMessage(1, 1, 1, [opts, t, ipfixSet(262, 'c0000201 00000000  c0000202 00000020')]), A);
    expect(out.map((r) => r.samplingRate)).toEqual([16, 32]);
  });

  test('interface names from options records with an interface scope', () => {
    const run = newRun();
    // Options template 263: scope ingressInterface(10)/4; interfaceName(82)/var.
    const opts = ipfixSet(3, '0107 0002 0001  000a 0004  0052 ffff') + ipfixSet(263, '00000003 04 67652d30   00000004 04 67652d31');
    // Template 264: ingressInterface(10)/4, egressInterface(14)/4.
    const t = ipfixSet(2, '0108 0002  000a 0004  000e 0004');
    const out = feed(run, ipfixMessage(1, 1, 1, [opts, t, ipfixSet(264, '00000003 00000004  00000004 00000009')]), A);
    expect(out.map((r) => [r.inputInterface, r.inputInterfaceName, r.outputInterface, r.outputInterfaceName])).toEqual([
      [3, 'ge-0', 4, 'ge-1'],
      [4, 'ge-1', 9, null],
    ]);
  });
});

describe('timestamps', () => {
  test('delta microseconds before export time; sysUpTime relative to systemInitTimeMilliseconds; NTP microseconds; seconds + duration', () => {
    const run = newRun();
    // Export time 0x5f5e1000 = 1600000000 s.
    // Template 265: flowStartDeltaMicroseconds(158)/4 = 0x001e8480 (2 000 000 us), flowEndDeltaMicroseconds(159)/4 = 0x000f4240 (1 s).
    const t265 = '0109 0002  009e 0004  009f 0004';
    // Template 266: systemInitTimeMilliseconds(160)/8 = 0x00000174876e8000 (1600000000000), flowStartSysUpTime(22)/4 = 0x3e8 (1000),
    // flowEndSysUpTime(21)/4 = 0x7d0 (2000).
    const t266 = '010a 0003  00a0 0008  0016 0004  0015 0004';
    // Template 267: flowStartMicroseconds(154)/8 NTP: seconds 0xe1f3c880 = 3790850176 (-> 1581861376 unix), fraction 0x40000000 (0.25 s);
    // flowEndSeconds(151)/4 = 0x5f5e1000; flowDurationMilliseconds(161)/4 = 0x1388 (5000) - ignored, both ends known.
    const t267 = '010b 0003  009a 0008  0097 0004  00a1 0004';
    // Template 268: flowEndSeconds(151)/4 = 0x5f5e1000, flowDurationMilliseconds(161)/4 = 0x1388: start = end - 5 s.
    const t268 = '010c 0002  0097 0004  00a1 0004';
    const out = feed(
      run,
      ipfixMessage(0x5f5e1000, 1, 1, [
        ipfixSet(2, t265 + t266 + t267 + t268),
        ipfixSet(265, '001e8480 000f4240'),
        ipfixSet(266, '00000174876e8000 000003e8 000007d0'),
        ipfixSet(267, 'e1f3c88040000000 5f5e1000 00001388'),
        ipfixSet(268, '5f5e1000 00001388'),
      ]),
      A,
    );
    expect(out.map((r) => [r.startMs, r.endMs])).toEqual([
      [1599999998000, 1599999999000],
      [1600000001000, 1600000002000],
      [1581861376250, 1600000000000],
      [1599999995000, 1600000000000],
    ]);
  });

  test('flowStartSysUpTime with systemInitTimeMilliseconds from options data', () => {
    const run = newRun();
    // Options template 269: scope meteringProcessId(143)/4, systemInitTimeMilliseconds(160)/8.
    const opts = ipfixSet(3, '010d 0002 0001  008f 0004  00a0 0008') + ipfixSet(269, '00000001 00000174876e8000');
    // Template 270: flowStartSysUpTime(22)/4 = 10 ms, flowEndSysUpTime(21)/4 = 20 ms.
    const out = feed(run, ipfixMessage(1, 1, 1, [opts, ipfixSet(2, '010e 0002  0016 0004  0015 0004'), ipfixSet(270, '0000000a 00000014')]), A);
    expect(out.map((r) => [r.startMs, r.endMs])).toEqual([[1600000000010, 1600000000020]]);
  });

  test('without a system init time a sysUpTime cannot be placed: start and end stay null', () => {
    const run = newRun();
    const out = feed(run, ipfixMessage(1, 1, 1, [ipfixSet(2, '010e 0002  0016 0004  0015 0004'), ipfixSet(270, '0000000a 00000014')]), A);
    expect(out.map((r) => [r.startMs, r.endMs, r.fields.flow_start_sys_up_time])).toEqual([[null, null, 10]]);
  });
});

describe('ICMP, tcp flags, addresses', () => {
  test('icmpTypeCodeIPv4 = type * 256 + code; tcpControlBits in 2 bytes', () => {
    const run = newRun();
    // Template 271: protocolIdentifier(4)/1, icmpTypeCodeIPv4(32)/2 = 0x0803 (8, 3), tcpControlBits(6)/2 = 0x0012.
    const out = feed(run, ipfixMessage(1, 1, 1, [ipfixSet(2, '010f 0003  0004 0001  0020 0002  0006 0002'), ipfixSet(271, '01 0803 0012')]), A);
    expect(out.map((r) => [r.ipProtocol, r.icmpType, r.icmpCode, r.tcpFlags])).toEqual([[1, 8, 3, 0x12]]);
  });

  test('IPv4 and IPv6 elements in one template: IPv6 when the IPv4 ones are 0.0.0.0', () => {
    const run = newRun();
    // Template 272: 8/4, 12/4, 27/16, 28/16.
    const t = ipfixSet(2, '0110 0004  0008 0004  000c 0004  001b 0010  001c 0010');
    const zero4 = '00000000 00000000 20010db8000000000000000000000001 20010db8000000000000000000000002';
    const real4 = 'c0000201 c0000202 00000000000000000000000000000000 00000000000000000000000000000000';
    const out = feed(run, ipfixMessage(1, 1, 1, [t, ipfixSet(272, zero4 + real4)]), A);
    expect(out.map((r) => [r.ipVersion, r.srcAddr, r.dstAddr])).toEqual([
      [6, '2001:db8::1', '2001:db8::2'],
      [4, '192.0.2.1', '192.0.2.2'],
    ]);
  });
});

describe('malformed messages', () => {
  test('unusable headers throw DecodeError, nothing else', () => {
    const run = newRun();
    const env = run.env;
    const emit = () => undefined;
    const reason = (buf: Buffer) => {
      try {
        decodeIpfix(buf, A, env, emit);
        return 'none';
      } catch (e) {
        expect(e).toBeInstanceOf(DecodeError);
        return (e as DecodeError).reason;
      }
    };
    expect(reason(Buffer.alloc(15))).toBe('short_datagram');
    expect(reason(Buffer.from('0009000000000000000000000000000000000000', 'hex'))).toBe('unknown_version');
    // Header length 0x000c = 12 < 16.
    expect(reason(Buffer.from('000a000c000000000000000000000001', 'hex'))).toBe('bad_header');
  });

  test('truncated message: what is present is decoded, short_datagram counted', () => {
    const run = newRun();
    const msg = ipfixMessage(1, 1, 1, [ipfixSet(2, T256), ipfixSet(256, R256a + R256b)]);
    // Keep the header (which still says the full length), the template set and the first record.
    const cut = msg.subarray(0, msg.length - 17);
    const out = feed(run, cut, A);
    expect(out.map(brief)).toEqual([REC_A]);
    expect(errors(run)).toEqual({ short_datagram: 1, bad_set_length: 1 });
  });

  test('a set of length < 4 stops the walk; sets before it are decoded', () => {
    const run = newRun();
    const msg = ipfixMessage(1, 1, 1, [ipfixSet(2, T256), ipfixSet(256, R256a), '0100 0002 ffff ffff']);
    expect(feed(run, msg, A).map(brief)).toEqual([REC_A]);
    expect(errors(run)).toEqual({ bad_set_length: 1 });
  });

  test('a set running past the message: its complete records are decoded', () => {
    const run = newRun();
    // Data set claims 0x00c8 = 200 bytes; 2 records (34 bytes) follow.
    const msg = ipfixMessage(1, 1, 1, [ipfixSet(2, T256), `0100 00c8 ${R256a} ${R256b}`]);
    expect(feed(run, msg, A).map(brief)).toEqual([REC_A, REC_B]);
    expect(errors(run)).toEqual({ bad_set_length: 1 });
  });

  test('a reserved set id is skipped and the rest of the message decoded', () => {
    const run = newRun();
    const msg = ipfixMessage(1, 1, 1, [ipfixSet(2, T256), ipfixSet(5, 'deadbeef'), ipfixSet(256, R256a)]);
    expect(feed(run, msg, A).map(brief)).toEqual([REC_A]);
    expect(run.metrics.get('sets_skipped', { protocol: 'ipfix' })).toBe(1);
    expect(errors(run)).toEqual({});
  });

  test('a template record that does not fit its set is bad_template; templates before it are kept', () => {
    const run = newRun();
    // Second template: 257 with 10 fields, only 2 present.
    const msg = ipfixMessage(1, 1, 1, [ipfixSet(2, `${T256} 0101 000a 0008 0004 000c 0004`), ipfixSet(256, R256a)]);
    expect(feed(run, msg, A).map(brief)).toEqual([REC_A]);
    expect(errors(run)).toEqual({ bad_template: 1 });
  });

  test('templates that cannot be right: id < 256, options scope count 0, only zero-length fields', () => {
    const run = newRun();
    const msg = ipfixMessage(1, 1, 1, [
      ipfixSet(2, '00ff 0001 0008 0004'),
      ipfixSet(3, '0120 0001 0000 0008 0004'),
      ipfixSet(2, '0121 0002 0008 0000 000c 0000'),
    ]);
    feed(run, msg, A);
    expect(errors(run)).toEqual({ bad_template: 3 });
    expect(run.env.templates.size()).toBe(0);
  });

  test('zero padding after the last set and bytes after the message length are ignored', () => {
    const run = newRun();
    const msg = ipfixMessage(1, 1, 1, [ipfixSet(2, T256), ipfixSet(256, R256a), '00000000']);
    const withTrailer = Buffer.concat([msg, Buffer.from('0102030405', 'hex')]);
    expect(feed(run, withTrailer, A).map(brief)).toEqual([REC_A]);
    expect(errors(run)).toEqual({});
  });
});
