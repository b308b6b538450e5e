// SPDX-License-Identifier: Apache-2.0
/** Builds the @elastic/elasticsearch client from the EF_OUTPUT_ELASTICSEARCH_* settings (DESIGN.md §8). */
import { readFileSync } from 'node:fs';
import { Client, type ClientOptions } from '@elastic/elasticsearch';

export interface ConnectionConfig {
  /** `host:port` entries, no scheme: `tlsEnable` picks http or https. */
  addresses: string[];
  username: string;
  password: string;
  apiKey: string;
  cloudId: string;
  tlsEnable: boolean;
  tlsSkipVerification: boolean;
  tlsCaCertFilepath: string;
  /** Per-request timeout (ms). */
  requestTimeoutMs?: number;
}

export function createClient(cfg: ConnectionConfig): Client {
  const scheme = cfg.tlsEnable ? 'https' : 'http';
  const opts: ClientOptions = {
    // Our bulk writer retries with its own backoff and knows which items failed; the client only moves on
    // to the next node when one cannot be reached (so a list of addresses fails over).
    maxRetries: Math.max(0, cfg.addresses.length - 1),
    requestTimeout: cfg.requestTimeoutMs ?? 30_000,
    // Compressing bodies costs ~5 µs per flow (PERFORMANCE.md §2): off, except for Cloud where it pays.
    compression: cfg.cloudId !== '',
  };
  if (cfg.cloudId) opts.cloud = { id: cfg.cloudId };
  else opts.nodes = cfg.addresses.map((a) => `${scheme}://${a.includes(':') && !a.startsWith('[') && a.split(':').length > 2 ? `[${a}]` : a}`);
  if (cfg.apiKey) opts.auth = { apiKey: cfg.apiKey };
  else if (cfg.username) opts.auth = { username: cfg.username, password: cfg.password };
  if (cfg.tlsEnable || cfg.cloudId) {
    opts.tls = { rejectUnauthorized: !cfg.tlsSkipVerification };
    if (cfg.tlsCaCertFilepath) opts.tls.ca = readFileSync(cfg.tlsCaCertFilepath);
  }
  return new Client(opts);
}
