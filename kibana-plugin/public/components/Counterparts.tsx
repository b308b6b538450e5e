// SPDX-License-Identifier: Apache-2.0
import React from 'react';
import { EuiBasicTable, EuiButtonIcon, type EuiBasicTableColumn } from '@elastic/eui';
import type { Counterpart, FlowRole } from '../../common';
import { formatBytes, formatNumber } from '../lib/format';
import { LaunchLink } from './LaunchLink';

interface Props {
  counterparts: Counterpart[];
  /** The role the counterparts play: internal hosts of an indicator are `host`, and the reverse. */
  role: FlowRole;
  launchUrlTemplate: string;
  onOpen: (ip: string) => void;
}

/** The other side of the flows, each with its own launch link and a way to pivot the flyout onto it. */
export function Counterparts({ counterparts, role, launchUrlTemplate, onOpen }: Props) {
  const columns: Array<EuiBasicTableColumn<Counterpart>> = [
    {
      field: 'ip',
      name: role === 'host' ? 'Internal host' : 'Indicator',
      render: (ip: string) => <LaunchLink ip={ip} template={launchUrlTemplate} />,
    },
    { field: 'flows', name: 'Flows', dataType: 'number', render: (n: number) => formatNumber(n) },
    { field: 'bytes', name: 'Bytes', dataType: 'number', render: (n: number) => formatBytes(n) },
    {
      name: 'Flows of',
      width: '80px',
      render: (c: Counterpart) => (
        <EuiButtonIcon
          iconType="inspect"
          aria-label={`Show the flows of ${c.ip}`}
          onClick={() => onOpen(c.ip)}
          data-test-subj={`threatflowOpenCounterpart-${c.ip}`}
        />
      ),
    },
  ];
  return (
    <EuiBasicTable<Counterpart>
      data-test-subj="threatflowCounterparts"
      tableCaption={role === 'host' ? 'Internal hosts involved' : 'Threat indicators contacted'}
      items={counterparts}
      itemId="ip"
      columns={columns}
      rowProps={(c: Counterpart) => ({ 'data-test-subj': `threatflowCounterpart-${c.ip}` })}
      noItemsMessage="None in this time range"
    />
  );
}
