// SPDX-License-Identifier: Apache-2.0
/**
 * GET threats: the threat indicators the network talked to in a time range, one row per indicator IP.
 *
 * One search over the flows: a nested terms aggregation on `threat.enrichments.matched.atomic` (the busiest
 * MAX_INDICATORS indicators; `truncated` says when there were more) with, per indicator, its tags and a
 * `reverse_nested` back to the flow documents for flows, bytes, first/last seen, directions and internal
 * hosts. Sorting and paging happen here, over all the buckets, because Elasticsearch cannot sort terms
 * buckets by a metric under a `reverse_nested` and page them at the same time. See query.ts for how
 * internal hosts are counted.
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
/** HyperLogLog counts are exact in practice below this many distinct values (Elasticsearch's maximum). */
const PRECISION = 40_000;
/** Per indicator: lower, since there may be MAX_INDICATORS of these counters in one response. */
const PRECISION_PER_INDICATOR = 3_000;

interface IndicatorBucket extends Bucket {
  tags: TermsAgg<Bucket>;
  flows: SingleBucket & {
    bytes: ValueAgg;
    first: ValueAgg;
    last: ValueAgg;
    directions: TermsAgg<Bucket>;
    private_side: SingleBucket & { parties: ValueAgg; top: TermsAgg<Bucket> };
  };
}

interface ThreatsAggs {
  threat_flows: SingleBucket & {
    bytes: ValueAgg;
    enrichments: SingleBucket & { indicator_count: ValueAgg; indicators: TermsAgg<IndicatorBucket> };
    private_side: SingleBucket & { parties: ValueAgg; enrichments: SingleBucket & { indicators: ValueAgg } };
  };
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

function rowOf(b: IndicatorBucket, template: string): ThreatRow {
  const indicator = b.key;
  const self = canonicalIp(indicator);
  const ps = b.flows.private_side;
  // related.ip of this indicator's flows with a private side = {indicator} ∪ internal hosts (query.ts).
  const internalHosts = ps.doc_count > 0 ? Math.max(0, (ps.parties.value ?? 0) - 1) : 0;
  const directions: Record<string, number> = {};
  for (const d of b.flows.directions.buckets) directions[d.key] = d.doc_count;
  return {
    indicator,
    tags: tagsOf(b.tags.buckets.map((t) => t.key)),
    flows: b.flows.doc_count,
    bytes: b.flows.bytes.value ?? 0,
    firstSeen: isoOf(b.flows.first.value) ?? '',
    lastSeen: isoOf(b.flows.last.value) ?? '',
    internalHosts,
    internalHostSample: ps.top.buckets
      .map((h) => h.key)
      .filter((ip) => canonicalIp(ip) !== self)
      .slice(0, HOSTS_PER_INDICATOR),
    directions,
    launchUrl: launchUrlFor(template, indicator),
  };
}

/**
 * Threat indicators seen in [q.from, q.to), sorted and paged as asked. Validates `q` with the same rules
 * as the route (BadRequestError, i.e. 400, for a bad range, page, page size or sort).
 */
export async function getThreats(es: SearchClient, q: ThreatsQuery, opts: ThreatflowEsOptions, signal?: AbortSignal): Promise<ThreatsResponse> {
  // Re-parsed here so that a caller outside Kibana (the harness, a test) gets the route's checks too.
  const query = parseThreatsQuery({ ...q });
  if (opts.flowsIndex.trim() === '') throw new BadRequestError('no flows index configured');
  const res = await es.search<unknown, ThreatsAggs>(
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
                    tags: { terms: { field: INDICATOR_DESCRIPTION, size: TAG_TERMS } },
                    flows: {
                      reverse_nested: {},
                      aggs: {
                        bytes: { sum: { field: 'network.bytes' } },
                        first: { min: { field: '@timestamp' } },
                        last: { max: { field: '@timestamp' } },
                        directions: { terms: { field: 'network.direction', size: DIRECTION_TERMS } },
                        private_side: {
                          filter: PRIVATE_SIDE,
                          aggs: {
                            parties: { cardinality: { field: 'related.ip', precision_threshold: PRECISION_PER_INDICATOR } },
                            // +1: the indicator itself is the busiest value and is dropped.
                            top: { terms: { field: 'related.ip', size: HOSTS_PER_INDICATOR + 1 } },
                          },
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
  const rows = buckets.map((b) => rowOf(b, opts.launchUrlTemplate));
  const sorted = sortThreats(rows, query.sortField, query.sortDirection);
  const start = query.page * query.perPage;
  return {
    range: { from: query.from, to: query.to },
    totals: {
      indicators: truncated ? Math.max(buckets.length, tf?.enrichments.indicator_count.value ?? 0) : buckets.length,
      threatFlows: tf?.doc_count ?? 0,
      allFlows: totalOf(res.hits.total),
      bytes: tf?.bytes.value ?? 0,
      internalHosts: tf ? Math.max(0, (tf.private_side.parties.value ?? 0) - (tf.private_side.enrichments.indicators.value ?? 0)) : 0,
    },
    page: query.page,
    perPage: query.perPage,
    sortField: query.sortField,
    sortDirection: query.sortDirection,
    threats: sorted.slice(start, start + query.perPage),
    truncated,
  };
}
