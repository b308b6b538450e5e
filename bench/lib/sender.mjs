// SPDX-License-Identifier: Apache-2.0
// Senders for the end-to-end parts: the C sendmmsg replayer (compiled with gcc at bench time into the
// scratch directory) and, for comparison, the collector's own Node replayer (`threatflow replay`,
// dist/cli/replay.js) measured alone.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_DIR, dist, scratchDir } from './common.mjs';

const SRC = join(BENCH_DIR, 'lib', 'udp-blast.c');

/** Path of the compiled replayer, rebuilt when the source is newer. Throws when gcc fails. */
export function compileBlaster() {
  const bin = join(scratchDir(), 'udp-blast');
  if (!existsSync(bin) || statSync(bin).mtimeMs < statSync(SRC).mtimeMs) {
    execFileSync('gcc', ['-O2', '-Wall', '-o', bin, SRC], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return bin;
}

/** Writes datagrams as [u16 LE length][payload]... for udp-blast; returns the path. */
export function writeDatagramFile(name, datagrams) {
  const parts = [];
  for (const d of datagrams) {
    const h = Buffer.alloc(2);
    h.writeUInt16LE(d.length);
    parts.push(h, d);
  }
  const file = join(scratchDir(), name);
  writeFileSync(file, Buffer.concat(parts));
  return file;
}

/** Runs udp-blast; resolves {sent, seconds, errors, cpu, pid}. `onStart(pid)` is called once spawned. */
export function blast(bin, file, port, rateDps, seconds, onStart) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, [file, '127.0.0.1', String(port), String(rateDps), String(seconds)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.once('error', reject);
    if (onStart) onStart(child.pid);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`udp-blast exited with ${code}`));
      try {
        resolve({ ...JSON.parse(out.trim().split('\n').pop()), pid: child.pid });
      } catch (e) {
        reject(e);
      }
    });
  });
}

/**
 * Sender alone: the C replayer and the project's Node replayer, each flat out for `seconds` into a socket
 * nobody reads. Returns {c: {dps, cpu}, node: {dps, cpu}}.
 */
export async function measureSenders(bin, file, datagrams, seconds) {
  const c = await blast(bin, file, 0, 0, seconds);
  // The Node replayer (dist/cli/replay.js) into a sink held by a stopped child process: bound, never read.
  const sink = spawn(process.execPath, ['-e', "const s=require('dgram').createSocket('udp4');s.bind(0,'127.0.0.1',()=>{console.log(s.address().port)})"], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise((res) => sink.stdout.once('data', (d) => res(Number(String(d).trim()))));
  sink.kill('SIGSTOP');
  let node = { dps: null, cpu: null, error: null };
  try {
    const { replay } = dist('cli/replay');
    const list = datagrams.map((payload) => ({ payload, timeMs: 0, srcAddr: '127.0.0.1', srcPort: 0, dstAddr: '127.0.0.1', dstPort: port }));
    const go = (loops) => replay(list, { host: '127.0.0.1', port, rate: 0, loops, filterPort: 0, progress: false });
    // A fixed number of passes, not an AbortSignal: with rate 0 the replay loop only awaits send
    // callbacks, which Node delivers by process.nextTick, so no timer (or SIGINT) runs until it ends.
    const p0 = process.hrtime.bigint();
    await go(2);
    const perPass = Number(process.hrtime.bigint() - p0) / 1e9 / 2;
    const loops = Math.max(1, Math.round(seconds / perPass));
    const u0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const sent = await go(loops);
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    const u = process.cpuUsage(u0);
    node = { dps: sent / secs, cpu: (u.user + u.system) / 1e6 / secs };
  } catch (e) {
    node.error = String(e.message ?? e);
  } finally {
    sink.kill('SIGCONT');
    sink.kill('SIGKILL');
  }
  return { c: { dps: c.sent / c.seconds, cpu: c.cpu / c.seconds }, node };
}

export function execFileP(cmd, args, opts = {}) {
  return new Promise((res, rej) =>
    execFile(cmd, args, opts, (err, stdout, stderr) => (err ? rej(Object.assign(err, { stdout, stderr })) : res({ stdout, stderr }))),
  );
}
