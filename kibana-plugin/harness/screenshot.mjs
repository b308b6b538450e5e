// SPDX-License-Identifier: Apache-2.0
/**
 * Regenerates the README's pictures of the app: the demo data (the bundled captures decoded and enriched by
 * the collector) in throwaway indices, the harness on a free port, and headless Chromium showing
 * - kibana-plugin/docs/harness.png: the threats page (DB status, stats, table) for the data's time range;
 * - kibana-plugin/docs/harness-flyout.png: one indicator's flyout (flows, internal hosts, links).
 *
 * Usage: npm run build && node kibana-plugin/harness/screenshot.mjs [out-dir]
 * Needs Elasticsearch at TF_HARNESS_ES_URL (default http://127.0.0.1:9200) and /usr/bin/chromium
 * (TF_CHROMIUM_PATH to override).
 */
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@elastic/elasticsearch';
import { buildBrowser, buildNode, DIST } from './build.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const outDir = process.argv[2] ?? join(HERE, '..', 'docs');
/** The indicator whose flyout the picture shows: it has tags, an internal host and a public peer. */
const FOCUS_IP = '45.33.32.156';

await buildBrowser();
await buildNode();
const h = createRequire(import.meta.url)(`${DIST}/harness.cjs`);
const cfg = h.resolveConfig({ ...h.configFromEnv(process.env), port: 0 });
const suffix = `${process.pid}-${Date.now().toString(36)}`;
const flowsIndex = `threatflow-harness-screenshot-${suffix}-flows`;
const indicatorsIndex = `threatflow-harness-screenshot-${suffix}-indicators`;

const es = new Client({ node: cfg.esUrl });
let harness;
let browser;
try {
  const demo = await h.loadDemo(es, { flowsIndex, indicatorsIndex, launchUrlTemplate: cfg.launchUrlTemplate });
  harness = await h.startHarness({ ...cfg, flowsIndex, indicatorsIndex, build: false });
  browser = await h.launchChromium();
  const page = await h.newHarnessPage(browser);
  const q = `?from=${encodeURIComponent(demo.range.from)}&to=${encodeURIComponent(demo.range.to)}`;
  await page.goto(`${harness.url}${q}`);
  // The URL's range is the app's initial range: no date picker interaction, so no focus ring in the picture.
  await page.waitForSelector(h.subj('threatflowThreatsTable'));
  await page.waitForSelector(h.subj(`threatflowOpenFlyout-${FOCUS_IP}`));
  mkdirSync(outDir, { recursive: true });
  // No hover or focus ring left behind, and EUI's transitions finished.
  const settle = async () => {
    await page.mouse.move(0, 0);
    await page.evaluate(() => (document.activeElement instanceof HTMLElement ? document.activeElement.blur() : undefined));
    await page.waitForTimeout(600);
  };
  await settle();
  const main = join(outDir, 'harness.png');
  await page.screenshot({ path: main, fullPage: true });
  await page.locator(h.subj(`threatflowOpenFlyout-${FOCUS_IP}`)).click();
  await page.locator(h.subj('threatflowFlyoutStats')).waitFor();
  await settle();
  const flyout = join(outDir, 'harness-flyout.png');
  await page.screenshot({ path: flyout });
  process.stdout.write(`${main}\n${flyout}\n`);
} finally {
  await browser?.close();
  await harness?.close();
  await es.indices.delete({ index: [flowsIndex, indicatorsIndex], ignore_unavailable: true }).catch(() => undefined);
  await es.close();
}
