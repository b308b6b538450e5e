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

/**
 * Whether a counterpart may become a PassiveTotal link: only an indicator the server gave a launch URL. An
 * internal host never does (the server sends `launchUrl: null` for a private address, and a host is
 * internal by definition): a click must never send a private address to a third party.
 */
export function isLaunchable(c: Pick<Counterpart, 'launchUrl'>, role: FlowRole): boolean {
  return role === 'indicator' && c.launchUrl !== null;
}

/** The other side of the flows: indicators with their launch link, hosts as plain text; each can be pivoted onto. */
export function Counterparts({ counterparts, role, launchUrlTemplate, onOpen }: Props) {
  const columns: Array<EuiBasicTableColumn<Counterpart>> = [
    {
      field: 'ip',
      name: role === 'host' ? 'Internal host' : 'Indicator',
      render: (ip: string, c: Counterpart) =>
        isLaunchable(c, role) ? (
          <LaunchLink ip={ip} template={launchUrlTemplate} />
        ) : (
          <span data-test-subj={`threatflowPlainIp-${ip}`}>{ip}</span>
        ),
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
