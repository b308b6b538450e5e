// SPDX-License-Identifier: Apache-2.0
/**
 * The two reasons the table can be empty, each saying what to do about it: nothing matched in the range
 * (widen it, or check the pipeline feeding it), or there is nothing to match against (no indicator DB).
 */
import React from 'react';
import { EuiButton, EuiCode, EuiCodeBlock, EuiEmptyPrompt, EuiText } from '@elastic/eui';
import { DEFAULT_FLOWS_INDEX, DEFAULT_INDICATORS_INDEX, type DbStatusResponse, type ThreatsResponse } from '../../common';
import { formatNumber } from '../lib/format';

interface NoThreatFlowsProps {
  totals: ThreatsResponse['totals'];
  /** Undefined while the DB status is unknown (still loading or failed). */
  db: DbStatusResponse | undefined;
  onWiden: () => void;
}

export function NoThreatFlows({ totals, db, onWiden }: NoThreatFlowsProps) {
  return (
    <EuiEmptyPrompt
      iconType="securitySignal"
      title={<h2>No threat flows in this time range</h2>}
      data-test-subj="threatflowEmptyState"
      data-empty-kind="noThreatFlows"
      body={
        totals.allFlows === 0 ? (
          <EuiText size="s">
            <p>
              No flows at all were recorded in this range. Widen the time range, or check that the collector is
              running, that exporters send to it, and that its Elasticsearch output writes to{' '}
              <EuiCode>{DEFAULT_FLOWS_INDEX}</EuiCode>.
            </p>
          </EuiText>
        ) : (
          <EuiText size="s">
            <p>
              {formatNumber(totals.allFlows)} flows were recorded, and none of them involved an address in the threat
              indicator DB{db?.present ? ` (${formatNumber(db.indicators)} indicators)` : ''}. Widen the time range,
              or check that the collector runs with threat enrichment on (
              <EuiCode>EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_THREAT_ENABLE=true</EuiCode>) and that its log shows
              <EuiCode>RiskIQ Threats: DB successfully populated.</EuiCode>
            </p>
          </EuiText>
        )
      }
      actions={
        <EuiButton onClick={onWiden} data-test-subj="threatflowWidenRange">
          Show the last 7 days
        </EuiButton>
      }
    />
  );
}

/** Shown instead of an empty table when the collector never indexed an indicator DB. */
export function NoIndicatorDb() {
  return (
    <EuiEmptyPrompt
      iconType="securitySignalDetected"
      title={<h2>Threat enrichment is not configured</h2>}
      data-test-subj="threatflowEmptyState"
      data-empty-kind="noIndicatorDb"
      body={
        <>
          <EuiText size="s">
            <p>
              There is no threat indicator DB (<EuiCode>{DEFAULT_INDICATORS_INDEX}</EuiCode>), so no flow can be matched
              against a threat. Enable the collector's RiskIQ PassiveTotal enrichment with your PassiveTotal API user
              and key, then run <EuiCode>threatflow setup</EuiCode> and restart the collector:
            </p>
          </EuiText>
          <EuiCodeBlock language="bash" paddingSize="s" fontSize="s" data-test-subj="threatflowEnrichmentConfig">
            {[
              'EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_THREAT_ENABLE=true',
              'EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_API_USER=<PassiveTotal user>',
              'EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_API_KEY=<PassiveTotal API key>',
              'threatflow setup',
            ].join('\n')}
          </EuiCodeBlock>
        </>
      }
    />
  );
}
