// SPDX-License-Identifier: Apache-2.0
import React from 'react';
import { EuiCallOut, EuiText } from '@elastic/eui';
import type { DbStatusResponse } from '../../common';
import { formatAge, formatNumber } from '../lib/format';
import type { LoadState } from '../lib/use_load';

/** The collector refreshes daily by default (DESIGN §5); two missed refreshes means something is wrong. */
const STALE_SECONDS = 2 * 86_400;

/** One line on the indicator DB the matches come from: its size and age, or that there is none. */
export function DbStatus({ state }: { state: LoadState<DbStatusResponse> }) {
  if (state.status === 'error') {
    return (
      <EuiCallOut size="s" color="warning" iconType="warning" data-test-subj="threatflowDbStatus" title={`Indicator DB status unavailable: ${state.error}`} />
    );
  }
  const db = state.data;
  if (!db) {
    return (
      <EuiText size="xs" color="subdued" data-test-subj="threatflowDbStatus">
        Checking the indicator DB…
      </EuiText>
    );
  }
  if (!db.present) {
    return (
      <EuiCallOut size="s" color="warning" iconType="warning" data-test-subj="threatflowDbStatus" title="No indicator DB: threat enrichment is not configured, or the collector has not fetched the DB yet." />
    );
  }
  const age = db.ageSeconds === null ? 'fetch time unknown' : `fetched ${formatAge(db.ageSeconds)} ago`;
  const line = `Indicator DB: ${formatNumber(db.indicators)} indicators from ${db.feed}, ${age}`;
  if (db.ageSeconds !== null && db.ageSeconds > STALE_SECONDS) {
    return (
      <EuiCallOut size="s" color="warning" iconType="clock" data-test-subj="threatflowDbStatus" title={`${line}.`}>
        The collector refreshes it every 24 hours by default; check its log for "RiskIQ Threats: failed".
      </EuiCallOut>
    );
  }
  return (
    <EuiText size="xs" color="subdued" data-test-subj="threatflowDbStatus">
      {line}
    </EuiText>
  );
}
