// SPDX-License-Identifier: Apache-2.0
/**
 * NetFlow v9 hard cases (DESIGN.md §3) on hand-built packets. Expected values are written out from the bytes
 * in the comments next to them, not taken from the decoder.
 */
import '../registry/ensure-generated';
import { DecodeError, type ExporterInfo, type FlowRecord } from '../../../src/decode/types';
import { decodeNetflow9 } from '../../../src/decode/netflow9';
import { feed, hex, newRun, v9Flowset, v9Packet, type Run } from '../templates/cflow';

const A: ExporterInfo = { address: '192.0.2.1', port: 2055, receivedMs: 1_600_000_000_000 };
const B: ExporterInfo = { address: '192.0.2.2', port: 2055, receivedMs: 1_600_000_000_000 };

// Header used below unless said otherwise: sysUptime 0x000f4240 = 1 000 000 ms, unix secs 0x5f5e1000 =
// 1600000000, so a switched time S is at 1600000000000 - 1000000 + S.
const UP = 0x000f4240;
const SECS = 0x5f5e1000;

// Template 256: IPV4_SRC_ADDR(8)/4, IPV4_DST_ADDR(12)/4, L4_SRC_PORT(7)/2, L4_DST_PORT(11)/2, PROTOCOL(4)/1,
// IN_BYTES(1)/4, IN_PKTS(2)/4, FIRST_SWITCHED(22)/4, LAST_SWITCHED(21)/4, TCP_FLAGS(6)/1. 30-byte records.
const T256 = '0100 000a  0008 0004  000c 0004  0007 0002  000b 0002  0004 0001  0001 0004  0002 0004  0016 0004  0015 0004  0006 0001';
// 10.0.0.1 -> 10.0.0.2, 1024 -> 443, TCP, 4000 bytes, 5 packets, first 0x000f3e58 = 999000, last 0x000f4240, flags 0x1b.
const R1 = '0a000001 0a000002 0400 01bb 06 00000fa0 00000005 000f3e58 000f4240 1b';
// 10.0.0.3 -> 10.0.0.4, 53 -> 53, UDP, 100 bytes, 1 packet, first = last = 0x000f4000 = 999424, flags 0.
const R2 = '0a000003 0a000004 0035 0035 11 00000064 00000001 000f4000 000f4000 00';

function errors(run: Run): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(run.metrics.snapshot())) {
    const m = /^decode_errors\{protocol="netflow9",reason="([a-z_]+)"\}$/.exec(k);
    if (m) out[m[1]] = v;
  }
  return out;
}

const brief = (r: FlowRecord) => [r.srcAddr, r.dstAddr, r.srcPort, r.dstPort, r.ipProtocol, r.bytes, r.packets, r.startMs, r.endMs, r.tcpFlags];
const REC1 = ['10.0.0.1', '10.0.0.2', 1024, 443, 6, 4000, 5, 1599999999000, 1600000000000, 0x1b];
const REC2 = ['10.0.0.3', '10.0.0.4', 53, 53, 17, 100, 1, 1599999999424, 1599999999424, 0];

describe('decoding', () => {
  test('header values and FIRST/LAST_SWITCHED relative to sysUptime', () => {
    const run = newRun();
    const out = feed(run, v9Packet(UP, SECS, 42, 7, 3, [v9Flowset(0, T256), v9Flowset(256, R1 + R2)]), A);
    expect(out.map(brief)).toEqual([REC1, REC2]);
    expect([out[0].protocol, out[0].sourceId, out[0].sequence, out[0].exportTimeMs, out[0].sysUptimeMs, out[0].ipVersion]).toEqual([
      'netflow9',
      7,
      42,
      1600000000000,
      1000000,
      4,
    ]);
    // v9 names are the IANA ones (IN_BYTES -> octet_delta_count).
    expect(out[0].fields).toEqual({
      source_ipv4_address: '10.0.0.1',
      destination_ipv4_address: '10.0.0.2',
      source_transport_port: 1024,
      destination_transport_port: 443,
      protocol_identifier: 6,
      octet_delta_count: 4000,
      packet_delta_count: 5,
      flow_start_sys_up_time: 999000,
      flow_end_sys_up_time: 1000000,
      tcp_control_bits: 0x1b,
    });
    expect(run.metrics.get('templates', { protocol: 'netflow9' })).toBe(1);
    expect(errors(run)).toEqual({});
  });

  test('sysUptime wrapped since the flow started (32-bit ms counter)', () => {
    const run = newRun();
    // sysUptime 100 ms after the wrap; FIRST_SWITCHED 0xffffff9c = 2^32 - 100: 200 ms before export.
    const rec = '0a000001 0a000002 0400 01bb 06 00000001 00000001 ffffff9c 00000032 00';
    const [r] = feed(run, v9Packet(100, SECS, 1, 0, 2, [v9Flowset(0, T256), v9Flowset(256, rec)]), A);
    // LAST_SWITCHED 0x32 = 50: 50 ms before export.
    expect([r.startMs, r.endMs]).toEqual([1599999999800, 1599999999950]);
  });

  test('ICMP type and code from the destination port when no ICMP element is sent', () => {
    const run = newRun();
    // Protocol 1, destination port 0x0303 (type 3, code 3).
    const rec = '0a000001 0a000002 0000 0303 01 00000001 00000001 000f4240 000f4240 00';
    const [r] = feed(run, v9Packet(UP, SECS, 1, 0, 2, [v9Flowset(0, T256), v9Flowset(256, rec)]), A);
    expect([r.icmpType, r.icmpCode]).toEqual([3, 3]);
  });
});

describe('templates', () => {
  test('data before its template: held, decoded when the template arrives', () => {
    const run = newRun();
    expect(feed(run, v9Packet(UP, SECS, 1, 0, 1, [v9Flowset(256, R1)]), A)).toEqual([]);
    expect(run.env.templates.pendingSize()).toBe(1);
    const out = feed(run, v9Packet(UP + 1000, SECS + 1, 2, 0, 1, [v9Flowset(0, T256)]), A);
    // Decoded with the header of the packet the data came in.
    expect(out.map(brief)).toEqual([REC1]);
    expect(out[0].sequence).toBe(1);
  });

  test('same template id from two exporters and two source ids, different layouts', () => {
    const run = newRun();
    feed(run, v9Packet(UP, SECS, 1, 0, 1, [v9Flowset(0, T256)]), A);
    // A/source id 1 and B/source id 0: template 256 = L4_DST_PORT(11)/2 and IN_PKTS(2)/2.
    feed(run, v9Packet(UP, SECS, 1, 1, 1, [v9Flowset(0, '0100 0001 000b 0002')]), A);
    feed(run, v9Packet(UP, SECS, 1, 0, 1, [v9Flowset(0, '0100 0001 0002 0002')]), B);
    expect(feed(run, v9Packet(UP, SECS, 2, 0, 1, [v9Flowset(256, R1)]), A).map(brief)).toEqual([REC1]);
    // 0x0050 = 80 twice (the flowset is 4 + 4 bytes: two 2-byte records).
    expect(feed(run, v9Packet(UP, SECS, 2, 1, 2, [v9Flowset(256, '0050 0050')]), A).map((r) => r.dstPort)).toEqual([80, 80]);
    expect(feed(run, v9Packet(UP, SECS, 2, 0, 2, [v9Flowset(256, '0009 000a')]), B).map((r) => r.packets)).toEqual([9, 10]);
  });

  test('a template id redefined with another layout replaces the old one', () => {
    const run = newRun();
    feed(run, v9Packet(UP, SECS, 1, 0, 1, [v9Flowset(0, T256)]), A);
    // Template 256 again: IPV6_SRC_ADDR(27)/16, IPV6_DST_ADDR(28)/16.
    const out = feed(run, v9Packet(UP, SECS, 2, 0, 2, [v9Flowset(0, '0100 0002 001b 0010 001c 0010'), v9Flowset(256, '20010db8000000000000000000000001 20010db8000000000000000000000002')]), A);
    expect(out.map((r) => [r.ipVersion, r.srcAddr, r.dstAddr])).toEqual([[6, '2001:db8::1', '2001:db8::2']]);
    expect(run.env.templates.size()).toBe(1);
  });

  test('zero-length fields in a template carry nothing', () => {
    const run = newRun();
    // Template 257: IPV4_SRC_ADDR/4, IN_BYTES/0, L4_SRC_PORT/2, field type 0 (H3C)/1.
    const out = feed(run, v9Packet(UP, SECS, 1, 0, 2, [v9Flowset(0, '0101 0004 0008 0004 0001 0000 0007 0002 0000 0001'), v9Flowset(257, '0a000001 1f90 ff 000000')]), A);
    // 0x1f90 = 8080; the type-0 byte is kept as v9_field_0, 0xff = 255; 3 bytes of padding.
    expect(out.map((r) => r.fields)).toEqual([{ source_ipv4_address: '10.0.0.1', source_transport_port: 8080, v9_field_0: 255 }]);
    expect(out[0].bytes).toBeNull();
  });

  test('a field announced with length 65535 is variable-length, IPFIX style (H3C VRFname)', () => {
    const run = newRun();
    // Template 258: IPV4_SRC_ADDR/4, VRFname(236)/65535, L4_SRC_PORT/2.
    const out = feed(run, v9Packet(UP, SECS, 1, 0, 2, [v9Flowset(0, '0102 0003 0008 0004 00ec ffff 0007 0002'), v9Flowset(258, '0a000001 03 726564 0016')]), A);
    expect(out.map((r) => [r.fields.vrf_name, r.srcPort])).toEqual([['red', 22]]);
  });
});

describe('options data', () => {
  test('sampling rate per sampler id (FLOW_SAMPLER_ID + FLOW_SAMPLER_RANDOM_INTERVAL)', () => {
    const run = newRun();
    // Options template 300: scope length 4, option length 8; scope System(1)/4; FLOW_SAMPLER_ID(48)/1,
    // FLOW_SAMPLER_RANDOM_INTERVAL(50)/4. Then 2 bytes of padding.
    const OT = '012c 0004 0008  0001 0004  0030 0001  0032 0004  0000';
    // Sampler 1: 1 in 0x3e8 = 1000; sampler 2: 1 in 0x64 = 100; 2 bytes of padding.
    const OD = '0a000001 01 000003e8  0a000001 02 00000064  0000';
    // Template 301: IPV4_SRC_ADDR/4, FLOW_SAMPLER_ID/1.
    const T = '012d 0002 0008 0004 0030 0001';
    const out = feed(run, v9Packet(UP, SECS, 1, 0, 6, [v9Flowset(1, OT), v9Flowset(300, OD), v9Flowset(0, T), v9Flowset(301, '0a000001 02 0a000002 01 0a000003 07 000000')]), A);
    expect(out.map((r) => [r.srcAddr, r.samplingRate])).toEqual([
      ['10.0.0.1', 100],
      ['10.0.0.2', 1000],
      ['10.0.0.3', 1],
    ]);
    expect(run.metrics.get('options_records', { protocol: 'netflow9' })).toBe(2);
    expect(run.metrics.get('options_templates', { protocol: 'netflow9' })).toBe(1);
    expect(errors(run)).toEqual({});
  });

  test('one sampler for the whole source id applies to records that do not name it', () => {
    const run = newRun();
    const OT = '012c 0004 0008  0001 0004  0030 0001  0032 0004  0000';
    const out = feed(run, v9Packet(UP, SECS, 1, 0, 4, [v9Flowset(1, OT), v9Flowset(300, '0a000001 01 00000200 000000'), v9Flowset(0, T256), v9Flowset(256, R1)]), A);
    // 0x200 = 512.
    expect(out.map((r) => r.samplingRate)).toEqual([512]);
  });

  test('SAMPLING_INTERVAL in the data record itself', () => {
    const run = newRun();
    // Template 302: IPV4_SRC_ADDR/4, SAMPLING_INTERVAL(34)/4 = 0x800 = 2048.
    const out = feed(run, v9Packet(UP, SECS, 1, 0, 2, [v9Flowset(0, '012e 0002 0008 0004 0022 0004'), v9Flowset(302, '0a000001 00000800')]), A);
    expect(out.map((r) => r.samplingRate)).toEqual([2048]);
  });

  test('interface names from IF_NAME with an Interface scope', () => {
    const run = newRun();
    // Options template 303: scope Interface(2)/4; IF_NAME(82)/8. Record: ifIndex 5, "Gi0/1" NUL-padded.
    const OT = '012f 0004 0004  0002 0004  0052 0008';
    const OD = '00000005 4769302f31000000';
    // Template 304: INPUT_SNMP(10)/2, OUTPUT_SNMP(14)/2.
    const out = feed(run, v9Packet(UP, SECS, 1, 0, 3, [v9Flowset(1, OT), v9Flowset(303, OD), v9Flowset(0, '0130 0002 000a 0002 000e 0002'), v9Flowset(304, '0005 0006')]), A);
    expect(out.map((r) => [r.inputInterface, r.inputInterfaceName, r.outputInterface, r.outputInterfaceName])).toEqual([[5, 'Gi0/1', 6, null]]);
  });
});

describe('malformed packets', () => {
  test('unusable headers throw DecodeError, nothing else', () => {
    const run = newRun();
    const reason = (buf: Buffer) => {
      try {
        decodeNetflow9(buf, A, run.env, () => undefined);
        return 'none';
      } catch (e) {
        expect(e).toBeInstanceOf(DecodeError);
        return (e as DecodeError).reason;
      }
    };
    expect(reason(Buffer.alloc(19))).toBe('short_datagram');
    expect(reason(hex('000a 0000 00000000 00000000 00000000 00000000'))).toBe('unknown_version');
    expect(reason(v9Packet(UP, SECS, 1, 0, 0, []))).toBe('none');
  });

  test('a flowset of length < 4 stops the walk; flowsets before it are decoded', () => {
    const run = newRun();
    const out = feed(run, v9Packet(UP, SECS, 1, 0, 2, [v9Flowset(0, T256), v9Flowset(256, R1), '0100 0003 ffffffff']), A);
    expect(out.map(brief)).toEqual([REC1]);
    expect(errors(run)).toEqual({ bad_set_length: 1 });
  });

  test('a flowset running past the datagram: its complete records are decoded', () => {
    const run = newRun();
    // Flowset 256 claims 0x0100 = 256 bytes; two 30-byte records and 5 bytes of a third follow.
    const out = feed(run, v9Packet(UP, SECS, 1, 0, 3, [v9Flowset(0, T256), `0100 0100 ${R1} ${R2} 0a00000500`]), A);
    expect(out.map(brief)).toEqual([REC1, REC2]);
    expect(errors(run)).toEqual({ bad_set_length: 1 });
  });

  test('a template whose fields run past the flowset is bad_template', () => {
    const run = newRun();
    feed(run, v9Packet(UP, SECS, 1, 0, 1, [v9Flowset(0, '0100 0010 0008 0004')]), A);
    expect(errors(run)).toEqual({ bad_template: 1 });
  });

  test('zero bytes after the last flowset are padding (Cisco ACI, Palo Alto)', () => {
    const run = newRun();
    const pkt = Buffer.concat([v9Packet(UP, SECS, 1, 0, 2, [v9Flowset(0, T256), v9Flowset(256, R1)]), Buffer.alloc(64)]);
    expect(feed(run, pkt, A).map(brief)).toEqual([REC1]);
    expect(errors(run)).toEqual({});
  });

  test('logstash netflow9_test_invalid01: an options template flowset of length 22, then two data flowsets', () => {
    // The bytes of logstash-codec-netflow spec/codecs/netflow9_test_invalid01.dat (Apache-2.0). Header:
    // sysUptime 0x00061c22 = 400418, unix secs 0x55dcf5c9 = 1440544201. Options template 256 (scope
    // Interface/4; SAMPLING_INTERVAL/4, SAMPLING_ALGORITHM/1) in a flowset of length 0x16 = 22; its data:
    // interface 0, interval 0x64 = 100. Then template 2048 data (IPv6) and template 1024 data (IPv4).
    const pkt = hex(
      '0009000200061c2255dcf5c900000000000000000000003c0400000d00080004000c000400150004001600040001000400020004000a0004000e000400070002000b00020004000100060001003c00010000003c0800000d001b0010001c001000150004001600040001000400020004000a0004000e000400070002000b00020004000100060001003c0001000100160100000400080002000400220004002300010100001000000000000000640100000008000046200144b8111872000000000000000010200144b84030cd9180750baed39d26210000d8e00000d8e000000060000000010000000000000000007b007b1100060000000400002cc0a80001c0a8006900015ba400015ba4000000620000000100000000000000000035d91711000400',
    );
    const run = newRun();
    const out = feed(run, pkt, A);
    // 2048: 2001:44b8:1118:7200::10 -> 2001:44b8:4030:cd91:8075:bae:d39d:2621, switched 0xd8e0 = 55520
    // (1440544201000 - 400418 + 55520 = 1440543856102), 0x60 = 96 bytes, 1 packet, 123 -> 123 UDP.
    // 1024: 192.168.0.1 -> 192.168.0.105, switched 0x15ba4 = 88996 (-> 1440543889578), 0x62 = 98 bytes,
    // 1 packet, 53 -> 0xd917 = 55575 UDP. Sampling interval 100 from the options data (no sampler id).
    expect(out.map((r) => [r.srcAddr, r.dstAddr, r.startMs, r.endMs, r.bytes, r.packets, r.srcPort, r.dstPort, r.ipProtocol, r.samplingRate])).toEqual([
      ['2001:44b8:1118:7200::10', '2001:44b8:4030:cd91:8075:bae:d39d:2621', 1440543856102, 1440543856102, 96, 1, 123, 123, 17, 100],
      ['192.168.0.1', '192.168.0.105', 1440543889578, 1440543889578, 98, 1, 53, 55575, 17, 100],
    ]);
    expect(errors(run)).toEqual({});
  });
});
