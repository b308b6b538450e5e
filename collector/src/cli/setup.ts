// SPDX-License-Identifier: Apache-2.0
/**
 * `threatflow setup` (DESIGN.md §9): installs templates, the ingest pipeline, ILM (when the cluster has
 * it), the indicator index template, ML jobs (when ML exists) and, with `--kibana URL`, the dashboards and
 * detection rules through Kibana's import APIs. Connection from the EF_OUTPUT_ELASTICSEARCH_* variables.
 * Idempotent; `--dry-run` contacts nothing; exit 1 with the failing step named.
 */
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { loadConfig } from '../config';
import { createLogger } from '../observability/logger';
import { DEFAULT_CONTENT_ROOT, runSetup, type StepResult } from '../setup';
import type { KibanaConnection } from '../setup/kibana';

interface SetupFlags {
  kibana?: string;
  kibanaUser?: string;
  kibanaPassword?: string;
  kibanaApiKey?: string;
  dashboards?: string;
  rules?: string[];
  content?: string;
  skipPipelines?: boolean;
  dryRun?: boolean;
}

function line(r: StepResult): string {
  return `${r.status === 'planned' ? 'would' : r.status.padEnd(9)}  ${r.step}: ${r.detail}\n`;
}

export function register(program: Command): void {
  program
    .command('setup')
    .description('install templates, ingest pipeline, ILM, indicator index, ML jobs and (--kibana) dashboards and detection rules')
    .option('--kibana <url>', 'Kibana base URL: import dashboards and detection rules')
    .option('--kibana-user <name>', 'Kibana basic auth user')
    .option('--kibana-password <password>', 'Kibana basic auth password')
    .option('--kibana-api-key <key>', 'Kibana API key (sent as "Authorization: ApiKey <key>"; wins over user/password)')
    .option('--dashboards <file>', 'saved objects NDJSON (default: dashboards/kibana-8.14.x-threatflow.ndjson)')
    .option('--rules <file...>', 'detection rules NDJSON (default: detection-rules/*.ndjson)')
    .option('--content <dir>', 'folder holding ingest-pipelines/, ml-jobs/, dashboards/, detection-rules/')
    .option('--skip-pipelines', 'do not install ingest pipelines (clusters without the ingest-common processors)')
    .option('--dry-run', 'print what would be done; contact nothing, change nothing')
    .action(async (flags: SetupFlags) => {
      const { config } = loadConfig(process.env);
      const log = createLogger({ level: config.logger.level }).child({ caller: 'cli/setup' });
      const kibana: KibanaConnection | undefined = flags.kibana
        ? { url: flags.kibana, username: flags.kibanaUser, password: flags.kibanaPassword, apiKey: flags.kibanaApiKey }
        : undefined;
      const bar =
        process.stderr.isTTY && !flags.dryRun
          ? new cliProgress.SingleBar(
              { stream: process.stderr, format: 'setup [{bar}] {value}/{total} {step}', hideCursor: true, clearOnComplete: true },
              cliProgress.Presets.shades_classic,
            )
          : null;
      try {
        const results = await runSetup({
          config,
          contentRoot: flags.content ?? DEFAULT_CONTENT_ROOT,
          kibana,
          dashboardsFile: flags.dashboards,
          rulesFiles: flags.rules,
          skipPipelines: flags.skipPipelines,
          dryRun: flags.dryRun,
          log,
          onStep: (i, total, step, done) => {
            if (!bar) return;
            if (i === 0 && !done) bar.start(total, 0, { step });
            else bar.update(done ? i + 1 : i, { step });
          },
        });
        bar?.stop();
        for (const r of results) process.stdout.write(line(r));
        if (flags.dryRun) process.stdout.write('dry run: nothing was changed\n');
      } catch (e) {
        bar?.stop();
        throw e;
      }
    });
}
