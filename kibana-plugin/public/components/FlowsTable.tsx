// SPDX-License-Identifier: Apache-2.0
import React from 'react';
import { EuiBadge, EuiBasicTable, type EuiBasicTableColumn } from '@elastic/eui';
import type { FlowRow } from '../../common';
import { formatBytes, formatEndpoint, formatNumber, formatTime } from '../lib/format';

/** The newest flows of one IP as the route returned them (already newest first, already capped). */
export function FlowsTable({ flows }: { flows: FlowRow[] }) {
  const columns: Array<EuiBasicTableColumn<FlowRow>> = [
    { field: 'timestamp', name: 'Time', render: (t: string) => formatTime(t) },
    { name: 'Source', render: (f: FlowRow) => formatEndpoint(f.sourceIp, f.sourcePort) },
    { name: 'Destination', render: (f: FlowRow) => formatEndpoint(f.destinationIp, f.destinationPort) },
    { field: 'transport', name: 'Protocol', render: (t: string | null) => t ?? '-' },
    { field: 'direction', name: 'Direction', render: (d: string | null) => d ?? '-' },
    { field: 'bytes', name: 'Bytes', dataType: 'number', render: (n: number) => formatBytes(n) },
    { field: 'packets', name: 'Packets', dataType: 'number', render: (n: number) => formatNumber(n) },
    { field: 'tags', name: 'Tags', render: (tags: string[]) => tags.map((t) => <EuiBadge key={t} color="danger">{t}</EuiBadge>) },
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
