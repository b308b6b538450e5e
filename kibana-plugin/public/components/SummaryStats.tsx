// SPDX-License-Identifier: Apache-2.0
import React from 'react';
import { EuiFlexGroup, EuiFlexItem, EuiStat } from '@elastic/eui';
import type { ThreatsResponse } from '../../common';
import { formatBytes, formatNumber } from '../lib/format';

interface Props {
  totals: ThreatsResponse['totals'] | undefined;
  isLoading: boolean;
}

/** The range at a glance; threat flows next to all flows, because a count alone says nothing of scale. */
export function SummaryStats({ totals, isLoading }: Props) {
  const stat = (key: string, title: string, description: string) => (
    <EuiFlexItem key={key}>
      <EuiStat title={title} description={description} titleSize="m" isLoading={isLoading && !totals} data-test-subj={`threatflowStat-${key}`} />
    </EuiFlexItem>
  );
  const t = totals;
  return (
    <EuiFlexGroup data-test-subj="threatflowStats" responsive={false} wrap>
      {stat('indicators', t ? formatNumber(t.indicators) : '-', 'Threat indicators')}
      {stat('threatFlows', t ? `${formatNumber(t.threatFlows)} of ${formatNumber(t.allFlows)}` : '-', 'Threat flows of all flows')}
      {stat('bytes', t ? formatBytes(t.bytes) : '-', 'Threat bytes')}
      {stat('internalHosts', t ? formatNumber(t.internalHosts) : '-', 'Internal hosts involved')}
    </EuiFlexGroup>
  );
}
