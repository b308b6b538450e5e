// SPDX-License-Identifier: Apache-2.0
/**
 * Test helpers of the RiskIQ export: an independent frame opener written against DESIGN.md §6 with Node's
 * crypto and zlib only (it shares no code with src/output/riskiq, so a bug in the encoder cannot hide in a
 * matching bug in the decoder), a raw TCP receiver that keeps every byte, and `threatflow riskiq-sink` as a
 * child process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createDecipheriv } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { CLI, requireBuiltCli } from '../../helpers/collector';

export const TEST_UUID = '123e4567-e89b-12d3-a456-426614174000';

/** Keys of every AES size, fixed so failures are reproducible. */
export const KEYS: Record<128 | 192 | 256, Buffer> = {
  128: Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex'),
  192: Buffer.from('000102030405060708090a0b0c0d0e0f1011121314151617', 'hex'),
  256: Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex'),
};

export interface OpenedFrame {
  uuidHex: string;
  nonce: Buffer;
  length: number;
  /** The decrypted, inflated NDJSON text. */
  text: string;
  /** Its lines, without the final newline. */
  lines: string[];
}

/**
 * Splits `stream` into frames and opens each one, straight from the specification: "RQF1" | 16-byte UUID |
 * 12-byte nonce | uint32 BE ciphertext length | AES-GCM ciphertext (AAD = magic || uuid) | 16-byte tag.
 * Throws on anything that is not exactly a sequence of valid frames.
 */
export function openFramesIndependently(stream: Buffer, key: Buffer, uuidText = TEST_UUID): OpenedFrame[] {
  const uuid = Buffer.from(uuidText.replace(/-/g, ''), 'hex');
  const algo = ({ 16: 'aes-128-gcm', 24: 'aes-192-gcm', 32: 'aes-256-gcm' } as const)[key.length as 16 | 24 | 32];
  if (!algo) throw new Error(`bad key length ${key.length}`);
  const frames: OpenedFrame[] = [];
  let off = 0;
  while (off < stream.length) {
    if (stream.length - off < 36 + 16) throw new Error(`trailing ${stream.length - off} bytes at ${off}`);
    if (stream.toString('latin1', off, off + 4) !== 'RQF1') throw new Error(`no magic at ${off}`);
    const frameUuid = stream.subarray(off + 4, off + 20);
    if (!frameUuid.equals(uuid)) throw new Error(`wrong uuid at ${off}`);
    const nonce = stream.subarray(off + 20, off + 32);
    const length = stream.readUInt32BE(off + 32);
    const data = stream.subarray(off + 36, off + 36 + length);
    const tag = stream.subarray(off + 36 + length, off + 36 + length + 16);
    if (tag.length !== 16) throw new Error(`truncated frame at ${off}`);
    const d = createDecipheriv(algo, key, nonce, { authTagLength: 16 });
    d.setAAD(Buffer.concat([Buffer.from('RQF1', 'latin1'), uuid]));
    d.setAuthTag(tag);
    const gz = Buffer.concat([d.update(data), d.final()]);
    const text = gunzipSync(gz).toString('utf8');
    const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
    frames.push({ uuidHex: frameUuid.toString('hex'), nonce: Buffer.from(nonce), length, text, lines });
    off += 36 + length + 16;
  }
  return frames;
}

/** A TCP server that keeps every byte each connection sent; `paused` servers never read (full window). */
export async function rawReceiver(opts: { paused?: boolean; port?: number } = {}): Promise<{
  port: number;
  connections: Array<{ socket: net.Socket; data: Buffer[] }>;
  bytes(): Buffer;
  close(): Promise<void>;
}> {
  const connections: Array<{ socket: net.Socket; data: Buffer[] }> = [];
  const server = net.createServer((socket) => {
    const c = { socket, data: [] as Buffer[] };
    connections.push(c);
    socket.on('error', () => {});
    if (opts.paused) socket.pause();
    else socket.on('data', (b: Buffer) => c.data.push(b));
  });
  await new Promise<void>((r) => server.listen(opts.port ?? 0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections,
    bytes: () => Buffer.concat(connections.flatMap((c) => c.data)),
    close: () =>
      new Promise<void>((r) => {
        for (const c of connections) c.socket.destroy();
        server.close(() => r());
      }),
  };
}

/** Polls until `fn` is truthy or `ms` passes (then throws with `what`). */
export async function until(fn: () => boolean | Promise<boolean>, ms: number, what: string, stepMs = 20): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

export interface SinkProcess {
  child: ChildProcess;
  port: number;
  /** Record lines printed on stdout so far. */
  records(): string[];
  /** Parsed JSON log lines from stderr so far. */
  logs(): Array<Record<string, any>>;
  /** Raw stderr text. */
  stderr(): string;
  /** SIGTERM, wait (bounded), then SIGKILL; resolves with the exit code. */
  stop(): Promise<number | null>;
  kill(signal: NodeJS.Signals): void;
}

/** Writes a key to a 0600 file in a fresh temp directory and returns the path. */
export function keyFile(key: Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), 'tf-riskiq-key-'));
  const path = join(dir, 'key.b64');
  writeFileSync(path, key.toString('base64') + '\n', { mode: 0o600 });
  return path;
}

/** Starts `threatflow riskiq-sink` on 127.0.0.1:port and waits until it listens (bounded). */
export async function startSinkProcess(opts: { port: number; key: Buffer; uuid?: string; extraArgs?: string[] }): Promise<SinkProcess> {
  requireBuiltCli();
  const args = [CLI, 'riskiq-sink', '--listen', `127.0.0.1:${opts.port}`, '--uuid', opts.uuid ?? TEST_UUID, '--key-file', keyFile(opts.key), ...(opts.extraArgs ?? [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const out: string[] = [];
  let partial = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    const lines = (partial + d).split('\n');
    partial = lines.pop() ?? '';
    out.push(...lines);
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r((exitCode = code))));
  const logs = () =>
    err
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, any>);
  const proc: SinkProcess = {
    child,
    port: opts.port,
    records: () => [...out],
    logs,
    stderr: () => err,
    kill: (signal) => {
      if (exitCode === undefined) child.kill(signal);
    },
    async stop() {
      if (exitCode === undefined) {
        child.kill('SIGCONT');
        child.kill('SIGTERM');
      }
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  const deadline = Date.now() + 15_000;
  while (!logs().some((l) => l.msg === 'riskiq sink listening')) {
    if (exitCode !== undefined) throw new Error(`riskiq-sink exited (${exitCode}) during startup:\n${err}`);
    if (Date.now() > deadline) {
      await proc.stop();
      throw new Error(`riskiq-sink not listening within 15 s:\n${err}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return proc;
}

/** Resident set size of a process in bytes, from /proc/<pid>/status (null when unreadable). */
export function rssBytes(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}
