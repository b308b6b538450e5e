// SPDX-License-Identifier: Apache-2.0
// The collector under test as a child process (`node collector/dist/cli/main.js run`), configured only
// through EF_* variables like a deployment, plus the fake Elasticsearch child and a step runner shared by
// the end-to-end parts.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  BENCH_DIR,
  cleanEnv,
  cpuSeconds,
  freeTcpPort,
  freeUdpPort,
  http,
  MAIN_JS,
  parseProm,
  rcvbufErrors,
  rssBytes,
  scratchDir,
  sleep,
  socketDrops,
  spawnLogged,
  stopChild,
  systemBusySeconds,
  threadCpu,
  threadCpuDelta,
  waitFor,
} from './common.mjs';
import { blast } from './sender.mjs';

/** Starts the fake _bulk server as a child; resolves {child, port, stats()}. */
export async function startFakeEs() {
  const child = spawn(process.execPath, [join(BENCH_DIR, 'lib', 'fake-es.mjs'), '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((res, rej) => {
    child.once('exit', (c) => rej(new Error(`fake Elasticsearch exited with ${c}`)));
    child.stdout.once('data', (d) => res(JSON.parse(String(d).trim().split('\n')[0]).port));
  });
  const stats = async () => (await http('GET', `http://127.0.0.1:${port}/_bench/stats`)).json;
  return { child, port, stats };
}

/**
 * Starts `threatflow run` with the given EF_* variables on top of the bench's own: UDP on 127.0.0.1 at a
 * free port, the API on a free port, logs at warn into a file. Resolves once /readyz answers.
 */
export async function startCollector(name, efEnv) {
  const udpPort = await freeUdpPort();
  const apiPort = await freeTcpPort();
  const cwd = scratchDir(`collector-${name}`);
  mkdirSync(join(cwd, 'data'), { recursive: true });
  const logFile = join(cwd, 'collector.log');
  const env = cleanEnv({
    EF_FLOW_SERVER_UDP_IP: '127.0.0.1',
    EF_FLOW_SERVER_UDP_PORT: String(udpPort),
    EF_API_IP: '127.0.0.1',
    EF_API_PORT: String(apiPort),
    EF_LOGGER_LEVEL: 'warn',
    EF_OUTPUT_ELASTICSEARCH_DEAD_LETTER_PATH: join(cwd, 'data', 'dead-letter.ndjson'),
    EF_OUTPUT_ELASTICSEARCH_SPOOL_PATH: join(cwd, 'data', 'spool'),
    // The bench measures what is indexed live at each offered rate: a batch the output cannot take must
    // count as loss in that step, not be parked on disk and replayed into the next one.
    EF_OUTPUT_ELASTICSEARCH_SPOOL_MAX_SIZE: '0',
    ...efEnv,
  });
  const child = spawnLogged(process.execPath, [MAIN_JS, 'run'], { cwd, env }, logFile);
  let exited = null;
  child.once('exit', (code, sig) => (exited = `exit ${code ?? sig}`));
  await waitFor(
    async () => {
      if (exited) throw new Error(`collector ${exited}; see ${logFile}`);
      const r = await http('GET', `http://127.0.0.1:${apiPort}/readyz`);
      return r.status === 200;
    },
    { timeoutMs: 60_000, what: `collector readiness (log: ${logFile})` },
  );
  const metrics = async () => parseProm((await http('GET', `http://127.0.0.1:${apiPort}/metrics`)).text);
  return { child, pid: child.pid, udpPort, apiPort, logFile, metrics, stop: () => stopChild(child, 15_000) };
}

/** CPU % of one core a process uses over `ms` (e.g. the collector idle, before the steps). */
export async function idleCpuPct(pid, ms = 2000) {
  const c0 = cpuSeconds(pid);
  await sleep(ms);
  return (100 * (cpuSeconds(pid) - c0)) / (ms / 1000);
}

/** Metric names of the collector's /metrics (Prometheus) used by the harness. */
export const M = {
  received: 'threatflow_udp_datagrams_received_total',
  records: 'threatflow_records_total',
  docs: 'threatflow_output_documents_total',
  dropped: 'threatflow_output_dropped_total',
  decodeErrors: 'threatflow_decode_errors_total',
};

/**
 * One rate step against a running receiver: blast for `seconds`, measure CPU over the send window, then
 * wait until `drained()` says the output has caught up (or `drainTimeoutMs`). `probe()` returns counters
 * read before and after ({received, records, docs, dropped}); `pids` are extra processes whose CPU to
 * report ({name: pid}).
 */
export async function runStep({ bin, file, port, rateDps, seconds, recordsPerDatagram, pid, probe, drained, drainTimeoutMs = 20_000, pids = {} }) {
  const before = await probe();
  const drops0 = socketDrops(port);
  const rcv0 = rcvbufErrors();
  const cpu0 = cpuSeconds(pid);
  const th0 = threadCpu(pid);
  const extra0 = Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, cpuSeconds(p)]));
  const busy0 = systemBusySeconds();
  const t0 = process.hrtime.bigint();
  const res = await blast(bin, file, port, rateDps, seconds);
  const window = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu1 = cpuSeconds(pid);
  const th1 = threadCpu(pid);
  const extra1 = Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, cpuSeconds(p)]));
  const busy1 = systemBusySeconds();
  const rss = rssBytes(pid);
  const tEnd = Date.now();
  let after = await probe();
  // Drain: wait until the output has everything, or it stops moving for 3 s, or the timeout.
  let last = after;
  let lastChange = Date.now();
  while (Date.now() - tEnd < drainTimeoutMs) {
    if (await drained(before, after, res.sent)) break;
    await sleep(250);
    after = await probe();
    if (JSON.stringify(after) !== JSON.stringify(last)) {
      last = after;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > 3000) break;
  }
  const drainMs = Date.now() - tEnd;
  const d = (k) => (after[k] ?? 0) - (before[k] ?? 0);
  const threads = threadCpuDelta(th0, th1, window, pid);
  const ours = cpu1 - cpu0 + res.cpu + Object.keys(pids).reduce((t, k) => t + (extra1[k] - extra0[k]), 0);
  return {
    rateDps,
    offeredFlowsPerSec: rateDps * recordsPerDatagram,
    seconds: res.seconds,
    sent: res.sent,
    sentFlows: res.sent * recordsPerDatagram,
    senderCpuPct: (100 * res.cpu) / res.seconds,
    received: d('received'),
    records: d('records'),
    docs: d('docs'),
    outputDropped: d('dropped'),
    socketDrops: socketDrops(port) - drops0,
    rcvbufErrors: rcvbufErrors() - rcv0,
    cpuPct: (100 * (cpu1 - cpu0)) / window,
    threads: threads.slice(0, 4),
    extraCpuPct: Object.fromEntries(Object.entries(extra1).map(([k, v]) => [k, (100 * (v - extra0[k])) / window])),
    rssMB: rss / 1048576,
    // CPU used by everything else on the box during the window (other people's builds and tests):
    // when it is large, the step's figures are not trustworthy.
    othersCpuPct: Math.max(0, (100 * (busy1 - busy0 - ours)) / window),
    drainMs,
    after,
  };
}

/** Zero loss: every datagram received by the socket, none dropped, every record delivered. */
export function lossless(s) {
  return s.socketDrops === 0 && s.received >= s.sent && s.outputDropped === 0 && s.docs >= s.sentFlows;
}
