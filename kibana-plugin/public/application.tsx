// SPDX-License-Identifier: Apache-2.0
/**
 * Mounts the app into an element. Loaded lazily by the plugin's mount (so Kibana's start page does not
 * download EUI tables and date pickers for an app nobody opened) and called directly by the standalone
 * harness with its own services.
 */
import React from 'react';
import ReactDOM from 'react-dom';
import { EuiProvider } from '@elastic/eui';
import type { TimeRange } from '../common';
import type { ThreatflowApi } from './services';
import { ThreatsApp } from './components/ThreatsApp';

/** EUI's color mode; Kibana's theme service says which (dark mode is an advanced setting). */
export type ColorMode = 'light' | 'dark';

export interface AppServices {
  api: ThreatflowApi;
  /** PassiveTotal launch URL template with `{{value}}` (plugin config `threatflow.launchUrlTemplate`). */
  launchUrlTemplate: string;
  /** Absolute paths (base path included) into Discover and the Threats dashboard for one IP. */
  links: {
    discoverUrl(ip: string, range: TimeRange): string;
    dashboardUrl(ip: string, range: TimeRange): string;
  };
  /**
   * The range to open on instead of the last 24 hours, e.g. the harness's `?from=&to=` so a browser test
   * looks at the time its fixture data lies in.
   */
  initialRange?: TimeRange;
  /**
   * Kibana's `dateFormat:tz` advanced setting: the IANA zone times are shown in (e.g. "Europe/Berlin",
   * "UTC"); absent, 'Browser' or a zone the browser does not know: the browser's zone (the harness).
   */
  timeZone?: string;
  /** Kibana's color mode (core.theme); light when absent (the harness). */
  colorMode?: ColorMode;
}

export function renderApp(element: HTMLElement, services: AppServices): () => void {
  ReactDOM.render(
    <EuiProvider colorMode={services.colorMode ?? 'light'}>
      <ThreatsApp services={services} />
    </EuiProvider>,
    element,
  );
  return () => {
    // Unmounting runs the effects' cleanups, which abort any request still in flight.
    ReactDOM.unmountComponentAtNode(element);
  };
}
