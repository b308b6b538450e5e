// SPDX-License-Identifier: Apache-2.0
/**
 * Query pieces shared by the route functions, written against the flows mapping of the collector
 * (collector/src/output/elasticsearch/assets.ts):
 *
 * - `threat.enrichments` is `nested`: one object per threat match, `matched.atomic` (keyword, the matched
 *   address as the collector prints it), `matched.field` (`source.ip`/`destination.ip`),
 *   `indicator.description` (keyword, the entry's tags joined with ", ").
 * - `source.locality`/`destination.locality` are `public`/`private` (DESIGN.md §7) and `related.ip` (ip)
 *   holds both addresses of the flow.
 *
 * The collector never looks private addresses up (DESIGN.md §7), so the matched side of a threat flow is
 * always public. Hence in a threat flow that has a private side, `related.ip` is exactly {indicator,
 * internal host}: the internal hosts of a set of threat flows are their `related.ip` values minus the
 * indicators. Counting them that way counts a host once even when it is the source of some flows and the
 * destination of others (a unidirectional exporter reports both directions of one conversation), which
 * separate terms on `source.ip` and `destination.ip` would not do without a script (and scripts are not
 * available everywhere: the embedded test node has no painless).
 */
import type { estypes } from '@elastic/elasticsearch';
import type { TimeRange } from '../../common';

export type Query = estypes.QueryDslQueryContainer;

export const ENRICHMENTS = 'threat.enrichments';
export const MATCHED_ATOMIC = 'threat.enrichments.matched.atomic';
export const INDICATOR_DESCRIPTION = 'threat.enrichments.indicator.description';

/**
 * `@timestamp` in [from, to): from inclusive, to exclusive, so adjacent ranges never count a flow twice.
 * Sent as epoch milliseconds (the `date` field's resolution): the input rules accept offsets such as
 * `+0200` that not every Elasticsearch date format parses, and `Date.parse` reads them all.
 */
export function timeRange(r: TimeRange): Query {
  return { range: { '@timestamp': { gte: Date.parse(r.from), lt: Date.parse(r.to), format: 'epoch_millis' } } };
}

/** Flows with at least one threat match. */
export const THREAT_FLOW: Query = { nested: { path: ENRICHMENTS, query: { exists: { field: MATCHED_ATOMIC } } } };

/** Flows with a private (internal) address on either side. */
export const PRIVATE_SIDE: Query = {
  bool: {
    should: [{ term: { 'source.locality': 'private' } }, { term: { 'destination.locality': 'private' } }],
    minimum_should_match: 1,
  },
};

/** Flows where `ip` is a private side. */
export function privateParty(ip: string): Query {
  return {
    bool: {
      should: [
        { bool: { filter: [{ term: { 'source.ip': ip } }, { term: { 'source.locality': 'private' } }] } },
        { bool: { filter: [{ term: { 'destination.ip': ip } }, { term: { 'destination.locality': 'private' } }] } },
      ],
      minimum_should_match: 1,
    },
  };
}

/**
 * One textual form per address, the one Elasticsearch prints for `ip` fields and the collector writes into
 * `matched.atomic`:
 *
 * - IPv4-mapped IPv6 (`::ffff:45.33.32.156`, any spelling) is the IPv4 address in dotted form: the collector
 *   looks such addresses up as IPv4 and writes the IPv4 text, and Elasticsearch prints them that way too;
 * - other IPv6 is compressed and lower-case (RFC 5952, as the WHATWG URL parser serializes it), so
 *   `FD00::0010` is `fd00::10`;
 * - IPv4 is returned as given (the input rules admit no leading zeros).
 */
export function canonicalIp(ip: string): string {
  if (!ip.includes(':')) return ip;
  let v6: string;
  try {
    v6 = new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  } catch {
    return ip.toLowerCase();
  }
  // The URL parser prints the embedded IPv4 as two hex groups: ::ffff:2d21:209c.
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(v6);
  if (mapped) {
    const hi = parseInt(mapped[1], 16);
    const lo = parseInt(mapped[2], 16);
    return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
  }
  return v6;
}

/** An ES date value (epoch millis or ISO string, as `_source` or a min/max aggregation gives it) as ISO-8601. */
export function isoOf(value: unknown): string | null {
  const ms = typeof value === 'number' ? value : typeof value === 'string' ? (/^\d+$/.test(value) ? Number(value) : Date.parse(value)) : NaN;
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

/** `hits.total` as a number whatever its shape (`track_total_hits: true` makes it exact). */
export function totalOf(total: number | estypes.SearchTotalHits | undefined): number {
  if (total === undefined) return 0;
  return typeof total === 'number' ? total : total.value;
}

/** Shapes of the aggregation results the functions read. */
export interface ValueAgg {
  value: number | null;
}
export interface Bucket<K = string> {
  key: K;
  key_as_string?: string;
  doc_count: number;
}
export interface TermsAgg<B> {
  buckets: B[];
  sum_other_doc_count?: number;
}
export interface SingleBucket {
  doc_count: number;
}
