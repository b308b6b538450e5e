// SPDX-License-Identifier: Apache-2.0
/**
 * The browser's client for the plugin's routes. It depends only on the `get` of Kibana's `core.http`
 * (HttpLike), so the standalone harness and the component tests can hand in their own transport and the
 * app never learns which one it runs on.
 */
import { ROUTES, discoverPath, threatsDashboardPath } from '../common';
import type { DbStatusResponse, ErrorBody, FlowsQuery, FlowsResponse, ThreatsQuery, ThreatsResponse } from '../common';
import type { AppServices, ColorMode } from './application';
import { resolveTimeZone } from './lib/format';

/** The subset of Kibana's `core.http` (HttpSetup/HttpStart) the app uses. */
export interface HttpLike {
  get<T>(path: string, options: { query: Record<string, string | number>; signal?: AbortSignal }): Promise<T>;
}

/** What Kibana's `core.http.basePath` offers that the links need. */
export interface BasePathLike {
  prepend(path: string): string;
}

export interface ThreatflowApi {
  getThreats(q: ThreatsQuery, signal?: AbortSignal): Promise<ThreatsResponse>;
  getFlows(q: FlowsQuery, signal?: AbortSignal): Promise<FlowsResponse>;
  getDbStatus(signal?: AbortSignal): Promise<DbStatusResponse>;
}

export function createApi(http: HttpLike): ThreatflowApi {
  return {
    getThreats: (q, signal) =>
      http.get<ThreatsResponse>(ROUTES.threats, {
        query: { from: q.from, to: q.to, page: q.page, perPage: q.perPage, sortField: q.sortField, sortDirection: q.sortDirection },
        signal,
      }),
    getFlows: (q, signal) =>
      http.get<FlowsResponse>(ROUTES.flows, { query: { from: q.from, to: q.to, ip: q.ip, role: q.role, size: q.size }, signal }),
    getDbStatus: (signal) => http.get<DbStatusResponse>(ROUTES.dbStatus, { query: {}, signal }),
  };
}

/** What Kibana's `core.theme` (ThemeServiceStart) offers that the app needs: `theme$`, which replays the current theme. */
export interface ThemeLike {
  theme$: { subscribe(next: (theme: { darkMode: boolean }) => void): { unsubscribe(): void } };
}

/**
 * The color mode Kibana is in now. `theme$` replays the current theme to a new subscriber synchronously,
 * so subscribing and unsubscribing reads it; light if nothing came (a theme change in Kibana reloads the
 * page, so the value read at mount holds for the app's lifetime).
 */
export function currentColorMode(theme: ThemeLike): ColorMode {
  let mode: ColorMode = 'light';
  const subscription = theme.theme$.subscribe(({ darkMode }) => {
    mode = darkMode ? 'dark' : 'light';
  });
  subscription.unsubscribe();
  return mode;
}

/** What Kibana's `core.uiSettings` (IUiSettingsClient) offers that the app needs: reading an advanced setting. */
export interface UiSettingsLike {
  get: <T = any>(key: string, defaultOverride?: T) => T;
}

/**
 * The zone of Kibana's `dateFormat:tz` advanced setting, or undefined for the browser's zone: when it says
 * 'Browser', names a zone this browser does not know, or cannot be read (no uiSettings, or `get` throws).
 */
export function timeZoneSetting(uiSettings: UiSettingsLike | undefined): string | undefined {
  if (!uiSettings) return undefined;
  try {
    return resolveTimeZone(uiSettings.get<unknown>('dateFormat:tz'));
  } catch {
    return undefined;
  }
}

/**
 * The services the app needs, built from Kibana's core start contract. Links get the base path (and the
 * space prefix, which Kibana keeps in the base path) so they work on any deployment; the color mode follows
 * Kibana's theme, and times are shown in the zone of Kibana's `dateFormat:tz` setting.
 */
export function servicesFrom(
  core: { http: HttpLike & { basePath: BasePathLike }; theme?: ThemeLike; uiSettings?: UiSettingsLike },
  launchUrlTemplate: string,
): AppServices {
  const { http } = core;
  return {
    api: createApi(http),
    launchUrlTemplate,
    links: {
      discoverUrl: (ip, range) => http.basePath.prepend(discoverPath(ip, range)),
      dashboardUrl: (ip, range) => http.basePath.prepend(threatsDashboardPath(ip, range)),
    },
    colorMode: core.theme ? currentColorMode(core.theme) : 'light',
    timeZone: timeZoneSetting(core.uiSettings),
  };
}

function isErrorBody(v: unknown): v is ErrorBody {
  return typeof v === 'object' && v !== null && typeof (v as { message?: unknown }).message === 'string';
}

/**
 * A message for the analyst. Kibana's http client rejects with an error whose `body` is the route's
 * ErrorBody; its message says what was wrong with the request ("time range is inverted..."), whereas the
 * error's own message is only "Bad Request".
 */
export function errorMessage(e: unknown): string {
  if (typeof e === 'object' && e !== null) {
    const body = (e as { body?: unknown }).body;
    if (isErrorBody(body) && body.message !== '') return body.message;
    if (e instanceof Error && e.message !== '') return e.message;
  }
  if (typeof e === 'string' && e !== '') return e;
  return 'Unknown error';
}

/** Kibana's http client (like fetch) rejects with name `AbortError` when the signal aborted the request. */
export function isAbortError(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'AbortError';
}
