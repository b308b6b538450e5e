// SPDX-License-Identifier: Apache-2.0
/** What the route functions need from their caller: an Elasticsearch client and where the data lives. */
import type { Client } from '@elastic/elasticsearch';

/**
 * The part of the client the route functions call: `search` only, so an analyst's role needs nothing but
 * `read` on the flows and indicator indices. Kibana's `ElasticsearchClient` (`asCurrentUser`) and a plain
 * `new Client()` both satisfy it. `transport` is in the pick because the client's methods declare
 * `this: { transport }`; without it TypeScript refuses the calls.
 */
export type SearchClient = Pick<Client, 'search' | 'transport'>;

export interface ThreatflowEsOptions {
  /** Flow documents: the data stream pattern `logs-threatflow.flows-*` (DESIGN.md §4). */
  flowsIndex: string;
  /** The indicator index alias the collector maintains (`logs-ti_threatflow_latest.indicators`). */
  indicatorsIndex: string;
  /** PassiveTotal launch URL template with `{{value}}` (plugin config, DESIGN.md §4). */
  launchUrlTemplate: string;
}
