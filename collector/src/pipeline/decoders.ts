// SPDX-License-Identifier: Apache-2.0
/**
 * The decoder registry, wired explicitly in one place (STYLE.md §10): which protocols are on, and the
 * per-pipeline state each decoder keeps (the NetFlow v9/IPFIX template store, with options data). Each
 * entry closes over its own state so the pipeline calls every decoder the same way.
 */
import { decodeIpfix } from '../decode/ipfix';
import { decodeNetflow5 } from '../decode/netflow5';
import { decodeNetflow9 } from '../decode/netflow9';
import { decodeSflow } from '../decode/sflow';
import { sweepPending } from '../decode/templates';
import { TemplateStore } from '../decode/templates/store';
import type { TemplateDecodeEnv } from '../decode/templates/records';
import type { EmitRecord, ExporterInfo, FlowProtocol } from '../decode/types';
import type { Metrics } from '../observability/metrics';

export interface DecoderOptions {
  protocols: { netflow5: boolean; netflow9: boolean; ipfix: boolean; sflow5: boolean };
  templatePendingMax: number;
  templatePendingMaxAgeSeconds: number;
}

export interface DatagramDecoder {
  decode(buf: Buffer, exporter: ExporterInfo, emit: EmitRecord): void;
  /** Gauges such as template cache size. */
  stats?(): Record<string, number>;
  /** Housekeeping on a timer: drops data held too long for a template (counted as template_missing). */
  tick?(nowMs: number): void;
}

export function createDecoders(opts: DecoderOptions, metrics: Metrics): Map<FlowProtocol, DatagramDecoder> {
  // One store for both template protocols: it keeps NetFlow v9 and IPFIX in separate namespaces.
  const templates = new TemplateStore({
    pendingMaxSets: opts.templatePendingMax,
    pendingMaxAgeMs: opts.templatePendingMaxAgeSeconds * 1000,
  });
  const env: TemplateDecodeEnv = { metrics, templates };
  const templateStats = () => ({ template_cache_size: templates.size(), template_pending_sets: templates.pendingSize() });
  // Shared state, so only one of the two template decoders sweeps it.
  const tick = (nowMs: number) => void sweepPending(env, nowMs);
  const decoders = new Map<FlowProtocol, DatagramDecoder>();
  if (opts.protocols.netflow5) decoders.set('netflow5', { decode: (b, x, e) => decodeNetflow5(b, x, env, e) });
  if (opts.protocols.netflow9) decoders.set('netflow9', { decode: (b, x, e) => void decodeNetflow9(b, x, env, e), stats: templateStats, tick });
  if (opts.protocols.ipfix) decoders.set('ipfix', { decode: (b, x, e) => void decodeIpfix(b, x, env, e), stats: templateStats, tick: opts.protocols.netflow9 ? undefined : tick });
  if (opts.protocols.sflow5) decoders.set('sflow5', { decode: (b, x, e) => decodeSflow(b, x, env, e) });
  return decoders;
}
