// SPDX-License-Identifier: Apache-2.0
/**
 * The flow pipeline, one straight line (DESIGN.md §1):
 * datagram -> protocol detection -> decoder (template state) -> FlowRecord -> ECS document -> enrichers
 * -> NDJSON line -> outputs.
 *
 * The same object runs in a worker thread of the live collector, in `threatflow decode` and in tests.
 * The per-record path is synchronous on purpose: a callback per record, no promises, so a datagram is
 * decoded and handed to the outputs in one turn of the event loop (STYLE.md §8).
 */
import { DecodeError, type ExporterInfo, type FlowProtocol, type FlowRecord } from '../decode/types';
import type { Logger } from '../observability/logger';
import { BurstLimiter } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { Output } from '../output/types';
import { detectProtocol } from '../server/detect';
import { createDecoders, type DecoderOptions, type DatagramDecoder } from './decoders';
import { serializeDocument, type EcsDocument } from './ecs';
import { createNormalizer, type NormalizerConfig } from './normalize';

const PROTOCOLS: readonly FlowProtocol[] = ['netflow5', 'netflow9', 'ipfix', 'sflow5'];

/** Adds fields to a finished document from read-only tables (threat DB, ...); must not throw. */
export interface Enricher {
  readonly name: string;
  enrich(doc: EcsDocument, rec: FlowRecord): void;
}

export interface PipelineOptions {
  decode: DecoderOptions;
  normalize: NormalizerConfig;
  enrichers: Enricher[];
  outputs: Output[];
  metrics: Metrics;
  log: Logger;
  /** Clock for "collected" timestamps; injectable so `decode` output is deterministic. */
  now?: () => number;
}

export class Pipeline {
  private readonly decoders: Map<FlowProtocol, DatagramDecoder>;
  private readonly normalizer: ReturnType<typeof createNormalizer>;
  private readonly limiter = new BurstLimiter(10, 60_000);
  private readonly emit: (rec: FlowRecord) => void;
  private collectedMs = 0;
  /** Records emitted by the datagram being decoded, by protocol. */
  private readonly recordCounts: Record<FlowProtocol, number> = { netflow5: 0, netflow9: 0, ipfix: 0, sflow5: 0 };

  constructor(private readonly opts: PipelineOptions) {
    this.decoders = createDecoders(opts.decode, opts.metrics);
    this.normalizer = createNormalizer(opts.normalize);
    opts.metrics.onError = (reason, exporter, protocol, detail) => this.logDecodeError(reason, exporter, protocol, detail);
    // One bound function for every record, created once: no closure per datagram.
    this.emit = (rec) => this.handleRecord(rec);
  }

  /** Decodes one datagram and sends its records to the outputs. Never throws. Returns the record count. */
  handleDatagram(buf: Buffer, exporter: ExporterInfo): number {
    const m = this.opts.metrics;
    const protocol = detectProtocol(buf);
    if (!protocol) {
      m.inc('datagrams', { protocol: 'unknown' });
      m.error(buf.length < 4 ? 'short_datagram' : 'unknown_version', exporter.address, 'unknown', `${buf.length} bytes`);
      return 0;
    }
    m.inc('datagrams', { protocol });
    const decoder = this.decoders.get(protocol);
    if (!decoder) {
      m.error('protocol_disabled', exporter.address, protocol, 'decoding of this protocol is disabled');
      return 0;
    }
    this.collectedMs = (this.opts.now ?? Date.now)();
    const counts = this.recordCounts;
    try {
      decoder.decode(buf, exporter, this.emit);
    } catch (err) {
      if (err instanceof DecodeError) {
        m.error(err.reason, exporter.address, protocol, err.message);
      } else {
        // A bug, not bad input: count it apart so it is noticed, and keep serving.
        m.inc('internal_errors', { protocol });
        const allowed = this.limiter.allow('internal');
        if (allowed >= 0) this.opts.log.error({ err, exporter: exporter.address, protocol }, 'internal error while decoding a datagram');
      }
    }
    // Records are counted here, once per datagram and protocol, not once per record (a metric key is
    // built from its labels on every increment).
    const n = counts[protocol];
    if (counts.netflow5 + counts.netflow9 + counts.ipfix + counts.sflow5 !== n) {
      // Records of another protocol (not expected from today's decoders): count them under theirs.
      for (const p of PROTOCOLS) if (p !== protocol && counts[p] > 0) m.inc('records', { protocol: p }, counts[p]);
    }
    if (n > 0) m.inc('records', { protocol }, n);
    counts.netflow5 = counts.netflow9 = counts.ipfix = counts.sflow5 = 0;
    return n;
  }

  private handleRecord(rec: FlowRecord): void {
    this.recordCounts[rec.protocol]++;
    const doc = this.normalizer.toDocument(rec, this.collectedMs);
    for (const e of this.opts.enrichers) e.enrich(doc, rec);
    const line = serializeDocument(doc);
    for (const o of this.opts.outputs) o.write(doc, line);
  }

  private logDecodeError(reason: string, exporter: string, protocol: string, detail: string): void {
    const suppressed = this.limiter.allow(`${exporter}/${reason}`);
    if (suppressed < 0) return;
    this.opts.log.warn(
      { exporter, protocol, reason, detail, ...(suppressed > 0 ? { suppressed } : {}) },
      'malformed flow data skipped',
    );
  }

  /** Periodic housekeeping (expiry of data held for missing templates); `nowMs` from the caller's clock. */
  tick(nowMs: number): void {
    for (const d of this.decoders.values()) d.tick?.(nowMs);
  }

  /** Starts every output (template installation, connections); the first failure stops startup. */
  async start(): Promise<void> {
    for (const o of this.opts.outputs) await o.start();
  }

  /** Flushes and stops every output. */
  async stop(): Promise<void> {
    for (const o of this.opts.outputs) await o.stop();
  }

  /** Template cache sizes and the like, for metrics. */
  stats(): Record<string, number> {
    const out: Record<string, number> = {};
    // Decoders that share state (v9 and IPFIX share the template store) report the same gauges.
    for (const d of this.decoders.values()) if (d.stats) Object.assign(out, d.stats());
    return out;
  }
}
