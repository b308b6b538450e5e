// SPDX-License-Identifier: Apache-2.0
/**
 * `threatflow config` as users run it: the built CLI (`collector/dist/cli/main.js`) in a child process with
 * a clean environment. The build is refreshed first when any CLI or config source is newer than it (tsc
 * still emits when unrelated files fail to type-check; `npm test` builds anyway).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, redactedConfig } from '../../src/config';
import { VARIABLES } from '../../src/config/variables';
import { REPO_ROOT } from '../helpers/testdata';

const MAIN = join(REPO_ROOT, 'collector', 'dist', 'cli', 'main.js');
const SOURCES = ['config', 'cli'].map((d) => join(REPO_ROOT, 'collector', 'src', d));

function newestSource(): number {
  let newest = 0;
  for (const dir of SOURCES) {
    for (const f of readdirSync(dir)) if (f.endsWith('.ts')) newest = Math.max(newest, statSync(join(dir, f)).mtimeMs);
  }
  return newest;
}

beforeAll(() => {
  if (!existsSync(MAIN) || statSync(MAIN).mtimeMs < newestSource()) {
    spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'collector'], { cwd: REPO_ROOT, stdio: 'ignore' });
  }
  expect(existsSync(MAIN)).toBe(true);
}, 180_000);

function cli(args: string[], env: Record<string, string>): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('threatflow config', () => {
  it('never prints credentials written inside a URL or an address, nor suggests brackets for them', () => {
    for (const env of [
      { EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_THREAT_ENDPOINT: 'https://user:hunter2@host.example/v2/blocklist' },
      { EF_OUTPUT_ELASTICSEARCH_ADDRESSES: 'user:hunter2@127.0.0.1:9200' },
    ]) {
      const r = cli(['config'], env);
      expect(r.code).toBe(2);
      expect(r.stdout + r.stderr).not.toContain('hunter2');
      expect(r.stderr).toMatch(/credentials in the (URL|address) are not allowed: use /);
      expect(r.stderr).not.toContain('[user');
    }
  });

  it('trims single values as it trims lists (EF_API_PORT=" 18092")', () => {
    const r = cli(['config'], { EF_API_PORT: ' 18092', EF_FLOW_SERVER_UDP_PORT: ' 2055' });
    expect(r.code).toBe(0);
    const c = JSON.parse(r.stdout) as { api: { port: number }; server: { udpPorts: number[] } };
    expect(c.api.port).toBe(18092);
    expect(c.server.udpPorts).toEqual([2055]);
  });

  it('prints every problem on stderr and exits 2 on a bad environment', () => {
    const key = randomBytes(20).toString('base64');
    const r = cli(['config'], {
      EF_FLOW_SERVER_UDP_PORT: '70000',
      EF_LOGGER_LEVEL: 'loud',
      EF_OUTPUT_RISKIQ_CUSTOMER_ENCRYPTION_KEY: key,
      EF_FLOW_OUTPUT_RISKIQ_HOST: 'flow.riskiq.net',
      EF_OUTPUT_ELASTICSEARCH_ADRESSES: 'es:9200',
    });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe('threatflow: invalid configuration (5 problems):');
    expect(r.stderr).toContain(
      '  EF_FLOW_SERVER_UDP_PORT: "70000" is not valid: a comma-separated list of UDP ports 1-65535; 70000 is not a port 1-65535\n',
    );
    expect(r.stderr).toContain('  EF_LOGGER_LEVEL: "loud" is not valid: one of debug, info, warn, error\n');
    expect(r.stderr).toContain('  EF_OUTPUT_RISKIQ_CUSTOMER_ENCRYPTION_KEY: [redacted] is not valid: ');
    expect(r.stderr).toContain('  EF_FLOW_OUTPUT_RISKIQ_HOST was renamed EF_OUTPUT_RISKIQ_HOST in 6.0: rename the variable\n');
    expect(r.stderr).toContain('  unknown variable EF_OUTPUT_ELASTICSEARCH_ADRESSES; did you mean EF_OUTPUT_ELASTICSEARCH_ADDRESSES?\n');
    expect(r.stderr).not.toContain(key);
  });

  it('prints the effective configuration as JSON, secrets redacted, warnings on stderr', () => {
    const password = randomBytes(18).toString('base64');
    const aesKey = randomBytes(16).toString('base64');
    const env = {
      EF_FLOW_SERVER_UDP_PORT: '2055,4739,6343',
      EF_OUTPUT_ELASTICSEARCH_ENABLE: 'true',
      EF_OUTPUT_ELASTICSEARCH_USERNAME: 'elastic',
      EF_OUTPUT_ELASTICSEARCH_PASSWORD: password,
      EF_OUTPUT_RISKIQ_ENABLE: 'true',
      EF_OUTPUT_RISKIQ_CUSTOMER_UUID: '123e4567-e89b-12d3-a456-426614174000',
      EF_OUTPUT_RISKIQ_CUSTOMER_ENCRYPTION_KEY: aesKey,
    };
    const r = cli(['config'], env);
    expect(r.code).toBe(0);
    const printed = JSON.parse(r.stdout) as ReturnType<typeof redactedConfig>;
    expect(printed).toEqual(redactedConfig(loadConfig(env).config));
    expect(printed.server.udpPorts).toEqual([2055, 4739, 6343]);
    expect(printed.output.elasticsearch.password).toBe('[redacted]');
    expect(printed.output.riskiq.customerEncryptionKey).toBe('[redacted]');
    expect(r.stderr).toBe(
      'threatflow: warning: EF_OUTPUT_RISKIQ_ENABLE=true without EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_THREAT_ENABLE=true: flows are exported to RiskIQ but not enriched with its threat DB; the RiskIQ integration needs both\n',
    );
    expect(r.stdout + r.stderr).not.toContain(password);
    expect(r.stdout + r.stderr).not.toContain(aesKey);
  });

  it('with no EF_ variable prints the defaults', () => {
    const r = cli(['config'], {});
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual(redactedConfig(loadConfig({}).config));
  });

  it('--variables prints the Markdown reference, whatever the environment', () => {
    const r = cli(['config', '--variables'], { EF_FLOW_SERVER_UDP_PORT: 'bad' });
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('| Variable | Default | Allowed | Meaning |');
    expect(lines).toHaveLength(VARIABLES.length + 2);
    expect(r.stdout).toContain('| `EF_FLOW_SERVER_UDP_PORT` | `2055` | a comma-separated list of UDP ports 1-65535 |');
  });

  it('lists config among the sub-commands', () => {
    const r = cli(['--help'], {});
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\s+config \[options\]/m);
    expect(r.stdout).toMatch(/^\s+run/m);
  });
});
