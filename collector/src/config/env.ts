// SPDX-License-Identifier: Apache-2.0
/**
 * `EF_*` environment parsing and validation, in one place (STYLE.md §3). `loadConfig` reads every declared
 * variable (`variables.ts`), checks the rules that span several variables, refuses unknown and deprecated
 * names, and reports every problem at once in a `ConfigError`, one per line.
 *
 * Secrets are never echoed: a bad secret value shows as `[redacted]`, without any detail derived from it,
 * and values of unknown or deprecated variables are never shown at all (they may be misspelt secrets).
 * Neither are credentials written inside a URL or an address (`https://user:pw@host/`, `user:pw@host:9200`):
 * they are refused, and the message does not quote the value.
 *
 * Leading and trailing whitespace is trimmed from every value except secrets (a password may begin or end
 * with a space); a secret with such whitespace is kept as given, with a warning that does not show it.
 */
import { X509Certificate } from 'node:crypto';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { checkCidr, checkHostPort, isHostname, isIpLiteral, isPort } from './net';
import {
  allowedText,
  DEPRECATED_PREFIXES,
  VARIABLES,
  VARIABLES_BY_NAME,
  type AnyVariable,
  type Config,
  type ConfigPath,
  type Kind,
} from './variables';

/** Every problem found in the environment; `message` has one per line. */
export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export interface LoadedConfig {
  config: Config;
  /** Allowed but probably unintended settings, one sentence each; never contain values of secrets. */
  warnings: string[];
}

export const REDACTED = '[redacted]';

/** `hidden`: the value holds credentials and must not be quoted in the message. */
type Parsed = { ok: true; value: unknown } | { ok: false; detail?: string; hidden?: boolean };

const ok = (value: unknown): Parsed => ({ ok: true, value });
const bad = (detail?: string): Parsed => (detail === undefined ? { ok: false } : { ok: false, detail });
const hidden = (detail: string): Parsed => ({ ok: false, detail, hidden: true });

const INT_RE = /^-?(0|[1-9][0-9]*)$/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const ES_TIME_RE = /^(-1|[0-9]+(d|h|m|s|ms|micros|nanos))$/;
const SCHEME_RE = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;
/** Userinfo (`user:pw@`) in a URL or a `host:port`: an `@` before the path. */
const USERINFO_RE = /^(?:[A-Za-z][A-Za-z0-9+.-]*:\/\/)?[^/?#]*@/;
/** Nanoseconds per unit of an Elasticsearch time value; ES holds the duration in a Java long. */
const ES_TIME_UNIT_NS: Record<string, bigint> = {
  nanos: 1n,
  micros: 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
  d: 86_400_000_000_000n,
};
const JAVA_LONG_MAX = 9_223_372_036_854_775_807n;

/** Splits a comma-separated list; items are trimmed, and an empty item is reported. */
function splitList(raw: string): { items: string[]; empty: boolean } {
  const items = raw.split(',').map((s) => s.trim());
  return { items, empty: items.some((s) => s === '') };
}

/** Parses one raw value by its kind. Details may quote the value: callers drop them for secrets. */
export function parseValue(kind: Kind, raw: string): Parsed {
  switch (kind.type) {
    case 'bool': {
      const lower = raw.toLowerCase();
      return lower === 'true' ? ok(true) : lower === 'false' ? ok(false) : bad();
    }
    case 'int': {
      if (!INT_RE.test(raw)) return bad();
      const n = Number(raw);
      return Number.isSafeInteger(n) && n >= kind.min && n <= kind.max ? ok(n) : bad();
    }
    case 'port':
      return isPort(raw) ? ok(Number(raw)) : bad();
    case 'enum':
      return kind.values.includes(raw) ? ok(raw) : bad();
    case 'string':
      if (raw === '') return kind.required ? bad('it is empty') : ok('');
      if (kind.maxBytes !== undefined && Buffer.byteLength(raw) > kind.maxBytes) return bad(`longer than ${kind.maxBytes} bytes`);
      return kind.pattern && !kind.pattern.test(raw) ? bad() : ok(raw);
    case 'ip':
      return isIpLiteral(raw) ? ok(raw) : bad();
    case 'host':
      return isHostname(raw) || isIpLiteral(raw) ? ok(raw) : bad();
    case 'ports': {
      if (raw.trim() === '') return bad('no port given');
      const { items, empty } = splitList(raw);
      if (empty) return bad('empty item in the list');
      const seen = new Set<number>();
      for (const item of items) {
        if (!isPort(item)) return bad(`${item} is not a port 1-65535`);
        const n = Number(item);
        if (seen.has(n)) return bad(`${n} is listed twice`);
        seen.add(n);
      }
      return ok([...seen]);
    }
    case 'hostports': {
      if (raw.trim() === '') return bad('no address given');
      const { items, empty } = splitList(raw);
      if (empty) return bad('empty item in the list');
      for (const item of items) {
        if (USERINFO_RE.test(item)) return hidden(`credentials in the address are not allowed${kind.credentialsHint ? `: ${kind.credentialsHint}` : ''}`);
        if (SCHEME_RE.test(item)) {
          return bad(`write ${item.replace(SCHEME_RE, '').replace(/\/+$/, '')} without the scheme${kind.schemeHint ? `; ${kind.schemeHint}` : ''}`);
        }
        const r = checkHostPort(item);
        if (!r.ok) return bad(r.reason);
      }
      return ok(items);
    }
    case 'cidrs': {
      if (raw.trim() === '') return ok([]);
      const { items, empty } = splitList(raw);
      if (empty) return bad('empty item in the list');
      for (const item of items) {
        const r = checkCidr(item);
        if (!r.ok) return bad(r.reason);
      }
      return ok(items);
    }
    case 'uuid':
      if (raw === '') return ok('');
      return UUID_RE.test(raw) ? ok(raw.toLowerCase()) : bad();
    case 'base64key': {
      if (raw === '') return ok('');
      if (raw.length % 4 !== 0 || !BASE64_RE.test(raw)) return bad('not base64');
      const n = Buffer.from(raw, 'base64').length;
      return kind.bytes.includes(n) ? ok(raw) : bad(`decodes to ${n} bytes`);
    }
    case 'url': {
      if (USERINFO_RE.test(raw)) return hidden(`credentials in the URL are not allowed${kind.credentialsHint ? `: ${kind.credentialsHint}` : ''}`);
      let u: URL;
      try {
        u = new URL(raw);
      } catch {
        return bad('not a URL');
      }
      if (u.protocol !== 'http:' && u.protocol !== 'https:') return bad(`scheme ${u.protocol} is not http or https`);
      if (u.username !== '' || u.password !== '') {
        return hidden(`credentials in the URL are not allowed${kind.credentialsHint ? `: ${kind.credentialsHint}` : ''}`);
      }
      if (kind.placeholder && !raw.includes(kind.placeholder)) return bad(`${kind.placeholder} is missing`);
      return ok(raw);
    }
    case 'path': {
      if (raw === '') return kind.optional ? ok('') : bad('it is empty');
      if (!kind.mustExist) return ok(raw);
      try {
        if (!statSync(raw).isFile()) return bad('not a regular file');
        accessSync(raw, constants.R_OK);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        return bad(code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'not readable' : (code ?? 'cannot be read'));
      }
      if (kind.pemCertificates) {
        const problem = pemCertificatesProblem(raw);
        if (problem !== null) return bad(problem);
      }
      return ok(raw);
    }
    case 'estime': {
      if (!ES_TIME_RE.test(raw)) return bad();
      if (raw === '-1') return ok(raw);
      const [, n, unit] = /^([0-9]+)([a-z]+)$/.exec(raw) as RegExpExecArray;
      // Elasticsearch keeps the number in a Java long and converts to nanoseconds: beyond that it refuses.
      if (BigInt(n) * ES_TIME_UNIT_NS[unit] > JAVA_LONG_MAX) return bad('too long: at most 106751d (2^63-1 nanoseconds) in any unit');
      return ok(raw);
    }
    case 'cloudid': {
      if (raw === '') return ok('');
      const colon = raw.indexOf(':');
      const b64 = colon < 0 ? '' : raw.slice(colon + 1);
      if (colon < 0 || !BASE64_RE.test(b64) || b64 === '') return bad();
      const parts = Buffer.from(b64, 'base64').toString('utf8').split('$');
      return parts.length >= 2 && parts[0] !== '' && parts[1] !== '' ? ok(raw) : bad('does not decode to host$id');
    }
  }
}

/** A CA file larger than this is refused unread (a full public CA bundle is about 220 KB). */
const PEM_FILE_MAX_BYTES = 4 * 1024 * 1024;
const PEM_CERT_RE = /-----BEGIN CERTIFICATE-----\r?\n[\s\S]*?-----END CERTIFICATE-----/g;

/**
 * Why the file at `path` is not a PEM file of certificates, or null when it is: at least one
 * `BEGIN CERTIFICATE` block, each a valid X.509 certificate. Node's TLS silently ignores what it cannot
 * parse in `ca`, which would leave verification failing later with a misleading error. The message never
 * quotes the file's content.
 */
export function pemCertificatesProblem(path: string): string | null {
  let text: string;
  try {
    if (statSync(path).size > PEM_FILE_MAX_BYTES) return `larger than ${PEM_FILE_MAX_BYTES / 1024 / 1024} MiB`;
    text = readFileSync(path, 'latin1');
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? 'cannot be read';
  }
  const blocks = text.match(PEM_CERT_RE) ?? [];
  if (blocks.length === 0) return 'no PEM certificate (-----BEGIN CERTIFICATE-----) in it';
  for (const [i, b] of blocks.entries()) {
    try {
      new X509Certificate(b);
    } catch {
      return `PEM certificate ${i + 1} of ${blocks.length} does not parse as X.509`;
    }
  }
  return null;
}

/**
 * `NAME: "value" is not valid: allowed; detail`, with `[redacted]` and no detail for a secret, and
 * `[redacted]` with the detail for a value holding credentials.
 */
function invalidMessage(d: AnyVariable, raw: string, detail: string | undefined, hideValue = false): string {
  const shown = d.secret || hideValue ? REDACTED : JSON.stringify(raw);
  const more = detail !== undefined && !d.secret ? `; ${detail}` : '';
  return `${d.name}: ${shown} is not valid: ${allowedText(d.kind)}${more}`;
}

function setPath(target: Record<string, unknown>, path: ConfigPath, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const k of keys.slice(0, -1)) {
    node[k] ??= {};
    node = node[k] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]] = value;
}

function getPath(source: unknown, path: ConfigPath): unknown {
  return path.split('.').reduce<unknown>((node, k) => (node as Record<string, unknown>)[k], source);
}

function cloneValue<T>(value: T): T {
  return Array.isArray(value) ? ([...value] as T) : value;
}

/** The configuration with every variable at its default. */
export function defaultConfig(): Config {
  const config: Record<string, unknown> = {};
  for (const d of VARIABLES) setPath(config, d.path, cloneValue(d.default));
  return config as unknown as Config;
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

/** How many `_`-separated words one name has that the other lacks, both ways. */
function wordDistance(a: string, b: string): number {
  const wa = a.split('_');
  const wb = b.split('_');
  return wa.filter((w) => !wb.includes(w)).length + wb.filter((w) => !wa.includes(w)).length;
}

/**
 * The declared name closest to `name`, when it is close enough to be a plausible typo: fewest differing
 * words first (a missing `TEMPLATE_` is one word), then fewest differing characters (a misspelt word).
 */
export function closestName(name: string): string | null {
  let best: string | null = null;
  let bestWords = Infinity;
  let bestChars = Infinity;
  for (const d of VARIABLES) {
    const words = wordDistance(name, d.name);
    const chars = distance(name, d.name);
    if (words < bestWords || (words === bestWords && chars < bestChars)) {
      best = d.name;
      bestWords = words;
      bestChars = chars;
    }
  }
  return bestWords <= 2 || bestChars <= Math.max(2, Math.floor(name.length / 4)) ? best : null;
}

/** Problems with names: deprecated ones (with their replacement) and unknown ones (with a suggestion). */
function checkNames(env: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  const names = Object.keys(env)
    .filter((n) => n.startsWith('EF_') && env[n] !== undefined && !VARIABLES_BY_NAME.has(n))
    .sort();
  for (const name of names) {
    const dep = DEPRECATED_PREFIXES.find((p) => name.startsWith(p.from));
    if (dep) {
      const renamed = dep.to + name.slice(dep.from.length);
      if (VARIABLES_BY_NAME.has(renamed)) {
        problems.push(`${name} was renamed ${renamed} in ${dep.since}: rename the variable`);
      } else {
        const guess = closestName(renamed);
        problems.push(
          `${name} is deprecated since ${dep.since}: ${dep.from}* variables are now ${dep.to}*` +
            (guess ? `; did you mean ${guess}?` : `, and ${renamed} does not exist`),
        );
      }
      continue;
    }
    const guess = closestName(name);
    problems.push(
      guess ? `unknown variable ${name}; did you mean ${guess}?` : `unknown variable ${name} (\`threatflow config --variables\` lists them all)`,
    );
  }
  return problems;
}

const RISKIQ_THREAT_ENABLE = 'EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_THREAT_ENABLE';
const RISKIQ_API_USER = 'EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_API_USER';
const RISKIQ_API_KEY = 'EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_API_KEY';
const RISKIQ_OUT = 'EF_OUTPUT_RISKIQ_';
const RISKIQ_OUT_ENABLE = `${RISKIQ_OUT}ENABLE`;
const RISKIQ_OUT_UUID = 'EF_OUTPUT_RISKIQ_CUSTOMER_UUID';
const RISKIQ_OUT_KEY = 'EF_OUTPUT_RISKIQ_CUSTOMER_ENCRYPTION_KEY';
const ES = 'EF_OUTPUT_ELASTICSEARCH_';
/** The flows index template matches `logs-threatflow.flows-*` (output/elasticsearch/assets.ts). */
const FLOWS_DATA_STREAM_PREFIX = 'logs-threatflow.flows';

/** "A and B are not set" / "A is not set". */
function notSet(names: string[]): string {
  return `${names.join(' and ')} ${names.length > 1 ? 'are' : 'is'} not set`;
}

/**
 * Rules over several variables. Values are final except that a variable in `failed` holds its default,
 * so rules that read one are skipped rather than piling a second error on the first.
 */
function crossCheck(
  c: Config,
  isSet: (name: string) => boolean,
  failed: ReadonlySet<string>,
): { problems: string[]; warnings: string[] } {
  const problems: string[] = [];
  const warnings: string[] = [];
  const usable = (...names: string[]) => names.every((n) => !failed.has(n));

  // RiskIQ threat enrichment (DESIGN.md §5).
  const threat = c.enrich.riskiq;
  if (threat.enabled && usable(RISKIQ_API_USER, RISKIQ_API_KEY)) {
    const missing = [
      ...(threat.apiUser === '' ? [RISKIQ_API_USER] : []),
      ...(threat.apiKey === '' ? [RISKIQ_API_KEY] : []),
    ];
    if (missing.length > 0) {
      problems.push(`${RISKIQ_THREAT_ENABLE}=true requires ${RISKIQ_API_USER} and ${RISKIQ_API_KEY}; ${notSet(missing)}`);
    }
  }

  // RiskIQ export (DESIGN.md §6).
  const exp = c.output.riskiq;
  if (exp.enabled && usable(RISKIQ_OUT_UUID, RISKIQ_OUT_KEY)) {
    const missing = [
      ...(exp.customerUuid === '' ? [RISKIQ_OUT_UUID] : []),
      ...(exp.customerEncryptionKey === '' ? [RISKIQ_OUT_KEY] : []),
    ];
    if (missing.length > 0) {
      problems.push(`${RISKIQ_OUT_ENABLE}=true requires ${RISKIQ_OUT_UUID} and ${RISKIQ_OUT_KEY}; ${notSet(missing)}`);
    }
  }
  if (exp.enabled && !exp.tlsEnabled) {
    const tlsOnly = [
      ...(exp.tlsSkipVerification ? [`${RISKIQ_OUT}TLS_SKIP_VERIFICATION`] : []),
      ...(exp.tlsCaCertFilepath !== '' ? [`${RISKIQ_OUT}TLS_CA_CERT_FILEPATH`] : []),
    ];
    if (tlsOnly.length > 0) {
      warnings.push(`${tlsOnly.join(' and ')} ${tlsOnly.length > 1 ? 'have' : 'has'} no effect while ${RISKIQ_OUT}TLS_ENABLE=false`);
    }
  }
  if (exp.enabled && exp.tlsEnabled && exp.tlsSkipVerification) {
    warnings.push(
      `${RISKIQ_OUT}TLS_SKIP_VERIFICATION=true: the RiskIQ receiver certificate is not verified (anyone on the path can impersonate the receiver; the records stay encrypted with the customer key)`,
    );
  }
  if (exp.enabled && !threat.enabled) {
    warnings.push(
      `${RISKIQ_OUT_ENABLE}=true without ${RISKIQ_THREAT_ENABLE}=true: flows are exported to RiskIQ but not enriched with its threat DB; the RiskIQ integration needs both`,
    );
  } else if (threat.enabled && !exp.enabled) {
    warnings.push(
      `${RISKIQ_THREAT_ENABLE}=true without ${RISKIQ_OUT_ENABLE}=true: flows are enriched but not exported to RiskIQ; the RiskIQ integration needs both`,
    );
  }

  // Elasticsearch (DESIGN.md §8): the cloud ID wins over addresses, the API key over user and password.
  const es = c.output.elasticsearch;
  if (es.cloudId !== '') {
    if (es.enabled && isSet(`${ES}ADDRESSES`)) {
      warnings.push(`${ES}ADDRESSES is ignored because ${ES}CLOUD_ID is set`);
    }
    es.addresses = [];
  }
  if (es.apiKey !== '') {
    const ignored = [`${ES}USERNAME`, `${ES}PASSWORD`].filter(isSet);
    if (ignored.length > 0) {
      // Said even with the output off: `threatflow config` then shows them empty, and this says why.
      warnings.push(
        `${ignored.join(' and ')} ${ignored.length > 1 ? 'are' : 'is'} ignored because ${ES}API_KEY is set (the API key wins over basic authentication; the effective configuration shows ${ignored.length > 1 ? 'them' : 'it'} empty)`,
      );
    }
    es.username = '';
    es.password = '';
  } else if ((es.username === '') !== (es.password === '') && usable(`${ES}USERNAME`, `${ES}PASSWORD`)) {
    const text = `${ES}USERNAME and ${ES}PASSWORD go together for basic authentication; ${notSet([es.username === '' ? `${ES}USERNAME` : `${ES}PASSWORD`])}`;
    // An error where it would be used, a warning while the output is off.
    (es.enabled ? problems : warnings).push(text);
  }
  if (es.enabled && es.indexTemplate.enabled && usable(`${ES}DATA_STREAM`) && !es.dataStream.startsWith(`${FLOWS_DATA_STREAM_PREFIX}-`)) {
    warnings.push(
      `${ES}DATA_STREAM=${es.dataStream} does not match the installed index template's pattern ${FLOWS_DATA_STREAM_PREFIX}-*: its documents will not get the threatflow mappings and settings`,
    );
  }
  if (es.enabled && es.cloudId === '' && !es.tlsEnabled) {
    const tlsOnly = [
      ...(es.tlsSkipVerification ? [`${ES}TLS_SKIP_VERIFICATION`] : []),
      ...(es.tlsCaCertFilepath !== '' ? [`${ES}TLS_CA_CERT_FILEPATH`] : []),
    ];
    if (tlsOnly.length > 0) {
      warnings.push(`${tlsOnly.join(' and ')} ${tlsOnly.length > 1 ? 'have' : 'has'} no effect while ${ES}TLS_ENABLE=false`);
    }
  }
  if (es.enabled && es.tlsSkipVerification && (es.tlsEnabled || es.cloudId !== '')) {
    warnings.push(`${ES}TLS_SKIP_VERIFICATION=true: the Elasticsearch server certificate is not verified`);
  }

  const p = c.decode.protocols;
  if (!p.netflow5 && !p.netflow9 && !p.ipfix && !p.sflow5) {
    warnings.push('EF_PROCESSOR_DECODE_{NETFLOW5,NETFLOW9,IPFIX,SFLOW5}_ENABLE are all false: no flow will be decoded');
  }

  return { problems, warnings };
}

/**
 * Reads the configuration from `EF_*` variables. Throws a `ConfigError` listing every problem; returns the
 * effective configuration (precedence rules applied) and warnings otherwise.
 */
export function loadConfig(env: NodeJS.ProcessEnv): LoadedConfig {
  const problems = checkNames(env);
  const failed = new Set<string>();
  const config = defaultConfig();
  const warnings: string[] = [];
  for (const d of VARIABLES) {
    const given = env[d.name];
    if (given === undefined) continue;
    // Every value is trimmed, lists item by item too; secrets are kept as given (see the file comment).
    const raw = d.secret ? given : given.trim();
    if (d.secret && given !== given.trim()) {
      warnings.push(`${d.name} begins or ends with whitespace, which is kept as part of the secret (secrets are not trimmed)`);
    }
    const r = parseValue(d.kind, raw);
    if (r.ok) {
      setPath(config as unknown as Record<string, unknown>, d.path, r.value);
    } else {
      failed.add(d.name);
      problems.push(invalidMessage(d, raw, r.detail, r.hidden === true));
    }
  }
  const cross = crossCheck(config, (n) => env[n] !== undefined, failed);
  problems.push(...cross.problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return { config, warnings: [...warnings, ...cross.warnings] };
}

/** A copy of `config` for printing: each secret is `[redacted]` when set and `""` when not. */
export function redactedConfig(config: Config): Config {
  const copy = JSON.parse(JSON.stringify(config)) as Config;
  for (const d of VARIABLES) {
    if (!d.secret) continue;
    const value = getPath(config, d.path);
    setPath(copy as unknown as Record<string, unknown>, d.path, value === '' ? '' : REDACTED);
  }
  return copy;
}
