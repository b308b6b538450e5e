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
}

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

  async start(): Promise<void> {
    const info = await this.client.info();
    this.log.info({ cluster: info.cluster_name, version: info.version.number }, 'connected to Elasticsearch');
    if (this.cfg.templates) await installTemplates(this.client, this.cfg.templates, this.cfg.templateOverwrite, this.log);
  }

  write(_doc: EcsDocument, line: string): void {
    this.writer.add(line);
  }

  flush(): Promise<void> {
    return this.writer.flush();
  }

  async stop(): Promise<void> {
    await this.writer.stop();
    await this.client.close();
  }
}
