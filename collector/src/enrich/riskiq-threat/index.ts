// SPDX-License-Identifier: Apache-2.0
/**
 * The RiskIQ PassiveTotal threat DB (DESIGN.md §5): parse a blocklist body, build compact shared tables
 * (in a worker thread), look addresses up with longest-prefix semantics, persist the last good DB, and
 * honour the include/exclude file.
 */
export type { ThreatEntry, ParseResult, ThreatMatch, ThreatDbInfo, ThreatDbData, ThreatLookup } from './types';
export { parseBlocklist, BlocklistParseError, DEFAULT_MAX_INFLATED_BYTES, formatIPv4, formatIPv6 } from './parse';
export type { ParseOptions, BlocklistParseResult, ThreatPayload } from './parse';
export { buildThreatDb } from './build';
export type { BuildMeta } from './build';
export { buildInWorker } from './build-worker';
export type { WorkerBuildResult } from './build-worker';
export { ThreatDb, ThreatDbFormatError, serializeThreatDb, deserializeThreatDb, validateThreatDb, CACHE_VERSION } from './lookup';
export { loadInclExcl, parseInclExcl, InclExclError } from './inclexcl';
export type { InclExcl } from './inclexcl';
