// SPDX-License-Identifier: Apache-2.0
/**
 * Deep links from the app into Discover and the Threats dashboard, filtered on one IP for the app's time
 * range. Kibana keeps app state in the URL fragment as rison (`_g` global time, `_a` app state); these are
 * the paths after the Kibana base path, e.g. `/app/discover#/?_g=...`.
 */
import { FLOWS_DATA_VIEW_ID, THREATS_DASHBOARD_ID } from './constants';
import type { TimeRange } from './types';

/** A rison string literal: always quoted, `!` and `'` escaped with `!` (rison's escape character). */
function risonString(s: string): string {
  return `'${s.replace(/!/g, '!!').replace(/'/g, "!'")}'`;
}

function globalState(range: TimeRange): string {
  return `(time:(from:${risonString(range.from)},to:${risonString(range.to)}))`;
}

/** KQL matching the IP on either side of a flow. */
export function ipKql(ip: string): string {
  return `related.ip:"${ip}"`;
}

function kqlQuery(ip: string): string {
  return `(language:kuery,query:${risonString(ipKql(ip))})`;
}

/** Discover on the flows data view, filtered on the IP. */
export function discoverPath(ip: string, range: TimeRange): string {
  const g = encodeURIComponent(globalState(range));
  const a = encodeURIComponent(`(dataSource:(dataViewId:${risonString(FLOWS_DATA_VIEW_ID)},type:dataView),query:${kqlQuery(ip)})`);
  return `/app/discover#/?_g=${g}&_a=${a}`;
}

/** The Threats dashboard, filtered on the IP. */
export function threatsDashboardPath(ip: string, range: TimeRange): string {
  const g = encodeURIComponent(globalState(range));
  const a = encodeURIComponent(`(query:${kqlQuery(ip)})`);
  return `/app/dashboards#/view/${THREATS_DASHBOARD_ID}?_g=${g}&_a=${a}`;
}
