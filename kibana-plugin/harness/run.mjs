// SPDX-License-Identifier: Apache-2.0
/**
 * Entry of `npm run plugin:harness`: builds the harness (browser app + Node server) with esbuild, then
 * starts it. Arguments pass through (`-- --demo`, `-- --help`).
 */
import { createRequire } from 'node:module';
import { buildBrowser, buildNode, DIST } from './build.mjs';

await buildNode();
const { main } = createRequire(import.meta.url)(`${DIST}/harness.cjs`);
const code = await main(process.argv.slice(2), process.env, buildBrowser);
if (code !== 0) process.exit(code);
