// SPDX-License-Identifier: Apache-2.0
/**
 * The threat enricher (DESIGN.md §4, §5, §7): looks up the public source and destination of each flow in
 * the current threat DB and, per match, adds
 *
 * - `threat.enrichments[]`: `indicator.{ip, type, provider, reference, description, confidence,
 *   first_seen, last_seen}` and `matched.{atomic, field, type}` (ECS 8.x threat enrichment);
 * - `sec.threat.name` (union of the matched tags) and `sec.threat.feed.name` (ElastiFlow's flat fields);
 * - `flow.src|dst.sec.threat.name`, and `flow.client|server.sec.threat.name` following the document's
 *   `client`/`server` (ElastiFlow's per-side fields in its ECS mode).
 *
 * Only public addresses are looked up: the document's `*.locality`, which the normalizer set with the
 * shared classifier (built-in ranges plus EF_PROCESSOR_ENRICH_IPADDR_PRIVATE_CIDRS), decides; then the
 * include/exclude file, when there is one.
 *
 * The DB is read through a `ThreatDbRef`: the main thread (or, in `threatflow run`, each decoding worker
 * on a `threat_db` message) replaces `ref.current` with one assignment, and the next flow sees the new DB.
 * A flow is enriched against exactly one DB, because `current` is read once per flow.
 *
 * Hot path (STYLE.md §8): a flow without a public side, or whose addresses are not listed, costs two
 * property reads and at most two lookups, and allocates nothing; objects are built only for matches.
 */
import { createIpClassifier, type IpClassifier } from '../ip-class';
import type { FlowRecord } from '../../decode/types';
import type { Metrics } from '../../observability/metrics';
import type { EcsDocument, EcsFlowSideThreat, EcsThreatEnrichment } from '../../pipeline/ecs';
import type { Enricher } from '../../pipeline/pipeline';
import type { InclExcl } from './inclexcl';
import type { ThreatLookup, ThreatMatch } from './types';

export const THREAT_PROVIDER = 'RiskIQ PassiveTotal';
export const MATCH_TYPE = 'indicator_match_rule';
/** `sec.threat.name` for a listed address the feed gave no tags for, so that the flat filter still finds it. */
export const UNTAGGED_THREAT_NAME = 'blocklist';

/** The threat DB a thread enriches with; swapped by one assignment. */
export class ThreatDbRef {
  current: ThreatLookup | null = null;

  set(db: ThreatLookup | null): void {
    this.current = db;
  }
}

/**
 * This thread's DB. Each worker thread loads its own copy of this module, so each has its own reference;
 * `threatflow run` sets it in every decoding worker from a `threat_db` message (pipeline/worker.ts).
 */
export const threadThreatDb = new ThreatDbRef();

export interface ThreatEnricherConfig {
  /** Launch URL template with `{{value}}` (EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_LAUNCH_URL). */
  launchUrl: string;
  /** Used only for documents without `*.locality` (the normalizer always sets it). */
  privateCidrs: readonly string[];
  /** Include/exclude list, or null for none. */
  inclExcl: InclExcl | null;
}

/** The launch URL for an address: `{{value}}` replaced (everywhere) by the URL-encoded address. */
export function launchUrlFor(template: string, value: string): string {
  return template.split('{{value}}').join(encodeURIComponent(value));
}

export class ThreatEnricher implements Enricher {
  readonly name = 'riskiq-threat';
  private readonly classifier: IpClassifier;

  constructor(
    private readonly cfg: ThreatEnricherConfig,
    readonly ref: ThreatDbRef = threadThreatDb,
    private readonly metrics: Metrics | null = null,
  ) {
    this.classifier = createIpClassifier(cfg.privateCidrs);
  }

  /** Whether the address may be looked up: public, and allowed by the include/exclude file. */
  private eligible(ip: string | undefined, locality: string | undefined): ip is string {
    if (ip === undefined) return false;
    if (locality === undefined ? this.classifier.isPrivate(ip) : locality !== 'public') return false;
    return this.cfg.inclExcl === null || this.cfg.inclExcl.allows(ip);
  }

  enrich(doc: EcsDocument, _rec: FlowRecord): void {
    const db = this.ref.current;
    if (db === null) return;
    const src = doc.source;
    const dst = doc.destination;
    const srcIp = src?.ip;
    const dstIp = dst?.ip;
    const srcMatch = this.eligible(srcIp, src?.locality) ? db.lookup(srcIp) : null;
    const dstMatch = this.eligible(dstIp, dst?.locality) ? db.lookup(dstIp) : null;
    if (srcMatch === null && dstMatch === null) return;

    const enrichments: EcsThreatEnrichment[] = [];
    const names: string[] = [];
    let srcNames: string[] | null = null;
    let dstNames: string[] | null = null;
    if (srcMatch !== null) {
      srcNames = threatNames(srcMatch);
      enrichments.push(this.enrichment(srcIp as string, srcMatch, 'source.ip'));
      for (const n of srcNames) if (!names.includes(n)) names.push(n);
      this.metrics?.inc('threat_matches', { field: 'source.ip' });
    }
    if (dstMatch !== null) {
      dstNames = threatNames(dstMatch);
      enrichments.push(this.enrichment(dstIp as string, dstMatch, 'destination.ip'));
      for (const n of dstNames) if (!names.includes(n)) names.push(n);
      this.metrics?.inc('threat_matches', { field: 'destination.ip' });
    }
    doc.threat = { enrichments };
    doc.sec = { threat: { name: names, feed: { name: THREAT_PROVIDER } } };

    const flow = doc.flow;
    if (srcNames !== null) flow.src = side(srcNames);
    if (dstNames !== null) flow.dst = side(dstNames);
    // client/server follow the document's own inference (normalize.ts): the client is the side whose
    // address and port it copied.
    let srcIsClient: boolean | null = null;
    if (doc.client !== undefined) srcIsClient = doc.client.ip === srcIp && doc.client.port === src?.port;
    else if (doc.server !== undefined) srcIsClient = !(doc.server.ip === srcIp && doc.server.port === src?.port);
    if (srcIsClient !== null) {
      const clientNames = srcIsClient ? srcNames : dstNames;
      const serverNames = srcIsClient ? dstNames : srcNames;
      if (clientNames !== null) flow.client = side(clientNames);
      if (serverNames !== null) flow.server = side(serverNames);
    }
  }

  private enrichment(address: string, m: ThreatMatch, field: 'source.ip' | 'destination.ip'): EcsThreatEnrichment {
    const indicator: EcsThreatEnrichment['indicator'] = {
      ip: address,
      type: address.includes(':') ? 'ipv6-addr' : 'ipv4-addr',
      provider: THREAT_PROVIDER,
      reference: launchUrlFor(this.cfg.launchUrl, address),
    };
    if (m.tags.length > 0) indicator.description = m.tags.join(', ');
    if (m.confidence !== undefined) indicator.confidence = m.confidence;
    if (m.firstSeen !== undefined) indicator.first_seen = m.firstSeen;
    if (m.lastSeen !== undefined) indicator.last_seen = m.lastSeen;
    return { indicator, matched: { atomic: address, field, type: MATCH_TYPE } };
  }
}

function threatNames(m: ThreatMatch): string[] {
  return m.tags.length > 0 ? [...m.tags] : [UNTAGGED_THREAT_NAME];
}

function side(names: string[]): EcsFlowSideThreat {
  return { sec: { threat: { name: names } } };
}
