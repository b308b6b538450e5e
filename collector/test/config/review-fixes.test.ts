// SPDX-License-Identifier: Apache-2.0
/**
 * Configuration rules from the newcomer review: whitespace is trimmed from every value but secrets;
 * credentials inside URLs and addresses are refused without being echoed; data stream names follow the
 * Elasticsearch rules and the template's pattern; time values are bounded; user/password/API key notes;
 * the spool variables describe the spool (where, the bound, what 0 means).
 */
import { ConfigError, loadConfig, redactedConfig } from '../../src/config';
import { VARIABLES_BY_NAME } from '../../src/config/variables';

const ES = 'EF_OUTPUT_ELASTICSEARCH_';
const P = 'EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return [...e.problems];
    throw e;
  }
  throw new Error(`no ConfigError for ${JSON.stringify(Object.keys(env))}`);
}

describe('whitespace', () => {
  it('is trimmed from single values and lists alike', () => {
    const { config } = loadConfig({
      EF_API_PORT: ' 18092',
      EF_FLOW_SERVER_UDP_PORT: ' 2055 ',
      EF_OUTPUT_STDOUT_ENABLE: ' true\t',
      EF_LOGGER_LEVEL: 'warn\n',
      EF_API_IP: ' 127.0.0.1 ',
      [`${ES}USERNAME`]: ' elastic ',
      [`${ES}DATA_STREAM`]: ' logs-threatflow.flows-prod ',
    });
    expect(config.api.port).toBe(18092);
    expect(config.server.udpPorts).toEqual([2055]);
    expect(config.output.stdout.enabled).toBe(true);
    expect(config.logger.level).toBe('warn');
    expect(config.api.ip).toBe('127.0.0.1');
    expect(config.output.elasticsearch.username).toBe('elastic');
    expect(config.output.elasticsearch.dataStream).toBe('logs-threatflow.flows-prod');
  });

  it('is kept in secrets, with a warning that does not show the secret', () => {
    const { config, warnings } = loadConfig({ [`${ES}USERNAME`]: 'elastic', [`${ES}PASSWORD`]: ' pass word ' });
    expect(config.output.elasticsearch.password).toBe(' pass word ');
    expect(warnings).toContain(`${ES}PASSWORD begins or ends with whitespace, which is kept as part of the secret (secrets are not trimmed)`);
    expect(warnings.join('\n')).not.toContain('pass word');
  });
});

describe('credentials in URLs and addresses', () => {
  it('are refused in the threat endpoint, without echoing them, pointing at the user/key variables', () => {
    for (const url of ['https://user:hunter2@api.example.com/blocklist', 'https://hunter2@api.example.com/', 'https://user:hunter2@bad host/']) {
      const got = problems({ [`${P}THREAT_ENDPOINT`]: url });
      expect(got).toEqual([
        `${P}THREAT_ENDPOINT: [redacted] is not valid: an http:// or https:// URL; credentials in the URL are not allowed: use ${P}API_USER and ${P}API_KEY`,
      ]);
      expect(got.join('\n')).not.toContain('hunter2');
    }
    // An @ in the path or query is not userinfo.
    expect(loadConfig({ [`${P}THREAT_ENDPOINT`]: 'https://api.example.com/x?who=a@b' }).config.enrich.riskiq.threatEndpoint).toContain('a@b');
  });

  it('are refused in the launch URL too', () => {
    const got = problems({ [`${P}LAUNCH_URL`]: 'https://u:hunter2@example.com/?q={{value}}' });
    expect(got[0]).toMatch(/credentials in the URL are not allowed/);
    expect(got.join('\n')).not.toContain('hunter2');
  });

  it('are refused in Elasticsearch addresses, without echoing them or suggesting brackets', () => {
    for (const addr of ['user:pw@127.0.0.1:9200', '127.0.0.1:9200,elastic:s3cret@es2:9200', 'https://user:pw@es:9200']) {
      const got = problems({ [`${ES}ADDRESSES`]: addr });
      expect(got).toEqual([
        `${ES}ADDRESSES: [redacted] is not valid: a comma-separated list of host:port, without a scheme (IPv6 as [address]:port); credentials in the address are not allowed: use ${ES}USERNAME and ${ES}PASSWORD, or ${ES}API_KEY`,
      ]);
      expect(got.join('\n')).not.toMatch(/pw|s3cret|\[user/);
    }
  });
});

describe('data stream name', () => {
  it.each([
    ['Logs-threatflow.flows-default', undefined],
    ['logs-threatflow.flows-Défault'.replace('é', 'É'), undefined],
    ['logs-threatflow.flows-a b', undefined],
    ['logs-threatflow.flows-a#b', undefined],
    ['-logs-threatflow.flows-default', undefined],
    ['_logs-x-y', undefined],
    ['+logs-x-y', undefined],
    ['.', undefined],
    ['..', undefined],
    ['flows', undefined],
    ['logs-flows', undefined],
    ['logs--default', undefined],
    ['logs-x-', undefined],
    [`logs-${'é'.repeat(130)}-default`, 'longer than 255 bytes'],
  ])('%j is refused', (name, detail) => {
    const got = problems({ [`${ES}DATA_STREAM`]: name });
    expect(got).toHaveLength(1);
    expect(got[0]).toContain(`${ES}DATA_STREAM: ${JSON.stringify(name)} is not valid: a data stream name type-dataset-namespace`);
    if (detail) expect(got[0]).toContain(detail);
  });

  it('accepts the type-dataset-namespace shape, and warns outside the template pattern', () => {
    const inPattern = loadConfig({ [`${ES}ENABLE`]: 'true', [`${ES}DATA_STREAM`]: 'logs-threatflow.flows-prod' });
    expect(inPattern.warnings).toEqual([]);
    const outside = loadConfig({ [`${ES}ENABLE`]: 'true', [`${ES}DATA_STREAM`]: 'metrics-netflow-prod' });
    expect(outside.config.output.elasticsearch.dataStream).toBe('metrics-netflow-prod');
    expect(outside.warnings).toEqual([
      `${ES}DATA_STREAM=metrics-netflow-prod does not match the installed index template's pattern logs-threatflow.flows-*: its documents will not get the threatflow mappings and settings`,
    ]);
    // 255 bytes is fine.
    const long = `logs-threatflow.flows-${'a'.repeat(255 - 'logs-threatflow.flows-'.length)}`;
    expect(loadConfig({ [`${ES}DATA_STREAM`]: long }).config.output.elasticsearch.dataStream).toBe(long);
  });
});

describe('refresh interval', () => {
  it('is bounded to what Elasticsearch holds (2^63-1 ns)', () => {
    const got = problems({ [`${ES}INDEX_TEMPLATE_REFRESH_INTERVAL`]: '99999999999999999999d' });
    expect(got[0]).toContain('too long: at most 106751d');
    expect(problems({ [`${ES}INDEX_TEMPLATE_REFRESH_INTERVAL`]: '106752d' })[0]).toContain('too long');
    expect(problems({ [`${ES}INDEX_TEMPLATE_REFRESH_INTERVAL`]: '9223372036854775808nanos' })[0]).toContain('too long');
    for (const ok of ['106751d', '9223372036854775807nanos', '30s', '-1', '1h']) {
      expect(loadConfig({ [`${ES}INDEX_TEMPLATE_REFRESH_INTERVAL`]: ok }).config.output.elasticsearch.indexTemplate.refreshInterval).toBe(ok);
    }
  });
});

describe('Elasticsearch credentials', () => {
  it('a password without a user name is an error naming both when the output is on, a warning when off', () => {
    const both = `${ES}USERNAME and ${ES}PASSWORD go together for basic authentication; ${ES}USERNAME is not set`;
    expect(problems({ [`${ES}ENABLE`]: 'true', [`${ES}PASSWORD`]: 'x' })).toEqual([both]);
    expect(loadConfig({ [`${ES}PASSWORD`]: 'x' }).warnings).toEqual([both]);
  });

  it('the API key overriding user and password is said, naming them, even with the output off', () => {
    for (const enable of ['true', 'false']) {
      const r = loadConfig({ [`${ES}ENABLE`]: enable, [`${ES}PASSWORD`]: 'changeme', [`${ES}API_KEY`]: 'a2V5' });
      expect(redactedConfig(r.config).output.elasticsearch.password).toBe('');
      expect(r.warnings).toEqual([
        `${ES}PASSWORD is ignored because ${ES}API_KEY is set (the API key wins over basic authentication; the effective configuration shows it empty)`,
      ]);
    }
  });
});

describe('descriptions match the behaviour', () => {
  const desc = (n: string) => VARIABLES_BY_NAME.get(n)?.description ?? '';
  it('the spool variables describe the spool: where, the bound, what is counted, what 0 means', () => {
    for (const n of [`${ES}SPOOL_PATH`, `${ES}SPOOL_MAX_SIZE`]) expect(desc(n)).not.toMatch(/Reserved|not implemented/);
    expect(desc(`${ES}SPOOL_PATH`)).toContain('replayed oldest first');
    expect(desc(`${ES}SPOOL_MAX_SIZE`)).toContain('reason="spool_full"');
    expect(desc(`${ES}SPOOL_MAX_SIZE`)).toContain('0 turns the spool off');
  });

  it('template overwrite says it always rewrites when on', () => {
    expect(desc(`${ES}INDEX_TEMPLATE_OVERWRITE`)).toContain('rewrite the templates at every startup');
    expect(desc(`${ES}INDEX_TEMPLATE_OVERWRITE`)).not.toContain('another version');
  });

  it('says run creates no pipeline (setup installs the bundled one), and the ILM policy is created only when missing', () => {
    // The collector checks the pipeline exists but never creates it; `threatflow setup` installs threatflow-flows.
    expect(desc(`${ES}INDEX_TEMPLATE_PIPELINE_DEFAULT`)).toContain('`threatflow run` does not create it');
    expect(desc(`${ES}INDEX_TEMPLATE_PIPELINE_DEFAULT`)).toContain('`threatflow setup` installs the bundled `threatflow-flows`');
    expect(desc(`${ES}INDEX_TEMPLATE_ENABLE`)).toContain('no ingest pipeline is created');
    // ensureIlmPolicy (collector/test/output/ilm.test.ts) creates a missing policy and never changes one.
    expect(desc(`${ES}INDEX_TEMPLATE_ILM_LIFECYCLE`)).toContain('created at startup when missing');
    expect(desc(`${ES}INDEX_TEMPLATE_ILM_LIFECYCLE`)).toContain('never changed');
  });
});
