// SPDX-License-Identifier: Apache-2.0
/** Entries → compact shared tables (DESIGN.md §5, PERFORMANCE.md §5). Stub: the API is final. */
import type { ThreatDbData, ThreatEntry } from './types';

export interface BuildMeta {
  /** When the body was downloaded (unix ms). */
  fetchedAt: number;
  /** The endpoint URL (never credentials) or the cache file path. */
  source: string;
}

export function buildThreatDb(entries: readonly ThreatEntry[], meta: BuildMeta): ThreatDbData {
  void entries;
  void meta;
  throw new Error('not implemented yet');
}
