// SPDX-License-Identifier: Apache-2.0
/**
 * One row per threat indicator. Sorting and paging happen on the server (the route ranks up to
 * MAX_INDICATORS indicators), so the table only reports what the analyst asked for through onChange.
 */
import React from 'react';
import {
  EuiBadge,
  EuiBasicTable,
  EuiButtonIcon,
  EuiFlexGroup,
  EuiFlexItem,
  EuiLink,
  EuiText,
  type Criteria,
  type EuiBasicTableColumn,
} from '@elastic/eui';
import {
  MAX_INDICATORS,
  MAX_PAGE,
  THREAT_SORT_FIELDS,
  type ThreatRow,
  type ThreatSortField,
  type ThreatsQuery,
} from '../../common';
import { formatBytes, formatNumber, formatTime } from '../lib/format';
import { LaunchLink } from './LaunchLink';
import type { FlyoutTarget } from './IpFlyout';

export type TableQuery = Pick<ThreatsQuery, 'page' | 'perPage' | 'sortField' | 'sortDirection'>;

/** Internal hosts named in a cell; the rest are counted ("+7 more") and listed in the flyout. */
const HOSTS_SHOWN = 3;
export const PAGE_SIZE_OPTIONS = [10, 20, 50, 100];

interface Props {
  rows: ThreatRow[];
  /** Indicators the table can page through (totals.indicators). */
  total: number;
  query: TableQuery;
  isLoading: boolean;
  launchUrlTemplate: string;
  /** The zone times are shown in (AppServices.timeZone); the browser's when absent. */
  timeZone?: string;
  onChange: (q: TableQuery) => void;
  onOpen: (target: FlyoutTarget) => void;
}

function isSortField(f: unknown): f is ThreatSortField {
  return (THREAT_SORT_FIELDS as readonly unknown[]).includes(f);
}

function IndicatorCell({ ip, template, onOpen }: { ip: string; template: string; onOpen: Props['onOpen'] }) {
  return (
    <EuiFlexGroup gutterSize="xs" alignItems="center" responsive={false}>
      <EuiFlexItem grow={false}>
        <LaunchLink ip={ip} template={template} />
      </EuiFlexItem>
      <EuiFlexItem grow={false}>
        <EuiButtonIcon
          iconType="inspect"
          aria-label={`Show the flows of ${ip}`}
          title="Flows and internal hosts"
          onClick={() => onOpen({ ip, role: 'indicator' })}
          data-test-subj={`threatflowOpenFlyout-${ip}`}
        />
      </EuiFlexItem>
    </EuiFlexGroup>
  );
}

function HostsCell({ row, onOpen }: { row: ThreatRow; onOpen: Props['onOpen'] }) {
  const shown = row.internalHostSample.slice(0, HOSTS_SHOWN);
  const more = row.internalHosts - shown.length;
  return (
    <EuiText size="s">
      <strong>{formatNumber(row.internalHosts)}</strong>
      {shown.map((host) => (
        <React.Fragment key={host}>
          {' '}
          <EuiLink onClick={() => onOpen({ ip: host, role: 'host' })} data-test-subj={`threatflowOpenHost-${host}`}>
            {host}
          </EuiLink>
        </React.Fragment>
      ))}
      {more > 0 && shown.length > 0 ? <span> +{formatNumber(more)} more</span> : null}
    </EuiText>
  );
}

function DirectionsCell({ directions }: { directions: Record<string, number> }) {
  const entries = Object.entries(directions).sort((a, b) => b[1] - a[1]);
  if (entries.length === 0) return <>-</>;
  return (
    <EuiText size="xs">
      {entries.map(([dir, n]) => (
        <div key={dir}>
          {dir} {formatNumber(n)}
        </div>
      ))}
    </EuiText>
  );
}

export function ThreatsTable({ rows, total, query, isLoading, launchUrlTemplate, timeZone, onChange, onOpen }: Props) {
  const columns: Array<EuiBasicTableColumn<ThreatRow>> = [
    {
      field: 'indicator',
      name: 'Indicator',
      sortable: true,
      render: (ip: string) => <IndicatorCell ip={ip} template={launchUrlTemplate} onOpen={onOpen} />,
    },
    {
      field: 'tags',
      name: 'Tags',
      render: (tags: string[]) =>
        tags.length === 0 ? '-' : tags.map((t) => <EuiBadge key={t} color="danger">{t}</EuiBadge>),
    },
    { field: 'flows', name: 'Flows', sortable: true, dataType: 'number', render: (n: number) => formatNumber(n) },
    { field: 'bytes', name: 'Bytes', sortable: true, dataType: 'number', render: (n: number) => formatBytes(n) },
    { field: 'firstSeen', name: 'First seen', sortable: true, render: (t: string) => formatTime(t, timeZone) },
    { field: 'lastSeen', name: 'Last seen', sortable: true, render: (t: string) => formatTime(t, timeZone) },
    {
      field: 'internalHosts',
      name: 'Internal hosts',
      sortable: true,
      render: (_n: number, row: ThreatRow) => <HostsCell row={row} onOpen={onOpen} />,
    },
    { field: 'directions', name: 'Directions', render: (d: Record<string, number>) => <DirectionsCell directions={d} /> },
  ];

  // The route ranks at most MAX_INDICATORS indicators and serves pages up to MAX_PAGE; never offer a page
  // it would refuse.
  const pageable = Math.min(total, MAX_INDICATORS, (MAX_PAGE + 1) * query.perPage);

  const handleChange = ({ page, sort }: Criteria<ThreatRow>) => {
    const sortField = sort && isSortField(sort.field) ? sort.field : query.sortField;
    const sortDirection = sort ? sort.direction : query.sortDirection;
    const sortChanged = sortField !== query.sortField || sortDirection !== query.sortDirection;
    const perPage = page ? page.size : query.perPage;
    // A new order or page size makes the old page number meaningless: start again from the top.
    const pageIndex = sortChanged || perPage !== query.perPage ? 0 : page ? page.index : query.page;
    onChange({ page: pageIndex, perPage, sortField, sortDirection });
  };

  return (
    <EuiBasicTable<ThreatRow>
      data-test-subj="threatflowThreatsTable"
      tableCaption="Threat indicators seen in the time range"
      items={rows}
      itemId="indicator"
      columns={columns}
      loading={isLoading}
      rowProps={(row: ThreatRow) => ({ 'data-test-subj': `threatflowThreatRow-${row.indicator}` })}
      pagination={{ pageIndex: query.page, pageSize: query.perPage, totalItemCount: pageable, pageSizeOptions: PAGE_SIZE_OPTIONS }}
      sorting={{ sort: { field: query.sortField, direction: query.sortDirection } }}
      onChange={handleChange}
    />
  );
}
