// SPDX-License-Identifier: Apache-2.0
import React from 'react';
import { EuiBadge, EuiBadgeGroup, EuiBasicTable, type EuiBasicTableColumn } from '@elastic/eui';
import type { FlowRow } from '../../common';
import { formatBytes, formatEndpoint, formatNumber, formatTime } from '../lib/format';

/** The newest flows of one IP as the route returned them (already newest first, already capped). */
/** address:port, broken only between the address and the port (never inside the port number). */
function endpoint(ip: string | null, port: number | null) {
  const text = formatEndpoint(ip, port);
  const cut = text.lastIndexOf(':');
  if (ip === null || port === null || cut <= 0) return text;
  return (
    <span>
      {text.slice(0, cut)}
      <wbr />
      <span style={{ whiteSpace: 'nowrap' }}>{text.slice(cut)}</span>
    </span>
  );
}

/** `timeZone`: the zone times are shown in (AppServices.timeZone); the browser's when absent. */
export function FlowsTable({ flows, timeZone }: { flows: FlowRow[]; timeZone?: string }) {
  // Widths keep the table inside the flyout: addresses get the room (an IPv6 address with a port is long),
  // tags wrap as a badge group instead of running off the edge.
  const columns: Array<EuiBasicTableColumn<FlowRow>> = [
    { field: 'timestamp', name: 'Time', width: '15%', render: (t: string) => formatTime(t, timeZone) },
    { name: 'Source', width: '19%', render: (f: FlowRow) => endpoint(f.sourceIp, f.sourcePort) },
    { name: 'Destination', width: '19%', render: (f: FlowRow) => endpoint(f.destinationIp, f.destinationPort) },
    { field: 'transport', name: 'Protocol', width: '7%', render: (t: string | null) => t ?? '-' },
    { field: 'direction', name: 'Direction', width: '9%', render: (d: string | null) => d ?? '-' },
    { field: 'bytes', name: 'Bytes', width: '8%', dataType: 'number', render: (n: number) => formatBytes(n) },
    { field: 'packets', name: 'Packets', width: '7%', dataType: 'number', render: (n: number) => formatNumber(n) },
    {
      field: 'tags',
      name: 'Tags',
      width: '16%',
      render: (tags: string[]) => (
        <EuiBadgeGroup gutterSize="xs">
          {tags.map((t) => <EuiBadge key={t} color="danger">{t}</EuiBadge>)}
        </EuiBadgeGroup>
      ),
    },
  ];
  return (
    <EuiBasicTable<FlowRow>
      data-test-subj="threatflowFlyoutFlows"
      tableCaption="Flows, newest first"
      items={flows}
      columns={columns}
      rowProps={(_row: FlowRow) => ({ 'data-test-subj': 'threatflowFlowRow' })}
      noItemsMessage="No flows in this time range"
    />
  );
}
