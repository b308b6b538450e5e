// SPDX-License-Identifier: Apache-2.0
/**
 * The include/exclude file (`EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_THREAT_INCLEXCL_PATH`): an address is looked
 * up when there are no include lines or it matches one, and it matches no exclude line; bad lines are
 * errors naming the file and the line.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InclExclError, loadInclExcl, parseInclExcl } from '../../../src/enrich/riskiq-threat/inclexcl';

const FIXTURES = join(__dirname, '..', '..', 'fixtures', 'riskiq');

function write(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'threatflow-inclexcl-'));
  const file = join(dir, 'inclexcl.txt');
  writeFileSync(file, text);
  return file;
}

describe('semantics', () => {
  test('an empty file (or only comments) allows every address', () => {
    const f = parseInclExcl('# nothing\n\n   \n');
    expect(f).toMatchObject({ includes: 0, excludes: 0 });
    for (const ip of ['8.8.8.8', '2001:4860::8888', '::ffff:8.8.8.8']) expect(f.allows(ip)).toBe(true);
  });

  test('excludes only: everything but the excluded', () => {
    const f = parseInclExcl('!198.51.100.0/24\n!2001:db8::/32\n! 203.0.113.7\n');
    expect(f).toMatchObject({ includes: 0, excludes: 3 });
    expect(f.allows('8.8.8.8')).toBe(true);
    expect(f.allows('198.51.100.1')).toBe(false);
    expect(f.allows('198.51.101.1')).toBe(true);
    expect(f.allows('203.0.113.7')).toBe(false);
    expect(f.allows('203.0.113.8')).toBe(true);
    expect(f.allows('2001:db8::1')).toBe(false);
    expect(f.allows('2001:4860::1')).toBe(true);
  });

  test('includes: only what they name; exclude wins over include', () => {
    const f = loadInclExcl(join(FIXTURES, 'inclexcl-sample.txt'));
    expect(f).toMatchObject({ includes: 3, excludes: 2, path: join(FIXTURES, 'inclexcl-sample.txt') });
    expect(f.allows('198.51.100.1')).toBe(true);
    expect(f.allows('198.51.100.127')).toBe(true);
    expect(f.allows('198.51.100.128')).toBe(false); // excluded inside an include
    expect(f.allows('198.51.100.255')).toBe(false);
    expect(f.allows('198.51.101.0')).toBe(false); // not included
    expect(f.allows('203.0.113.9')).toBe(false);
    expect(f.allows('203.0.113.10')).toBe(true);
    expect(f.allows('203.0.113.20')).toBe(true);
    expect(f.allows('203.0.113.21')).toBe(false);
    expect(f.allows('2001:db8:bad::1')).toBe(true);
    expect(f.allows('2001:db8:bad:1::1')).toBe(false);
    expect(f.allows('2001:db8:bad:2::1')).toBe(true);
    expect(f.allows('2001:db8:bae::1')).toBe(false);
    expect(f.allows('8.8.8.8')).toBe(false);
  });

  test('include lines of one family mean the other family is not looked up at all', () => {
    const f = parseInclExcl('198.51.100.0/24\n');
    expect(f.allows('198.51.100.9')).toBe(true);
    expect(f.allows('2001:4860::8888')).toBe(false);
  });

  test('IPv4-mapped IPv6, in the file and in lookups, means the IPv4 address', () => {
    const f = parseInclExcl('::ffff:198.51.100.0/120\n!203.0.113.5\n');
    expect(f.allows('198.51.100.77')).toBe(true);
    expect(f.allows('::ffff:198.51.100.77')).toBe(true);
    expect(f.allows('::ffff:203.0.113.5')).toBe(false);
    const bytes = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 77]);
    expect(f.allowsV6(bytes)).toBe(true);
    expect(f.allowsV4(((198 << 24) | (51 << 16) | (100 << 8) | 77) >>> 0)).toBe(true);
  });

  test('ranges: inclusive, IPv4 and IPv6, spaces around the dash, overlapping lines merged', () => {
    const f = parseInclExcl('192.0.2.10-192.0.2.20\n192.0.2.15 - 192.0.2.30\n2001:db8::1-2001:db8::ff\n');
    expect([9, 10, 25, 30, 31].map((o) => f.allows(`192.0.2.${o}`))).toEqual([false, true, true, true, false]);
    expect(['2001:db8::', '2001:db8::1', '2001:db8::ff', '2001:db8::100'].map((ip) => f.allows(ip))).toEqual([false, true, true, false]);
  });

  test('host bits in a CIDR line are cleared; inline comments and CRLF are fine', () => {
    const f = parseInclExcl('198.51.100.77/24 # ours\r\n!198.51.100.77\r\n');
    expect(f.allows('198.51.100.1')).toBe(true);
    expect(f.allows('198.51.100.77')).toBe(false);
  });

  test('text that is not an address is never allowed', () => {
    const f = parseInclExcl('');
    for (const v of ['', 'nope', '1.2.3', '198.51.100.0/24', undefined, 7]) expect(f.allows(v as unknown as string)).toBe(false);
    expect(f.allowsV4(-1)).toBe(false);
    expect(f.allowsV6(new Uint8Array(4))).toBe(false);
  });
});

describe('errors name the file and the line', () => {
  test.each([
    ['198.51.100.0/24\nnot-an-ip\n', 2, /invalid entry "not-an-ip": not an IP address, CIDR or range/],
    ['# c\n\n198.51.100.0/33\n', 3, /invalid entry "198.51.100.0\/33"/],
    ['!\n', 1, /"!" without an address/],
    ['192.0.2.20-192.0.2.10\n', 1, /range start is after its end/],
    ['192.0.2.1-2001:db8::1\n', 1, /range ends of different address families/],
    ['192.0.2.0/24-192.0.2.255\n', 1, /a range is two addresses, not CIDRs/],
    ['192.0.2.1-192.0.2\n', 1, /range end "192.0.2" is not an IP address/],
    ['1.1.1.1\n2.2.2.2\n!fe80::1%eth0\n', 3, /invalid entry "fe80::1%eth0"/],
  ])('%j → line %i', (text, line, message) => {
    const file = write(text);
    let err: unknown;
    try {
      loadInclExcl(file);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InclExclError);
    expect(err).toMatchObject({ file, line });
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message.startsWith(`${file}:${line}: `)).toBe(true);
  });

  test('an unreadable file', () => {
    const missing = join(tmpdir(), 'threatflow-no-such-dir', 'inclexcl.txt');
    expect(() => loadInclExcl(missing)).toThrow(InclExclError);
    expect(() => loadInclExcl(missing)).toThrow(`${missing}: cannot read the include/exclude file: ENOENT`);
  });
});
