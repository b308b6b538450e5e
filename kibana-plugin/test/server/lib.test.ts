// SPDX-License-Identifier: Apache-2.0
/**
 * The route functions (server/lib) against the embedded Elasticsearch, loaded with the flows the real
 * collector decodes from the real exporter captures and enriches with the demo blocklist. Every number the
 * functions return is compared with the same number computed in plain JS from the NDJSON (fixture.ts).
 */
import { Client } from '@elastic/elasticsearch';
import { ES_URL, describeEs } from '../../../collector/test/helpers/es';
import { BadRequestError, THREAT_SORT_FIELDS, type FlowsQuery, type ThreatsQuery } from '../../common';
import { getFlows, getThreats, type ThreatflowEsOptions } from '../../server/lib';
import { LAUNCH, decodeCaptures, expectedFlows, expectedOrder, expectedThreats, inRange, loadFlows, type Doc, type Range } from './fixture';

/** Covers every document (the captures' flows end in 2026). */
const ALL: Range = { from: '2026-01-01T00:00:00Z', to: '2027-01-01T00:00:00Z' };

describeEs('server/lib flows and threats on the embedded Elasticsearch', () => {
  let docs: Doc[];
  let client: Client;
  let opts: ThreatflowEsOptions;
  let drop: () => Promise<void> = async () => undefined;

  const threats = (r: Range, extra: Partial<ThreatsQuery> = {}) =>
    getThreats(client, { ...r, page: 0, perPage: 100, sortField: 'flows', sortDirection: 'desc', ...extra }, opts);
  const flows = (r: Range, ip: string, role: FlowsQuery['role'], size = 500) => getFlows(client, { ...r, ip, role, size }, opts);

  beforeAll(async () => {
    docs = decodeCaptures();
    const loaded = await loadFlows(docs);
    drop = loaded.drop;
    client = new Client({ node: ES_URL });
    opts = { flowsIndex: loaded.dataStream, indicatorsIndex: `${loaded.dataStream}-no-indicators`, launchUrlTemplate: LAUNCH };
  }, 120_000);

  afterAll(async () => {
    await drop();
    await client?.close();
  });

  it('decodes the captures into enriched flows (the data the rest relies on)', () => {
    expect(docs.length).toBeGreaterThan(200);
    const threat = docs.filter((d) => (d.threat?.enrichments ?? []).length > 0);
    expect(threat.length).toBeGreaterThan(100);
    // Both sides of one conversation from a unidirectional exporter: the same host as source and destination.
    const sides = new Set(threat.filter((d) => d.threat!.enrichments!.some((e) => e.matched.atomic === '93.184.216.34')).map((d) => d.network.direction));
    expect([...sides].sort()).toEqual(['inbound', 'outbound']);
  });

  it('summarises every indicator of the full range exactly as computed from the documents', async () => {
    const want = expectedThreats(docs, ALL);
    const got = await threats(ALL);
    expect(got.totals).toEqual(want.totals);
    expect(got.totals).toEqual({ indicators: 5, threatFlows: 116, allFlows: docs.length, bytes: want.totals.bytes, internalHosts: 4 });
    expect(got.truncated).toBe(false);
    expect(got.range).toEqual(ALL);
    const byIndicator = (rows: typeof want.rows) => [...rows].sort((a, b) => (a.indicator < b.indicator ? -1 : 1));
    expect(byIndicator(got.threats)).toEqual(byIndicator(want.rows));
    expect(got.threats.map((t) => t.indicator)).toEqual(expectedOrder(want.rows, 'flows', 'desc'));
    // Spot checks a reader can follow: tags split from the description, and the launch link.
    const scanner = got.threats.find((t) => t.indicator === '45.33.32.156')!;
    expect(scanner.tags).toEqual(['scanner', 'ssh-bruteforce']);
    expect(scanner.launchUrl).toBe('https://community.riskiq.com/research?query=45.33.32.156');
    const c2 = got.threats.find((t) => t.indicator === '2606:4700::1111')!;
    expect(c2.internalHostSample).toEqual(['fd00::10']);
    // 10.0.0.10 is the source of some flows with 93.184.216.34 and the destination of others: one host.
    expect(got.threats.find((t) => t.indicator === '93.184.216.34')!.internalHosts).toBe(1);
  });

  it('sorts by every field both ways (ties by indicator) and pages through the same order', async () => {
    const want = expectedThreats(docs, ALL);
    for (const sortField of THREAT_SORT_FIELDS) {
      for (const sortDirection of ['asc', 'desc'] as const) {
        const seen: string[] = [];
        for (let page = 0; page < 4; page++) {
          const got = await threats(ALL, { sortField, sortDirection, page, perPage: 2 });
          expect([sortField, sortDirection, page, got.page, got.perPage, got.sortField, got.sortDirection]).toEqual([sortField, sortDirection, page, page, 2, sortField, sortDirection]);
          expect(got.threats.length).toBeLessThanOrEqual(2);
          seen.push(...got.threats.map((t) => t.indicator));
        }
        expect([sortField, sortDirection, seen]).toEqual([sortField, sortDirection, expectedOrder(want.rows, sortField, sortDirection)]);
      }
    }
  });

  it('filters on @timestamp with from inclusive and to exclusive', async () => {
    const stamps = [...new Set(docs.map((d) => d['@timestamp']))].sort((a, b) => a - b);
    // Bounds on document timestamps, so that inclusive/exclusive matters.
    const cut: Range = { from: new Date(stamps[8]).toISOString(), to: new Date(stamps[20]).toISOString() };
    const rest: Range = { from: cut.to, to: ALL.to };
    expect(inRange(docs, cut).length).toBeGreaterThan(0);
    expect(inRange(docs, cut).some((d) => d['@timestamp'] === stamps[8])).toBe(true);
    for (const r of [cut, rest, { from: ALL.from, to: cut.from }]) {
      const want = expectedThreats(docs, r);
      const got = await threats(r);
      expect([r, got.totals]).toEqual([r, want.totals]);
      const sorted = (rows: typeof want.rows) => [...rows].sort((a, b) => (a.indicator < b.indicator ? -1 : 1));
      expect([r, sorted(got.threats)]).toEqual([r, sorted(want.rows)]);
    }
    // The cut really cuts: fewer flows than the whole, and the parts add up.
    const parts = await Promise.all([{ from: ALL.from, to: cut.from }, cut, rest].map((r) => threats(r)));
    expect(parts.reduce((s, p) => s + p.totals.allFlows, 0)).toBe(docs.length);
    expect(parts.reduce((s, p) => s + p.totals.threatFlows, 0)).toBe(116);
  });

  it('answers an empty range with zeros and no rows', async () => {
    const got = await threats({ from: '2020-01-01T00:00:00Z', to: '2020-01-02T00:00:00Z' });
    expect(got.totals).toEqual({ indicators: 0, threatFlows: 0, allFlows: 0, bytes: 0, internalHosts: 0 });
    expect(got.threats).toEqual([]);
  });

  it('lists the flows of each indicator, newest first, with its internal hosts', async () => {
    const indicators = expectedThreats(docs, ALL).rows.map((r) => r.indicator);
    for (const ip of indicators) {
      const want = expectedFlows(docs, ALL, ip, 'indicator');
      const got = await flows(ALL, ip, 'indicator');
      expect([ip, got.total, got.bytes, got.flows.length]).toEqual([ip, want.total, want.bytes, want.total]);
      expect([ip, got.counterparts, got.counterpartsTruncated]).toEqual([ip, want.counterparts, false]);
      expect(got.launchUrl).toBe(`https://community.riskiq.com/research?query=${encodeURIComponent(ip)}`);
      // Internal hosts get no PassiveTotal link.
      expect([ip, got.counterparts.every((c) => c.launchUrl === null)]).toEqual([ip, true]);
      const stamps = got.flows.map((f) => Date.parse(f.timestamp));
      expect(stamps).toEqual([...stamps].sort((a, b) => b - a));
      // Row contents equal the documents (as multisets: flows with the same timestamp have no defined order).
      const key = (x: { t: number; s: string | null; sp: number | null; d: string | null; dp: number | null; b: number; p: number }) => JSON.stringify(x);
      const gotRows = got.flows.map((f) => key({ t: Date.parse(f.timestamp), s: f.sourceIp, sp: f.sourcePort, d: f.destinationIp, dp: f.destinationPort, b: f.bytes, p: f.packets })).sort();
      const wantRows = want.docs.map((d) => key({ t: d['@timestamp'], s: d.source.ip, sp: d.source.port ?? null, d: d.destination.ip, dp: d.destination.port ?? null, b: d.network.bytes, p: d.network.packets })).sort();
      expect([ip, gotRows]).toEqual([ip, wantRows]);
      for (const f of got.flows) expect([ip, f.tags.length > 0, f.transport !== null, f.direction !== null]).toEqual([ip, true, true, true]);
    }
  });

  it('caps the rows at size and keeps the newest', async () => {
    const want = expectedFlows(docs, ALL, '45.33.32.156', 'indicator');
    const got = await flows(ALL, '45.33.32.156', 'indicator', 3);
    expect(got.total).toBe(want.total);
    expect(got.flows.map((f) => Date.parse(f.timestamp))).toEqual(want.docs.map((d) => d['@timestamp']).sort((a, b) => b - a).slice(0, 3));
  });

  it('finds an IPv6 indicator written in a non-canonical form', async () => {
    const canonical = await flows(ALL, '2606:4700::1111', 'indicator');
    const spelled = await flows(ALL, '2606:4700:0:0:0:0:0:1111', 'indicator');
    expect(canonical.total).toBeGreaterThan(0);
    expect(spelled.total).toBe(canonical.total);
  });

  it('finds an IPv4 indicator written as IPv4-mapped IPv6, and echoes the canonical form', async () => {
    const dotted = await flows(ALL, '45.33.32.156', 'indicator');
    expect(dotted.total).toBeGreaterThan(0);
    for (const spelled of ['::ffff:45.33.32.156', '::FFFF:2d21:209c', '0:0:0:0:0:ffff:45.33.32.156']) {
      const got = await flows(ALL, spelled, 'indicator');
      expect([spelled, got.ip, got.total, got.bytes, got.counterparts]).toEqual([spelled, '45.33.32.156', dotted.total, dotted.bytes, dotted.counterparts]);
      expect(got.launchUrl).toBe('https://community.riskiq.com/research?query=45.33.32.156');
    }
    // As an internal host too: 10.0.0.5 written as IPv4-mapped IPv6.
    const host = await flows(ALL, '10.0.0.5', 'host');
    const mapped = await flows(ALL, '::ffff:10.0.0.5', 'host');
    expect(host.total).toBeGreaterThan(0);
    expect([mapped.ip, mapped.total, mapped.counterparts]).toEqual(['10.0.0.5', host.total, host.counterparts]);
  });

  it('finds an IPv6 host written upper-case with leading zeros, and echoes it in RFC 5952 form', async () => {
    const want = expectedFlows(docs, ALL, 'fd00::10', 'host');
    expect(want.total).toBeGreaterThan(0);
    const got = await flows(ALL, 'FD00::0010', 'host');
    expect([got.ip, got.total, got.bytes, got.counterparts]).toEqual(['fd00::10', want.total, want.bytes, want.counterparts]);
    const indicator = await flows(ALL, '2606:4700:0000::1111', 'indicator');
    expect([indicator.ip, indicator.total]).toEqual(['2606:4700::1111', expectedFlows(docs, ALL, '2606:4700::1111', 'indicator').total]);
    expect(indicator.launchUrl).toBe(`https://community.riskiq.com/research?query=${encodeURIComponent('2606:4700::1111')}`);
  });

  it('lists the threat flows of each internal host with the indicators it talked to', async () => {
    const hosts = ['10.0.0.5', '10.0.0.10', '192.168.1.10', 'fd00::10'];
    for (const ip of hosts) {
      const want = expectedFlows(docs, ALL, ip, 'host');
      const got = await flows(ALL, ip, 'host');
      expect([ip, got.total, got.bytes, got.flows.length, got.counterparts, got.counterpartsTruncated]).toEqual([ip, want.total, want.bytes, want.total, want.counterparts, false]);
      expect(want.total).toBeGreaterThan(0);
      // An internal host has no PassiveTotal link; the indicators it talked to have theirs.
      expect([ip, got.launchUrl]).toEqual([ip, null]);
      for (const c of got.counterparts) expect(c.launchUrl).toBe(`https://community.riskiq.com/research?query=${encodeURIComponent(c.ip)}`);
    }
    // 10.0.0.5 talked to two indicators.
    expect((await flows(ALL, '10.0.0.5', 'host')).counterparts.map((c) => c.ip).sort()).toEqual(['45.155.205.233', '45.33.32.156']);
    // A public address is never an internal host, and an indicator has no "host" flows.
    expect((await flows(ALL, '45.33.32.156', 'host')).total).toBe(0);
  });

  it('host flows respect the time range', async () => {
    const stamps = [...new Set(docs.map((d) => d['@timestamp']))].sort((a, b) => a - b);
    const cut: Range = { from: new Date(stamps[4]).toISOString(), to: new Date(stamps[12]).toISOString() };
    const want = expectedFlows(docs, cut, '10.0.0.10', 'host');
    const got = await flows(cut, '10.0.0.10', 'host');
    expect(want.total).toBeLessThan(expectedFlows(docs, ALL, '10.0.0.10', 'host').total);
    expect([got.total, got.bytes, got.counterparts]).toEqual([want.total, want.bytes, want.counterparts]);
  });

  it('refuses bad input with BadRequestError (400) before asking Elasticsearch', async () => {
    const bad: Array<[string, () => Promise<unknown>, RegExp]> = [
      ['not an IP', () => flows(ALL, 'not-an-ip', 'indicator'), /not an IPv4 or IPv6 address/],
      ['a CIDR', () => flows(ALL, '10.0.0.0/8', 'host'), /not an IPv4 or IPv6 address/],
      ['inverted range', () => threats({ from: ALL.to, to: ALL.from }), /inverted/],
      ['inverted range (flows)', () => flows({ from: ALL.to, to: ALL.from }, '10.0.0.5', 'host'), /inverted/],
      ['not an instant', () => threats({ from: 'yesterday', to: ALL.to }), /ISO-8601/],
      ['range too long', () => threats({ from: '2020-01-01T00:00:00Z', to: '2026-01-01T00:00:00Z' }), /longer than/],
      ['huge page size', () => threats(ALL, { perPage: 100_000 }), /perPage must be between 1 and 100/],
      ['negative page', () => threats(ALL, { page: -1 }), /page must be between/],
      ['huge flows size', () => flows(ALL, '10.0.0.5', 'host', 1_000_000), /size must be between/],
      ['unknown sort', () => threats(ALL, { sortField: 'bogus' as never }), /sortField must be one of/],
      ['unknown role', () => flows(ALL, '10.0.0.5', 'admin' as never), /role must be one of/],
    ];
    for (const [what, call, msg] of bad) {
      let err: unknown;
      try {
        await call();
      } catch (e) {
        err = e;
      }
      expect([what, err instanceof BadRequestError, (err as BadRequestError)?.statusCode]).toEqual([what, true, 400]);
      expect([what, (err as Error).message]).toEqual([what, expect.stringMatching(msg)]);
    }
  });

  it('passes the abort signal to Elasticsearch', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(getThreats(client, { ...ALL, page: 0, perPage: 10, sortField: 'flows', sortDirection: 'desc' }, opts, ac.signal)).rejects.toThrow(/abort/i);
  });

  it('treats a flows pattern that matches no index as no data', async () => {
    const got = await getThreats(client, { ...ALL, page: 0, perPage: 10, sortField: 'flows', sortDirection: 'desc' }, { ...opts, flowsIndex: 'logs-threatflow.flows-tftest-none-*' });
    expect(got.totals).toEqual({ indicators: 0, threatFlows: 0, allFlows: 0, bytes: 0, internalHosts: 0 });
  });
});
