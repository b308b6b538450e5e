// SPDX-License-Identifier: Apache-2.0
/**
 * Bad values, rules across variables, deprecated and unknown names. Every message must name the variable,
 * show the bad value (or `[redacted]` for a secret) and say what is allowed; all problems come together.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config';
import { allowedText, VARIABLES, VARIABLES_BY_NAME, type AnyVariable, type Kind } from '../../src/config/variables';

/** A PEM certificate (public, made for the golden configuration `all-set`). */
const PEM_FIXTURE = join(__dirname, 'all-set', 'riskiq-ca.pem');

/** The problems loadConfig reports for env; fails the test when it does not throw a ConfigError. */
function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) {
      expect(e.message).toBe(e.problems.join('\n'));
      return [...e.problems];
    }
    throw e;
  }
  throw new Error(`no ConfigError for ${JSON.stringify(Object.keys(env))}`);
}

function variable(name: string): AnyVariable {
  const d = VARIABLES_BY_NAME.get(name);
  if (!d) throw new Error(`no variable ${name}`);
  return d;
}

/** Asserts that setting `name` to `value` gives exactly one problem of the documented form. */
function expectInvalid(name: string, value: string, detail?: string): string {
  const d = variable(name);
  const got = problems({ [name]: value });
  expect(got).toHaveLength(1);
  const shown = d.secret ? '[redacted]' : JSON.stringify(value);
  expect(got[0].startsWith(`${name}: ${shown} is not valid: ${allowedText(d.kind)}`)).toBe(true);
  if (detail !== undefined) expect(got[0]).toContain(detail);
  return got[0];
}

describe('bad values, one table row per kind and per constrained variable', () => {
  const P = 'EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_';
  const ES = 'EF_OUTPUT_ELASTICSEARCH_';
  const rows: Array<[string, string, string?]> = [
    // bool: true/false in any case, nothing else.
    ['EF_OUTPUT_STDOUT_ENABLE', 'yes'],
    ['EF_OUTPUT_STDOUT_ENABLE', '1'],
    ['EF_OUTPUT_STDOUT_ENABLE', 'on'],
    ['EF_OUTPUT_STDOUT_ENABLE', ''],
    // int: digits only, within the range.
    ['EF_OUTPUT_ELASTICSEARCH_BATCH_MAX_DOCS', '12abc'],
    ['EF_OUTPUT_ELASTICSEARCH_BATCH_MAX_DOCS', ''],
    ['EF_OUTPUT_ELASTICSEARCH_BATCH_MAX_DOCS', '1e3'],
    ['EF_OUTPUT_ELASTICSEARCH_BATCH_MAX_DOCS', '0x10'],
    ['EF_OUTPUT_ELASTICSEARCH_BATCH_MAX_DOCS', '1.5'],
    ['EF_OUTPUT_ELASTICSEARCH_BATCH_MAX_DOCS', '+5'],
    ['EF_OUTPUT_ELASTICSEARCH_BATCH_MAX_DOCS', '007'],
    ['EF_OUTPUT_ELASTICSEARCH_BATCH_MAX_DOCS', '0'],
    ['EF_FLOW_SERVER_WORKERS', '-1'],
    ['EF_FLOW_SERVER_UDP_READ_BUFFER_MAX_SIZE', '99999999999'],
    ['EF_PROCESSOR_ENRICH_COMMUNITYID_SEED', '65536'],
    [`${P}THREAT_REFRESH_INTERVAL`, '59'],
    [`${P}THREAT_REFRESH_INTERVAL`, '30'],
    [`${P}API_TIMEOUT`, '0'],
    ['EF_PROCESSOR_DECODE_TEMPLATE_PENDING_MAX_AGE', '0'],
    [`${ES}INDEX_TEMPLATE_SHARDS`, '0'],
    [`${ES}CONCURRENCY`, '65'],
    [`${ES}SPOOL_MAX_SIZE`, '-1'],
    [`${ES}SPOOL_MAX_SIZE`, '9007199254740993'],
    // port
    ['EF_API_PORT', '0'],
    ['EF_API_PORT', '65536'],
    ['EF_OUTPUT_RISKIQ_PORT', 'http'],
    // port list
    ['EF_FLOW_SERVER_UDP_PORT', '70000', '70000 is not a port 1-65535'],
    ['EF_FLOW_SERVER_UDP_PORT', '2055,70000', '70000 is not a port 1-65535'],
    ['EF_FLOW_SERVER_UDP_PORT', '2055,,4739', 'empty item'],
    ['EF_FLOW_SERVER_UDP_PORT', '2055,2055', '2055 is listed twice'],
    ['EF_FLOW_SERVER_UDP_PORT', '', 'no port given'],
    ['EF_FLOW_SERVER_UDP_PORT', '2055;4739'],
    // enum: exact values
    ['EF_LOGGER_LEVEL', 'INFO'],
    ['EF_LOGGER_LEVEL', 'trace'],
    ['EF_OUTPUT_STDOUT_FORMAT', 'ndjson'],
    [`${ES}TIMESTAMP_SOURCE`, 'now'],
    [`${ES}INDEX_TEMPLATE_CODEC`, 'lz4'],
    // ip
    ['EF_FLOW_SERVER_UDP_IP', '300.1.1.1'],
    ['EF_FLOW_SERVER_UDP_IP', 'localhost'],
    ['EF_FLOW_SERVER_UDP_IP', '[::]'],
    ['EF_API_IP', '010.0.0.1'],
    ['EF_API_IP', 'fe80::1%eth0'],
    ['EF_API_IP', ''],
    // host
    ['EF_OUTPUT_RISKIQ_HOST', 'flow.riskiq.net:20000'],
    ['EF_OUTPUT_RISKIQ_HOST', 'https://flow.riskiq.net'],
    ['EF_OUTPUT_RISKIQ_HOST', ''],
    // host:port list
    [`${ES}ADDRESSES`, 'http://es:9200', `set ${ES}TLS_ENABLE=true for https`],
    [`${ES}ADDRESSES`, 'es1:9200,https://es2:9200/', 'write es2:9200 without the scheme'],
    [`${ES}ADDRESSES`, 'es1', 'has no :port'],
    [`${ES}ADDRESSES`, 'es1:0', '0 is not a port 1-65535'],
    [`${ES}ADDRESSES`, '::1:9200', 'in brackets'],
    [`${ES}ADDRESSES`, '[::1]9200'],
    [`${ES}ADDRESSES`, 'bad_host:9200', 'not a host name'],
    [`${ES}ADDRESSES`, '', 'no address given'],
    // CIDR list
    ['EF_PROCESSOR_ENRICH_IPADDR_PRIVATE_CIDRS', '10.0.0.0', 'has no /prefix'],
    ['EF_PROCESSOR_ENRICH_IPADDR_PRIVATE_CIDRS', '10.0.0.0/33', '/33 is not a prefix length 0-32'],
    ['EF_PROCESSOR_ENRICH_IPADDR_PRIVATE_CIDRS', 'fd00::/129', '/129 is not a prefix length 0-128'],
    ['EF_PROCESSOR_ENRICH_IPADDR_PRIVATE_CIDRS', '10.0.0.1/8', 'did you mean 10.0.0.0/8?'],
    ['EF_PROCESSOR_ENRICH_IPADDR_PRIVATE_CIDRS', '2001:db8::1/32', 'did you mean 2001:db8::/32?'],
    ['EF_PROCESSOR_ENRICH_IPADDR_PRIVATE_CIDRS', '10.0.0.0/8,,192.168.0.0/16', 'empty item'],
    ['EF_PROCESSOR_ENRICH_IPADDR_PRIVATE_CIDRS', '10.0.0/8', '10.0.0 is not an IPv4 or IPv6 address'],
    // UUID
    ['EF_OUTPUT_RISKIQ_CUSTOMER_UUID', 'not-a-uuid'],
    ['EF_OUTPUT_RISKIQ_CUSTOMER_UUID', '123e4567e89b12d3a456426614174000'],
    // base64 key (a secret: shown as [redacted])
    ['EF_OUTPUT_RISKIQ_CUSTOMER_ENCRYPTION_KEY', 'not base64!'],
    ['EF_OUTPUT_RISKIQ_CUSTOMER_ENCRYPTION_KEY', Buffer.alloc(20, 1).toString('base64')],
    // URL
    [`${P}THREAT_ENDPOINT`, 'api.passivetotal.org/v2', 'not a URL'],
    [`${P}THREAT_ENDPOINT`, 'ftp://example.com/blocklist', 'scheme ftp: is not http or https'],
    [`${P}THREAT_ENDPOINT`, ''],
    [`${P}LAUNCH_URL`, 'https://community.riskiq.com/research?query=', '{{value}} is missing'],
    // file that must exist
    [`${ES}TLS_CA_CERT_FILEPATH`, '/nonexistent/ca.pem', 'no such file'],
    [`${ES}TLS_CA_CERT_FILEPATH`, __dirname, 'not a regular file'],
    [`${P}THREAT_INCLEXCL_PATH`, '/nonexistent/inclexcl.txt', 'no such file'],
    // PEM file of certificates
    ['EF_OUTPUT_RISKIQ_TLS_CA_CERT_FILEPATH', '/nonexistent/ca.pem', 'no such file'],
    ['EF_OUTPUT_RISKIQ_TLS_CA_CERT_FILEPATH', __filename, 'no PEM certificate'],
    // file path that need not exist, but not empty
    [`${P}THREAT_CACHE_PATH`, '', 'it is empty'],
    [`${ES}SPOOL_PATH`, ''],
    // Elasticsearch time value
    [`${ES}INDEX_TEMPLATE_REFRESH_INTERVAL`, '10'],
    [`${ES}INDEX_TEMPLATE_REFRESH_INTERVAL`, '1.5s'],
    [`${ES}INDEX_TEMPLATE_REFRESH_INTERVAL`, '10 s'],
    // cloud ID
    [`${ES}CLOUD_ID`, 'no-colon'],
    [`${ES}CLOUD_ID`, `x:${Buffer.from('nodollar').toString('base64')}`, 'does not decode to host$id'],
    // Elasticsearch names
    [`${ES}DATA_STREAM`, 'Logs-Threatflow'],
    [`${ES}DATA_STREAM`, ''],
    [`${ES}DATA_STREAM`, '_flows'],
    [`${ES}INDEX_TEMPLATE_PIPELINE_DEFAULT`, 'my pipeline'],
    [`${ES}INDEX_TEMPLATE_ILM_LIFECYCLE`, 'a,b'],
  ];

  // Rows padded to three cells: jest passes `done` in place of a missing one.
  it.each(rows.map(([n, v, d]): [string, string, string] => [n, v, d ?? '']))('%s=%j', (name, value, detail) => {
    const line = expectInvalid(name, value, detail === '' ? undefined : detail);
    if (!variable(name).secret) expect(line).toContain(JSON.stringify(value));
  });

  it('covers every kind of value', () => {
    const kinds = new Set(rows.map(([name]) => variable(name).kind.type));
    expect([...kinds].sort()).toEqual([...new Set(VARIABLES.map((d) => d.kind.type))].sort());
  });

  it('quotes the bad value exactly as given, e.g. the example of the brief', () => {
    expect(problems({ EF_FLOW_SERVER_UDP_PORT: '70000' })[0]).toBe(
      'EF_FLOW_SERVER_UDP_PORT: "70000" is not valid: a comma-separated list of UDP ports 1-65535; 70000 is not a port 1-65535',
    );
    expect(problems({ EF_OUTPUT_STDOUT_ENABLE: 'yes' })[0]).toBe(
      'EF_OUTPUT_STDOUT_ENABLE: "yes" is not valid: true or false (case-insensitive; no other spellings)',
    );
    expect(problems({ EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_THREAT_REFRESH_INTERVAL: '30' })[0]).toBe(
      'EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_THREAT_REFRESH_INTERVAL: "30" is not valid: an integer from 60 to 525600 (minutes)',
    );
    expect(problems({ EF_LOGGER_LEVEL: 'INFO' })[0]).toBe(
      'EF_LOGGER_LEVEL: "INFO" is not valid: one of debug, info, warn, error',
    );
  });
});

/** Values no variable of the kind accepts. */
function badValuesFor(kind: Kind): string[] {
  switch (kind.type) {
    case 'bool':
      return ['yes', '1', ''];
    case 'int':
      return ['12abc', '', '1e3', String(kind.min - 1), String(kind.max + 1)];
    case 'port':
      return ['0', '65536', ''];
    case 'enum':
      return ['nope', kind.values[0].toUpperCase(), ''];
    case 'string':
      return kind.required ? [''] : kind.pattern ? ['Has Spaces,And|Pipes'] : [];
    case 'ip':
    case 'host':
      return ['999.1.1.1', ''];
    case 'ports':
      return ['70000', '', 'a,b'];
    case 'hostports':
      return ['http://localhost:9200', 'localhost', ''];
    case 'cidrs':
      return ['10.0.0.1/8', '10.0.0.0', 'x/8'];
    case 'uuid':
      return ['not-a-uuid'];
    case 'base64key':
      return ['@@@@', Buffer.alloc(8).toString('base64')];
    case 'url':
      return ['nope', '', ...(kind.placeholder ? ['https://example.com/'] : [])];
    case 'path':
      return [...(kind.optional ? [] : ['']), ...(kind.mustExist ? ['/nonexistent/file'] : []), ...(kind.pemCertificates ? [__filename] : [])];
    case 'estime':
      return ['10', 'soon'];
    case 'cloudid':
      return ['no-colon'];
  }
}

describe('every variable with a constraint rejects values outside it', () => {
  const cases = VARIABLES.flatMap((d) => badValuesFor(d.kind).map((value): [string, string] => [d.name, value]));

  it('has a bad value for every variable that can have one', () => {
    const unconstrained = VARIABLES.filter((d) => badValuesFor(d.kind).length === 0).map((d) => d.name);
    // Free text without a pattern: user names, passwords, API keys.
    expect(unconstrained.sort()).toEqual(
      [
        'EF_OUTPUT_ELASTICSEARCH_API_KEY',
        'EF_OUTPUT_ELASTICSEARCH_PASSWORD',
        'EF_OUTPUT_ELASTICSEARCH_USERNAME',
        'EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_API_KEY',
        'EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_API_USER',
      ].sort(),
    );
  });

  it.each(cases)('%s=%j', (name, value) => {
    expectInvalid(name, value);
  });
});

describe('all problems are reported together', () => {
  it('lists every bad variable, one a line, in declaration order', () => {
    const e = (() => {
      try {
        loadConfig({
          EF_LOGGER_LEVEL: 'loud',
          EF_FLOW_SERVER_UDP_PORT: '0',
          EF_API_PORT: 'x',
          EF_OUTPUT_STDOUT_ENABLE: 'maybe',
          EF_OUTPUT_ELASTICSAERCH_ENABLE: 'true',
        });
      } catch (err) {
        return err as ConfigError;
      }
      throw new Error('no error');
    })();
    expect(e).toBeInstanceOf(ConfigError);
    const order = [
      'unknown variable EF_OUTPUT_ELASTICSAERCH_ENABLE; did you mean EF_OUTPUT_ELASTICSEARCH_ENABLE?',
      'EF_FLOW_SERVER_UDP_PORT: "0"',
      'EF_OUTPUT_STDOUT_ENABLE: "maybe"',
      'EF_LOGGER_LEVEL: "loud"',
      'EF_API_PORT: "x"',
    ];
    expect(e.problems).toHaveLength(order.length);
    e.problems.forEach((p, i) => expect(p.startsWith(order[i])).toBe(true));
    expect(e.message.split('\n')).toHaveLength(5);
  });
});

describe('rules across variables', () => {
  const P = 'EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_';

  it('threat enrichment needs the API user and key, and names both', () => {
    for (const env of [
      { [`${P}THREAT_ENABLE`]: 'true' },
      { [`${P}THREAT_ENABLE`]: 'true', [`${P}API_USER`]: 'u@example.com' },
      { [`${P}THREAT_ENABLE`]: 'true', [`${P}API_KEY`]: 'k' },
    ]) {
      const got = problems(env);
      expect(got).toHaveLength(1);
      expect(got[0]).toContain(`${P}THREAT_ENABLE=true requires ${P}API_USER and ${P}API_KEY`);
    }
    expect(problems({ [`${P}THREAT_ENABLE`]: 'true', [`${P}API_USER`]: 'u' })[0]).toMatch(/; \S+API_KEY is not set$/);
  });

  it('the RiskIQ export needs the customer UUID and key, and names both', () => {
    const got = problems({ EF_OUTPUT_RISKIQ_ENABLE: 'true', EF_OUTPUT_RISKIQ_CUSTOMER_UUID: '123e4567-e89b-12d3-a456-426614174000' });
    expect(got).toEqual([
      'EF_OUTPUT_RISKIQ_ENABLE=true requires EF_OUTPUT_RISKIQ_CUSTOMER_UUID and EF_OUTPUT_RISKIQ_CUSTOMER_ENCRYPTION_KEY; EF_OUTPUT_RISKIQ_CUSTOMER_ENCRYPTION_KEY is not set',
    ]);
  });

  it('does not add a "not set" error on top of an invalid value', () => {
    const got = problems({ EF_OUTPUT_RISKIQ_ENABLE: 'true', EF_OUTPUT_RISKIQ_CUSTOMER_UUID: 'bad', EF_OUTPUT_RISKIQ_CUSTOMER_ENCRYPTION_KEY: 'bad' });
    expect(got).toHaveLength(2);
    expect(got.every((l) => l.includes(' is not valid: '))).toBe(true);
  });

  it('disabled features do not require their credentials', () => {
    expect(() => loadConfig({ [`${P}THREAT_ENABLE`]: 'false', EF_OUTPUT_RISKIQ_ENABLE: 'false' })).not.toThrow();
  });

  it('Elasticsearch basic authentication needs both user and password', () => {
    expect(problems({ EF_OUTPUT_ELASTICSEARCH_ENABLE: 'true', EF_OUTPUT_ELASTICSEARCH_USERNAME: 'elastic' })).toEqual([
      'EF_OUTPUT_ELASTICSEARCH_USERNAME and EF_OUTPUT_ELASTICSEARCH_PASSWORD go together for basic authentication; EF_OUTPUT_ELASTICSEARCH_PASSWORD is not set',
    ]);
    // An API key makes user and password irrelevant.
    expect(
      loadConfig({ EF_OUTPUT_ELASTICSEARCH_ENABLE: 'true', EF_OUTPUT_ELASTICSEARCH_USERNAME: 'elastic', EF_OUTPUT_ELASTICSEARCH_API_KEY: 'k' })
        .config.output.elasticsearch.username,
    ).toBe('');
  });

  it('warns when TLS options are set without TLS, and when verification is off', () => {
    const { warnings } = loadConfig({
      EF_OUTPUT_ELASTICSEARCH_ENABLE: 'true',
      EF_OUTPUT_ELASTICSEARCH_TLS_SKIP_VERIFICATION: 'true',
    });
    expect(warnings).toEqual([
      'EF_OUTPUT_ELASTICSEARCH_TLS_SKIP_VERIFICATION has no effect while EF_OUTPUT_ELASTICSEARCH_TLS_ENABLE=false',
    ]);
  });

  it('RiskIQ export: warns when TLS options are set without TLS, and when verification is off', () => {
    const base = {
      EF_OUTPUT_RISKIQ_ENABLE: 'true',
      EF_OUTPUT_RISKIQ_CUSTOMER_UUID: '123e4567-e89b-12d3-a456-426614174000',
      EF_OUTPUT_RISKIQ_CUSTOMER_ENCRYPTION_KEY: Buffer.alloc(16, 7).toString('base64'),
      EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_THREAT_ENABLE: 'true',
      EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_API_USER: 'u',
      EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_API_KEY: 'k',
    };
    const both = { EF_OUTPUT_RISKIQ_TLS_SKIP_VERIFICATION: 'true', EF_OUTPUT_RISKIQ_TLS_CA_CERT_FILEPATH: PEM_FIXTURE };
    expect(loadConfig({ ...base, ...both }).warnings).toEqual([
      'EF_OUTPUT_RISKIQ_TLS_SKIP_VERIFICATION and EF_OUTPUT_RISKIQ_TLS_CA_CERT_FILEPATH have no effect while EF_OUTPUT_RISKIQ_TLS_ENABLE=false',
    ]);
    expect(loadConfig({ ...base, EF_OUTPUT_RISKIQ_TLS_ENABLE: 'true', EF_OUTPUT_RISKIQ_TLS_SKIP_VERIFICATION: 'true' }).warnings).toEqual([
      expect.stringMatching(/^EF_OUTPUT_RISKIQ_TLS_SKIP_VERIFICATION=true: the RiskIQ receiver certificate is not verified/),
    ]);
    expect(loadConfig({ ...base, EF_OUTPUT_RISKIQ_TLS_ENABLE: 'true', EF_OUTPUT_RISKIQ_TLS_CA_CERT_FILEPATH: PEM_FIXTURE }).warnings).toEqual([]);
    // The export off: nothing to say.
    expect(loadConfig(both).warnings).toEqual([]);
  });

  it('warns when no protocol is decoded', () => {
    const off = { EF_PROCESSOR_DECODE_NETFLOW5_ENABLE: 'false', EF_PROCESSOR_DECODE_NETFLOW9_ENABLE: 'false', EF_PROCESSOR_DECODE_IPFIX_ENABLE: 'false', EF_PROCESSOR_DECODE_SFLOW5_ENABLE: 'false' };
    expect(loadConfig(off).warnings).toEqual([expect.stringContaining('are all false')]);
  });
});

describe('deprecated names stop startup and name the replacement', () => {
  it.each([
    ['EF_FLOW_OUTPUT_RISKIQ_ENABLE', 'EF_OUTPUT_RISKIQ_ENABLE'],
    ['EF_FLOW_OUTPUT_RISKIQ_CUSTOMER_UUID', 'EF_OUTPUT_RISKIQ_CUSTOMER_UUID'],
    ['EF_FLOW_OUTPUT_RISKIQ_CUSTOMER_ENCRYPTION_KEY', 'EF_OUTPUT_RISKIQ_CUSTOMER_ENCRYPTION_KEY'],
    ['EF_FLOW_DECODER_ENRICH_RISKIQ_THREAT_ENABLE', 'EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_THREAT_ENABLE'],
    ['EF_FLOW_DECODER_ENRICH_RISKIQ_API_USER', 'EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_API_USER'],
    ['EF_FLOW_DECODER_ENRICH_RISKIQ_API_KEY', 'EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_API_KEY'],
    ['EF_FLOW_DECODER_ENRICH_RISKIQ_THREAT_REFRESH_INTERVAL', 'EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_THREAT_REFRESH_INTERVAL'],
  ])('%s -> %s', (old, renamed) => {
    expect(VARIABLES_BY_NAME.has(renamed)).toBe(true);
    expect(problems({ [old]: 'some-value-123' })).toEqual([`${old} was renamed ${renamed} in 6.0: rename the variable`]);
  });

  it('a deprecated prefix with no such new variable still names the new prefix', () => {
    const got = problems({ EF_FLOW_OUTPUT_RISKIQ_HOSTNAME: 'x' });
    expect(got).toEqual([
      'EF_FLOW_OUTPUT_RISKIQ_HOSTNAME is deprecated since 6.0: EF_FLOW_OUTPUT_RISKIQ_* variables are now EF_OUTPUT_RISKIQ_*; did you mean EF_OUTPUT_RISKIQ_HOST?',
    ]);
  });

  it('stops startup even when the new name is set too', () => {
    expect(problems({ EF_FLOW_OUTPUT_RISKIQ_ENABLE: 'true', EF_OUTPUT_RISKIQ_ENABLE: 'false' })).toHaveLength(1);
  });
});

describe('unknown EF_ variables', () => {
  it.each([
    ['EF_FLOW_SERVER_UDP_PORTS', 'EF_FLOW_SERVER_UDP_PORT'],
    ['EF_OUTPUT_ELASTICSEARCH_ADDRESS', 'EF_OUTPUT_ELASTICSEARCH_ADDRESSES'],
    ['EF_OUTPUT_ELASTICSEARCH_PASSWROD', 'EF_OUTPUT_ELASTICSEARCH_PASSWORD'],
    ['EF_LOGGER_LEVLE', 'EF_LOGGER_LEVEL'],
    ['EF_OUTPUT_ELASTICSEARCH_INDEX_SHARDS', 'EF_OUTPUT_ELASTICSEARCH_INDEX_TEMPLATE_SHARDS'],
  ])('%s suggests %s', (name, suggestion) => {
    expect(problems({ [name]: 'v' })).toEqual([`unknown variable ${name}; did you mean ${suggestion}?`]);
  });

  it('suggests nothing when nothing is close', () => {
    expect(problems({ EF_LICENSE_ACCEPTED: 'true' })).toEqual([
      'unknown variable EF_LICENSE_ACCEPTED (`threatflow config --variables` lists them all)',
    ]);
  });

  it('ignores variables outside the EF_ namespace and unset ones', () => {
    expect(() => loadConfig({ PATH: '/bin', HOME: '/root', ef_lower: 'x', TF_TEST: '1', EF_X: undefined })).not.toThrow();
  });
});

describe('EF_OUTPUT_RISKIQ_TLS_CA_CERT_FILEPATH must hold PEM certificates', () => {
  const V = 'EF_OUTPUT_RISKIQ_TLS_CA_CERT_FILEPATH';
  const dir = mkdtempSync(join(tmpdir(), 'tf-config-pem-'));
  const write = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const SECRETISH = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7';
  const PREFIX = `${V}: `;
  const ALLOWED = 'is not valid: empty or the path of an existing readable PEM file of certificates';

  it.each([
    ['a missing file', '/nonexistent/riskiq-ca.pem', 'no such file'],
    ['a directory', __dirname, 'not a regular file'],
    ['a file that is not PEM', write('key.txt', `${SECRETISH}\n`), 'no PEM certificate (-----BEGIN CERTIFICATE-----) in it'],
    ['a private key', write('key.pem', `-----BEGIN PRIVATE KEY-----\n${SECRETISH}\n-----END PRIVATE KEY-----\n`), 'no PEM certificate (-----BEGIN CERTIFICATE-----) in it'],
    ['a certificate block that does not parse', write('bad.pem', `-----BEGIN CERTIFICATE-----\n${SECRETISH}\n-----END CERTIFICATE-----\n`), 'PEM certificate 1 of 1 does not parse as X.509'],
    ['a good certificate then a bad one', write('mixed.pem', `${readFileSync(PEM_FIXTURE, 'utf8')}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`), 'PEM certificate 2 of 2 does not parse as X.509'],
  ])('%s stops startup naming the variable and the path, never the content', (_name, path, detail) => {
    const got = problems({ [V]: path });
    expect(got).toEqual([`${PREFIX}${JSON.stringify(path)} ${ALLOWED}; ${detail}`]);
    expect(got[0]).not.toContain(SECRETISH);
    expect(got[0]).not.toContain('AAAA');
  });

  it('accepts a PEM file of certificates, with text around them', () => {
    const pem = readFileSync(PEM_FIXTURE, 'utf8');
    const path = write('bundle.pem', `# my CA\n${pem}\nsubject=whatever\n${pem}`);
    expect(loadConfig({ [V]: path }).config.output.riskiq.tlsCaCertFilepath).toBe(path);
  });
});
