// SPDX-License-Identifier: Apache-2.0
/**
 * The ECS flow document (DESIGN.md §4) and its NDJSON serialization.
 *
 * Documents are nested objects, not dotted keys, because ingest pipelines address nested fields. Dates are
 * epoch milliseconds (the template maps them `strict_date_optional_time||epoch_millis`), which is cheaper
 * than ISO strings to produce and to serialize (PERFORMANCE.md §4 lesson 1). Absent values are left out,
 * never `null`. Every field here is mapped in `output/elasticsearch/assets.ts`; a test walks documents
 * against that mapping (STYLE.md §14).
 */
import type { FieldValue } from '../decode/types';

export type Locality = 'public' | 'private';
export type NetworkDirection = 'inbound' | 'outbound' | 'internal' | 'external';

export interface EcsEvent {
  kind: string;
  category: string[];
  type: string[];
  module: string;
  dataset: string;
  /** Flow start, epoch ms. */
  start?: number;
  /** Flow end, epoch ms. */
  end?: number;
  /** Flow duration in nanoseconds. */
  duration?: number;
}

/** `source` / `destination`. */
export interface EcsEndpoint {
  ip?: string;
  port?: number;
  bytes?: number;
  packets?: number;
  locality?: Locality;
}

/** `client` / `server`. */
export interface EcsClientServer {
  ip?: string;
  port?: number;
  bytes?: number;
  packets?: number;
}

export interface EcsNetwork {
  transport?: string;
  iana_number?: string;
  type?: 'ipv4' | 'ipv6';
  bytes?: number;
  packets?: number;
  community_id?: string;
  direction?: NetworkDirection;
}

export interface EcsInterface {
  interface: { id?: string; name?: string };
}

export interface EcsObserver {
  ip: string;
  ingress?: EcsInterface;
  egress?: EcsInterface;
}

/** Per-side threat tags, ElastiFlow's ECS-mode layout (filled by the threat enricher). */
export interface EcsFlowSideThreat {
  sec: { threat: { name: string[] } };
}

/** `flow.*`: threatflow's own namespace (not an ECS field set; ElastiFlow uses the same root). */
export interface EcsFlow {
  /** `private` when every known side is private, else `public`. */
  locality?: Locality;
  /** Packet sampling rate the counters were scaled by (1 = unsampled or unknown). */
  sampling_rate: number;
  /** ICMP/ICMPv6 type and code (ports are left out for ICMP). */
  icmp?: { type: number; code?: number };
  src?: EcsFlowSideThreat;
  dst?: EcsFlowSideThreat;
  client?: EcsFlowSideThreat;
  server?: EcsFlowSideThreat;
}

export interface EcsExporter {
  address: string;
  version: number;
  source_id: number;
  uptime_millis?: number;
}

/** `netflow.*` / `sflow.*`: decoded elements by snake_case name, plus the collector's own keys. */
export interface EcsFlowFields {
  exporter: EcsExporter;
  tcp_control_bits?: number;
  /** sFlow only. */
  sampling_rate?: number;
  [element: string]: FieldValue | EcsExporter | EcsFlowFieldsNested | undefined;
}

/** Elements whose names contain dots (`enterprise.<pen>.<id>`) become nested objects. */
export interface EcsFlowFieldsNested {
  [key: string]: FieldValue | EcsFlowFieldsNested;
}

/** One threat match (later issue: threat enrichment). */
export interface EcsThreatEnrichment {
  indicator: {
    ip?: string;
    type?: string;
    provider?: string;
    reference?: string;
    description?: string;
    confidence?: string;
    first_seen?: number;
    last_seen?: number;
  };
  matched: { atomic?: string; field?: string; type?: string };
}

export interface EcsDocument {
  '@timestamp': number;
  event: EcsEvent;
  source?: EcsEndpoint;
  destination?: EcsEndpoint;
  client?: EcsClientServer;
  server?: EcsClientServer;
  network: EcsNetwork;
  observer: EcsObserver;
  flow: EcsFlow;
  related?: { ip: string[] };
  netflow?: EcsFlowFields;
  sflow?: EcsFlowFields;
  threat?: { enrichments: EcsThreatEnrichment[] };
  sec?: { threat: { name: string[]; feed: { name: string } } };
}

/**
 * One NDJSON line (without the newline). Same document, same bytes: key order is insertion order, which
 * the normalizer fixes (enrichers append their fields after it).
 *
 * Why JSON.stringify and not a hand-written serializer: measured on Node 20 with a 1.3 kB NetFlow v9
 * document (normalizer output with 14 `netflow.*` elements), JSON.stringify takes 3.7 µs; a serializer
 * specialised for this type (literal keys, generic only for `netflow.*`) 4.1 µs and a generic recursive
 * one 3.8 µs, and once written into a Buffer (what the bulk output does) 5.9 µs vs 3.9 µs, because the
 * concatenated string has to be flattened. Over an existing object V8's native stringifier wins; the
 * larger gain (PERFORMANCE.md §4, last row) needs writing NDJSON straight from the record into the bulk
 * buffer, which the enricher-on-object pipeline does not allow today.
 *
 * Re-measured once `netflow.*`/`sflow.*` stopped being dictionary-mode objects (normalize.ts, flowFields):
 * a hand-written serializer byte-identical to JSON.stringify over every shared capture (literal keys for
 * the normalizer's sub-objects, a walk of the rest, `'' + n`, a regex check for strings that need
 * escaping) took 9.3 µs per v5 document against 5.9 µs for JSON.stringify (12.7 vs 6.7 µs with the
 * Buffer write; a busy shared box, so absolute figures are high): the number strings and cons strings it
 * allocates cost 22 % in GC and the escape check another 10 %.
 */
export function serializeDocument(doc: EcsDocument): string {
  return JSON.stringify(doc);
}
