// SPDX-License-Identifier: Apache-2.0
/**
 * `npm run plugin:harness [-- --demo]`: the standalone harness on http://127.0.0.1:<port>/ (run.mjs builds
 * the bundles, then calls main()). Configuration from TF_HARNESS_* (config.ts).
 *
 * --demo decodes the bundled captures with the collector, indexes them into the demo indices and prints a
 * URL whose time range holds the data (the captures are dated, not "last 15 minutes").
 */
import { Client } from '@elastic/elasticsearch';
import { ENV, HarnessConfigError, configFromEnv, resolveConfig, type HarnessConfig } from './config';
import { DEMO_FLOWS_INDEX, DEMO_INDICATORS_INDEX, loadDemo } from './demo';
import { redactUrl } from '../server/lib/errors';
import { startHarness } from './server';

export { startHarness } from './server';
export { loadDemo, DEMO_FLOWS_INDEX, DEMO_INDICATORS_INDEX } from './demo';
export { configFromEnv, resolveConfig } from './config';
export { redactUrl } from '../server/lib/errors';
// For screenshot.mjs, which drives the page the way the headless-browser test does.
export { launchChromium, newHarnessPage, setAbsoluteRange, subj, tableIndicators } from './page';

/** Where to read how to start the development Elasticsearch (tools/elasticsearch/es.sh). */
export const START_ES_HINT = 'bash tools/elasticsearch/es.sh start';

const USAGE = `usage: npm run plugin:harness [-- --demo]

Serves the threatflow Kibana app without Kibana, backed by the plugin's route functions on Elasticsearch.

  --demo    decode the bundled captures with the collector (npm run plugin:harness builds it), index
            them into ${DEMO_FLOWS_INDEX} / ${DEMO_INDICATORS_INDEX} (replaced on each run) of the
            Elasticsearch ${ENV.esUrl} points at, and serve those
  --help    this text

Environment:
  ${ENV.port}              port on 127.0.0.1 (default 5610; 0 = any free port)
  ${ENV.esUrl}            Elasticsearch (default http://127.0.0.1:9200; credentials may go in the URL)
  ${ENV.flowsIndex}       flows index or pattern (default logs-threatflow.flows-*; not with --demo)
  ${ENV.indicatorsIndex}  indicator index or alias (default logs-ti_threatflow_latest.indicators; not with --demo)
  ${ENV.launchUrlTemplate}          PassiveTotal launch URL template with {{value}}
  ${ENV.kibanaUrl}          Kibana that the Discover and dashboard links open (default http://localhost:5601)
`;

/**
 * Returns when the server is listening; the process then lives until SIGINT/SIGTERM. `buildBrowser` runs
 * once the arguments and environment are known to be good (run.mjs passes the esbuild step, so a typo in
 * a variable is reported at once rather than after a build).
 */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env, buildBrowser?: () => Promise<void>): Promise<number> {
  const flags = new Set(argv);
  if (flags.has('--help') || flags.has('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const unknown = argv.filter((a) => a !== '--demo');
  if (unknown.length > 0) {
    process.stderr.write(`threatflow harness: unknown argument ${unknown[0]}\n\n${USAGE}`);
    return 2;
  }
  const demo = flags.has('--demo');
  let cfg: HarnessConfig;
  try {
    let partial = configFromEnv(env);
    if (demo && (partial.flowsIndex !== undefined || partial.indicatorsIndex !== undefined)) {
      // --demo deletes and recreates its indices: never let it do that to an index named for real data.
      throw new HarnessConfigError(`--demo writes its own indices (${DEMO_FLOWS_INDEX}, ${DEMO_INDICATORS_INDEX}); unset ${ENV.flowsIndex} and ${ENV.indicatorsIndex}`);
    }
    if (demo) partial = { ...partial, flowsIndex: DEMO_FLOWS_INDEX, indicatorsIndex: DEMO_INDICATORS_INDEX };
    cfg = resolveConfig(partial);
  } catch (err) {
    if (err instanceof HarnessConfigError) {
      process.stderr.write(`threatflow harness: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (buildBrowser) {
    process.stderr.write('building the harness app (esbuild) ...\n');
    await buildBrowser();
  }

  let query = '';
  let harness;
  try {
    if (demo) {
      const es = new Client({ node: cfg.esUrl, requestTimeout: 60_000 });
      try {
        // Before decoding: a newcomer without a running Elasticsearch learns at once what to do.
        try {
          await es.info({}, { requestTimeout: 10_000, maxRetries: 0 });
        } catch (err) {
          const name = (err as Error).name;
          if (name === 'ConnectionError' || name === 'TimeoutError' || name === 'NoLivingConnectionsError') {
            throw new Error(
              `Elasticsearch at ${redactUrl(cfg.esUrl)} is not reachable (${(err as Error).message}).\n` +
                `  Start the development one from the repository root with: ${START_ES_HINT}\n` +
                `  or point ${ENV.esUrl} at yours (--demo writes its two indices into it).`,
            );
          }
          // Anything else (a 401 for missing credentials, ...) is reported by the indexing below.
        }
        process.stderr.write(`decoding the bundled captures and indexing them into ${redactUrl(cfg.esUrl)} ...\n`);
        const d = await loadDemo(es, cfg);
        query = `?from=${encodeURIComponent(d.range.from)}&to=${encodeURIComponent(d.range.to)}`;
        process.stdout.write(
          `demo data: ${d.flows} flows in ${cfg.flowsIndex}, ${d.indicators} indicators in ${cfg.indicatorsIndex}\n` +
            `time range holding the data: ${d.range.from} to ${d.range.to}\n`,
        );
      } finally {
        await es.close();
      }
    }
    harness = await startHarness({ ...cfg, build: false, log: (l) => process.stderr.write(`${l}\n`) });
  } catch (err) {
    // Elasticsearch down, the collector not built, the port taken: one line that says which.
    process.stderr.write(`threatflow harness: ${(err as Error).message}\n`);
    return 1;
  }
  process.stdout.write(
    `threatflow harness: ${harness.url}${query}\n` +
      `  Elasticsearch ${redactUrl(cfg.esUrl)}, flows ${cfg.flowsIndex}, indicators ${cfg.indicatorsIndex}\n` +
      `  Ctrl-C stops it.\n`,
  );
  const running = harness;
  const stop = (): void => {
    running.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return 0;
}
