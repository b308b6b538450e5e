// SPDX-License-Identifier: Apache-2.0
/**
 * The reference RiskIQ receiver behind `threatflow riskiq-sink` (DESIGN.md §6): listens on TCP (or TLS),
 * splits each connection into frames, checks magic, customer UUID and GCM tag, decrypts, inflates, checks
 * each NDJSON record against the record schema, and writes the valid record lines to `out` exactly as
 * received. Bad frames and records are counted by reason and logged (burst-limited) without any secret or
 * decrypted content; garbage on a connection is skipped up to the next frame. Each record is also checked
 * with the shared address classifier: a record holding a non-public address is counted and logged
 * (`private_address`), since that would be a collector bug — it is what a user runs to see exactly what
 * leaves their network.
 *
 * A slow `out` (a pipe nobody reads) pauses the connections instead of buffering without bound.
 */
import net from 'node:net';
import tls from 'node:tls';
import { createIpClassifier } from '../../enrich/ip-class';
import { BurstLimiter, type Logger } from '../../observability/logger';
import { decodeRecords, FrameReader, MAX_FRAME_DATA_BYTES, openFrame, UUID_BYTES, uuidText, type BadFrameReason } from './frame';
import { RECORD_KEYS } from './record';

export interface SinkOptions {
  host: string;
  port: number;
  uuid: Buffer;
  key: Buffer;
  /** PEM certificate chain and private key: listen with TLS. */
  tls?: { cert: Buffer; key: Buffer } | null;
  /** Extra private ranges for the record check (the collector's EF_PROCESSOR_ENRICH_IPADDR_PRIVATE_CIDRS). */
  privateCidrs?: readonly string[];
  maxFrameDataBytes?: number;
}

export type BadRecordReason = 'not_json' | 'bad_schema' | 'private_address';

export interface SinkStats {
  connections: number;
  frames: number;
  records: number;
  /** Frame bytes received in good frames. */
  bytes: number;
  badFrames: Record<BadFrameReason, number>;
  badRecords: Record<BadRecordReason, number>;
}

export interface RiskiqSink {
  readonly host: string;
  readonly port: number;
  stats(): SinkStats;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

/** Why a parsed record does not fit DESIGN.md §6, or null when it does. */
export function recordSchemaProblem(r: unknown): string | null {
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return 'not an object';
  const keys = Object.keys(r);
  if (keys.length !== RECORD_KEYS.length || keys.some((k, i) => k !== RECORD_KEYS[i])) return `keys are ${keys.join(',')}`;
  const o = r as Record<string, unknown>;
  const num = (k: string) => typeof o[k] === 'number' && Number.isFinite(o[k]);
  const port = (k: string) => o[k] === null || (Number.isInteger(o[k]) && (o[k] as number) >= 0 && (o[k] as number) <= 65535);
  for (const k of ['start', 'end', 'bytes', 'packets', 'tcp_flags']) if (!num(k)) return `${k} is not a number`;
  for (const k of ['src_ip', 'dst_ip', 'community_id']) if (typeof o[k] !== 'string') return `${k} is not a string`;
  if (!port('src_port') || !port('dst_port')) return 'a port is not null or 0-65535';
  if (o.src_ip === '' && o.src_port !== null) return 'src_port without src_ip';
  if (o.dst_ip === '' && o.dst_port !== null) return 'dst_port without dst_ip';
  if (o.src_ip === '' && o.dst_ip === '') return 'no public side';
  if (!(o.protocol === null || (Number.isInteger(o.protocol) && (o.protocol as number) >= 0 && (o.protocol as number) <= 255))) {
    return 'protocol is not null or 0-255';
  }
  return null;
}

const BAD_FRAME_REASONS: BadFrameReason[] = ['bad_magic', 'bad_length', 'wrong_uuid', 'bad_tag', 'bad_gzip', 'too_large', 'truncated'];

export function startRiskiqSink(opts: SinkOptions, out: NodeJS.WritableStream, log: Logger): Promise<RiskiqSink> {
  if (opts.uuid.length !== UUID_BYTES) throw new Error('the customer UUID must be 16 bytes');
  const classifier = createIpClassifier(opts.privateCidrs ?? []);
  const limiter = new BurstLimiter(20, 60_000);
  const stats: SinkStats = {
    connections: 0,
    frames: 0,
    records: 0,
    bytes: 0,
    badFrames: Object.fromEntries(BAD_FRAME_REASONS.map((r) => [r, 0])) as Record<BadFrameReason, number>,
    badRecords: { not_json: 0, bad_schema: 0, private_address: 0 },
  };
  const sockets = new Set<net.Socket>();

  const warn = (key: string, fields: Record<string, unknown>, msg: string) => {
    const suppressed = limiter.allow(key);
    if (suppressed >= 0) log.warn(suppressed > 0 ? { ...fields, suppressed } : fields, msg);
  };

  function onConnection(sock: net.Socket): void {
    stats.connections++;
    sockets.add(sock);
    const remote = `${sock.remoteAddress}:${sock.remotePort}`;
    let frames = 0;
    let records = 0;
    log.info({ remote }, 'connection opened');

    const badFrame = (reason: BadFrameReason, bytes: number, extra: Record<string, unknown> = {}) => {
      stats.badFrames[reason]++;
      warn(`frame/${reason}`, { remote, reason, bytes, ...extra }, 'bad frame');
    };

    const onFrame = (frame: Buffer) => {
      const opened = openFrame(frame, opts.key, opts.uuid);
      if (!opened.ok) {
        // The UUID is an identifier, not a secret: naming the one received helps find a misconfigured sender.
        badFrame(opened.reason, frame.length, opened.reason === 'wrong_uuid' ? { uuid: uuidText(frame.subarray(4, 4 + UUID_BYTES)) } : {});
        return;
      }
      const decoded = decodeRecords(opened.payload);
      if (!decoded.ok) {
        badFrame(decoded.reason, frame.length);
        return;
      }
      stats.frames++;
      stats.bytes += frame.length;
      frames++;
      let text = '';
      for (const line of decoded.lines) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(line);
        } catch {
          stats.badRecords.not_json++;
          warn('record/not_json', { remote, reason: 'not_json' }, 'bad record');
          continue;
        }
        const problem = recordSchemaProblem(parsed);
        if (problem !== null) {
          stats.badRecords.bad_schema++;
          warn('record/bad_schema', { remote, reason: 'bad_schema', problem }, 'bad record');
          continue;
        }
        const r = parsed as { src_ip: string; dst_ip: string };
        if ((r.src_ip !== '' && classifier.isPrivate(r.src_ip)) || (r.dst_ip !== '' && classifier.isPrivate(r.dst_ip))) {
          // Printed anyway: the point of the sink is to show what was sent.
          stats.badRecords.private_address++;
          warn('record/private_address', { remote, reason: 'private_address' }, 'record holds a non-public address');
        }
        stats.records++;
        records++;
        text += line + '\n';
      }
      if (text !== '' && !out.write(text)) {
        sock.pause();
        out.once('drain', () => sock.resume());
      }
    };

    const reader = new FrameReader(onFrame, (reason, bytes) => badFrame(reason, bytes), opts.maxFrameDataBytes ?? MAX_FRAME_DATA_BYTES);
    sock.on('data', (chunk: Buffer) => reader.push(chunk));
    sock.on('error', (err) => warn(`conn/${remote}`, { remote, error: err.message }, 'connection error'));
    sock.on('close', () => {
      reader.end();
      sockets.delete(sock);
      log.info({ remote, frames, records }, 'connection closed');
    });
  }

  const server: net.Server = opts.tls ? tls.createServer({ cert: opts.tls.cert, key: opts.tls.key }, onConnection) : net.createServer(onConnection);
  if (opts.tls) {
    server.on('tlsClientError', (err: Error, s: tls.TLSSocket) => warn('tls', { remote: `${s.remoteAddress}:${s.remotePort}`, error: err.message }, 'TLS handshake failed'));
  }

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      server.on('error', (err) => log.error({ error: err.message }, 'server error'));
      const addr = server.address() as net.AddressInfo;
      resolve({
        host: addr.address,
        port: addr.port,
        stats: () => ({ ...stats, badFrames: { ...stats.badFrames }, badRecords: { ...stats.badRecords } }),
        close: () =>
          new Promise<void>((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      });
    });
  });
}
