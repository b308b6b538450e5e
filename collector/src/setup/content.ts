// SPDX-License-Identifier: Apache-2.0
/**
 * Where the bundled Elastic content lives (DESIGN.md §1): the repository's ingest-pipelines/, ml-jobs/,
 * dashboards/ and detection-rules/ folders. `collector/src/setup` and `collector/dist/setup` both sit three
 * levels below the repository root.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const DEFAULT_CONTENT_ROOT = join(__dirname, '..', '..', '..');

export const FLOWS_PIPELINE_ID = 'threatflow-flows';
export const DASHBOARDS_FILE = join('dashboards', 'kibana-8.14.x-threatflow.ndjson');
export const RULES_DIR = 'detection-rules';

/** One ML job file of ml-jobs/: the job body and its datafeed body. */
export interface MlJobFile {
  job_id: string;
  job: Record<string, unknown>;
  datafeed: { datafeed_id: string; job_id: string } & Record<string, unknown>;
}

export function pipelinePath(root: string): string {
  return join(root, 'ingest-pipelines', `${FLOWS_PIPELINE_ID}.json`);
}

export function readPipeline(root: string): Record<string, unknown> {
  return JSON.parse(readFileSync(pipelinePath(root), 'utf8')) as Record<string, unknown>;
}

export function mlJobPaths(root: string): string[] {
  const dir = join(root, 'ml-jobs');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => join(dir, f));
}

export function readMlJobs(root: string): MlJobFile[] {
  return mlJobPaths(root).map((p) => {
    const j = JSON.parse(readFileSync(p, 'utf8')) as MlJobFile;
    if (typeof j.job_id !== 'string' || !j.job || !j.datafeed || j.datafeed.job_id !== j.job_id) {
      throw new Error(`${p}: not an ML job file ({ job_id, job, datafeed } with datafeed.job_id = job_id)`);
    }
    return j;
  });
}

/** The detection-rules NDJSON files (sorted), or [] when the folder is missing. */
export function rulesPaths(root: string): string[] {
  const dir = join(root, RULES_DIR);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ndjson'))
    .sort()
    .map((f) => join(dir, f));
}
