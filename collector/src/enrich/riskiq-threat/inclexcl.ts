// SPDX-License-Identifier: Apache-2.0
/** `_THREAT_INCLEXCL_PATH`: which public addresses are looked up. Stub: the API is final. */

export interface InclExcl {
  readonly path: string;
  readonly includes: number;
  readonly excludes: number;
  /** True when the address may be looked up (the caller has already checked that it is public). */
  allows(ip: string): boolean;
}

export class InclExclError extends Error {
  constructor(readonly file: string, readonly line: number, reason: string) {
    super(`${file}:${line}: ${reason}`);
    this.name = 'InclExclError';
  }
}

export function loadInclExcl(path: string): InclExcl {
  void path;
  throw new Error('not implemented yet');
}
