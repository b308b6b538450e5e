// SPDX-License-Identifier: Apache-2.0
/**
 * Threat DB lookups (DESIGN.md §5): exact and longest-prefix matches for IPv4 and IPv6, IPv4-mapped IPv6
 * looked up as IPv4, overlaps resolved to the most specific entry, junk never throwing, the listing of
 * entries, and the on-disk cache format. A brute-force reference written here (a loop over the entry
 * list with BigInt prefix compares) must agree with the DB on random addresses.
 */
import { isSharedArrayBuffer } from 'node:util/types';
import { buildThreatDb } from '../../../src/enrich/riskiq-threat/build';
import { deserializeThreatDb, serializeThreatDb, ThreatDb, ThreatDbFormatError } from '../../../src/enrich/riskiq-threat/lookup';
import type { ThreatDbData, ThreatEntry, ThreatMatch } from '../../../src/enrich/riskiq-threat/types';

const META = { fetchedAt: Date.UTC(2024, 5, 1), source: 'https://api.passivetotal.org/v2/netflow/blocklist/download' };

function e(cidr: string, tags: string[] = [], extra: Partial<ThreatEntry> = {}): ThreatEntry {
  const [address, len] = cidr.split('/');
  const family = address.includes(':') ? 6 : 4;
  return { address, prefixLength: len === undefined ? (family === 4 ? 32 : 128) : Number(len), family, tags, ...extra };
}

function db(entries: ThreatEntry[]): ThreatDb {
  return ThreatDb.fromData(buildThreatDb(entries, META));
}

/** indicator + tags of a lookup, or null: what most assertions compare. */
function hit(d: ThreatDb, ip: string): [string, readonly string[]] | null {
  const m = d.lookup(ip);
  return m === null ? null : [m.indicator, m.tags];
}

describe('exact and longest-prefix matches', () => {
  const nested = db([
    e('10.0.0.0/8', ['a']),
    e('10.1.0.0/16', ['b']),
    e('10.1.2.0/24', ['c']),
    e('10.1.2.3', ['d']),
    e('10.1.2.3/32', ['d2']), // the same host again: merged
    e('192.0.2.0/31', ['shadowed']), // fully covered by the two hosts below
    e('192.0.2.0', ['h0']),
    e('192.0.2.1', ['h1']),
    e('0.0.0.0', ['zero']),
    e('255.255.255.255', ['top']),
  ]);

  test.each([
    ['10.1.2.3', '10.1.2.3', ['d', 'd2']],
    ['10.1.2.2', '10.1.2.0/24', ['c']],
    ['10.1.2.4', '10.1.2.0/24', ['c']],
    ['10.1.2.0', '10.1.2.0/24', ['c']],
    ['10.1.2.255', '10.1.2.0/24', ['c']],
    ['10.1.1.255', '10.1.0.0/16', ['b']],
    ['10.1.3.0', '10.1.0.0/16', ['b']],
    ['10.1.0.0', '10.1.0.0/16', ['b']],
    ['10.0.0.0', '10.0.0.0/8', ['a']],
    ['10.2.0.0', '10.0.0.0/8', ['a']],
    ['10.255.255.255', '10.0.0.0/8', ['a']],
    ['192.0.2.0', '192.0.2.0', ['h0']],
    ['192.0.2.1', '192.0.2.1', ['h1']],
    ['0.0.0.0', '0.0.0.0', ['zero']],
    ['255.255.255.255', '255.255.255.255', ['top']],
  ])('%s → %s', (ip, indicator, tags) => {
    expect(hit(nested, ip)).toEqual([indicator, tags]);
  });

  test.each(['9.255.255.255', '11.0.0.0', '192.0.2.2', '191.255.255.255', '0.0.0.1', '255.255.255.254', '8.8.8.8'])('%s is not listed', (ip) => {
    expect(nested.lookup(ip)).toBeNull();
  });

  test('a default route matches everything, a more specific entry wins', () => {
    const d = db([e('0.0.0.0/0', ['any']), e('8.8.8.0/24', ['dns']), e('::/0', ['any6']), e('2001:4860::/32', ['g'])]);
    expect(hit(d, '1.2.3.4')).toEqual(['0.0.0.0/0', ['any']]);
    expect(hit(d, '8.8.8.8')).toEqual(['8.8.8.0/24', ['dns']]);
    expect(hit(d, '255.255.255.255')).toEqual(['0.0.0.0/0', ['any']]);
    expect(hit(d, '::')).toEqual(['::/0', ['any6']]);
    expect(hit(d, 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')).toEqual(['::/0', ['any6']]);
    expect(hit(d, '2001:4860:4860::8888')).toEqual(['2001:4860::/32', ['g']]);
  });

  test('the match carries tags, dates and confidence; duplicates are merged', () => {
    const d = db([
      e('198.51.100.7', ['malware'], { firstSeen: 2000e3, lastSeen: 3000e3, confidence: '90' }),
      e('198.51.100.7', ['c2', 'malware'], { firstSeen: 1000e3, lastSeen: 2500e3, confidence: '10' }),
      e('198.51.100.0/24', ['net'], { lastSeen: 1234 }), // sub-second: kept exactly
    ]);
    const m: ThreatMatch | null = d.lookup('198.51.100.7');
    expect(m).toEqual({ indicator: '198.51.100.7', prefixLength: 32, tags: ['malware', 'c2'], firstSeen: 1000e3, lastSeen: 3000e3, confidence: '90' });
    expect(d.lookup('198.51.100.8')).toEqual({ indicator: '198.51.100.0/24', prefixLength: 24, tags: ['net'], lastSeen: 1234 });
    expect(d.info).toMatchObject({ entries: 2, ipv4Entries: 2, ipv6Entries: 0, byPrefix: { 'v4/32': 1, 'v4/24': 1 }, ...META });
  });

  test('overlapping CIDRs with different tags resolve to the most specific, also when they start together', () => {
    const d = db([e('203.0.113.0/26', ['small']), e('203.0.113.0/24', ['big']), e('203.0.113.0/25', ['mid']), e('203.0.113.64/26', ['small2'])]);
    expect(hit(d, '203.0.113.0')).toEqual(['203.0.113.0/26', ['small']]);
    expect(hit(d, '203.0.113.63')).toEqual(['203.0.113.0/26', ['small']]);
    expect(hit(d, '203.0.113.64')).toEqual(['203.0.113.64/26', ['small2']]);
    expect(hit(d, '203.0.113.127')).toEqual(['203.0.113.64/26', ['small2']]);
    expect(hit(d, '203.0.113.128')).toEqual(['203.0.113.0/24', ['big']]);
    // /25 is covered by the two /26s: shadowed, but still listed.
    expect(hit(d, '203.0.113.100')).not.toEqual(['203.0.113.0/25', ['mid']]);
    expect([...d.entries()].map((x) => `${x.address}/${x.prefixLength}`).sort()).toEqual(['203.0.113.0/24', '203.0.113.0/25', '203.0.113.0/26', '203.0.113.64/26']);
  });
});

describe('IPv6 and IPv4-mapped IPv6', () => {
  const d = db([
    e('2001:db8::/32', ['doc']),
    e('2001:db8:1::/48', ['site']),
    e('2001:db8:1::1', ['host']),
    e('2001:db8:1:0:8000::/65', ['half']),
    e('198.51.100.0/24', ['v4net']),
    e('::ffff:203.0.113.5', ['mapped-listed']),
  ]);

  test.each([
    ['2001:db8:1::1', '2001:db8:1::1', ['host']],
    ['2001:DB8:1:0:0:0:0:1', '2001:db8:1::1', ['host']],
    ['2001:db8:1::2', '2001:db8:1::/48', ['site']],
    ['2001:db8:1:0:8000::1', '2001:db8:1:0:8000::/65', ['half']],
    ['2001:db8:1:0:7fff:ffff:ffff:ffff', '2001:db8:1::/48', ['site']],
    ['2001:db8:1:0:ffff:ffff:ffff:ffff', '2001:db8:1:0:8000::/65', ['half']],
    ['2001:db8:1:1::', '2001:db8:1::/48', ['site']],
    ['2001:db8:2::', '2001:db8::/32', ['doc']],
    ['2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', '2001:db8::/32', ['doc']],
  ])('%s → %s', (ip, indicator, tags) => {
    expect(hit(d, ip)).toEqual([indicator, tags]);
  });

  test.each(['2001:db7:ffff:ffff:ffff:ffff:ffff:ffff', '2001:db9::', '::1', '::', 'fe80::1'])('%s is not listed', (ip) => {
    expect(d.lookup(ip)).toBeNull();
  });

  test('IPv4-mapped addresses are looked up as IPv4, text and bytes', () => {
    expect(hit(d, '::ffff:198.51.100.9')).toEqual(['198.51.100.0/24', ['v4net']]);
    expect(hit(d, '::FFFF:c633:6409')).toEqual(['198.51.100.0/24', ['v4net']]);
    expect(hit(d, '203.0.113.5')).toEqual(['203.0.113.5', ['mapped-listed']]);
    expect(hit(d, '::ffff:203.0.113.5')).toEqual(['203.0.113.5', ['mapped-listed']]);
    const bytes = new Uint8Array(20);
    bytes.set([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 1], 4);
    expect(d.lookupV6(bytes, 4)?.indicator).toBe('198.51.100.0/24');
    expect(d.lookupV4(((198 << 24) | (51 << 16) | (100 << 8) | 1) >>> 0)?.indicator).toBe('198.51.100.0/24');
  });

  test('a zone suffix is ignored when looking up (the address is the same)', () => {
    expect(hit(d, '2001:db8:1::1%eth0')).toEqual(['2001:db8:1::1', ['host']]);
  });
});

describe('junk input returns null, never throws', () => {
  const d = db([e('0.0.0.0/0', ['any']), e('::/0', ['any6'])]);
  test.each(['', ' ', 'abc', '1.2.3', '1.2.3.4.5', '1.2.3.4/32', '256.1.1.1', '1.2.3.4 ', ':::', '1::2::3', 'g::1', '2001:db8::/32', 'x'.repeat(1000)])('lookup(%j)', (ip) => {
    expect(d.lookup(ip)).toBeNull();
  });

  test('non-strings and out-of-range numbers', () => {
    for (const v of [undefined, null, 42, {}, [], Symbol('x')]) expect(d.lookup(v as unknown as string)).toBeNull();
    for (const n of [-1, 2 ** 32, 1.5, NaN, Infinity]) {
      expect(d.lookupV4(n)).toBeNull();
      expect(d.findV4(n)).toBe(-1);
    }
    expect(d.lookupV6(new Uint8Array(15))).toBeNull();
    expect(d.lookupV6(new Uint8Array(16), 1)).toBeNull();
    expect(d.lookupV6(new Uint8Array(16), -1)).toBeNull();
  });

  test('an empty DB answers null to everything', () => {
    const empty = db([]);
    expect(empty.info).toMatchObject({ entries: 0, ipv4Entries: 0, ipv6Entries: 0, byPrefix: {} });
    for (const ip of ['0.0.0.0', '255.255.255.255', '::', '::ffff:1.2.3.4', '2001:db8::1']) expect(empty.lookup(ip)).toBeNull();
    expect([...empty.entries()]).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Brute-force reference

/** mulberry32: the test's own seeded generator. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface RefEntry {
  bits: number;
  net: bigint;
  mask: bigint;
  len: number;
  indicator: string;
  tags: string[];
}

function toBig(address: string): { bits: number; value: bigint } {
  if (!address.includes(':')) return { bits: 32, value: BigInt(address.split('.').reduce((a, o) => a * 256 + Number(o), 0)) };
  const [head, tail] = address.split('::');
  const groups = (s: string | undefined): string[] => (s === undefined || s === '' ? [] : s.split(':'));
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const all = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return { bits: 128, value: all.reduce((a, g) => (a << 16n) | BigInt(parseInt(g, 16)), 0n) };
}

function bigToText(bits: number, v: bigint): string {
  if (bits === 32) return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 255n)).join('.');
  const g: string[] = [];
  for (let i = 7; i >= 0; i--) g.push(((v >> BigInt(i * 16)) & 0xffffn).toString(16));
  return g.join(':'); // uncompressed: the DB must read every text form
}

/** The reference: every entry's prefix compared with BigInt, the longest match wins. */
function reference(entries: RefEntry[], bits: number, q: bigint): RefEntry | null {
  let best: RefEntry | null = null;
  for (const r of entries) {
    if (r.bits === bits && (q & r.mask) === r.net && (best === null || r.len > best.len)) best = r;
  }
  return best;
}

describe('agrees with a brute-force reference on random addresses', () => {
  const rnd = prng(20240601);
  const rand32 = (): bigint => BigInt(Math.floor(rnd() * 2 ** 32));
  const randBits = (bits: number): bigint => (bits === 32 ? rand32() : (rand32() << 96n) | (rand32() << 64n) | (rand32() << 32n) | rand32());
  const TAGS = ['malware', 'c2', 'scanner', 'spam', 'botnet', 'phishing'];
  const entries: ThreatEntry[] = [];
  const ref: RefEntry[] = [];
  const seen = new Set<string>();
  function add(bits: number, value: bigint, len: number): void {
    const mask = len === 0 ? 0n : ((1n << BigInt(len)) - 1n) << BigInt(bits - len);
    const net = value & mask;
    const text = bigToText(bits, net);
    const key = `${bits}/${net}/${len}`;
    if (seen.has(key)) return;
    seen.add(key);
    const tags = [TAGS[Math.floor(rnd() * TAGS.length)], `t${entries.length}`];
    // Expected indicator text, independently: the WHATWG URL host serializer compresses IPv6 per RFC 5952.
    const host = bits === 32 ? text : new URL(`http://[${text}]/`).hostname.slice(1, -1);
    entries.push(e(`${text}/${len}`, tags));
    ref.push({ bits, net, mask, len, indicator: len === bits ? host : `${host}/${len}`, tags });
  }
  // IPv4 /8.../32 and IPv6 /16.../128, half of them nested inside earlier ones so overlaps are common.
  for (const [bits, minLen, count] of [
    [32, 8, 500],
    [128, 16, 500],
  ] as const) {
    const start = ref.length;
    for (let i = 0; i < count; i++) {
      const len = minLen + Math.floor(rnd() * (bits - minLen + 1));
      let v = randBits(bits);
      if (i > 20 && rnd() < 0.5) {
        const parent = ref[start + Math.floor(rnd() * (ref.length - start))];
        v = parent.net | (v & ~parent.mask & ((1n << BigInt(bits)) - 1n));
      }
      add(bits, v, Math.max(len, 0));
    }
  }
  const d = db(entries);

  /** Queries: inside a random entry, at its edges and just outside, and uniformly random. */
  function queries(bits: number, n: number): bigint[] {
    const pool = ref.filter((r) => r.bits === bits);
    const max = (1n << BigInt(bits)) - 1n;
    const out: bigint[] = [];
    for (let i = 0; i < n; i++) {
      const r = pool[Math.floor(rnd() * pool.length)];
      const end = r.net | (~r.mask & max);
      const pick = rnd();
      let q: bigint;
      if (pick < 0.45) q = r.net | (randBits(bits) & ~r.mask & max);
      else if (pick < 0.55) q = r.net;
      else if (pick < 0.65) q = end;
      else if (pick < 0.7) q = r.net === 0n ? 0n : r.net - 1n;
      else if (pick < 0.75) q = end === max ? max : end + 1n;
      else q = randBits(bits);
      out.push(q);
    }
    return out;
  }

  function check(bits: number, qs: bigint[]): number {
    let hits = 0;
    let mismatches = 0;
    const bytes = new Uint8Array(16);
    for (const q of qs) {
      const want = reference(ref, bits, q);
      const text = bigToText(bits, q);
      const got = d.lookup(text);
      if (want !== null) hits++;
      const ok = want === null ? got === null : got !== null && got.indicator === want.indicator && got.prefixLength === want.len && got.tags.join() === want.tags.join();
      // The fast paths agree with the text path.
      let fast: ThreatMatch | null;
      if (bits === 32) fast = d.lookupV4(Number(q));
      else {
        for (let i = 0; i < 16; i++) bytes[i] = Number((q >> BigInt(120 - 8 * i)) & 0xffn);
        fast = d.lookupV6(bytes, 0);
      }
      if (!ok || fast !== got) {
        mismatches++;
        if (mismatches <= 5) {
          // Surface the first few disagreements readably.
          expect({ query: text, got: got && [got.indicator, got.tags], want: want && [want.indicator, want.tags], fastAgrees: fast === got }).toEqual({
            query: text,
            got: want && [want.indicator, want.tags],
            want: want && [want.indicator, want.tags],
            fastAgrees: true,
          });
        }
      }
    }
    expect(mismatches).toBe(0);
    return hits;
  }

  test('the reference entries are what the DB lists', () => {
    expect(d.info.entries).toBe(ref.length);
    const listed = new Set([...d.entries()].map((x) => `${x.address}/${x.prefixLength}`));
    for (const r of ref) expect(listed.has(r.indicator.includes('/') ? r.indicator : `${r.indicator}/${r.len}`)).toBe(true);
  });

  test('IPv4: 60,000 addresses', () => {
    const hits = check(32, queries(32, 60_000));
    expect(hits).toBeGreaterThan(30_000); // the queries do exercise matches
  });

  test('IPv6: 60,000 addresses', () => {
    const hits = check(128, queries(128, 60_000));
    expect(hits).toBeGreaterThan(30_000);
  });

  test('IPv4-mapped forms of 5,000 IPv4 addresses give the IPv4 answers', () => {
    for (const q of queries(32, 5000)) {
      const v4 = bigToText(32, q);
      expect(d.lookup(`::ffff:${v4}`)).toBe(d.lookup(v4));
    }
  });

  test('persistence round trip answers the same', () => {
    const data = buildThreatDb(entries, META);
    const back = deserializeThreatDb(serializeThreatDb(data));
    expect(back.info).toEqual(data.info);
    expect(back.payloads).toEqual(data.payloads);
    expect(Object.keys(back.tables).sort()).toEqual(Object.keys(data.tables).sort());
    for (const [name, t] of Object.entries(data.tables)) {
      expect(isSharedArrayBuffer(back.tables[name])).toBe(true);
      expect(Buffer.from(back.tables[name]).equals(Buffer.from(t))).toBe(true);
    }
    const d2 = ThreatDb.fromData(back);
    for (const q of queries(32, 2000)) expect(d2.lookup(bigToText(32, q))).toEqual(d.lookup(bigToText(32, q)));
    for (const q of queries(128, 2000)) expect(d2.lookup(bigToText(128, q))).toEqual(d.lookup(bigToText(128, q)));
  });
});

describe('entries()', () => {
  test('lists every entry once, merged, with its data, including shadowed ones', () => {
    const input = [
      e('10.0.0.0/8', ['a'], { firstSeen: 1000, confidence: 'low' }),
      e('10.1.2.3', ['d']),
      e('10.1.2.3', ['e'], { lastSeen: 5000 }),
      e('192.0.2.0/31', ['shadow']),
      e('192.0.2.0', ['h0']),
      e('192.0.2.1', ['h1']),
      e('2001:db8::/32', ['v6'], { lastSeen: 7000 }),
      e('2001:db8::1', ['v6h']),
    ];
    const listed = [...db(input).entries()].sort((a, b) => `${a.address}/${a.prefixLength}`.localeCompare(`${b.address}/${b.prefixLength}`));
    expect(listed).toEqual([
      e('10.0.0.0/8', ['a'], { firstSeen: 1000, confidence: 'low' }),
      e('10.1.2.3', ['d', 'e'], { lastSeen: 5000 }),
      e('192.0.2.0/31', ['shadow']),
      e('192.0.2.0', ['h0']),
      e('192.0.2.1', ['h1']),
      e('2001:db8::/32', ['v6'], { lastSeen: 7000 }),
      e('2001:db8::1', ['v6h']),
    ]);
  });
});

describe('on-disk cache format', () => {
  const data = buildThreatDb([e('198.51.100.0/24', ['x'], { firstSeen: 1e12 }), e('2001:db8::/48', ['y'], { confidence: '7' })], META);
  const file = serializeThreatDb(data);

  test('round trip of a small DB', () => {
    const d = ThreatDb.fromData(deserializeThreatDb(Buffer.from(file)));
    expect(d.lookup('198.51.100.1')).toEqual({ indicator: '198.51.100.0/24', prefixLength: 24, tags: ['x'], firstSeen: 1e12 });
    expect(d.lookup('2001:db8:0:1::')).toEqual({ indicator: '2001:db8::/48', prefixLength: 48, tags: ['y'], confidence: '7' });
    expect(d.info).toEqual(data.info);
  });

  test.each([
    ['a flipped byte in a table', (b: Buffer) => (b[b.length - 20] ^= 1), /checksum mismatch/],
    ['a flipped byte in the header', (b: Buffer) => (b[20] ^= 1), /checksum mismatch/],
    ['truncation', (b: Buffer) => b.subarray(0, b.length - 9), /checksum mismatch/],
    ['another magic', (b: Buffer) => b.write('NOTADBXX', 0, 'latin1'), /not a threatflow threat DB file/],
    ['another version', (b: Buffer) => b.writeUInt32LE(99, 8), /format version 99, this build reads 1/],
    ['an empty file', () => Buffer.alloc(0), /file too short/],
  ])('rejects %s with a clear error', (_name, damage, message) => {
    const b = Buffer.from(file);
    const out = damage(b);
    const target = Buffer.isBuffer(out) ? out : b;
    expect(() => deserializeThreatDb(target)).toThrow(ThreatDbFormatError);
    expect(() => deserializeThreatDb(target)).toThrow(message);
  });

  test('rejects well-checksummed files whose tables do not fit together', () => {
    // Rewrite the header with a table size that disagrees with the meta table, and a fresh checksum.
    const hlen = file.readUInt32LE(12);
    const header = JSON.parse(file.toString('utf8', 16, 16 + hlen)) as { tables: Array<[string, number]> };
    const forged: ThreatDbData = deserializeThreatDb(Buffer.from(file));
    forged.tables.v4Len = new SharedArrayBuffer(forged.tables.v4Len.byteLength + 8);
    expect(header.tables.length).toBeGreaterThan(5);
    expect(() => serializeThreatDb(forged)).toThrow(/v4 tables inconsistent: prefix table size/);
    // A payload id beyond the payload table, checksummed correctly, is refused by the loader.
    const d = deserializeThreatDb(Buffer.from(file));
    new Uint16Array(d.tables.v4Pid)[0] = 9;
    expect(() => deserializeThreatDb(serializeThreatDb(d))).toThrow(/payload id out of range/);
    // A payload text that is not a payload.
    const p = deserializeThreatDb(Buffer.from(file));
    new Uint8Array(p.tables.payloadText)[0] = 0x7b; // '{'
    expect(() => deserializeThreatDb(serializeThreatDb(p))).toThrow(/payload 0 is not a payload/);
    // Unsorted segments.
    const two = buildThreatDb([e('198.51.100.0/24'), e('203.0.113.0/24')], META);
    const k = new Uint32Array(two.tables.v4Start);
    [k[0], k[1]] = [k[1], k[0]];
    expect(() => deserializeThreatDb(serializeThreatDb(two))).toThrow(/segments not sorted/);
  });

  test('a DB posted to a worker (structured clone) still works', () => {
    const cloned = structuredClone(data);
    expect(isSharedArrayBuffer(cloned.tables.v4Start)).toBe(true);
    expect(ThreatDb.fromData(cloned).lookup('198.51.100.200')?.indicator).toBe('198.51.100.0/24');
  });
});
