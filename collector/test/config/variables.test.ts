// SPDX-License-Identifier: Apache-2.0
/** The declaration table itself: names, paths, defaults, the generated reference, and small helpers. */
import { describeVariables, defaultConfig, effectiveWorkers, elasticsearchNodeUrls, loadConfig, variablesMarkdown } from '../../src/config';
import { parseValue } from '../../src/config/env';
import { DEPRECATED_PREFIXES, envText, VARIABLES } from '../../src/config/variables';

describe('the variable table', () => {
  it('has unique EF_ names and unique config paths', () => {
    const names = VARIABLES.map((d) => d.name);
    const paths = VARIABLES.map((d) => d.path);
    expect(new Set(names).size).toBe(names.length);
    expect(new Set(paths).size).toBe(paths.length);
    for (const n of names) expect(n).toMatch(/^EF_[A-Z0-9_]+$/);
  });

  it('declares the variables of DESIGN.md by their ElastiFlow names', () => {
    const names = new Set(VARIABLES.map((d) => d.name));
    for (const n of [
      'EF_FLOW_SERVER_UDP_IP',
      'EF_FLOW_SERVER_UDP_PORT',
      'EF_FLOW_SERVER_UDP_READ_BUFFER_MAX_SIZE',
      'EF_PROCESSOR_DECODE_IPFIX_ENABLE',
      'EF_PROCESSOR_ENRICH_IPADDR_PRIVATE_CIDRS',
      'EF_PROCESSOR_EXPAND_CLISRV',
      'EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_THREAT_ENABLE',
      'EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_LAUNCH_URL',
      'EF_OUTPUT_RISKIQ_CUSTOMER_ENCRYPTION_KEY',
      'EF_OUTPUT_ELASTICSEARCH_TIMESTAMP_SOURCE',
      'EF_OUTPUT_ELASTICSEARCH_SPOOL_MAX_SIZE',
      'EF_OUTPUT_STDOUT_FORMAT',
      'EF_API_PORT',
    ]) {
      expect(names).toContain(n);
    }
    expect(VARIABLES).toHaveLength(70);
  });

  it('every default is a value its own parser accepts, unchanged', () => {
    for (const d of VARIABLES) {
      const r = parseValue(d.kind, envText(d.default));
      expect({ name: d.name, ...r }).toEqual({ name: d.name, ok: true, value: d.default });
    }
  });

  it('every description is one capitalised sentence', () => {
    for (const d of VARIABLES) {
      expect(d.description).toMatch(/^[A-Z`].*\.$/);
      expect(d.description).not.toContain('\n');
    }
  });

  it('deprecated prefixes point at declared variables', () => {
    for (const p of DEPRECATED_PREFIXES) {
      expect(VARIABLES.some((d) => d.name.startsWith(p.to))).toBe(true);
      expect(VARIABLES.some((d) => d.name.startsWith(p.from))).toBe(false);
    }
  });

  it('defaultConfig equals loading an empty environment, and is a fresh object each time', () => {
    expect(loadConfig({}).config).toEqual(defaultConfig());
    const a = defaultConfig();
    a.server.udpPorts.push(9999);
    expect(defaultConfig().server.udpPorts).toEqual([2055]);
  });
});

describe('the generated reference', () => {
  it('describes every variable', () => {
    const rows = describeVariables();
    expect(rows.map((r) => r.name)).toEqual(VARIABLES.map((d) => d.name));
    const port = rows.find((r) => r.name === 'EF_FLOW_SERVER_UDP_PORT');
    expect(port).toEqual({
      name: 'EF_FLOW_SERVER_UDP_PORT',
      group: 'server',
      path: 'server.udpPorts',
      default: '2055',
      allowed: 'a comma-separated list of UDP ports 1-65535',
      description: expect.stringContaining('UDP ports'),
      secret: false,
    });
    expect(rows.find((r) => r.name === 'EF_OUTPUT_RISKIQ_PORT')?.group).toBe('output.riskiq');
    expect(rows.find((r) => r.name === 'EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_API_KEY')?.group).toBe('enrich.riskiq');
  });

  it('is a Markdown table with one well-formed row per variable', () => {
    const lines = variablesMarkdown().trimEnd().split('\n');
    expect(lines[0]).toBe('| Variable | Default | Allowed | Meaning |');
    expect(lines[1]).toBe('|---|---|---|---|');
    expect(lines).toHaveLength(VARIABLES.length + 2);
    for (const [i, d] of VARIABLES.entries()) {
      const line = lines[i + 2];
      expect(line.startsWith(`| \`${d.name}\` | `)).toBe(true);
      // Four cells: five unescaped pipes.
      expect(line.match(/(?<!\\)\|/g)).toHaveLength(5);
    }
    expect(variablesMarkdown()).toContain('| `EF_LOGGER_LEVEL` | `info` | one of `debug`, `info`, `warn`, `error` |');
    expect(variablesMarkdown()).toContain('| `EF_OUTPUT_ELASTICSEARCH_USERNAME` | *(none)* |');
    expect(variablesMarkdown()).toMatch(/\| `EF_OUTPUT_ELASTICSEARCH_PASSWORD` \|.*\| Secret: never printed\. /);
  });
});

describe('helpers', () => {
  it('effectiveWorkers: 0 means cores - 1, at least 1', () => {
    const s = defaultConfig().server;
    expect(effectiveWorkers(s, 8)).toBe(7);
    expect(effectiveWorkers(s, 1)).toBe(1);
    expect(effectiveWorkers({ ...s, workers: 3 }, 8)).toBe(3);
  });

  it('elasticsearchNodeUrls: the scheme follows TLS', () => {
    expect(elasticsearchNodeUrls({ addresses: ['es:9200', '[::1]:9200'], tlsEnabled: true })).toEqual(['https://es:9200', 'https://[::1]:9200']);
    expect(elasticsearchNodeUrls({ addresses: ['127.0.0.1:9200'], tlsEnabled: false })).toEqual(['http://127.0.0.1:9200']);
  });
});
