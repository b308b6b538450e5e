// SPDX-License-Identifier: Apache-2.0
/**
 * Names and limits shared by the server routes, the browser app and the standalone harness, so that the
 * three can never disagree about a path or a bound.
 */
export const PLUGIN_ID = 'threatflow';
export const PLUGIN_NAME = 'threatflow';

/** UI-only routes live under /internal (Kibana convention for routes that are not a public API). */
export const API_BASE = '/internal/threatflow';
export const ROUTES = {
  /** Threat indicators seen in a time range, one row per indicator IP. */
  threats: `${API_BASE}/threats`,
  /** The flows of one indicator IP or one internal host in a time range, with its counterparts. */
  flows: `${API_BASE}/flows`,
  /** Size, age and source of the indicator DB the collector last indexed. */
  dbStatus: `${API_BASE}/db_status`,
} as const;

/** Privilege tag the routes require (Kibana 8.14: `options.tags: ['access:<tag>']`). */
export const API_PRIVILEGE = 'threatflow-read';

/** Defaults match the collector (DESIGN.md §4, §5). */
export const DEFAULT_FLOWS_INDEX = 'logs-threatflow.flows-*';
export const DEFAULT_INDICATORS_INDEX = 'logs-ti_threatflow_latest.indicators';
export const DEFAULT_LAUNCH_URL_TEMPLATE = 'https://community.riskiq.com/research?query={{value}}';
export const THREAT_PROVIDER = 'RiskIQ PassiveTotal';

/** Request bounds: a huge page would make Elasticsearch and the browser do work no analyst can read. */
export const MAX_PER_PAGE = 100;
export const DEFAULT_PER_PAGE = 20;
export const MAX_PAGE = 500;
export const MAX_FLOWS = 500;
export const DEFAULT_FLOWS = 100;
/** Indicators aggregated per request before paging (terms buckets); more is reported as truncated. */
export const MAX_INDICATORS = 10_000;
/** Internal hosts listed per indicator (the count is exact up to cardinality's precision). */
export const HOSTS_PER_INDICATOR = 10;
/** Longest time range accepted (days). */
export const MAX_RANGE_DAYS = 400;

export const THREAT_SORT_FIELDS = ['indicator', 'flows', 'bytes', 'firstSeen', 'lastSeen', 'internalHosts'] as const;
export type ThreatSortField = (typeof THREAT_SORT_FIELDS)[number];
export const SORT_DIRECTIONS = ['asc', 'desc'] as const;
export type SortDirection = (typeof SORT_DIRECTIONS)[number];
export const FLOW_ROLES = ['indicator', 'host'] as const;
/** `indicator`: flows that matched this threat IP; `host`: threat flows of this internal host. */
export type FlowRole = (typeof FLOW_ROLES)[number];

/** Saved objects shipped in dashboards/ (threatflow setup --kibana imports them). */
export const THREATS_DASHBOARD_ID = 'threatflow-dashboard-threats';
export const FLOWS_DATA_VIEW_ID = 'threatflow-flows';
