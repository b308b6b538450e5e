// SPDX-License-Identifier: Apache-2.0
/** Template store and template-driven record decoding shared by the NetFlow v9 and IPFIX decoders. */
export {
  TemplateStore,
  DomainState,
  DEFAULT_TEMPLATE_STORE_CONFIG,
  VARIABLE_LENGTH,
  makeTemplate,
} from './store';
export type {
  TemplateStoreConfig,
  TemplateProtocol,
  Template,
  TemplateField,
  PendingSet,
  DatagramHeader,
  PutResult,
  HoldResult,
} from './store';
export { compileLayout, decodeDataSet, readRecord, setCompiledReaders } from './records';
export type { TemplateDecodeEnv, Layout, SetResult } from './records';
export { reportDropped } from './sets';

import { TemplateStore } from './store';
import type { TemplateStoreConfig } from './store';
import type { DecodeMetrics } from '../types';
import type { TemplateDecodeEnv } from './records';

/** An env for the v9/IPFIX decoders: the given metrics and a fresh template store. */
export function createTemplateDecodeEnv(metrics: DecodeMetrics, config: Partial<TemplateStoreConfig> = {}): TemplateDecodeEnv {
  return { metrics, templates: new TemplateStore(config) };
}

/**
 * Expires held data sets of every exporter and counts them as `template_missing` (call from a timer, e.g.
 * every few seconds, so that exporters that went quiet do not keep data forever).
 */
export function sweepPending(env: TemplateDecodeEnv, nowMs: number): number {
  let total = 0;
  for (const { protocol, exporter, expired } of env.templates.sweep(nowMs)) {
    for (let i = 0; i < expired; i++) {
      env.metrics.error('template_missing', exporter, protocol, 'data set held for a template that did not arrive in time');
    }
    total += expired;
  }
  return total;
}
