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

export async function installTemplates(
  client: Client,
  build: (ilmAvailable: boolean) => TemplateSet,
  overwrite: boolean,
  log: Logger,
): Promise<InstallResult> {
  const result: InstallResult = { written: [], unchanged: [], ilm: await hasIlm(client) };
  if (!result.ilm) log.info('cluster has no ILM (no X-Pack): templates are installed without a lifecycle policy');
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
