// SPDX-License-Identifier: Apache-2.0
/**
 * The app's one page: the time range drives everything below it (DB status, stats, table, flyout); the
 * table's sort and page are server-side, so every change is a new request and the previous one is
 * aborted (useLoad).
 */
import React, { useState } from 'react';
import {
  EuiCallOut,
  EuiPageTemplate,
  EuiSpacer,
  EuiSuperDatePicker,
  type OnRefreshProps,
  type OnTimeChangeProps,
} from '@elastic/eui';
import { DEFAULT_PER_PAGE, MAX_INDICATORS, type TimeRange } from '../../common';
import type { AppServices } from '../application';
import { formatNumber } from '../lib/format';
import { DEFAULT_TIME, WIDE_TIME, resolveTimeRange, type TimeInput } from '../lib/time';
import { useLoad } from '../lib/use_load';
import { DbStatus } from './DbStatus';
import { NoIndicatorDb, NoThreatFlows } from './EmptyStates';
import { ErrorState } from './ErrorState';
import { IpFlyout, type FlyoutTarget } from './IpFlyout';
import { SummaryStats } from './SummaryStats';
import { ThreatsTable, type TableQuery } from './ThreatsTable';

const DEFAULT_QUERY: TableQuery = { page: 0, perPage: DEFAULT_PER_PAGE, sortField: 'flows', sortDirection: 'desc' };

/** The picker's input at mount: the services' absolute range when given (ISO is valid date math), else the default. */
function initialTime(services: AppServices): TimeInput {
  const r = services.initialRange;
  return r && resolveTimeRange({ start: r.from, end: r.to }) ? { start: r.from, end: r.to } : DEFAULT_TIME;
}

/** Resolves the input at mount; both candidates were checked or are valid constants, so this cannot fail. */
function resolveInitial(time: TimeInput): TimeRange {
  const r = resolveTimeRange(time);
  if (!r) throw new Error(`invalid initial time range ${time.start}..${time.end}`);
  return r;
}

export function ThreatsApp({ services }: { services: AppServices }) {
  const { api } = services;
  const [time, setTime] = useState<TimeInput>(() => initialTime(services));
  // A new object on every apply or refresh, even for the same input, so that "now" moves and the
  // requests that depend on the range run again.
  const [range, setRange] = useState<TimeRange>(() => resolveInitial(time));
  const [query, setQuery] = useState<TableQuery>(DEFAULT_QUERY);
  // The flyout keeps a trail so that pivoting indicator → host → indicator can be walked back.
  const [trail, setTrail] = useState<FlyoutTarget[]>([]);

  const threats = useLoad((signal) => api.getThreats({ ...range, ...query }, signal), [api, range, query]);
  const db = useLoad((signal) => api.getDbStatus(signal), [api, range]);

  const apply = (input: TimeInput) => {
    const r = resolveTimeRange(input);
    if (!r) return;
    setTime(input);
    setRange(r);
    setQuery((q) => ({ ...q, page: 0 }));
  };
  const onTimeChange = ({ start, end, isInvalid }: OnTimeChangeProps) => {
    if (!isInvalid) apply({ start, end });
  };
  const onRefresh = ({ start, end }: OnRefreshProps) => apply({ start, end });
  const retry = () => {
    threats.reload();
    if (db.status === 'error') db.reload();
  };

  const data = threats.data;
  const current = trail.length > 0 ? trail[trail.length - 1] : undefined;
  const previous = trail.length > 1 ? trail[trail.length - 2] : undefined;

  let body: React.ReactNode;
  if (threats.status === 'error') {
    body = <ErrorState title="Could not load threats" message={threats.error} onRetry={retry} />;
  } else if (threats.status === 'ok' && data && data.totals.indicators === 0) {
    body =
      db.data && !db.data.present ? (
        <NoIndicatorDb />
      ) : (
        <NoThreatFlows totals={data.totals} db={db.data} onWiden={() => apply(WIDE_TIME)} />
      );
  } else {
    body = (
      <>
        {data?.truncated ? (
          <>
            <EuiCallOut size="s" color="warning" iconType="warning" data-test-subj="threatflowTruncated" title={`More than ${formatNumber(MAX_INDICATORS)} indicators matched; only the busiest are ranked. Narrow the time range to see the rest.`} />
            <EuiSpacer size="m" />
          </>
        ) : null}
        <ThreatsTable
          rows={data?.threats ?? []}
          total={data?.totals.indicators ?? 0}
          query={query}
          isLoading={threats.status === 'loading'}
          launchUrlTemplate={services.launchUrlTemplate}
          timeZone={services.timeZone}
          onChange={setQuery}
          onOpen={(t) => setTrail([t])}
        />
      </>
    );
  }

  return (
    <EuiPageTemplate offset={0} data-test-subj="threatflowApp">
      <EuiPageTemplate.Header
        pageTitle="Threats"
        description="Threat indicators the network talked to, the internal hosts involved, and where to look next."
        rightSideItems={[
          <EuiSuperDatePicker
            key="time"
            start={time.start}
            end={time.end}
            onTimeChange={onTimeChange}
            onRefresh={onRefresh}
            isLoading={threats.status === 'loading'}
            data-test-subj="threatflowDatePicker"
          />,
        ]}
      />
      <EuiPageTemplate.Section>
        <DbStatus state={db} />
        <EuiSpacer size="m" />
        {threats.status === 'error' ? null : <SummaryStats totals={data?.totals} isLoading={threats.status === 'loading'} />}
        <EuiSpacer size="l" />
        {body}
      </EuiPageTemplate.Section>
      {current ? (
        <IpFlyout
          target={current}
          range={range}
          services={services}
          onOpen={(t) => setTrail((s) => [...s, t])}
          onBack={previous ? { ip: previous.ip, go: () => setTrail((s) => s.slice(0, -1)) } : undefined}
          onClose={() => setTrail([])}
        />
      ) : null}
    </EuiPageTemplate>
  );
}
