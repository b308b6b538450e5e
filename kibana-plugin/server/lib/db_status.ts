// SPDX-License-Identifier: Apache-2.0
/**
 * GET db_status: the indicator DB the collector last indexed (collector/src/enrich/riskiq-threat/
 * indicators.ts). `indicatorsIndex` is an alias the collector moves atomically to each new concrete index
 * `<alias>-<fetched>-...`; that index's mapping carries `_meta.fetched_at` (epoch ms of the download) and
 * each document is one blocklist entry with `threat.indicator.type` and `threat.feed.name`.
 *
 * A missing alias/index is the normal state of a cluster where threat enrichment is not configured (or has
 * not fetched yet): `present: false`, never an error, so the app can say what to do.
 */
import { THREAT_PROVIDER, type DbStatusResponse } from '../../common';
import { isoOf, totalOf, type Bucket, type TermsAgg, type ValueAgg } from './query';
import type { SearchClient, ThreatflowEsOptions } from './types';

interface DbAggs {
  types: TermsAgg<Bucket>;
  feeds: TermsAgg<Bucket>;
  newest: ValueAgg;
}

type MappingMeta = Record<string, { mappings?: { _meta?: { fetched_at?: unknown } } }>;

/** True for Elasticsearch's "no such index/alias" (404, index_not_found_exception). */
export function isNotFound(err: unknown): boolean {
  const e = err as { meta?: { statusCode?: number; body?: { error?: { type?: string } } }; statusCode?: number };
  return e?.meta?.statusCode === 404 || e?.statusCode === 404 || e?.meta?.body?.error?.type === 'index_not_found_exception';
}

function absent(): DbStatusResponse {
  return { present: false, index: null, indicators: 0, byType: {}, fetchedAt: null, ageSeconds: null, feed: THREAT_PROVIDER };
}

/** Epoch ms of a `_meta.fetched_at` (the collector writes a number; accept an ISO string too). */
function fetchedMs(v: unknown): number | null {
  const iso = isoOf(v);
  return iso === null ? null : Date.parse(iso);
}

/**
 * Size, age and source of the indicator DB. `now` (epoch ms) is for tests; `ageSeconds` is whole seconds
 * since the fetch, never negative (a collector's clock ahead of Kibana's is not a DB from the future).
 */
export async function getDbStatus(es: SearchClient, opts: ThreatflowEsOptions, signal?: AbortSignal, now: number = Date.now()): Promise<DbStatusResponse> {
  let mapping: MappingMeta;
  try {
    mapping = (await es.indices.getMapping({ index: opts.indicatorsIndex }, { signal })) as MappingMeta;
  } catch (err) {
    if (isNotFound(err)) return absent();
    throw err;
  }
  const indices = Object.entries(mapping).map(([name, m]) => ({ name, fetched: fetchedMs(m.mappings?._meta?.fetched_at) }));
  if (indices.length === 0) return absent();
  // The alias points at one index; should it point at several (a hand-made alias), report the newest DB.
  indices.sort((a, b) => (b.fetched ?? -Infinity) - (a.fetched ?? -Infinity) || (a.name < b.name ? -1 : 1));
  const served = indices[0];

  let res;
  try {
    res = await es.search<unknown, DbAggs>(
      {
        index: opts.indicatorsIndex,
        size: 0,
        track_total_hits: true,
        aggs: {
          types: { terms: { field: 'threat.indicator.type', size: 20 } },
          feeds: { terms: { field: 'threat.feed.name', size: 5 } },
          // Each document's @timestamp is the fetch time too: the fallback when _meta is missing.
          newest: { max: { field: '@timestamp' } },
        },
      },
      { signal },
    );
  } catch (err) {
    // Deleted between the two requests (the collector replaced it): as if it had not been there.
    if (isNotFound(err)) return absent();
    throw err;
  }
  const byType: Record<string, number> = {};
  for (const b of res.aggregations?.types.buckets ?? []) byType[b.key] = b.doc_count;
  const fetched = served.fetched ?? fetchedMs(res.aggregations?.newest.value ?? undefined);
  return {
    present: true,
    index: served.name,
    indicators: totalOf(res.hits.total),
    byType,
    fetchedAt: fetched === null ? null : new Date(fetched).toISOString(),
    ageSeconds: fetched === null ? null : Math.max(0, Math.floor((now - fetched) / 1000)),
    feed: res.aggregations?.feeds.buckets[0]?.key ?? THREAT_PROVIDER,
  };
}
