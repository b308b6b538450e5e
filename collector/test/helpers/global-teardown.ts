// SPDX-License-Identifier: Apache-2.0
/** Stops the embedded Elasticsearch if global-setup started it (one started by .ci/run is left to it). */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export default async function globalTeardown(): Promise<void> {
  if (process.env.TF_TEST_ES_STARTED_BY_JEST !== '1') return;
  const port = new URL(process.env.TF_TEST_ES_URL ?? 'http://127.0.0.1:9200').port || '9200';
  const script = join(__dirname, '..', '..', '..', 'tools', 'elasticsearch', 'es.sh');
  execFileSync('bash', [script, 'stop', '--port', port], { stdio: 'inherit' });
}
