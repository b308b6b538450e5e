#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// `npm run bench [-- --quick] [-- --only <part>]`: threatflow's benchmarks against PERFORMANCE.md §6.
// Parts: per-record, profile, e2e-fake, e2e-es, peer. Prints figures and ratios; never fails on a
// number. Writes bench/results/latest.md (summary) and bench/results/latest.json (raw, git-ignored).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fmtNum, fmtRate, loadAverage, log, mdTable, MAIN_JS, ratio, readProcText, RESULTS_DIR, ROOT } from './lib/common.mjs';
import { compileBlaster, writeDatagramFile } from './lib/sender.mjs';
import { netflow5Datagrams } from './lib/synth.mjs';
import { runPerRecord, runProfile } from './parts/per-record.mjs';
import { runE2eFake } from './parts/e2e-fake.mjs';
import { runE2eEs } from './parts/e2e-es.mjs';
import { runPeer } from './parts/peer-nfcapd.mjs';
import { runThreatDb } from './threatdb.mjs';

const PARTS = ['per-record', 'profile', 'e2e-fake', 'e2e-es', 'peer', 'threatdb', 'riskiq'];
const NOISY = 25;
const noisy = (x) => (Number.isFinite(x?.othersCpuPct) && x.othersCpuPct > NOISY ? ` ⚠ others ${fmtNum(x.othersCpuPct)} %` : '');

function parseArgs(argv) {
  const a = { quick: false, only: null };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--quick') a.quick = true;
    else if (argv[i] === '--only') a.only = argv[++i];
    else if (argv[i].startsWith('--only=')) a.only = argv[i].slice(7);
    else if (argv[i] === '--help' || argv[i] === '-h') {
      log(`usage: npm run bench [-- --quick] [-- --only <${PARTS.join('|')}>]`);
      process.exit(0);
    } else {
      log(`unknown argument ${argv[i]}`);
      process.exit(2);
    }
  }
  if (a.only && !PARTS.includes(a.only)) {
    log(`--only must be one of ${PARTS.join(', ')}`);
    process.exit(2);
  }
  return a;
}

function environment() {
  let commit = '';
  try {
    commit = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    /* not a checkout */
  }
  return {
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model ?? '?',
    cores: cpus().length,
    rmemMax: Number(readProcText('/proc/sys/net/core/rmem_max')) || null,
    load: loadAverage(),
    commit,
  };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const want = (p) => (args.only ? args.only === p : true);
  if (!existsSync(MAIN_JS)) {
    log('collector/dist is missing: run `npm run build` (npm run bench does it)');
    process.exit(1);
  }
  const started = Date.now();
  const env = environment();
  log(`# threatflow bench${args.quick ? ' (--quick)' : ''}${args.only ? ` (--only ${args.only})` : ''}`);
  log(`${env.date}  node ${env.node}  ${env.cores} × ${env.cpu}  net.core.rmem_max=${env.rmemMax}  commit ${env.commit}  load ${env.load}`);
  const results = { env, args };

  if (want('per-record')) results.perRecord = await runPerRecord(args);
  if (want('profile')) results.profile = await runProfile(args);

  const needUdp = want('e2e-fake') || want('e2e-es') || want('peer');
  if (needUdp) {
    let bin = null;
    try {
      bin = compileBlaster();
    } catch (e) {
      log(`gcc could not build the sender (${e.message}): end-to-end parts skipped`);
    }
    if (bin) {
      const v5Datagrams = netflow5Datagrams(1000);
      const ctx = { ...args, bin, v5Datagrams, v5File: writeDatagramFile('v5-30x1000.bin', v5Datagrams) };
      if (want('e2e-fake')) results.e2eFake = await runE2eFake(ctx);
      if (want('e2e-es')) results.e2eEs = await runE2eEs(ctx);
      if (want('peer')) {
        const rates = results.e2eFake?.steps?.length
          ? results.e2eFake.steps.map((s) => s.offeredFlowsPerSec).sort((a, b) => a - b)
          : args.quick
            ? [50_000, 150_000]
            : [25_000, 50_000, 75_000, 100_000, 150_000, 200_000];
        results.peer = await runPeer({ ...ctx, rates });
      }
    }
  }
  // The threat DB (issue 3) and RiskIQ export (issue 4) benchmarks print their own tables.
  if (want('threatdb')) {
    log('\n## threat DB (RiskIQ PassiveTotal blocklist)');
    results.threatdb = await runThreatDb({ quick: args.quick, log });
  }
  if (want('riskiq')) {
    log('\n## RiskIQ export');
    execFileSync(process.execPath, [join(ROOT, 'bench', 'riskiq.mjs'), ...(args.quick ? ['--quick'] : [])], { stdio: 'inherit' });
  }
  results.seconds = (Date.now() - started) / 1000;

  if (args.only === 'threatdb' || args.only === 'riskiq') return; // their own tables were printed above
  const md = summary(results);
  log(`\n${md}`);
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, 'latest.md'), `${md}\n`);
  writeFileSync(join(RESULTS_DIR, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  log(`\nwritten: bench/results/latest.md, bench/results/latest.json (${fmtNum(results.seconds)} s in total)`);
}

/** The Markdown summary: every figure with its target and ratio, then the detail tables. */
function summary(r) {
  const e = r.env;
  const lines = [
    `# threatflow bench — ${e.date.slice(0, 16).replace('T', ' ')} UTC${r.args.quick ? ' (--quick: short steps, indicative only)' : ''}${r.args.only ? ` (only ${r.args.only})` : ''}`,
    '',
    `Node ${e.node}, ${e.cores} × ${e.cpu}, net.core.rmem_max ${fmtNum(e.rmemMax)} B, commit ${e.commit}, load average at start ${e.load}. Targets: PERFORMANCE.md §6.`,
    '',
    'Per-record figures are the best 0.25 s window of 2 s (the mean over the 2 s follows); end-to-end steps are 10 s (fake `_bulk`, nfcapd) or 15 s (Elasticsearch).',
    '',
    `The box is shared: "others" is the CPU that processes other than the bench's used during a measurement (% of one core, from /proc/stat). Figures measured while others used more than ${NOISY} % are marked ⚠.`,
    '',
    '## Summary',
    '',
  ];
  const rows = [];
  for (const p of r.perRecord ?? []) {
    const what = `1. per core: ${p.label}`;
    if (p.error) rows.push([what, `error: ${p.error.split('\n')[0]}`, fmtRate(p.target), 'n/a']);
    else if (p.status === 'not wired yet') rows.push([what, 'not wired yet', fmtRate(p.target), 'n/a']);
    else if (!p.records) rows.push([what, 'no records decoded', fmtRate(p.target), 'n/a']);
    else
      rows.push([
        what,
        `${fmtRate(p.recordsPerSec)} ${p.proto === 'sflow5' ? 'samples' : 'records'}/s (mean ${fmtRate(p.meanRecordsPerSec)}; ${fmtNum(p.usPerRecord, 2)} µs/record, ${fmtRate(p.datagramsPerSec)} datagrams/s of ${fmtNum(p.recordsPerDatagram, 1)}${Number.isFinite(p.allocBytesPerRecord) ? `, ${fmtNum(p.allocBytesPerRecord / 1024, 1)} KiB heap/record` : ''})${p.status === 'bench-wired' ? ' [decoder not in the Pipeline yet: wired by the bench]' : ''}${noisy(p)}`,
        `${fmtRate(p.target)} (floor ${fmtRate(p.floor)})`,
        ratio(p.recordsPerSec, p.target),
      ]);
  }
  const f = r.e2eFake;
  if (f) {
    if (f.senders) {
      rows.push([
        '2. sender alone, flat out (C sendmmsg / Node `threatflow replay`)',
        `${fmtRate(f.senders.c.dps * 30)} / ${f.senders.node.dps ? fmtRate(f.senders.node.dps * 30) : 'n/a'} flows/s (${fmtRate(f.senders.c.dps)} / ${f.senders.node.dps ? fmtRate(f.senders.node.dps) : 'n/a'} datagrams/s)`,
        'must exceed the rates offered (information)',
        '—',
      ]);
    }
    rows.push([
      '2. end to end into fake `_bulk`, 2 cores: highest rate with 0 loss',
      f.best ? `${fmtRate(f.best.flowsPerSec)} flows/s (collector ${fmtNum(f.best.cpuPct)} % of a core, RSS ${fmtNum(f.best.rssMB)} MB)${f.firstLossy ? `; loss at ${fmtRate(f.firstLossy)}${noisy(f.steps.find((x) => x.offeredFlowsPerSec === f.firstLossy))}` : ''}` : f.error ? `error: ${f.error}` : 'no lossless step',
      '200k (floor 100k)',
      f.best ? ratio(f.best.flowsPerSec, 200_000) : 'n/a',
    ]);
    if (f.best)
      rows.push([
        '2. collector CPU per 10k flows/s at that rate (fake `_bulk`)',
        `${fmtNum(f.best.cpuPct / (f.best.flowsPerSec / 10_000), 1)} % of a core`,
        '< 10 %',
        ratio(f.best.cpuPct / (f.best.flowsPerSec / 10_000), 10, true),
      ]);
  }
  const es = r.e2eEs;
  if (es) {
    if (es.error && !es.steps.length) rows.push(['3. end to end into embedded Elasticsearch', `error: ${es.error}`, '12k (floor 5k)', 'n/a']);
    for (const s of es.steps ?? []) {
      rows.push([
        `3. embedded ES at ${fmtRate(s.offeredFlowsPerSec)} flows/s offered: indexed docs/s`,
        `${fmtRate(s.indexedPerSec)} (${fmtNum(s.indexed)} of ${fmtNum(s.sentFlows)} indexed${s.socketDrops ? `, ${fmtNum(s.socketDrops)} datagrams dropped` : ''}${s.outputDropped ? `, ${fmtNum(s.outputDropped)} dropped by the output` : ''}; ES JVM ${fmtNum(s.extraCpuPct.es)} % CPU)${noisy(s)}`,
        '12k (floor 5k, stretch 20k)',
        ratio(s.indexedPerSec, 12_000),
      ]);
      rows.push([
        `3. embedded ES at ${fmtRate(s.offeredFlowsPerSec)} flows/s: collector CPU per 10k flows/s`,
        `${fmtNum(s.cpuPer10k, 1)} % of a core (${fmtNum(s.cpuPct, 1)} % in total)`,
        '< 10 %',
        ratio(s.cpuPer10k, 10, true),
      ]);
    }
    const bestEs = (es.steps ?? []).filter((s) => s.lossless).sort((a, b) => b.offeredFlowsPerSec - a.offeredFlowsPerSec)[0];
    if (es.steps?.length)
      rows.push([
        '3. embedded ES: highest offered rate fully indexed',
        bestEs ? `${fmtRate(bestEs.offeredFlowsPerSec)} flows/s` : 'none',
        '12k (floor 5k)',
        bestEs ? ratio(bestEs.offeredFlowsPerSec, 12_000) : 'n/a',
      ]);
  }
  const peer = r.peer;
  if (peer) {
    rows.push([
      '4. nfcapd (peer ceiling): highest rate with 0 loss',
      peer.best ? `${fmtRate(peer.best.flowsPerSec)} flows/s at ${fmtNum(peer.best.cpuPct, 1)} % of a core` : peer.error ?? 'no lossless step',
      'physical ceiling (PERFORMANCE §1: 1.5M at 0.58 core)',
      f?.best && peer.best ? `threatflow = ${ratio(f.best.flowsPerSec, peer.best.flowsPerSec)} of it` : 'n/a',
    ]);
  }
  lines.push(mdTable(['measurement', 'figure', 'target', 'ratio to target'], rows));

  if (f?.steps?.length || peer?.steps?.length) {
    lines.push('', '## threatflow vs nfcapd at the same offered rates (NetFlow v5, 30 records/datagram, C sendmmsg replayer)', '');
    const rates = [...new Set([...(f?.steps ?? []), ...(peer?.steps ?? [])].map((s) => s.offeredFlowsPerSec))].sort((a, b) => a - b);
    const cell = (s, docs) =>
      s
        ? `${s.lossless ? '0 loss' : 'LOSS'}: ${fmtNum(docs(s))}/${fmtNum(s.sentFlows)}, drops ${fmtNum(s.socketDrops)}, CPU ${fmtNum(s.cpuPct)} %${noisy(s)}`
        : '—';
    lines.push(
      mdTable(
        ['offered flows/s', 'threatflow → fake _bulk (docs/sent, socket drops, CPU % of a core)', 'nfcapd → files (flows/sent, socket drops, CPU %)'],
        rates.map((rate) => [
          fmtRate(rate),
          cell(f?.steps?.find((s) => s.offeredFlowsPerSec === rate), (s) => s.docs),
          cell(peer?.steps?.find((s) => s.offeredFlowsPerSec === rate), (s) => s.stored),
        ]),
      ),
    );
  }
  if (f?.steps?.length) {
    lines.push('', `### Part 2 steps (fake \`_bulk\`; collector idle: ${fmtNum(f.collectorIdleCpuPct, 1)} % CPU)`, '');
    lines.push(
      mdTable(
        ['offered flows/s', 'sent dgrams', 'received', 'socket drops', 'RcvbufErrors Δ', 'records decoded', 'docs at _bulk', 'output dropped', 'collector CPU %', 'threads %', 'sender CPU %', 'fake ES CPU %', 'others CPU %', 'RSS MB'],
        f.steps.map((s) => [
          fmtRate(s.offeredFlowsPerSec),
          fmtNum(s.sent),
          fmtNum(s.received),
          fmtNum(s.socketDrops),
          fmtNum(s.rcvbufErrors),
          fmtNum(s.records),
          fmtNum(s.docs),
          fmtNum(s.outputDropped),
          fmtNum(s.cpuPct),
          s.threads.map((t) => `${t.comm} ${fmtNum(t.pct)}`).join(', '),
          fmtNum(s.senderCpuPct),
          fmtNum(s.extraCpuPct.fakeEs),
          fmtNum(s.othersCpuPct),
          fmtNum(s.rssMB),
        ]),
      ),
    );
  }
  if (es?.steps?.length) {
    lines.push('', `### Part 3 steps (embedded Elasticsearch ${es.esVersion ?? ''}; idle before the steps: ES ${fmtNum(es.esIdleCpuPct)} %, collector ${fmtNum(es.collectorIdleCpuPct, 1)} % CPU)`, '');
    lines.push(
      mdTable(
        ['offered flows/s', 'sent flows', 'indexed (_count Δ)', 'indexed docs/s', 'socket drops', 'output dropped', 'collector CPU %', 'per 10k flows/s', 'ES JVM CPU %', 'others CPU %', 'drain s'],
        es.steps.map((s) => [
          fmtRate(s.offeredFlowsPerSec),
          fmtNum(s.sentFlows),
          fmtNum(s.indexed),
          fmtRate(s.indexedPerSec),
          fmtNum(s.socketDrops),
          fmtNum(s.outputDropped),
          fmtNum(s.cpuPct, 1),
          fmtNum(s.cpuPer10k, 1),
          fmtNum(s.extraCpuPct.es),
          fmtNum(s.othersCpuPct),
          fmtNum(s.drainMs / 1000, 1),
        ]),
      ),
    );
  }
  if (r.profile?.length) {
    lines.push('', '## Hot spots (node --cpu-prof of the per-record loop: self time inside handleDatagram, plus GC)', '');
    for (const p of r.profile) {
      if (!p.top.length) {
        lines.push(`- ${p.dataset}: ${p.error}`);
        continue;
      }
      lines.push(`**${p.dataset}** (${fmtRate(p.recordsPerSec)} records/s while profiled)`, '');
      lines.push(mdTable(['self %', 'function'], p.top.map((t) => [t.pct.toFixed(1), `\`${t.fn}\``])), '');
    }
  }
  return lines.join('\n');
}

main().catch((e) => {
  log(`bench failed: ${e.stack ?? e}`);
  process.exitCode = 1;
});

