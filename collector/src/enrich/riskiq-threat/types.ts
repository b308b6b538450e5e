// SPDX-License-Identifier: Apache-2.0
/**
 * The contract of the RiskIQ PassiveTotal threat DB (DESIGN.md §5), shared by its parts:
 * parse (body → entries) → build (entries → compact, transferable tables) → lookup (in every pipeline
 * worker) ← download/refresh/persist (main thread) → enricher (fields on each flow, DESIGN.md §4).
 *
 * The built tables live in SharedArrayBuffers so that one copy serves every decoding worker and a new DB
 * replaces the old one by a single reference assignment in each worker (no flow un-enriched during a
 * reload, PERFORMANCE.md §5).
 */

/** One blocklist entry as parsed from the API body, before building. */
export interface ThreatEntry {
  /** Network address, canonical text (IPv4 dotted quad or RFC 5952 IPv6; IPv4-mapped stored as IPv4). */
  address: string;
  /** Prefix length: 32/128 for a single address. */
  prefixLength: number;
  family: 4 | 6;
  /** Tags / classification, de-duplicated, in the order first seen. */
  tags: string[];
  /** Unix ms, when given. */
  firstSeen?: number;
  lastSeen?: number;
  /** As given by the feed (number or word), kept as text. */
  confidence?: string;
}

export interface ParseResult {
  entries: ThreatEntry[];
  /** Entries that could not be parsed (counted and skipped). */
  malformed: number;
  /** Which format was recognised: json-array, json-object, ndjson, csv, text. */
  format: string;
}

/** What a lookup returns for a matching address: the most specific (longest-prefix) entry. */
export interface ThreatMatch {
  /** The matched entry as the feed listed it: `1.2.3.4` or `1.2.3.0/24`. */
  indicator: string;
  prefixLength: number;
  tags: readonly string[];
  firstSeen?: number;
  lastSeen?: number;
  confidence?: string;
}

/** Facts about a built DB, for logs, metrics and `threatdb stats`. */
export interface ThreatDbInfo {
  entries: number;
  ipv4Entries: number;
  ipv6Entries: number;
  /** Entry counts by prefix length, e.g. { "v4/32": 900, "v4/24": 80, "v6/128": 20 }. */
  byPrefix: Record<string, number>;
  /** When the body was downloaded (unix ms). */
  fetchedAt: number;
  /** Where it came from: the endpoint URL (never credentials) or the cache file path. */
  source: string;
  /** Bytes of the shared tables. */
  memoryBytes: number;
}

/**
 * The built DB as plain data: typed-array tables over SharedArrayBuffers plus small JSON-able parts. It
 * can be posted to worker threads (structured clone shares the buffers) and persisted to disk.
 */
export interface ThreatDbData {
  info: ThreatDbInfo;
  /** Implementation-defined tables (the builder and the lookup agree on their layout). */
  tables: Record<string, SharedArrayBuffer>;
  /** Interned payloads (tag sets, dates, confidence, indicator text) referenced by index from the tables. */
  payloads: unknown[];
}

/** Read side used by the enricher: must be fast (millions of lookups/s) and never throw. */
export interface ThreatLookup {
  readonly info: ThreatDbInfo;
  /** Looks up an address given as text (IPv4, IPv6, IPv4-mapped IPv6 as IPv4); null when not listed. */
  lookup(ip: string): ThreatMatch | null;
}
