// SPDX-License-Identifier: Apache-2.0
/**
 * The Kibana feature of the plugin. On 8.14 a route tagged `access:<privilege>` is open only to users whose
 * role grants that API privilege, and a role can only grant what some feature lists: this is that feature.
 * Read and all are the same, since the plugin only reads.
 */
import { DEFAULT_APP_CATEGORIES } from '@kbn/core/server';
import type { FeatureKibanaPrivileges, KibanaFeatureConfig } from '@kbn/features-plugin/server';
import { API_PRIVILEGE, PLUGIN_ID, PLUGIN_NAME } from '../common';

export function threatflowFeature(): KibanaFeatureConfig {
  const privilege = (): FeatureKibanaPrivileges => ({
    api: [API_PRIVILEGE],
    app: [PLUGIN_ID, 'kibana'],
    catalogue: [],
    savedObject: { all: [], read: [] },
    ui: ['show'],
  });
  return {
    id: PLUGIN_ID,
    name: PLUGIN_NAME,
    category: DEFAULT_APP_CATEGORIES.security,
    app: [PLUGIN_ID, 'kibana'],
    catalogue: [],
    privileges: { all: privilege(), read: privilege() },
  };
}
