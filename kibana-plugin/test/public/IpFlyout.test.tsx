/**
 * @jest-environment jsdom
 * @jest-environment-options {"customExportConditions": ["node", "node-addons"]}
 */
// SPDX-License-Identifier: Apache-2.0
// (Node export conditions: under jsdom's default `browser` condition jest would load uuid's ESM build via EUI.)
import React from 'react';
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { EuiProvider } from '@elastic/eui';
import { ThreatsApp } from '../../public/components/ThreatsApp';
import type { FlowsQuery, FlowsResponse } from '../../common';
import { FakeApi, deferred, flowsResponse, httpError, localTime, servicesWith, setUpDom, threatRow, threatsResponse } from './helpers';

setUpDom();

const TEMPLATE = 'https://community.riskiq.com/research?query={{value}}';
const INDICATOR = '2606:4700::1111';
const HOSTS = ['10.0.0.5', '192.168.1.20'];

/** Indicators answer with their internal hosts, hosts with the indicator. */
function flowsFor(q: FlowsQuery) {
  return flowsResponse(q.ip, q.role, q.role === 'indicator' ? HOSTS : [INDICATOR]);
}

function renderWith(api: FakeApi, timeZone?: string) {
  return render(
    <EuiProvider colorMode="light">
      <ThreatsApp services={{ ...servicesWith(api, TEMPLATE), timeZone }} />
    </EuiProvider>,
  );
}

async function openIndicator(api: FakeApi, timeZone?: string) {
  renderWith(api, timeZone);
  fireEvent.click(await screen.findByTestId(`threatflowOpenFlyout-${INDICATOR}`));
  const flyout = await screen.findByTestId('threatflowFlyout');
  await within(flyout).findByTestId('threatflowFlyoutFlows');
  return flyout;
}

/** The hrefs of every anchor on the page that carry `ip`, as typed or URL-encoded. */
function hrefsWith(ip: string): string[] {
  return [...document.querySelectorAll('a[href]')]
    .map((a) => a.getAttribute('href') ?? '')
    .filter((href) => href.includes(ip) || href.includes(encodeURIComponent(ip)));
}

/** An internal host's address appears in no link but the app's own Kibana links (Discover, dashboard). */
function expectNoExternalLinkFor(ip: string, kibanaLinks: string[] = []) {
  expect(hrefsWith(ip).sort()).toEqual([...kibanaLinks].sort());
  for (const href of kibanaLinks) expect(href.startsWith('/kbn/')).toBe(true);
}

describe('IP flyout', () => {
  test("with a time zone (dateFormat:tz), the flows' times are times there with its offset", async () => {
    const api = new FakeApi(async () => threatsResponse([threatRow(INDICATOR)]), async (q) => flowsFor(q));
    const flyout = await openIndicator(api, 'America/St_Johns');
    const flows = within(flyout).getByTestId('threatflowFlyoutFlows');
    const times = within(flows).getAllByTestId('threatflowFlowRow').map((r) => r.querySelector('td')?.textContent ?? '');
    // 2024-05-01T00:00Z, 01:00Z, 02:00Z in Newfoundland daylight time (-02:30): the evening before.
    ['Apr 30, 2024 @ 21:30:00.000 -02:30', 'Apr 30, 2024 @ 22:30:00.000 -02:30', 'Apr 30, 2024 @ 23:30:00.000 -02:30'].forEach((t, i) =>
      expect(times[i].endsWith(t)).toBe(true),
    );
  });

  test('an indicator: its flows, its internal hosts (no launch links), and links to PassiveTotal, Discover and the dashboard', async () => {
    const api = new FakeApi(async () => threatsResponse([threatRow(INDICATOR)]), async (q) => flowsFor(q));
    const flyout = await openIndicator(api);

    // Asked for this indicator's flows in the app's range.
    const range = { from: api.threatsCalls[0].q.from, to: api.threatsCalls[0].q.to };
    expect(api.flowsCalls).toHaveLength(1);
    expect(api.flowsCalls[0].q).toEqual({ ...range, ip: INDICATOR, role: 'indicator', size: 100 });

    expect(within(flyout).getByTestId('threatflowFlyoutTitle').textContent).toBe(INDICATOR);
    expect(within(flyout).getByText('Threat indicator')).toBeTruthy();
    const flows = within(flyout).getByTestId('threatflowFlyoutFlows');
    expect(within(flows).getAllByTestId('threatflowFlowRow')).toHaveLength(3);
    expect(flows.textContent).toContain(`[${INDICATOR}]:40000`);
    expect(flows.textContent).toContain('10.0.0.5:443');
    // In the order the route sent them, each in local time with its UTC offset.
    const times = within(flows).getAllByTestId('threatflowFlowRow').map((r) => r.querySelector('td')?.textContent ?? '');
    ['2024-05-01T00:00:00.000Z', '2024-05-01T01:00:00.000Z', '2024-05-01T02:00:00.000Z'].forEach((t, i) => expect(times[i].endsWith(localTime(t))).toBe(true));
    expect(within(flyout).getByTestId('threatflowFlyoutStats').textContent).toContain('2.9 KB');

    // Internal hosts are plain text (with the button that opens their host view): a private address is
    // never sent to PassiveTotal, neither from the counterparts nor from the flows table.
    for (const host of HOSTS) {
      const row = within(flyout).getByTestId(`threatflowCounterpart-${host}`);
      expect(within(row).queryByTestId(`threatflowLaunchLink-${host}`)).toBeNull();
      expect(within(row).getByTestId(`threatflowPlainIp-${host}`).textContent).toBe(host);
      expect(within(row).getByTestId(`threatflowOpenCounterpart-${host}`).tagName).toBe('BUTTON');
      expect(row.querySelector('a')).toBeNull();
      expectNoExternalLinkFor(host);
    }
    expect(within(flyout).getByText('Open in PassiveTotal').closest('a')?.getAttribute('href')).toBe(
      'https://community.riskiq.com/research?query=2606%3A4700%3A%3A1111',
    );
    expect(within(flyout).queryByTestId('threatflowNoLaunch')).toBeNull();
    // The counterparts were not capped: the count is exact and there is no note.
    expect(within(flyout).getByTestId('threatflowFlyoutCounterpartCount').textContent).toContain(`${HOSTS.length}Internal hosts`);
    expect(within(flyout).queryByTestId('threatflowCounterpartsTruncated')).toBeNull();

    // The test's links service spells out what it was given: the IP and the app's range.
    expect(within(flyout).getByTestId('threatflowDiscoverLink').getAttribute('href')).toBe(`/kbn/discover?ip=${INDICATOR}&from=${range.from}&to=${range.to}`);
    expect(within(flyout).getByTestId('threatflowDashboardLink').getAttribute('href')).toBe(`/kbn/dashboard?ip=${INDICATOR}&from=${range.from}&to=${range.to}`);
  });

  test('a counterpart opens as a host (role host), and Back returns to the indicator', async () => {
    const api = new FakeApi(async () => threatsResponse([threatRow(INDICATOR)]), async (q) => flowsFor(q));
    const flyout = await openIndicator(api);

    fireEvent.click(within(flyout).getByTestId('threatflowOpenCounterpart-10.0.0.5'));
    await waitFor(() => expect(screen.getByTestId('threatflowFlyoutTitle').textContent).toBe('10.0.0.5'));
    expect(api.flowsCalls[1].q).toMatchObject({ ip: '10.0.0.5', role: 'host' });
    const hostView = screen.getByTestId('threatflowFlyout');
    expect(within(hostView).getByText('Internal host')).toBeTruthy();
    // A host's counterparts are the indicators it talked to, with their launch links.
    const back = await within(hostView).findByTestId(`threatflowCounterpart-${INDICATOR}`);
    expect(within(back).getByTestId(`threatflowLaunchLink-${INDICATOR}`).getAttribute('href')).toBe(
      'https://community.riskiq.com/research?query=2606%3A4700%3A%3A1111',
    );
    expect(within(hostView).getByTestId('threatflowDiscoverLink').getAttribute('href')).toContain('ip=10.0.0.5&');

    fireEvent.click(within(hostView).getByTestId('threatflowFlyoutBack'));
    await waitFor(() => expect(screen.getByTestId('threatflowFlyoutTitle').textContent).toBe(INDICATOR));
    expect(api.flowsCalls[2].q).toMatchObject({ ip: INDICATOR, role: 'indicator' });
  });

  test('an internal host in the table opens the flyout with role host; closing removes it', async () => {
    const api = new FakeApi(async () => threatsResponse([threatRow(INDICATOR)]), async (q) => flowsFor(q));
    renderWith(api);
    fireEvent.click(await screen.findByTestId('threatflowOpenHost-192.168.1.20'));
    const flyout = await screen.findByTestId('threatflowFlyout');
    await within(flyout).findByTestId('threatflowFlyoutFlows');
    expect(api.flowsCalls[0].q).toMatchObject({ ip: '192.168.1.20', role: 'host' });
    expect(within(flyout).queryByTestId('threatflowFlyoutBack')).toBeNull();
    expect(within(flyout).queryByText('Open in PassiveTotal')).toBeNull();

    fireEvent.click(within(flyout).getByTestId('euiFlyoutCloseButton'));
    await waitFor(() => expect(screen.queryByTestId('threatflowFlyout')).toBeNull());
  });

  test('a host flyout has no PassiveTotal link for the host, before or after its flows load; its indicators keep theirs', async () => {
    const HOST = '192.168.1.20';
    const pending = deferred<FlowsResponse>();
    const api = new FakeApi(
      async () => threatsResponse([threatRow(INDICATOR)]),
      // The host talked to the indicator and to an address the server gave no launch URL.
      async (q) => (q.role === 'host' ? pending.promise : flowsFor(q)),
    );
    renderWith(api);
    fireEvent.click(await screen.findByTestId(`threatflowOpenHost-${HOST}`));
    const flyout = await screen.findByTestId('threatflowFlyout');

    // While loading: already no launch link for the host.
    expect(within(flyout).getByTestId('threatflowFlyoutLoading')).toBeTruthy();
    expect(within(flyout).queryByText('Open in PassiveTotal')).toBeNull();
    expect(within(flyout).getByTestId('threatflowNoLaunch').textContent).toMatch(/not looked up in PassiveTotal/);

    const res = flowsResponse(HOST, 'host', [INDICATOR, '198.51.100.9']);
    res.counterparts[1].launchUrl = null;
    await act(async () => pending.resolve(res));
    await within(flyout).findByTestId('threatflowFlyoutFlows');

    expect(within(flyout).queryByText('Open in PassiveTotal')).toBeNull();
    expect(within(flyout).getByTestId('threatflowNoLaunch')).toBeTruthy();
    const range = { from: api.threatsCalls[0].q.from, to: api.threatsCalls[0].q.to };
    // The host's address is only in the app's own Kibana links, never in one to PassiveTotal.
    expectNoExternalLinkFor(HOST, [`/kbn/discover?ip=${HOST}&from=${range.from}&to=${range.to}`, `/kbn/dashboard?ip=${HOST}&from=${range.from}&to=${range.to}`]);
    expect(document.querySelectorAll('a[href^="https://community.riskiq.com/"]')).toHaveLength(
      // The indicator's row in the threats table behind the flyout, and its counterpart row here.
      2,
    );

    // The indicator it talked to: the exact launch href. The address without a launch URL: plain text.
    const indicatorRow = within(flyout).getByTestId(`threatflowCounterpart-${INDICATOR}`);
    expect(within(indicatorRow).getByTestId(`threatflowLaunchLink-${INDICATOR}`).getAttribute('href')).toBe(
      'https://community.riskiq.com/research?query=2606%3A4700%3A%3A1111',
    );
    const noUrlRow = within(flyout).getByTestId('threatflowCounterpart-198.51.100.9');
    expect(noUrlRow.querySelector('a')).toBeNull();
    expect(within(noUrlRow).getByTestId('threatflowPlainIp-198.51.100.9')).toBeTruthy();
    expectNoExternalLinkFor('198.51.100.9');
  });

  test('a capped counterpart list: the count says "100+" and a note says only the busiest are listed', async () => {
    const many = Array.from({ length: 100 }, (_, i) => `10.1.${Math.floor(i / 250)}.${(i % 250) + 1}`);
    const api = new FakeApi(
      async () => threatsResponse([threatRow(INDICATOR)]),
      async (q) => flowsResponse(q.ip, q.role, many, { counterpartsTruncated: true }),
    );
    const flyout = await openIndicator(api);
    const count = within(flyout).getByTestId('threatflowFlyoutCounterpartCount');
    expect(count.textContent).toContain('100+');
    expect(count.textContent).toContain('Internal hosts');
    expect(within(flyout).getByTestId('threatflowCounterpartsTruncated').textContent).toBe(
      'More than 100: only the 100 with the most flows are listed.',
    );
    expect(within(flyout).getAllByTestId(/^threatflowCounterpart-/)).toHaveLength(100);
  });

  test("a failed flows request shows the server's message in the flyout; Retry asks again", async () => {
    let fail = true;
    const api = new FakeApi(
      async () => threatsResponse([threatRow(INDICATOR)]),
      async (q) => {
        if (fail) throw httpError(400, '"x" is not an IPv4 or IPv6 address');
        return flowsFor(q);
      },
    );
    renderWith(api);
    fireEvent.click(await screen.findByTestId(`threatflowOpenFlyout-${INDICATOR}`));
    const flyout = await screen.findByTestId('threatflowFlyout');
    const err = await within(flyout).findByTestId('threatflowErrorState');
    expect(err.textContent).toContain('"x" is not an IPv4 or IPv6 address');
    fail = false;
    fireEvent.click(within(flyout).getByTestId('threatflowRetry'));
    expect(await within(flyout).findByTestId('threatflowFlyoutFlows')).toBeTruthy();
    expect(api.flowsCalls).toHaveLength(2);
  });
});
