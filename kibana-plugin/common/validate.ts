// SPDX-License-Identifier: Apache-2.0
/**
 * Input rules of the routes, in one place. Kibana's route validation (`@kbn/config-schema`, see
 * server/routes/) calls these same checks, and the standalone harness and the route functions use the
 * parse* functions, so a request is accepted or refused (400) identically everywhere.
 *
 * Browser-safe: no Node APIs (the app imports the constants next to these).
 */
import {
  DEFAULT_FLOWS,
  DEFAULT_PER_PAGE,
  FLOW_ROLES,
  MAX_FLOWS,
  MAX_PAGE,
  MAX_PER_PAGE,
  MAX_RANGE_DAYS,
  SORT_DIRECTIONS,
  THREAT_SORT_FIELDS,
  type FlowRole,
  type SortDirection,
  type ThreatSortField,
} from './constants';
import type { FlowsQuery, ThreatsQuery, TimeRange } from './types';

/** A request the routes refuse; `statusCode` is always 400. */
export class BadRequestError extends Error {
  readonly statusCode = 400;
  constructor(message: string) {
    super(message);
    this.name = 'BadRequestError';
  }
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/** Days in a month of the proleptic Gregorian calendar (month 1-12). */
function daysIn(year: number, month: number): number {
  return month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Why `value` is not an ISO-8601 instant with a zone (e.g. 2024-05-01T00:00:00Z), or undefined. */
export function instantError(value: string): string | undefined {
  const bad = `"${clip(value)}" is not an ISO-8601 instant with a time zone (e.g. 2024-05-01T00:00:00Z)`;
  if (!ISO_INSTANT.test(value) || Number.isNaN(Date.parse(value))) return bad;
  // Date.parse rolls impossible days over (2024-02-30 becomes March 1st): refuse them instead, so the range
  // searched is always the range echoed back.
  const [y, m, d] = value.slice(0, 10).split('-').map(Number);
  if (m < 1 || m > 12 || d < 1 || d > daysIn(y, m)) return `${bad}: no such day`;
  return undefined;
}

/** Why [from, to) is not a usable range, or undefined. */
export function rangeError(from: string, to: string): string | undefined {
  const e = instantError(from) ?? instantError(to);
  if (e) return e;
  const a = Date.parse(from);
  const b = Date.parse(to);
  if (b <= a) return `time range is inverted or empty: from ${from} is not before to ${to}`;
  if (b - a > MAX_RANGE_DAYS * 86_400_000) return `time range longer than ${MAX_RANGE_DAYS} days`;
  return undefined;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** True for a literal IPv4 or IPv6 address (no CIDR, no zone, no brackets). */
export function isIpAddress(value: string): boolean {
  if (IPV4.test(value)) return true;
  if (!value.includes(':') || !/^[0-9A-Fa-f:.]+$/.test(value)) return false;
  try {
    // The WHATWG URL parser implements the full IPv6 grammar (compression, embedded IPv4) in Node and browsers.
    new URL(`http://[${value}]/`);
    return true;
  } catch {
    return false;
  }
}

/** Why `value` is not an IP address, or undefined. */
export function ipError(value: string): string | undefined {
  return isIpAddress(value) ? undefined : `"${clip(value)}" is not an IPv4 or IPv6 address`;
}

type Raw = Record<string, unknown>;

function str(raw: Raw, key: string): string | undefined {
  const v = raw[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (Array.isArray(v)) throw new BadRequestError(`${key} given more than once`);
  if (typeof v !== 'string') throw new BadRequestError(`${key} must be a string`);
  return v;
}

/** Query parameters each route accepts; anything else is refused, as Kibana's `schema.object` does. */
export const THREATS_PARAMS = ['from', 'to', 'page', 'perPage', 'sortField', 'sortDirection'] as const;
export const FLOWS_PARAMS = ['from', 'to', 'ip', 'role', 'size'] as const;

function onlyKnown(raw: Raw, known: readonly string[]): void {
  const unknown = Object.keys(raw).filter((k) => !known.includes(k));
  if (unknown.length > 0) throw new BadRequestError(`unknown parameter ${clip(unknown.join(', '))}; allowed: ${known.join(', ')}`);
}

function int(raw: Raw, key: string, dflt: number, min: number, max: number): number {
  const v = raw[key];
  if (v === undefined || v === null || v === '') return dflt;
  if (Array.isArray(v)) throw new BadRequestError(`${key} given more than once`);
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n)) throw new BadRequestError(`${key} must be an integer`);
  if (n < min || n > max) throw new BadRequestError(`${key} must be between ${min} and ${max}, got ${n}`);
  return n;
}

function oneOf<T extends string>(raw: Raw, key: string, allowed: readonly T[], dflt: T): T {
  const v = str(raw, key);
  if (v === undefined) return dflt;
  if (!(allowed as readonly string[]).includes(v)) throw new BadRequestError(`${key} must be one of ${allowed.join(', ')}, got "${clip(v)}"`);
  return v as T;
}

function range(raw: Raw): TimeRange {
  const from = str(raw, 'from');
  const to = str(raw, 'to');
  if (from === undefined || to === undefined) throw new BadRequestError('from and to are required (ISO-8601 instants)');
  const e = rangeError(from, to);
  if (e) throw new BadRequestError(e);
  return { from, to };
}

/** Parses the query of GET threats; throws BadRequestError. */
export function parseThreatsQuery(raw: Raw): ThreatsQuery {
  onlyKnown(raw, THREATS_PARAMS);
  return {
    ...range(raw),
    page: int(raw, 'page', 0, 0, MAX_PAGE),
    perPage: int(raw, 'perPage', DEFAULT_PER_PAGE, 1, MAX_PER_PAGE),
    sortField: oneOf<ThreatSortField>(raw, 'sortField', THREAT_SORT_FIELDS, 'flows'),
    sortDirection: oneOf<SortDirection>(raw, 'sortDirection', SORT_DIRECTIONS, 'desc'),
  };
}

/** Parses the query of GET flows; throws BadRequestError. */
export function parseFlowsQuery(raw: Raw): FlowsQuery {
  onlyKnown(raw, FLOWS_PARAMS);
  const r = range(raw);
  const ip = str(raw, 'ip');
  if (ip === undefined) throw new BadRequestError('ip is required');
  const e = ipError(ip);
  if (e) throw new BadRequestError(e);
  return {
    ...r,
    ip,
    role: oneOf<FlowRole>(raw, 'role', FLOW_ROLES, 'indicator'),
    size: int(raw, 'size', DEFAULT_FLOWS, 1, MAX_FLOWS),
  };
}

/** Echoed input is clipped so an error message never carries a megabyte of whatever was sent. */
function clip(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
