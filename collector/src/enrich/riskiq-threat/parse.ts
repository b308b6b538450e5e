// SPDX-License-Identifier: Apache-2.0
/** Blocklist body → entries (DESIGN.md §5). Stub: the API is final, the body follows. */
import type { ParseResult } from './types';

/** Default cap on the inflated size of a gzip body. */
export const DEFAULT_MAX_INFLATED_BYTES = 512 * 1024 * 1024;

export interface ParseOptions {
  /** Inflated bytes allowed for a gzip body before parsing fails (default 512 MiB). */
  maxInflatedBytes?: number;
}

/** ParseResult plus counters that are not entries. */
export interface BlocklistParseResult extends ParseResult {
  /** CIDRs listed with host bits set (e.g. 10.1.2.3/8): accepted, masked to the network, counted here. */
  hostBitsMasked: number;
  /** Entries kept whose date fields did not parse (the field is left out, the entry stays). */
  invalidFields: number;
}

/** A body that is not a blocklist at all (bad gzip, over the size cap, broken JSON document). */
export class BlocklistParseError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BlocklistParseError';
  }
}

export function parseBlocklist(body: Buffer | string, options: ParseOptions = {}): BlocklistParseResult {
  void body;
  void options;
  throw new BlocklistParseError('not implemented yet');
}
