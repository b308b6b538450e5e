// SPDX-License-Identifier: Apache-2.0
// Shared helpers of the bench harness: the compiled collector (collector/dist), /proc readings, free
// ports, child processes, Prometheus text, number formatting. Plain Node ESM, no dependencies.
import { execFileSync, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdirSync, openSync, readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT = resolve(BENCH_DIR, '..');
export const DIST = join(ROOT, 'collector', 'dist');
export const RESULTS_DIR = join(BENCH_DIR, 'results');
export const SHARED_TESTDATA = resolve(ROOT, '..', 'shared', 'testdata');
export const EXPORTER_CAPTURES = join(ROOT, 'collector', 'test', 'exporters', 'captures');
export const MAIN_JS = join(DIST, 'cli', 'main.js');

const require = createRequire(import.meta.url);

/** Requires a module of the compiled collector, e.g. dist('pipeline/build'); null when it is absent. */
export function dist(path, { optional = false } = {}) {
  const file = join(DIST, `${path}.js`);
  if (optional && !existsSync(file)) return null;
  return require(file);
}

/** A scratch directory for this run (compiled sender, datagram files, nfcapd output, collector cwd). */
export function scratchDir(name = '') {
  const d = join(tmpdir(), 'threatflow-bench', name);
  mkdirSync(d, { recursive: true });
  return d;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------------
// /proc

let clkTck = 0;
export function clockTicks() {
  if (!clkTck) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/** utime+stime of a process in seconds; for a process (thread-group leader) Linux sums all its threads. */
export function cpuSeconds(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // fields after "(comm)": state is [0], utime is field 14 of the whole line -> [11], stime [12]
    return (Number(f[11]) + Number(f[12])) / clockTicks();
  } catch {
    return NaN;
  }
}

/** Per-thread CPU seconds of a process: [{tid, comm, cpu}]. */
export function threadCpu(pid) {
  const out = [];
  let tids = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const s = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const comm = s.slice(s.indexOf('(') + 1, s.lastIndexOf(')'));
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      out.push({ tid: Number(tid), comm, cpu: (Number(f[11]) + Number(f[12])) / clockTicks() });
    } catch {
      /* thread gone */
    }
  }
  return out;
}

/** Differences of two threadCpu() snapshots, busiest first; the thread whose id is `pid` is named main. */
export function threadCpuDelta(before, after, seconds, pid) {
  const b = new Map(before.map((t) => [t.tid, t.cpu]));
  return after
    .map((t) => ({ tid: t.tid, comm: t.tid === pid ? 'main' : t.comm, pct: (100 * (t.cpu - (b.get(t.tid) ?? 0))) / seconds }))
    .sort((x, y) => y.pct - x.pct);
}

/** CPU seconds the whole machine spent busy (all cores; /proc/stat user+nice+system+irq+softirq+steal). */
export function systemBusySeconds() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return (f[0] + f[1] + f[2] + f[5] + f[6] + (f[7] || 0)) / clockTicks();
}

export function loadAverage() {
  return readProcText('/proc/loadavg').split(' ').slice(0, 3).join(' ');
}

export function rssBytes(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Kernel-wide UDP receive-buffer drops (/proc/net/snmp `Udp: RcvbufErrors`). */
export function rcvbufErrors() {
  const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
  const names = lines[0].trim().split(/\s+/);
  const values = lines[1].trim().split(/\s+/);
  return Number(values[names.indexOf('RcvbufErrors')]);
}

/** Per-socket drop counter of the UDP socket bound to 127.0.0.1:port (/proc/net/udp `drops`), or NaN. */
export function socketDrops(port, ip = '127.0.0.1') {
  const hexIp = ip
    .split('.')
    .map((o) => Number(o).toString(16).padStart(2, '0'))
    .reverse()
    .join('')
    .toUpperCase();
  const want = `${hexIp}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const anyWant = `00000000:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const l of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const f = l.trim().split(/\s+/);
    if (f[1] === want || f[1] === anyWant) return Number(f[f.length - 1]);
  }
  return NaN;
}

export function readProcText(path) {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

// ---------------------------------------------------------------------------------------------------
// ports, processes, HTTP

export function freeTcpPort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => res(p));
    });
  });
}

export function freeUdpPort() {
  return new Promise((res, rej) => {
    const s = dgram.createSocket('udp4');
    s.once('error', rej);
    s.bind(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => res(p));
    });
  });
}

/** GET/POST/PUT/DELETE on loopback with fetch; returns {status, text, json}. */
export async function http(method, url, body, headers = {}) {
  const res = await fetch(url, {
    method,
    headers: body !== undefined ? { 'content-type': 'application/json', ...headers } : headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, text, json };
}

/** Parses Prometheus text into {name: sum over label sets} plus the raw series. */
export function parseProm(text) {
  const sums = {};
  for (const line of text.split('\n')) {
    if (!line || line[0] === '#') continue;
    const sp = line.lastIndexOf(' ');
    const series = line.slice(0, sp);
    const v = Number(line.slice(sp + 1));
    const brace = series.indexOf('{');
    const name = brace < 0 ? series : series.slice(0, brace);
    sums[name] = (sums[name] ?? 0) + v;
    sums[series] = v;
  }
  return sums;
}

/** Spawns a child with its output going to a log file; resolves nothing, returns the ChildProcess. */
export function spawnLogged(cmd, args, opts, logFile) {
  const fd = openSync(logFile, 'a');
  return spawn(cmd, args, { ...opts, stdio: ['ignore', fd, fd] });
}

/** Sends SIGTERM to one child we started, then SIGKILL after `ms`; resolves when it has exited. */
export function stopChild(child, ms = 5000) {
  return new Promise((res) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return res();
    const t = setTimeout(() => {
      try {
        child.kill('SIGKILL');
      } catch {
        /* gone */
      }
    }, ms);
    child.once('exit', () => {
      clearTimeout(t);
      res();
    });
    try {
      child.kill('SIGTERM');
    } catch {
      clearTimeout(t);
      res();
    }
  });
}

export async function waitFor(fn, { timeoutMs = 30000, intervalMs = 100, what = 'condition' } = {}) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await sleep(intervalMs);
  }
}

/** Environment for a child collector: ours without any EF_* (the bench sets every one it needs). */
export function cleanEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('EF_')) env[k] = v;
  return { ...env, ...extra };
}

// ---------------------------------------------------------------------------------------------------
// formatting

export function fmtNum(n, digits = 0) {
  if (n === null || n === undefined || Number.isNaN(n)) return 'n/a';
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** 123456 -> "123k", 1234567 -> "1.23M". */
export function fmtRate(n) {
  if (n === null || n === undefined || Number.isNaN(n)) return 'n/a';
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e4) return `${Math.round(n / 1e3)}k`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return `${Math.round(n)}`;
}

export function ratio(measured, target, lowerIsBetter = false) {
  if (!Number.isFinite(measured) || !Number.isFinite(target) || target === 0) return 'n/a';
  const r = lowerIsBetter ? target / measured : measured / target;
  return `${r.toFixed(2)}×`;
}

/** A Markdown table from a header row and rows of cells. */
export function mdTable(header, rows) {
  const out = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const r of rows) out.push(`| ${r.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`);
  return out.join('\n');
}

export function log(...a) {
  process.stdout.write(`${a.join(' ')}\n`);
}
