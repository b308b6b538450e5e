// SPDX-License-Identifier: Apache-2.0
/**
 * The date picker speaks Kibana date math (`now-24h`, `now/d`, `2024-05-01T00:00:00Z||+1d`); the routes
 * take ISO instants. Relative expressions are resolved when a query is made, so a refresh moves "last 24
 * hours" forward.
 */
import dateMath from '@elastic/datemath';
import moment from 'moment';
import type { TimeRange } from '../../common';

export interface TimeInput {
  start: string;
  end: string;
}

export const DEFAULT_TIME: TimeInput = { start: 'now-24h', end: 'now' };
export const WIDE_TIME: TimeInput = { start: 'now-7d', end: 'now' };

function parse(expr: string, roundUp: boolean, now: Date): moment.Moment | undefined {
  // datemath hands an absolute anchor to moment's lenient parser, which guesses (and warns) on anything;
  // the picker only ever produces ISO anchors, so accept those strictly.
  const anchor = expr.split('||')[0].trim();
  if (!anchor.startsWith('now') && !moment(anchor, moment.ISO_8601, true).isValid()) return undefined;
  const m = dateMath.parse(expr, { roundUp, forceNow: now });
  return m && m.isValid() ? m : undefined;
}

/**
 * The ISO range for picker input, or undefined when either side is not valid date math. `to` is rounded
 * up, as Kibana does, so `now/d` ends at the end of today rather than its start.
 */
export function resolveTimeRange(input: TimeInput, now: Date = new Date()): TimeRange | undefined {
  // One "now" for both ends, so that "last 24 hours" is exactly 24 hours long.
  const from = parse(input.start, false, now);
  const to = parse(input.end, true, now);
  if (!from || !to) return undefined;
  return { from: from.toISOString(), to: to.toISOString() };
}
