// SPDX-License-Identifier: Apache-2.0
/**
 * Self-test of the exporter harness (helpers/exporters.ts), independent of our decoders: softflowd and
 * pmacctd export the known traffic live to a plain UDP socket, tshark decodes what arrived, and the result
 * must equal expected-flows.json, which make-traffic.py computed from its own packet list. The committed
 * captures under exporters/captures are held to the same expectations.
 *
 *   cd /work/main && TF_TEST_NO_ES=1 npx jest collector/test/exporters
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  aggregateSflow,
  CAPTURES_DIR,
  captureExports,
  CflowDecode,
  collectDatagrams,
  EXPECTED_FLOWS_JSON,
  ExpectedFlow,
  ExpectedFlows,
  EXPORTERS_DIR,
  flowKey,
  killExporterChildren,
  lastPacketMs,
  loadExpectedFlows,
  parseTsharkAbsTime,
  runPmacct,
  runPmacctSflowComplete,
  runSoftflowd,
  SflowDecode,
  softflowdBootMs,
  TRAFFIC_PCAP,
  tsharkCflow,
  tsharkSflow,
  withTempDir,
  writeUdpPcap,
} from './helpers/exporters';

jest.setTimeout(60000);

const expected: ExpectedFlows = loadExpectedFlows();
const boot = softflowdBootMs(expected);
const lastMs = lastPacketMs(expected);
const byKey = new Map(expected.flows.map((f) => [flowKey(f), f]));
const ipv4 = expected.flows.filter((f) => f.ip_version === 4);

afterAll(() => killExporterChildren());

/** How an exporter carries flow start/end (README "Times"). */
type TimeMode = 'softflowd-uptime' | 'abs';

function checkCflow(got: CflowDecode, want: ExpectedFlow[], mode: TimeMode): void {
  const gotKeys = got.records.map((r) => flowKey(r)).sort();
  expect(gotKeys).toEqual(want.map((f) => flowKey(f)).sort());
  for (const r of got.records) {
    const f = byKey.get(flowKey(r))!;
    const ctx = `${f.conversation} ${flowKey(f)}`;
    expect({ ctx, ip_version: r.ip_version, packets: r.packets, bytes: r.bytes, tcp_flags: r.tcp_flags }).toEqual({
      ctx,
      ip_version: f.ip_version,
      packets: f.packets,
      bytes: f.bytes,
      tcp_flags: f.tcp_flags,
    });
    // Both exporters keep one cache entry per direction pair and stamp it on both records.
    const start = mode === 'abs' ? f.pair_first_ms : f.pair_first_ms - boot;
    const end = mode === 'abs' ? f.pair_last_ms : f.pair_last_ms - boot;
    const kind = mode === 'abs' ? 'abs' : 'uptime';
    expect({ ctx, start: r.start, end: r.end }).toEqual({ ctx, start: { kind, ms: start }, end: { kind, ms: end } });
  }
}

function checkSoftflowdHeaders(got: CflowDecode, version: 5 | 9 | 10): void {
  expect(got.headers.length).toBeGreaterThan(0);
  for (const h of got.headers) {
    expect(h.version).toBe(version);
    // softflowd -a: export time is the last packet of the file, sysUptime counts from the first IP packet.
    expect(h.exportMs).toBe(version === 5 ? lastMs : Math.floor(lastMs / 1000) * 1000);
    if (version !== 10) expect(h.sysUptimeMs).toBe(lastMs - boot);
  }
  if (version === 10) {
    const init = got.options.map((o) => o['cflow.sys_init_time']).filter((v) => v !== undefined);
    expect(init.length).toBeGreaterThan(0);
    for (const v of init) expect(parseTsharkAbsTime(v)).toBe(boot);
  }
}

function checkSflowRate1(got: SflowDecode): void {
  expect(got.nonIp).toBe(0);
  expect(got.flowSamples).toHaveLength(expected.ip_packets);
  for (const s of got.flowSamples) expect(s.samplingRate).toBe(1);
  const agg = aggregateSflow(got.flowSamples);
  expect([...agg.keys()].sort()).toEqual(expected.flows.map((f) => flowKey(f)).sort());
  for (const f of expected.flows) {
    const a = agg.get(flowKey(f))!;
    const ctx = `${f.conversation} ${flowKey(f)}`;
    // pmacct's frame_length is the captured frame + 4 (an FCS it assumes was stripped).
    expect({ ctx, samples: a.samples, bytes: a.ipBytes, tcp_flags: a.tcp_flags, frames: a.frameBytes }).toEqual({
      ctx,
      samples: f.packets,
      bytes: f.bytes,
      tcp_flags: f.tcp_flags,
      frames: f.frame_bytes + 4 * f.packets,
    });
  }
}

/** Runs an exporter against a fresh loopback socket and returns the datagrams as a pcap in dir. */
async function liveToPcap(dir: string, name: string, run: (port: number) => Promise<unknown>): Promise<{ pcap: string; port: number }> {
  let port = 0;
  const dgrams = await collectDatagrams(async (p) => {
    port = p;
    await run(p);
  });
  expect(dgrams.length).toBeGreaterThan(0);
  const pcap = join(dir, name);
  writeUdpPcap(pcap, dgrams, port);
  return { pcap, port };
}

describe('known traffic', () => {
  test('expected-flows.json agrees with tshark reading traffic.pcap', () => {
    // An independent aggregation of the same packets: tshark's dissection, not scapy's.
    const out = execFileSync(
      'tshark',
      ['-r', TRAFFIC_PCAP, '-T', 'fields', '-E', 'separator=|', '-e', 'frame.time_epoch', '-e', 'frame.len', '-e', 'ip.src', '-e', 'ip.dst',
        '-e', 'ip.len', '-e', 'ip.proto', '-e', 'ipv6.src', '-e', 'ipv6.dst', '-e', 'ipv6.plen', '-e', 'ipv6.nxt', '-e', 'tcp.srcport',
        '-e', 'tcp.dstport', '-e', 'tcp.flags', '-e', 'udp.srcport', '-e', 'udp.dstport', '-e', 'icmp.type', '-e', 'icmp.code',
        '-e', 'icmpv6.type', '-e', 'icmpv6.code'],
      { encoding: 'utf8' },
    );
    const flows = new Map<string, { packets: number; bytes: number; frames: number; flags: number; first: number; last: number }>();
    let frames = 0;
    for (const line of out.trim().split('\n')) {
      frames++;
      const [t, flen, s4, d4, len4, p4, s6, d6, plen6, p6, ts, td, tf, us, ud, it, ic, i6t, i6c] = line.split('|');
      if (!s4 && !s6) continue;
      const protocol = Number(p4 || p6);
      const key = flowKey({
        src_ip: s4 || s6,
        dst_ip: d4 || d6,
        protocol,
        src_port: Number(ts || us || 0),
        dst_port: ts ? Number(td) : us ? Number(ud) : it ? Number(it) * 256 + Number(ic) : i6t ? Number(i6t) * 256 + Number(i6c) : 0,
      });
      const ms = Math.round(Number(t) * 1000);
      const f = flows.get(key) ?? { packets: 0, bytes: 0, frames: 0, flags: 0, first: ms, last: ms };
      f.packets++;
      f.bytes += s4 ? Number(len4) : Number(plen6) + 40;
      f.frames += Number(flen);
      f.flags |= tf ? parseInt(tf, 16) & 0xff : 0;
      f.last = ms;
      flows.set(key, f);
    }
    expect(frames).toBe(expected.total_packets);
    expect([...flows.keys()].sort()).toEqual(expected.flows.map((f) => flowKey(f)).sort());
    for (const e of expected.flows) {
      const f = flows.get(flowKey(e))!;
      expect({ k: flowKey(e), ...f }).toEqual({
        k: flowKey(e), packets: e.packets, bytes: e.bytes, frames: e.frame_bytes, flags: e.tcp_flags, first: e.first_ms, last: e.last_ms,
      });
    }
  });

  test('make-traffic.py is deterministic and the committed files are its output', async () => {
    await withTempDir('tf-traffic-', async (dir) => {
      execFileSync('/usr/bin/python3', [join(EXPORTERS_DIR, 'make-traffic.py'), dir], { timeout: 60000, stdio: 'pipe' });
      expect(readFileSync(join(dir, 'traffic.pcap')).equals(readFileSync(TRAFFIC_PCAP))).toBe(true);
      expect(readFileSync(join(dir, 'expected-flows.json'), 'utf8')).toBe(readFileSync(EXPECTED_FLOWS_JSON, 'utf8'));
    });
  });
});

describe('softflowd live -> UDP socket -> tshark', () => {
  test('NetFlow v5: IPv4 flows only, uptime times, ms export time', async () => {
    await withTempDir('tf-sf5-', async (dir) => {
      const { pcap, port } = await liveToPcap(dir, 'v5.pcap', (p) => runSoftflowd(TRAFFIC_PCAP, { version: 5, host: '127.0.0.1', port: p }));
      const got = await tsharkCflow(pcap, port);
      checkCflow(got, ipv4, 'softflowd-uptime');
      checkSoftflowdHeaders(got, 5);
    });
  });

  test('NetFlow v9: IPv4 and IPv6, uptime times', async () => {
    await withTempDir('tf-sf9-', async (dir) => {
      const { pcap, port } = await liveToPcap(dir, 'v9.pcap', (p) => runSoftflowd(TRAFFIC_PCAP, { version: 9, port: p }));
      const got = await tsharkCflow(pcap, port);
      checkCflow(got, expected.flows, 'softflowd-uptime');
      checkSoftflowdHeaders(got, 9);
    });
  });

  test('IPFIX: sysUptime times with systemInitTimeMilliseconds in an options record', async () => {
    await withTempDir('tf-sf10-', async (dir) => {
      const { pcap, port } = await liveToPcap(dir, 'ipfix.pcap', (p) => runSoftflowd(TRAFFIC_PCAP, { version: 10, port: p }));
      const got = await tsharkCflow(pcap, port);
      checkCflow(got, expected.flows, 'softflowd-uptime');
      checkSoftflowdHeaders(got, 10);
    });
  });

  test('IPFIX -A milli: absolute flowStart/EndMilliseconds', async () => {
    await withTempDir('tf-sf10m-', async (dir) => {
      const { pcap, port } = await liveToPcap(dir, 'ipfix-ms.pcap', (p) => runSoftflowd(TRAFFIC_PCAP, { version: 10, absTime: 'milli', port: p }));
      checkCflow(await tsharkCflow(pcap, port), expected.flows, 'abs');
    });
  });

  test('captureExports: the same export captured on loopback by dumpcap', async () => {
    await withTempDir('tf-cap-', async (dir) => {
      const pcap = join(dir, 'captured.pcap');
      let port = 0;
      await collectDatagrams((p) => {
        port = p;
        return captureExports(p, pcap, () => runSoftflowd(TRAFFIC_PCAP, { version: 5, port: p }));
      });
      const got = await tsharkCflow(pcap, port);
      checkCflow(got, ipv4, 'softflowd-uptime');
    });
  });
});

describe('pmacctd live -> UDP socket -> tshark', () => {
  test('nfprobe IPFIX: absolute ms times', async () => {
    await withTempDir('tf-pm10-', async (dir) => {
      const { pcap, port } = await liveToPcap(dir, 'ipfix.pcap', (p) => runPmacct(TRAFFIC_PCAP, { protocol: 'ipfix', port: p }));
      const got = await tsharkCflow(pcap, port);
      checkCflow(got, expected.flows, 'abs');
      for (const h of got.headers) expect(h.version).toBe(10);
    });
  });

  test('nfprobe NetFlow v9: absolute ms times', async () => {
    await withTempDir('tf-pm9-', async (dir) => {
      const { pcap, port } = await liveToPcap(dir, 'v9.pcap', (p) => runPmacct(TRAFFIC_PCAP, { protocol: 'netflow9', port: p }));
      const got = await tsharkCflow(pcap, port);
      checkCflow(got, expected.flows, 'abs');
      for (const h of got.headers) expect(h.version).toBe(9);
    });
  });

  test('sfprobe sFlow, sampling rate 1: one sample per packet', async () => {
    await withTempDir('tf-pmsf-', async (dir) => {
      // Complete runs only: sfprobe can lose its last datagram at EOF under CPU load (runPmacctSflowComplete).
      const packets = expected.flows.reduce((n, f) => n + f.packets, 0);
      const { pcap, port } = await liveToPcap(dir, 'sflow.pcap', (p) => runPmacctSflowComplete(TRAFFIC_PCAP, p, packets));
      checkSflowRate1(await tsharkSflow(pcap, port));
    });
  });

  test('sfprobe sFlow, sampling rate 4: every sample carries the rate and is a real packet', async () => {
    await withTempDir('tf-pmsf4-', async (dir) => {
      const { pcap, port } = await liveToPcap(dir, 'sflow4.pcap', (p) =>
        runPmacct(TRAFFIC_PCAP, { protocol: 'sflow', port: p, samplingRate: 4 }),
      );
      const got = await tsharkSflow(pcap, port);
      expect(got.flowSamples.length).toBeGreaterThan(0);
      expect(got.flowSamples.length).toBeLessThan(expected.ip_packets);
      let pool = 0;
      for (const s of got.flowSamples) {
        expect(s.samplingRate).toBe(4);
        expect(s.samplePool).toBeGreaterThan(pool); // packets seen so far, strictly increasing
        pool = s.samplePool;
        const f = byKey.get(flowKey(s));
        expect(f && f.packet_ip_lengths.includes(s.ipLength)).toBe(true);
      }
      expect(pool).toBeLessThanOrEqual(expected.ip_packets);
    });
  });
});

describe('committed captures decode to expected-flows.json', () => {
  const cap = (n: string): string => join(CAPTURES_DIR, n);
  const has = existsSync(cap('softflowd-v5.pcap'));
  const t = has ? test : test.skip;
  t('softflowd-v5.pcap', async () => checkCflow(await tsharkCflow(cap('softflowd-v5.pcap'), 2055), ipv4, 'softflowd-uptime'));
  t('softflowd-v9.pcap', async () => checkCflow(await tsharkCflow(cap('softflowd-v9.pcap'), 2055), expected.flows, 'softflowd-uptime'));
  t('softflowd-ipfix.pcap', async () => {
    const got = await tsharkCflow(cap('softflowd-ipfix.pcap'), 4739);
    checkCflow(got, expected.flows, 'softflowd-uptime');
    checkSoftflowdHeaders(got, 10);
  });
  t('softflowd-ipfix-abs-ms.pcap', async () => checkCflow(await tsharkCflow(cap('softflowd-ipfix-abs-ms.pcap'), 4739), expected.flows, 'abs'));
  t('pmacct-ipfix.pcap', async () => checkCflow(await tsharkCflow(cap('pmacct-ipfix.pcap'), 4739), expected.flows, 'abs'));
  t('pmacct-netflow9.pcap', async () => checkCflow(await tsharkCflow(cap('pmacct-netflow9.pcap'), 2055), expected.flows, 'abs'));
  t('pmacct-sflow.pcap', async () => checkSflowRate1(await tsharkSflow(cap('pmacct-sflow.pcap'), 6343)));
});
