/**
 * @jest-environment jsdom
 * @jest-environment-options {"customExportConditions": ["node", "node-addons"]}
 */
// SPDX-License-Identifier: Apache-2.0
/**
 * The plugin as Kibana drives it: setup registers the app, mount renders it with services built from
 * core's http (routes, abort signals, base path). `@kbn/core/public` exists only inside Kibana, so its one
 * runtime value the plugin reads (DEFAULT_APP_CATEGORIES) is stood in for here.
 */
import React from 'react';
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { EuiPageTemplate, EuiProvider } from '@elastic/eui';
import type { App, AppMountParameters, CoreSetup, PluginInitializerContext } from '@kbn/core/public';
import { plugin } from '../../public';
import { DB_PRESENT, flowsResponse, setUpDom, threatRow, threatsResponse } from './helpers';

jest.mock(
  '@kbn/core/public',
  () => ({
    DEFAULT_APP_CATEGORIES: {
      security: { id: 'securitySolution', label: 'Security', order: 4000, euiIconType: 'logoSecurity' },
    },
  }),
  { virtual: true },
);

setUpDom();

const IP = '203.0.113.7';

/** core.theme as Kibana's theme service: `theme$` replays the current theme to each subscriber. */
function fakeTheme(darkMode: boolean) {
  const subscriptions = { opened: 0, open: 0 };
  const theme = {
    theme$: {
      subscribe(next: (t: { darkMode: boolean }) => void) {
        subscriptions.opened++;
        subscriptions.open++;
        next({ darkMode });
        return { unsubscribe: () => void subscriptions.open-- };
      },
    },
  };
  return { theme, subscriptions };
}

/** `timeZone`: what core.uiSettings answers for `dateFormat:tz`; no uiSettings when absent. */
function fakeCore(darkMode = false, timeZone?: string) {
  const apps: App[] = [];
  const get = jest.fn(async (path: string, options: { query: Record<string, string | number>; signal?: AbortSignal }) => {
    if (path === '/internal/threatflow/threats') return threatsResponse([threatRow(IP)]);
    if (path === '/internal/threatflow/db_status') return DB_PRESENT;
    if (path === '/internal/threatflow/flows') return flowsResponse(String(options.query.ip), 'indicator', ['10.0.0.5']);
    throw new Error(`unexpected path ${path}`);
  });
  const http = { get, basePath: { prepend: (p: string) => `/kbn/s/soc${p}` } };
  const theme = fakeTheme(darkMode);
  const setup = {
    application: { register: (app: App) => apps.push(app) },
    http,
    getStartServices: async () => [
      { http, theme: theme.theme, ...(timeZone === undefined ? {} : { uiSettings: { get: (key: string) => (key === 'dateFormat:tz' ? timeZone : undefined) } }) },
      {},
      undefined,
    ],
  } as unknown as CoreSetup;
  return { apps, get, setup, themeSubscriptions: theme.subscriptions };
}

function context(config: object): PluginInitializerContext {
  return { config: { get: () => config } } as unknown as PluginInitializerContext;
}

async function mount(app: App, element: HTMLElement): Promise<() => void> {
  let unmount: () => void = () => undefined;
  await act(async () => {
    unmount = await app.mount({ element } as AppMountParameters);
  });
  return unmount;
}

describe('public plugin', () => {
  test('setup registers the app under Security', () => {
    const core = fakeCore();
    plugin(context({})).setup(core.setup);
    expect(core.apps).toHaveLength(1);
    expect(core.apps[0]).toMatchObject({ id: 'threatflow', title: 'threatflow', category: { id: 'securitySolution' } });
  });

  test('mount renders the app over core.http, with base-path links and the configured launch template', async () => {
    const core = fakeCore();
    plugin(context({ launchUrlTemplate: 'https://ti.example.com/lookup/{{value}}' })).setup(core.setup);
    const element = document.createElement('div');
    document.body.appendChild(element);
    const unmount = await mount(core.apps[0], element);

    const row = await screen.findByTestId(`threatflowThreatRow-${IP}`);
    expect(element.contains(row)).toBe(true);
    expect(within(row).getByTestId(`threatflowLaunchLink-${IP}`).getAttribute('href')).toBe('https://ti.example.com/lookup/203.0.113.7');

    const threatsCall = core.get.mock.calls.find(([p]) => p === '/internal/threatflow/threats');
    expect(threatsCall).toBeDefined();
    const [, options] = threatsCall!;
    expect(options.signal).toBeInstanceOf(AbortSignal);
    expect(options.query).toMatchObject({ page: 0, perPage: 20, sortField: 'flows', sortDirection: 'desc' });
    const { from, to } = options.query as { from: string; to: string };

    fireEvent.click(screen.getByTestId(`threatflowOpenFlyout-${IP}`));
    const flyout = await screen.findByTestId('threatflowFlyout');
    await within(flyout).findByTestId('threatflowFlyoutFlows');
    // Hand-written rison (Kibana's URL state): global time in _g, the KQL filter in _a.
    const g = encodeURIComponent(`(time:(from:'${from}',to:'${to}'))`);
    const query = `(language:kuery,query:'related.ip:"${IP}"')`;
    expect(within(flyout).getByTestId('threatflowDiscoverLink').getAttribute('href')).toBe(
      `/kbn/s/soc/app/discover#/?_g=${g}&_a=${encodeURIComponent(`(dataSource:(dataViewId:'threatflow-flows',type:dataView),query:${query})`)}`,
    );
    expect(within(flyout).getByTestId('threatflowDashboardLink').getAttribute('href')).toBe(
      `/kbn/s/soc/app/dashboards#/view/threatflow-dashboard-threats?_g=${g}&_a=${encodeURIComponent(`(query:${query})`)}`,
    );

    act(() => unmount());
    expect(element.innerHTML).toBe('');
    element.remove();
  });

  test('without a configured template the launch links use the default PassiveTotal one', async () => {
    const core = fakeCore();
    plugin(context({})).setup(core.setup);
    const element = document.createElement('div');
    document.body.appendChild(element);
    const unmount = await mount(core.apps[0], element);
    const link = await screen.findByTestId(`threatflowLaunchLink-${IP}`);
    expect(link.getAttribute('href')).toBe('https://community.riskiq.com/research?query=203.0.113.7');
    act(() => unmount());
    element.remove();
  });

  test("the app takes Kibana's color mode from core.theme", async () => {
    // What EUI paints a page with in each mode, from a bare EuiPageTemplate under EuiProvider.
    const reference = (colorMode: 'light' | 'dark') => {
      const r = render(
        <EuiProvider colorMode={colorMode}>
          <EuiPageTemplate data-test-subj="referencePage" />
        </EuiProvider>,
      );
      const bg = getComputedStyle(r.getByTestId('referencePage')).backgroundColor;
      r.unmount();
      return bg;
    };
    const light = reference('light');
    const dark = reference('dark');
    expect(light).not.toBe(dark);

    for (const [darkMode, expected] of [[false, light], [true, dark]] as const) {
      const core = fakeCore(darkMode);
      plugin(context({})).setup(core.setup);
      const element = document.createElement('div');
      document.body.appendChild(element);
      const unmount = await mount(core.apps[0], element);
      await screen.findByTestId(`threatflowThreatRow-${IP}`);
      expect(getComputedStyle(screen.getByTestId('threatflowApp')).backgroundColor).toBe(expected);
      // Read at mount: subscribed, and no subscription left open.
      expect(core.themeSubscriptions).toEqual({ opened: 1, open: 0 });
      act(() => unmount());
      element.remove();
    }
  });

  test("times are shown in the zone of Kibana's dateFormat:tz setting", async () => {
    const core = fakeCore(false, 'Europe/Berlin');
    plugin(context({})).setup(core.setup);
    const element = document.createElement('div');
    document.body.appendChild(element);
    const unmount = await mount(core.apps[0], element);
    const row = await screen.findByTestId(`threatflowThreatRow-${IP}`);
    // threatRow's first seen, 2024-05-01T01:00:00Z, in Berlin's summer time.
    expect(row.textContent).toContain('May 1, 2024 @ 03:00:00.000 +02:00');
    act(() => unmount());
    element.remove();
  });

  test('unmount aborts what is still in flight', async () => {
    const core = fakeCore();
    const signals: AbortSignal[] = [];
    core.get.mockImplementation((_path, options) => {
      if (options.signal) signals.push(options.signal);
      return new Promise(() => undefined);
    });
    plugin(context({})).setup(core.setup);
    const element = document.createElement('div');
    const unmount = await mount(core.apps[0], element);
    await waitFor(() => expect(signals.length).toBe(2)); // threats and DB status
    act(() => unmount());
    expect(signals.every((s) => s.aborted)).toBe(true);
  });
});
