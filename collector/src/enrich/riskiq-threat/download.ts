// SPDX-License-Identifier: Apache-2.0
/**
 * Downloads the PassiveTotal blocklist body (DESIGN.md §5) with axios: HTTP basic auth with the API user
 * and key, `Accept-Encoding: gzip`, TLS verified, the body streamed into memory under a size cap, and the
 * whole download (connect, headers and body) bounded by `_API_TIMEOUT` seconds.
 *
 * Why our own deadline instead of axios' `timeout`: axios' timeout stops at the response headers for a
 * streamed body, so a server that sends headers and then stalls would hold the download forever. One
 * AbortController timer covers the request and every byte of the body.
 *
 * The body is returned as it came over the wire (gzip or not): `Content-Encoding: gzip` is not undone here
 * (`decompress: false`) because the parser, which runs in a worker thread, inflates gzip under its own cap;
 * the byte count in the log line is the bytes received.
 *
 * The log lines are ElastiFlow's, byte for byte (DESIGN.md §5). The URL is logged without credentials, and
 * the API key never appears in a log line or an error message: every message is passed through `redact`.
 */
import type { IncomingMessage } from 'node:http';
import https from 'node:https';
import axios, { AxiosError } from 'axios';
import type { Logger } from '../../observability/logger';

export const RISKIQ_API_USER_VAR = 'EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_API_USER';
export const RISKIQ_API_KEY_VAR = 'EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_API_KEY';

/** Default cap on the downloaded (possibly gzip) body: the real list is tens of MB. */
export const DEFAULT_MAX_DOWNLOAD_BYTES = 256 * 1024 * 1024;

export interface DownloadConfig {
  endpoint: string;
  user: string;
  /** Secret: never logged, never in an error. */
  key: string;
  /** Bounds the whole download, body included. */
  timeoutSeconds: number;
  /** Most bytes accepted on the wire; default DEFAULT_MAX_DOWNLOAD_BYTES. */
  maxBytes?: number;
  /** Extra CA certificates (PEM) to trust besides Node's; verification always stays on. */
  ca?: string | Buffer;
}

export interface DownloadOptions {
  /** Called as bytes arrive; `total` is the Content-Length when the server sent one. */
  onProgress?: (received: number, total: number | null) => void;
  /** Cancels the download (collector shutdown). */
  signal?: AbortSignal;
  /** Clock for `fetchedAt`. */
  now?: () => number;
}

export interface DownloadResult {
  body: Buffer;
  /** Bytes received (the body as sent, gzip or not). */
  bytes: number;
  /** When the body was complete (unix ms). */
  fetchedAt: number;
  /** `gzip` when the server said so, else null (the parser also recognises gzip by its magic bytes). */
  contentEncoding: string | null;
}

export type DownloadFailure = 'auth' | 'http' | 'network' | 'timeout' | 'too_large' | 'truncated' | 'aborted';

/** A download that did not yield a complete body. The message is safe to log (no credentials). */
export class ThreatDownloadError extends Error {
  constructor(
    readonly kind: DownloadFailure,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ThreatDownloadError';
  }
}

/** The endpoint without user info, and with the values of query parameters that look like secrets hidden. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    for (const name of [...u.searchParams.keys()]) {
      if (/key|token|secret|pass|auth|sig/i.test(name)) u.searchParams.set(name, 'REDACTED');
    }
    return u.toString();
  } catch {
    return '[unparseable URL]';
  }
}

/** Replaces every occurrence of the secrets in a message (servers sometimes echo what they were sent). */
export function redact(message: string, secrets: readonly string[]): string {
  let out = message;
  for (const s of secrets) {
    if (s.length < 1) continue;
    out = out.split(s).join('[redacted]');
    // The basic-auth header value, should a library ever quote it.
    const b64 = Buffer.from(s).toString('base64');
    if (b64.length >= 4) out = out.split(b64).join('[redacted]');
  }
  return out;
}

function authError(status: number): ThreatDownloadError {
  return new ThreatDownloadError(
    'auth',
    `the enrichment API refused the credentials (HTTP ${status}): check ${RISKIQ_API_USER_VAR} and ${RISKIQ_API_KEY_VAR}`,
    status,
  );
}

/** Reads at most `limit` bytes of an error response body, for the message; bounded by the same deadline. */
async function errorSnippet(stream: IncomingMessage, limit = 200): Promise<string> {
  const parts: Buffer[] = [];
  let n = 0;
  try {
    for await (const chunk of stream) {
      const b = chunk as Buffer;
      parts.push(b);
      n += b.length;
      if (n >= limit) break;
    }
  } catch {
    /* the status is the message; the body is a courtesy */
  }
  stream.destroy();
  const text = Buffer.concat(parts).subarray(0, limit).toString('utf8').replace(/\s+/g, ' ').trim();
  return /^[\x20-\x7e]*$/.test(text) ? text : '';
}

/** Downloads the body; throws ThreatDownloadError. Logs nothing (see fetchBlocklist). */
export async function downloadBlocklist(cfg: DownloadConfig, opts: DownloadOptions = {}): Promise<DownloadResult> {
  const maxBytes = cfg.maxBytes ?? DEFAULT_MAX_DOWNLOAD_BYTES;
  const timeoutMs = cfg.timeoutSeconds * 1000;
  const secrets = [cfg.key];
  const ac = new AbortController();
  let timedOut = false;
  let stream: IncomingMessage | null = null;
  const timer = setTimeout(() => {
    timedOut = true;
    ac.abort();
    // Also end a body that is being read: a stalled body must not outlive the deadline.
    stream?.destroy(new Error('deadline'));
  }, timeoutMs);
  const onOuterAbort = () => {
    ac.abort();
    stream?.destroy(new Error('cancelled'));
  };
  opts.signal?.addEventListener('abort', onOuterAbort);
  const timeoutError = () =>
    new ThreatDownloadError('timeout', `timeout after ${cfg.timeoutSeconds} s (the whole download, body included)`);
  try {
    let res;
    try {
      res = await axios.request<IncomingMessage>({
        method: 'GET',
        url: cfg.endpoint,
        auth: { username: cfg.user, password: cfg.key },
        headers: { 'Accept-Encoding': 'gzip', Accept: '*/*', 'User-Agent': 'threatflow' },
        responseType: 'stream',
        decompress: false,
        // Redirects are followed (axios drops the credentials on a redirect to another origin).
        maxRedirects: 3,
        validateStatus: () => true,
        signal: ac.signal,
        httpsAgent: new https.Agent({ rejectUnauthorized: true, ...(cfg.ca ? { ca: cfg.ca } : {}) }),
      });
    } catch (err) {
      if (timedOut) throw timeoutError();
      if (opts.signal?.aborted) throw new ThreatDownloadError('aborted', 'download cancelled');
      const e = err as AxiosError;
      const code = e.code ? `${e.code}: ` : '';
      throw new ThreatDownloadError('network', redact(`${code}${e.message}`, secrets));
    }
    stream = res.data;
    const status = res.status;
    if (status === 401 || status === 403) {
      stream.destroy();
      throw authError(status);
    }
    if (status < 200 || status > 299) {
      const snippet = await errorSnippet(stream);
      if (timedOut) throw timeoutError();
      throw new ThreatDownloadError('http', redact(`HTTP ${status}${snippet ? `: ${snippet}` : ''}`, secrets), status);
    }
    const lengthHeader = res.headers['content-length'];
    const total = lengthHeader !== undefined && /^\d+$/.test(String(lengthHeader)) ? Number(lengthHeader) : null;
    if (total !== null && total > maxBytes) {
      stream.destroy();
      throw new ThreatDownloadError('too_large', `the response is ${total} bytes, more than the ${maxBytes}-byte cap`);
    }
    const encodingHeader = res.headers['content-encoding'];
    const contentEncoding = typeof encodingHeader === 'string' && encodingHeader !== '' && encodingHeader !== 'identity' ? encodingHeader : null;
    if (contentEncoding !== null && contentEncoding !== 'gzip' && contentEncoding !== 'x-gzip') {
      stream.destroy();
      throw new ThreatDownloadError('http', `unsupported Content-Encoding "${contentEncoding}" (only gzip)`);
    }
    const parts: Buffer[] = [];
    let received = 0;
    try {
      for await (const chunk of stream) {
        const b = chunk as Buffer;
        received += b.length;
        if (received > maxBytes) {
          stream.destroy();
          throw new ThreatDownloadError('too_large', `the response is more than the ${maxBytes}-byte cap`);
        }
        parts.push(b);
        opts.onProgress?.(received, total);
      }
    } catch (err) {
      if (err instanceof ThreatDownloadError) throw err;
      if (timedOut) throw timeoutError();
      if (opts.signal?.aborted) throw new ThreatDownloadError('aborted', 'download cancelled');
      const e = err as NodeJS.ErrnoException;
      throw new ThreatDownloadError(
        'truncated',
        redact(`connection lost after ${received}${total !== null ? ` of ${total}` : ''} bytes (${e.code ?? e.message})`, secrets),
      );
    }
    if (timedOut) throw timeoutError();
    // Node ends the stream without an error on some premature closes: check the count ourselves.
    if (total !== null && received !== total) {
      throw new ThreatDownloadError('truncated', `connection closed after ${received} of ${total} bytes`);
    }
    if (stream.complete === false) {
      throw new ThreatDownloadError('truncated', `connection closed after ${received} bytes before the response was complete`);
    }
    return { body: Buffer.concat(parts, received), bytes: received, fetchedAt: (opts.now ?? Date.now)(), contentEncoding };
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onOuterAbort);
    stream?.destroy();
  }
}

/** The log lines of DESIGN.md §5, in one place so every caller prints them byte for byte. */
export const LOG = {
  fetching: (url: string) => `RiskIQ Threats: Fetching Threat DB from enrichment API at ${url}`,
  received: (bytes: number) => `RiskIQ Threats: received enrichment API response: ${bytes} bytes`,
  populated: 'RiskIQ Threats: DB successfully populated.',
  readFailed: (reason: string) => `RiskIQ Threats: failed to read the complete enrichment API response: ${reason}`,
  initFailed: (reason: string) => `RiskIQ Threats: failed to initialize DB: ${reason}`,
} as const;

/**
 * `downloadBlocklist` with its log lines: `Fetching ...` before, `received ... bytes` after, and on any
 * failure to obtain a complete body `failed to read the complete enrichment API response: <reason>` (the
 * caller then logs `failed to initialize DB`, as it does for a body that does not build).
 */
export async function fetchBlocklist(cfg: DownloadConfig, log: Logger, opts: DownloadOptions = {}): Promise<DownloadResult> {
  log.info(LOG.fetching(redactUrl(cfg.endpoint)));
  try {
    const res = await downloadBlocklist(cfg, opts);
    log.info({ bytes: res.bytes, ...(res.contentEncoding ? { content_encoding: res.contentEncoding } : {}) }, LOG.received(res.bytes));
    return res;
  } catch (err) {
    const reason = err instanceof ThreatDownloadError ? err.message : redact(String((err as Error)?.message ?? err), [cfg.key]);
    log.error(LOG.readFailed(reason));
    if (err instanceof ThreatDownloadError) throw err;
    throw new ThreatDownloadError('network', reason);
  }
}
