// SPDX-License-Identifier: Apache-2.0
/**
 * The threat service against a real HTTP(S) server on loopback playing PassiveTotal, with the real parser
 * and the build in a worker thread: every accepted body format (and gzip of each) loads the same entries,
 * the exact log lines of DESIGN.md §5, failures that leave the DB in service as it was, the persisted copy
 * used at startup when the API fails, and the refresh interval on a manual clock.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { RiskiqThreatConfig } from '../../../src/config';
import { buildThreatDb, type BuildMeta } from '../../../src/enrich/riskiq-threat/build';
import { buildInWorker } from '../../../src/enrich/riskiq-threat/build-worker';
import { ThreatDb } from '../../../src/enrich/riskiq-threat/lookup';
import { ManualClock } from '../../../src/enrich/riskiq-threat/refresh';
import { loadThreatDbFile, persistThreatDb, readPersistedThreatDb, ThreatService } from '../../../src/enrich/riskiq-threat/service';
import type { ThreatDbData, ThreatEntry } from '../../../src/enrich/riskiq-threat/types';
import { Metrics } from '../../../src/observability/metrics';
import { memoryLogger } from '../../helpers/es';
import { randomKey, startFakePassiveTotal, testPki, type Behaviour, type FakePassiveTotal } from '../../e2e/threat-api-server';

const USER = 'analyst@example.com';
const DAY = Date.UTC(2024, 10, 30);

/** The reference list: what every format below says. */
const LIST = [
  { ip: '45.33.32.156', tags: ['scanner', 'ssh-bruteforce'], first: '2024-01-15T00:00:00Z', last: '2024-11-30T12:00:00Z', confidence: '85' },
  { ip: '185.220.101.0/24', tags: ['tor-exit'], first: '2023-06-01T00:00:00Z', last: '2024-11-30T00:00:00Z', confidence: '90' },
  { ip: '2606:4700::1111', tags: ['c2'], first: '2024-05-20T00:00:00Z', last: '2024-11-28T00:00:00Z', confidence: '70' },
  { ip: '2001:67c:2e8::/48', tags: ['phishing', 'spam'], first: '2024-02-01T00:00:00Z', last: '2024-10-01T00:00:00Z', confidence: '40' },
];

const BODIES: Record<string, string> = {
  'json-array': JSON.stringify(LIST.map((e) => ({ ip: e.ip, tags: e.tags, first_seen: e.first, last_seen: e.last, confidence: e.confidence }))),
  'json-object': JSON.stringify({
    success: true,
    results: LIST.map((e) => ({ ip: e.ip, tags: e.tags, first_seen: e.first, last_seen: e.last, confidence: e.confidence })),
  }),
  ndjson: LIST.map((e) => JSON.stringify({ ip: e.ip, tags: e.tags, first_seen: e.first, last_seen: e.last, confidence: e.confidence })).join('\n') + '\n',
  csv: 'ip,tags,first_seen,last_seen,confidence\n' + LIST.map((e) => `${e.ip},"${e.tags.join(';')}",${e.first},${e.last},${e.confidence}`).join('\n') + '\n',
  text: '# PassiveTotal blocklist\n' + LIST.map((e) => e.ip).join('\n') + '\n',
};

function expectedEntries(withDetails: boolean): ThreatEntry[] {
  return LIST.map((e) => {
    const [address, len] = e.ip.split('/');
    const family = address.includes(':') ? 6 : 4;
    const entry: ThreatEntry = { address, prefixLength: len ? Number(len) : family === 4 ? 32 : 128, family, tags: withDetails ? e.tags : [] };
    if (withDetails) {
      entry.firstSeen = Date.parse(e.first);
      entry.lastSeen = Date.parse(e.last);
      entry.confidence = e.confidence;
    }
    return entry;
  });
}

function entriesOf(data: ThreatDbData): ThreatEntry[] {
  return [...ThreatDb.fromData(data).entries()].sort((a, b) => (a.address < b.address ? -1 : 1));
}

function sorted(e: ThreatEntry[]): ThreatEntry[] {
  return [...e].sort((a, b) => (a.address < b.address ? -1 : 1));
}

/**
 * jest runs this file in its own vm realm, while a worker's SharedArrayBuffers arrive as the main Node
 * realm's: `instanceof SharedArrayBuffer` (lookup.ts) says no. Outside jest there is one realm. The tables
 * are re-homed (copied) into this realm only when that check fails, so the real worker build is still what
 * is tested.
 */
function sameRealm(data: ThreatDbData): ThreatDbData {
  const tables: Record<string, SharedArrayBuffer> = {};
  for (const [k, t] of Object.entries(data.tables) as Array<[string, ArrayBufferLike]>) {
    if (t instanceof SharedArrayBuffer) {
      tables[k] = t;
    } else {
      const copy = new SharedArrayBuffer(t.byteLength);
      new Uint8Array(copy).set(new Uint8Array(t));
      tables[k] = copy;
    }
  }
  return { ...data, tables };
}

const realBuild = async (body: Buffer, meta: BuildMeta) => {
  const r = await buildInWorker(body, meta);
  return { ...r, data: sameRealm(r.data) };
};

const msgs = (lines: string[]) => lines.map((l) => JSON.parse(l).msg as string);

interface Harness {
  service: ThreatService;
  published: ThreatDbData[];
  lines: string[];
  metrics: Metrics;
  clock: ManualClock;
  cachePath: string;
}

describe('threat service', () => {
  const key = randomKey();
  let api: FakePassiveTotal;
  let tlsApi: FakePassiveTotal;
  const everything: string[] = [];
  const services: ThreatService[] = [];

  beforeAll(async () => {
    api = await startFakePassiveTotal({ tls: false, user: USER, key, behaviour: { kind: 'ok', body: BODIES.csv } });
    tlsApi = await startFakePassiveTotal({ tls: true, user: USER, key, behaviour: { kind: 'ok', body: BODIES.csv } });
  });
  afterEach(async () => {
    for (const s of services.splice(0)) await s.stop();
  });
  afterAll(async () => {
    await api?.close();
    await tlsApi?.close();
    for (const t of everything) expect(t).not.toContain(key);
  });

  function harness(
    over: Partial<RiskiqThreatConfig> = {},
    server: FakePassiveTotal = api,
    afterPublish?: (data: ThreatDbData) => Promise<void>,
  ): Harness {
    const { log, lines } = memoryLogger('info');
    const dir = mkdtempSync(join(tmpdir(), 'tf-threat-svc-'));
    const cfg: RiskiqThreatConfig = {
      enabled: true,
      apiUser: USER,
      apiKey: key,
      threatEndpoint: server.url,
      threatRefreshIntervalMinutes: 1440,
      apiTimeoutSeconds: 5,
      threatInclExclPath: '',
      launchUrl: 'https://community.riskiq.com/research?query={{value}}',
      threatCachePath: join(dir, 'riskiq-threat-db.json'),
      ...over,
    };
    const published: ThreatDbData[] = [];
    const metrics = new Metrics();
    const clock = new ManualClock(DAY);
    const service = new ThreatService(cfg, { log, metrics, clock, publish: (d) => void published.push(d), ca: testPki().caPem, build: realBuild, ...(afterPublish ? { afterPublish } : {}) });
    services.push(service);
    everything.push(...[lines].flat());
    const h = { service, published, lines, metrics, clock, cachePath: cfg.threatCachePath };
    return h;
  }

  const done = (h: Harness) => {
    everything.push(...h.lines);
    return msgs(h.lines);
  };

  for (const [format, body] of Object.entries(BODIES)) {
    for (const variant of ['plain', 'gzip file', 'gzip encoding'] as const) {
      it(`${format}, ${variant}: loads the same entries`, async () => {
        api.behaviour =
          variant === 'plain'
            ? { kind: 'ok', body }
            : variant === 'gzip file'
              ? { kind: 'ok', body: gzipSync(body) }
              : { kind: 'ok', body, gzip: true };
        const h = harness();
        expect(await h.service.refresh()).toBe(true);
        expect(h.published).toHaveLength(1);
        expect(entriesOf(h.published[0])).toEqual(sorted(expectedEntries(format !== 'text')));
        const lines = done(h);
        expect(lines).toContain(`RiskIQ Threats: Fetching Threat DB from enrichment API at ${api.url}`);
        expect(lines.filter((l) => l.startsWith('RiskIQ Threats:'))).toEqual([
          `RiskIQ Threats: Fetching Threat DB from enrichment API at ${api.url}`,
          `RiskIQ Threats: received enrichment API response: ${variant === 'plain' ? Buffer.byteLength(body) : gzipSync(body).length} bytes`,
          'RiskIQ Threats: DB successfully populated.',
        ]);
        const populated = h.lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'RiskIQ Threats: DB successfully populated.');
        expect(populated.format).toBe(format);
        expect(populated.entries).toBe(LIST.length);
      });
    }
  }

  it('malformed entries are counted and skipped; the rest loads', async () => {
    api.behaviour = { kind: 'ok', body: BODIES.text + 'not-an-ip\n999.1.1.1\n10.0.0.0/33\n' };
    const h = harness();
    expect(await h.service.refresh()).toBe(true);
    const populated = h.lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'RiskIQ Threats: DB successfully populated.');
    expect([populated.entries, populated.malformed]).toEqual([LIST.length, 3]);
    done(h);
  });

  it('over HTTPS (verified with the test CA): the new DB is published, persisted and counted', async () => {
    tlsApi.behaviour = { kind: 'ok', body: BODIES['json-object'] };
    const h = harness({}, tlsApi);
    expect(await h.service.refresh()).toBe(true);
    expect(existsSync(h.cachePath)).toBe(true);
    expect(entriesOf(readPersistedThreatDb(h.cachePath)!)).toEqual(entriesOf(h.published[0]));
    expect(h.metrics.get('threat_db_loads', { result: 'ok' })).toBe(1);
    h.service.updateMetrics();
    expect(h.metrics.get('threat_db_size')).toBe(LIST.length);
    expect(h.metrics.get('threat_db_memory_size')).toBeGreaterThan(0);
    expect(h.metrics.get('threat_db_age_seconds')).toBe(0);
    await h.clock.advance(90_000);
    h.service.updateMetrics();
    expect(h.metrics.get('threat_db_age_seconds')).toBe(90);
    done(h);
  });

  const failures: Array<[string, Behaviour, RegExp, boolean]> = [
    ['HTTP 500', { kind: 'status', status: 500, body: 'internal error' }, /HTTP 500: internal error/, true],
    ['HTTP 503', { kind: 'status', status: 503 }, /HTTP 503/, true],
    ['a reset connection', { kind: 'reset' }, /ECONNRESET/, true],
    ['a truncated body', { kind: 'truncate', body: BODIES.csv, sent: 30 }, /after 30 of \d+ bytes/, true],
    ['a body that stalls past the timeout', { kind: 'stall', body: BODIES.csv, sent: 30 }, /^timeout after 1 s \(the whole download, body included\)$/, true],
    ['a body without one valid entry', { kind: 'ok', body: 'ip\nnonsense\n' }, /no valid entry \(1 malformed/, false],
    ['an empty body', { kind: 'ok', body: '' }, /no valid entry|not a usable blocklist/, false],
    ['a JSON document cut short', { kind: 'ok', body: BODIES['json-array'].slice(0, 60) }, /not a usable blocklist/, false],
  ];
  for (const [name, behaviour, reason, readFailure] of failures) {
    it(`${name}: the documented failure lines, and the old DB stays in service`, async () => {
      api.behaviour = { kind: 'ok', body: BODIES.csv };
      const h = harness({ apiTimeoutSeconds: 1 });
      const first = await h.service.refresh();
      // On failure, show why (the lines say).
      expect([first, first ? [] : msgs(h.lines)]).toEqual([true, []]);
      const good = h.service.current();
      h.lines.length = 0;
      api.behaviour = behaviour;
      expect(await h.service.refresh()).toBe(false);
      expect(h.service.current()).toBe(good);
      expect(h.published).toHaveLength(1);
      expect(h.metrics.get('threat_db_loads', { result: 'failed' })).toBe(1);
      const lines = done(h).filter((l) => l.startsWith('RiskIQ Threats:'));
      const init = lines.find((l) => l.startsWith('RiskIQ Threats: failed to initialize DB: '))!;
      expect(init.slice('RiskIQ Threats: failed to initialize DB: '.length)).toMatch(reason);
      if (readFailure) {
        const read = lines.find((l) => l.startsWith('RiskIQ Threats: failed to read the complete enrichment API response: '))!;
        expect(read.slice('RiskIQ Threats: failed to read the complete enrichment API response: '.length)).toMatch(reason);
        expect(lines).toEqual([lines[0], read, init]);
      } else {
        expect(lines).toEqual([lines[0], lines[1], init]);
        expect(lines[1]).toMatch(/^RiskIQ Threats: received enrichment API response: \d+ bytes$/);
      }
      // The DB in service still answers.
      expect(ThreatDb.fromData(h.service.current()!).lookup('45.33.32.156')?.tags).toEqual(['scanner', 'ssh-bruteforce']);
    });
  }

  it('401: the failure names both credential variables; the key is in no line', async () => {
    api.behaviour = { kind: 'status', status: 401 };
    const h = harness();
    expect(await h.service.refresh()).toBe(false);
    const lines = done(h);
    expect(lines).toContain(
      'RiskIQ Threats: failed to initialize DB: the enrichment API refused the credentials (HTTP 401): check EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_API_USER and EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_API_KEY',
    );
    expect(h.lines.join('\n')).not.toContain(key);
  });

  it('startup with the API down and a persisted DB on disk: the disk copy is in service at once', async () => {
    api.behaviour = { kind: 'status', status: 503 };
    const h = harness();
    const onDisk = buildThreatDb(expectedEntries(true), { fetchedAt: DAY - 3_600_000, source: api.url });
    persistThreatDb(h.cachePath, onDisk);
    h.service.start();
    // Published synchronously by start(), before the download has even been answered.
    expect(h.published).toHaveLength(1);
    await h.clock.settle();
    expect(h.service.current()).toBe(h.published[0]);
    expect(entriesOf(h.published[0])).toEqual(sorted(expectedEntries(true)));
    expect(ThreatDb.fromData(h.published[0]).lookup('185.220.101.77')?.indicator).toBe('185.220.101.0/24');
    const lines = done(h);
    expect(lines).toContain('threat DB loaded from the persisted copy');
    expect(lines).toContain('RiskIQ Threats: failed to initialize DB: HTTP 503: status 503');
    h.service.updateMetrics();
    expect(h.metrics.get('threat_db_age_seconds')).toBe(3600);
  });

  it('indicator index writes run one at a time, in the order the DBs went into service', async () => {
    api.behaviour = { kind: 'ok', body: BODIES.csv };
    const written: number[] = [];
    let releaseFirst: () => void = () => undefined;
    const firstHeld = new Promise<void>((r) => (releaseFirst = r));
    let calls = 0;
    const h = harness({}, api, async (data) => {
      if (++calls === 1) await firstHeld;
      written.push(data.info.fetchedAt);
    });
    persistThreatDb(h.cachePath, buildThreatDb(expectedEntries(true), { fetchedAt: DAY - 86_400_000, source: api.url }));
    h.service.start();
    // The download completes while the persisted DB's indicator write is still held.
    for (let i = 0; i < 200 && h.published.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    expect(written).toEqual([]);
    releaseFirst();
    await h.clock.settle();
    await h.service.stop();
    expect(h.published.map((d) => d.info.fetchedAt)).toEqual([DAY - 86_400_000, DAY]);
    expect(written).toEqual([DAY - 86_400_000, DAY]);
    done(h);
  });

  it('a corrupt persisted file is ignored with a warning; the download fills in', async () => {
    api.behaviour = { kind: 'ok', body: BODIES.csv };
    const h = harness();
    writeFileSync(h.cachePath, 'garbage');
    h.service.start();
    await h.clock.settle();
    expect(h.published).toHaveLength(1);
    expect(done(h)).toContain('the persisted threat DB cannot be read; waiting for the download');
  });

  it('refreshes at the configured interval (manual clock): 60 minutes', async () => {
    api.behaviour = { kind: 'ok', body: BODIES.csv };
    api.requests.length = 0;
    const h = harness({ threatRefreshIntervalMinutes: 60 });
    h.service.start();
    await h.clock.settle();
    expect(api.requests).toHaveLength(1);
    await h.clock.advance(59 * 60_000);
    expect(api.requests).toHaveLength(1);
    await h.clock.advance(60_000);
    expect(api.requests).toHaveLength(2);
    await h.clock.advance(2 * 60 * 60_000);
    expect(api.requests).toHaveLength(4);
    expect(h.published).toHaveLength(4);
    await h.service.stop();
    await h.clock.advance(10 * 60 * 60_000);
    expect(api.requests).toHaveLength(4);
    done(h);
  });

  it('loadThreatDbFile takes a persisted DB or a blocklist body', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tf-threat-file-'));
    const cache = join(dir, 'db.bin');
    persistThreatDb(cache, buildThreatDb(expectedEntries(true), { fetchedAt: DAY, source: 'x' }));
    expect(loadThreatDbFile(cache).kind).toBe('cache');
    const csv = join(dir, 'list.csv.gz');
    writeFileSync(csv, gzipSync(BODIES.csv));
    const loaded = loadThreatDbFile(csv);
    expect([loaded.kind, loaded.format]).toEqual(['blocklist', 'csv']);
    expect(entriesOf(loaded.data)).toEqual(sorted(expectedEntries(true)));
    const bad = join(dir, 'bad.txt');
    writeFileSync(bad, 'nothing here\n');
    expect(() => loadThreatDbFile(bad)).toThrow(/neither a persisted threat DB nor a blocklist/);
  });
});
