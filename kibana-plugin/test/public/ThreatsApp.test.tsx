/**
 * @jest-environment jsdom
 * @jest-environment-options {"customExportConditions": ["node", "node-addons"]}
 */
// SPDX-License-Identifier: Apache-2.0
// (Node export conditions: under jsdom's default `browser` condition jest would load uuid's ESM build via EUI.)
import React from 'react';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { EuiProvider } from '@elastic/eui';
import { ThreatsApp } from '../../public/components/ThreatsApp';
import type { ThreatsResponse } from '../../common';
import {
  DB_ABSENT,
  DB_PRESENT,
  FakeApi,
  deferred,
  httpError,
  servicesWith,
  setUpDom,
  threatRow,
  threatsResponse,
} from './helpers';

setUpDom();

const DEFAULT_TEMPLATE = 'https://community.riskiq.com/research?query={{value}}';

function renderApp(api: FakeApi, template = DEFAULT_TEMPLATE) {
  return render(
    <EuiProvider colorMode="light">
      <ThreatsApp services={servicesWith(api, template)} />
    </EuiProvider>,
  );
}

const ROWS = [threatRow('203.0.113.7'), threatRow('2606:4700::1111', { tags: ['c2'], internalHosts: 5 }), threatRow('198.51.100.23')];

describe('threats table', () => {
  test('one row per indicator, with stats and the DB status line', async () => {
    const api = new FakeApi(async () => threatsResponse(ROWS));
    renderApp(api);
    for (const r of ROWS) expect(await screen.findByTestId(`threatflowThreatRow-${r.indicator}`)).toBeTruthy();
    const table = screen.getByTestId('threatflowThreatsTable');
    expect(within(table).getAllByRole('row')).toHaveLength(1 + ROWS.length);

    const row = screen.getByTestId('threatflowThreatRow-2606:4700::1111');
    expect(within(row).getByText('c2')).toBeTruthy();
    expect(row.textContent).toContain('33.8 KB'); // 34,567 bytes
    expect(row.textContent).toContain('inbound 8');
    // Five hosts, two named, "+3 more" to the flyout.
    expect(within(row).getByTestId('threatflowOpenHost-10.0.0.5')).toBeTruthy();
    expect(row.textContent).toContain('+3 more');

    const stats = screen.getByTestId('threatflowStats');
    expect(within(stats).getByTestId('threatflowStat-indicators').textContent).toContain('3');
    expect(within(stats).getByTestId('threatflowStat-threatFlows').textContent).toContain('36 of 1,000');
    await waitFor(() => expect(screen.getByTestId('threatflowDbStatus').textContent).toContain('4,321 indicators from RiskIQ PassiveTotal, fetched 3 hours ago'));
    expect(screen.getByTestId('threatflowDatePicker')).toBeTruthy();
  });

  test('the first request asks for the last 24 hours, first page, most flows first', async () => {
    const api = new FakeApi(async () => threatsResponse(ROWS));
    const before = Date.now();
    renderApp(api);
    await screen.findByTestId('threatflowThreatRow-203.0.113.7');
    const { q, signal } = api.threatsCalls[0];
    expect({ ...q, from: undefined, to: undefined }).toEqual({ from: undefined, to: undefined, page: 0, perPage: 20, sortField: 'flows', sortDirection: 'desc' });
    expect(Date.parse(q.to) - Date.parse(q.from)).toBe(24 * 3600 * 1000);
    expect(Date.parse(q.to)).toBeGreaterThanOrEqual(before);
    expect(signal).toBeInstanceOf(AbortSignal);
  });

  test('an initialRange from the services replaces the default last 24 hours', async () => {
    const api = new FakeApi(async () => threatsResponse(ROWS));
    render(
      <EuiProvider colorMode="light">
        <ThreatsApp services={{ ...servicesWith(api, DEFAULT_TEMPLATE), initialRange: { from: '2024-05-01T00:00:00Z', to: '2024-05-01T06:30:00Z' } }} />
      </EuiProvider>,
    );
    await screen.findByTestId('threatflowThreatRow-203.0.113.7');
    expect(api.threatsCalls[0].q).toMatchObject({ from: '2024-05-01T00:00:00.000Z', to: '2024-05-01T06:30:00.000Z' });
  });

  test('launch links: href is exactly the default template expanded for each IP, opened in a new tab', async () => {
    const api = new FakeApi(async () => threatsResponse(ROWS));
    renderApp(api);
    const link = await screen.findByTestId('threatflowLaunchLink-2606:4700::1111');
    // Written out by hand: the address URL-encoded into the query.
    expect(link.getAttribute('href')).toBe('https://community.riskiq.com/research?query=2606%3A4700%3A%3A1111');
    expect(screen.getByTestId('threatflowLaunchLink-203.0.113.7').getAttribute('href')).toBe(
      'https://community.riskiq.com/research?query=203.0.113.7',
    );
    for (const r of ROWS) {
      const a = screen.getByTestId(`threatflowLaunchLink-${r.indicator}`);
      expect(a.getAttribute('target')).toBe('_blank');
      expect(a.getAttribute('rel')).toBe('noopener noreferrer');
      expect(a.getAttribute('href')).not.toBe(r.launchUrl);
    }
  });

  test('launch links follow a custom template (every {{value}} replaced)', async () => {
    const api = new FakeApi(async () => threatsResponse(ROWS));
    renderApp(api, 'https://ti.example.com/ip/{{value}}/summary?q={{value}}&src=threatflow');
    const link = await screen.findByTestId('threatflowLaunchLink-198.51.100.23');
    expect(link.getAttribute('href')).toBe('https://ti.example.com/ip/198.51.100.23/summary?q=198.51.100.23&src=threatflow');
    expect(screen.getByTestId('threatflowLaunchLink-2606:4700::1111').getAttribute('href')).toBe(
      'https://ti.example.com/ip/2606%3A4700%3A%3A1111/summary?q=2606%3A4700%3A%3A1111&src=threatflow',
    );
  });

  test('sorting and paging re-query the server, and the superseded request is aborted', async () => {
    const many = (q: { page: number }): ThreatsResponse =>
      threatsResponse([threatRow(`203.0.113.${q.page + 1}`)], { totals: { indicators: 45, threatFlows: 500, allFlows: 9000, bytes: 1, internalHosts: 3 } });
    const pending = deferred<ThreatsResponse>();
    let n = 0;
    const api = new FakeApi(async (q) => (++n === 3 ? pending.promise : many(q)));
    renderApp(api);
    const table = await screen.findByTestId('threatflowThreatsTable');
    await screen.findByTestId('threatflowThreatRow-203.0.113.1');

    // Header click: sort on bytes (EUI starts a newly sorted column ascending), back to page 0.
    fireEvent.click(within(table).getByRole('button', { name: /Bytes/ }));
    await waitFor(() => expect(api.threatsCalls).toHaveLength(2));
    expect(api.threatsCalls[1].q).toMatchObject({ sortField: 'bytes', sortDirection: 'asc', page: 0, perPage: 20 });
    await waitFor(() => expect(api.threatsCalls[1].q.sortField).toBe('bytes'));

    // Next page: same sort, page 1. This request is held in flight...
    fireEvent.click(await screen.findByTestId('pagination-button-next'));
    await waitFor(() => expect(api.threatsCalls).toHaveLength(3));
    expect(api.threatsCalls[2].q).toMatchObject({ sortField: 'bytes', sortDirection: 'asc', page: 1 });

    // ...and superseded by the last page, so its signal is aborted.
    fireEvent.click(screen.getByTestId('pagination-button-2'));
    await waitFor(() => expect(api.threatsCalls).toHaveLength(4));
    expect(api.threatsCalls[3].q).toMatchObject({ page: 2 });
    expect(api.threatsCalls[2].signal?.aborted).toBe(true);
    expect(api.threatsCalls[3].signal?.aborted).toBe(false);
    pending.resolve(many({ page: 1 }));
    expect(await screen.findByTestId('threatflowThreatRow-203.0.113.3')).toBeTruthy();
    expect(screen.queryByTestId('threatflowThreatRow-203.0.113.2')).toBeNull();
  });

  test('unmounting aborts requests still in flight', async () => {
    const pending = deferred<ThreatsResponse>();
    const api = new FakeApi(() => pending.promise);
    const { unmount } = renderApp(api);
    await waitFor(() => expect(api.threatsCalls).toHaveLength(1));
    unmount();
    expect(api.threatsCalls[0].signal?.aborted).toBe(true);
    expect(api.dbCalls[0].signal?.aborted).toBe(true);
  });
});

describe('empty states', () => {
  test('no threat flows in the range: says so, suggests widening, and the button asks for 7 days', async () => {
    const api = new FakeApi(async () => threatsResponse([]));
    renderApp(api);
    const empty = await screen.findByTestId('threatflowEmptyState');
    expect(empty.textContent).toContain('No threat flows in this time range');
    expect(empty.textContent).toContain('1,000 flows were recorded');
    expect(empty.textContent).toContain('Widen the time range');
    expect(screen.queryByTestId('threatflowThreatsTable')).toBeNull();

    fireEvent.click(within(empty).getByTestId('threatflowWidenRange'));
    await waitFor(() => expect(api.threatsCalls).toHaveLength(2));
    const { from, to } = api.threatsCalls[1].q;
    expect(Date.parse(to) - Date.parse(from)).toBe(7 * 86_400_000);
  });

  test('no flows at all: points at the collector and its output', async () => {
    const api = new FakeApi(async () => threatsResponse([], { totals: { indicators: 0, threatFlows: 0, allFlows: 0, bytes: 0, internalHosts: 0 } }));
    renderApp(api);
    const empty = await screen.findByTestId('threatflowEmptyState');
    expect(empty.textContent).toContain('No flows at all were recorded in this range');
    expect(empty.textContent).toContain('logs-threatflow.flows-*');
  });

  test('no indicator DB: says how to enable the enrichment, with credentials, then threatflow setup', async () => {
    const api = new FakeApi(async () => threatsResponse([]), undefined, async () => DB_ABSENT);
    renderApp(api);
    await waitFor(() => expect(screen.getByTestId('threatflowEmptyState').getAttribute('data-empty-kind')).toBe('noIndicatorDb'));
    const text = screen.getByTestId('threatflowEmptyState').textContent ?? '';
    expect(text).toContain('Threat enrichment is not configured');
    expect(text).toContain('EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_THREAT_ENABLE=true');
    expect(text).toContain('EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_API_USER');
    expect(text).toContain('EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_API_KEY');
    expect(text).toContain('threatflow setup');
    expect(screen.getByTestId('threatflowDbStatus').textContent).toContain('No indicator DB');
  });

  test('an absent DB next to older threat flows keeps the table and warns', async () => {
    const api = new FakeApi(async () => threatsResponse(ROWS), undefined, async () => DB_ABSENT);
    renderApp(api);
    await screen.findByTestId('threatflowThreatRow-203.0.113.7');
    await waitFor(() => expect(screen.getByTestId('threatflowDbStatus').textContent).toContain('No indicator DB'));
    expect(screen.queryByTestId('threatflowEmptyState')).toBeNull();
  });

  test('a stale DB is flagged', async () => {
    const api = new FakeApi(async () => threatsResponse(ROWS), undefined, async () => ({ ...DB_PRESENT, ageSeconds: 5 * 86_400 }));
    renderApp(api);
    await waitFor(() => expect(screen.getByTestId('threatflowDbStatus').textContent).toContain('fetched 5 days ago'));
    expect(screen.getByTestId('threatflowDbStatus').textContent).toContain('RiskIQ Threats: failed');
  });
});

describe('error state', () => {
  test("shows the server's message; Retry asks again and recovers", async () => {
    let fail = true;
    const api = new FakeApi(async () => {
      if (fail) throw httpError(400, 'time range longer than 400 days');
      return threatsResponse(ROWS);
    });
    renderApp(api);
    const err = await screen.findByTestId('threatflowErrorState');
    expect(err.textContent).toContain('Could not load threats');
    expect(err.textContent).toContain('time range longer than 400 days');
    expect(err.textContent).not.toContain('Bad Request');

    fail = false;
    fireEvent.click(screen.getByTestId('threatflowRetry'));
    expect(await screen.findByTestId('threatflowThreatRow-203.0.113.7')).toBeTruthy();
    expect(api.threatsCalls).toHaveLength(2);
    expect(api.threatsCalls[1].q).toEqual(api.threatsCalls[0].q);
    expect(screen.queryByTestId('threatflowErrorState')).toBeNull();
  });

  test('a failing DB status does not hide the threats', async () => {
    const api = new FakeApi(async () => threatsResponse(ROWS), undefined, async () => {
      throw httpError(500, 'no_shard_available_action_exception');
    });
    renderApp(api);
    await screen.findByTestId('threatflowThreatRow-203.0.113.7');
    await waitFor(() => expect(screen.getByTestId('threatflowDbStatus').textContent).toContain('Indicator DB status unavailable: no_shard_available_action_exception'));
  });
});
