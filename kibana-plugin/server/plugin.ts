// SPDX-License-Identifier: Apache-2.0
/**
 * The server plugin: registers the Kibana feature that grants the routes' API privilege, and the routes.
 */
import type { CoreSetup, Logger, Plugin, PluginInitializerContext } from '@kbn/core/server';
import type { FeaturesPluginSetup } from '@kbn/features-plugin/server';
import { esOptionsOf, type ThreatflowConfig } from './config';
import { threatflowFeature } from './feature';
import { registerRoutes } from './routes';

export type ThreatflowPluginSetup = void;
export type ThreatflowPluginStart = void;

export interface ThreatflowSetupDeps {
  /**
   * Optional: without security (or without the features plugin) there are no privileges to grant and the
   * routes' access tag is not enforced; with it, roles get "threatflow" read/all in the role editor.
   */
  features?: FeaturesPluginSetup;
}

export class ThreatflowPlugin implements Plugin<ThreatflowPluginSetup, ThreatflowPluginStart, ThreatflowSetupDeps> {
  private readonly logger: Logger;
  private readonly config: ThreatflowConfig;

  constructor(initializerContext: PluginInitializerContext<ThreatflowConfig>) {
    this.logger = initializerContext.logger.get();
    this.config = initializerContext.config.get();
  }

  setup(core: CoreSetup, plugins: ThreatflowSetupDeps): ThreatflowPluginSetup {
    plugins.features?.registerKibanaFeature(threatflowFeature());
    registerRoutes(core.http.createRouter(), esOptionsOf(this.config), this.logger);
    this.logger.debug(`threatflow routes registered (flows: ${this.config.flowsIndex}, indicators: ${this.config.indicatorsIndex})`);
  }

  start(): ThreatflowPluginStart {}

  stop(): void {}
}
