// SPDX-License-Identifier: Apache-2.0
/**
 * The threat DB builder: the layout it writes (sizes per entry, date and payload-id widths, shared
 * buffers), and the worker-thread build giving byte-for-byte the DB the in-thread build gives.
 */
import { isSharedArrayBuffer } from 'node:util/types';
import { gzipSync } from 'node:zlib';
import { buildThreatDb } from '../../../src/enrich/riskiq-threat/build';
import { buildInWorker } from '../../../src/enrich/riskiq-threat/build-worker';
import { ThreatDb, validateThreatDb } from '../../../src/enrich/riskiq-threat/lookup';
import { BlocklistParseError, parseBlocklist } from '../../../src/enrich/riskiq-threat/parse';
import type { ThreatDbData, ThreatEntry } from '../../../src/enrich/riskiq-threat/types';

const META = { fetchedAt: 1717200000000, source: 'https://api.passivetotal.org/v2/netflow/blocklist/download' };

/** A seeded body of `n` CSV lines mixing IPv4 /16../32 and IPv6, tags, dates and confidence. */
function body(n: number, seed = 7): string {
  let s = seed;
  const rnd = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 4294967296;
  };
  const lines = ['ip,tags,first_seen,last_seen,confidence'];
  for (let i = 0; i < n; i++) {
    const r = rnd();
    const a = Math.floor(rnd() * 2 ** 32);
    const v4 = `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
    const ip =
      r < 0.7 ? v4 : r < 0.8 ? `${v4}/24` : r < 0.85 ? `${v4}/16` : r < 0.95 ? `2001:db8:${(a >>> 16).toString(16)}::${(a & 0xffff).toString(16)}` : `2001:db8:${(a >>> 20).toString(16)}::/48`;
    const tags = ['malware', 'c2', 'scanner', 'botnet;c2'][i % 4];
    const first = i % 3 === 0 ? '' : `2024-0${1 + (i % 9)}-1${i % 10}T0${i % 10}:00:00Z`;
    const last = i % 5 === 0 ? '' : String(1717200000 + i);
    lines.push(`${ip},"${tags}",${first},${last},${i % 101}`);
  }
  return lines.join('\n');
}

/** Table name → whether its bytes equal the other DB's (Buffer.equals: jest's deep equality is slow on big buffers). */
function sameTables(a: ThreatDbData, b: ThreatDbData): Record<string, boolean> {
  return Object.fromEntries(Object.keys(a.tables).map((k) => [k, b.tables[k] !== undefined && Buffer.from(a.tables[k]).equals(Buffer.from(b.tables[k]))]));
}

describe('build in a worker thread', () => {
  const text = body(20_000);

  test.each([
    ['CSV', () => Buffer.from(text)],
    ['gzip CSV', () => gzipSync(text)],
  ])('%s: the same DB as in-thread', async (_name, make) => {
    const inThread = buildThreatDb(parseBlocklist(make()).entries, META);
    const viaWorker = await buildInWorker(make(), META);
    expect(viaWorker.format).toBe('csv');
    expect(viaWorker.malformed).toBe(0);
    expect(viaWorker.data.info).toEqual(inThread.info);
    expect(viaWorker.data.payloads).toEqual([]);
    expect(Object.keys(viaWorker.data.tables).sort()).toEqual(Object.keys(inThread.tables).sort());
    expect(Object.values(sameTables(viaWorker.data, inThread)).every(Boolean)).toBe(true);
    for (const t of Object.values(viaWorker.data.tables)) expect(isSharedArrayBuffer(t)).toBe(true);
    validateThreatDb(viaWorker.data);
    const a = ThreatDb.fromData(inThread);
    const b = ThreatDb.fromData(viaWorker.data);
    for (const e of [...a.entries()].slice(0, 500)) expect(b.lookup(e.address)).toEqual(a.lookup(e.address));
    expect(viaWorker.timings.parseMs).toBeGreaterThanOrEqual(0);
  });

  test('the body is transferred, not copied (the caller keeps an empty Buffer)', async () => {
    const b = Buffer.alloc(Buffer.byteLength(text));
    b.write(text);
    const r = await buildInWorker(b, META);
    expect(r.data.info.entries).toBeGreaterThan(19_000);
    expect(b.length).toBe(0);
  });

  test('a Buffer from the shared pool is copied, so the pool is not taken away', async () => {
    const small = Buffer.from('198.51.100.1\n203.0.113.0/24\n');
    const neighbour = Buffer.from('still here');
    const r = await buildInWorker(small, META);
    expect(r.data.info.entries).toBe(2);
    expect(neighbour.toString()).toBe('still here');
  });

  test('malformed counts and parse errors come back', async () => {
    const r = await buildInWorker(Buffer.from('198.51.100.1\nnope\n10.1.2.3/8\n'), META);
    expect(r).toMatchObject({ malformed: 1, hostBitsMasked: 1, format: 'text', compressed: false });
    await expect(buildInWorker(Buffer.from('{"results": ['), META)).rejects.toThrow(BlocklistParseError);
    await expect(buildInWorker(gzipSync(Buffer.alloc(4096)), META, { maxInflatedBytes: 100 })).rejects.toThrow(/inflates beyond the cap of 100 bytes/);
  });
});

describe('layout', () => {
  function hosts(n: number, extra: (i: number) => Partial<ThreatEntry> = () => ({})): ThreatEntry[] {
    return Array.from({ length: n }, (_, i) => ({ address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, prefixLength: 32, family: 4 as const, tags: ['x'], ...extra(i) }));
  }

  test('IPv4 hosts with tags and whole-second dates: 15 bytes per entry plus the bucket index', () => {
    const data = buildThreatDb(hosts(1000, (i) => ({ firstSeen: 1e12 + i * 1000, lastSeen: 2e12 })), META);
    const t = data.tables;
    expect(t.v4Start.byteLength).toBe(4000);
    expect(t.v4Len.byteLength).toBe(1000);
    expect(t.v4Pid.byteLength).toBe(2000);
    expect(t.v4First.byteLength).toBe(4000);
    expect(t.v4Last.byteLength).toBe(4000);
    expect(t.v4Index.byteLength).toBe((2 ** 8 + 1) * 4); // k = log2(1000) - 2
    expect(data.info.memoryBytes).toBe(Object.values(t).reduce((a, b) => a + b.byteLength, 0));
    expect(ThreatDb.fromData(data).lookup('10.0.1.5')).toMatchObject({ firstSeen: 1e12 + 261 * 1000, lastSeen: 2e12 });
  });

  test('no dates: no date tables; sub-second or far-future dates: float64 ms, kept exactly', () => {
    expect(buildThreatDb(hosts(10), META).tables.v4First.byteLength).toBe(0);
    const ms = buildThreatDb(hosts(10, (i) => ({ lastSeen: i === 3 ? 1717200000123 : 1717200000000 })), META);
    expect(ms.tables.v4Last.byteLength).toBe(80);
    expect(ThreatDb.fromData(ms).lookup('10.0.0.3')?.lastSeen).toBe(1717200000123);
    const far = buildThreatDb(hosts(2, () => ({ firstSeen: Date.UTC(2200, 0, 1) })), META);
    expect(ThreatDb.fromData(far).lookup('10.0.0.1')?.firstSeen).toBe(Date.UTC(2200, 0, 1));
  });

  test('payload ids widen to 32 bits past 65,536 distinct tag sets', () => {
    const data = buildThreatDb(hosts(70_000, (i) => ({ tags: [`t${i}`] })), META);
    expect(data.payloads).toEqual([]); // the payload table lives in the shared tables
    expect(data.tables.payloadOffsets.byteLength).toBe((70_000 + 1) * 4);
    expect(data.tables.v4Pid.byteLength).toBe(70_000 * 4);
    expect(ThreatDb.fromData(data).lookup('10.1.1.5')?.tags).toEqual([`t${(1 << 16) + (1 << 8) + 5}`]);
  });

  test('IPv6: four key words per segment', () => {
    const data = buildThreatDb([{ address: '2001:db8::', prefixLength: 32, family: 6, tags: [] }, { address: '2001:db8::1', prefixLength: 128, family: 6, tags: [] }], META);
    // 2001:db8::/32 split by 2001:db8::1 into three segments.
    expect(data.tables.v6Key.byteLength).toBe(3 * 16);
    expect(data.tables.v6Len.byteLength).toBe(3);
    expect(data.info).toMatchObject({ entries: 2, ipv6Entries: 2, byPrefix: { 'v6/32': 1, 'v6/128': 1 } });
  });

  test('entries that are not addresses are a programming error', () => {
    expect(() => buildThreatDb([{ address: 'nope', prefixLength: 32, family: 4, tags: [] }], META)).toThrow(/threat entry 0: not an address or CIDR/);
  });
});
