// SPDX-License-Identifier: Apache-2.0
/** The Elasticsearch output: templates at start, then bulk `create` into the flows data stream. */
import type { Client } from '@elastic/elasticsearch';
import type { Logger } from '../../observability/logger';
import type { Metrics } from '../../observability/metrics';
import type { EcsDocument } from '../../pipeline/ecs';
import type { Output } from '../types';
import { BulkWriter, type BulkConfig } from './bulk';
import { createClient, type ConnectionConfig } from './client';
import { installTemplates, type TemplateSet } from './install';

export interface ElasticsearchOutputConfig {
  connection: ConnectionConfig;
  bulk: BulkConfig;
  /** Builds the templates once the cluster's ILM support is known; null = don't install. */
  templates: ((ilmAvailable: boolean) => TemplateSet) | null;
  templateOverwrite: boolean;
  /** Lifecycle policy the settings name; created (with a default lifecycle) when ILM exists and it does not. */
  ilmPolicy?: string;
  /** Ingest pipelines the settings name, with the variable that named them: they must exist. */
  requiredPipelines?: Array<{ name: string; variable: string }>;
  /** Startup retry: first delay and cap (ms). Tests shorten them. */
  startRetryMs?: { first: number; max: number };
}

/** One line saying what went wrong talking to Elasticsearch, in terms an operator can act on. */
export function describeElasticsearchError(err: unknown, nodes: string): string {
  const e = err as { name?: string; message?: string; code?: string; meta?: { statusCode?: number } };
  const msg = e.message ?? String(err);
  if (e.name === 'ProductNotSupportedError') return `the server at ${nodes} is not Elasticsearch (it did not identify itself as Elasticsearch)`;
  if (/wrong version number|EPROTO|SSL routines/i.test(msg)) {
    return `TLS handshake with ${nodes} failed: is EF_OUTPUT_ELASTICSEARCH_TLS_ENABLE right for this node? (${msg.split('\n')[0]})`;
  }
  if (/self[- ]signed|unable to verify|certificate/i.test(msg)) {
    return `the certificate of ${nodes} is not trusted: set EF_OUTPUT_ELASTICSEARCH_TLS_CA_CERT_FILEPATH (${msg.split('\n')[0]})`;
  }
  if (e.meta?.statusCode === 401 || e.meta?.statusCode === 403) {
    return `Elasticsearch at ${nodes} refused the credentials (HTTP ${e.meta.statusCode}): check EF_OUTPUT_ELASTICSEARCH_USERNAME/_PASSWORD or _API_KEY`;
  }
  if (e.name === 'TimeoutError') return `Elasticsearch at ${nodes} did not answer in time`;
  if (e.name === 'ConnectionError') return `cannot connect to Elasticsearch at ${nodes}: ${msg.split('\n')[0]}`;
  if (e.meta?.statusCode) return `Elasticsearch at ${nodes} answered HTTP ${e.meta.statusCode}: ${msg.split('\n')[0]}`;
  return `Elasticsearch at ${nodes}: ${msg.split('\n')[0]}`;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

export class ElasticsearchOutput implements Output {
  readonly name = 'elasticsearch';
  readonly client: Client;
  private readonly writer: BulkWriter;

  constructor(
    private readonly cfg: ElasticsearchOutputConfig,
    private readonly log: Logger,
    metrics: Metrics,
    client?: Client,
  ) {
    this.client = client ?? createClient(cfg.connection);
    this.writer = new BulkWriter(this.client, cfg.bulk, log, metrics);
  }

  /**
   * Waits for Elasticsearch (retrying with a capped backoff, so the collector can start before the
   * cluster), then installs the templates and checks that the ingest pipelines the settings name exist:
   * a missing pipeline would send every document to the dead-letter file.
   */
  async start(): Promise<void> {
    const nodes = this.cfg.connection.cloudId ? 'the Cloud ID deployment' : this.cfg.connection.addresses.join(',');
    const retry = this.cfg.startRetryMs ?? { first: 1000, max: 30_000 };
    let delay = retry.first;
    for (let attempt = 1; ; attempt++) {
      try {
        const info = await this.client.info();
        this.log.info({ cluster: info.cluster_name, version: info.version.number }, 'connected to Elasticsearch');
        break;
      } catch (err) {
        if (this.stopping) throw err;
        this.log.warn({ attempt, retry_in_ms: delay, error: describeElasticsearchError(err, nodes) }, 'Elasticsearch is not reachable yet; retrying');
        await sleep(delay);
        delay = Math.min(retry.max, delay * 2);
      }
    }
    try {
      if (this.cfg.templates) await installTemplates(this.client, this.cfg.templates, this.cfg.templateOverwrite, this.log, this.cfg.ilmPolicy ?? '');
    } catch (err) {
      throw new Error(`installing the index templates failed: ${describeElasticsearchError(err, nodes)}`);
    }
    for (const p of this.cfg.requiredPipelines ?? []) {
      try {
        await this.client.ingest.getPipeline({ id: p.name });
      } catch (err) {
        if ((err as { meta?: { statusCode?: number } }).meta?.statusCode === 404) {
          throw new Error(`${p.variable} names the ingest pipeline "${p.name}", which does not exist in the cluster: create it first or unset the variable`);
        }
        throw new Error(`checking the ingest pipeline "${p.name}" failed: ${describeElasticsearchError(err, nodes)}`);
      }
    }    // Only now: replayed documents need the templates just installed, like live ones.
    this.writer.startReplay();
  }

  write(_doc: EcsDocument, line: string): void {
    this.writer.add(line);
  }

  flush(): Promise<void> {
    return this.writer.flush();
  }

  private stopping = false;

  async stop(): Promise<void> {
    this.stopping = true;
    await this.writer.stop();
    await this.client.close();
  }
}
