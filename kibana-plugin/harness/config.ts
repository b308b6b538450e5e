// SPDX-License-Identifier: Apache-2.0
/**
 * The harness's configuration: environment variables with defaults that match a local setup (the embedded
 * Elasticsearch on 9200, Kibana on 5601), validated up front so a typo is a message at startup rather than
 * an empty table later.
 *
 * | Variable                      | Default                                                  |
 * |-------------------------------|----------------------------------------------------------|
 * | `TF_HARNESS_PORT`             | `5610` (`0`: any free port)                              |
 * | `TF_HARNESS_ES_URL`           | `http://127.0.0.1:9200` (credentials may go in the URL)  |
 * | `TF_HARNESS_FLOWS_INDEX`      | `logs-threatflow.flows-*` (with `--demo`: the demo index)|
 * | `TF_HARNESS_INDICATORS_INDEX` | `logs-ti_threatflow_latest.indicators` (same)            |
 * | `TF_HARNESS_LAUNCH_URL`       | `https://community.riskiq.com/research?query={{value}}`  |
 * | `TF_HARNESS_KIBANA_URL`       | `http://localhost:5601` (target of Discover/dashboard links) |
 *
 * The server binds 127.0.0.1 only: it answers with whatever the Elasticsearch credentials can read, and
 * has no authentication of its own.
 */
import { DEFAULT_FLOWS_INDEX, DEFAULT_INDICATORS_INDEX, DEFAULT_LAUNCH_URL_TEMPLATE, launchTemplateError } from '../common';

export const DEFAULT_PORT = 5610;
export const DEFAULT_ES_URL = 'http://127.0.0.1:9200';
export const DEFAULT_KIBANA_URL = 'http://localhost:5601';

export interface HarnessConfig {
  /** TCP port on 127.0.0.1; 0 picks a free one. */
  port: number;
  esUrl: string;
  flowsIndex: string;
  indicatorsIndex: string;
  launchUrlTemplate: string;
  /** Base URL of the Kibana the Discover and dashboard links open (no trailing slash). */
  kibanaUrl: string;
}

export class HarnessConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HarnessConfigError';
  }
}

export const ENV = {
  port: 'TF_HARNESS_PORT',
  esUrl: 'TF_HARNESS_ES_URL',
  flowsIndex: 'TF_HARNESS_FLOWS_INDEX',
  indicatorsIndex: 'TF_HARNESS_INDICATORS_INDEX',
  launchUrlTemplate: 'TF_HARNESS_LAUNCH_URL',
  kibanaUrl: 'TF_HARNESS_KIBANA_URL',
} as const;

/**
 * An http(s) URL. The messages never repeat the value: it may hold credentials (`user:secret@host:9200`
 * is not a URL with a password but one with the scheme `user:`), and a terminal or CI log keeps them.
 */
function httpUrl(name: string, value: string): string {
  const example = 'e.g. http://127.0.0.1:9200 or https://user:password@host:9200';
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new HarnessConfigError(`${name} is not an absolute URL (${example}); its value is not repeated here, it may hold credentials`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new HarnessConfigError(`${name} is not an http(s) URL: it must start with http:// or https:// (${example}); its value is not repeated here, it may hold credentials`);
  }
  return value.replace(/\/+$/, '');
}

/** Fills in defaults and checks every value; throws HarnessConfigError naming the variable at fault. */
export function resolveConfig(partial: Partial<HarnessConfig>): HarnessConfig {
  const port = partial.port ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new HarnessConfigError(`${ENV.port}: ${port} is not a TCP port (0-65535)`);
  const launchUrlTemplate = partial.launchUrlTemplate ?? DEFAULT_LAUNCH_URL_TEMPLATE;
  const launchErr = launchTemplateError(launchUrlTemplate);
  if (launchErr) throw new HarnessConfigError(`${ENV.launchUrlTemplate}: "${launchUrlTemplate}" ${launchErr}`);
  const flowsIndex = partial.flowsIndex ?? DEFAULT_FLOWS_INDEX;
  const indicatorsIndex = partial.indicatorsIndex ?? DEFAULT_INDICATORS_INDEX;
  if (flowsIndex.trim() === '') throw new HarnessConfigError(`${ENV.flowsIndex} is empty`);
  if (indicatorsIndex.trim() === '') throw new HarnessConfigError(`${ENV.indicatorsIndex} is empty`);
  return {
    port,
    esUrl: httpUrl(ENV.esUrl, partial.esUrl ?? DEFAULT_ES_URL),
    flowsIndex,
    indicatorsIndex,
    launchUrlTemplate,
    kibanaUrl: httpUrl(ENV.kibanaUrl, partial.kibanaUrl ?? DEFAULT_KIBANA_URL),
  };
}

/** The variables that are set (an empty one counts as unset), before defaults. */
export function configFromEnv(env: NodeJS.ProcessEnv): Partial<HarnessConfig> {
  const get = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const out: Partial<HarnessConfig> = {};
  const port = get(ENV.port);
  if (port !== undefined) {
    if (!/^\d+$/.test(port)) throw new HarnessConfigError(`${ENV.port}: "${port}" is not a TCP port (0-65535)`);
    out.port = Number(port);
  }
  const esUrl = get(ENV.esUrl);
  if (esUrl !== undefined) out.esUrl = esUrl;
  const flowsIndex = get(ENV.flowsIndex);
  if (flowsIndex !== undefined) out.flowsIndex = flowsIndex;
  const indicatorsIndex = get(ENV.indicatorsIndex);
  if (indicatorsIndex !== undefined) out.indicatorsIndex = indicatorsIndex;
  const launch = get(ENV.launchUrlTemplate);
  if (launch !== undefined) out.launchUrlTemplate = launch;
  const kibana = get(ENV.kibanaUrl);
  if (kibana !== undefined) out.kibanaUrl = kibana;
  return out;
}

/** What the browser side gets (inlined into index.html): no Elasticsearch URL, which may hold credentials. */
export interface BrowserConfig {
  launchUrlTemplate: string;
  kibanaUrl: string;
}
