// SPDX-License-Identifier: Apache-2.0
/**
 * The subset of `@kbn/features-plugin/server` (Kibana 8.14, x-pack/plugins/features) the plugin uses to
 * register its Kibana feature, so that roles can grant the routes' API privilege. Outside a Kibana checkout
 * this file stands in for the real package (tsconfig.check.json maps `@kbn/*` here).
 *
 * Follows x-pack/plugins/features/server/plugin.ts (FeaturesPluginSetup.registerKibanaFeature) and
 * x-pack/plugins/features/common/{kibana_feature,feature_kibana_privileges}.ts; members the plugin does not
 * use (subFeatures, management, alerting, cases, reserved, minimumLicense, ...) are omitted.
 */
import type { AppCategory } from '@kbn/core/server';

export interface FeatureKibanaPrivileges {
  /** API privileges: the `access:<tag>` tags of routes this privilege opens. */
  api?: readonly string[];
  app?: readonly string[];
  catalogue?: readonly string[];
  savedObject: { all: readonly string[]; read: readonly string[] };
  ui: readonly string[];
}

export interface KibanaFeatureConfig {
  id: string;
  name: string;
  category: AppCategory;
  order?: number;
  app: readonly string[];
  catalogue?: readonly string[];
  privileges: { all: FeatureKibanaPrivileges; read: FeatureKibanaPrivileges } | null;
}

export interface FeaturesPluginSetup {
  registerKibanaFeature(feature: KibanaFeatureConfig): void;
}
