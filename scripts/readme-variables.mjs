#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
/** Rewrites the README's configuration table from `threatflow config --variables` (the declarations). */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const table = execFileSync(process.execPath, [join(root, 'collector', 'dist', 'cli', 'main.js'), 'config', '--variables'], { encoding: 'utf8' }).trim();
const path = join(root, 'README.md');
const text = readFileSync(path, 'utf8');
const next = text.replace(/<!-- variables:start -->[\s\S]*<!-- variables:end -->/, `<!-- variables:start -->\n${table}\n<!-- variables:end -->`);
writeFileSync(path, next);
