// SPDX-License-Identifier: Apache-2.0
/**
 * The browser half of the plugin: registers the app under Security in Kibana's navigation. Nothing heavy
 * is imported here; the app itself is loaded on first mount.
 */
import { DEFAULT_APP_CATEGORIES } from '@kbn/core/public';
import type { AppMountParameters, CoreSetup, CoreStart, Plugin, PluginInitializerContext } from '@kbn/core/public';
import { DEFAULT_LAUNCH_URL_TEMPLATE, PLUGIN_ID, PLUGIN_NAME } from '../common';
import { servicesFrom } from './services';

/** The part of the server config exposed to the browser (server config `exposeToBrowser`). */
export interface ThreatflowPublicConfig {
  launchUrlTemplate?: string;
}

export class ThreatflowPlugin implements Plugin<void, void> {
  constructor(private readonly initializerContext: PluginInitializerContext<ThreatflowPublicConfig>) {}

  setup(core: CoreSetup): void {
    // Read once at setup: browser config is fixed for the page's lifetime.
    const launchUrlTemplate = this.initializerContext.config.get<ThreatflowPublicConfig>().launchUrlTemplate ?? DEFAULT_LAUNCH_URL_TEMPLATE;
    core.application.register({
      id: PLUGIN_ID,
      title: PLUGIN_NAME,
      category: DEFAULT_APP_CATEGORIES.security,
      euiIconType: 'securitySignal',
      mount: async (params: AppMountParameters) => {
        const [coreStart] = await core.getStartServices();
        const { renderApp } = await import('./application');
        return renderApp(params.element, servicesFrom(coreStart, launchUrlTemplate));
      },
    });
  }

  start(_core: CoreStart): void {}

  stop(): void {}
}
