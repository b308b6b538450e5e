// SPDX-License-Identifier: Apache-2.0
/**
 * Collector configuration from `EF_*` environment variables: declared in `variables.ts`, parsed and
 * validated in `env.ts`, described for the reference in `describe.ts`. Import from here.
 */
import { availableParallelism } from 'node:os';
import type { ServerConfig } from './variables';

export { ConfigError, REDACTED, defaultConfig, loadConfig, redactedConfig, type LoadedConfig } from './env';
export { describeVariables, variablesMarkdown, type VariableDescription } from './describe';
export type {
  ApiConfig,
  Config,
  DecodeConfig,
  ElasticsearchOutputConfig,
  EnrichConfig,
  LoggerConfig,
  OutputConfig,
  RiskiqOutputConfig,
  RiskiqThreatConfig,
  ServerConfig,
  StdoutOutputConfig,
} from './variables';

/** Decoder worker threads to start: `workers`, or when 0 one less than the cores, at least 1. */
export function effectiveWorkers(server: ServerConfig, cores: number = availableParallelism()): number {
  return server.workers > 0 ? server.workers : Math.max(1, cores - 1);
}

/**
 * Elasticsearch node URLs for the client: each `host:port` with the scheme `EF_OUTPUT_ELASTICSEARCH_TLS_ENABLE`
 * selects. Empty when a cloud ID is used instead.
 */
export function elasticsearchNodeUrls(es: { addresses: readonly string[]; tlsEnabled: boolean }): string[] {
  const scheme = es.tlsEnabled ? 'https' : 'http';
  return es.addresses.map((a) => `${scheme}://${a}`);
}
