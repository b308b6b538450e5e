// SPDX-License-Identifier: Apache-2.0
/**
 * The blocklist parser (DESIGN.md §5): every accepted format, plain and gzip, yields the same entries from
 * one canonical list written once below; malformed entries are counted and skipped; addresses in every
 * text form; dates in every accepted form; bodies that are not blocklists are rejected as a whole.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { BlocklistParseError, formatIPv6, parseBlocklist } from '../../../src/enrich/riskiq-threat/parse';
import type { ThreatEntry } from '../../../src/enrich/riskiq-threat/types';

const FIXTURES = join(__dirname, '..', '..', 'fixtures', 'riskiq');

/** The canonical list: what every format below must load. */
const CANON: ThreatEntry[] = [
  { address: '198.51.100.7', prefixLength: 32, family: 4, tags: ['malware', 'c2'], firstSeen: Date.UTC(2024, 0, 2, 3, 4, 5), lastSeen: Date.UTC(2024, 4, 1), confidence: '90' },
  { address: '203.0.113.0', prefixLength: 24, family: 4, tags: ['scanner'], firstSeen: Date.UTC(2023, 11, 31, 23, 59, 59), confidence: 'high' },
  { address: '192.0.2.128', prefixLength: 25, family: 4, tags: [], lastSeen: 1700000000123 },
  { address: '2001:db8:abcd::', prefixLength: 48, family: 6, tags: ['botnet', 'tor-exit'], firstSeen: Date.UTC(2024, 1, 29) },
  { address: '2001:db8::1', prefixLength: 128, family: 6, tags: ['phishing'], confidence: '5' },
  { address: '100.64.0.1', prefixLength: 32, family: 4, tags: [] },
];

/** Indicator text as a feed would list it: a bare host or network/len. */
function indicator(e: ThreatEntry): string {
  return e.prefixLength === (e.family === 4 ? 32 : 128) ? e.address : `${e.address}/${e.prefixLength}`;
}

/** Each entry's dates in a different accepted form, so every form is exercised and must give the same ms. */
function dateText(ms: number | undefined, row: number): string {
  if (ms === undefined) return '';
  const iso = new Date(ms).toISOString();
  switch (row % 4) {
    case 0:
      return iso.endsWith('.000Z') ? iso.replace('.000Z', 'Z') : iso; // 2024-01-02T03:04:05Z
    case 1:
      return ms % 1000 === 0 ? `${iso.slice(0, 10)} ${iso.slice(11, 19)}` : iso; // YYYY-MM-DD HH:MM:SS, UTC
    case 2:
      return ms % 1000 === 0 ? String(ms / 1000) : String(ms); // epoch seconds (or ms)
    default:
      return String(ms); // epoch ms
  }
}

function asObject(e: ThreatEntry, row: number): Record<string, unknown> {
  const o: Record<string, unknown> = { ip: indicator(e), tags: e.tags };
  if (e.firstSeen !== undefined) o.first_seen = dateText(e.firstSeen, row);
  if (e.lastSeen !== undefined) o.lastSeen = dateText(e.lastSeen, row + 1);
  if (e.confidence !== undefined) o.confidence = e.confidence;
  return o;
}

const FORMATS: Record<string, { body: string; format: string; addressesOnly?: boolean }> = {
  'JSON array of objects': { body: JSON.stringify(CANON.map(asObject)), format: 'json-array' },
  'JSON array of strings': { body: JSON.stringify(CANON.map(indicator)), format: 'json-array', addressesOnly: true },
  ...Object.fromEntries(
    ['results', 'blocklist', 'data', 'items', 'entries'].map((key) => [
      `JSON object under "${key}"`,
      { body: JSON.stringify({ count: CANON.length, [key]: CANON.map(asObject) }), format: 'json-object' },
    ]),
  ),
  'JSON object under "Results" (key case)': { body: JSON.stringify({ Results: CANON.map(asObject) }), format: 'json-object' },
  'JSON object under its only array-valued key': { body: JSON.stringify({ success: true, total: 6, indicators: CANON.map(asObject) }), format: 'json-object' },
  'JSON object nested under data.results': { body: JSON.stringify({ data: { page: 1, results: CANON.map(asObject) } }), format: 'json-object' },
  NDJSON: { body: CANON.map((e, i) => JSON.stringify(asObject(e, i))).join('\n') + '\n', format: 'ndjson' },
  CSV: {
    body:
      'ip,tags,first_seen,last_seen,confidence\n' +
      CANON.map((e, i) => `${indicator(e)},"${e.tags.join(';')}",${dateText(e.firstSeen, i)},${dateText(e.lastSeen, i + 1)},${e.confidence ?? ''}`).join('\n'),
    format: 'csv',
  },
  'CSV, other names, CRLF, BOM, tabs, comments': {
    body:
      '\ufeff# PassiveTotal blocklist\r\n' +
      'Indicator\tClassification\tFirst Seen\tlastSeen\tScore\tfeed\r\n' +
      CANON.map((e, i) => `${indicator(e)}\t${e.tags.join('|')}\t${dateText(e.firstSeen, i + 2)}\t${dateText(e.lastSeen, i + 3)}\t${e.confidence ?? ''}\tpt`).join('\r\n\r\n'),
    format: 'csv',
  },
  'plain text': { body: `# blocklist\n\n${CANON.map((e, i) => (i % 2 === 0 ? indicator(e) : `  ${indicator(e)}  # listed`)).join('\n')}\n`, format: 'text', addressesOnly: true },
};

const ADDRESSES = CANON.map((e) => ({ address: e.address, prefixLength: e.prefixLength, family: e.family, tags: [] as string[] }));

describe('every accepted format loads the same entries', () => {
  for (const [name, { body, format, addressesOnly }] of Object.entries(FORMATS)) {
    for (const gzip of [false, true]) {
      test(`${name}${gzip ? ', gzip' : ''}`, () => {
        const r = parseBlocklist(gzip ? gzipSync(body) : Buffer.from(body));
        expect(r.format).toBe(format);
        expect(r.compressed).toBe(gzip);
        expect(r.malformed).toBe(0);
        expect(r.invalidFields).toBe(0);
        expect(r.entries).toEqual(addressesOnly ? ADDRESSES : CANON);
      });
    }
  }

  test('a string body parses like the same bytes', () => {
    expect(parseBlocklist(FORMATS.CSV.body)).toEqual(parseBlocklist(Buffer.from(FORMATS.CSV.body)));
  });
});

describe('malformed entries are counted and skipped', () => {
  const bad = ['999.1.1.1', '1.2.3', '1.2.3.4.5', '1.2.3.4/33', '1.2.3.4/', '1.2.3.4/x', '2001:db8::/129', '2001:db8:::1', 'fe80::1%eth0', 'hello', '01.2.3.4.', '1.2.3.4 5.6.7.8'];

  test('plain text', () => {
    const r = parseBlocklist(['8.8.8.8', ...bad, '2001:4860::8888'].join('\n'));
    expect(r.format).toBe('text');
    expect(r.malformed).toBe(bad.length);
    expect(r.entries.map(indicator)).toEqual(['8.8.8.8', '2001:4860::8888']);
  });

  test('CSV: bad addresses and rows without the address column', () => {
    const r = parseBlocklist(['ip,tags', '8.8.8.8,dns', ...bad.map((b) => `${b},x`), ',empty', '"",quoted empty', 'lonely', '1.1.1.1,ok'].join('\n'));
    expect(r.format).toBe('csv');
    // "lonely" has an address column (the first) that is not an address.
    expect(r.malformed).toBe(bad.length + 3);
    expect(r.entries.map(indicator)).toEqual(['8.8.8.8', '1.1.1.1']);
  });

  test('JSON: entries of the wrong type or without an address', () => {
    const r = parseBlocklist(JSON.stringify(['8.8.8.8', 42, null, true, ['1.1.1.1'], { tags: ['x'] }, { ip: 5 }, { ip: 'nope' }, ...bad, { address: '9.9.9.9' }]));
    expect(r.malformed).toBe(7 + bad.length);
    expect(r.entries.map(indicator)).toEqual(['8.8.8.8', '9.9.9.9']);
  });

  test('NDJSON: a broken line is one malformed entry', () => {
    const r = parseBlocklist('{"ip":"8.8.8.8"}\n{"ip": "1.1.1.1"\n{"ip":"9.9.9.9","tags":"a;b"}\n');
    expect(r.format).toBe('ndjson');
    expect(r.malformed).toBe(1);
    expect(r.entries.map((e) => [indicator(e), e.tags])).toEqual([
      ['8.8.8.8', []],
      ['9.9.9.9', ['a', 'b']],
    ]);
  });

  test('a date that does not parse leaves the field out and keeps the entry', () => {
    const r = parseBlocklist('ip,first_seen,last_seen\n1.1.1.1,yesterday,2024-02-30\n2.2.2.2,2024-13-01,2024-01-01T25:00:00Z\n3.3.3.3,2023-02-29,1700000000\n');
    expect(r.malformed).toBe(0);
    expect(r.invalidFields).toBe(3);
    expect(r.entries).toEqual([
      { address: '1.1.1.1', prefixLength: 32, family: 4, tags: [] },
      { address: '2.2.2.2', prefixLength: 32, family: 4, tags: [] },
      { address: '3.3.3.3', prefixLength: 32, family: 4, tags: [], lastSeen: 1700000000000 },
    ]);
  });
});

describe('addresses', () => {
  const one = (text: string): ThreatEntry => {
    const r = parseBlocklist(text);
    expect(r.malformed).toBe(0);
    expect(r.entries).toHaveLength(1);
    return r.entries[0];
  };

  test.each([
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1', 128],
    ['2001:DB8::1', '2001:db8::1', 128],
    ['2001:db8:0:0:0:0:0:1', '2001:db8::1', 128],
    ['2001:db8::0.0.0.1', '2001:db8::1', 128],
    ['::', '::', 128],
    ['::/0', '::', 0],
    ['::1', '::1', 128],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1', 128],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1', 128],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221', 128],
    ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 128],
    ['2001:db8:1::/48', '2001:db8:1::', 48],
  ])('IPv6 %s', (text, address, len) => {
    expect(one(text)).toMatchObject({ address, prefixLength: len, family: 6 });
  });

  test.each([
    ['::ffff:192.0.2.1', '192.0.2.1', 32],
    ['::FFFF:c000:0201', '192.0.2.1', 32],
    ['::ffff:192.0.2.0/120', '192.0.2.0', 24],
    ['0:0:0:0:0:ffff:10.1.2.3', '10.1.2.3', 32],
  ])('IPv4-mapped %s is the IPv4 entry', (text, address, len) => {
    expect(one(text)).toMatchObject({ address, prefixLength: len, family: 4 });
  });

  test('a mapped prefix shorter than /96 covers more than IPv4 and stays IPv6', () => {
    expect(one('::ffff:0:0/95')).toMatchObject({ address: '::fffe:0:0', prefixLength: 95, family: 6 });
  });

  test('host bits under the prefix are cleared, kept and counted', () => {
    const r = parseBlocklist('10.1.2.3/8\n10.0.0.0/8\n2001:db8::1/32\n192.0.2.1/32\n');
    expect(r.malformed).toBe(0);
    expect(r.hostBitsMasked).toBe(2);
    expect(r.entries.map(indicator)).toEqual(['10.0.0.0/8', '10.0.0.0/8', '2001:db8::/32', '192.0.2.1']);
  });

  test('RFC 5952 formatting', () => {
    expect(formatIPv6(0x20010db8, 0, 0, 1)).toBe('2001:db8::1');
    expect(formatIPv6(0x20010db8, 0, 0x00010000, 1)).toBe('2001:db8::1:0:0:1'); // first of equal runs
    expect(formatIPv6(0x20010db8, 0x00000001, 0, 1)).toBe('2001:db8:0:1::1'); // longest run wins
    expect(formatIPv6(0x20010db8, 0, 0x00010000, 0)).toBe('2001:db8:0:0:1::'); // longest run wins
    expect(formatIPv6(0x20010db8, 0x00010001, 0x00010001, 0x00010001)).toBe('2001:db8:1:1:1:1:1:1'); // one zero group is not shortened
    expect(formatIPv6(0, 0, 0, 0)).toBe('::');
  });
});

describe('dates and cells', () => {
  test.each([
    ['2024-05-01', Date.UTC(2024, 4, 1)],
    ['2024-05-01T10:20:30Z', Date.UTC(2024, 4, 1, 10, 20, 30)],
    ['2024-05-01T10:20:30.250Z', Date.UTC(2024, 4, 1, 10, 20, 30, 250)],
    ['2024-05-01T10:20:30+02:00', Date.UTC(2024, 4, 1, 8, 20, 30)],
    ['2024-05-01T10:20:30-0130', Date.UTC(2024, 4, 1, 11, 50, 30)],
    ['2024-05-01T10:20', Date.UTC(2024, 4, 1, 10, 20)],
    ['2024-05-01 10:20:30', Date.UTC(2024, 4, 1, 10, 20, 30)],
    ['2024-05-01 10:20:30 UTC', Date.UTC(2024, 4, 1, 10, 20, 30)],
    ['2024-02-29', Date.UTC(2024, 1, 29)],
    ['1714558830', 1714558830000],
    ['1714558830.5', 1714558830500],
    ['1714558830500', 1714558830500],
  ])('%s', (text, ms) => {
    const r = parseBlocklist(`ip,last_seen\n1.1.1.1,${text}\n`);
    expect(r.invalidFields).toBe(0);
    expect(r.entries[0].lastSeen).toBe(ms);
  });

  test('quoted cells: "" escapes, delimiters and newlines inside, several tag columns united', () => {
    const body = 'ip,category,tags,confidence\n"1.1.1.1","c2, botnet","say ""hi"";c2",x\n2.2.2.2,"multi\nline",,\n';
    const r = parseBlocklist(body);
    expect(r.malformed).toBe(0);
    expect(r.entries).toEqual([
      { address: '1.1.1.1', prefixLength: 32, family: 4, tags: ['c2', 'botnet', 'say "hi"'], confidence: 'x' },
      { address: '2.2.2.2', prefixLength: 32, family: 4, tags: ['multi\nline'] },
    ]);
  });

  test('JSON confidence as a number and tags as a string', () => {
    const r = parseBlocklist('[{"network":"10.0.0.0/8","category":"a | b","score":0.75,"firstSeen":1714558830}]');
    expect(r.entries).toEqual([{ address: '10.0.0.0', prefixLength: 8, family: 4, tags: ['a', 'b'], confidence: '0.75', firstSeen: 1714558830000 }]);
  });

  test('a JSON object lists its entry under "ip" before "cidr"', () => {
    const r = parseBlocklist('[{"cidr":"10.0.0.0/8","ip":"10.1.1.1"}]');
    expect(r.entries.map(indicator)).toEqual(['10.1.1.1']);
  });
});

describe('bodies that are not blocklists', () => {
  test('broken JSON document', () => {
    expect(() => parseBlocklist('[{"ip":"1.1.1.1"},')).toThrow(BlocklistParseError);
    expect(() => parseBlocklist('{"results": [')).toThrow(/invalid JSON body/);
  });

  test('JSON object without an entry array', () => {
    expect(() => parseBlocklist('{"a":[1],"b":[2]}')).toThrow(/JSON object without an entry array \(keys: a, b\)/);
  });

  test('a single JSON object that is an entry is one NDJSON line', () => {
    expect(parseBlocklist('{"ip":"1.1.1.1"}')).toMatchObject({ format: 'ndjson', entries: [{ address: '1.1.1.1' }] });
  });

  test('gzip: over the cap, corrupt, truncated', () => {
    const big = gzipSync(Buffer.alloc(64 * 1024, 0x31));
    expect(() => parseBlocklist(big, { maxInflatedBytes: 1024 })).toThrow(/inflates beyond the cap of 1024 bytes/);
    expect(parseBlocklist(gzipSync('1.1.1.1\n'), { maxInflatedBytes: 1024 }).entries).toHaveLength(1);
    const gz = gzipSync('1.1.1.1\n2.2.2.2\n'.repeat(1000));
    const corrupt = Buffer.from(gz);
    corrupt[20] ^= 0xff;
    expect(() => parseBlocklist(corrupt)).toThrow(BlocklistParseError);
    expect(() => parseBlocklist(gz.subarray(0, gz.length - 10))).toThrow(/invalid gzip body/);
  });

  test('empty and comment-only bodies have no entries', () => {
    expect(parseBlocklist('')).toMatchObject({ entries: [], malformed: 0, format: 'text' });
    expect(parseBlocklist('# nothing today\n\n')).toMatchObject({ entries: [], malformed: 0 });
    expect(parseBlocklist('ip,tags\n')).toMatchObject({ entries: [], malformed: 0, format: 'csv' });
  });
});

describe('sample blocklists (collector/test/fixtures/riskiq)', () => {
  test('sample.csv', () => {
    const r = parseBlocklist(readFileSync(join(FIXTURES, 'sample.csv')));
    expect(r).toMatchObject({ format: 'csv', malformed: 2, hostBitsMasked: 1 });
    expect(r.entries.map(indicator)).toEqual(['198.51.100.23', '203.0.113.0/24', '192.0.2.0/24', '2001:db8:bad::/48', '2001:db8:bad:1::66', '198.51.100.99']);
    expect(r.entries[0]).toEqual({
      address: '198.51.100.23',
      prefixLength: 32,
      family: 4,
      tags: ['malware', 'c2'],
      firstSeen: Date.UTC(2024, 2, 1, 8, 0, 0),
      lastSeen: Date.UTC(2024, 5, 30, 23, 15, 0),
      confidence: '85',
    });
  });

  test('sample.ndjson.gz and sample.txt name the same addresses as sample.csv', () => {
    const csv = parseBlocklist(readFileSync(join(FIXTURES, 'sample.csv'))).entries;
    const nd = parseBlocklist(readFileSync(join(FIXTURES, 'sample.ndjson.gz')));
    expect(nd).toMatchObject({ format: 'ndjson', compressed: true, malformed: 0 });
    expect(nd.entries).toEqual(csv);
    const txt = parseBlocklist(readFileSync(join(FIXTURES, 'sample.txt')));
    expect(txt.entries.map(indicator)).toEqual(csv.map(indicator));
  });
});
