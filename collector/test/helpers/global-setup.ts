// SPDX-License-Identifier: Apache-2.0
/**
 * Starts the embedded Elasticsearch (tools/elasticsearch) for the test run unless one already answers at
 * TF_TEST_ES_URL (default http://127.0.0.1:9200), so that `npm test` works on a fresh clone as well as in
 * .ci/run, which starts it first. TF_TEST_NO_ES=1 skips this for quick unit-only runs.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export const ES_URL = process.env.TF_TEST_ES_URL ?? 'http://127.0.0.1:9200';

async function up(): Promise<boolean> {
  try {
    const res = await fetch(`${ES_URL}/_cluster/health`, { signal: AbortSignal.timeout(2000) });
    return res.ok;
  } catch {
    return false;
  }
}

export default async function globalSetup(): Promise<void> {
  process.env.TF_TEST_ES_URL = ES_URL;
  if (process.env.TF_TEST_NO_ES === '1') return;
  if (await up()) return;
  const port = new URL(ES_URL).port || '9200';
  const script = join(__dirname, '..', '..', '..', 'tools', 'elasticsearch', 'es.sh');
  execFileSync('bash', [script, 'start', '--port', port], { stdio: 'inherit' });
  process.env.TF_TEST_ES_STARTED_BY_JEST = '1';
}
