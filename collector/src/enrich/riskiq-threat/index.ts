// SPDX-License-Identifier: Apache-2.0
/** The RiskIQ PassiveTotal threat DB: parse, build (in a worker), lookup, persist, include/exclude. */
export type { ThreatEntry, ParseResult, ThreatMatch, ThreatDbInfo, ThreatDbData, ThreatLookup } from './types';
export { parseBlocklist, BlocklistParseError, DEFAULT_MAX_INFLATED_BYTES } from './parse';
export type { ParseOptions, BlocklistParseResult } from './parse';
export { buildThreatDb } from './build';
export type { BuildMeta } from './build';
export { buildInWorker } from './build-worker';
export type { WorkerBuildResult } from './build-worker';
export { ThreatDb, ThreatDbFormatError, serializeThreatDb, deserializeThreatDb } from './lookup';
export { loadInclExcl, InclExclError } from './inclexcl';
export type { InclExcl } from './inclexcl';
