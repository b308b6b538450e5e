// SPDX-License-Identifier: Apache-2.0
/** Request and response shapes of the plugin's routes (JSON; times are ISO-8601 strings in UTC). */
import type { FlowRole, SortDirection, ThreatSortField } from './constants';

export interface TimeRange {
  /** ISO-8601 instant, inclusive. */
  from: string;
  /** ISO-8601 instant, exclusive; after `from`. */
  to: string;
}

export interface ThreatsQuery extends TimeRange {
  page: number;
  perPage: number;
  sortField: ThreatSortField;
  sortDirection: SortDirection;
}

/** One threat indicator IP seen in the range. */
export interface ThreatRow {
  /** The matched address (`threat.enrichments.matched.atomic`). */
  indicator: string;
  /** Tags from the blocklist (`threat.enrichments.indicator.description`, split on commas), sorted. */
  tags: string[];
  /** Flow documents that matched this indicator. */
  flows: number;
  /** Sum of `network.bytes` over those flows. */
  bytes: number;
  firstSeen: string;
  lastSeen: string;
  /** Distinct private addresses on the other side of those flows. */
  internalHosts: number;
  /** Up to HOSTS_PER_INDICATOR of them, most flows first. */
  internalHostSample: string[];
  /** Flows by `network.direction` (inbound, outbound, ...). */
  directions: Record<string, number>;
  /** PassiveTotal launch URL for the indicator (from the plugin's template). */
  launchUrl: string;
}

export interface ThreatsResponse {
  range: TimeRange;
  totals: {
    /**
     * Distinct indicator IPs seen: exact from the buckets unless `truncated`; beyond that, Elasticsearch's
     * cardinality estimate (exact in practice up to a few thousand, within ~0.1 % above).
     */
    indicators: number;
    /** Flows with at least one threat match. */
    threatFlows: number;
    /** All flows in the range (the denominator an analyst wants next to threatFlows). */
    allFlows: number;
    /** Sum of `network.bytes` over the threat flows. */
    bytes: number;
    /** Distinct private addresses that were party to a threat flow (a cardinality estimate, as above). */
    internalHosts: number;
  };
  page: number;
  perPage: number;
  sortField: ThreatSortField;
  sortDirection: SortDirection;
  /** Rows of this page. */
  threats: ThreatRow[];
  /** True when more than MAX_INDICATORS indicators matched and only the busiest were ranked. */
  truncated: boolean;
}

export interface FlowsQuery extends TimeRange {
  ip: string;
  role: FlowRole;
  size: number;
}

export interface FlowRow {
  timestamp: string;
  sourceIp: string | null;
  sourcePort: number | null;
  destinationIp: string | null;
  destinationPort: number | null;
  transport: string | null;
  direction: string | null;
  bytes: number;
  packets: number;
  communityId: string | null;
  /** `sec.threat.name` of the flow. */
  tags: string[];
}

/** The other party: internal hosts of an indicator, or indicators of an internal host. */
export interface Counterpart {
  ip: string;
  flows: number;
  bytes: number;
  /**
   * PassiveTotal launch URL for an indicator; null for an internal (private) host: a private address means
   * nothing to PassiveTotal, and a click must never send one to a third party (the export's rule, DESIGN §7).
   */
  launchUrl: string | null;
}

export interface FlowsResponse {
  /** The address in canonical form (IPv6 compressed lower-case; IPv4-mapped IPv6 as IPv4). */
  ip: string;
  role: FlowRole;
  range: TimeRange;
  /** All matching flows in the range (flows[] holds at most `size`, newest first). */
  total: number;
  bytes: number;
  flows: FlowRow[];
  counterparts: Counterpart[];
  /** True when there were more counterparts than listed (the list is capped; the count says "N+"). */
  counterpartsTruncated: boolean;
  /** Launch URL of `ip` when role is indicator; null for an internal host (see Counterpart.launchUrl). */
  launchUrl: string | null;
}

export interface DbStatusResponse {
  /** False when the indicator index does not exist (threat enrichment not configured or never fetched). */
  present: boolean;
  /** Concrete index behind the alias. */
  index: string | null;
  indicators: number;
  /** Indicators by `threat.indicator.type` (ipv4-addr, ipv6-addr, ...). */
  byType: Record<string, number>;
  /** When the collector fetched this DB (the indicator documents' `@timestamp`, which it sets to the fetch time), ISO-8601. */
  fetchedAt: string | null;
  ageSeconds: number | null;
  feed: string;
}

/** Body of a 4xx/5xx answer, the shape Kibana's `response.badRequest({ body: { message } })` produces. */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
}
