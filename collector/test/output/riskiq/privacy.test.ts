// SPDX-License-Identifier: Apache-2.0
/**
 * Privacy property of the RiskIQ export (DESIGN.md §6, §7), over 120,000 generated flows that mix every
 * special-purpose range of §7 (RFC 1918, loopback, link-local, CGNAT, 0/8, 192.0.0/24, documentation and
 * benchmarking ranges, multicast, 240/4, broadcast, ::, ::1, ULA, fe80::/10, ff00::/8, 2001:db8::/32,
 * 64:ff9b:1::/48, 2001::/23, 100::/64, 3fff::/20, 5f00::/16, IPv4-mapped IPv6), the user's own private
 * CIDRs, IPv6 forms that embed a private IPv4 address (NAT64, 6to4, SIIT, IPv4-compatible), and public
 * addresses (including the globally reachable exceptions inside special blocks), in canonical and other
 * text forms.
 *
 * The flows go the real way: FlowRecord -> normalizer -> RiskiqOutput.write -> transport -> TCP. The bytes
 * are captured by a raw receiver and opened with Node's crypto independently of the decoder. Then:
 * - every flow with a public side gave exactly one record, in order, with exactly its public side(s) and
 *   "" / null for the private side; every flow without a public side gave none;
 * - no token of any decrypted payload (every run of address characters) parses to a non-public address,
 *   directly or as the IPv4 address an IPv6 form embeds; no dotted quad anywhere is private; no private
 *   address appears in any of its text forms; the raw frame bytes hold none either.
 * "Private" here is the generator's own label, cross-checked with Node's net.BlockList over the same
 * ranges: nothing from src/enrich/ip-class.ts decides the expected answer.
 */
import net from 'node:net';
import { newFlowRecord, type FlowRecord } from '../../../src/decode/types';
import { Metrics } from '../../../src/observability/metrics';
import { RiskiqOutput, riskiqOutputOptions } from '../../../src/output/riskiq/output';
import { createNormalizer } from '../../../src/pipeline/normalize';
import { memoryLogger } from '../../helpers/es';
import { KEYS, openFramesIndependently, rawReceiver, TEST_UUID, until } from './helpers';

const FLOWS = 120_000;
const USER_CIDRS = ['81.2.69.0/24', '2a02:1234::/32'];

/** mulberry32: small, seeded, reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = rng(20260101);
const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)];

// ---------------------------------------------------------------------------------------------------
// Addresses as 16 bytes (IPv4 as ::ffff:a.b.c.d), with an independent parser and formatter.

type Bytes16 = Uint8Array;

function v4ToMapped(n: number): Bytes16 {
  const b = new Uint8Array(16);
  b[10] = b[11] = 0xff;
  b[12] = n >>> 24;
  b[13] = (n >>> 16) & 255;
  b[14] = (n >>> 8) & 255;
  b[15] = n & 255;
  return b;
}
const dotted = (n: number) => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
const v4Of = (b: Bytes16, off = 12) => ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
const hexKey = (b: Bytes16) => Buffer.from(b).toString('hex');

/** IPv6 text -> 16 bytes, or null; handles `::` and a trailing dotted quad. Written for this test. */
function parse6(s: string): Bytes16 | null {
  if (net.isIPv6(s) === false) return null;
  let tail: number[] = [];
  let text = s;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    const q = text.slice(lastColon + 1).split('.').map(Number);
    tail = [(q[0] << 8) | q[1], (q[2] << 8) | q[3]];
    text = text.slice(0, lastColon + 1) + '0';
  }
  const [head, rest] = text.includes('::') ? text.split('::') : [text, null];
  const h = head === '' ? [] : head.split(':').map((g) => parseInt(g, 16));
  const r = rest === null || rest === '' ? [] : rest.split(':').map((g) => parseInt(g, 16));
  if (tail.length) (r.length ? r : h).pop();
  const groups = rest === null ? [...h, ...tail] : [...h, ...new Array(8 - h.length - r.length - tail.length).fill(0), ...r, ...tail];
  if (groups.length !== 8) return null;
  const b = new Uint8Array(16);
  groups.forEach((g, i) => {
    b[2 * i] = g >> 8;
    b[2 * i + 1] = g & 255;
  });
  return b;
}

function parseAny(s: string): Bytes16 | null {
  if (net.isIPv4(s)) {
    const q = s.split('.').map(Number);
    return v4ToMapped(((q[0] << 24) | (q[1] << 16) | (q[2] << 8) | q[3]) >>> 0);
  }
  return parse6(s);
}

/** Text forms of an IPv6 address: compressed, fully expanded, upper case. */
function forms6(b: Bytes16): string[] {
  const g = Array.from({ length: 8 }, (_, i) => (b[2 * i] << 8) | b[2 * i + 1]);
  const full = g.map((x) => x.toString(16).padStart(4, '0')).join(':');
  const plain = g.map((x) => x.toString(16)).join(':');
  // Longest run of zero groups (>= 2) becomes "::".
  let best = -1;
  let len = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > len && j - i >= 2) [best, len] = [i, j - i];
    i = j;
  }
  const compressed =
    best < 0 ? plain : `${g.slice(0, best).map((x) => x.toString(16)).join(':')}::${g.slice(best + len).map((x) => x.toString(16)).join(':')}`;
  return [compressed, full, compressed.toUpperCase(), plain];
}

/** Every text form of an address worth looking for (IPv4: dotted and the IPv6 forms that carry it). */
function textForms(b: Bytes16): string[] {
  const isV4 = b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
  if (!isV4) return forms6(b);
  const n = v4Of(b);
  return [dotted(n), `::ffff:${dotted(n)}`, `0:0:0:0:0:ffff:${dotted(n)}`, ...forms6(b)];
}

// ---------------------------------------------------------------------------------------------------
// The generator's ranges, labelled by construction (DESIGN.md §7 plus the user's CIDRs).

const P4: Array<[string, number]> = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24],
  ['224.0.0.0', 4], ['240.0.0.0', 4], ['81.2.69.0', 24],
];
const P6: Array<[string, number]> = [
  ['64:ff9b:1::', 48], ['100::', 64], ['2001::', 32], ['2001:2::', 48], ['2001:10::', 28], ['2001:100::', 24],
  ['2001:db8::', 32], ['3fff::', 20], ['5f00::', 16], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['2a02:1234::', 32],
];
const PUB4: Array<[string, number]> = [['1.0.0.0', 8], ['8.0.0.0', 8], ['45.0.0.0', 8], ['93.0.0.0', 8], ['151.0.0.0', 8], ['185.0.0.0', 8]];
const PUB6: Array<[string, number]> = [['2606:4700::', 32], ['2a00:1450::', 32], ['2001:4860::', 32], ['2001:3::', 32], ['2001:20::', 28], ['2400:cb00::', 32]];

function randomIn4(base: string, len: number): number {
  const b = parseAny(base)!;
  const start = v4Of(b);
  return (start + Math.floor(rand() * 2 ** (32 - len))) >>> 0;
}
function randomIn6(base: string, len: number): Bytes16 {
  const b = parseAny(base)!;
  const out = new Uint8Array(b);
  for (let bit = len; bit < 128; bit++) if (rand() < 0.5) out[bit >> 3] |= 0x80 >> (bit & 7);
  // Keep some low-entropy addresses too (::1-like hosts in a network).
  if (rand() < 0.2) for (let i = Math.ceil(len / 8); i < 15; i++) out[i] = 0;
  return out;
}

/** Independent reference over the same ranges: Node's BlockList. */
const blockPrivate = new net.BlockList();
for (const [a, l] of P4) blockPrivate.addSubnet(a, l, 'ipv4');
blockPrivate.addAddress('255.255.255.255', 'ipv4');
for (const [a, l] of P6) blockPrivate.addSubnet(a, l, 'ipv6');
blockPrivate.addAddress('::', 'ipv6');
blockPrivate.addAddress('::1', 'ipv6');
blockPrivate.addRange('192.0.0.0', '192.0.0.8', 'ipv4'); // 192.0.0/24 minus .9 and .10 (globally reachable)
blockPrivate.addRange('192.0.0.11', '192.0.0.255', 'ipv4');

const privateKeys = new Set<string>(); // every private address generated (16-byte hex)
const privateV4 = new Set<number>(); // and the IPv4 ones, for embedded forms
const publicKeys = new Set<string>();

interface Addr {
  text: string;
  private: boolean;
  v6: boolean;
}

function privateV4Addr(): number {
  const r = rand();
  if (r < 0.03) return 0xffffffff; // limited broadcast
  if (r < 0.08) return (0xc0000000 + pick([0, 1, 8, 11, 170, 171, 255])) >>> 0; // 192.0.0/24 but not .9/.10
  const [a, l] = pick(P4);
  return randomIn4(a, l);
}

function genPrivate(v6: boolean): Addr {
  if (!v6) {
    const n = privateV4Addr();
    privateV4.add(n);
    privateKeys.add(hexKey(v4ToMapped(n)));
    return { text: dotted(n), private: true, v6: false };
  }
  const r = rand();
  let b: Bytes16;
  let embedded: number | null = null;
  if (r < 0.05) b = parseAny(pick(['::', '::1']))!;
  else if (r < 0.15) {
    embedded = privateV4Addr();
    b = v4ToMapped(embedded); // IPv4-mapped
  } else if (r < 0.25) {
    embedded = privateV4Addr();
    const kind = pick(['nat64', '6to4', 'siit', 'compat'] as const);
    b = new Uint8Array(16);
    if (kind === 'nat64') b.set([0, 0x64, 0xff, 0x9b]);
    if (kind === 'siit') b.set([0xff, 0xff], 8);
    if (kind === '6to4') {
      b.set([0x20, 0x02, embedded >>> 24, (embedded >>> 16) & 255, (embedded >>> 8) & 255, embedded & 255]);
      b[15] = 1 + Math.floor(rand() * 200);
    } else b.set([embedded >>> 24, (embedded >>> 16) & 255, (embedded >>> 8) & 255, embedded & 255], 12);
  } else {
    const [a, l] = pick(P6);
    b = randomIn6(a, l);
  }
  if (embedded !== null) privateV4.add(embedded);
  privateKeys.add(hexKey(b));
  return { text: pick([0, 0, 0, 1, 2]) === 0 ? forms6(b)[0] : pick(forms6(b)), private: true, v6: true };
}

function genPublic(v6: boolean): Addr {
  if (!v6) {
    const r = rand();
    const n = r < 0.02 ? pick([0xc0000009, 0xc000000a, 0xc0586301]) : randomIn4(...pick(PUB4));
    publicKeys.add(hexKey(v4ToMapped(n)));
    return { text: dotted(n), private: false, v6: false };
  }
  const r = rand();
  let b: Bytes16;
  if (r < 0.1) b = v4ToMapped(randomIn4(...pick(PUB4))); // IPv4-mapped public
  else if (r < 0.15) {
    const n = randomIn4(...pick(PUB4));
    b = new Uint8Array(16);
    b.set([0, 0x64, 0xff, 0x9b]);
    b.set([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255], 12); // NAT64 of a public address
  } else b = randomIn6(...pick(PUB6));
  publicKeys.add(hexKey(b));
  return { text: forms6(b)[0], private: false, v6: true };
}

// ---------------------------------------------------------------------------------------------------

describe('RiskIQ export privacy property', () => {
  it(`${FLOWS.toLocaleString('en')} generated flows: exactly the public sides leave, no private address in any form`, async () => {
    // The generator's labels agree with the independent reference.
    const flows: Array<{ rec: FlowRecord; src: Addr; dst: Addr }> = [];
    const T0 = 1_767_225_600_000;
    for (let i = 0; i < FLOWS; i++) {
      const v6 = rand() < 0.45;
      const kind = rand();
      // Mix: 30 % private->private, 25 % outbound, 25 % inbound, 20 % external.
      const src = kind < 0.55 ? genPrivate(v6) : genPublic(v6);
      const dst = kind < 0.3 || (kind >= 0.55 && kind < 0.8) ? genPrivate(v6) : genPublic(v6);
      const proto = pick([6, 6, 17, 17, v6 ? 58 : 1]);
      const icmp = proto === 1 || proto === 58;
      const rec = Object.assign(newFlowRecord('ipfix', '192.0.2.1'), {
        exportTimeMs: T0 + i,
        ipVersion: v6 ? 6 : 4,
        srcAddr: src.text,
        dstAddr: dst.text,
        srcPort: icmp ? 0 : 1 + Math.floor(rand() * 65535),
        dstPort: icmp ? 0x0800 : pick([22, 53, 80, 443, 3389, 50000]),
        ipProtocol: proto,
        tcpFlags: proto === 6 ? Math.floor(rand() * 64) : null,
        bytes: 40 + Math.floor(rand() * 1e6),
        packets: 1 + Math.floor(rand() * 1000),
        startMs: T0 + i,
        endMs: T0 + i + Math.floor(rand() * 60_000),
      });
      flows.push({ rec, src, dst });
    }
    // Violations are collected and asserted once: expect() in a loop of 10^5 costs more than the test.
    const problems: string[] = [];
    for (const a of flows.flatMap((f) => [f.src, f.dst])) {
      const b = parseAny(a.text)!;
      const isV4 = !a.v6 || (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff);
      const listed = isV4 ? blockPrivate.check(dotted(v4Of(b)), 'ipv4') : blockPrivate.check(forms6(b)[0], 'ipv6');
      // Embedded forms (NAT64/6to4/SIIT/compat) are private by the export's rule, not by a listed range.
      if (listed && !a.private) problems.push(`generator: ${a.text} is in a private range but labelled public`);
    }
    for (const k of publicKeys) if (privateKeys.has(k)) problems.push(`generator: ${k} labelled both ways`);
    expect(problems).toEqual([]);

    // The real path: normalizer -> output -> transport -> TCP.
    const rx = await rawReceiver();
    const normalizer = createNormalizer({ timestampSource: 'end', communityIdEnable: true, communityIdSeed: 0, expandClientServer: true, privateCidrs: USER_CIDRS });
    const key = KEYS[256];
    const metrics = new Metrics();
    const output = new RiskiqOutput(
      riskiqOutputOptions(
        {
          enabled: true,
          host: '127.0.0.1',
          port: rx.port,
          customerUuid: TEST_UUID,
          customerEncryptionKey: key.toString('base64'),
          tlsEnabled: false,
          tlsSkipVerification: false,
          tlsCaCertFilepath: '',
          batchSize: 1000,
          batchDeadlineMs: 50,
          queueMax: FLOWS,
        },
        USER_CIDRS,
      ),
      memoryLogger().log,
      metrics,
    );
    try {
      await output.start();
      for (let i = 0; i < flows.length; i++) {
        output.write(normalizer.toDocument(flows[i].rec, flows[i].rec.exportTimeMs), '');
        if (i % 5000 === 4999) await new Promise((r) => setImmediate(r)); // let the transport run, as datagrams would
      }
      await output.flush();
      const st = output.stats();
      await until(() => rx.bytes().length === st.bytesSent, 10_000, 'all bytes at the receiver');
      const raw = rx.bytes();
      const frames = openFramesIndependently(raw, key);
      const lines = frames.flatMap((f) => f.lines);

      // Exactly one record per flow with a public side, in order, with exactly the public sides.
      const withPublic = flows.filter((f) => !f.src.private || !f.dst.private);
      expect(st).toMatchObject({ recordsSkipped: FLOWS - withPublic.length, recordsSent: withPublic.length, dropped: { queue_full: 0 } });
      expect(lines).toHaveLength(withPublic.length);
      expect(withPublic.length).toBeGreaterThan(FLOWS * 0.6);
      expect(FLOWS - withPublic.length).toBeGreaterThan(FLOWS * 0.25);
      lines.forEach((l, i) => {
        const r = JSON.parse(l);
        const f = withPublic[i];
        const icmp = f.rec.ipProtocol === 1 || f.rec.ipProtocol === 58;
        const want = {
          src_ip: f.src.private ? '' : f.src.text,
          src_port: f.src.private || icmp ? null : f.rec.srcPort,
          dst_ip: f.dst.private ? '' : f.dst.text,
          dst_port: f.dst.private || icmp ? null : f.rec.dstPort,
          start: f.rec.startMs,
          bytes: f.rec.bytes,
        };
        const got = { src_ip: r.src_ip, src_port: r.src_port, dst_ip: r.dst_ip, dst_port: r.dst_port, start: r.start, bytes: r.bytes };
        if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`record ${i}: ${JSON.stringify(got)} != ${JSON.stringify(want)}`);
      });
      expect(problems.slice(0, 20)).toEqual([]);

      // No token of any payload is a private address, directly or embedded.
      const text = frames.map((f) => f.text).join('');
      const tokens = new Set(text.match(/[0-9A-Fa-f.:]{2,}/g) ?? []);
      let addressTokens = 0;
      for (const t of tokens) {
        for (const cand of [t, t.replace(/^:(?!:)/, '')]) {
          const b = parseAny(cand);
          if (b === null) continue;
          addressTokens++;
          if (privateKeys.has(hexKey(b))) problems.push(`private address in a payload: ${cand}`);
          if (!publicKeys.has(hexKey(b))) problems.push(`address not generated as public: ${cand}`);
          const g0 = (b[0] << 8) | b[1];
          const embedded =
            g0 === 0x2002 ? v4Of(b, 2) : b.subarray(0, 8).every((x) => x === 0) || (g0 === 0x64 && b[2] === 0xff && b[3] === 0x9b) ? v4Of(b) : null;
          if (embedded !== null && privateV4.has(embedded)) problems.push(`private IPv4 embedded in ${cand}`);
        }
      }
      expect(addressTokens).toBeGreaterThan(1000);
      // No dotted quad anywhere (inside any token) is a private IPv4 address.
      for (const q of text.match(/\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}/g) ?? []) {
        const b = parseAny(q);
        if (b && privateV4.has(v4Of(b))) problems.push(`private dotted quad in a payload: ${q}`);
      }
      // Every text form of every private address: absent as a token.
      let checked = 0;
      for (const k of privateKeys) {
        for (const form of textForms(Uint8Array.from(Buffer.from(k, 'hex')))) {
          checked++;
          if (tokens.has(form) || tokens.has(`:${form}`)) problems.push(`private address form in a payload: ${form}`);
        }
      }
      expect(checked).toBeGreaterThan(privateKeys.size * 4);
      // And the raw frames (headers, ciphertext, tags) hold no dotted private address either.
      for (const q of raw.toString('latin1').match(/\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}/g) ?? []) {
        const b = parseAny(q);
        if (b && privateV4.has(v4Of(b))) problems.push(`private dotted quad in raw frame bytes: ${q}`);
      }
      expect(problems.slice(0, 20)).toEqual([]);
    } finally {
      await output.stop();
      await rx.close();
    }
  }, 180_000);
});
