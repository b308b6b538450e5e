// SPDX-License-Identifier: Apache-2.0
/**
 * Where the shared captures are. `../shared/testdata` sits beside the checkout (read-only, not ours to
 * copy wholesale); fixtures we are allowed to ship live in collector/test/fixtures with their licence.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '..', '..', '..');
export const SHARED_TESTDATA = process.env.TF_SHARED_TESTDATA ?? resolve(REPO_ROOT, '..', 'shared', 'testdata');
export const FIXTURES = join(REPO_ROOT, 'collector', 'test', 'fixtures');

export function sharedPath(...parts: string[]): string {
  return join(SHARED_TESTDATA, ...parts);
}

export const HAVE_SHARED = existsSync(SHARED_TESTDATA);
