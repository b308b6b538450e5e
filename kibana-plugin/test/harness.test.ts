// SPDX-License-Identifier: Apache-2.0
/**
 * The standalone harness end to end, on the embedded Elasticsearch: the bundled captures decoded and
 * enriched by the real collector (`threatflow decode --threat-db <demo blocklist>`), indexed with the
 * collector's own flows mapping, served by the harness with the real route functions, and looked at by a
 * real headless Chromium.
 *
 * Every expected value is computed here from the decoded NDJSON (or written out by hand), not taken from
 * the route functions: indicator IPs are the distinct `threat.enrichments[].matched.atomic`, an indicator's
 * flows are the documents that matched it, its internal counterparts the private addresses on the other
 * side of those documents.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Client } from '@elastic/elasticsearch';
import type { Browser, Page } from 'playwright-core';
import { DEFAULT_LAUNCH_URL_TEMPLATE, MAX_PER_PAGE, ROUTES, discoverPath, type ErrorBody, type FlowsResponse, type ThreatsResponse, type TimeRange } from '../common';
import { ES_URL, describeEs, uniqueId, waitFor } from '../../collector/test/helpers/es';
import { DEMO_BLOCKLIST, createFlowsIndex, createIndicatorIndex, decodeDemo, indexDocs } from '../harness/demo';
import { launchChromium, newHarnessPage, setAbsoluteRange, subj, tableIndicators } from '../harness/page';
import { startHarness, type Harness } from '../harness/server';
import { main, redactUrl } from '../harness/cli';
import { configFromEnv, resolveConfig } from '../harness/config';

const REPO_ROOT = join(__dirname, '..', '..');
const SCREENSHOT = join(REPO_ROOT, 'test-results', 'kibana-plugin-harness.png');
const KIBANA_URL = 'http://kibana.example:5601';

/** One decoded flow, as far as this test reads it. */
interface Flow {
  '@timestamp': number;
  source: { ip: string; locality?: string };
  destination: { ip: string; locality?: string };
  network: { bytes?: number };
  threat?: { enrichments?: Array<{ matched: { atomic: string } }> };
}

interface Expected {
  range: TimeRange;
  allFlows: number;
  threatFlows: number;
  /** indicator → its flows, bytes and private counterparts */
  indicators: Map<string, { flows: number; bytes: number; internal: Set<string>; times: number[] }>;
  blocklistEntries: number;
}

function expectedFrom(ndjson: string): Expected {
  const flows = ndjson
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Flow);
  const indicators: Expected['indicators'] = new Map();
  let threatFlows = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const f of flows) {
    min = Math.min(min, f['@timestamp']);
    max = Math.max(max, f['@timestamp']);
    const matched = new Set((f.threat?.enrichments ?? []).map((e) => e.matched.atomic));
    if (matched.size > 0) threatFlows++;
    for (const ip of matched) {
      const e = indicators.get(ip) ?? { flows: 0, bytes: 0, internal: new Set<string>(), times: [] };
      e.flows++;
      e.times.push(f['@timestamp']);
      e.bytes += f.network.bytes ?? 0;
      const other = f.source.ip === ip ? f.destination : f.source;
      if (other.locality === 'private') e.internal.add(other.ip);
      indicators.set(ip, e);
    }
  }
  // A range that holds every flow: from the first flow's second to a second after the last one.
  const range = { from: new Date(Math.floor(min / 1000) * 1000).toISOString(), to: new Date(Math.floor(max / 1000) * 1000 + 1000).toISOString() };
  const blocklistEntries = readFileSync(DEMO_BLOCKLIST, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#') && !l.startsWith('ip,')).length;
  return { range, allFlows: flows.length, threatFlows, indicators, blocklistEntries };
}

/** The indicators with at least one matching flow in [from, to). */
function indicatorsIn(exp: Expected, r: TimeRange): string[] {
  const a = Date.parse(r.from);
  const b = Date.parse(r.to);
  return [...exp.indicators.entries()]
    .filter(([, e]) => e.times.some((t) => t >= a && t < b))
    .map(([ip]) => ip)
    .sort();
}

/** Waits until the table lists exactly `ips` (each range change is a new request), then asserts it. */
async function tableShows(page: Page, ips: string[]): Promise<void> {
  const want = JSON.stringify(ips);
  await waitFor(async () => JSON.stringify(await tableIndicators(page)) === want, 30_000).catch(() => undefined);
  expect(await tableIndicators(page)).toEqual(ips);
}

async function get<T>(base: string, path: string, query: Record<string, string | number>): Promise<{ status: number; body: T }> {
  const qs = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]));
  const res = await fetch(`${base.replace(/\/$/, '')}${path}?${qs}`);
  return { status: res.status, body: (await res.json()) as T };
}

describeEs('standalone harness on the embedded Elasticsearch', () => {
  const id = uniqueId();
  const flowsIndex = `tf-harness-test-${id}-flows`;
  const indicatorsIndex = `tf-harness-test-${id}-indicators`;
  let es: Client;
  let harness: Harness;
  let exp: Expected;

  beforeAll(async () => {
    es = new Client({ node: ES_URL });
    const { ndjson, docs } = await decodeDemo();
    exp = expectedFrom(ndjson);
    // The data must be worth looking at: several indicators, one with a public counterpart that is not
    // an internal host (the flyout must leave it out), IPv4 and IPv6.
    expect(exp.indicators.size).toBeGreaterThanOrEqual(3);
    expect([...exp.indicators.keys()].some((ip) => ip.includes(':'))).toBe(true);
    await createFlowsIndex(es, flowsIndex);
    await indexDocs(es, flowsIndex, docs);
    await createIndicatorIndex(es, indicatorsIndex, DEFAULT_LAUNCH_URL_TEMPLATE);
    harness = await startHarness({
      port: 0,
      esUrl: ES_URL,
      flowsIndex,
      indicatorsIndex,
      launchUrlTemplate: DEFAULT_LAUNCH_URL_TEMPLATE,
      kibanaUrl: KIBANA_URL,
    });
  }, 180_000);

  afterAll(async () => {
    await harness?.close();
    await es?.indices.delete({ index: [flowsIndex, indicatorsIndex], ignore_unavailable: true }).catch(() => undefined);
    await es?.close();
  });

  describe('HTTP', () => {
    test.each([
      ['flows, ip not an IP', ROUTES.flows, { ip: 'not-an-ip' }, /not an IPv4 or IPv6 address/],
      ['threats, inverted range', ROUTES.threats, { swap: 1 }, /inverted/],
      ['threats, huge page size', ROUTES.threats, { perPage: 100000 }, new RegExp(`perPage must be between 1 and ${MAX_PER_PAGE}`)],
      ['threats, no range', ROUTES.threats, { from: '', to: '' }, /from and to are required/],
      ['flows, relative time', ROUTES.flows, { ip: '45.33.32.156', from: 'now-15m' }, /not an ISO-8601 instant/],
    ])('%s → 400 with a message', async (_name, path, extra, message) => {
      const { swap, ...rest } = extra as Record<string, string | number>;
      const range = swap ? { from: exp.range.to, to: exp.range.from } : exp.range;
      const { status, body } = await get<ErrorBody>(harness.url, path, { ...range, ...rest });
      expect(status).toBe(400);
      expect(body.statusCode).toBe(400);
      expect(body.error).toBe('Bad Request');
      expect(body.message).toMatch(message);
    });

    test('threats → 200 with every indicator and the totals of the data', async () => {
      const { status, body } = await get<ThreatsResponse>(harness.url, ROUTES.threats, { ...exp.range });
      expect(status).toBe(200);
      expect(body.range).toEqual(exp.range);
      expect(body.totals.indicators).toBe(exp.indicators.size);
      expect(body.totals.threatFlows).toBe(exp.threatFlows);
      expect(body.totals.allFlows).toBe(exp.allFlows);
      expect(body.threats.map((t) => t.indicator).sort()).toEqual([...exp.indicators.keys()].sort());
      for (const row of body.threats) {
        const e = exp.indicators.get(row.indicator)!;
        expect({ ip: row.indicator, flows: row.flows, bytes: row.bytes, internalHosts: row.internalHosts }).toEqual({
          ip: row.indicator,
          flows: e.flows,
          bytes: e.bytes,
          internalHosts: e.internal.size,
        });
      }
      expect(body.threats.find((t) => t.indicator === '45.33.32.156')?.launchUrl).toBe('https://community.riskiq.com/research?query=45.33.32.156');
    });

    test('flows of one indicator → 200 with its count and internal counterparts', async () => {
      const ip = '45.33.32.156';
      const { status, body } = await get<FlowsResponse>(harness.url, ROUTES.flows, { ...exp.range, ip, role: 'indicator' });
      expect(status).toBe(200);
      expect(body.ip).toBe(ip);
      expect(body.total).toBe(exp.indicators.get(ip)!.flows);
      expect(body.counterparts.map((c) => c.ip).sort()).toEqual([...exp.indicators.get(ip)!.internal].sort());
    });

    test('db status → 200 describing the demo blocklist', async () => {
      const { status, body } = await get<{ present: boolean; indicators: number }>(harness.url, ROUTES.dbStatus, {});
      expect(status).toBe(200);
      expect(body.present).toBe(true);
      expect(body.indicators).toBe(exp.blocklistEntries);
    });

    test('the page, its bundle and stylesheet are served; unknown paths are 404, other methods 405', async () => {
      const page = await fetch(harness.url);
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toContain('<script src="/main.js"></script>');
      // The browser gets the launch template and Kibana URL, never the Elasticsearch URL.
      expect(html).toContain(JSON.stringify(KIBANA_URL));
      expect(html).not.toContain(ES_URL);
      for (const [path, type] of [
        ['/main.js', 'text/javascript'],
        ['/main.css', 'text/css'],
      ]) {
        const res = await fetch(new URL(path, harness.url));
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toContain(type);
        expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(10_000);
      }
      const missing = await fetch(new URL('/nope', harness.url));
      expect(missing.status).toBe(404);
      expect(((await missing.json()) as ErrorBody).statusCode).toBe(404);
      const post = await fetch(new URL(ROUTES.threats, harness.url), { method: 'POST' });
      expect(post.status).toBe(405);
    });

    test('a malformed request target → 400 JSON, not 500', async () => {
      const { port } = new URL(harness.url);
      const raw = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1', () => socket.end('GET http://[ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'));
        let data = '';
        socket.setEncoding('utf8');
        socket.on('data', (d: string) => (data += d));
        socket.on('end', () => resolve(data));
        socket.on('error', reject);
      });
      expect(raw).toMatch(/^HTTP\/1\.1 400 /);
      expect(raw).toMatch(/content-type: application\/json/i);
      expect(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4))).toEqual({ statusCode: 400, error: 'Bad Request', message: 'malformed request target' });
    });

    test.each([
      ['a repeated key', ROUTES.threats, 'perPage=5&perPage=6', /^perPage given more than once$/],
      ['a repeated ip', ROUTES.flows, 'ip=10.0.0.5&ip=10.0.0.6', /^ip given more than once$/],
      ['an unknown key', ROUTES.threats, 'pageSize=5', /^unknown parameter pageSize/],
      ['an impossible day', ROUTES.flows, 'ip=10.0.0.5&from=2026-02-30T00:00:00Z', /no such day/],
    ])('%s → 400 with the parse function\'s message', async (_name, path, extra, message) => {
      const qs = new URLSearchParams(exp.range);
      for (const [k, v] of new URLSearchParams(extra)) if (k === 'from' || k === 'to') qs.set(k, v);
      const rest = [...new URLSearchParams(extra)].filter(([k]) => k !== 'from' && k !== 'to');
      const url = `${harness.url.replace(/\/$/, '')}${path}?${qs}&${new URLSearchParams(rest)}`;
      const res = await fetch(url);
      const body = (await res.json()) as ErrorBody;
      expect([res.status, body.statusCode, body.message]).toEqual([400, 400, expect.stringMatching(message)]);
    });

    test('an Elasticsearch 400 for a search the plugin built → 500 with Elasticsearch\'s reason', async () => {
      // An index mapped dynamically, not with the collector's mapping: matched.atomic is text, and the terms
      // aggregation on it is refused (400, fielddata disabled).
      const plain = `tf-harness-test-${id}-plain`;
      await es.index({ index: plain, document: { '@timestamp': Date.parse(exp.range.from), threat: { enrichments: [{ matched: { atomic: '45.33.32.156' } }] } }, refresh: true });
      const bad = await startHarness({ port: 0, esUrl: ES_URL, flowsIndex: plain, indicatorsIndex, build: false });
      try {
        const { status, body } = await get<ErrorBody>(bad.url, ROUTES.threats, { ...exp.range });
        expect(status).toBe(500);
        expect(body).toEqual({ statusCode: 500, error: 'Internal Server Error', message: expect.stringMatching(/^Elasticsearch answered 400: illegal_argument_exception: Fielddata is disabled on \[threat\.enrichments\.matched\.atomic\]/) });
      } finally {
        await bad.close();
        await es.indices.delete({ index: plain, ignore_unavailable: true });
      }
    });

    test('Elasticsearch unreachable → 502 with an ErrorBody that says so', async () => {
      // Port 1 on loopback: nothing listens there, so the connection is refused at once.
      const down = await startHarness({ port: 0, esUrl: 'http://127.0.0.1:1', flowsIndex, indicatorsIndex, build: false });
      try {
        const { status, body } = await get<ErrorBody>(down.url, ROUTES.threats, { ...exp.range });
        expect(status).toBe(502);
        expect(body).toEqual({ statusCode: 502, error: 'Bad Gateway', message: expect.stringContaining('http://127.0.0.1:1') });
      } finally {
        await down.close();
      }
    });
  });

  describe('headless Chromium', () => {
    let browser: Browser;
    let page: Page;
    const pageErrors: string[] = [];
    // Console errors too: a missing icon chunk or a failed request shows only there.
    const consoleErrors: string[] = [];

    beforeAll(async () => {
      browser = await launchChromium();
      page = await newHarnessPage(browser);
      page.on('pageerror', (e) => pageErrors.push(e.message));
      page.on('console', (m) => {
        if (m.type() === 'error') consoleErrors.push(m.text());
      });
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
    });

    test('lists the threat IPs, launches PassiveTotal, follows the date picker, opens the flyout; screenshot saved', async () => {
      // ?from=&to= reaches the app as its initial range (AppServices.initialRange).
      const q = `?from=${encodeURIComponent(exp.range.from)}&to=${encodeURIComponent(exp.range.to)}`;
      await page.goto(`${harness.url}${q}`);
      await page.waitForSelector(subj('threatflowThreatsTable'), { timeout: 30_000 });
      const allIps = [...exp.indicators.keys()].sort();
      await tableShows(page, allIps);

      // The launch links, written out by hand: one IPv4, and one IPv6 whose colons are URL-encoded.
      const table = page.locator(subj('threatflowThreatsTable'));
      expect(await table.locator(subj('threatflowLaunchLink-45.33.32.156')).getAttribute('href')).toBe(
        'https://community.riskiq.com/research?query=45.33.32.156',
      );
      expect(await table.locator(subj('threatflowLaunchLink-2606:4700::1111')).getAttribute('href')).toBe(
        'https://community.riskiq.com/research?query=2606%3A4700%3A%3A1111',
      );

      // The date picker, as an analyst uses it: a few seconds at the start of the data, then all of it.
      const narrow = { from: exp.range.from, to: new Date(Date.parse(exp.range.from) + 4000).toISOString() };
      const narrowIps = indicatorsIn(exp, narrow);
      expect(narrowIps.length).toBeGreaterThan(0);
      expect(narrowIps.length).toBeLessThan(allIps.length);
      await setAbsoluteRange(page, narrow);
      await tableShows(page, narrowIps);
      await setAbsoluteRange(page, exp.range);
      await tableShows(page, allIps);

      // 45.33.32.156 talked to one internal host and to a public address: only the former is a counterpart.
      const ip = '45.33.32.156';
      const e = exp.indicators.get(ip)!;
      await page.locator(subj(`threatflowOpenFlyout-${ip}`)).click();
      const flyout = page.locator(subj('threatflowFlyout'));
      await flyout.waitFor();
      await flyout.locator(subj('threatflowFlyoutStats')).waitFor({ timeout: 30_000 });
      expect(await flyout.locator(subj('threatflowFlyoutTitle')).innerText()).toContain(ip);
      const stats = await flyout.locator(subj('threatflowFlyoutStats')).innerText();
      // EuiStat renders the description above the title: "Flows\n31".
      expect(stats).toMatch(new RegExp(`\\bFlows\\s+${e.flows}\\b`));
      const counterparts = await flyout.locator('[data-test-subj^="threatflowCounterpart-"]').evaluateAll((els) =>
        els.map((el) => (el.getAttribute('data-test-subj') ?? '').slice('threatflowCounterpart-'.length)),
      );
      expect(counterparts.sort()).toEqual([...e.internal].sort());
      // Discover, under the configured Kibana, on the app's range and filtered on the IP.
      expect(await flyout.locator(subj('threatflowDiscoverLink')).getAttribute('href')).toBe(`${KIBANA_URL}${discoverPath(ip, exp.range)}`);

      mkdirSync(join(REPO_ROOT, 'test-results'), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      expect(pageErrors).toEqual([]);
      expect(consoleErrors).toEqual([]);
    }, 120_000);
  });

  describe('CLI and configuration', () => {
    test('URLs are redacted with the URL parser: no username or password, whatever they hold', () => {
      expect(redactUrl('http://us@er:p@ss@host')).toBe('http://host');
      expect(redactUrl('https://elastic:changeme@es.example:9243/prefix')).toBe('https://es.example:9243/prefix');
      expect(redactUrl('http://127.0.0.1:9200')).toBe('http://127.0.0.1:9200');
      expect(redactUrl('not a url user:secret')).toBe('(invalid URL)');
    });

    test('a configuration error never echoes credentials', () => {
      for (const value of ['user:secret@127.0.0.1:9400', 'ftp://user:secret@host', '//user:secret@host:9200', 'secret']) {
        let message = '';
        try {
          resolveConfig(configFromEnv({ TF_HARNESS_ES_URL: value }));
        } catch (e) {
          message = (e as Error).message;
        }
        expect([value, message]).toEqual([value, expect.stringMatching(/^TF_HARNESS_ES_URL is not an (absolute|http\(s\)) URL/)]);
        expect([value, message.includes('secret')]).toEqual([value, false]);
      }
    });

    test('--demo with Elasticsearch unreachable says so and how to start it', async () => {
      const written: string[] = [];
      const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
        written.push(String(chunk));
        return true;
      });
      let code: number;
      try {
        code = await main(['--demo'], { TF_HARNESS_ES_URL: 'http://elastic:secret@127.0.0.1:1', TF_HARNESS_PORT: '0' });
      } finally {
        spy.mockRestore();
      }
      const text = written.join('');
      expect(code).toBe(1);
      expect(text).toContain('Elasticsearch at http://127.0.0.1:1 is not reachable');
      expect(text).toContain('bash tools/elasticsearch/es.sh start');
      expect(text).not.toContain('secret');
    });
  });
});
