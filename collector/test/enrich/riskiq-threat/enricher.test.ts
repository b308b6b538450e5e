// SPDX-License-Identifier: Apache-2.0
/**
 * The threat enricher on real documents from the normalizer: the fields of DESIGN.md §4 for each matching
 * side, client/server following the document, only public addresses looked up (user private CIDRs
 * included), the include/exclude file honoured, and a DB swap taking effect on the next flow. Expected
 * values are written out by hand.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newFlowRecord, type FlowRecord } from '../../../src/decode/types';
import { buildThreatDb } from '../../../src/enrich/riskiq-threat/build';
import { launchUrlFor, ThreatDbRef, ThreatEnricher } from '../../../src/enrich/riskiq-threat/enricher';
import { loadInclExcl, type InclExcl } from '../../../src/enrich/riskiq-threat/inclexcl';
import { ThreatDb } from '../../../src/enrich/riskiq-threat/lookup';
import type { ThreatEntry, ThreatLookup, ThreatMatch } from '../../../src/enrich/riskiq-threat/types';
import { Metrics } from '../../../src/observability/metrics';
import type { EcsDocument } from '../../../src/pipeline/ecs';
import { createNormalizer } from '../../../src/pipeline/normalize';

const LAUNCH = 'https://community.riskiq.com/research?query={{value}}';
const T1 = Date.UTC(2024, 0, 15);
const T2 = Date.UTC(2024, 10, 30, 12);

const ENTRIES: ThreatEntry[] = [
  { address: '45.33.32.156', prefixLength: 32, family: 4, tags: ['scanner', 'ssh-bruteforce'], firstSeen: T1, lastSeen: T2, confidence: '85' },
  { address: '185.220.101.0', prefixLength: 24, family: 4, tags: ['tor-exit'], confidence: 'high' },
  { address: '2606:4700::1111', prefixLength: 128, family: 6, tags: ['c2', 'scanner'] },
  { address: '93.184.216.34', prefixLength: 32, family: 4, tags: [] },
  // Listed, but private: never matched.
  { address: '10.0.0.5', prefixLength: 32, family: 4, tags: ['insider'] },
  { address: '100.64.0.0', prefixLength: 10, family: 4, tags: ['cgnat'] },
];

function db(entries: ThreatEntry[] = ENTRIES): ThreatDb {
  return ThreatDb.fromData(buildThreatDb(entries, { fetchedAt: T2, source: 'test' }));
}

function flow(src: string, dst: string, sport: number, dport: number, proto = 6, flags: number | null = 0x1b): FlowRecord {
  return Object.assign(newFlowRecord('ipfix', '127.0.0.1'), {
    exportTimeMs: T2,
    ipVersion: src.includes(':') ? 6 : 4,
    srcAddr: src,
    dstAddr: dst,
    srcPort: sport,
    dstPort: dport,
    ipProtocol: proto,
    bytes: 100,
    packets: 1,
    startMs: T2 - 1000,
    endMs: T2,
    tcpFlags: proto === 6 ? flags : null,
  }) as FlowRecord;
}

function enrich(rec: FlowRecord, opts: { lookup?: ThreatLookup; privateCidrs?: string[]; inclExcl?: InclExcl | null; metrics?: Metrics } = {}): EcsDocument {
  const privateCidrs = opts.privateCidrs ?? [];
  const normalizer = createNormalizer({ timestampSource: 'end', communityIdEnable: false, communityIdSeed: 0, expandClientServer: true, privateCidrs });
  const ref = new ThreatDbRef();
  ref.set(opts.lookup ?? db());
  const e = new ThreatEnricher({ launchUrl: LAUNCH, privateCidrs, inclExcl: opts.inclExcl ?? null }, ref, opts.metrics ?? null);
  const doc = normalizer.toDocument(rec, T2);
  e.enrich(doc, rec);
  return doc;
}

/** Records which addresses were looked up. */
class SpyLookup implements ThreatLookup {
  readonly asked: string[] = [];
  constructor(private readonly inner: ThreatLookup) {}
  get info() {
    return this.inner.info;
  }
  lookup(ip: string): ThreatMatch | null {
    this.asked.push(ip);
    return this.inner.lookup(ip);
  }
}

describe('threat enricher', () => {
  it('inbound SSH from a listed address: every field of DESIGN.md §4', () => {
    const metrics = new Metrics();
    const doc = enrich(flow('45.33.32.156', '10.0.0.5', 40022, 22), { metrics });
    expect(doc.threat).toEqual({
      enrichments: [
        {
          indicator: {
            ip: '45.33.32.156',
            type: 'ipv4-addr',
            provider: 'RiskIQ PassiveTotal',
            reference: 'https://community.riskiq.com/research?query=45.33.32.156',
            description: 'scanner, ssh-bruteforce',
            confidence: '85',
            first_seen: T1,
            last_seen: T2,
          },
          matched: { atomic: '45.33.32.156', field: 'source.ip', type: 'indicator_match_rule' },
        },
      ],
    });
    expect(doc.sec).toEqual({ threat: { name: ['scanner', 'ssh-bruteforce'], feed: { name: 'RiskIQ PassiveTotal' } } });
    expect(doc.flow.src).toEqual({ sec: { threat: { name: ['scanner', 'ssh-bruteforce'] } } });
    expect(doc.flow.dst).toBeUndefined();
    // Port 22 is the service: the listed source is the client.
    expect(doc.client?.ip).toBe('45.33.32.156');
    expect(doc.flow.client).toEqual({ sec: { threat: { name: ['scanner', 'ssh-bruteforce'] } } });
    expect(doc.flow.server).toBeUndefined();
    expect(metrics.get('threat_matches', { field: 'source.ip' })).toBe(1);
    // Threat fields come after everything the normalizer wrote.
    expect(Object.keys(doc).slice(-2)).toEqual(['threat', 'sec']);
  });

  it('the reply direction: the listed side is the source and the server', () => {
    const doc = enrich(flow('10.0.0.5', '45.33.32.156', 22, 40022));
    expect(doc.threat!.enrichments.map((e) => e.matched.field)).toEqual(['destination.ip']);
    expect(doc.flow.dst).toEqual({ sec: { threat: { name: ['scanner', 'ssh-bruteforce'] } } });
    expect(doc.flow.src).toBeUndefined();
    expect(doc.server?.ip).toBe('10.0.0.5');
    expect(doc.flow.client).toEqual({ sec: { threat: { name: ['scanner', 'ssh-bruteforce'] } } });
    expect(doc.flow.server).toBeUndefined();
  });

  it('both sides listed: two enrichments, the union of tags in order, per-side names', () => {
    const d2 = enrich(flow('185.220.101.77', '45.33.32.156', 51000, 3389));
    expect(d2.threat!.enrichments.map((e) => [e.indicator.ip, e.matched.field, e.indicator.description])).toEqual([
      ['185.220.101.77', 'source.ip', 'tor-exit'],
      ['45.33.32.156', 'destination.ip', 'scanner, ssh-bruteforce'],
    ]);
    expect(d2.sec!.threat.name).toEqual(['tor-exit', 'scanner', 'ssh-bruteforce']);
    expect(d2.flow.src!.sec.threat.name).toEqual(['tor-exit']);
    expect(d2.flow.dst!.sec.threat.name).toEqual(['scanner', 'ssh-bruteforce']);
    expect(d2.flow.client!.sec.threat.name).toEqual(['tor-exit']);
    expect(d2.flow.server!.sec.threat.name).toEqual(['scanner', 'ssh-bruteforce']);
  });

  it('a CIDR entry matches an address inside it; the indicator is the flow address, confidence as given', () => {
    const doc = enrich(flow('185.220.101.1', '192.168.1.10', 51000, 3389));
    const e = doc.threat!.enrichments[0];
    expect(e.indicator).toEqual({
      ip: '185.220.101.1',
      type: 'ipv4-addr',
      provider: 'RiskIQ PassiveTotal',
      reference: 'https://community.riskiq.com/research?query=185.220.101.1',
      description: 'tor-exit',
      confidence: 'high',
    });
    expect(e.matched).toEqual({ atomic: '185.220.101.1', field: 'source.ip', type: 'indicator_match_rule' });
  });

  it('IPv6: type ipv6-addr, the launch URL encodes the colons', () => {
    const doc = enrich(flow('fd00::10', '2606:4700::1111', 50100, 443));
    const e = doc.threat!.enrichments[0];
    expect(e.indicator.type).toBe('ipv6-addr');
    expect(e.indicator.reference).toBe('https://community.riskiq.com/research?query=2606%3A4700%3A%3A1111');
    expect(e.matched).toEqual({ atomic: '2606:4700::1111', field: 'destination.ip', type: 'indicator_match_rule' });
    expect(doc.sec!.threat.name).toEqual(['c2', 'scanner']);
  });

  it('an entry without tags still sets the flat name fields (sec.threat.name: blocklist), no description', () => {
    const doc = enrich(flow('10.0.0.10', '93.184.216.34', 50001, 443));
    expect(doc.threat!.enrichments[0].indicator.description).toBeUndefined();
    expect(doc.sec!.threat.name).toEqual(['blocklist']);
    expect(doc.flow.server!.sec.threat.name).toEqual(['blocklist']);
  });

  it('private addresses are never looked up, even when listed; user private CIDRs count as private', () => {
    const spy = new SpyLookup(db());
    const d1 = enrich(flow('10.0.0.5', '192.168.1.10', 50000, 445), { lookup: spy });
    const d2 = enrich(flow('100.64.1.1', 'fe80::1', 1, 2, 17), { lookup: spy });
    expect(d1.threat).toBeUndefined();
    expect(d2.threat).toBeUndefined();
    expect(spy.asked).toEqual([]);
    // 45.33.32.0/24 declared private by the user: the listed 45.33.32.156 is not looked up any more.
    const d3 = enrich(flow('45.33.32.156', '8.8.8.8', 40022, 53, 17), { lookup: spy, privateCidrs: ['45.33.32.0/24'] });
    expect(d3.threat).toBeUndefined();
    expect(spy.asked).toEqual(['8.8.8.8']);
  });

  it('the include/exclude list decides which public addresses are looked up', () => {
    const spy = new SpyLookup(db());
    const allowOnly = {
      path: 'x',
      includes: 0,
      excludes: 1,
      allows: (ip: string) => ip !== '45.33.32.156',
      allowsV4: () => true,
      allowsV6: () => true,
    } as InclExcl;
    const doc = enrich(flow('45.33.32.156', '185.220.101.9', 1000, 2000, 17), { lookup: spy, inclExcl: allowOnly });
    expect(spy.asked).toEqual(['185.220.101.9']);
    expect(doc.threat!.enrichments.map((e) => e.indicator.ip)).toEqual(['185.220.101.9']);
  });

  it('honours a real include/exclude file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tf-inclexcl-'));
    const file = join(dir, 'inclexcl.txt');
    writeFileSync(file, '# no lookups for the tor range\n!185.220.101.0/24\n');
    const list = loadInclExcl(file);
    expect(enrich(flow('185.220.101.1', '192.168.1.10', 51000, 3389), { inclExcl: list }).threat).toBeUndefined();
    expect(enrich(flow('45.33.32.156', '10.0.0.5', 40022, 22), { inclExcl: list }).threat!.enrichments).toHaveLength(1);
  });

  it('no DB yet, or nothing listed: the document is untouched', () => {
    const rec = flow('8.8.8.8', '10.0.0.10', 53, 53000, 17);
    const normalizer = createNormalizer({ timestampSource: 'end', communityIdEnable: false, communityIdSeed: 0, expandClientServer: true, privateCidrs: [] });
    const plain = JSON.stringify(normalizer.toDocument(rec, T2));
    const ref = new ThreatDbRef();
    const e = new ThreatEnricher({ launchUrl: LAUNCH, privateCidrs: [], inclExcl: null }, ref);
    const doc = normalizer.toDocument(rec, T2);
    e.enrich(doc, rec);
    expect(JSON.stringify(doc)).toBe(plain);
    ref.set(db());
    e.enrich(doc, rec);
    expect(JSON.stringify(doc)).toBe(plain);
  });

  it('a swapped DB takes effect on the next flow', () => {
    const ref = new ThreatDbRef();
    ref.set(db([ENTRIES[0]]));
    const normalizer = createNormalizer({ timestampSource: 'end', communityIdEnable: false, communityIdSeed: 0, expandClientServer: true, privateCidrs: [] });
    const e = new ThreatEnricher({ launchUrl: LAUNCH, privateCidrs: [], inclExcl: null }, ref);
    const rec = flow('8.8.8.8', '10.0.0.10', 53, 53000, 17);
    const before = normalizer.toDocument(rec, T2);
    e.enrich(before, rec);
    expect(before.threat).toBeUndefined();
    ref.set(db([{ address: '8.8.8.0', prefixLength: 24, family: 4, tags: ['resolver'] }]));
    const after = normalizer.toDocument(rec, T2);
    e.enrich(after, rec);
    expect(after.sec!.threat.name).toEqual(['resolver']);
  });

  it('launch URL: every {{value}} is replaced by the URL-encoded address', () => {
    expect(launchUrlFor('https://x.example/search/{{value}}?q={{value}}', '2001:db8::1')).toBe(
      'https://x.example/search/2001%3Adb8%3A%3A1?q=2001%3Adb8%3A%3A1',
    );
  });
});
