// SPDX-License-Identifier: Apache-2.0
/**
 * The threat DB as ECS indicator documents in Elasticsearch (DESIGN.md §4): `logs-ti_threatflow_latest.indicators`,
 * one document per blocklist entry (`threat.indicator.*`, `event.kind: enrichment`, `event.category:
 * threat`, `event.type: indicator`), so that Elastic Security's indicator-match rules and the Kibana plugin
 * see what the collector enriches with.
 *
 * Replaced at each refresh without a moment where it is empty or half-written: the name is an alias, and
 * each DB goes into a new concrete index `logs-ti_threatflow_latest.indicators-<fetched>-<n>`; once that is
 * fully written and refreshed, one `_aliases` request moves the alias from the old index to the new one
 * (atomic in Elasticsearch), and only then is the old index deleted. A reader of the alias sees the old DB
 * or the new one, never a mix and never nothing.
 *
 * `threat.indicator.ip` is an `ip` field and holds single addresses; an entry that is a CIDR has its text
 * in `threat.indicator.name` (ECS: the indicator's display name), which every entry has. A `terms` query on
 * `source.ip`/`destination.ip` with a terms lookup on `threat.indicator.name` therefore matches flows to
 * listed addresses and to listed networks alike (a `terms` query on an `ip` field accepts CIDRs).
 *
 * The index template (`logs-ti_threatflow_latest.indicators`, priority above the built-in `logs` template so
 * that `logs-*-*` does not turn these indices into a data stream) is installed at startup by
 * `threatflow run` when the Elasticsearch output is on.
 */
import type { Client } from '@elastic/elasticsearch';
import type { Config } from '../../config';
import { elasticsearchNodeUrls } from '../../config';
import type { Logger } from '../../observability/logger';
import { createClient, type ConnectionConfig } from '../../output/elasticsearch/client';
import { installTemplates, type TemplateSet } from '../../output/elasticsearch/install';
import { THREAT_PROVIDER, launchUrlFor } from './enricher';
import { ThreatDb } from './lookup';
import type { ThreatDbData, ThreatEntry } from './types';

export const INDICATOR_ALIAS = 'logs-ti_threatflow_latest.indicators';
export const INDICATOR_INDEX_TEMPLATE = 'logs-ti_threatflow_latest.indicators';
export const INDICATOR_INDEX_PATTERN = `${INDICATOR_ALIAS}-*`;
/** Bumped when the mapping changes, so the installer replaces an older template. */
export const INDICATOR_SCHEMA_VERSION = 1;
/** Above the built-in `logs` template (100) and its `logs-*-*` pattern. */
export const INDICATOR_TEMPLATE_PRIORITY = 250;

const keyword = () => ({ type: 'keyword', ignore_above: 1024 });
const date = () => ({ type: 'date', format: 'strict_date_optional_time||epoch_millis' });

/** The indicator index mapping (ECS `threat.indicator.*` subset, `event.*`, `tags`). */
export function indicatorMappings(): Record<string, unknown> {
  return {
    dynamic: false,
    properties: {
      '@timestamp': date(),
      event: {
        properties: { kind: keyword(), category: keyword(), type: keyword(), module: keyword(), dataset: keyword() },
      },
      threat: {
        properties: {
          feed: { properties: { name: keyword() } },
          indicator: {
            properties: {
              ip: { type: 'ip' },
              name: keyword(),
              type: keyword(),
              provider: keyword(),
              description: keyword(),
              confidence: keyword(),
              first_seen: date(),
              last_seen: date(),
              reference: keyword(),
              marking: { properties: { tlp: keyword() } },
            },
          },
        },
      },
      tags: keyword(),
    },
  };
}

export interface IndicatorIndexOptions {
  replicas: number;
  /** Launch URL template with `{{value}}`, for `threat.indicator.reference`. */
  launchUrl: string;
  /** Documents per bulk request (and per turn of the event loop). */
  chunk?: number;
}

/** The template set for `installTemplates` (no component templates: the mapping is small and self-contained). */
export function indicatorTemplateSet(opts: { replicas: number }): TemplateSet {
  return {
    componentTemplates: {},
    indexTemplates: {
      [INDICATOR_INDEX_TEMPLATE]: {
        index_patterns: [INDICATOR_INDEX_PATTERN],
        priority: INDICATOR_TEMPLATE_PRIORITY,
        version: INDICATOR_SCHEMA_VERSION,
        template: {
          settings: { index: { number_of_shards: 1, number_of_replicas: opts.replicas } },
          mappings: indicatorMappings(),
        },
        _meta: { version: INDICATOR_SCHEMA_VERSION, managed_by: 'threatflow', description: 'RiskIQ PassiveTotal threat DB as ECS indicators' },
      } as TemplateSet['indexTemplates'][string],
    },
  };
}

/** The listed text of an entry: `1.2.3.4` or `1.2.3.0/24`. */
export function indicatorName(e: ThreatEntry): string {
  const host = e.family === 4 ? 32 : 128;
  return e.prefixLength === host ? e.address : `${e.address}/${e.prefixLength}`;
}

/** One indicator document. */
export function indicatorDocument(e: ThreatEntry, fetchedAt: number, launchUrl: string): Record<string, unknown> {
  const name = indicatorName(e);
  const indicator: Record<string, unknown> = {};
  if (name === e.address) indicator.ip = e.address;
  indicator.name = name;
  indicator.type = e.family === 4 ? 'ipv4-addr' : 'ipv6-addr';
  indicator.provider = THREAT_PROVIDER;
  if (e.tags.length > 0) indicator.description = e.tags.join(', ');
  if (e.confidence !== undefined) indicator.confidence = e.confidence;
  if (e.firstSeen !== undefined) indicator.first_seen = e.firstSeen;
  if (e.lastSeen !== undefined) indicator.last_seen = e.lastSeen;
  indicator.reference = launchUrlFor(launchUrl, name);
  const doc: Record<string, unknown> = {
    '@timestamp': fetchedAt,
    event: { kind: 'enrichment', category: ['threat'], type: ['indicator'], module: 'threatflow', dataset: 'ti_threatflow.indicators' },
    threat: { feed: { name: THREAT_PROVIDER }, indicator },
  };
  if (e.tags.length > 0) doc.tags = e.tags;
  return doc;
}

function statusOf(err: unknown): number | undefined {
  return (err as { meta?: { statusCode?: number } }).meta?.statusCode;
}

/** The connection settings of the Elasticsearch output (same variables, same client). */
export function connectionFromConfig(config: Config): ConnectionConfig {
  const es = config.output.elasticsearch;
  return {
    addresses: elasticsearchNodeUrls(es).map((u) => u.replace(/^https?:\/\//, '')),
    username: es.username,
    password: es.password,
    apiKey: es.apiKey,
    cloudId: es.cloudId,
    tlsEnable: es.tlsEnabled,
    tlsSkipVerification: es.tlsSkipVerification,
    tlsCaCertFilepath: es.tlsCaCertFilepath,
    requestTimeoutMs: 120_000,
  };
}

export interface ReplaceResult {
  index: string;
  documents: number;
  /** Indices the alias pointed to before, now deleted. */
  replaced: string[];
}

export class IndicatorIndex {
  private seq = 0;

  constructor(
    readonly client: Client,
    private readonly opts: IndicatorIndexOptions,
    private readonly log: Logger,
  ) {}

  /** A writer for the collector's Elasticsearch output settings. */
  static fromConfig(config: Config, log: Logger): IndicatorIndex {
    return new IndicatorIndex(
      createClient(connectionFromConfig(config)),
      { replicas: config.output.elasticsearch.indexTemplate.replicas, launchUrl: config.enrich.riskiq.launchUrl },
      log,
    );
  }

  /** Installs the index template (idempotent; replaced when ours is newer or overwrite is on). */
  async install(overwrite = true): Promise<void> {
    await installTemplates(this.client, () => indicatorTemplateSet({ replicas: this.opts.replicas }), overwrite, this.log);
  }

  /** The `fetchedAt` of the DB the alias serves now, or null. */
  async servedFetchedAt(): Promise<number | null> {
    try {
      const res = (await this.client.transport.request({ method: 'GET', path: `/${INDICATOR_ALIAS}/_mapping` })) as Record<
        string,
        { mappings?: { _meta?: { fetched_at?: number } } }
      >;
      const values = Object.values(res).map((v) => v.mappings?._meta?.fetched_at).filter((v): v is number => typeof v === 'number');
      return values.length === 1 ? values[0] : null;
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw err;
    }
  }

  /**
   * Writes the DB into a new index and points the alias at it atomically, then deletes the old index.
   * Skips the work when the alias already serves this DB (same `fetchedAt`), e.g. the persisted copy at a
   * restart.
   */
  async replace(data: ThreatDbData): Promise<ReplaceResult | null> {
    const fetchedAt = data.info.fetchedAt;
    if ((await this.servedFetchedAt()) === fetchedAt) {
      this.log.debug({ alias: INDICATOR_ALIAS, fetched_at: fetchedAt }, 'the indicator index already holds this threat DB');
      return null;
    }
    const index = `${INDICATOR_ALIAS}-${fetchedAt}-${process.pid}-${++this.seq}`;
    await this.client.transport.request({
      method: 'PUT',
      path: `/${encodeURIComponent(index)}`,
      body: {
        // Written once, then only read: no refreshes while loading, one at the end.
        settings: { index: { refresh_interval: '-1' } },
        mappings: { _meta: { fetched_at: fetchedAt, source: data.info.source, entries: data.info.entries } },
      },
    });
    let documents = 0;
    try {
      documents = await this.load(index, data);
      await this.client.transport.request({ method: 'PUT', path: `/${encodeURIComponent(index)}/_settings`, body: { index: { refresh_interval: null } } });
      await this.client.transport.request({ method: 'POST', path: `/${encodeURIComponent(index)}/_refresh` });
    } catch (err) {
      await this.client.transport.request({ method: 'DELETE', path: `/${encodeURIComponent(index)}` }).catch(() => undefined);
      throw err;
    }
    const old = await this.aliasIndices();
    const actions: unknown[] = [];
    for (const o of old.aliased) actions.push({ remove: { index: o, alias: INDICATOR_ALIAS } });
    // A concrete index under the alias name (someone wrote to it before the alias existed) goes in the same request.
    if (old.concrete) actions.push({ remove_index: { index: INDICATOR_ALIAS } });
    actions.push({ add: { index, alias: INDICATOR_ALIAS } });
    try {
      await this.client.transport.request({ method: 'POST', path: '/_aliases', body: { actions } });
    } catch (err) {
      await this.client.transport.request({ method: 'DELETE', path: `/${encodeURIComponent(index)}` }).catch(() => undefined);
      throw err;
    }
    const replaced = [...old.aliased.filter((o) => o !== index), ...(await this.orphans(index))];
    for (const o of replaced) {
      await this.client.transport.request({ method: 'DELETE', path: `/${encodeURIComponent(o)}` }).catch((err: unknown) => {
        this.log.warn({ index: o, error: (err as Error).message }, 'an old indicator index could not be deleted');
      });
    }
    this.log.info({ alias: INDICATOR_ALIAS, index, documents, replaced }, 'threat indicator index replaced');
    return { index, documents, replaced };
  }

  /**
   * Indices of ours that no alias points to and that are over an hour old: left by a collector that
   * stopped between writing an index and moving the alias. Younger ones may be another collector's load in
   * progress (several collectors can share a cluster), so they are left alone.
   */
  private async orphans(keep: string): Promise<string[]> {
    try {
      const res = (await this.client.transport.request({
        method: 'GET',
        path: `/${INDICATOR_INDEX_PATTERN}/_settings/index.creation_date`,
        querystring: { expand_wildcards: 'open,closed' },
      })) as Record<string, { settings?: { index?: { creation_date?: string } } }>;
      const aliased = new Set((await this.aliasIndices()).aliased);
      const cutoff = Date.now() - 3_600_000;
      return Object.entries(res)
        .filter(([name, v]) => name !== keep && !aliased.has(name) && Number(v.settings?.index?.creation_date ?? Infinity) < cutoff)
        .map(([name]) => name);
    } catch {
      return [];
    }
  }

  private async aliasIndices(): Promise<{ aliased: string[]; concrete: boolean }> {
    try {
      const res = (await this.client.transport.request({ method: 'GET', path: `/_alias/${INDICATOR_ALIAS}` })) as Record<string, unknown>;
      return { aliased: Object.keys(res), concrete: false };
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
    }
    // Not an alias: a concrete index of that name, or nothing (HEAD answers true/false, it does not throw).
    const concrete = await this.client.indices.exists({ index: INDICATOR_ALIAS });
    return { aliased: [], concrete: concrete === true };
  }

  /**
   * Bulk-indexes every entry. Chunks are built and sent one at a time, and each `await` yields the event
   * loop, so the main thread (which also feeds the decoding workers) never stalls on a large DB.
   */
  private async load(index: string, data: ThreatDbData): Promise<number> {
    const chunk = this.opts.chunk ?? 2000;
    const fetchedAt = data.info.fetchedAt;
    const db = ThreatDb.fromData(data);
    let lines: string[] = [];
    let n = 0;
    const flush = async () => {
      if (lines.length === 0) return;
      const body = lines.join('\n') + '\n';
      lines = [];
      const res = (await this.client.transport.request(
        { method: 'POST', path: `/${encodeURIComponent(index)}/_bulk`, querystring: { filter_path: 'errors,items.*.error' }, bulkBody: body },
        { maxRetries: 3 },
      )) as { errors?: boolean; items?: Array<Record<string, { error?: { type?: string; reason?: string } }>> };
      if (res.errors) {
        const first = (res.items ?? []).map((i) => Object.values(i)[0]?.error).find((e) => e);
        throw new Error(`indicator bulk request rejected documents: ${first?.type ?? 'error'}: ${first?.reason ?? ''}`);
      }
    };
    for (const e of db.entries()) {
      const name = indicatorName(e);
      lines.push(JSON.stringify({ index: { _id: name } }), JSON.stringify(indicatorDocument(e, fetchedAt, this.opts.launchUrl)));
      n++;
      if (lines.length >= 2 * chunk) await flush();
    }
    await flush();
    return n;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
