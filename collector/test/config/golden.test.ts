// SPDX-License-Identifier: Apache-2.0
/**
 * Golden configurations, in the manner of Akvorado's `cmd/akvorado/testdata/configurations/*`: each
 * directory beside this file holds an `env` file (KEY=VALUE lines, `#` comments, `${CASE_DIR}` replaced by
 * the directory) and the `expected.json` that `redactedConfig(loadConfig(env).config)` must equal (with the
 * directory written back as `${CASE_DIR}`), plus
 * `warnings.txt` (one a line) when the case expects warnings. `TF_UPDATE_GOLDEN=1` rewrites the expected
 * files from the current output; review the diff before committing it.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, redactedConfig } from '../../src/config';

const HERE = __dirname;
const UPDATE = process.env.TF_UPDATE_GOLDEN === '1';

function readEnvFile(dir: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(join(dir, 'env'), 'utf8').split('\n')) {
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq < 1) throw new Error(`${dir}/env: not KEY=VALUE: ${line}`);
    env[line.slice(0, eq)] = line.slice(eq + 1).split('${CASE_DIR}').join(dir);
  }
  return env;
}

const cases = readdirSync(HERE)
  .filter((d) => statSync(join(HERE, d)).isDirectory() && existsSync(join(HERE, d, 'env')))
  .sort();

describe('golden configurations', () => {
  it('has the cases the configuration reference relies on', () => {
    expect(cases).toEqual(
      expect.arrayContaining(['defaults', 'all-set', 'list-ports', 'es-cloud-id', 'es-api-key', 'riskiq-export-only']),
    );
  });

  it.each(cases)('%s', (name) => {
    const dir = join(HERE, name);
    const { config, warnings } = loadConfig(readEnvFile(dir));
    // Paths under the case directory are written back as ${CASE_DIR}, so expected files do not depend on the checkout.
    const got = JSON.parse(JSON.stringify(redactedConfig(config)).split(dir).join('${CASE_DIR}')) as unknown;
    const expectedPath = join(dir, 'expected.json');
    const warningsPath = join(dir, 'warnings.txt');
    if (UPDATE) {
      writeFileSync(expectedPath, `${JSON.stringify(got, null, 2)}\n`);
      if (warnings.length > 0) writeFileSync(warningsPath, `${warnings.join('\n')}\n`);
    }
    expect(got).toEqual(JSON.parse(readFileSync(expectedPath, 'utf8')));
    const expectedWarnings = existsSync(warningsPath)
      ? readFileSync(warningsPath, 'utf8').split('\n').filter((l) => l !== '')
      : [];
    expect(warnings).toEqual(expectedWarnings);
  });
});
