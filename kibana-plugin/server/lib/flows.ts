// SPDX-License-Identifier: Apache-2.0
/**
 * GET flows: the flows of one IP in a time range, newest first, with its counterparts.
 *
 * - role `indicator`: flows that matched the threat indicator `ip` (nested `matched.atomic`); the
 *   counterparts are the internal hosts that talked to it.
 * - role `host`: threat flows in which `ip` is a private (internal) side; the counterparts are the
 *   indicators it talked to.
 *
 * `total` and `bytes` cover every matching flow in the range; `flows` holds at most `size` of them.
 *
 * The IP is searched and echoed in its canonical form (query.ts canonicalIp): `::ffff:45.33.32.156` is
 * `45.33.32.156`, `FD00::0010` is `fd00::10`. Launch links go to indicators only: an internal host (the IP
 * itself with role `host`, the counterparts with role `indicator`) gets `launchUrl: null`, since a private
 * address means nothing to PassiveTotal and must not be sent to a third party.
 */
import type { estypes } from '@elastic/elasticsearch';
import {
  BadRequestError,
  launchUrlFor,
  parseFlowsQuery,
  type Counterpart,
  type FlowRow,
  type FlowsQuery,
  type FlowsResponse,
} from '../../common';
import {
  ENRICHMENTS,
  MATCHED_ATOMIC,
  PRIVATE_SIDE,
  THREAT_FLOW,
  canonicalIp,
  isoOf,
  privateParty,
  timeRange,
  totalOf,
  type Bucket,
  type Query,
  type SingleBucket,
  type TermsAgg,
  type ValueAgg,
} from './query';
import type { SearchClient, ThreatflowEsOptions } from './types';

/** Counterparts listed per IP, most flows first (a flyout shows them; more is noise). */
export const MAX_COUNTERPARTS = 100;

/** The `_source` fields a row is built from. */
const SOURCE_FIELDS = [
  '@timestamp',
  'source.ip',
  'source.port',
  'destination.ip',
  'destination.port',
  'network.transport',
  'network.direction',
  'network.bytes',
  'network.packets',
  'network.community_id',
  'sec.threat.name',
];

interface FlowSource {
  '@timestamp'?: number | string;
  source?: { ip?: string; port?: number };
  destination?: { ip?: string; port?: number };
  network?: { transport?: string; direction?: string; bytes?: number; packets?: number; community_id?: string };
  sec?: { threat?: { name?: string | string[] } };
}

type CounterpartBucket = Bucket & { bytes?: ValueAgg; flows?: SingleBucket & { bytes: ValueAgg } };

interface FlowsAggs {
  bytes: ValueAgg;
  /** role indicator: related.ip of the flows with a private side. */
  hosts?: SingleBucket & { ips: TermsAgg<CounterpartBucket> };
  /** role host: the indicators of its threat flows. */
  indicators?: SingleBucket & { ips: TermsAgg<CounterpartBucket> };
}

const asArray = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

export function flowRowOf(s: FlowSource): FlowRow {
  return {
    timestamp: isoOf(s['@timestamp']) ?? '',
    sourceIp: s.source?.ip ?? null,
    sourcePort: s.source?.port ?? null,
    destinationIp: s.destination?.ip ?? null,
    destinationPort: s.destination?.port ?? null,
    transport: s.network?.transport ?? null,
    direction: s.network?.direction ?? null,
    bytes: s.network?.bytes ?? 0,
    packets: s.network?.packets ?? 0,
    communityId: s.network?.community_id ?? null,
    tags: asArray(s.sec?.threat?.name),
  };
}

/** `q.ip` is canonical here (getFlows). */
function roleFilter(q: FlowsQuery, typed: string): Query {
  if (q.role === 'indicator') {
    // matched.atomic is a keyword holding the collector's text of the address, which is the canonical form;
    // the text as typed is searched too, in case a document was written with it.
    const forms = [...new Set([q.ip, typed])];
    return { nested: { path: ENRICHMENTS, query: { terms: { [MATCHED_ATOMIC]: forms } } } };
  }
  return { bool: { filter: [THREAT_FLOW, privateParty(q.ip)] } };
}

function counterpartAggs(role: FlowsQuery['role']): Record<string, estypes.AggregationsAggregationContainer> {
  if (role === 'indicator') {
    return {
      // related.ip of an indicator's flows with a private side = {indicator} ∪ its internal hosts (query.ts).
      hosts: {
        filter: PRIVATE_SIDE,
        aggs: { ips: { terms: { field: 'related.ip', size: MAX_COUNTERPARTS + 1 }, aggs: { bytes: { sum: { field: 'network.bytes' } } } } },
      },
    };
  }
  return {
    indicators: {
      nested: { path: ENRICHMENTS },
      aggs: {
        ips: {
          terms: { field: MATCHED_ATOMIC, size: MAX_COUNTERPARTS },
          aggs: { flows: { reverse_nested: {}, aggs: { bytes: { sum: { field: 'network.bytes' } } } } },
        },
      },
    },
  };
}

/** The counterparts (at most MAX_COUNTERPARTS) and whether there were more. `q.ip` is canonical. */
function counterpartsOf(q: FlowsQuery, aggs: FlowsAggs | undefined, template: string): { counterparts: Counterpart[]; truncated: boolean } {
  if (q.role === 'indicator') {
    const ips = aggs?.hosts?.ips;
    // MAX_COUNTERPARTS + 1 buckets were asked for: the hosts and the indicator itself.
    const hosts = (ips?.buckets ?? []).filter((b) => canonicalIp(b.key) !== q.ip);
    return {
      // Internal hosts: no PassiveTotal link.
      counterparts: hosts.slice(0, MAX_COUNTERPARTS).map((b) => ({ ip: b.key, flows: b.doc_count, bytes: b.bytes?.value ?? 0, launchUrl: null })),
      truncated: hosts.length > MAX_COUNTERPARTS || (ips?.sum_other_doc_count ?? 0) > 0,
    };
  }
  const ips = aggs?.indicators?.ips;
  return {
    counterparts: (ips?.buckets ?? []).map((b) => ({
      ip: b.key,
      // Flow documents, not enrichments (reverse_nested).
      flows: b.flows?.doc_count ?? b.doc_count,
      bytes: b.flows?.bytes.value ?? 0,
      launchUrl: launchUrlFor(template, b.key),
    })),
    truncated: (ips?.sum_other_doc_count ?? 0) > 0,
  };
}

/**
 * The flows of `q.ip` in [q.from, q.to) as indicator or internal host. Validates `q` with the route's
 * rules (BadRequestError for a bad IP, range, role or size).
 */
export async function getFlows(es: SearchClient, q: FlowsQuery, opts: ThreatflowEsOptions, signal?: AbortSignal): Promise<FlowsResponse> {
  const parsed = parseFlowsQuery({ ...q });
  const query: FlowsQuery = { ...parsed, ip: canonicalIp(parsed.ip) };
  if (opts.flowsIndex.trim() === '') throw new BadRequestError('no flows index configured');
  const res = await es.search<FlowSource, FlowsAggs>(
    {
      index: opts.flowsIndex,
      size: query.size,
      track_total_hits: true,
      ignore_unavailable: true,
      allow_no_indices: true,
      _source: SOURCE_FIELDS,
      sort: [{ '@timestamp': { order: 'desc' } }],
      query: { bool: { filter: [timeRange(query), roleFilter(query, parsed.ip)] } },
      aggs: { bytes: { sum: { field: 'network.bytes' } }, ...counterpartAggs(query.role) },
    },
    { signal },
  );
  const counterparts = counterpartsOf(query, res.aggregations, opts.launchUrlTemplate);
  return {
    ip: query.ip,
    role: query.role,
    range: { from: query.from, to: query.to },
    total: totalOf(res.hits.total),
    bytes: res.aggregations?.bytes.value ?? 0,
    flows: res.hits.hits.map((h) => flowRowOf(h._source ?? {})),
    counterparts: counterparts.counterparts,
    counterpartsTruncated: counterparts.truncated,
    launchUrl: query.role === 'indicator' ? launchUrlFor(opts.launchUrlTemplate, query.ip) : null,
  };
}
