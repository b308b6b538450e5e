// SPDX-License-Identifier: Apache-2.0
/**
 * `src/decode/registry/generated.ts` is written by `scripts/gen-registry.mjs` during `npm run build` and is
 * not committed. Test files import this module first so that running jest directly on a fresh clone
 * (`npx jest collector/test/decode/ipfix`) generates it before the registry is loaded.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const COLLECTOR = join(__dirname, '..', '..', '..');
if (!existsSync(join(COLLECTOR, 'src', 'decode', 'registry', 'generated.ts'))) {
  execFileSync(process.execPath, [join(COLLECTOR, 'scripts', 'gen-registry.mjs')], { stdio: 'inherit' });
}
