// SPDX-License-Identifier: Apache-2.0
/**
 * `threatflow decode` and `threatflow replay` as a user runs them (built CLI): decode is deterministic and
 * carries templates from one file to the next; replay delivers every UDP payload of a capture, byte for
 * byte, to the target; stdout output of `run` prints one document per line.
 */
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { join } from 'node:path';
import { readCaptureFile } from '../../src/capture/pcap';
import { CLI, requireBuiltCli, sendDatagrams, startCollectorProcess } from '../helpers/collector';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { CAPTURES_DIR, writeUdpPcap } from '../helpers/exporters';
import { waitFor } from '../helpers/es';

const baseEnv = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EF_')));
const decode = (...files: string[]) => spawnSync(process.execPath, [CLI, 'decode', '--quiet', ...files], { env: baseEnv(), maxBuffer: 64 << 20 });

describe('threatflow decode', () => {
  beforeAll(requireBuiltCli);
  const v9 = join(CAPTURES_DIR, 'softflowd-v9.pcap');
  const ipfix = join(CAPTURES_DIR, 'pmacct-ipfix.pcap');
  const sflow = join(CAPTURES_DIR, 'pmacct-sflow.pcap');

  it('gives byte-identical NDJSON for the same input', () => {
    const a = decode(v9, ipfix, sflow);
    const b = decode(v9, ipfix, sflow);
    expect(a.status).toBe(0);
    expect(a.stdout.length).toBeGreaterThan(1000);
    expect(Buffer.compare(a.stdout, b.stdout)).toBe(0);
    // softflowd v9: 24 flows (tshark decodes 24 records, collector/test/exporters/README.md); pmacct IPFIX: 24;
    // pmacct sFlow: 86 flow samples.
    const lines = a.stdout.toString('utf8').trim().split('\n');
    expect(lines).toHaveLength(24 + 24 + 86);
    for (const l of lines) expect(() => JSON.parse(l)).not.toThrow();
  });

  it('decodes data whose template came in an earlier file', () => {
    // softflowd's v9 export: the first datagram carries the templates, the second the 24 data records.
    const [tpl, data] = readCaptureFile(v9);
    const dir = mkdtempSync(join(tmpdir(), 'tf-decode-'));
    const toDatagram = (d: typeof tpl) => ({ data: d.payload, rinfo: { address: d.srcAddr, port: d.srcPort, family: 'IPv4' as const, size: d.payload.length }, receivedAt: d.timeMs });
    writeUdpPcap(join(dir, 'templates.pcap'), [toDatagram(tpl)], 2055);
    writeUdpPcap(join(dir, 'data.pcap'), [toDatagram(data)], 2055);
    const count = (r: ReturnType<typeof decode>) => r.stdout.toString('utf8').split('\n').filter(Boolean).length;
    expect(count(decode(join(dir, 'data.pcap')))).toBe(0);
    expect(count(decode(join(dir, 'templates.pcap'), join(dir, 'data.pcap')))).toBe(24);
  });

  it('exits non-zero with a clear message for a file that is not a capture', () => {
    const r = spawnSync(process.execPath, [CLI, 'decode', __filename], { env: baseEnv(), encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/not a pcap or pcapng file/);
  });

  it('warns about a capture cut short but decodes the packets before it, and exits 0', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tf-decode-'));
    const half = join(dir, 'half.pcap');
    const data = readFileSync(sflow);
    writeFileSync(half, data.subarray(0, Math.floor(data.length / 2)));
    const r = decode(half);
    expect(r.status).toBe(0);
    expect(r.stdout.toString('utf8').split('\n').filter(Boolean).length).toBeGreaterThan(0);
    // --quiet drops the summary, not the warning.
    expect(r.stderr.toString('utf8')).toMatch(new RegExp(`^threatflow: warning: capture ${half.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is cut short after \\d+ packets`, 'm'));
  });

  it('names the file in an error when several are given', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tf-decode-'));
    const empty = join(dir, 'empty.pcap');
    writeFileSync(empty, '');
    const r = decode(v9, empty);
    expect(r.status).toBe(1);
    expect(r.stderr.toString('utf8')).toContain(`capture ${empty}: file too short to be a capture`);
  });
});

describe('threatflow replay', () => {
  it('delivers every UDP payload of the capture to the target, in order', async () => {
    requireBuiltCli();
    const file = join(CAPTURES_DIR, 'pmacct-sflow.pcap');
    const want = readCaptureFile(file).map((d) => d.payload.toString('hex'));
    const sock = dgram.createSocket('udp4');
    const got: string[] = [];
    sock.on('message', (m) => got.push(m.toString('hex')));
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const r = spawnSync(process.execPath, [CLI, 'replay', file, '--to', `127.0.0.1:${sock.address().port}`, '--rate', '500'], { env: baseEnv(), encoding: 'utf8' });
    expect(r.status).toBe(0);
    await waitFor(async () => got.length >= want.length, 5000, 50);
    sock.close();
    expect(got).toEqual(want);
    expect(r.stderr).toContain(`sent ${want.length} datagrams`);
  });

  it('--loop without a count runs until interrupted, then says how much it sent', async () => {
    const { spawn } = await import('node:child_process');
    const sink = dgram.createSocket('udp4');
    let received = 0;
    sink.on('message', () => received++);
    await new Promise<void>((r) => sink.bind(0, '127.0.0.1', () => r()));
    const child = spawn(process.execPath, [CLI, 'replay', join(CAPTURES_DIR, 'softflowd-v5.pcap'), '--to', `127.0.0.1:${sink.address().port}`, '--loop'], { env: baseEnv() });
    let err = '';
    child.stderr.on('data', (b) => (err += b.toString()));
    // Interrupt once it is sending (its SIGINT handler is installed before the first datagram): a fixed
    // sleep raced the CLI's start-up on a loaded machine and killed it before the handler existed.
    await waitFor(async () => received > 0, 15_000, 20);
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => {
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.on('exit', (c) => (clearTimeout(t), resolve(c)));
    });
    sink.close();
    expect(code).toBe(0);
    expect(err).toMatch(/sent \d+ datagrams/);
  });

  const v5 = () => join(CAPTURES_DIR, 'softflowd-v5.pcap');
  const run = (...args: string[]) => spawnSync(process.execPath, [CLI, 'replay', v5(), ...args], { env: baseEnv(), encoding: 'utf8', timeout: 20000 });

  it('rejects --loop 0, as its message and help say (no value loops until interrupted)', () => {
    const r = run('--to', '127.0.0.1:9', '--loop', '0');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--loop "0" is not valid: a whole number >= 1, or no value to loop until interrupted/);
    expect(run('--help').stdout.replace(/\s+/g, ' ')).toMatch(/COUNT >= 1 \(no COUNT: until interrupted\)/);
  });

  it('fails clearly when the --to host does not resolve, sending nothing', () => {
    const r = run('--to', 'nosuchhost.invalid:20599');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/cannot resolve host "nosuchhost\.invalid"/);
    expect(r.stderr).not.toMatch(/sent \d+ datagrams/);
  });

  it('range-checks --port-filter', () => {
    for (const bad of ['99999', '-1', 'abc', '2055.5']) {
      const r = run('--to', '127.0.0.1:9', '--port-filter', bad);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`--port-filter "${bad}" is not valid: a UDP port 1-65535`);
    }
  });

  it('refuses a bad --to', () => {
    const r = spawnSync(process.execPath, [CLI, 'replay', join(CAPTURES_DIR, 'softflowd-v5.pcap'), '--to', 'localhost:99999'], { env: baseEnv(), encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/--to "localhost:99999" is not valid/);
  });
});

describe('threatflow run with the stdout output', () => {
  it('prints one ECS document per line for each record', async () => {
    const c = await startCollectorProcess({ EF_OUTPUT_STDOUT_ENABLE: 'true', EF_OUTPUT_STDOUT_FORMAT: 'json' });
    try {
      const v5 = readCaptureFile(join(CAPTURES_DIR, 'softflowd-v5.pcap'));
      await sendDatagrams(c.udpPort, v5.map((d) => d.payload));
      // softflowd v5 carries the 20 IPv4 flows of the known traffic.
      const docs = await waitFor(async () => {
        const d = c.output().filter((l) => l.startsWith('{"@timestamp"'));
        return d.length >= 20 ? d : null;
      });
      expect(docs).toHaveLength(20);
      const parsed = docs.map((l) => JSON.parse(l));
      expect(new Set(parsed.map((d) => d.netflow.exporter.version))).toEqual(new Set([5]));
    } finally {
      await c.stop();
    }
  });
});
