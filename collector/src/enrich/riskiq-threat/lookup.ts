// SPDX-License-Identifier: Apache-2.0
/** Read side of the threat DB. Stub: the API is final. */
import type { ThreatDbData, ThreatDbInfo, ThreatEntry, ThreatLookup, ThreatMatch } from './types';

/** A cache file that is not a threat DB of this version or is corrupt. */
export class ThreatDbFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ThreatDbFormatError';
  }
}

export class ThreatDb implements ThreatLookup {
  private constructor(readonly data: ThreatDbData) {}

  get info(): ThreatDbInfo {
    return this.data.info;
  }

  /** Wraps built data (from buildThreatDb, a worker message or the cache): O(1) views over the buffers. */
  static fromData(data: ThreatDbData): ThreatDb {
    return new ThreatDb(data);
  }

  lookup(ip: string): ThreatMatch | null {
    void ip;
    return null;
  }

  /** IPv4 as a uint32 (0..2^32-1). */
  lookupV4(n: number): ThreatMatch | null {
    void n;
    return null;
  }

  /** 16 network-order bytes at `off`; IPv4-mapped addresses are looked up as IPv4. */
  lookupV6(bytes: Uint8Array, off = 0): ThreatMatch | null {
    void bytes;
    void off;
    return null;
  }

  /** Every entry of the DB (for the indicator index, stats and the CLI). */
  *entries(): IterableIterator<ThreatEntry> {
    // stub
  }
}

export function serializeThreatDb(data: ThreatDbData): Buffer {
  void data;
  throw new Error('not implemented yet');
}

export function deserializeThreatDb(buf: Buffer): ThreatDbData {
  void buf;
  throw new ThreatDbFormatError('not implemented yet');
}
