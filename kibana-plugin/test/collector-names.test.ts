// SPDX-License-Identifier: Apache-2.0
/**
 * The plugin ships on its own (inside Kibana) and so keeps its own copies of the collector's names; these
 * must stay the collector's, or a default install finds nothing. Compared with the collector's sources.
 */
import { defaultConfig } from '../../collector/src/config/env';
import { FLOWS_INDEX_PATTERN } from '../../collector/src/output/elasticsearch/assets';
import { INDICATOR_ALIAS } from '../../collector/src/enrich/riskiq-threat/indicators';
import { THREAT_PROVIDER as COLLECTOR_PROVIDER, launchUrlFor as collectorLaunchUrl } from '../../collector/src/enrich/riskiq-threat/enricher';
import { DEFAULT_FLOWS_INDEX, DEFAULT_INDICATORS_INDEX, DEFAULT_LAUNCH_URL_TEMPLATE, THREAT_PROVIDER, launchUrlFor } from '../common';

test('defaults equal the collector\'s data stream pattern, indicator alias, provider and launch URL', () => {
  expect(DEFAULT_FLOWS_INDEX).toBe(FLOWS_INDEX_PATTERN);
  expect(DEFAULT_INDICATORS_INDEX).toBe(INDICATOR_ALIAS);
  expect(THREAT_PROVIDER).toBe(COLLECTOR_PROVIDER);
  expect(DEFAULT_LAUNCH_URL_TEMPLATE).toBe(defaultConfig().enrich.riskiq.launchUrl);
  // The same expansion rule, so the app's links equal threat.enrichments.indicator.reference.
  for (const ip of ['45.33.32.156', '2606:4700::1111', '::ffff:1.2.3.4']) {
    for (const t of [DEFAULT_LAUNCH_URL_TEMPLATE, 'https://ti.example/x/{{value}}?again={{value}}']) {
      expect(launchUrlFor(t, ip)).toBe(collectorLaunchUrl(t, ip));
    }
  }
});
