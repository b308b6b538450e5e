// SPDX-License-Identifier: Apache-2.0
/**
 * The information-element registry: generated from the CSV data files, names and types as IANA / RFC 3954
 * give them, and value readers whose expected values are worked out by hand from the bytes.
 */
import './ensure-generated';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import {
  Kind,
  lookupIpfix,
  lookupV9,
  lookupV9Scope,
  readByType,
  readDateNtp,
  readUnsigned,
  readValue,
  registrySize,
} from '../../../src/decode/registry';

// The generator is a plain-Node ES module, which jest (CommonJS) cannot import: call it in a child node.
const GEN = join(__dirname, '..', '..', '..', 'scripts', 'gen-registry.mjs');
function callGen(fn: 'parseCsv' | 'snake', arg: string): unknown {
  const script = `import { ${fn} } from ${JSON.stringify(pathToFileURL(GEN).href)};
    try { process.stdout.write(JSON.stringify({ ok: ${fn}(process.argv[1]) })); }
    catch (e) { process.stdout.write(JSON.stringify({ err: String(e.message) })); }`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script, arg], { encoding: 'utf8' });
  const r = JSON.parse(out) as { ok?: unknown; err?: string };
  if (r.err !== undefined) throw new Error(r.err);
  return r.ok;
}
const gen = {
  parseCsv: (text: string) => callGen('parseCsv', text) as string[][],
  snake: (name: string) => callGen('snake', name) as string,
};

const b = (hex: string) => Buffer.from(hex.replace(/\s+/g, ''), 'hex');

describe('CSV parser of the generator', () => {
  test('quoted fields with commas, doubled quotes and line breaks', () => {
    const rows = gen.parseCsv('a,b,c\n1,"x, y","say ""hi"""\n2,"two\nlines",\n');
    expect(rows).toEqual([
      ['a', 'b', 'c'],
      ['1', 'x, y', 'say "hi"'],
      ['2', 'two\nlines', ''],
    ]);
  });

  test('CRLF line ends and a last line without newline', () => {
    expect(gen.parseCsv('a,b\r\n1,2')).toEqual([
      ['a', 'b'],
      ['1', '2'],
    ]);
  });

  test('unterminated quote is an error', () => {
    expect(() => gen.parseCsv('a,"b\n')).toThrow(/unterminated/);
  });

  test('the data files parse into rows of the header width', () => {
    for (const f of ['ipfix-information-elements.csv', 'netflow-v9-field-types.csv']) {
      const rows = gen.parseCsv(readFileSync(join(__dirname, '..', '..', '..', 'src', 'decode', 'registry', 'data', f), 'utf8'));
      const width = rows[0].length;
      for (const r of rows) expect(r.length).toBe(width);
    }
  });
});

describe('snake_case names', () => {
  const cases = [
    ['octetDeltaCount', 'octet_delta_count'],
    ['sourceIPv4Address', 'source_ipv4_address'],
    ['postNATSourceIPv4Address', 'post_nat_source_ipv4_address'],
    ['postNAPTDestinationTransportPort', 'post_napt_destination_transport_port'],
    ['icmpTypeCodeIPv6', 'icmp_type_code_ipv6'],
    ['tcpControlBits', 'tcp_control_bits'],
    ['ingressVRFID', 'ingress_vrfid'],
    ['VRFname', 'vrf_name'],
    ['postMCastPacketDeltaCount', 'post_mcast_packet_delta_count'],
    ['IPSecSPI', 'ipsec_spi'],
    ['dot1qVlanId', 'dot1q_vlan_id'],
    ['messageMD5Checksum', 'message_md5_checksum'],
    ['selectorIDTotalFlowsObserved', 'selector_id_total_flows_observed'],
    ['NF_F_INGRESS_ACL_ID', 'nf_f_ingress_acl_id'],
    ['fwEventLevelID', 'fw_event_level_id'],
  ];
  test('generic rule with acronym runs kept together', () => {
    // One child process for all names (each call costs a node start).
    const got = gen.parseCsv(cases.map(([n]) => n).join('\n')).map(([n]) => gen.snake(n));
    expect(got).toEqual(cases.map(([, s]) => s));
  });
});

describe('IPFIX elements', () => {
  test('every IANA element of the data file is known (504 rows)', () => {
    expect(registrySize().ipfix).toBe(504);
  });

  test.each([
    [1, 'octetDeltaCount', 'octet_delta_count', 'unsigned64'],
    [4, 'protocolIdentifier', 'protocol_identifier', 'unsigned8'],
    [8, 'sourceIPv4Address', 'source_ipv4_address', 'ipv4Address'],
    [27, 'sourceIPv6Address', 'source_ipv6_address', 'ipv6Address'],
    [56, 'sourceMacAddress', 'source_mac_address', 'macAddress'],
    [82, 'interfaceName', 'interface_name', 'string'],
    [152, 'flowStartMilliseconds', 'flow_start_milliseconds', 'dateTimeMilliseconds'],
    [154, 'flowStartMicroseconds', 'flow_start_microseconds', 'dateTimeMicroseconds'],
    [291, 'basicList', 'basic_list', 'basicList'],
    [311, 'samplingProbability', 'sampling_probability', 'float64'],
    [533, 'pathDelaySumDeltaMicroseconds', 'path_delay_sum_delta_microseconds', 'unsigned64'],
  ])('%i is %s (%s, %s)', (id, name, snake, type) => {
    const e = lookupIpfix(id);
    expect([e.name, e.snake, e.type, e.pen, e.known]).toEqual([name, snake, type, 0, true]);
  });

  test('reverse elements (RFC 5103, PEN 29305) take the forward type and reverse_ names', () => {
    const e = lookupIpfix(1, 29305);
    expect([e.name, e.snake, e.type, e.kind]).toEqual(['reverseOctetDeltaCount', 'reverse_octet_delta_count', 'unsigned64', Kind.UNSIGNED]);
    expect(lookupIpfix(6, 29305).snake).toBe('reverse_tcp_control_bits');
  });

  test('unknown enterprise elements are enterprise.<pen>.<id>, read as hex', () => {
    const e = lookupIpfix(40, 6871);
    expect([e.snake, e.kind, e.known]).toEqual(['enterprise.6871.40', Kind.HEX, false]);
    expect(readValue(e.kind, b('00ff'), 0, 2)).toBe('00ff');
  });

  test('unassigned IANA ids are unknown.<id>, read as hex', () => {
    expect(lookupIpfix(30000).snake).toBe('unknown.30000');
    expect(lookupIpfix(30000).kind).toBe(Kind.HEX);
  });

  test('paddingOctets is consumed, never reported', () => {
    expect(lookupIpfix(210).kind).toBe(Kind.PADDING);
  });
});

describe('NetFlow v9 field types', () => {
  test('290 rows of the data file', () => {
    expect(registrySize().v9).toBe(290);
  });

  test('types with an IANA equivalent take the IANA name and type', () => {
    expect([lookupV9(1).name, lookupV9(1).snake, lookupV9(1).type]).toEqual(['octetDeltaCount', 'octet_delta_count', 'unsigned64']);
    expect(lookupV9(8).snake).toBe('source_ipv4_address');
    expect(lookupV9(21).snake).toBe('flow_end_sys_up_time');
    // ASA 8.4 numbers with a different IANA number but the same meaning.
    expect([lookupV9(40001).snake, lookupV9(40001).type]).toEqual(['post_nat_source_ipv4_address', 'ipv4Address']);
    expect(lookupV9(40005).snake).toBe('firewall_event');
  });

  test('vendor-only types get a snake_case of the vendor name and an inferred type', () => {
    expect([lookupV9(33000).snake, lookupV9(33000).type]).toEqual(['nf_f_ingress_acl_id', 'octetArray']);
    expect([lookupV9(33003).snake, lookupV9(33003).type]).toEqual(['fw_event_level', 'unsigned32']);
    expect([lookupV9(35010).snake, lookupV9(35010).type]).toEqual(['fw_ext_event_desc', 'string']);
    expect([lookupV9(8256).snake, lookupV9(8256).type]).toEqual(['streamcore_hostname', 'string']);
    expect([lookupV9(57590).snake, lookupV9(57590).type]).toEqual(['l7_proto', 'auto']);
    expect([lookupV9(65).snake, lookupV9(65).type]).toEqual(['v9_field_65', 'auto']);
  });

  test('IANA numbers the v9 table does not list fall back to the IANA registry', () => {
    expect(lookupV9(130).snake).toBe('exporter_ipv4_address');
  });

  test('numbers nobody defines are unknown.<type>, hex', () => {
    expect([lookupV9(61000).snake, lookupV9(61000).kind]).toEqual(['unknown.61000', Kind.HEX]);
  });

  test('options scope types (RFC 3954 §6.1)', () => {
    expect([1, 2, 3, 4, 5, 9].map((t) => lookupV9Scope(t).snake)).toEqual([
      'scope_system',
      'scope_interface',
      'scope_line_card',
      'scope_cache',
      'scope_template',
      'scope_9',
    ]);
  });
});

describe('value readers', () => {
  test('unsigned integers of any length 1-8 (reduced-size encoding)', () => {
    expect(readByType('unsigned8', b('ff'), 0, 1)).toBe(255);
    expect(readByType('unsigned16', b('0102'), 0, 2)).toBe(258);
    expect(readByType('unsigned32', b('010203'), 0, 3)).toBe(66051);
    expect(readByType('unsigned64', b('00000001'), 0, 4)).toBe(1);
    expect(readByType('unsigned64', b('0000000100000000'), 0, 8)).toBe(4294967296);
    expect(readByType('unsigned64', b('00000100000000'), 0, 7)).toBe(4294967296);
    // 2^53 - 1 is the last exact double; above it the value goes out as a decimal string.
    expect(readByType('unsigned64', b('001fffffffffffff'), 0, 8)).toBe(9007199254740991);
    expect(readByType('unsigned64', b('0020000000000001'), 0, 8)).toBe('9007199254740993');
    expect(readByType('unsigned64', b('ffffffffffffffff'), 0, 8)).toBe('18446744073709551615');
    expect(readUnsigned(b('ffffffffffffffff'), 0, 8)).toBe(18446744073709551615);
  });

  test('signed integers', () => {
    expect(readByType('signed8', b('ff'), 0, 1)).toBe(-1);
    expect(readByType('signed32', b('fffffffe'), 0, 4)).toBe(-2);
    expect(readByType('signed64', b('ffffffffffffffff'), 0, 8)).toBe(-1);
    expect(readByType('signed64', b('8000000000000000'), 0, 8)).toBe('-9223372036854775808');
  });

  test('floats', () => {
    expect(readByType('float32', b('3fc00000'), 0, 4)).toBe(1.5);
    expect(readByType('float64', b('3ff8000000000000'), 0, 8)).toBe(1.5);
    expect(readByType('float64', b('7ff8000000000000'), 0, 8)).toBe('NaN');
    expect(readByType('float32', b('3fc000'), 0, 3)).toBe('3fc000');
  });

  test('boolean: 1 true, 2 false (RFC 7011 §6.1.5)', () => {
    expect(readByType('boolean', b('01'), 0, 1)).toBe(true);
    expect(readByType('boolean', b('02'), 0, 1)).toBe(false);
    expect(readByType('boolean', b('07'), 0, 1)).toBe(7);
  });

  test('macAddress, string, octetArray', () => {
    expect(readByType('macAddress', b('00e01c3c17c2'), 0, 6)).toBe('00:e0:1c:3c:17:c2');
    expect(readByType('string', b('5465302f302f300000000000'), 0, 12)).toBe('Te0/0/0');
    expect(readByType('string', b('c3a9'), 0, 2)).toBe('é');
    expect(readByType('octetArray', b('0f8e7ff3'), 0, 4)).toBe('0f8e7ff3');
    expect(readByType('basicList', b('ff0001'), 0, 3)).toBe('ff0001');
  });

  test('addresses, and hex when the length does not fit the type', () => {
    expect(readByType('ipv4Address', b('c0a80001'), 0, 4)).toBe('192.168.0.1');
    expect(readByType('ipv6Address', b('20010db8000000000000000000000001'), 0, 16)).toBe('2001:db8::1');
    expect(readByType('ipv4Address', b('0a0b'), 0, 2)).toBe('0a0b');
  });

  test('dateTime types to unix ms', () => {
    expect(readByType('dateTimeSeconds', b('5617a8a5'), 0, 4)).toBe(1444391077000);
    expect(readByType('dateTimeMilliseconds', b('0000015047db7c23'), 0, 8)).toBe(1444314577955);
    // NTP format: 0xce5b1bbf = 3462077375 s since 1900 = 1253088575 s since 1970; 0x80000000 = half a second.
    expect(readByType('dateTimeMicroseconds', b('ce5b1bbf80000000'), 0, 8)).toBe(1253088575500);
    expect(readByType('dateTimeNanoseconds', b('ce5b1bbf40000000'), 0, 8)).toBe(1253088575250);
    expect(readDateNtp(b('0000000000000000'), 0, 8)).toBe(0);
    expect(readByType('dateTimeMicroseconds', b('ce5b1bbf'), 0, 4)).toBe('ce5b1bbf');
  });

  test('auto (vendor v9 types of unknown encoding): unsigned up to 8 bytes, else hex', () => {
    expect(readByType('auto', b('0102'), 0, 2)).toBe(258);
    expect(readByType('auto', b('000102030405060708'), 0, 9)).toBe('000102030405060708');
  });

  test('readers stay within their bytes', () => {
    const buf = b('aa bb cc dd ee ff');
    expect(readByType('unsigned16', buf, 2, 2)).toBe(0xccdd);
    expect(readByType('string', buf, 1, 0)).toBe('');
  });
});
