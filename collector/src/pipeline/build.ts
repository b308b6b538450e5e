// SPDX-License-Identifier: Apache-2.0
/**
 * Turns the effective configuration into a running pipeline: which decoders, the normalizer settings,
 * the enrichers and the outputs. Used by the decoding workers of `threatflow run`; `threatflow decode`
 * builds its own with an in-memory output.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isMainThread, workerData } from 'node:worker_threads';
import type { Config } from '../config';
import { effectiveWorkers, elasticsearchNodeUrls } from '../config';
import { ThreatEnricher, threadThreatDb, type ThreatDbRef } from '../enrich/riskiq-threat/enricher';
import { loadInclExcl } from '../enrich/riskiq-threat/inclexcl';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import { flowsTemplateSet } from '../output/elasticsearch/assets';
import { ElasticsearchOutput } from '../output/elasticsearch/output';
import type { SpoolConfig } from '../output/elasticsearch/spool';
import { RiskiqOutput, riskiqOutputOptions } from '../output/riskiq/output';
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

/**
 * Each decoding worker has its own Elasticsearch output, so its own spool directory
 * (`<SPOOL_PATH>/worker-<n>`) and an equal share of EF_OUTPUT_ELASTICSEARCH_SPOOL_MAX_SIZE. Worker 0 takes
 * over the directories of workers a previous run had and this one does not.
 */
export function spoolConfig(config: Config): SpoolConfig {
  const es = config.output.elasticsearch;
  const wd = workerData as { workerIndex?: unknown } | null;
  const inWorker = !isMainThread && typeof wd?.workerIndex === 'number';
  const index = inWorker ? (wd!.workerIndex as number) : 0;
  const count = inWorker ? effectiveWorkers(config.server) : 1;
  const adopt: string[] = [];
  if (index === 0 && es.spoolMaxSize > 0) {
    try {
      for (const name of readdirSync(es.spoolPath)) {
        const m = /^worker-(\d+)$/.exec(name);
        if (m && Number(m[1]) >= count) adopt.push(join(es.spoolPath, name));
      }
    } catch {
      /* no spool yet */
    }
  }
  return { dir: join(es.spoolPath, `worker-${index}`), maxBytes: Math.floor(es.spoolMaxSize / count), adopt };
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
            spool: spoolConfig(config),
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
          ilmPolicy: es.indexTemplate.enabled ? es.indexTemplate.ilmLifecycle : '',
          requiredPipelines: [
            { name: es.indexTemplate.pipelineDefault, variable: 'EF_OUTPUT_ELASTICSEARCH_INDEX_TEMPLATE_PIPELINE_DEFAULT' },
            { name: es.indexTemplate.pipelineFinal, variable: 'EF_OUTPUT_ELASTICSEARCH_INDEX_TEMPLATE_PIPELINE_FINAL' },
          ].filter((p) => p.name !== ''),
        },
        log.child({ caller: 'output/elasticsearch' }),
        metrics,
      ),
    );
  }
  if (config.output.stdout.enabled) outputs.push(new StdoutOutput(config.output.stdout.format));
  if (config.output.riskiq.enabled) {
    // One RiskIQ output per decoding worker; the workers share EF_OUTPUT_RISKIQ_QUEUE_MAX (DESIGN.md §6).
    outputs.push(
      new RiskiqOutput(
        riskiqOutputOptions(config.output.riskiq, config.enrich.privateCidrs, effectiveWorkers(config.server)),
        log.child({ caller: 'output/riskiq' }),
        metrics,
      ),
    );
  }
  return outputs;
}

export interface EnricherDeps {
  /** Counts threat matches. */
  metrics?: Metrics;
  /** The threat DB to enrich with; default this thread's (set by `threat_db` messages in the workers). */
  threatDb?: ThreatDbRef;
}

/**
 * The enrichers after the normalizer (Community ID and locality are part of the normalizer because every
 * document needs them): the RiskIQ threat enricher when EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_THREAT_ENABLE is
 * on or a DB is given (`decode --threat-db`).
 */
export function createEnrichers(config: Config, deps: EnricherDeps = {}): Enricher[] {
  const enrichers: Enricher[] = [];
  const riskiq = config.enrich.riskiq;
  if (riskiq.enabled || deps.threatDb) {
    const inclExcl = riskiq.threatInclExclPath ? loadInclExcl(riskiq.threatInclExclPath) : null;
    enrichers.push(
      new ThreatEnricher(
        { launchUrl: riskiq.launchUrl, privateCidrs: config.enrich.privateCidrs, inclExcl },
        deps.threatDb ?? threadThreatDb,
        deps.metrics ?? null,
      ),
    );
  }
  return enrichers;
}

export function buildPipeline(config: Config, log: Logger, metrics: Metrics, outputs?: Output[]): Pipeline {
  return new Pipeline({
    decode: decoderOptions(config),
    normalize: normalizerConfig(config),
    enrichers: createEnrichers(config, { metrics }),
    outputs: outputs ?? createOutputs(config, log, metrics),
    metrics,
    log: log.child({ caller: 'pipeline' }),
  });
}
