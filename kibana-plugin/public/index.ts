// SPDX-License-Identifier: Apache-2.0
/** Kibana loads a plugin's browser side through this `plugin` factory (PluginInitializer). */
import type { PluginInitializerContext } from '@kbn/core/public';
import { ThreatflowPlugin, type ThreatflowPublicConfig } from './plugin';

export function plugin(initializerContext: PluginInitializerContext<ThreatflowPublicConfig>) {
  return new ThreatflowPlugin(initializerContext);
}

export type { AppServices } from './application';
export type { HttpLike, ThreatflowApi } from './services';
