// SPDX-License-Identifier: Apache-2.0
/**
 * GET threats: the threat indicators the network talked to in a time range, one row per indicator IP.
 *
 * Two searches over the flows, so that the response stays far below Elasticsearch's `search.max_buckets`
 * (65,536) however many indicators there are:
 *
 * 1. **Rank**: a nested terms aggregation on `threat.enrichments.matched.atomic` (the busiest MAX_INDICATORS
 *    indicators; `truncated` says when there were more) carrying only single-value metrics per indicator,
 *    through a `reverse_nested` back to the flow documents: flows (doc count), bytes, first/last seen and the
 *    private-side cardinality (internal hosts). That is one terms bucket per indicator, plus the totals.
 *    Every sort field is among these, so sorting and paging happen here, over all the buckets (Elasticsearch
 *    cannot sort terms buckets by a metric under a `reverse_nested` and page them at the same time).
 * 2. **Detail**: for the page's indicators only (at most MAX_PER_PAGE; the flows restricted to those that
 *    matched one of them, the terms restricted with `include`), the multi-bucket parts of a row: tags,
 *    directions and the internal host sample.
 *
 * A single search with the detail terms under each of up to MAX_INDICATORS buckets would ask for roughly
 * ten buckets per indicator and fail with "Too many buckets" at a few thousand busy indicators. See
 * query.ts for how internal hosts are counted.
 */
import {
  BadRequestError,
  HOSTS_PER_INDICATOR,
  MAX_INDICATORS,
  launchUrlFor,
  parseThreatsQuery,
  type ThreatRow,
  type ThreatsQuery,
  type ThreatsResponse,
} from '../../common';
import {
  INDICATOR_DESCRIPTION,
  MATCHED_ATOMIC,
  ENRICHMENTS,
  PRIVATE_SIDE,
  THREAT_FLOW,
  canonicalIp,
  isoOf,
  timeRange,
  totalOf,
  type Bucket,
  type SingleBucket,
  type TermsAgg,
  type ValueAgg,
} from './query';
import type { SearchClient, ThreatflowEsOptions } from './types';

/** Distinct tag strings read per indicator (an entry has one description; a changed blocklist adds more). */
const TAG_TERMS = 50;
/** Directions are a closed set (inbound, outbound, internal, external, unknown). */
const DIRECTION_TERMS = 10;
/**
 * Cardinality precision (Elasticsearch's maximum). Below it Elasticsearch counts hashes (linear counting in
 * 2^25 slots): exact in practice up to a few thousand distinct values, within about 0.1% beyond (hash
 * collisions are estimated, not known). So `totals.indicators` is exact unless `truncated`, and
 * `totals.internalHosts` exact up to a few thousand hosts and indicators, an estimate beyond.
 */
const PRECISION = 40_000;
/** Per indicator: lower, since there may be MAX_INDICATORS of these counters in one response. */
const PRECISION_PER_INDICATOR = 3_000;

/** Phase 1: one bucket per indicator, single-value metrics only. */
interface RankBucket extends Bucket {
  flows: SingleBucket & {
    bytes: ValueAgg;
    first: ValueAgg;
    last: ValueAgg;
    private_side: SingleBucket & { parties: ValueAgg };
  };
}

interface RankAggs {
  threat_flows: SingleBucket & {
    bytes: ValueAgg;
    enrichments: SingleBucket & { indicator_count: ValueAgg; indicators: TermsAgg<RankBucket> };
    private_side: SingleBucket & { parties: ValueAgg; enrichments: SingleBucket & { indicators: ValueAgg } };
  };
}

/** Phase 2: the page's indicators only, with their multi-bucket parts. */
interface DetailBucket extends Bucket {
  tags: TermsAgg<Bucket>;
  flows: SingleBucket & {
    directions: TermsAgg<Bucket>;
    private_side: SingleBucket & { top: TermsAgg<Bucket> };
  };
}

interface DetailAggs {
  enrichments: SingleBucket & { indicators: TermsAgg<DetailBucket> };
}

/** Tags of an indicator: every description split on commas, trimmed, de-duplicated, sorted. */
export function tagsOf(descriptions: string[]): string[] {
  const tags = new Set<string>();
  for (const d of descriptions) for (const t of d.split(/,\s*/)) if (t.trim() !== '') tags.add(t.trim());
  return [...tags].sort();
}

function byField(field: ThreatsQuery['sortField']): (a: ThreatRow, b: ThreatRow) => number {
  switch (field) {
    case 'indicator':
      return (a, b) => compareStrings(a.indicator, b.indicator);
    case 'flows':
      return (a, b) => a.flows - b.flows;
    case 'bytes':
      return (a, b) => a.bytes - b.bytes;
    case 'firstSeen':
      return (a, b) => Date.parse(a.firstSeen) - Date.parse(b.firstSeen);
    case 'lastSeen':
      return (a, b) => Date.parse(a.lastSeen) - Date.parse(b.lastSeen);
    case 'internalHosts':
      return (a, b) => a.internalHosts - b.internalHosts;
  }
}

/** Code-unit order, the same in every locale (the harness, the browser and the tests agree). */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Rows in the requested order; ties (same flows, ...) broken by indicator ascending so pages are stable. */
export function sortThreats(rows: ThreatRow[], field: ThreatsQuery['sortField'], direction: ThreatsQuery['sortDirection']): ThreatRow[] {
  const cmp = byField(field);
  const sign = direction === 'asc' ? 1 : -1;
  return [...rows].sort((a, b) => sign * cmp(a, b) || compareStrings(a.indicator, b.indicator));
}

/** A row from phase 1: every sortable figure, and empty detail (filled in for the page by phase 2). */
function rankedRow(b: RankBucket, template: string): ThreatRow {
  const ps = b.flows.private_side;
  return {
    indicator: b.key,
    tags: [],
    flows: b.flows.doc_count,
    bytes: b.flows.bytes.value ?? 0,
    firstSeen: isoOf(b.flows.first.value) ?? '',
    lastSeen: isoOf(b.flows.last.value) ?? '',
    // related.ip of this indicator's flows with a private side = {indicator} ∪ internal hosts (query.ts).
    internalHosts: ps.doc_count > 0 ? Math.max(0, (ps.parties.value ?? 0) - 1) : 0,
    internalHostSample: [],
    directions: {},
    launchUrl: launchUrlFor(template, b.key),
  };
}

/** The row with phase 2's tags, directions and internal host sample. */
function withDetail(row: ThreatRow, d: DetailBucket | undefined): ThreatRow {
  if (!d) return row;
  const self = canonicalIp(row.indicator);
  const directions: Record<string, number> = {};
  for (const x of d.flows.directions.buckets) directions[x.key] = x.doc_count;
  return {
    ...row,
    tags: tagsOf(d.tags.buckets.map((t) => t.key)),
    internalHostSample: d.flows.private_side.top.buckets
      .map((h) => h.key)
      .filter((ip) => canonicalIp(ip) !== self)
      .slice(0, HOSTS_PER_INDICATOR),
    directions,
  };
}

/** Phase 2: tags, directions and internal host sample of `indicators` (one page) in the range. */
async function detailOf(es: SearchClient, index: string, query: ThreatsQuery, indicators: string[], signal?: AbortSignal): Promise<Map<string, DetailBucket>> {
  if (indicators.length === 0) return new Map();
  const res = await es.search<unknown, DetailAggs>(
    {
      index,
      size: 0,
      ignore_unavailable: true,
      allow_no_indices: true,
      // Only the flows that matched one of the page's indicators: every flow of each of them, nothing else.
      query: { bool: { filter: [timeRange(query), { nested: { path: ENRICHMENTS, query: { terms: { [MATCHED_ATOMIC]: indicators } } } }] } },
      aggs: {
        enrichments: {
          nested: { path: ENRICHMENTS },
          aggs: {
            indicators: {
              // A flow may have matched other indicators too: their enrichments are left out by `include`.
              terms: { field: MATCHED_ATOMIC, size: indicators.length, include: indicators },
              aggs: {
                tags: { terms: { field: INDICATOR_DESCRIPTION, size: TAG_TERMS } },
                flows: {
                  reverse_nested: {},
                  aggs: {
                    directions: { terms: { field: 'network.direction', size: DIRECTION_TERMS } },
                    private_side: {
                      filter: PRIVATE_SIDE,
                      // +1: the indicator itself is the busiest value and is dropped.
                      aggs: { top: { terms: { field: 'related.ip', size: HOSTS_PER_INDICATOR + 1 } } },
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
    { signal },
  );
  return new Map((res.aggregations?.enrichments.indicators.buckets ?? []).map((b) => [b.key, b]));
}

/**
 * Threat indicators seen in [q.from, q.to), sorted and paged as asked. Validates `q` with the same rules
 * as the route (BadRequestError, i.e. 400, for a bad range, page, page size or sort).
 */
export async function getThreats(es: SearchClient, q: ThreatsQuery, opts: ThreatflowEsOptions, signal?: AbortSignal): Promise<ThreatsResponse> {
  // Re-parsed here so that a caller outside Kibana (the harness, a test) gets the route's checks too.
  const query = parseThreatsQuery({ ...q });
  if (opts.flowsIndex.trim() === '') throw new BadRequestError('no flows index configured');
  const res = await es.search<unknown, RankAggs>(
    {
      index: opts.flowsIndex,
      size: 0,
      track_total_hits: true,
      // A pattern that matches nothing yet (no flows indexed) is an empty result, not an error.
      ignore_unavailable: true,
      allow_no_indices: true,
      query: { bool: { filter: [timeRange(query)] } },
      aggs: {
        threat_flows: {
          filter: THREAT_FLOW,
          aggs: {
            bytes: { sum: { field: 'network.bytes' } },
            enrichments: {
              nested: { path: ENRICHMENTS },
              aggs: {
                indicator_count: { cardinality: { field: MATCHED_ATOMIC, precision_threshold: PRECISION } },
                indicators: {
                  terms: { field: MATCHED_ATOMIC, size: MAX_INDICATORS },
                  aggs: {
                    flows: {
                      reverse_nested: {},
                      aggs: {
                        bytes: { sum: { field: 'network.bytes' } },
                        first: { min: { field: '@timestamp' } },
                        last: { max: { field: '@timestamp' } },
                        private_side: {
                          filter: PRIVATE_SIDE,
                          aggs: { parties: { cardinality: { field: 'related.ip', precision_threshold: PRECISION_PER_INDICATOR } } },
                        },
                      },
                    },
                  },
                },
              },
            },
            // Totals: related.ip over threat flows with a private side = indicators ∪ hosts (disjoint).
            private_side: {
              filter: PRIVATE_SIDE,
              aggs: {
                parties: { cardinality: { field: 'related.ip', precision_threshold: PRECISION } },
                enrichments: {
                  nested: { path: ENRICHMENTS },
                  aggs: { indicators: { cardinality: { field: MATCHED_ATOMIC, precision_threshold: PRECISION } } },
                },
              },
            },
          },
        },
      },
    },
    { signal },
  );

  const tf = res.aggregations?.threat_flows;
  const buckets = tf?.enrichments.indicators.buckets ?? [];
  const truncated = (tf?.enrichments.indicators.sum_other_doc_count ?? 0) > 0;
  const rows = buckets.map((b) => rankedRow(b, opts.launchUrlTemplate));
  const sorted = sortThreats(rows, query.sortField, query.sortDirection);
  const start = query.page * query.perPage;
  const page = sorted.slice(start, start + query.perPage);
  // Indicators with a private side (subtracted from related.ip's parties to leave the hosts): counted from
  // the buckets when they are all there (exact), else estimated.
  const privateSideIndicators = truncated
    ? (tf?.private_side.enrichments.indicators.value ?? 0)
    : buckets.filter((b) => b.flows.private_side.doc_count > 0).length;
  const detail = await detailOf(es, opts.flowsIndex, query, page.map((r) => r.indicator), signal);
  return {
    range: { from: query.from, to: query.to },
    totals: {
      indicators: truncated ? Math.max(buckets.length, tf?.enrichments.indicator_count.value ?? 0) : buckets.length,
      threatFlows: tf?.doc_count ?? 0,
      allFlows: totalOf(res.hits.total),
      bytes: tf?.bytes.value ?? 0,
      internalHosts: tf ? Math.max(0, (tf.private_side.parties.value ?? 0) - privateSideIndicators) : 0,
    },
    page: query.page,
    perPage: query.perPage,
    sortField: query.sortField,
    sortDirection: query.sortDirection,
    threats: page.map((r) => withDetail(r, detail.get(r.indicator))),
    truncated,
  };
}
