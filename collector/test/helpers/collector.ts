// SPDX-License-Identifier: Apache-2.0
/**
 * Runs the built collector (`node collector/dist/cli/main.js run`) as a child process, the way a user does,
 * on free loopback ports; `npm test` builds dist first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './testdata';

export const CLI = join(REPO_ROOT, 'collector', 'dist', 'cli', 'main.js');

export function requireBuiltCli(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` (npm test does it first)`);
}

export async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export async function freeTcpPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface CollectorProcess {
  child: ChildProcess;
  udpPort: number;
  apiPort: number;
  workDir: string;
  /** Everything the process wrote (stdout + stderr), as text lines. */
  output(): string[];
  metrics(): Promise<Record<string, number>>;
  /** Metrics once they stop changing (workers report every second, so a read can lag what was sent). */
  settledMetrics(): Promise<Record<string, number>>;
  stop(): Promise<number | null>;
}

/** Starts `threatflow run` with the given EF_* variables (plus listen/API ports) and waits until ready. */
export async function startCollectorProcess(env: Record<string, string>): Promise<CollectorProcess> {
  requireBuiltCli();
  const udpPort = await freeUdpPort();
  const apiPort = await freeTcpPort();
  const workDir = mkdtempSync(join(tmpdir(), 'tf-collector-'));
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EF_')));
  const child = spawn(process.execPath, [CLI, 'run'], {
    cwd: workDir,
    env: {
      ...base,
      EF_FLOW_SERVER_UDP_IP: '127.0.0.1',
      EF_FLOW_SERVER_UDP_PORT: String(udpPort),
      EF_API_IP: '127.0.0.1',
      EF_API_PORT: String(apiPort),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: string[] = [];
  let partial = '';
  const onData = (b: Buffer) => {
    const text = partial + b.toString('utf8');
    const lines = text.split('\n');
    partial = lines.pop() ?? '';
    out.push(...lines);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r((exitCode = code))));
  const proc: CollectorProcess = {
    child,
    udpPort,
    apiPort,
    workDir,
    output: () => (partial ? [...out, partial] : [...out]),
    async metrics() {
      const text = await (await fetch(`http://127.0.0.1:${apiPort}/metrics`)).text();
      const values: Record<string, number> = {};
      for (const line of text.split('\n')) {
        if (!line || line.startsWith('#')) continue;
        const i = line.lastIndexOf(' ');
        values[line.slice(0, i)] = Number(line.slice(i + 1));
      }
      return values;
    },
    async settledMetrics() {
      // Only counters settle; gauges such as memory or DB age move all the time.
      const counters = (m: Record<string, number>) => JSON.stringify(Object.entries(m).filter(([k]) => /_total(\{|$)/.test(k)));
      let prev = counters(await proc.metrics());
      for (let i = 0; i < 20; i++) {
        await new Promise((r) => setTimeout(r, 1200));
        const cur = await proc.metrics();
        const text = counters(cur);
        if (text === prev) return cur;
        prev = text;
      }
      throw new Error('collector metrics did not settle');
    },
    async stop() {
      if (exitCode === undefined) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exitCode !== undefined) throw new Error(`collector exited (${exitCode}) during startup:\n${proc.output().join('\n')}`);
    try {
      if ((await fetch(`http://127.0.0.1:${apiPort}/readyz`)).ok && proc.output().some((l) => l.includes('collector started'))) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      await proc.stop();
      throw new Error(`collector not ready in 30 s:\n${proc.output().join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return proc;
}

/** Sends datagrams to the collector, paced lightly so loopback never overflows. */
export async function sendDatagrams(port: number, payloads: Buffer[]): Promise<void> {
  const s = dgram.createSocket('udp4');
  for (const p of payloads) {
    await new Promise<void>((resolve, reject) => s.send(p, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
  }
  await new Promise<void>((r) => s.close(() => r()));
}

/** Sum of a metric over its label sets, from `CollectorProcess.metrics()` output. */
export function metricSum(values: Record<string, number>, name: string, labelFilter = ''): number {
  let sum = 0;
  for (const [k, v] of Object.entries(values)) {
    if ((k === name || k.startsWith(`${name}{`)) && k.includes(labelFilter)) sum += v;
  }
  return sum;
}
