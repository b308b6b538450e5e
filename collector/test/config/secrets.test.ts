// SPDX-License-Identifier: Apache-2.0
/**
 * No secret value ever leaves the configuration module: not in errors (bad or good values), warnings, the
 * redacted configuration, the `threatflow config` output, nor in messages about misspelt or deprecated
 * names. Each test makes a fresh random secret and searches every output for it.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { ConfigError, loadConfig, redactedConfig } from '../../src/config';
import { configCommand } from '../../src/cli/config';
import { createLogger } from '../../src/observability/logger';
import { VARIABLES } from '../../src/config/variables';

const SECRET_NAMES = VARIABLES.filter((d) => d.secret).map((d) => d.name);

/** A random token that cannot occur by chance in any output. */
function secret(bytes = 24): string {
  return randomBytes(bytes).toString('base64');
}

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

/** Everything the configuration can print for env: errors or config and warnings, library and CLI. */
function allOutput(env: Record<string, string>): string {
  const parts: string[] = [];
  try {
    const { config, warnings } = loadConfig(env);
    parts.push(JSON.stringify(redactedConfig(config)), ...warnings);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    parts.push(e.message, String(e), e.stack ?? '', JSON.stringify(e.problems));
  }
  const out = new Capture();
  const err = new Capture();
  configCommand({}, env, { out, err });
  parts.push(out.text, err.text);
  // What a component would log if it logged its (redacted) configuration.
  const log = new Capture();
  const logger = createLogger({ level: 'debug', destination: log });
  try {
    logger.info({ config: redactedConfig(loadConfig(env).config) }, 'configuration');
  } catch (e) {
    logger.error({ err: e }, 'invalid configuration');
  }
  parts.push(log.text);
  return parts.join('\n');
}

describe('secrets are never printed', () => {
  it('declares exactly the secrets of the brief', () => {
    expect(SECRET_NAMES.sort()).toEqual(
      [
        'EF_OUTPUT_ELASTICSEARCH_API_KEY',
        'EF_OUTPUT_ELASTICSEARCH_PASSWORD',
        'EF_OUTPUT_RISKIQ_CUSTOMER_ENCRYPTION_KEY',
        'EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_API_KEY',
      ].sort(),
    );
  });

  it('valid secrets are redacted in the configuration and absent from all output', () => {
    const s = {
      esPassword: secret(),
      esApiKey: secret(),
      riskiqApiKey: secret(),
      aesKey: secret(32),
    };
    const env = {
      EF_OUTPUT_ELASTICSEARCH_ENABLE: 'true',
      EF_OUTPUT_ELASTICSEARCH_USERNAME: 'elastic',
      EF_OUTPUT_ELASTICSEARCH_PASSWORD: s.esPassword,
      EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_THREAT_ENABLE: 'true',
      EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_API_USER: 'analyst@example.com',
      EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_API_KEY: s.riskiqApiKey,
      EF_OUTPUT_RISKIQ_ENABLE: 'true',
      EF_OUTPUT_RISKIQ_CUSTOMER_UUID: '123e4567-e89b-12d3-a456-426614174000',
      EF_OUTPUT_RISKIQ_CUSTOMER_ENCRYPTION_KEY: s.aesKey,
    };
    const out = allOutput(env);
    for (const v of Object.values(s)) expect(out).not.toContain(v);
    const redacted = redactedConfig(loadConfig(env).config);
    expect(redacted.output.elasticsearch.password).toBe('[redacted]');
    expect(redacted.enrich.riskiq.apiKey).toBe('[redacted]');
    expect(redacted.output.riskiq.customerEncryptionKey).toBe('[redacted]');
    expect(redacted.output.elasticsearch.apiKey).toBe('');
    // The real configuration keeps the values for the components that need them.
    expect(loadConfig(env).config.output.riskiq.customerEncryptionKey).toBe(s.aesKey);

    // The API key wins over the password (which is then dropped) and is itself redacted.
    const withKey = { ...env, EF_OUTPUT_ELASTICSEARCH_API_KEY: s.esApiKey };
    const out2 = allOutput(withKey);
    for (const v of Object.values(s)) expect(out2).not.toContain(v);
    expect(out2).toContain('EF_OUTPUT_ELASTICSEARCH_USERNAME and EF_OUTPUT_ELASTICSEARCH_PASSWORD are ignored');
  });

  it.each([
    ['not base64', (s: string) => `${s}!*`],
    ['wrong length', () => randomBytes(20).toString('base64')],
    ['url-safe base64', () => randomBytes(32).toString('base64url').replace(/^./, '-')],
  ])('a bad encryption key (%s) is reported as [redacted], with no detail', (_what, make) => {
    const value = make(secret());
    const out = allOutput({ EF_OUTPUT_RISKIQ_CUSTOMER_ENCRYPTION_KEY: value });
    expect(out).toContain('EF_OUTPUT_RISKIQ_CUSTOMER_ENCRYPTION_KEY: [redacted] is not valid: empty or base64 of a 16, 24 or 32-byte key\n');
    expect(out).not.toContain(value);
    expect(out).not.toMatch(/decodes to/);
  });

  it('secrets given to misspelt or deprecated names are not echoed either', () => {
    const s = [secret(), secret(), secret(), secret()];
    const env = {
      EF_OUTPUT_ELASTICSEARCH_PASSWROD: s[0],
      EF_FLOW_OUTPUT_RISKIQ_CUSTOMER_ENCRYPTION_KEY: s[1],
      EF_FLOW_DECODER_ENRICH_RISKIQ_API_KEY: s[2],
      EF_SOMETHING_ELSE_ENTIRELY: s[3],
    };
    const out = allOutput(env);
    expect(out).toContain('unknown variable EF_OUTPUT_ELASTICSEARCH_PASSWROD; did you mean EF_OUTPUT_ELASTICSEARCH_PASSWORD?');
    for (const v of s) expect(out).not.toContain(v);
  });

  it('secrets stay hidden when other variables are wrong', () => {
    const s = secret();
    const out = allOutput({
      EF_OUTPUT_ELASTICSEARCH_ENABLE: 'true',
      EF_OUTPUT_ELASTICSEARCH_PASSWORD: s,
      EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_API_KEY: s,
      EF_OUTPUT_ELASTICSEARCH_BATCH_MAX_DOCS: 'lots',
    });
    expect(out).toContain('EF_OUTPUT_ELASTICSEARCH_BATCH_MAX_DOCS: "lots" is not valid');
    expect(out).toContain('EF_OUTPUT_ELASTICSEARCH_USERNAME and EF_OUTPUT_ELASTICSEARCH_PASSWORD go together');
    expect(out).not.toContain(s);
  });

  it('unset secrets print as "" so that the dump shows they are missing', () => {
    const r = redactedConfig(loadConfig({}).config);
    expect([r.output.elasticsearch.password, r.output.elasticsearch.apiKey, r.enrich.riskiq.apiKey, r.output.riskiq.customerEncryptionKey]).toEqual(['', '', '', '']);
  });
});
