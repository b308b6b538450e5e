// SPDX-License-Identifier: Apache-2.0
/**
 * `threatflow replay FILE... --to HOST:PORT [--rate N] [--loop [COUNT]]`: sends the UDP payloads of
 * captures to a collector, in file order, with a progress bar on stderr. Used by the demo, the tests and
 * the benchmarks, and by users to check a deployment with a capture from their own exporters.
 */
import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { readCaptureFile, type CapturedDatagram } from '../capture/pcap';

export interface ReplayOptions {
  host: string;
  port: number;
  /** Datagrams per second; 0 = as fast as the socket takes them. */
  rate: number;
  /** How many passes over the captures; 0 = until stopped (the CLI's `--loop` without a count). */
  loops: number;
  /** Only datagrams to this destination port (e.g. the exporter's collector port); 0 = all. */
  filterPort: number;
  progress: boolean;
  signal?: AbortSignal;
}

export function parseTarget(text: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !Number.isInteger(port) || port < 1 || port > 65535 || (isIP(m[1]) === 0 && !/^[a-zA-Z0-9.-]+$/.test(m[1]))) {
    throw new Error(`--to "${text}" is not valid: HOST:PORT with a port 1-65535 (IPv6 as [addr]:port)`);
  }
  return { host: m[1], port };
}

/** Resolves `--to`'s host to an address (IPs as they are); throws a clear error when it cannot. */
export async function resolveTarget(host: string): Promise<string> {
  if (isIP(host) !== 0) return host;
  try {
    return (await lookup(host)).address;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new Error(`--to: cannot resolve host "${host}" (${code})`);
  }
}

/** Parses `--loop`: absent = 1 pass, no value = until interrupted (0), else a whole number >= 1. */
export function parseLoop(value: string | boolean | undefined): number {
  if (value === undefined) return 1;
  if (value === true) return 0;
  const n = Number(value);
  if (!/^\d+$/.test(String(value)) || !Number.isSafeInteger(n) || n < 1) {
    throw new Error(`--loop "${String(value)}" is not valid: a whole number >= 1, or no value to loop until interrupted`);
  }
  return n;
}

/** Parses `--port-filter`: 0 (the default) = every datagram, else a UDP port 1-65535. */
export function parsePortFilter(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new Error(`--port-filter "${value}" is not valid: a UDP port 1-65535 (0 = all datagrams)`);
  return n;
}

/** Sends the datagrams; resolves with the number sent. */
export async function replay(datagrams: CapturedDatagram[], opts: ReplayOptions): Promise<number> {
  const sock = dgram.createSocket(isIP(opts.host) === 6 ? 'udp6' : 'udp4');
  const total = opts.loops > 0 ? datagrams.length * opts.loops : 0;
  const bar = opts.progress
    ? new cliProgress.SingleBar(
        { format: 'replay |{bar}| {value}/{total} datagrams | {rate}/s', stream: process.stderr, hideCursor: true },
        cliProgress.Presets.shades_classic,
      )
    : null;
  bar?.start(total || datagrams.length, 0, { rate: 0 });
  let sent = 0;
  const started = Date.now();
  let inFlight = 0;
  const maxInFlight = 64;
  let waiter: (() => void) | null = null;
  let sendError: Error | null = null;
  try {
    for (let loop = 0; !sendError && (opts.loops === 0 || loop < opts.loops); loop++) {
      for (const d of datagrams) {
        if (opts.signal?.aborted) return sent;
        // Send callbacks arrive on process.nextTick, so a flat-out loop would never let timers or signal
        // handlers (Ctrl-C, --loop until interrupted) run: yield to the event loop now and then.
        if (sent % 1024 === 1023) await new Promise((r) => setImmediate(r));
        if (opts.rate > 0) {
          const due = started + (sent * 1000) / opts.rate;
          const wait = due - Date.now();
          if (wait > 1) await new Promise((r) => setTimeout(r, wait));
        }
        // Bounded in-flight sends: the kernel's send buffer, not our memory, absorbs bursts.
        while (inFlight >= maxInFlight) await new Promise<void>((r) => (waiter = r));
        inFlight++;
        if (sendError) break;
        sock.send(d.payload, opts.port, opts.host, (err) => {
          if (err && !sendError) sendError = err;
          inFlight--;
          const w = waiter;
          waiter = null;
          w?.();
        });
        sent++;
        if (bar && sent % 256 === 0) bar.update(total ? sent : sent % (datagrams.length + 1), { rate: Math.round((sent * 1000) / Math.max(1, Date.now() - started)) });
      }
    }
    while (inFlight > 0) await new Promise<void>((r) => (waiter = r));
    if (sendError) throw new Error(`sending to ${opts.host}:${opts.port} failed: ${(sendError as Error).message}`);
  } finally {
    bar?.update(total ? sent : datagrams.length, { rate: Math.round((sent * 1000) / Math.max(1, Date.now() - started)) });
    bar?.stop();
    sock.close();
  }
  return sent;
}

export function register(program: Command): void {
  program
    .command('replay')
    .description('send the UDP payloads of pcap/pcapng captures to a collector')
    .argument('<file...>', 'capture files (pcap or pcapng, optionally gzip-compressed)')
    .requiredOption('--to <host:port>', 'where to send the datagrams')
    .option('--rate <n>', 'datagrams per second (0 = as fast as possible)', '0')
    .option('--loop [count]', 'repeat the captures COUNT times, COUNT >= 1 (no COUNT: until interrupted)')
    .option('--port-filter <port>', 'only send datagrams that went to this UDP port (1-65535) in the capture; 0 = all', '0')
    .option('--no-progress', 'no progress bar')
    .action(async (files: string[], o: { to: string; rate: string; loop?: string | boolean; portFilter: string; progress: boolean }) => {
      const target = parseTarget(o.to);
      const rate = Number(o.rate);
      if (!Number.isFinite(rate) || rate < 0) throw new Error(`--rate "${o.rate}" is not valid: a number of datagrams per second >= 0`);
      const loops = parseLoop(o.loop);
      const filterPort = parsePortFilter(o.portFilter);
      const host = await resolveTarget(target.host);
      let datagrams: CapturedDatagram[] = [];
      for (const f of files) datagrams = datagrams.concat(readCaptureFile(f, (w) => process.stderr.write(`threatflow: warning: ${w}\n`)));
      if (filterPort > 0) datagrams = datagrams.filter((d) => d.dstPort === filterPort);
      if (datagrams.length === 0) throw new Error('the captures hold no UDP datagrams to send');
      const ac = new AbortController();
      process.once('SIGINT', () => ac.abort());
      const sent = await replay(datagrams, { host, port: target.port, rate, loops, filterPort, progress: o.progress && process.stderr.isTTY === true, signal: ac.signal });
      process.stderr.write(`sent ${sent} datagrams to ${o.to}\n`);
    });
}
