// SPDX-License-Identifier: Apache-2.0
import { ROUTES } from '../../common';
import { createApi, currentColorMode, errorMessage, isAbortError, servicesFrom, type HttpLike } from '../../public/services';
import { RANGE, httpError } from './helpers';

function recordingHttp() {
  const calls: Array<{ path: string; query: Record<string, string | number>; signal?: AbortSignal }> = [];
  const http: HttpLike = {
    get: async <T>(path: string, options: { query: Record<string, string | number>; signal?: AbortSignal }) => {
      calls.push({ path, ...options });
      return { path } as unknown as T;
    },
  };
  return { http, calls };
}

describe('createApi', () => {
  test('each method GETs its route with the query and the abort signal', async () => {
    const { http, calls } = recordingHttp();
    const api = createApi(http);
    const signal = new AbortController().signal;
    await api.getThreats({ ...RANGE, page: 2, perPage: 50, sortField: 'bytes', sortDirection: 'asc' }, signal);
    await api.getFlows({ ...RANGE, ip: '203.0.113.7', role: 'host', size: 100 });
    await api.getDbStatus(signal);
    expect(calls).toEqual([
      {
        path: '/internal/threatflow/threats',
        query: { from: RANGE.from, to: RANGE.to, page: 2, perPage: 50, sortField: 'bytes', sortDirection: 'asc' },
        signal,
      },
      { path: '/internal/threatflow/flows', query: { from: RANGE.from, to: RANGE.to, ip: '203.0.113.7', role: 'host', size: 100 }, signal: undefined },
      { path: '/internal/threatflow/db_status', query: {}, signal },
    ]);
    expect(calls.map((c) => c.path)).toEqual([ROUTES.threats, ROUTES.flows, ROUTES.dbStatus]);
  });
});

describe('servicesFrom', () => {
  test('links carry the base path (space included) before the app path', () => {
    const { http } = recordingHttp();
    const s = servicesFrom({ http: { ...http, basePath: { prepend: (p: string) => `/kbn/s/soc${p}` } } }, 'https://x.example/{{value}}');
    expect(s.launchUrlTemplate).toBe('https://x.example/{{value}}');
    expect(s.links.discoverUrl('10.0.0.5', RANGE)).toMatch(/^\/kbn\/s\/soc\/app\/discover#\/\?_g=/);
    expect(s.links.dashboardUrl('10.0.0.5', RANGE)).toMatch(/^\/kbn\/s\/soc\/app\/dashboards#\/view\/threatflow-dashboard-threats\?_g=/);
    // No theme service (a stand-in core): light, as EUI's default.
    expect(s.colorMode).toBe('light');
  });

  test("the time zone is Kibana's dateFormat:tz setting; the browser's when 'Browser', unknown or unreadable", () => {
    const { http } = recordingHttp();
    const keys: string[] = [];
    const core = (tz: unknown) => ({
      http: { ...http, basePath: { prepend: (p: string) => p } },
      uiSettings: {
        get: <T = any>(key: string): T => {
          keys.push(key);
          if (tz instanceof Error) throw tz;
          return tz as T;
        },
      },
    });
    expect(servicesFrom(core('Europe/Berlin'), 'https://x.example/{{value}}').timeZone).toBe('Europe/Berlin');
    expect(servicesFrom(core('UTC'), 'https://x.example/{{value}}').timeZone).toBe('UTC');
    expect(keys).toEqual(['dateFormat:tz', 'dateFormat:tz']);
    expect(servicesFrom(core('Browser'), 'https://x.example/{{value}}').timeZone).toBeUndefined();
    expect(servicesFrom(core('Mars/Olympus_Mons'), 'https://x.example/{{value}}').timeZone).toBeUndefined();
    expect(servicesFrom(core(null), 'https://x.example/{{value}}').timeZone).toBeUndefined();
    expect(servicesFrom(core(new Error('not registered')), 'https://x.example/{{value}}').timeZone).toBeUndefined();
    // No uiSettings (a stand-in core): the browser's zone.
    expect(servicesFrom({ http: { ...http, basePath: { prepend: (p: string) => p } } }, 'https://x.example/{{value}}').timeZone).toBeUndefined();
  });

  test("the color mode is Kibana's current theme, read from theme$ without keeping a subscription", () => {
    const { http } = recordingHttp();
    const core = (darkMode: boolean, log: string[]) => ({
      http: { ...http, basePath: { prepend: (p: string) => p } },
      theme: {
        theme$: {
          subscribe(next: (t: { darkMode: boolean }) => void) {
            log.push('subscribe');
            next({ darkMode });
            return { unsubscribe: () => void log.push('unsubscribe') };
          },
        },
      },
    });
    const log: string[] = [];
    expect(servicesFrom(core(true, log), 'https://x.example/{{value}}').colorMode).toBe('dark');
    expect(servicesFrom(core(false, log), 'https://x.example/{{value}}').colorMode).toBe('light');
    expect(log).toEqual(['subscribe', 'unsubscribe', 'subscribe', 'unsubscribe']);
    // A theme$ that has not emitted yet: light.
    const silent = { theme$: { subscribe: () => ({ unsubscribe: () => undefined }) } };
    expect(currentColorMode(silent)).toBe('light');
  });
});

describe('errorMessage', () => {
  test("prefers the route's ErrorBody message over the HTTP status text", () => {
    expect(errorMessage(httpError(400, 'time range longer than 400 days'))).toBe('time range longer than 400 days');
  });
  test('falls back to the error message, a string, or a fixed text', () => {
    expect(errorMessage(new Error('Failed to fetch'))).toBe('Failed to fetch');
    expect(errorMessage(Object.assign(new Error('Bad Gateway'), { body: '<html>' }))).toBe('Bad Gateway');
    expect(errorMessage('boom')).toBe('boom');
    expect(errorMessage(undefined)).toBe('Unknown error');
  });
  test('recognises aborted requests by name', () => {
    expect(isAbortError(Object.assign(new Error('The user aborted a request.'), { name: 'AbortError' }))).toBe(true);
    expect(isAbortError(new Error('x'))).toBe(false);
  });
});
