// SPDX-License-Identifier: Apache-2.0
/** Parse + build off the main thread. Stub: the API is final. */
import type { BuildMeta } from './build';
import type { ParseOptions } from './parse';
import type { ThreatDbData } from './types';

export interface WorkerBuildResult {
  data: ThreatDbData;
  malformed: number;
  format: string;
  hostBitsMasked: number;
  invalidFields: number;
}

export function buildInWorker(body: Buffer, meta: BuildMeta, options: ParseOptions = {}): Promise<WorkerBuildResult> {
  void body;
  void meta;
  void options;
  return Promise.reject(new Error('not implemented yet'));
}
