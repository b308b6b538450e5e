// SPDX-License-Identifier: Apache-2.0
import { basename, dirname, join } from 'node:path';

/**
 * kibana-plugin/harness, whether this code runs from source (ts-jest) or from the bundle in harness/dist
 * (where every module's __dirname is dist/).
 */
export const HARNESS_DIR = basename(__dirname) === 'dist' ? dirname(__dirname) : __dirname;
export const DIST_DIR = join(HARNESS_DIR, 'dist');
