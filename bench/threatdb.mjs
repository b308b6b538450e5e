// SPDX-License-Identifier: Apache-2.0
// Threat DB benchmark (issue 3, PERFORMANCE.md §5/§6): reload time of a 1M-line blocklist from "body
// downloaded" to a DB ready for the swap (parse + build in a worker thread, adoption on the main thread),
// the main thread's longest stall meanwhile, lookups/s per core (IPv4 and IPv6, mixed hits and misses),
// and the DB's memory per 1M IPv4 and per 1M IPv6 entries, tags and dates included.
//
// Plain Node ESM over the compiled collector (run `npm run build` first):
//   node bench/threatdb.mjs [--quick] [--json]
// or from the harness: `import { runThreatDb } from './threatdb.mjs'; await runThreatDb({ quick })`.
// Prints every figure against its target and never fails on a number.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';

// A full GC before each measured reload, so that the bench's own garbage (the generated bodies) is not
// collected on the main thread in the middle of a measurement and counted as a stall.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MODULE = join(ROOT, 'collector', 'dist', 'enrich', 'riskiq-threat', 'index.js');

export const TARGETS = {
  reloadMs: 1000, // PERFORMANCE.md §6: 28 MB body, download complete -> swap (floor 3 s)
  stallMs: 2, // main-thread stall during the reload (floor 20 ms)
  lookupsPerSec: 10e6, // per core
  mbPer1mV4: 24, // MB (10^6 bytes) per 1M IPv4 entries incl. payload (floor 48)
  mbPer1mV6: 64, // per 1M IPv6 entries (floor 128)
};

// ---------------------------------------------------------------------------------------------------
// Synthetic blocklists (seeded, so every run measures the same body)

function prng(seed) {
  let s = seed >>> 0;
  return () => {
    // mulberry32
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CATEGORIES = ['malware', 'phishing', 'c2', 'botnet', 'scanner', 'spam', 'tor-exit', 'bruteforce', 'proxy', 'cryptomining'];
const FEEDS = ['pt-core', 'pt-osint', 'pt-partner'];

/** IPv4 prefix length by the mix of issue 3: 85 % /32, 10 % /24, 4 % /20, 1 % /16. */
function v4Len(r) {
  return r < 0.85 ? 32 : r < 0.95 ? 24 : r < 0.99 ? 20 : 16;
}
/** IPv6 by the same shape: 85 % /128, 10 % /64, 4 % /48, 1 % /32. */
function v6Len(r) {
  return r < 0.85 ? 128 : r < 0.95 ? 64 : r < 0.99 ? 48 : 32;
}

const ip4 = (n) => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
const hex = (x) => x.toString(16);

/**
 * `lines` IPv4 entries as CSV. `full`: ip,tags,first_seen,last_seen,confidence (ISO dates); otherwise the
 * ~28 B/line shape PERFORMANCE.md §5 measured (ip,category,feed). Returns the body and the networks listed.
 */
export function makeV4Csv(lines, { full, seed = 1 }) {
  const rnd = prng(seed);
  const nets = new Uint32Array(lines);
  const lens = new Uint8Array(lines);
  const parts = [full ? 'ip,tags,first_seen,last_seen,confidence\n' : 'ip,category,feed\n'];
  const base = Date.UTC(2024, 0, 1) / 1000;
  for (let i = 0; i < lines; i++) {
    const len = v4Len(rnd());
    // Public-looking first octets 1..223; the nesting of /32s in listed /16s and /20s comes naturally.
    let n = ((1 + Math.floor(rnd() * 223)) * 2 ** 24 + Math.floor(rnd() * 2 ** 24)) >>> 0;
    n = len === 32 ? n : (n & ((0xffffffff << (32 - len)) >>> 0)) >>> 0;
    nets[i] = n;
    lens[i] = len;
    const text = len === 32 ? ip4(n) : `${ip4(n)}/${len}`;
    const cat = CATEGORIES[Math.floor(rnd() * CATEGORIES.length)];
    if (full) {
      const t1 = base + Math.floor(rnd() * 300) * 86400 + Math.floor(rnd() * 86400);
      const t2 = t1 + Math.floor(rnd() * 60 * 86400);
      const tags = rnd() < 0.3 ? `"${cat};${CATEGORIES[Math.floor(rnd() * CATEGORIES.length)]}"` : cat;
      parts.push(`${text},${tags},${new Date(t1 * 1000).toISOString().slice(0, 19)}Z,${new Date(t2 * 1000).toISOString().slice(0, 19)}Z,${Math.floor(rnd() * 101)}\n`);
    } else {
      parts.push(`${text},${cat},${FEEDS[Math.floor(rnd() * FEEDS.length)]}\n`);
    }
  }
  return { body: Buffer.from(parts.join(''), 'latin1'), nets, lens };
}

/** `lines` IPv6 entries (2000::/3; a fifth of the /128s inside listed /48s or /64s) as full CSV. */
export function makeV6Csv(lines, { seed = 2 } = {}) {
  const rnd = prng(seed);
  const words = new Uint32Array(lines * 4);
  const lens = new Uint8Array(lines);
  const parts = ['ip,tags,first_seen,last_seen,confidence\n'];
  const base = Date.UTC(2024, 0, 1) / 1000;
  const r32 = () => Math.floor(rnd() * 2 ** 32) >>> 0;
  for (let i = 0; i < lines; i++) {
    const len = v6Len(rnd());
    let w = [(0x20000000 | (r32() & 0x1fffffff)) >>> 0, r32(), r32(), r32()];
    if (len === 128 && i > 100 && rnd() < 0.2) {
      // Inside an earlier network entry (keeps its top words).
      for (let tries = 0; tries < 8; tries++) {
        const j = Math.floor(rnd() * i);
        if (lens[j] === 48 || lens[j] === 64) {
          w = [words[j * 4], lens[j] === 64 ? words[j * 4 + 1] : ((words[j * 4 + 1] & 0xffff0000) | (w[1] & 0xffff)) >>> 0, w[2], w[3]];
          break;
        }
      }
    }
    for (let k = 0; k < 4; k++) {
      const bits = Math.max(0, Math.min(32, len - 32 * k));
      w[k] = bits === 0 ? 0 : (w[k] & ((0xffffffff << (32 - bits)) >>> 0)) >>> 0;
      words[i * 4 + k] = w[k];
    }
    lens[i] = len;
    const g = [w[0] >>> 16, w[0] & 0xffff, w[1] >>> 16, w[1] & 0xffff, w[2] >>> 16, w[2] & 0xffff, w[3] >>> 16, w[3] & 0xffff];
    const text = len === 128 ? g.map(hex).join(':') : `${g.map(hex).join(':')}/${len}`;
    const t1 = base + Math.floor(rnd() * 300) * 86400 + Math.floor(rnd() * 86400);
    const t2 = t1 + Math.floor(rnd() * 60 * 86400);
    parts.push(`${text},${CATEGORIES[Math.floor(rnd() * CATEGORIES.length)]},${new Date(t1 * 1000).toISOString().slice(0, 19)}Z,${new Date(t2 * 1000).toISOString().slice(0, 19)}Z,${Math.floor(rnd() * 101)}\n`);
  }
  return { body: Buffer.from(parts.join(''), 'latin1'), words, lens };
}

// ---------------------------------------------------------------------------------------------------
// Measurements

/** Longest lateness of a 1 ms timer over `ms` of doing nothing: the box's own noise, to compare with. */
async function baselineStall(ms) {
  gc();
  const h = monitorEventLoopDelay({ resolution: 1 });
  let maxLate = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    maxLate = Math.max(maxLate, now - last - 1);
    last = now;
  }, 1);
  h.enable();
  await new Promise((r) => setTimeout(r, ms));
  h.disable();
  clearInterval(timer);
  return { loopMaxMs: h.max / 1e6, timerLateMaxMs: maxLate };
}

/**
 * Reload: from a body in memory to a ThreatDb ready for the swap, parse + build in a worker. Meanwhile the
 * main thread keeps a 1 ms timer running (a stand-in for the receiver's event loop) and both
 * monitorEventLoopDelay and the timer's lateness record the longest stall. The synchronous part of
 * buildInWorker (creating the worker, posting the body) and ThreatDb.fromData are timed on their own:
 * they are what the main thread itself spends.
 */
async function measureReload(mod, body, label) {
  const copy = Buffer.allocUnsafeSlow(body.length); // buildInWorker transfers (empties) its argument
  body.copy(copy);
  gc();
  const h = monitorEventLoopDelay({ resolution: 1 });
  let maxLate = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    maxLate = Math.max(maxLate, now - last - 1);
    last = now;
  }, 1);
  await new Promise((r) => setTimeout(r, 50)); // let the timer settle
  h.enable();
  const c0 = cpuMs();
  const t0 = performance.now();
  const pending = mod.buildInWorker(copy, { fetchedAt: Date.now(), source: 'bench' });
  const tStarted = performance.now();
  const r = await pending;
  const tMsg = performance.now();
  const db = mod.ThreatDb.fromData(r.data);
  const t1 = performance.now();
  const c1 = cpuMs();
  h.disable();
  clearInterval(timer);
  return {
    cpuMs: c1 - c0,
    label,
    bodyMB: body.length / 1e6,
    entries: r.data.info.entries,
    malformed: r.malformed,
    reloadMs: t1 - t0,
    parseMs: r.timings.parseMs,
    buildMs: r.timings.buildMs,
    startMs: tStarted - t0,
    adoptMs: t1 - tMsg,
    stallMaxMs: h.max / 1e6,
    stallP99Ms: h.percentile(99) / 1e6,
    timerLateMaxMs: maxLate,
    db,
  };
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/**
 * Runs fn(i) over `count` queries for ~seconds; returns ops per second of this process's CPU time (best
 * of `rounds`), i.e. per core: on a shared machine wall time also counts the time other processes had
 * the core. The loop is single-threaded; the process's other threads (GC helpers) are nearly idle.
 */
function rate(seconds, rounds, count, fn) {
  let best = 0;
  let sink = 0;
  for (let r = 0; r < rounds; r++) {
    let ops = 0;
    const t0 = performance.now();
    const c0 = cpuMs();
    while (performance.now() - t0 < seconds * 1000) {
      for (let i = 0; i < count; i++) sink += fn(i);
      ops += count;
    }
    best = Math.max(best, ops / ((cpuMs() - c0) / 1000));
  }
  if (sink === 0.5) console.log(''); // keep the result alive
  return best;
}

function v4Queries(nets, lens, n, seed) {
  const rnd = prng(seed);
  const q = new Uint32Array(n);
  let hits = 0;
  for (let i = 0; i < n; i++) {
    if (rnd() < 0.5) {
      const j = Math.floor(rnd() * nets.length);
      q[i] = (nets[j] + Math.floor(rnd() * 2 ** (32 - lens[j]))) >>> 0;
      hits++;
    } else {
      q[i] = Math.floor(rnd() * 2 ** 32) >>> 0;
    }
  }
  return q;
}

function v6Queries(words, lens, n, seed) {
  const rnd = prng(seed);
  const q = new Uint8Array(n * 16);
  const dv = new DataView(q.buffer);
  for (let i = 0; i < n; i++) {
    if (rnd() < 0.5) {
      const j = Math.floor(rnd() * lens.length);
      for (let k = 0; k < 4; k++) {
        const bits = Math.max(0, Math.min(32, lens[j] - 32 * k));
        const host = bits === 32 ? 0 : Math.floor(rnd() * 2 ** (32 - bits));
        dv.setUint32(i * 16 + k * 4, (words[j * 4 + k] | host) >>> 0);
      }
    } else {
      dv.setUint32(i * 16, (0x20000000 | Math.floor(rnd() * 2 ** 29)) >>> 0);
      for (let k = 1; k < 4; k++) dv.setUint32(i * 16 + k * 4, Math.floor(rnd() * 2 ** 32) >>> 0);
    }
  }
  return q;
}

function tableBytes(data, prefix) {
  let b = 0;
  for (const [name, t] of Object.entries(data.tables)) if (name.startsWith(prefix)) b += t.byteLength;
  return b;
}

/** The payload table (shared by both families; each measured DB here holds one family only). */
function payloadBytes(data) {
  return tableBytes(data, 'payload') + tableBytes(data, 'meta');
}

const mark = (ok) => (ok ? 'meets target' : 'MISSES target');
const f1 = (x) => x.toFixed(1);
const f2 = (x) => x.toFixed(2);
const fM = (x) => `${(x / 1e6).toFixed(2)} M`;

export async function runThreatDb({ quick = false, log = console.log } = {}) {
  if (!existsSync(MODULE)) {
    log(`threatdb bench: ${MODULE} missing, run \`npm run build\` first`);
    return { error: 'collector/dist missing' };
  }
  const require = createRequire(import.meta.url);
  const mod = require(MODULE);
  const lines = quick ? 200_000 : 1_000_000;
  const out = { lines, targets: TARGETS };
  log(`\n## Threat DB (${lines.toLocaleString('en')} entries per list${quick ? ', quick: figures not comparable with the 1M targets' : ''})`);

  // Reload time and stall: the ~28 MB shape of PERFORMANCE.md §5, then the full one (tags, dates,
  // confidence), then IPv6.
  const lean = makeV4Csv(lines, { full: false, seed: 1 });
  const full = makeV4Csv(lines, { full: true, seed: 1 });
  const v6 = makeV6Csv(lines, { seed: 2 });
  const reloads = [];
  for (const [label, body] of [
    ['IPv4 CSV ip,category,feed', lean.body],
    ['IPv4 CSV ip,tags,first/last_seen,confidence', full.body],
    ['IPv6 CSV ip,tags,first/last_seen,confidence', v6.body],
  ]) {
    await measureReload(mod, body, label); // warm-up (file cache, page faults)
    const runs = [];
    for (let i = 0; i < (quick ? 1 : 3); i++) runs.push(await measureReload(mod, body, label));
    runs.sort((a, b) => a.reloadMs - b.reloadMs);
    const med = runs[Math.floor(runs.length / 2)];
    med.stallMaxMs = Math.max(...runs.map((r) => r.stallMaxMs));
    med.timerLateMaxMs = Math.max(...runs.map((r) => r.timerLateMaxMs));
    med.startMs = Math.max(...runs.map((r) => r.startMs));
    med.adoptMs = Math.max(...runs.map((r) => r.adoptMs));
    reloads.push(med);
  }
  const baseline = await baselineStall(Math.round(reloads[0].reloadMs));
  const status = (ok) => (quick ? 'n/a (quick)' : mark(ok));
  log('  reload: body in memory -> DB ready to swap (parse + build in a worker thread, adopted on the main thread); median of runs, stalls = worst run');
  log('  body | MB | entries | total ms | CPU ms (all threads) | worker parse ms | worker build ms | main: start worker ms | main: adopt ms | loop delay max / p99 ms | 1 ms timer late max ms | status');
  for (const r of reloads) {
    log(
      `  ${r.label} | ${f1(r.bodyMB)} | ${r.entries} | ${f1(r.reloadMs)} | ${f1(r.cpuMs)} | ${f1(r.parseMs)} | ${f1(r.buildMs)} | ${f2(r.startMs)} | ${f2(r.adoptMs)} | ${f2(r.stallMaxMs)} / ${f2(r.stallP99Ms)} | ${f2(r.timerLateMaxMs)} | ${status(r.reloadMs <= TARGETS.reloadMs)} (${TARGETS.reloadMs} ms)`,
    );
  }
  log(`  same timer with no reload running (the box's own noise): loop delay max ${f2(baseline.loopMaxMs)} ms, timer late max ${f2(baseline.timerLateMaxMs)} ms`);
  const ownStall = Math.max(...reloads.map((r) => Math.max(r.startMs, r.adoptMs)));
  log(`  main-thread work of a reload (start the worker + adopt the result): ${f2(ownStall)} ms | target <= ${TARGETS.stallMs} ms | ${mark(ownStall <= TARGETS.stallMs)}`);
  out.reloads = reloads.map(({ db: _db, ...r }) => r);
  out.baselineStall = baseline;
  out.mainThreadMs = ownStall;

  // Memory per 1M entries.
  const dbFull = reloads[1].db;
  const db6 = reloads[2].db;
  const v4Bytes = tableBytes(dbFull.data, 'v4') + payloadBytes(dbFull.data);
  const v6Bytes = tableBytes(db6.data, 'v6') + payloadBytes(db6.data);
  const mb4 = (v4Bytes / dbFull.info.ipv4Entries) * 1e6 / 1e6;
  const mb6 = (v6Bytes / db6.info.ipv6Entries) * 1e6 / 1e6;
  log('  memory (shared tables incl. the bucket index + payload table; MB = 10^6 bytes; tags, dates and confidence included):');
  log(`  IPv4: ${f2(v4Bytes / 1e6)} MB for ${dbFull.info.ipv4Entries} entries (${dbFull.segmentCounts.v4} segments) = ${f2(mb4)} MB per 1M entries | target <= ${TARGETS.mbPer1mV4} | ${status(mb4 <= TARGETS.mbPer1mV4)}`);
  log(`  IPv6: ${f2(v6Bytes / 1e6)} MB for ${db6.info.ipv6Entries} entries (${db6.segmentCounts.v6} segments) = ${f2(mb6)} MB per 1M entries | target <= ${TARGETS.mbPer1mV6} | ${status(mb6 <= TARGETS.mbPer1mV6)}`);
  out.memory = { v4Bytes, v6Bytes, mbPer1mV4: mb4, mbPer1mV6: mb6, v4Segments: dbFull.segmentCounts.v4, v6Segments: db6.segmentCounts.v6 };

  // Lookups per core. "mixed": half the queries inside a listed entry (random entry), half uniformly
  // random (mostly misses). "traffic": 1 % hits on 1,000 hot indicators, 99 % misses, as flows look.
  const secs = quick ? 0.3 : 1;
  const rounds = quick ? 2 : 3;
  const nq = 1 << 20;
  const q4 = v4Queries(full.nets, full.lens, nq, 3);
  const q6 = v6Queries(v6.words, v6.lens, nq, 4);
  const t4 = trafficV4(dbFull, q4, nq, 5);
  const t6 = trafficV6(db6, q6, nq, 6);
  const text4 = Array.from(t4.subarray(0, 1 << 16), ip4);
  const text6 = Array.from({ length: 1 << 16 }, (_, i) => v6Text(t6, i));
  let hits4 = 0;
  for (let i = 0; i < nq; i++) if (dbFull.findV4(q4[i]) >= 0) hits4++;
  let hits6 = 0;
  for (let i = 0; i < nq; i++) if (db6.findV6(q6, i * 16) >= 0) hits6++;
  const r = {
    v4Find: rate(secs, rounds, nq, (i) => dbFull.findV4(q4[i])),
    v4LookupMixed: rate(secs, rounds, nq, (i) => (dbFull.lookupV4(q4[i]) === null ? 0 : 1)),
    v4LookupTraffic: rate(secs, rounds, nq, (i) => (dbFull.lookupV4(t4[i]) === null ? 0 : 1)),
    v4TextTraffic: rate(secs, rounds, text4.length, (i) => (dbFull.lookup(text4[i]) === null ? 0 : 1)),
    v6Find: rate(secs, rounds, nq, (i) => db6.findV6(q6, i * 16)),
    v6LookupMixed: rate(secs, rounds, nq, (i) => (db6.lookupV6(q6, i * 16) === null ? 0 : 1)),
    v6LookupTraffic: rate(secs, rounds, nq, (i) => (db6.lookupV6(t6, i * 16) === null ? 0 : 1)),
    v6TextTraffic: rate(secs, rounds, text6.length, (i) => (db6.lookup(text6[i]) === null ? 0 : 1)),
  };
  const target = (x) => `${fM(x)}/s | target >= 10 M | ${status(x >= TARGETS.lookupsPerSec)}`;
  log(`  lookups per core (per second of this process's CPU time; 1M-entry DB; "mixed" = ${((100 * hits4) / nq).toFixed(0)} % (IPv4) / ${((100 * hits6) / nq).toFixed(0)} % (IPv6) hits on random entries, "traffic" = 1 % hits on 1,000 hot entries):`);
  log(`  findV4(uint32) -> segment ref, mixed | ${target(r.v4Find)}`);
  log(`  lookupV4(uint32) -> ThreatMatch, traffic | ${target(r.v4LookupTraffic)}`);
  log(`  lookupV4(uint32) -> ThreatMatch, mixed (a new match object per random hit) | ${fM(r.v4LookupMixed)}/s`);
  log(`  lookup(text) IPv4, traffic (includes parsing the text) | ${fM(r.v4TextTraffic)}/s`);
  log(`  findV6(bytes, off) -> segment ref, mixed | ${target(r.v6Find)}`);
  log(`  lookupV6(bytes, off) -> ThreatMatch, traffic | ${target(r.v6LookupTraffic)}`);
  log(`  lookupV6(bytes, off) -> ThreatMatch, mixed (a new match object per random hit) | ${fM(r.v6LookupMixed)}/s`);
  log(`  lookup(text) IPv6, traffic (includes parsing the text) | ${fM(r.v6TextTraffic)}/s`);
  out.lookups = r;
  out.hitRatio = { v4: hits4 / nq, v6: hits6 / nq };
  return out;
}

/** Traffic-like IPv4 queries: 1 % on 1,000 hot listed addresses, 99 % random addresses that are not listed. */
function trafficV4(db, mixed, n, seed) {
  const rnd = prng(seed);
  const hot = [];
  for (let i = 0; hot.length < 1000 && i < mixed.length; i++) if (db.findV4(mixed[i]) >= 0) hot.push(mixed[i]);
  const q = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    if (rnd() < 0.01) q[i] = hot[Math.floor(rnd() * hot.length)];
    else {
      let a;
      do a = Math.floor(rnd() * 2 ** 32) >>> 0;
      while (db.findV4(a) >= 0);
      q[i] = a;
    }
  }
  return q;
}

function trafficV6(db, mixed, n, seed) {
  const rnd = prng(seed);
  const hot = [];
  for (let i = 0; hot.length < 1000 && i < n; i++) if (db.findV6(mixed, i * 16) >= 0) hot.push(i);
  const q = new Uint8Array(n * 16);
  const dv = new DataView(q.buffer);
  for (let i = 0; i < n; i++) {
    if (rnd() < 0.01) {
      const j = hot[Math.floor(rnd() * hot.length)];
      q.set(mixed.subarray(j * 16, j * 16 + 16), i * 16);
    }
    else {
      do {
        dv.setUint32(i * 16, (0x20000000 | Math.floor(rnd() * 2 ** 29)) >>> 0);
        for (let k = 1; k < 4; k++) dv.setUint32(i * 16 + k * 4, Math.floor(rnd() * 2 ** 32) >>> 0);
      } while (db.findV6(q, i * 16) >= 0);
    }
  }
  return q;
}

function v6Text(q, i) {
  const g = [];
  for (let k = 0; k < 8; k++) g.push(((q[i * 16 + 2 * k] << 8) | q[i * 16 + 2 * k + 1]).toString(16));
  return g.join(':');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes('--quick');
  const json = process.argv.includes('--json');
  const res = await runThreatDb({ quick });
  if (json) console.log(JSON.stringify(res));
}
