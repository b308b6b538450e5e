// SPDX-License-Identifier: Apache-2.0
/**
 * Server entry of the plugin (Kibana 8.14): the config descriptor and the plugin factory. The factory is
 * asynchronous, as Kibana has required of server plugins since 8.13, and loads plugin.ts lazily so that
 * reading the config descriptor does not load the routes.
 */
import type { PluginConfigDescriptor, PluginInitializerContext } from '@kbn/core/server';
import { configSchema, type ThreatflowConfig } from './config';

export const config: PluginConfigDescriptor<ThreatflowConfig> = {
  schema: configSchema,
  // The app builds launch links in the browser; index names stay on the server.
  exposeToBrowser: { launchUrlTemplate: true },
};

export async function plugin(initializerContext: PluginInitializerContext<ThreatflowConfig>) {
  const { ThreatflowPlugin } = await import('./plugin');
  return new ThreatflowPlugin(initializerContext);
}

export type { ThreatflowConfig } from './config';
export type { ThreatflowPluginSetup, ThreatflowPluginStart } from './plugin';
