// SPDX-License-Identifier: Apache-2.0
/**
 * Turns the effective configuration into a running pipeline: which decoders, the normalizer settings,
 * the enrichers and the outputs. Used by the decoding workers of `threatflow run`; `threatflow decode`
 * builds its own with an in-memory output.
 */
import type { Config } from '../config';
import { elasticsearchNodeUrls } from '../config';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import { flowsTemplateSet } from '../output/elasticsearch/assets';
import { ElasticsearchOutput } from '../output/elasticsearch/output';
import { StdoutOutput } from '../output/stdout';
import type { Output } from '../output/types';
import type { DecoderOptions } from './decoders';
import type { NormalizerConfig } from './normalize';
import { Pipeline, type Enricher } from './pipeline';

export function decoderOptions(config: Config): DecoderOptions {
  return {
    protocols: { ...config.decode.protocols },
    templatePendingMax: config.decode.templatePendingMax,
    templatePendingMaxAgeSeconds: config.decode.templatePendingMaxAgeSeconds,
  };
}

export function normalizerConfig(config: Config): NormalizerConfig {
  return {
    timestampSource: config.output.elasticsearch.timestampSource,
    communityIdEnable: config.enrich.communityId.enabled,
    communityIdSeed: config.enrich.communityId.seed,
    expandClientServer: config.enrich.expandClientServer,
    privateCidrs: config.enrich.privateCidrs,
  };
}

export function createOutputs(config: Config, log: Logger, metrics: Metrics): Output[] {
  const outputs: Output[] = [];
  const es = config.output.elasticsearch;
  if (es.enabled) {
    outputs.push(
      new ElasticsearchOutput(
        {
          connection: {
            addresses: elasticsearchNodeUrls(es).map((u) => u.replace(/^https?:\/\//, '')),
            username: es.username,
            password: es.password,
            apiKey: es.apiKey,
            cloudId: es.cloudId,
            tlsEnable: es.tlsEnabled,
            tlsSkipVerification: es.tlsSkipVerification,
            tlsCaCertFilepath: es.tlsCaCertFilepath,
          },
          bulk: {
            target: es.dataStream,
            maxDocs: es.batchMaxDocs,
            maxBytes: es.batchMaxBytes,
            deadlineMs: es.batchDeadlineMs,
            concurrency: es.concurrency,
            retryEnable: es.retryEnabled,
            maxRetries: es.maxRetries,
            retryBackoffMs: es.retryBackoffMs,
            maxQueuedBytes: Math.max(4 * es.batchMaxBytes, 64 * 1024 * 1024),
            deadLetterPath: es.deadLetterPath,
          },
          templates: es.indexTemplate.enabled
            ? (ilmAvailable) =>
                flowsTemplateSet(
                  {
                    shards: es.indexTemplate.shards,
                    replicas: es.indexTemplate.replicas,
                    refreshInterval: es.indexTemplate.refreshInterval,
                    codec: es.indexTemplate.codec,
                    ilmLifecycle: es.indexTemplate.ilmLifecycle,
                    pipelineDefault: es.indexTemplate.pipelineDefault,
                    pipelineFinal: es.indexTemplate.pipelineFinal,
                  },
                  { ilmAvailable },
                )
            : null,
          templateOverwrite: es.indexTemplate.overwrite,
        },
        log.child({ caller: 'output/elasticsearch' }),
        metrics,
      ),
    );
  }
  if (config.output.stdout.enabled) outputs.push(new StdoutOutput(config.output.stdout.format));
  return outputs;
}

export function createEnrichers(_config: Config): Enricher[] {
  // The RiskIQ threat enricher plugs in here (DESIGN.md §5); Community ID and locality are part of the
  // normalizer because every document needs them.
  return [];
}

export function buildPipeline(config: Config, log: Logger, metrics: Metrics, outputs?: Output[]): Pipeline {
  return new Pipeline({
    decode: decoderOptions(config),
    normalize: normalizerConfig(config),
    enrichers: createEnrichers(config),
    outputs: outputs ?? createOutputs(config, log, metrics),
    metrics,
    log: log.child({ caller: 'pipeline' }),
  });
}
