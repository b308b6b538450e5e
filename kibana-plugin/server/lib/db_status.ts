// SPDX-License-Identifier: Apache-2.0
/**
 * GET db_status: the indicator DB the collector last indexed (collector/src/enrich/riskiq-threat/
 * indicators.ts). `indicatorsIndex` is an alias the collector moves atomically to each new concrete index
 * `<alias>-<fetched>-...`; each document is one blocklist entry with `threat.indicator.type`,
 * `threat.feed.name` and `@timestamp` = the time the DB was fetched (`indicatorDocument`).
 *
 * One search, so that an analyst's role needs only `read` on the indicator index (no `view_index_metadata`,
 * which reading the mapping's `_meta` would take): the concrete index is the `_index` of the documents and
 * the fetch time their `@timestamp`. Should the alias point at several indices (a hand-made alias), the one
 * with the newest documents is the DB reported.
 *
 * A missing alias/index, or one without documents, is the normal state of a cluster where threat enrichment
 * is not configured (or has not fetched yet): `present: false`, never an error, so the app can say what to
 * do.
 */
import { THREAT_PROVIDER, type DbStatusResponse } from '../../common';
import { isoOf, type Bucket, type TermsAgg, type ValueAgg } from './query';
import type { SearchClient, ThreatflowEsOptions } from './types';

/** Concrete indices behind the alias considered (one, normally). */
const INDEX_TERMS = 10;

interface IndexBucket extends Bucket {
  newest: ValueAgg;
  types: TermsAgg<Bucket>;
  feeds: TermsAgg<Bucket>;
}

interface DbAggs {
  indices: TermsAgg<IndexBucket>;
}

/** True for Elasticsearch's "no such index/alias" (404, index_not_found_exception). */
export function isNotFound(err: unknown): boolean {
  const e = err as { meta?: { statusCode?: number; body?: { error?: { type?: string } } }; statusCode?: number };
  return e?.meta?.statusCode === 404 || e?.statusCode === 404 || e?.meta?.body?.error?.type === 'index_not_found_exception';
}

function absent(): DbStatusResponse {
  return { present: false, index: null, indicators: 0, byType: {}, fetchedAt: null, ageSeconds: null, feed: THREAT_PROVIDER };
}

/**
 * Size, age and source of the indicator DB. `now` (epoch ms) is for tests; `ageSeconds` is whole seconds
 * since the fetch, never negative (a collector's clock ahead of Kibana's is not a DB from the future).
 */
export async function getDbStatus(es: SearchClient, opts: ThreatflowEsOptions, signal?: AbortSignal, now: number = Date.now()): Promise<DbStatusResponse> {
  let res;
  try {
    res = await es.search<unknown, DbAggs>(
      {
        index: opts.indicatorsIndex,
        size: 0,
        aggs: {
          indices: {
            terms: { field: '_index', size: INDEX_TERMS, order: [{ newest: 'desc' }, { _key: 'asc' }] },
            aggs: {
              // Every document's @timestamp is the DB's fetch time.
              newest: { max: { field: '@timestamp' } },
              types: { terms: { field: 'threat.indicator.type', size: 20 } },
              feeds: { terms: { field: 'threat.feed.name', size: 5 } },
            },
          },
        },
      },
      { signal },
    );
  } catch (err) {
    if (isNotFound(err)) return absent();
    throw err;
  }
  const served = res.aggregations?.indices.buckets[0];
  if (!served) return absent();
  const byType: Record<string, number> = {};
  for (const b of served.types.buckets) byType[b.key] = b.doc_count;
  const iso = isoOf(served.newest.value ?? undefined);
  const fetched = iso === null ? null : Date.parse(iso);
  return {
    present: true,
    index: served.key,
    indicators: served.doc_count,
    byType,
    fetchedAt: iso,
    ageSeconds: fetched === null ? null : Math.max(0, Math.floor((now - fetched) / 1000)),
    feed: served.feeds.buckets[0]?.key ?? THREAT_PROVIDER,
  };
}
