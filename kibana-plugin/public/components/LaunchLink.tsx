// SPDX-License-Identifier: Apache-2.0
import React from 'react';
import { EuiLink } from '@elastic/eui';
import { launchUrlFor } from '../../common';

interface Props {
  ip: string;
  template: string;
  /** Link text; the address itself by default. */
  children?: React.ReactNode;
}

/**
 * An IP that opens PassiveTotal (or whatever the template points at) in a new tab. The href is the
 * template expanded exactly as the collector expands `indicator.reference`, so every surface agrees.
 */
export function LaunchLink({ ip, template, children }: Props) {
  return (
    <EuiLink
      href={launchUrlFor(template, ip)}
      target="_blank"
      // The analyst's Kibana session must not be reachable from the third-party page.
      rel="noopener noreferrer"
      data-test-subj={`threatflowLaunchLink-${ip}`}
    >
      {children ?? ip}
    </EuiLink>
  );
}
