// SPDX-License-Identifier: Apache-2.0
/**
 * Shared pieces of the component tests: the browser APIs jsdom lacks that EUI calls, response fixtures
 * shaped per common/types.ts, and an in-memory ThreatflowApi that records what the app asked for.
 */
import { configure } from '@testing-library/react';
import type { DbStatusResponse, FlowRole, FlowsQuery, FlowsResponse, ThreatsQuery, ThreatsResponse, ThreatRow } from '../../common';
import type { ThreatflowApi } from '../../public/services';
import type { AppServices } from '../../public/application';

/**
 * Queries by data-test-subj; and the browser APIs jsdom lacks: it has no layout, and EUI asks for media
 * queries (breakpoints) and observes element sizes.
 */
export function setUpDom(): void {
  // Kibana's convention (and the harness's browser test) address elements by data-test-subj.
  configure({ testIdAttribute: 'data-test-subj' });
  if (!window.matchMedia) {
    Object.defineProperty(window, 'matchMedia', {
      writable: true,
      value: (query: string) => ({
        matches: false,
        media: query,
        onchange: null,
        addListener: () => undefined,
        removeListener: () => undefined,
        addEventListener: () => undefined,
        removeEventListener: () => undefined,
        dispatchEvent: () => false,
      }),
    });
  }
  if (!('ResizeObserver' in window)) {
    class ResizeObserverStub {
      observe(): void {}
      unobserve(): void {}
      disconnect(): void {}
    }
    Object.defineProperty(window, 'ResizeObserver', { writable: true, value: ResizeObserverStub });
  }
  if (!('MutationObserver' in window)) throw new Error('jsdom without MutationObserver');
  window.scrollTo = () => undefined;
}

export const RANGE = { from: '2024-05-01T00:00:00.000Z', to: '2024-05-02T00:00:00.000Z' };

export function threatRow(indicator: string, over: Partial<ThreatRow> = {}): ThreatRow {
  return {
    indicator,
    tags: ['botnet', 'scanner'],
    flows: 12,
    bytes: 34_567,
    firstSeen: '2024-05-01T01:00:00.000Z',
    lastSeen: '2024-05-01T20:00:00.000Z',
    internalHosts: 2,
    internalHostSample: ['10.0.0.5', '192.168.1.20'],
    directions: { inbound: 8, outbound: 4 },
    // Deliberately a value the app must NOT use for its link: the app expands its own template.
    launchUrl: `https://server-side.invalid/${indicator}`,
    ...over,
  };
}

export function threatsResponse(rows: ThreatRow[], over: Partial<ThreatsResponse> = {}): ThreatsResponse {
  return {
    range: RANGE,
    totals: {
      indicators: rows.length,
      threatFlows: rows.reduce((s, r) => s + r.flows, 0),
      allFlows: 1000,
      bytes: rows.reduce((s, r) => s + r.bytes, 0),
      internalHosts: 2,
    },
    page: 0,
    perPage: 20,
    sortField: 'flows',
    sortDirection: 'desc',
    threats: rows,
    truncated: false,
    ...over,
  };
}

/**
 * The route's answer for `ip`. As the server does, internal hosts (the counterparts of an indicator, and
 * the subject of a host query) have no launch URL; indicators have one the app must NOT use (it expands its
 * own template).
 */
export function flowsResponse(ip: string, role: FlowRole, counterparts: string[], over: Partial<FlowsResponse> = {}): FlowsResponse {
  const hostsAreCounterparts = role === 'indicator';
  return {
    ip,
    role,
    range: RANGE,
    total: 3,
    bytes: 3000,
    flows: [0, 1, 2].map((i) => ({
      timestamp: `2024-05-01T0${i}:00:00.000Z`,
      sourceIp: role === 'indicator' ? ip : counterparts[0] ?? null,
      sourcePort: 40000 + i,
      destinationIp: role === 'indicator' ? counterparts[0] ?? null : ip,
      destinationPort: 443,
      transport: 'tcp',
      direction: 'inbound',
      bytes: 1000,
      packets: 10,
      communityId: null,
      tags: ['botnet'],
    })),
    counterparts: counterparts.map((c, i) => ({
      ip: c,
      flows: 3 - i,
      bytes: 1000 * (3 - i),
      launchUrl: hostsAreCounterparts ? null : `https://server-side.invalid/${c}`,
    })),
    counterpartsTruncated: false,
    launchUrl: hostsAreCounterparts ? `https://server-side.invalid/${ip}` : null,
    ...over,
  };
}

export const DB_PRESENT: DbStatusResponse = {
  present: true,
  index: '.ds-logs-ti_threatflow_latest.indicators-000001',
  indicators: 4321,
  byType: { 'ipv4-addr': 4000, 'ipv6-addr': 321 },
  fetchedAt: '2024-05-01T00:00:00.000Z',
  ageSeconds: 3 * 3600,
  feed: 'RiskIQ PassiveTotal',
};

export const DB_ABSENT: DbStatusResponse = {
  present: false,
  index: null,
  indicators: 0,
  byType: {},
  fetchedAt: null,
  ageSeconds: null,
  feed: 'RiskIQ PassiveTotal',
};

type Handler<Q, R> = (q: Q, signal?: AbortSignal) => Promise<R>;

/** An in-memory ThreatflowApi: each method's answer is a function the test sets, every call is kept. */
export class FakeApi implements ThreatflowApi {
  threatsCalls: Array<{ q: ThreatsQuery; signal?: AbortSignal }> = [];
  flowsCalls: Array<{ q: FlowsQuery; signal?: AbortSignal }> = [];
  dbCalls: Array<{ signal?: AbortSignal }> = [];

  constructor(
    public threats: Handler<ThreatsQuery, ThreatsResponse>,
    public flows: Handler<FlowsQuery, FlowsResponse> = async (q) => flowsResponse(q.ip, q.role, []),
    public db: () => Promise<DbStatusResponse> = async () => DB_PRESENT,
  ) {}

  getThreats(q: ThreatsQuery, signal?: AbortSignal): Promise<ThreatsResponse> {
    this.threatsCalls.push({ q, signal });
    return this.threats(q, signal);
  }

  getFlows(q: FlowsQuery, signal?: AbortSignal): Promise<FlowsResponse> {
    this.flowsCalls.push({ q, signal });
    return this.flows(q, signal);
  }

  getDbStatus(signal?: AbortSignal): Promise<DbStatusResponse> {
    this.dbCalls.push({ signal });
    return this.db();
  }
}

/** Services with links that make their inputs visible, so a test can compute the expected href. */
export function servicesWith(api: ThreatflowApi, launchUrlTemplate: string): AppServices {
  return {
    api,
    launchUrlTemplate,
    links: {
      discoverUrl: (ip, r) => `/kbn/discover?ip=${ip}&from=${r.from}&to=${r.to}`,
      dashboardUrl: (ip, r) => `/kbn/dashboard?ip=${ip}&from=${r.from}&to=${r.to}`,
    },
  };
}

/** An error as Kibana's http client rejects: `body` is the route's ErrorBody. */
export function httpError(statusCode: number, message: string): Error & { body: unknown } {
  const e = new Error(statusCode === 400 ? 'Bad Request' : 'Internal Server Error') as Error & { body: unknown };
  e.body = { statusCode, error: statusCode === 400 ? 'Bad Request' : 'Internal Server Error', message };
  return e;
}

/** A promise the test settles by hand, to hold a request in flight. */
export function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * How the app must show an instant, computed without moment: the process's local time (Date's getters)
 * and its UTC offset at that instant, e.g. "May 1, 2024 @ 03:00:00.000 +02:00".
 */
export function localTime(iso: string): string {
  const d = new Date(iso);
  const two = (n: number) => String(n).padStart(2, '0');
  const east = -d.getTimezoneOffset();
  const offset = `${east < 0 ? '-' : '+'}${two(Math.floor(Math.abs(east) / 60))}:${two(Math.abs(east) % 60)}`;
  return (
    `${MONTHS[d.getMonth()]} ${d.getDate()}, ${d.getFullYear()} @ ` +
    `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')} ${offset}`
  );
}
