// SPDX-License-Identifier: Apache-2.0
/**
 * Browser entry of the harness: the thin stand-in for the Kibana core services the app uses, then the
 * app's own renderApp, the same function the plugin's mount calls.
 *
 * - http: `core.http.get` with fetch. Like Kibana's client it sends `query` as the query string, passes the
 *   abort signal, parses JSON, and rejects a non-2xx answer with an Error whose `body` is the route's
 *   ErrorBody (the app shows `body.message`, e.g. "time range is inverted ...").
 * - links: Kibana's real Discover and dashboard paths (common/links.ts) under the configured Kibana URL,
 *   so a link from the harness opens the same view as one from the plugin.
 * - launch URL template: from the server's config (TF_HARNESS_LAUNCH_URL), as the plugin gets it from
 *   kibana.yml.
 *
 * `?from=<ISO>&to=<ISO>` in the page URL is handed to the app as `initialRange`, so a link (the CLI's
 * --demo prints one, the browser test opens one) lands on the time the data lies in.
 */
// EUI's theme stylesheet, which Kibana loads on every page: EUI 93 still styles forms, the date picker and
// tables with this compiled Sass (the rest comes from Emotion at runtime). esbuild emits it as main.css.
import '@elastic/eui/dist/eui_theme_light.css';
import { discoverPath, rangeError, threatsDashboardPath, type ErrorBody, type TimeRange } from '../common';
import { renderApp, type AppServices } from '../public/application';
import { createApi, type HttpLike } from '../public/services';
import type { BrowserConfig } from './config';

declare global {
  interface Window {
    __THREATFLOW_HARNESS__?: BrowserConfig;
  }
}

/** The error Kibana's http client rejects with: message from the body, the body itself, the status. */
export class HarnessHttpError extends Error {
  constructor(
    message: string,
    readonly body: ErrorBody,
    readonly status: number,
  ) {
    super(message);
    this.name = 'HttpFetchError';
  }
}

function isErrorBody(v: unknown): v is ErrorBody {
  return typeof v === 'object' && v !== null && typeof (v as { message?: unknown }).message === 'string';
}

export const fetchHttp: HttpLike = {
  async get<T>(path: string, options: { query: Record<string, string | number>; signal?: AbortSignal }): Promise<T> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(options.query)) {
      if (v !== undefined && v !== null) qs.set(k, String(v));
    }
    const s = qs.toString();
    // A rejected fetch (network down, aborted) propagates as is: an abort keeps its name AbortError.
    const res = await fetch(s === '' ? path : `${path}?${s}`, { signal: options.signal, headers: { accept: 'application/json' } });
    const text = await res.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const body: ErrorBody = isErrorBody(json)
        ? { statusCode: json.statusCode ?? res.status, error: json.error ?? res.statusText, message: json.message }
        : { statusCode: res.status, error: res.statusText, message: `${res.status} ${res.statusText}: ${text.slice(0, 200)}` };
      throw new HarnessHttpError(body.error || res.statusText, body, res.status);
    }
    return json as T;
  },
};

/** `?from=&to=` of the page URL when both are there and form a valid range (the routes' own rule). */
export function rangeFromSearch(search: string): TimeRange | undefined {
  const p = new URLSearchParams(search);
  const from = p.get('from');
  const to = p.get('to');
  if (from === null || to === null) return undefined;
  const err = rangeError(from, to);
  if (err) {
    // eslint-disable-next-line no-console
    console.warn(`threatflow harness: ignoring ?from=&to=: ${err}`);
    return undefined;
  }
  return { from, to };
}

function main(): void {
  const cfg = window.__THREATFLOW_HARNESS__;
  const root = document.getElementById('threatflowHarnessRoot');
  if (!cfg || !root) throw new Error('harness page without its config or root element');
  const services: AppServices = {
    api: createApi(fetchHttp),
    launchUrlTemplate: cfg.launchUrlTemplate,
    links: {
      discoverUrl: (ip, range) => `${cfg.kibanaUrl}${discoverPath(ip, range)}`,
      dashboardUrl: (ip, range) => `${cfg.kibanaUrl}${threatsDashboardPath(ip, range)}`,
    },
    initialRange: rangeFromSearch(window.location.search),
  };
  renderApp(root, services);
}

main();
