// SPDX-License-Identifier: Apache-2.0
// Part 4: the peer ceiling. Debian nfdump's nfcapd (decode NetFlow and write binary nfcapd files, C,
// multi-threaded) receives the same v5 replay at the same rates as part 2. One nfcapd per step (fresh
// output directory), `-B 33554432` like PERFORMANCE.md §1 (the kernel caps it at net.core.rmem_max);
// received flows are read back with `nfdump -R dir -I`, drops from the socket's /proc/net/udp counter.
import { spawn, execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { cpuSeconds, fmtNum, fmtRate, freeUdpPort, log, rcvbufErrors, scratchDir, sleep, socketDrops, stopChild, systemBusySeconds, waitFor } from '../lib/common.mjs';
import { blast } from '../lib/sender.mjs';

const RECORDS = 30;

function have(cmd) {
  try {
    execFileSync(cmd, ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export async function runPeer(ctx) {
  const { quick, bin, v5File, rates } = ctx;
  const out = { steps: [], best: null, error: null, version: null };
  log('\n## 4. Peer ceiling: nfcapd (nfdump) receiving the same NetFlow v5 replay');
  if (!have('nfcapd') || !have('nfdump')) {
    out.error = 'nfcapd/nfdump not installed (apt-get install nfdump)';
    log(out.error);
    return out;
  }
  out.version = execFileSync('nfcapd', ['-V'], { encoding: 'utf8' }).trim();
  const seconds = quick ? 3 : 10;
  log(`${out.version}; steps of ${seconds} s at threatflow's rates${quick ? '' : ', then 5 s steps at 600k, 1.2M and 2.4M flows/s (until the first loss) for the ceiling'}:`);
  log('  offered flows/s | sent flows | flows in nfcapd files | socket drops | RcvbufErrors Δ | nfcapd CPU % | CPU %/10k flows/s | sender % | others %');
  const ladder = [...rates];
  if (!quick) for (const r of [600_000, 1_200_000, 2_400_000]) if (!ladder.includes(r)) ladder.push(r);
  for (const flows of ladder) {
    const dir = scratchDir(`nfcapd-${flows}`);
    rmSync(dir, { recursive: true, force: true });
    scratchDir(`nfcapd-${flows}`);
    const port = await freeUdpPort();
    const child = spawn('nfcapd', ['-b', '127.0.0.1', '-p', String(port), '-w', dir, '-B', '33554432', '-t', '3600'], {
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    try {
      await waitFor(() => Number.isFinite(socketDrops(port)), { timeoutMs: 5000, what: 'nfcapd socket' });
      await sleep(300);
      const d0 = socketDrops(port);
      const r0 = rcvbufErrors();
      const c0 = cpuSeconds(child.pid);
      const busy0 = systemBusySeconds();
      const t0 = process.hrtime.bigint();
      // Ceiling steps above threatflow's rates are shorter: nfcapd writes ~120 bytes per flow to disk.
      const res = await blast(bin, v5File, port, Math.round(flows / RECORDS), flows > Math.max(...rates) ? Math.min(seconds, 5) : seconds);
      const win = Number(process.hrtime.bigint() - t0) / 1e9;
      const cpuPct = (100 * (cpuSeconds(child.pid) - c0)) / win;
      const othersCpuPct = Math.max(0, (100 * (systemBusySeconds() - busy0 - res.cpu)) / win - cpuPct);
      await sleep(500);
      const drops = socketDrops(port) - d0;
      const rcv = rcvbufErrors() - r0;
      await stopChild(child, 10_000);
      let stored = null;
      try {
        const info = execFileSync('nfdump', ['-R', dir, '-I'], { encoding: 'utf8' });
        stored = Number(/^Flows:\s+(\d+)/m.exec(info)?.[1] ?? NaN);
      } catch {
        /* no file */
      }
      const s = {
        offeredFlowsPerSec: flows,
        sent: res.sent,
        sentFlows: res.sent * RECORDS,
        stored,
        socketDrops: drops,
        rcvbufErrors: rcv,
        cpuPct,
        cpuPer10k: cpuPct / (flows / 10_000),
        senderCpuPct: (100 * res.cpu) / res.seconds,
        othersCpuPct,
      };
      s.lossless = drops === 0 && stored === s.sentFlows;
      out.steps.push(s);
      log(
        `  ${fmtRate(flows).padStart(6)} | ${fmtNum(s.sentFlows)} | ${fmtNum(stored)} | ${fmtNum(drops)} | ${fmtNum(rcv)} | ${fmtNum(cpuPct, 1)} | ${fmtNum(s.cpuPer10k, 2)} | ${fmtNum(s.senderCpuPct)} | ${fmtNum(othersCpuPct)}${s.lossless ? '' : '  LOSS'}`,
      );
      if (!s.lossless && flows >= Math.max(...rates)) break;
    } catch (e) {
      out.error = String(e.message ?? e);
      log(`step failed: ${out.error}`);
    } finally {
      await stopChild(child, 5000);
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const best = out.steps.filter((s) => s.lossless).sort((a, b) => b.offeredFlowsPerSec - a.offeredFlowsPerSec)[0];
  out.best = best ? { flowsPerSec: best.offeredFlowsPerSec, cpuPct: best.cpuPct } : null;
  log(best ? `nfcapd highest lossless step: ${fmtRate(best.offeredFlowsPerSec)} flows/s at ${fmtNum(best.cpuPct, 1)} % CPU` : 'nfcapd: no lossless step');
  return out;
}
