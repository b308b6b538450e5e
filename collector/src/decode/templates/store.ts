// SPDX-License-Identifier: Apache-2.0
/**
 * Template state of the NetFlow v9 and IPFIX decoders (STYLE.md §11): templates and options templates keyed
 * by (exporter address, observation domain / source id, template id) in separate v9 and IPFIX namespaces,
 * the options data learnt from each (exporter, domain) (sampling rates, interface names, system init time),
 * and a bounded per-exporter queue of data sets that arrived before their template.
 *
 * Time is whatever the caller says it is (the datagram's receive time), never the wall clock, so that
 * `threatflow decode` replays a capture deterministically. The store holds no timers: the decoders expire
 * an exporter's pending sets each time a datagram of that exporter arrives, and a periodic `sweep()` (the
 * server's job) covers exporters that went quiet.
 *
 * Everything is bounded, because templates come off the network: templates per exporter, entries in the
 * options maps, pending sets per exporter by count, bytes and age.
 */

export type TemplateProtocol = 'netflow9' | 'ipfix';

/** Field length that announces a variable-length field (IPFIX, RFC 7011 §7; also seen in H3C v9). */
export const VARIABLE_LENGTH = 65535;

export interface TemplateField {
  /** Information element id without the enterprise bit (IPFIX), field type (v9 data), or v9 scope type. */
  readonly id: number;
  /** Private Enterprise Number, 0 when none. */
  readonly pen: number;
  /** Length in bytes, VARIABLE_LENGTH for variable-length fields. */
  readonly length: number;
  /** An options template scope field (for v9, `id` is then a scope type of RFC 3954 §6.1). */
  readonly scope: boolean;
}

export interface Template {
  readonly id: number;
  /** An options template: its data records describe the exporter, not flows. */
  readonly options: boolean;
  readonly scopeCount: number;
  readonly fields: readonly TemplateField[];
  /** Smallest possible record: fixed lengths plus one length octet per variable-length field. */
  readonly minRecordLength: number;
  /** Record length when every field is fixed, else -1. */
  readonly fixedRecordLength: number;
  /** Layout as text, to tell a refresh of the same template from a redefinition. */
  readonly signature: string;
  /** When it was last received (unix ms), for the optional TTL. */
  receivedMs: number;
  /** The decoder's compiled reader for this layout, built once when the template is stored. */
  compiled: unknown;
}

/** Builds a template from parsed field specifiers (the decoders refuse those whose records would be empty). */
export function makeTemplate(id: number, options: boolean, scopeCount: number, fields: TemplateField[], receivedMs: number): Template {
  let min = 0;
  let variable = false;
  let signature = `${options ? 'o' : 'd'}${scopeCount}`;
  for (const f of fields) {
    if (f.length === VARIABLE_LENGTH) {
      variable = true;
      min += 1;
    } else {
      min += f.length;
    }
    signature += `|${f.pen}:${f.id}:${f.length}${f.scope ? 's' : ''}`;
  }
  return {
    id,
    options,
    scopeCount,
    fields,
    minRecordLength: min,
    fixedRecordLength: variable ? -1 : min,
    signature,
    receivedMs,
    compiled: null,
  };
}

/** The datagram header values a held data set needs to be decoded later exactly as it would have been. */
export interface DatagramHeader {
  /** Export time from the header, unix ms. */
  exportTimeMs: number;
  /** v9 sysUptime (ms); null for IPFIX. */
  sysUptimeMs: number | null;
  sequence: number;
  /** v9 source id / IPFIX observation domain id. */
  domain: number;
}

/** A data set held until its template arrives. */
export interface PendingSet {
  readonly templateId: number;
  readonly header: DatagramHeader;
  /** Receive time of the datagram it came in (unix ms). */
  readonly receivedMs: number;
  /** The set's records (a copy: the datagram buffer may be reused by the receiver). */
  readonly body: Buffer;
}

/** Options data learnt from one (exporter, domain). */
export class DomainState {
  readonly templates = new Map<number, Template>();
  /** Sampling rate by sampler id (v9 FLOW_SAMPLER_ID 48 / IPFIX samplerId 48). */
  readonly samplerRates = new Map<number, number>();
  /** Sampling rate by PSAMP selector id (IPFIX selectorId 302). */
  readonly selectorRates = new Map<number, number>();
  /** Rate from options data that named no sampler or selector (applies to the whole domain). */
  defaultRate = 0;
  /** Interface names by ifIndex (IPFIX interfaceName 82 / v9 IF_NAME 82 with an interface scope). */
  readonly interfaceNames = new Map<number, string>();
  /** IPFIX systemInitTimeMilliseconds (160) from options data: the base of flowStart/EndSysUpTime. */
  systemInitMs: number | null = null;
}

class ExporterState {
  readonly domains = new Map<number, DomainState>();
  templateCount = 0;
  readonly pending: PendingSet[] = [];
  pendingBytes = 0;
}

export interface TemplateStoreConfig {
  /** Templates not refreshed for this long are forgotten; 0 keeps them until withdrawn or replaced. */
  templateTtlMs: number;
  /** Data sets held per exporter while their template is missing; over the bound the oldest is dropped. */
  pendingMaxSets: number;
  /** Bytes held per exporter (a second bound, so that 1024 large sets cannot pin 64 MiB). */
  pendingMaxBytes: number;
  /** Held sets older than this are dropped as `template_missing`. */
  pendingMaxAgeMs: number;
  /** Templates per exporter (all domains); more are refused as `bad_template`. */
  maxTemplatesPerExporter: number;
  /** Entries per options map (sampler rates, interface names) per domain. */
  maxOptionsEntries: number;
}

export const DEFAULT_TEMPLATE_STORE_CONFIG: TemplateStoreConfig = {
  templateTtlMs: 0,
  pendingMaxSets: 1024,
  pendingMaxBytes: 4 * 1024 * 1024,
  pendingMaxAgeMs: 60_000,
  maxTemplatesPerExporter: 16_384,
  maxOptionsEntries: 65_536,
};

/** Result of storing a template. */
export type PutResult = 'new' | 'refreshed' | 'changed' | 'refused';

/** What `hold` had to drop to stay within the bounds. */
export interface HoldResult {
  /** Sets dropped because the queue was full (count or bytes): `pending_overflow`. */
  overflow: number;
  /** Sets dropped because they were too old: `template_missing`. */
  expired: number;
}

export class TemplateStore {
  readonly config: TemplateStoreConfig;
  private readonly ns: Record<TemplateProtocol, Map<string, ExporterState>> = {
    netflow9: new Map(),
    ipfix: new Map(),
  };
  private templates = 0;
  private pendingTotal = 0;

  constructor(config: Partial<TemplateStoreConfig> = {}) {
    this.config = { ...DEFAULT_TEMPLATE_STORE_CONFIG, ...config };
  }

  private exporterState(proto: TemplateProtocol, exporter: string, create: boolean): ExporterState | undefined {
    const m = this.ns[proto];
    let s = m.get(exporter);
    if (!s && create) {
      s = new ExporterState();
      m.set(exporter, s);
    }
    return s;
  }

  /** Options data and templates of one (exporter, domain); undefined when nothing was learnt yet. */
  domain(proto: TemplateProtocol, exporter: string, domain: number): DomainState | undefined {
    return this.ns[proto].get(exporter)?.domains.get(domain);
  }

  /** The template, or undefined when unknown or expired by the TTL (an expired one is removed). */
  getTemplate(proto: TemplateProtocol, exporter: string, domain: number, id: number, nowMs: number): Template | undefined {
    const es = this.ns[proto].get(exporter);
    if (!es) return undefined;
    const ds = es.domains.get(domain);
    if (!ds) return undefined;
    const t = ds.templates.get(id);
    if (!t) return undefined;
    const ttl = this.config.templateTtlMs;
    if (ttl > 0 && nowMs - t.receivedMs > ttl) {
      ds.templates.delete(id);
      es.templateCount--;
      this.templates--;
      return undefined;
    }
    return t;
  }

  /**
   * Stores a template. A template with the same layout as the stored one only refreshes its time (and keeps
   * its compiled reader); a different layout replaces it.
   */
  putTemplate(proto: TemplateProtocol, exporter: string, domain: number, t: Template): PutResult {
    const es = this.exporterState(proto, exporter, true)!;
    let ds = es.domains.get(domain);
    const old = ds?.templates.get(t.id);
    if (old && old.signature === t.signature) {
      old.receivedMs = t.receivedMs;
      return 'refreshed';
    }
    if (!old && es.templateCount >= this.config.maxTemplatesPerExporter) return 'refused';
    if (!ds) {
      ds = new DomainState();
      es.domains.set(domain, ds);
    }
    ds.templates.set(t.id, t);
    if (old) return 'changed';
    es.templateCount++;
    this.templates++;
    return 'new';
  }

  /** IPFIX template withdrawal (RFC 7011 §8.1); returns whether the template existed. */
  withdrawTemplate(proto: TemplateProtocol, exporter: string, domain: number, id: number): boolean {
    const es = this.ns[proto].get(exporter);
    const ds = es?.domains.get(domain);
    if (!es || !ds || !ds.templates.delete(id)) return false;
    es.templateCount--;
    this.templates--;
    return true;
  }

  /** IPFIX all-templates withdrawal (template id 2 or 3): every (options) template of the domain. */
  withdrawAllTemplates(proto: TemplateProtocol, exporter: string, domain: number, options: boolean): number {
    const es = this.ns[proto].get(exporter);
    const ds = es?.domains.get(domain);
    if (!es || !ds) return 0;
    let n = 0;
    for (const [id, t] of ds.templates) {
      if (t.options === options) {
        ds.templates.delete(id);
        n++;
      }
    }
    es.templateCount -= n;
    this.templates -= n;
    return n;
  }

  /** Options data of a domain, created on first use (options data only arrives for a known template). */
  domainForOptions(proto: TemplateProtocol, exporter: string, domain: number): DomainState {
    const es = this.exporterState(proto, exporter, true)!;
    let ds = es.domains.get(domain);
    if (!ds) {
      ds = new DomainState();
      es.domains.set(domain, ds);
    }
    return ds;
  }

  /** Adds to a bounded options map. */
  setOption<V>(map: Map<number, V>, key: number, value: V): void {
    if (map.size >= this.config.maxOptionsEntries && !map.has(key)) return;
    map.set(key, value);
  }

  /**
   * Holds a data set until its template arrives. Sets older than the age bound are dropped first, then the
   * oldest sets until the new one fits the count and byte bounds.
   */
  hold(proto: TemplateProtocol, exporter: string, p: PendingSet): HoldResult {
    const es = this.exporterState(proto, exporter, true)!;
    const expired = this.expireState(es, p.receivedMs);
    let overflow = 0;
    if (p.body.length > this.config.pendingMaxBytes || this.config.pendingMaxSets <= 0) {
      return { overflow: 1, expired };
    }
    while (es.pending.length >= this.config.pendingMaxSets || es.pendingBytes + p.body.length > this.config.pendingMaxBytes) {
      const old = es.pending.shift()!;
      es.pendingBytes -= old.body.length;
      this.pendingTotal--;
      overflow++;
    }
    es.pending.push(p);
    es.pendingBytes += p.body.length;
    this.pendingTotal++;
    return { overflow, expired };
  }

  /** Removes and returns, oldest first, the held sets for a template that has just arrived. */
  takePending(proto: TemplateProtocol, exporter: string, domain: number, templateId: number): PendingSet[] {
    const es = this.ns[proto].get(exporter);
    if (!es || es.pending.length === 0) return [];
    const out: PendingSet[] = [];
    const keep: PendingSet[] = [];
    for (const p of es.pending) {
      if (p.templateId === templateId && p.header.domain === domain) out.push(p);
      else keep.push(p);
    }
    if (out.length === 0) return out;
    es.pending.length = 0;
    es.pending.push(...keep);
    for (const p of out) es.pendingBytes -= p.body.length;
    this.pendingTotal -= out.length;
    return out;
  }

  /** Drops an exporter's held sets older than the age bound; returns how many (`template_missing`). */
  expirePending(proto: TemplateProtocol, exporter: string, nowMs: number): number {
    const es = this.ns[proto].get(exporter);
    return es ? this.expireState(es, nowMs) : 0;
  }

  private expireState(es: ExporterState, nowMs: number): number {
    const maxAge = this.config.pendingMaxAgeMs;
    let n = 0;
    // Sets are queued in arrival order, so the expired ones are at the head.
    while (es.pending.length > 0 && nowMs - es.pending[0].receivedMs > maxAge) {
      const old = es.pending.shift()!;
      es.pendingBytes -= old.body.length;
      n++;
    }
    this.pendingTotal -= n;
    return n;
  }

  /** Expires held sets of every exporter (periodic timer); returns the counts by exporter. */
  sweep(nowMs: number): Array<{ protocol: TemplateProtocol; exporter: string; expired: number }> {
    const out: Array<{ protocol: TemplateProtocol; exporter: string; expired: number }> = [];
    for (const protocol of ['netflow9', 'ipfix'] as const) {
      for (const [exporter, es] of this.ns[protocol]) {
        const expired = this.expireState(es, nowMs);
        if (expired > 0) out.push({ protocol, exporter, expired });
      }
    }
    return out;
  }

  /** Number of templates held (all exporters, both protocols): the `template cache size` gauge. */
  size(): number {
    return this.templates;
  }

  /** Number of data sets waiting for their template. */
  pendingSize(): number {
    return this.pendingTotal;
  }

  /** Number of held sets of one exporter. */
  pendingFor(proto: TemplateProtocol, exporter: string): number {
    return this.ns[proto].get(exporter)?.pending.length ?? 0;
  }

  /** Forgets everything about one exporter (e.g. when it restarts with a new sequence). */
  forgetExporter(proto: TemplateProtocol, exporter: string): void {
    const es = this.ns[proto].get(exporter);
    if (!es) return;
    this.templates -= es.templateCount;
    this.pendingTotal -= es.pending.length;
    this.ns[proto].delete(exporter);
  }
}
