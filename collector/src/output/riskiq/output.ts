// SPDX-License-Identifier: Apache-2.0
/**
 * The RiskIQ export output (DESIGN.md §6): `write()` turns a document into a record line (or nothing, for a
 * flow without a public side) and queues it; the transport does the rest off the decoding path. One
 * output per decoding worker, so `threatflow run` opens one connection per worker and each worker gets an
 * equal share of `EF_OUTPUT_RISKIQ_QUEUE_MAX` (the variable bounds the collector as a whole).
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type tls from 'node:tls';
import type { RiskiqOutputConfig } from '../../config';
import type { Logger } from '../../observability/logger';
import type { Metrics } from '../../observability/metrics';
import type { EcsDocument } from '../../pipeline/ecs';
import type { Output } from '../types';
import { parseKey, uuidBytes } from './frame';
import { createRecordBuilder, type RecordBuilder } from './record';
import { RiskiqTransport, TRANSPORT_DEFAULTS, type TransportOptions, type TransportStats } from './transport';

export interface RiskiqOutputOptions extends TransportOptions {
  /** The normalizer's extra private ranges (EF_PROCESSOR_ENRICH_IPADDR_PRIVATE_CIDRS). */
  privateCidrs: readonly string[];
}

/**
 * TLS connect options of the export: the CA file (validated at startup) replaces the system CAs when set;
 * `rejectUnauthorized: false` only with EF_OUTPUT_RISKIQ_TLS_SKIP_VERIFICATION. The server name (SNI and
 * the name verified) is EF_OUTPUT_RISKIQ_HOST when it is a host name; for an address the certificate must
 * name the address (the transport sends no SNI then, as RFC 6066 requires).
 */
export function riskiqTlsOptions(cfg: Pick<RiskiqOutputConfig, 'host' | 'tlsSkipVerification' | 'tlsCaCertFilepath'>): tls.ConnectionOptions {
  return {
    rejectUnauthorized: !cfg.tlsSkipVerification,
    ...(cfg.tlsCaCertFilepath !== '' ? { ca: readFileSync(cfg.tlsCaCertFilepath) } : {}),
    ...(isIP(cfg.host) === 0 ? { servername: cfg.host } : {}),
  };
}

/**
 * Transport options from the validated configuration. `workers` is the number of outputs that will share
 * the queue bound (decoding workers); `overrides` are for tests.
 */
export function riskiqOutputOptions(
  cfg: RiskiqOutputConfig,
  privateCidrs: readonly string[],
  workers = 1,
  overrides: Partial<RiskiqOutputOptions> = {},
): RiskiqOutputOptions {
  return {
    host: cfg.host,
    port: cfg.port,
    tls: cfg.tlsEnabled ? riskiqTlsOptions(cfg) : false,
    key: parseKey(cfg.customerEncryptionKey),
    uuid: uuidBytes(cfg.customerUuid),
    batchSize: cfg.batchSize,
    batchDeadlineMs: cfg.batchDeadlineMs,
    queueMax: Math.max(1, Math.ceil(cfg.queueMax / Math.max(1, workers))),
    ...TRANSPORT_DEFAULTS,
    privateCidrs,
    ...overrides,
  };
}

export class RiskiqOutput implements Output {
  readonly name = 'riskiq';
  private readonly builder: RecordBuilder;
  private readonly transport: RiskiqTransport;

  constructor(
    opts: RiskiqOutputOptions,
    log: Logger,
    metrics: Metrics | null,
  ) {
    this.builder = createRecordBuilder(opts.privateCidrs);
    this.transport = new RiskiqTransport(opts, log, metrics);
  }

  /** Starts connecting in the background: an unreachable receiver never delays or fails startup. */
  async start(): Promise<void> {
    this.transport.start();
  }

  write(doc: EcsDocument, _line: string): void {
    const line = this.builder.line(doc);
    if (line === null) {
      this.transport.skip();
      return;
    }
    this.transport.enqueue(line);
  }

  flush(): Promise<void> {
    return this.transport.flush();
  }

  stop(): Promise<void> {
    return this.transport.stop();
  }

  stats(): TransportStats {
    return this.transport.stats();
  }
}
