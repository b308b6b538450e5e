// SPDX-License-Identifier: Apache-2.0
/**
 * The blocklist download against a real HTTP(S) server on loopback playing PassiveTotal: basic auth, gzip,
 * TLS verified with a CA made at test time, the size cap, the deadline over the whole body, and the exact
 * log lines of DESIGN.md §5. The API key is random and must never appear in a log line or an error.
 */
import { gunzipSync } from 'node:zlib';
import {
  DEFAULT_MAX_DOWNLOAD_BYTES,
  fetchBlocklist,
  redactUrl,
  ThreatDownloadError,
  type DownloadConfig,
} from '../../../src/enrich/riskiq-threat/download';
import { memoryLogger } from '../../helpers/es';
import { randomKey, startFakePassiveTotal, testPki, type FakePassiveTotal } from '../../e2e/threat-api-server';

const USER = 'analyst@example.com';
const BODY = 'ip,tags\n45.33.32.156,scanner\n185.220.101.0/24,tor-exit\n'.repeat(50);

function msgs(lines: string[]): string[] {
  return lines.map((l) => JSON.parse(l).msg as string);
}

describe('blocklist download', () => {
  const key = randomKey();
  let https: FakePassiveTotal;
  let http: FakePassiveTotal;
  const allText: string[] = [];

  beforeAll(async () => {
    https = await startFakePassiveTotal({ tls: true, user: USER, key, behaviour: { kind: 'ok', body: BODY } });
    http = await startFakePassiveTotal({ tls: false, user: USER, key, behaviour: { kind: 'ok', body: BODY } });
  });
  afterAll(async () => {
    await https?.close();
    await http?.close();
    // The key never leaked into anything a test saw.
    for (const t of allText) expect(t).not.toContain(key);
  });

  const cfg = (server: FakePassiveTotal, over: Partial<DownloadConfig> = {}): DownloadConfig => ({
    endpoint: server.url,
    user: USER,
    key,
    timeoutSeconds: 5,
    ca: testPki().caPem,
    ...over,
  });

  async function attempt(c: DownloadConfig): Promise<{ lines: string[]; result?: Buffer; error?: ThreatDownloadError }> {
    const { log, lines } = memoryLogger();
    try {
      const res = await fetchBlocklist(c, log);
      allText.push(...lines);
      return { lines: msgs(lines), result: res.body };
    } catch (err) {
      allText.push(...lines, String((err as Error).message), String((err as Error).stack));
      return { lines: msgs(lines), error: err as ThreatDownloadError };
    }
  }

  it('HTTPS with the CA: the body arrives whole, with basic auth and Accept-Encoding: gzip', async () => {
    https.behaviour = { kind: 'ok', body: BODY };
    https.requests.length = 0;
    const r = await attempt(cfg(https));
    expect(r.error).toBeUndefined();
    expect(r.result!.toString()).toBe(BODY);
    expect(https.requests[0].authorization).toBe(`Basic ${Buffer.from(`${USER}:${key}`).toString('base64')}`);
    expect(https.requests[0].acceptEncoding).toContain('gzip');
    expect(r.lines).toEqual([
      `RiskIQ Threats: Fetching Threat DB from enrichment API at ${https.url}`,
      `RiskIQ Threats: received enrichment API response: ${Buffer.byteLength(BODY)} bytes`,
    ]);
  });

  it('TLS is verified: without the CA the self-signed server is refused', async () => {
    const r = await attempt(cfg(https, { ca: undefined }));
    expect(r.error).toBeInstanceOf(ThreatDownloadError);
    expect(r.error!.kind).toBe('network');
    expect(r.lines[1]).toMatch(/^RiskIQ Threats: failed to read the complete enrichment API response: .*(certificate|self-signed|issuer)/i);
  });

  it('gzip Content-Encoding: the compressed body is returned as received and counted as received', async () => {
    http.behaviour = { kind: 'ok', body: BODY, gzip: true };
    const { log, lines } = memoryLogger();
    const res = await fetchBlocklist(cfg(http), log);
    expect(res.contentEncoding).toBe('gzip');
    expect(res.body[0]).toBe(0x1f);
    expect(gunzipSync(res.body).toString()).toBe(BODY);
    expect(msgs(lines)[1]).toBe(`RiskIQ Threats: received enrichment API response: ${res.body.length} bytes`);
    expect(res.body.length).toBeLessThan(Buffer.byteLength(BODY));
  });

  it('a chunked body (no Content-Length) arrives whole', async () => {
    http.behaviour = { kind: 'ok', body: BODY, chunked: true };
    const r = await attempt(cfg(http));
    expect(r.result!.toString()).toBe(BODY);
  });

  for (const status of [401, 403]) {
    it(`HTTP ${status}: an error naming both credential variables, never the key`, async () => {
      https.behaviour = { kind: 'status', status, body: `denied for key ${key}` };
      const r = await attempt(cfg(https));
      expect(r.error!.kind).toBe('auth');
      expect(r.error!.status).toBe(status);
      expect(r.error!.message).toBe(
        `the enrichment API refused the credentials (HTTP ${status}): check EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_API_USER and EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_API_KEY`,
      );
      expect(r.lines[1]).toBe(`RiskIQ Threats: failed to read the complete enrichment API response: ${r.error!.message}`);
    });
  }

  it('wrong key: the server answers 401 and the error says which variables to check', async () => {
    https.behaviour = { kind: 'ok', body: BODY };
    const wrong = randomKey();
    const { log, lines } = memoryLogger();
    await expect(fetchBlocklist(cfg(https, { key: wrong }), log)).rejects.toThrow(/EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_API_KEY/);
    expect(lines.join('\n')).not.toContain(wrong);
  });

  it('HTTP 503: the status (and what the server said, scrubbed of the key) in the failure line', async () => {
    http.behaviour = { kind: 'status', status: 503, body: `maintenance; your key ${key} is fine` };
    const r = await attempt(cfg(http));
    expect(r.error!.kind).toBe('http');
    expect(r.lines[1]).toBe('RiskIQ Threats: failed to read the complete enrichment API response: HTTP 503: maintenance; your key [redacted] is fine');
  });

  it('a reset connection', async () => {
    http.behaviour = { kind: 'reset' };
    const r = await attempt(cfg(http));
    expect(r.error).toBeInstanceOf(ThreatDownloadError);
    expect(r.lines[1]).toMatch(/^RiskIQ Threats: failed to read the complete enrichment API response: .*ECONNRESET/);
  });

  it('a body shorter than its Content-Length', async () => {
    http.behaviour = { kind: 'truncate', body: BODY, sent: 100 };
    const r = await attempt(cfg(http));
    expect(r.error!.kind).toBe('truncated');
    expect(r.lines[1]).toMatch(new RegExp(`^RiskIQ Threats: failed to read the complete enrichment API response: connection (lost|closed) after 100 of ${Buffer.byteLength(BODY)} bytes`));
  });

  it('a body that stalls past the timeout ends at the deadline (headers arrived long before)', async () => {
    https.behaviour = { kind: 'stall', body: BODY, sent: 50 };
    const started = Date.now();
    const r = await attempt(cfg(https, { timeoutSeconds: 1 }));
    const took = Date.now() - started;
    expect(r.error!.kind).toBe('timeout');
    expect(r.lines[1]).toBe('RiskIQ Threats: failed to read the complete enrichment API response: timeout after 1 s (the whole download, body included)');
    expect(took).toBeGreaterThanOrEqual(950);
    expect(took).toBeLessThan(5000);
  });

  it('the size cap, with and without a Content-Length', async () => {
    http.behaviour = { kind: 'ok', body: BODY };
    const r1 = await attempt(cfg(http, { maxBytes: 1000 }));
    expect(r1.error!.kind).toBe('too_large');
    http.behaviour = { kind: 'ok', body: BODY, chunked: true };
    const r2 = await attempt(cfg(http, { maxBytes: 1000 }));
    expect(r2.error!.kind).toBe('too_large');
    expect(DEFAULT_MAX_DOWNLOAD_BYTES).toBeGreaterThanOrEqual(64 * 1024 * 1024);
  });

  it('credentials in the endpoint URL are never logged', async () => {
    const u = new URL(http.url);
    u.username = 'someone';
    u.password = key;
    http.behaviour = { kind: 'ok', body: BODY };
    const r = await attempt(cfg(http, { endpoint: u.toString() }));
    expect(r.lines[0]).toBe(`RiskIQ Threats: Fetching Threat DB from enrichment API at ${http.url}`);
    expect(redactUrl('https://u:p@api.example/x?api_key=s3cret&q=1')).toBe('https://api.example/x?api_key=REDACTED&q=1');
  });
});
