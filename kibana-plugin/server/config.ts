// SPDX-License-Identifier: Apache-2.0
/**
 * `threatflow.*` in kibana.yml. The defaults are the collector's names (DESIGN.md §4), so a plugin installed
 * next to a default collector needs no configuration at all.
 */
import { schema, type TypeOf } from '@kbn/config-schema';
import { DEFAULT_FLOWS_INDEX, DEFAULT_INDICATORS_INDEX, DEFAULT_LAUNCH_URL_TEMPLATE, launchTemplateError } from '../common';
import type { ThreatflowEsOptions } from './lib';

export const configSchema = schema.object({
  enabled: schema.boolean({ defaultValue: true }),
  /** PassiveTotal launch URL with `{{value}}`; the MDTI successor or a proxy can be put here. */
  launchUrlTemplate: schema.string({ defaultValue: DEFAULT_LAUNCH_URL_TEMPLATE, validate: launchTemplateError }),
  /** Flow documents (a pattern, data stream or alias). */
  flowsIndex: schema.string({ defaultValue: DEFAULT_FLOWS_INDEX, minLength: 1 }),
  /** The indicator DB alias the collector maintains. */
  indicatorsIndex: schema.string({ defaultValue: DEFAULT_INDICATORS_INDEX, minLength: 1 }),
});

export type ThreatflowConfig = TypeOf<typeof configSchema>;

export function esOptionsOf(config: ThreatflowConfig): ThreatflowEsOptions {
  return { flowsIndex: config.flowsIndex, indicatorsIndex: config.indicatorsIndex, launchUrlTemplate: config.launchUrlTemplate };
}
