// SPDX-License-Identifier: Apache-2.0
/**
 * Installs the collector's component and index templates at startup, idempotently: a template is written
 * when it is missing, when its `_meta.version` is older than ours, or when overwrite is on (the default,
 * as in ElastiFlow). Clusters without ILM (the embedded one has no X-Pack) are detected and logged.
 */
import type { Client } from '@elastic/elasticsearch';
import type { Logger } from '../../observability/logger';

export interface TemplateSet {
  componentTemplates: Record<string, { template: unknown; version?: number; _meta?: Record<string, unknown> }>;
  indexTemplates: Record<string, { index_patterns: string[]; version?: number; _meta?: Record<string, unknown> }>;
}

export interface InstallResult {
  written: string[];
  unchanged: string[];
  ilm: boolean;
}

function versionOf(t: { version?: number; _meta?: Record<string, unknown> } | undefined): number {
  if (!t) return -1;
  if (typeof t.version === 'number') return t.version;
  const v = t._meta?.version;
  return typeof v === 'number' ? v : -1;
}

/** True when the cluster answers the ILM API (X-Pack present); the embedded node answers 4xx. */
export async function hasIlm(client: Client): Promise<boolean> {
  try {
    await client.transport.request({ method: 'GET', path: '/_ilm/status' }, { maxRetries: 0 });
    return true;
  } catch {
    return false;
  }
}

/**
 * The lifecycle policy created when the templates name one that the cluster does not have yet: roll the
 * backing index over daily or at 50 GB per primary shard, delete after 30 days. An existing policy of
 * that name (the operator's own) is never touched.
 */
export const DEFAULT_ILM_POLICY = {
  policy: {
    _meta: { managed_by: 'threatflow', description: 'threatflow flow records: hot, deleted after 30 days' },
    phases: {
      hot: { actions: { rollover: { max_age: '1d', max_primary_shard_size: '50gb' } } },
      delete: { min_age: '30d', actions: { delete: {} } },
    },
  },
};

/** Creates the named lifecycle policy when the cluster has ILM and no policy of that name. */
export async function ensureIlmPolicy(client: Client, name: string, log: Logger): Promise<'created' | 'exists'> {
  try {
    await client.transport.request({ method: 'GET', path: `/_ilm/policy/${encodeURIComponent(name)}` }, { maxRetries: 0 });
    return 'exists';
  } catch (err) {
    if ((err as { meta?: { statusCode?: number } }).meta?.statusCode !== 404) throw err;
  }
  await client.transport.request({ method: 'PUT', path: `/_ilm/policy/${encodeURIComponent(name)}`, body: DEFAULT_ILM_POLICY });
  log.info({ policy: name }, 'index lifecycle policy created (rollover daily or at 50 GB, delete after 30 days)');
  return 'created';
}

export async function installTemplates(
  client: Client,
  build: (ilmAvailable: boolean) => TemplateSet,
  overwrite: boolean,
  log: Logger,
  ilmPolicy = '',
): Promise<InstallResult> {
  const result: InstallResult = { written: [], unchanged: [], ilm: await hasIlm(client) };
  if (!result.ilm) log.info('cluster has no ILM (no X-Pack): templates are installed without a lifecycle policy');
  else if (ilmPolicy) await ensureIlmPolicy(client, ilmPolicy, log);
  // Built after the ILM check: `index.lifecycle.name` is an unknown setting on a cluster without ILM.
  const set = build(result.ilm);

  for (const [name, body] of Object.entries(set.componentTemplates)) {
    let existing: { version?: number; _meta?: Record<string, unknown> } | undefined;
    try {
      const res = await client.cluster.getComponentTemplate({ name });
      existing = res.component_templates[0]?.component_template as typeof existing;
    } catch (err) {
      if ((err as { meta?: { statusCode?: number } }).meta?.statusCode !== 404) throw err;
    }
    if (!overwrite && existing && versionOf(existing) >= versionOf(body)) {
      result.unchanged.push(name);
      continue;
    }
    await client.transport.request({ method: 'PUT', path: `/_component_template/${encodeURIComponent(name)}`, body });
    result.written.push(name);
  }

  for (const [name, body] of Object.entries(set.indexTemplates)) {
    let existing: { version?: number; _meta?: Record<string, unknown> } | undefined;
    try {
      const res = await client.indices.getIndexTemplate({ name });
      existing = res.index_templates[0]?.index_template as typeof existing;
    } catch (err) {
      if ((err as { meta?: { statusCode?: number } }).meta?.statusCode !== 404) throw err;
    }
    if (!overwrite && existing && versionOf(existing) >= versionOf(body)) {
      result.unchanged.push(name);
      continue;
    }
    await client.transport.request({ method: 'PUT', path: `/_index_template/${encodeURIComponent(name)}`, body });
    result.written.push(name);
  }
  log.info({ written: result.written, unchanged: result.unchanged }, 'index templates installed');
  return result;
}
