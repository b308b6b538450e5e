/**
 * @jest-environment jsdom
 * @jest-environment-options {"customExportConditions": ["node", "node-addons"]}
 */
// SPDX-License-Identifier: Apache-2.0
// (Node export conditions: under jsdom's default `browser` condition jest would load uuid's ESM build via EUI.)
import React from 'react';
import { fireEvent, render, screen, within } from '@testing-library/react';
import { EuiProvider } from '@elastic/eui';
import { ThreatsTable, type TableQuery } from '../../public/components/ThreatsTable';
import { localTime, setUpDom, threatRow } from './helpers';

setUpDom();

const ROWS = [threatRow('203.0.113.7'), threatRow('198.51.100.23', { internalHosts: 0, internalHostSample: [], tags: [], directions: {} })];

function renderTable(query: TableQuery, total = 95, timeZone?: string) {
  const onChange = jest.fn();
  const onOpen = jest.fn();
  render(
    <EuiProvider colorMode="light">
      <ThreatsTable rows={ROWS} total={total} query={query} isLoading={false} launchUrlTemplate="https://t.example/{{value}}" timeZone={timeZone} onChange={onChange} onOpen={onOpen} />
    </EuiProvider>,
  );
  return { onChange, onOpen, table: screen.getByTestId('threatflowThreatsTable') };
}

const Q: TableQuery = { page: 2, perPage: 20, sortField: 'flows', sortDirection: 'desc' };

describe('ThreatsTable', () => {
  test('rows carry their indicator; the sorted column shows its direction', () => {
    const { table } = renderTable(Q);
    expect(within(table).getByTestId('threatflowThreatRow-203.0.113.7')).toBeTruthy();
    expect(within(table).getByTestId('threatflowThreatRow-198.51.100.23').textContent).toContain('-');
    const sorted = table.querySelectorAll('th[aria-sort="descending"], th[aria-sort="ascending"]');
    expect(sorted).toHaveLength(1);
    expect(sorted[0].textContent).toContain('Flows');
    expect(sorted[0].getAttribute('aria-sort')).toBe('descending');
  });

  test('first and last seen are local times with their UTC offset', () => {
    const { table } = renderTable(Q);
    const row = within(table).getByTestId('threatflowThreatRow-203.0.113.7');
    const headers = [...table.querySelectorAll('thead th')].map((th) => th.textContent ?? '');
    const cells = [...row.querySelectorAll('td')].map((td) => td.textContent ?? '');
    const at = (name: string) => cells[headers.findIndex((h) => h.includes(name))];
    // EUI repeats the column name in each cell for its mobile layout; the cell ends with the value.
    expect(at('First seen').endsWith(localTime('2024-05-01T01:00:00.000Z'))).toBe(true);
    expect(at('Last seen').endsWith(localTime('2024-05-01T20:00:00.000Z'))).toBe(true);
  });

  test('with a time zone (dateFormat:tz), first and last seen are times there with its offset', () => {
    const { table } = renderTable(Q, 95, 'Asia/Kolkata');
    const row = within(table).getByTestId('threatflowThreatRow-203.0.113.7');
    const headers = [...table.querySelectorAll('thead th')].map((th) => th.textContent ?? '');
    const cells = [...row.querySelectorAll('td')].map((td) => td.textContent ?? '');
    const at = (name: string) => cells[headers.findIndex((h) => h.includes(name))];
    expect(at('First seen').endsWith('May 1, 2024 @ 06:30:00.000 +05:30')).toBe(true);
    expect(at('Last seen').endsWith('May 2, 2024 @ 01:30:00.000 +05:30')).toBe(true);
  });

  test('a new sort column asks for page 0 of that order', () => {
    const { onChange, table } = renderTable(Q);
    fireEvent.click(within(table).getByRole('button', { name: /Last seen/ }));
    expect(onChange).toHaveBeenCalledWith({ page: 0, perPage: 20, sortField: 'lastSeen', sortDirection: 'asc' });
  });

  test('clicking the sorted column flips its direction', () => {
    const { onChange, table } = renderTable(Q);
    fireEvent.click(within(table).getByRole('button', { name: /Flows/ }));
    expect(onChange).toHaveBeenCalledWith({ page: 0, perPage: 20, sortField: 'flows', sortDirection: 'asc' });
  });

  test('paging keeps the order', () => {
    const { onChange } = renderTable(Q);
    fireEvent.click(screen.getByTestId('pagination-button-next'));
    expect(onChange).toHaveBeenCalledWith({ page: 3, perPage: 20, sortField: 'flows', sortDirection: 'desc' });
    fireEvent.click(screen.getByTestId('pagination-button-previous'));
    expect(onChange).toHaveBeenLastCalledWith({ page: 1, perPage: 20, sortField: 'flows', sortDirection: 'desc' });
  });

  test('pages offered stop at what the route serves', () => {
    // 10,000 ranked indicators at most: 100 pages of 100, even if 50,000 matched.
    renderTable({ ...Q, perPage: 100, page: 99 }, 50_000);
    expect(screen.getByTestId('pagination-button-next').hasAttribute('disabled')).toBe(true);
  });

  test('indicators link to the launch URL; internal hosts in the sample open the host view, never a launch link', () => {
    const { table } = renderTable(Q);
    const row = within(table).getByTestId('threatflowThreatRow-203.0.113.7');
    expect(within(row).getByTestId('threatflowLaunchLink-203.0.113.7').getAttribute('href')).toBe('https://t.example/203.0.113.7');
    for (const host of ['10.0.0.5', '192.168.1.20']) {
      const opener = within(row).getByTestId(`threatflowOpenHost-${host}`);
      expect(opener.tagName).toBe('BUTTON');
      expect(opener.hasAttribute('href')).toBe(false);
      expect(within(table).queryByTestId(`threatflowLaunchLink-${host}`)).toBeNull();
      const hrefs = [...document.querySelectorAll('a[href]')].map((a) => a.getAttribute('href') ?? '');
      expect(hrefs.filter((h) => h.includes(host))).toEqual([]);
    }
  });

  test('the inspect button opens an indicator, a host link opens a host', () => {
    const { onOpen } = renderTable(Q);
    fireEvent.click(screen.getByTestId('threatflowOpenFlyout-203.0.113.7'));
    expect(onOpen).toHaveBeenLastCalledWith({ ip: '203.0.113.7', role: 'indicator' });
    fireEvent.click(screen.getByTestId('threatflowOpenHost-192.168.1.20'));
    expect(onOpen).toHaveBeenLastCalledWith({ ip: '192.168.1.20', role: 'host' });
  });
});
