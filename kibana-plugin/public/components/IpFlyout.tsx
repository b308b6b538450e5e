// SPDX-License-Identifier: Apache-2.0
/**
 * Everything about one IP in the app's time range: an indicator with the internal hosts that talked to it,
 * or an internal host with the indicators it talked to; its newest flows; and the ways out (PassiveTotal,
 * Discover, the Threats dashboard).
 */
import React from 'react';
import {
  EuiBadge,
  EuiButtonEmpty,
  EuiFlexGroup,
  EuiFlexItem,
  EuiFlyout,
  EuiFlyoutBody,
  EuiFlyoutHeader,
  EuiHorizontalRule,
  EuiLink,
  EuiLoadingSpinner,
  EuiSpacer,
  EuiStat,
  EuiText,
  EuiTitle,
  useGeneratedHtmlId,
} from '@elastic/eui';
import { DEFAULT_FLOWS, type FlowRole, type FlowsResponse, type TimeRange } from '../../common';
import type { AppServices } from '../application';
import { formatBytes, formatNumber } from '../lib/format';
import { useLoad } from '../lib/use_load';
import { Counterparts } from './Counterparts';
import { ErrorState } from './ErrorState';
import { FlowsTable } from './FlowsTable';
import { LaunchLink } from './LaunchLink';

export interface FlyoutTarget {
  ip: string;
  /** `indicator`: a threat IP; `host`: an internal host (opened from a host or a counterpart). */
  role: FlowRole;
}

interface Props {
  target: FlyoutTarget;
  range: TimeRange;
  services: AppServices;
  /** Pivot onto a counterpart. */
  onOpen: (target: FlyoutTarget) => void;
  /** Present when there is a previous IP to return to. */
  onBack?: { ip: string; go: () => void };
  onClose: () => void;
}

const ROLE_LABEL: Record<FlowRole, string> = { indicator: 'Threat indicator', host: 'Internal host' };

function otherRole(role: FlowRole): FlowRole {
  return role === 'indicator' ? 'host' : 'indicator';
}

function distinctTags(res: FlowsResponse): string[] {
  return [...new Set(res.flows.flatMap((f) => f.tags))].sort();
}

/**
 * The subject's ways out. `launchable` is false for an internal host (and for an indicator the server gave
 * no launch URL): no PassiveTotal link then, so a private address is never sent to a third party.
 */
function FlyoutLinks({ target, range, services, launchable }: Pick<Props, 'target' | 'range' | 'services'> & { launchable: boolean }) {
  return (
    <EuiFlexGroup gutterSize="m" responsive={false} wrap>
      <EuiFlexItem grow={false}>
        {launchable ? (
          <LaunchLink ip={target.ip} template={services.launchUrlTemplate}>
            Open in PassiveTotal
          </LaunchLink>
        ) : (
          <EuiText size="s" color="subdued" data-test-subj="threatflowNoLaunch">
            Internal address: not looked up in PassiveTotal
          </EuiText>
        )}
      </EuiFlexItem>
      <EuiFlexItem grow={false}>
        <EuiLink href={services.links.discoverUrl(target.ip, range)} data-test-subj="threatflowDiscoverLink">
          Open in Discover
        </EuiLink>
      </EuiFlexItem>
      <EuiFlexItem grow={false}>
        <EuiLink href={services.links.dashboardUrl(target.ip, range)} data-test-subj="threatflowDashboardLink">
          Open Threats dashboard
        </EuiLink>
      </EuiFlexItem>
    </EuiFlexGroup>
  );
}

/** How many counterparts: "100+" when the route capped the list (there were more than it lists). */
function counterpartCount(res: FlowsResponse): string {
  return `${formatNumber(res.counterparts.length)}${res.counterpartsTruncated ? '+' : ''}`;
}

function FlowsSummary({ res }: { res: FlowsResponse }) {
  const others = res.role === 'indicator' ? 'Internal hosts' : 'Indicators';
  return (
    <EuiFlexGroup responsive={false} data-test-subj="threatflowFlyoutStats">
      <EuiFlexItem>
        <EuiStat title={formatNumber(res.total)} description="Flows" titleSize="s" />
      </EuiFlexItem>
      <EuiFlexItem>
        <EuiStat title={formatBytes(res.bytes)} description="Bytes" titleSize="s" />
      </EuiFlexItem>
      <EuiFlexItem>
        <EuiStat title={counterpartCount(res)} description={others} titleSize="s" data-test-subj="threatflowFlyoutCounterpartCount" />
      </EuiFlexItem>
    </EuiFlexGroup>
  );
}

function FlyoutContent({ res, services, onOpen }: { res: FlowsResponse; services: AppServices; onOpen: Props['onOpen'] }) {
  const tags = distinctTags(res);
  const counterpartRole = otherRole(res.role);
  return (
    <>
      {tags.length > 0 ? (
        <div data-test-subj="threatflowFlyoutTags">
          {tags.map((t) => (
            <EuiBadge key={t} color="danger">
              {t}
            </EuiBadge>
          ))}
          <EuiSpacer size="m" />
        </div>
      ) : null}
      <FlowsSummary res={res} />
      <EuiHorizontalRule />
      <EuiTitle size="xs">
        <h3>{counterpartRole === 'host' ? 'Internal hosts involved' : 'Threat indicators contacted'}</h3>
      </EuiTitle>
      {res.counterpartsTruncated ? (
        <EuiText size="xs" color="subdued" data-test-subj="threatflowCounterpartsTruncated">
          {`More than ${formatNumber(res.counterparts.length)}: only the ${formatNumber(res.counterparts.length)} with the most flows are listed.`}
        </EuiText>
      ) : null}
      <Counterparts
        counterparts={res.counterparts}
        role={counterpartRole}
        launchUrlTemplate={services.launchUrlTemplate}
        onOpen={(ip) => onOpen({ ip, role: counterpartRole })}
      />
      <EuiHorizontalRule />
      <EuiTitle size="xs">
        <h3>Flows</h3>
      </EuiTitle>
      <EuiText size="xs" color="subdued">
        {res.flows.length < res.total
          ? `The newest ${formatNumber(res.flows.length)} of ${formatNumber(res.total)} flows; Discover has them all.`
          : `${formatNumber(res.total)} flows, newest first.`}
      </EuiText>
      <FlowsTable flows={res.flows} timeZone={services.timeZone} />
    </>
  );
}

export function IpFlyout({ target, range, services, onOpen, onBack, onClose }: Props) {
  const titleId = useGeneratedHtmlId({ prefix: 'threatflowFlyoutTitle' });
  const flows = useLoad(
    (signal) => services.api.getFlows({ ...range, ip: target.ip, role: target.role, size: DEFAULT_FLOWS }, signal),
    [services.api, target.ip, target.role, range.from, range.to],
  );
  const loaded = flows.data && flows.data.ip === target.ip && flows.data.role === target.role ? flows.data : undefined;
  // An internal host never gets a PassiveTotal link; an indicator has one unless the server says it has no
  // launch URL (offered while loading: an indicator opened from the table is one the table links already).
  const launchable = target.role === 'indicator' && loaded?.launchUrl !== null;

  return (
    <EuiFlyout onClose={onClose} size="l" aria-labelledby={titleId} data-test-subj="threatflowFlyout">
      <EuiFlyoutHeader hasBorder>
        {onBack ? (
          <EuiButtonEmpty iconType="arrowLeft" size="xs" flush="left" onClick={onBack.go} data-test-subj="threatflowFlyoutBack">
            Back to {onBack.ip}
          </EuiButtonEmpty>
        ) : null}
        <EuiText size="xs" color="subdued">
          {ROLE_LABEL[target.role]}
        </EuiText>
        <EuiTitle size="m">
          <h2 id={titleId} data-test-subj="threatflowFlyoutTitle">
            {target.ip}
          </h2>
        </EuiTitle>
        <EuiSpacer size="s" />
        <FlyoutLinks target={target} range={range} services={services} launchable={launchable} />
      </EuiFlyoutHeader>
      <EuiFlyoutBody>
        {flows.status === 'error' ? (
          <ErrorState title={`Could not load the flows of ${target.ip}`} message={flows.error} onRetry={flows.reload} />
        ) : loaded ? (
          <FlyoutContent res={loaded} services={services} onOpen={onOpen} />
        ) : (
          <EuiLoadingSpinner size="l" data-test-subj="threatflowFlyoutLoading" />
        )}
      </EuiFlyoutBody>
    </EuiFlyout>
  );
}
