// SPDX-License-Identifier: Apache-2.0
/** Address syntax used by the configuration. */
import { checkCidr, checkHostPort, isHostname, parseIPv4, parseIPv6 } from '../../src/config/net';

describe('IP literals', () => {
  it.each(['0.0.0.0', '255.255.255.255', '10.0.0.1'])('IPv4 %s', (s) => expect(parseIPv4(s)).not.toBeNull());
  it.each(['256.0.0.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.-4', '', 'a.b.c.d'])('not IPv4 %j', (s) =>
    expect(parseIPv4(s)).toBeNull(),
  );
  it.each([
    ['::', '00000000000000000000000000000000'],
    ['::1', '00000000000000000000000000000001'],
    ['2001:db8::', '20010db8000000000000000000000000'],
    ['fe80::1:2', 'fe800000000000000000000000010002'],
    ['::ffff:192.0.2.1', '00000000000000000000ffffc0000201'],
    ['1:2:3:4:5:6:7:8', '00010002000300040005000600070008'],
    ['1:2:3:4:5:6:1.2.3.4', '00010002000300040005000601020304'],
  ])('IPv6 %s', (s, hex) => expect(Buffer.from(parseIPv6(s) ?? []).toString('hex')).toBe(hex));
  it.each(['', ':', ':::', '1::2::3', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7::8', '12345::', 'g::', '1.2.3.4::', '::1.2.3', 'fe80::1%eth0', '[::1]'])(
    'not IPv6 %j',
    (s) => expect(parseIPv6(s)).toBeNull(),
  );
});

describe('CIDRs', () => {
  it.each(['10.0.0.0/8', '0.0.0.0/0', '192.0.2.1/32', 'fd00::/8', '::/0', '2001:db8::/32', '::ffff:10.0.0.0/104'])('%s', (s) =>
    expect(checkCidr(s)).toEqual({ ok: true }),
  );
  it.each([
    ['10.0.0.1/8', '10.0.0.1/8 has host bits set, did you mean 10.0.0.0/8?'],
    ['192.168.1.1/23', 'did you mean 192.168.0.0/23?'],
    ['fd00::1/8', 'did you mean fd00::/8?'],
    ['10.0.0.0/08', '/08 is not a prefix length 0-32'],
    ['10.0.0.0/', '/ is not a prefix length 0-32'],
    ['10.0.0.0', 'has no /prefix'],
  ])('%s', (s, reason) => {
    const r = checkCidr(s);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(reason);
  });
});

describe('host names and host:port', () => {
  it.each(['localhost', 'flow.riskiq.net', 'es-1.example.com', 'a', 'xn--bcher-kva.example.'])('host %s', (s) =>
    expect(isHostname(s)).toBe(true),
  );
  it.each(['', '-a', 'a-', 'a..b', 'under_score', '1.2.3.4', '999.1.1.1', 'a'.repeat(64)])('not a host %j', (s) =>
    expect(isHostname(s)).toBe(false),
  );
  it.each(['localhost:9200', '10.0.0.1:1', '[::1]:65535', '[2001:db8::1]:9200', 'es.example.com:443'])('%s', (s) =>
    expect(checkHostPort(s)).toEqual({ ok: true }),
  );
  it.each(['localhost', 'localhost:', 'localhost:0', 'localhost:65536', '::1:9200', '[::1]', '[::1]:', '[nothex]:1', ':9200', 'a b:1'])(
    'not host:port %j',
    (s) => expect(checkHostPort(s).ok).toBe(false),
  );
});
