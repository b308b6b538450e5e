// SPDX-License-Identifier: Apache-2.0
/**
 * The decoder registry, wired explicitly in one place (STYLE.md §10): which protocols are on, and the
 * per-pipeline state each decoder keeps (templates, options data). Each entry closes over its own state so
 * the pipeline calls every decoder the same way.
 */
import { decodeNetflow5 } from '../decode/netflow5';
import { decodeSflow } from '../decode/sflow';
import type { DecodeEnv, EmitRecord, ExporterInfo, FlowProtocol } from '../decode/types';
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
}

export function createDecoders(opts: DecoderOptions, metrics: Metrics): Map<FlowProtocol, DatagramDecoder> {
  const env: DecodeEnv = { metrics };
  const decoders = new Map<FlowProtocol, DatagramDecoder>();
  if (opts.protocols.netflow5) decoders.set('netflow5', { decode: (b, x, e) => decodeNetflow5(b, x, env, e) });
  if (opts.protocols.sflow5) decoders.set('sflow5', { decode: (b, x, e) => decodeSflow(b, x, env, e) });
  return decoders;
}
