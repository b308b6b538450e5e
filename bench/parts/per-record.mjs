// SPDX-License-Identifier: Apache-2.0
// Part 1: the per-record path on one core, per protocol (decode + normalize + Community ID + locality +
// ECS NDJSON serialization into a reusable Buffer), each dataset in its own child process
// (per-record-child.mjs). Also: heap allocation per record (separate child, 64 MB young generation,
// --expose-gc) and a CPU profile of the synthetic datasets (top self-time functions).
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { BENCH_DIR, fmtNum, fmtRate, log, ratio, ROOT, scratchDir, systemBusySeconds } from '../lib/common.mjs';

const CHILD = join(BENCH_DIR, 'parts', 'per-record-child.mjs');

// Targets per core from PERFORMANCE.md §6 (records/s; sFlow in flow samples/s).
export const DATASETS = [
  { name: 'synth-v5', label: 'NetFlow v5, synthetic', floor: 100_000, target: 200_000, stretch: 300_000 },
  { name: 'synth-v9-v4', label: 'NetFlow v9, synthetic IPv4', floor: 60_000, target: 120_000, stretch: 200_000 },
  { name: 'synth-v9-v6', label: 'NetFlow v9, synthetic IPv6', floor: 60_000, target: 120_000, stretch: 200_000 },
  { name: 'synth-ipfix-v4', label: 'IPFIX, synthetic IPv4', floor: 60_000, target: 120_000, stretch: 200_000 },
  { name: 'synth-ipfix-v6', label: 'IPFIX, synthetic IPv6', floor: 60_000, target: 120_000, stretch: 200_000 },
  { name: 'synth-sflow', label: 'sFlow v5, synthetic', floor: 40_000, target: 80_000, stretch: 150_000 },
  { name: 'real-v5', label: 'NetFlow v5, real captures', floor: 100_000, target: 200_000, stretch: 300_000 },
  { name: 'real-v9', label: 'NetFlow v9, real captures', floor: 60_000, target: 120_000, stretch: 200_000 },
  { name: 'real-ipfix', label: 'IPFIX, real captures', floor: 60_000, target: 120_000, stretch: 200_000 },
  { name: 'real-sflow', label: 'sFlow v5, real captures', floor: 40_000, target: 80_000, stretch: 150_000 },
];

/** Runs one child; adds othersCpuPct: CPU the rest of the box used meanwhile (% of one core). */
function child(nodeArgs, opts) {
  return new Promise((resolve) => {
    const busy0 = systemBusySeconds();
    const t0 = Date.now();
    execFile(process.execPath, [...nodeArgs, CHILD, JSON.stringify(opts)], { maxBuffer: 16 << 20, timeout: 120_000 }, (err, stdout, stderr) => {
      const line = String(stdout).trim().split('\n').pop();
      try {
        const r = JSON.parse(line);
        const wall = (Date.now() - t0) / 1000;
        if (Number.isFinite(r.cpuSeconds)) r.othersCpuPct = Math.max(0, (100 * (systemBusySeconds() - busy0 - r.cpuSeconds)) / wall);
        resolve(r);
      } catch {
        resolve({ dataset: opts.dataset, error: (err?.message ?? '') + String(stderr).slice(-500) });
      }
    });
  });
}

export async function runPerRecord({ quick }) {
  log('\n## 1. Per-record path, one core (Pipeline: decode + normalize + Community ID + locality + NDJSON into a Buffer)');
  log('  dataset | records/s (best 0.25 s window) | mean | target | ratio | µs/record | heap B/record | records/datagram | doc bytes | others\' CPU % | status');
  const results = [];
  for (const ds of DATASETS) {
    const r = await child([], { dataset: ds.name, mode: 'throughput', seconds: quick ? 0.5 : 2, warmup: quick ? 0.2 : 0.5 });
    if (!quick && !r.error && r.status !== 'not wired yet' && r.records > 0) {
      const a = await child(['--expose-gc', '--min-semi-space-size=64', '--max-semi-space-size=64'], { dataset: ds.name, mode: 'alloc', warmup: 0.5 });
      r.allocBytesPerRecord = a.allocBytesPerRecord ?? null;
      if (a.allocNote || a.error) r.allocNote = a.allocNote ?? a.error;
    }
    const row = { ...ds, ...r };
    results.push(row);
    if (r.error) log(`  ${ds.label} | error: ${r.error.split('\n')[0]}`);
    else if (r.status === 'not wired yet') log(`  ${ds.label} | not wired yet`);
    else if (!r.records) log(`  ${ds.label} | no records (${r.note}; ${r.decodeErrors ?? 0} decode errors)`);
    else
      log(
        `  ${ds.label} | ${fmtRate(r.recordsPerSec)} | ${fmtRate(r.meanRecordsPerSec)} | ${fmtRate(ds.target)} | ${ratio(r.recordsPerSec, ds.target)} | ${fmtNum(r.usPerRecord, 2)} | ${fmtNum(r.allocBytesPerRecord)} | ${fmtNum(r.recordsPerDatagram, 1)} | ${fmtNum(r.docBytes)} | ${fmtNum(r.othersCpuPct)} | ${r.status}${r.decodeErrors ? `, ${fmtNum(r.decodeErrors)} decode errors` : ''} (${r.note})`,
      );
  }
  return results;
}

/**
 * CPU profile (node --cpu-prof) of the per-record loop: self time per function over the samples taken
 * inside Pipeline.handleDatagram, plus garbage collection. Returns [{dataset, top: [{pct, fn}]}].
 */
export async function runProfile({ quick, datasets = quick ? ['synth-v5'] : ['synth-v5', 'synth-ipfix-v4', 'synth-sflow'] }) {
  log('\n## Profile: top self-time functions of the per-record loop (node --cpu-prof, samples inside handleDatagram + GC)');
  const out = [];
  for (const name of datasets) {
    const dir = scratchDir(`prof-${name}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const r = await child(['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval', '250'], {
      dataset: name,
      mode: 'throughput',
      seconds: quick ? 1 : 3,
      warmup: 0.3,
    });
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (!file || r.error || r.status === 'not wired yet') {
      out.push({ dataset: name, top: [], error: r.error ?? r.status ?? 'no profile' });
      continue;
    }
    const top = topSelf(JSON.parse(readFileSync(join(dir, file), 'utf8')), 10);
    out.push({ dataset: name, recordsPerSec: r.recordsPerSec, top });
    log(`  ${name} (${fmtRate(r.recordsPerSec)} records/s while profiled):`);
    for (const t of top) log(`    ${t.pct.toFixed(1).padStart(5)} %  ${t.fn}`);
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

function topSelf(profile, n) {
  const byId = new Map(profile.nodes.map((x) => [x.id, x]));
  const parent = new Map();
  for (const x of profile.nodes) for (const c of x.children ?? []) parent.set(c, x.id);
  const inLoop = new Map();
  const isInLoop = (id) => {
    if (inLoop.has(id)) return inLoop.get(id);
    const x = byId.get(id);
    const fnName = x.callFrame.functionName;
    let v;
    if (fnName === 'handleDatagram' || fnName === '(garbage collector)') v = true;
    else v = parent.has(id) ? isInLoop(parent.get(id)) : false;
    inLoop.set(id, v);
    return v;
  };
  const self = new Map();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    if (!isInLoop(id)) continue;
    const cf = byId.get(id).callFrame;
    const url = cf.url ? relative(ROOT, cf.url.replace(/^file:\/\//, '')) : '';
    const key = `${cf.functionName || '(anonymous)'}${url ? ` ${url}:${cf.lineNumber + 1}` : ''}`;
    const dt = profile.timeDeltas[i] ?? 0;
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  }
  return [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([fn, t]) => ({ fn, pct: (100 * t) / total }));
}
