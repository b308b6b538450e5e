// SPDX-License-Identifier: Apache-2.0
/** The README's configuration table is the declarations' own (`threatflow config --variables`). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { variablesMarkdown } from '../../src/config';
import { REPO_ROOT } from '../helpers/testdata';

describe('README', () => {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');

  it('lists every EF_* variable exactly as declared (regenerate with node scripts/readme-variables.mjs)', () => {
    const m = /<!-- variables:start -->\n([\s\S]*)\n<!-- variables:end -->/.exec(readme);
    expect(m).not.toBeNull();
    expect(m![1].trim()).toBe(variablesMarkdown().trim());
  });

  it('has the two quick-start commands', () => {
    expect(readme).toContain('npm run demo');
    expect(readme).toContain('npm test');
  });
});
