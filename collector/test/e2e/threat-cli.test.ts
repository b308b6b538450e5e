// SPDX-License-Identifier: Apache-2.0
/**
 * The threat DB from the built CLI, as a user runs it, against a loopback HTTPS PassiveTotal whose CA is
 * trusted through NODE_EXTRA_CA_CERTS (verification stays on): `threatdb fetch|lookup|stats`, `decode
 * --threat-db` with a blocklist file and with the persisted DB, and the startup errors of `threatflow run`
 * (refresh interval 59, missing key). Expected matches come from a brute-force reference over the demo
 * blocklist read by hand, not from the collector's parser.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, freeUdpPort, requireBuiltCli } from '../helpers/collector';
import { CAPTURES_DIR } from '../helpers/exporters';
import {
  DEMO_BLOCKLIST,
  demoEntries,
  generatorPrivate,
  randomKey,
  referenceMatch,
  startFakePassiveTotal,
  testPki,
  type FakePassiveTotal,
} from './threat-api-server';

const USER = 'analyst@example.com';
const baseEnv = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EF_')));

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI as a child, asynchronously: the fake API lives in this process, so a synchronous spawn would
 * keep it from answering. Killed after 60 s.
 */
function cli(args: string[], env: Record<string, string> = {}, cwd?: string): Promise<Run> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...baseEnv(), ...env }, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (b) => (stdout += b));
  child.stderr!.on('data', (b) => (stderr += b));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    }),
  );
}

describe('threatflow threatdb / decode --threat-db / run startup checks', () => {
  const key = randomKey();
  let api: FakePassiveTotal;
  let dir: string;
  let env: Record<string, string>;
  const seen: string[] = [];

  beforeAll(async () => {
    requireBuiltCli();
    api = await startFakePassiveTotal({ tls: true, user: USER, key, behaviour: { kind: 'ok', body: readFileSync(DEMO_BLOCKLIST), gzip: true } });
    dir = mkdtempSync(join(tmpdir(), 'tf-threat-cli-'));
    env = {
      NODE_EXTRA_CA_CERTS: testPki().caFile,
      EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_API_USER: USER,
      EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_API_KEY: key,
      EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_THREAT_ENDPOINT: api.url,
      EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_THREAT_CACHE_PATH: join(dir, 'threat-db.bin'),
    };
  });
  afterAll(async () => {
    await api?.close();
    for (const s of seen) expect(s).not.toContain(key);
  });
  const keep = (r: Run) => {
    seen.push(r.stdout ?? '', r.stderr ?? '');
    return r;
  };

  it('threatdb fetch: downloads over verified HTTPS, logs the documented lines, persists, prints stats', async () => {
    const r = keep(await cli(['threatdb', 'fetch', '--no-progress'], env));
    expect(r.status).toBe(0);
    const msgs = r.stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l).msg as string);
    expect(msgs.filter((m) => m.startsWith('RiskIQ Threats:'))).toEqual([
      `RiskIQ Threats: Fetching Threat DB from enrichment API at ${api.url}`,
      expect.stringMatching(/^RiskIQ Threats: received enrichment API response: \d+ bytes$/),
      'RiskIQ Threats: DB successfully populated.',
    ]);
    expect(existsSync(env.EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_THREAT_CACHE_PATH)).toBe(true);
    expect(r.stdout).toContain(`entries:     9 (IPv4 7, IPv6 2)`);
    expect(r.stdout).toMatch(/v4\/32 +4/);
    expect(r.stdout).toContain(`source:      ${api.url}`);
  });

  it('threatdb lookup: a listed address (exact and via a CIDR) exits 0 with its tags; an unlisted one exits 1', async () => {
    const a = keep(await cli(['threatdb', 'lookup', '45.33.32.156'], env));
    expect(a.status).toBe(0);
    expect(a.stdout).toContain('45.33.32.156 is listed: 45.33.32.156');
    expect(a.stdout).toContain('tags:        scanner, ssh-bruteforce');
    expect(a.stdout).toContain('launch:      https://community.riskiq.com/research?query=45.33.32.156');
    const b = keep(await cli(['threatdb', 'lookup', '185.220.101.1', '--json'], env));
    expect(b.status).toBe(0);
    expect(JSON.parse(b.stdout).match).toMatchObject({ indicator: '185.220.101.0/24', tags: ['tor-exit', 'rdp-bruteforce'] });
    const c = keep(await cli(['threatdb', 'lookup', '8.8.8.8'], env));
    expect(c.status).toBe(1);
    expect(c.stdout).toMatch(/^8\.8\.8\.8 is not listed \(9 entries/);
    const d = keep(await cli(['threatdb', 'lookup', 'not-an-ip'], env));
    expect(d.status).toBe(1);
  });

  it('threatdb stats: entries by family and prefix length, age, source', async () => {
    const r = keep(await cli(['threatdb', 'stats', '--json'], env));
    expect(r.status).toBe(0);
    const s = JSON.parse(r.stdout);
    expect([s.entries, s.ipv4Entries, s.ipv6Entries]).toEqual([9, 7, 2]);
    expect(s.byPrefix).toEqual({ 'v4/32': 4, 'v4/24': 1, 'v4/23': 1, 'v4/15': 1, 'v6/128': 1, 'v6/32': 1 });
    expect(s.ageSeconds).toBeLessThan(120);
    expect(s.source).toBe(api.url);
  });

  it('threatdb fetch with a wrong key: exit 1, an error naming both variables, the key nowhere', async () => {
    const wrong = randomKey();
    const r = await cli(['threatdb', 'fetch', '--no-progress'], { ...env, EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_API_KEY: wrong });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_API_USER and EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_API_KEY');
    expect(r.stderr).toContain('RiskIQ Threats: failed to initialize DB: the enrichment API refused the credentials (HTTP 401)');
    expect(r.stdout + r.stderr).not.toContain(wrong);
  });

  it('decode --threat-db: threat fields exactly on the flows with a listed public address, same with the persisted DB', async () => {
    const capture = join(CAPTURES_DIR, 'softflowd-ipfix.pcap');
    const withCsv = keep(await cli(['decode', '--quiet', '--threat-db', DEMO_BLOCKLIST, capture]));
    const withCache = keep(await cli(['decode', '--quiet', '--threat-db', env.EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_THREAT_CACHE_PATH, capture]));
    expect(withCsv.status).toBe(0);
    expect(withCache.status).toBe(0);
    const docs = withCsv.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(docs.length).toBe(24);
    const entries = demoEntries();
    let matched = 0;
    for (const d of docs) {
      const side = (ip: string) => (generatorPrivate(ip) ? null : referenceMatch(entries, ip));
      const s = side(d.source.ip);
      const t = side(d.destination.ip);
      const label = `${d.source.ip} > ${d.destination.ip}`;
      if (!s && !t) {
        expect([label, d.threat, d.sec]).toEqual([label, undefined, undefined]);
        continue;
      }
      matched++;
      const names = [...new Set([...(s?.tags ?? []), ...(t?.tags ?? [])])];
      expect([label, d.sec]).toEqual([label, { threat: { name: names, feed: { name: 'RiskIQ PassiveTotal' } } }]);
      expect([label, d.flow.src?.sec.threat.name, d.flow.dst?.sec.threat.name]).toEqual([label, s?.tags, t?.tags]);
      const want = [
        ...(s ? [{ ip: d.source.ip, field: 'source.ip', e: s }] : []),
        ...(t ? [{ ip: d.destination.ip, field: 'destination.ip', e: t }] : []),
      ].map((x) => ({
        indicator: {
          ip: x.ip,
          type: x.ip.includes(':') ? 'ipv6-addr' : 'ipv4-addr',
          provider: 'RiskIQ PassiveTotal',
          reference: `https://community.riskiq.com/research?query=${encodeURIComponent(x.ip)}`,
          description: x.e.tags.join(', '),
          confidence: x.e.confidence,
          first_seen: x.e.firstSeen,
          last_seen: x.e.lastSeen,
        },
        matched: { atomic: x.ip, field: x.field, type: 'indicator_match_rule' },
      }));
      expect([label, d.threat]).toEqual([label, { enrichments: want }]);
    }
    // inbound-ssh x2, inbound-rdp x2, syn-scan, outbound-https x2, icmpv6 x2, ipv6-https x2, external-ntp.
    expect(matched).toBe(12);
    // The private 10.0.0.5 is listed but never matched.
    expect(docs.some((d) => d.threat?.enrichments.some((e: any) => e.indicator.ip === '10.0.0.5'))).toBe(false);
    expect(withCache.stdout).toBe(withCsv.stdout);
  });

  it('run: a refresh interval of 59 minutes stops startup with an error naming the variable', async () => {
    const r = await cli(['run'], { ...env, EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_THREAT_ENABLE: 'true', EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_THREAT_REFRESH_INTERVAL: '59' }, dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_THREAT_REFRESH_INTERVAL/);
    expect(r.stderr).toMatch(/59/);
  });

  it('run: the enricher on without the key stops startup naming the variable', async () => {
    const r = await cli(['run'], { ...env, EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_THREAT_ENABLE: 'true', EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_API_KEY: '' }, dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_API_KEY');
  });

  it('run: a bad include/exclude file stops startup', async () => {
    const file = join(dir, 'inclexcl.txt');
    writeFileSync(file, 'not an address\n');
    const child = spawn(process.execPath, [CLI, 'run'], {
      cwd: dir,
      env: {
        ...baseEnv(),
        ...env,
        EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_THREAT_ENABLE: 'true',
        EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_THREAT_INCLEXCL_PATH: file,
        EF_FLOW_SERVER_UDP_IP: '127.0.0.1',
        EF_FLOW_SERVER_UDP_PORT: String(await freeUdpPort()),
        EF_API_ENABLE: 'false',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (b) => (out += b));
    child.stderr!.on('data', (b) => (out += b));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    clearTimeout(timer);
    expect(code).toBe(1);
    expect(out).toContain('inclexcl.txt:1');
  });
});
