// SPDX-License-Identifier: Apache-2.0
/**
 * `threatflow setup` (DESIGN.md §9, issue 5): installs the Elastic content step by step, idempotently.
 * Each step either changes the cluster, finds it already right, or is skipped with a reason (no ILM, no
 * ML, no --kibana); the pipeline goes in before the templates that may name it as their default. The
 * first step that fails stops the run with a `SetupError` naming it. `dryRun` contacts nothing and only
 * says what each step would do. ML jobs and datafeeds that exist are left as they are (an open job cannot
 * be replaced; delete it to reinstall).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import type { Config } from '../config';
import { connectionFromConfig, indicatorTemplateSet, INDICATOR_INDEX_TEMPLATE } from '../enrich/riskiq-threat/indicators';
import type { Logger } from '../observability/logger';
import { flowsTemplateSet, FLOWS_INDEX_TEMPLATE, FLOWS_MAPPINGS_COMPONENT, FLOWS_SETTINGS_COMPONENT } from '../output/elasticsearch/assets';
import { createClient } from '../output/elasticsearch/client';
import { ensureIlmPolicy, hasIlm, installTemplates } from '../output/elasticsearch/install';
import { describeElasticsearchError } from '../output/elasticsearch/output';
import { DASHBOARDS_FILE, FLOWS_PIPELINE_ID, readMlJobs, readPipeline, rulesPaths } from './content';
import { kibanaImport, type KibanaConnection } from './kibana';

export { DEFAULT_CONTENT_ROOT } from './content';

export interface SetupOptions {
  config: Config;
  /** Repository root holding ingest-pipelines/, ml-jobs/, dashboards/, detection-rules/. */
  contentRoot: string;
  kibana?: KibanaConnection;
  /** Overrides of the Kibana files (default: dashboards/kibana-8.14.x-threatflow.ndjson, detection-rules/*.ndjson). */
  dashboardsFile?: string;
  rulesFiles?: string[];
  skipPipelines?: boolean;
  dryRun?: boolean;
  log: Logger;
  /** Called before each step starts and after it ends (progress bar). */
  onStep?: (index: number, total: number, name: string, done: boolean) => void;
  /** Tests inject a client. */
  client?: Client;
}

export type StepStatus = 'done' | 'unchanged' | 'skipped' | 'planned';

export interface StepResult {
  step: string;
  status: StepStatus;
  detail: string;
}

export class SetupError extends Error {
  constructor(
    readonly step: string,
    readonly reason: string,
  ) {
    super(`setup step "${step}" failed: ${reason}`);
    this.name = 'SetupError';
  }
}

interface Step {
  name: string;
  plan: string;
  run: () => Promise<Omit<StepResult, 'step'>>;
}

function statusOf(err: unknown): number | undefined {
  return (err as { meta?: { statusCode?: number } }).meta?.statusCode;
}

function esReason(err: unknown): string {
  const body = (err as { meta?: { body?: { error?: { type?: string; reason?: string } } } }).meta?.body;
  if (body?.error?.reason) return `${statusOf(err)} ${body.error.type}: ${body.error.reason}`;
  return (err as Error).message ?? String(err);
}

export async function runSetup(opts: SetupOptions): Promise<StepResult[]> {
  const { config, log } = opts;
  const es = config.output.elasticsearch;
  const conn = connectionFromConfig(config);
  const nodes = es.cloudId ? 'Elastic Cloud' : conn.addresses.join(',');
  let client: Client | undefined = opts.client;
  const cl = (): Client => {
    client ??= createClient(conn);
    return client;
  };
  const root = opts.contentRoot;
  const dashboardsFile = opts.dashboardsFile ?? join(root, DASHBOARDS_FILE);
  const rulesFiles = opts.rulesFiles ?? rulesPaths(root);
  const ilmName = es.indexTemplate.ilmLifecycle;
  let ilm = false;

  const steps: Step[] = [
    {
      name: 'connect',
      plan: `connect to Elasticsearch at ${nodes} (EF_OUTPUT_ELASTICSEARCH_*)`,
      run: async () => {
        try {
          const info = await cl().info();
          return { status: 'done', detail: `Elasticsearch ${info.version.number} at ${nodes}` };
        } catch (err) {
          throw new Error(describeElasticsearchError(err, nodes));
        }
      },
    },
    {
      name: 'ILM policy',
      plan: ilmName ? `create the ILM policy "${ilmName}" when the cluster has ILM and lacks it` : 'no ILM policy (EF_OUTPUT_ELASTICSEARCH_INDEX_TEMPLATE_ILM_LIFECYCLE is empty)',
      run: async () => {
        ilm = await hasIlm(cl());
        if (!ilm) return { status: 'skipped', detail: 'the cluster has no ILM (no X-Pack): templates are installed without a lifecycle policy' };
        if (!ilmName) return { status: 'skipped', detail: 'EF_OUTPUT_ELASTICSEARCH_INDEX_TEMPLATE_ILM_LIFECYCLE is empty' };
        const r = await ensureIlmPolicy(cl(), ilmName, log);
        return { status: r === 'created' ? 'done' : 'unchanged', detail: `ILM policy "${ilmName}" ${r === 'created' ? 'created' : 'exists (left as it is)'}` };
      },
    },
    {
      name: 'ingest pipeline',
      plan: opts.skipPipelines ? 'skipped (--skip-pipelines)' : `PUT _ingest/pipeline/${FLOWS_PIPELINE_ID} from ingest-pipelines/${FLOWS_PIPELINE_ID}.json (when missing or older)`,
      run: async () => {
        if (opts.skipPipelines) return { status: 'skipped', detail: 'skipped (--skip-pipelines)' };
        const body = readPipeline(root);
        const ours = typeof body.version === 'number' ? body.version : 0;
        try {
          const got = (await cl().transport.request({ method: 'GET', path: `/_ingest/pipeline/${FLOWS_PIPELINE_ID}` }, { maxRetries: 0 })) as Record<string, { version?: number }>;
          const theirs = got[FLOWS_PIPELINE_ID]?.version;
          if (typeof theirs === 'number' && theirs >= ours) return { status: 'unchanged', detail: `pipeline ${FLOWS_PIPELINE_ID} version ${theirs} is installed` };
        } catch (err) {
          if (statusOf(err) !== 404) throw new Error(esReason(err));
        }
        try {
          await cl().transport.request({ method: 'PUT', path: `/_ingest/pipeline/${FLOWS_PIPELINE_ID}`, body }, { maxRetries: 0 });
        } catch (err) {
          const reason = esReason(err);
          const hint = /No processor type exists/.test(reason)
            ? ' (the cluster lacks the ingest-common module, as the embedded development node does; rerun with --skip-pipelines to install the rest)'
            : '';
          throw new Error(`Elasticsearch refused the pipeline ${FLOWS_PIPELINE_ID}: ${reason}${hint}`);
        }
        return { status: 'done', detail: `pipeline ${FLOWS_PIPELINE_ID} version ${ours} installed` };
      },
    },
    {
      name: 'index templates',
      plan: `PUT _component_template/${FLOWS_SETTINGS_COMPONENT}, ${FLOWS_MAPPINGS_COMPONENT}; PUT _index_template/${FLOWS_INDEX_TEMPLATE}`,
      run: async () => {
        const r = await installTemplates(
          cl(),
          (ilmAvailable) =>
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
            ),
          es.indexTemplate.overwrite,
          log,
        );
        return { status: r.written.length ? 'done' : 'unchanged', detail: `written: ${r.written.join(', ') || 'none'}; unchanged: ${r.unchanged.join(', ') || 'none'}` };
      },
    },
    {
      name: 'indicator index template',
      plan: `PUT _index_template/${INDICATOR_INDEX_TEMPLATE}`,
      run: async () => {
        const r = await installTemplates(cl(), () => indicatorTemplateSet({ replicas: es.indexTemplate.replicas }), es.indexTemplate.overwrite, log);
        return { status: r.written.length ? 'done' : 'unchanged', detail: `written: ${r.written.join(', ') || 'none'}; unchanged: ${r.unchanged.join(', ') || 'none'}` };
      },
    },
    {
      name: 'ML jobs',
      plan: `when the cluster has ML: PUT _ml/anomaly_detectors and _ml/datafeeds for ${readMlJobs(root).map((j) => j.job_id).join(', ') || 'no jobs'} (when missing)`,
      run: async () => {
        try {
          await cl().transport.request({ method: 'GET', path: '/_ml/info' }, { maxRetries: 0 });
        } catch (err) {
          return { status: 'skipped', detail: `the cluster has no ML (GET _ml/info: ${statusOf(err) ?? 'failed'}): ML jobs not installed` };
        }
        const created: string[] = [];
        const existing: string[] = [];
        for (const j of readMlJobs(root)) {
          for (const [kind, id, body] of [
            ['anomaly_detectors', j.job_id, j.job],
            ['datafeeds', j.datafeed.datafeed_id, j.datafeed],
          ] as const) {
            const path = `/_ml/${kind}/${encodeURIComponent(id)}`;
            try {
              await cl().transport.request({ method: 'GET', path }, { maxRetries: 0 });
              existing.push(id);
              continue;
            } catch (err) {
              if (statusOf(err) !== 404) throw new Error(`GET ${path}: ${esReason(err)}`);
            }
            const { job_id: _omit, datafeed_id: _omit2, ...rest } = body as Record<string, unknown>;
            const putBody = kind === 'datafeeds' ? { ...rest, job_id: j.job_id } : rest;
            try {
              await cl().transport.request({ method: 'PUT', path, body: putBody }, { maxRetries: 0 });
            } catch (err) {
              throw new Error(`PUT ${path}: ${esReason(err)}`);
            }
            created.push(id);
          }
        }
        return { status: created.length ? 'done' : 'unchanged', detail: `created: ${created.join(', ') || 'none'}; present: ${existing.length}` };
      },
    },
    {
      name: 'Kibana saved objects',
      plan: opts.kibana ? `POST ${opts.kibana.url}/api/saved_objects/_import?overwrite=true with ${dashboardsFile}` : 'skipped (no --kibana URL)',
      run: async () => {
        if (!opts.kibana) return { status: 'skipped', detail: 'no --kibana URL: dashboards not imported' };
        if (!existsSync(dashboardsFile)) throw new Error(`${dashboardsFile} does not exist`);
        const r = await kibanaImport(opts.kibana, '/api/saved_objects/_import?overwrite=true', dashboardsFile);
        return { status: 'done', detail: `${r.successCount} saved object(s) imported` };
      },
    },
    {
      name: 'detection rules',
      plan: opts.kibana
        ? `POST ${opts.kibana.url}/api/detection_engine/rules/_import?overwrite=true with ${rulesFiles.join(', ') || '(no detection-rules/*.ndjson)'}`
        : 'skipped (no --kibana URL)',
      run: async () => {
        if (!opts.kibana) return { status: 'skipped', detail: 'no --kibana URL: detection rules not imported' };
        if (rulesFiles.length === 0) throw new Error(`no detection rules file (${join(root, 'detection-rules')}/*.ndjson)`);
        let n = 0;
        for (const f of rulesFiles) n += (await kibanaImport(opts.kibana, '/api/detection_engine/rules/_import?overwrite=true', f)).successCount;
        return { status: 'done', detail: `${n} rule(s) imported` };
      },
    },
  ];

  const results: StepResult[] = [];
  try {
    for (let i = 0; i < steps.length; i++) {
      const s = steps[i];
      opts.onStep?.(i, steps.length, s.name, false);
      if (opts.dryRun) {
        results.push({ step: s.name, status: 'planned', detail: s.plan });
      } else {
        let r: Omit<StepResult, 'step'>;
        try {
          r = await s.run();
        } catch (err) {
          throw new SetupError(s.name, err instanceof Error ? err.message : String(err));
        }
        results.push({ step: s.name, ...r });
        log.info({ step: s.name, status: r.status }, r.detail);
      }
      opts.onStep?.(i, steps.length, s.name, true);
    }
  } finally {
    if (client && !opts.client) await client.close().catch(() => undefined);
  }
  return results;
}
