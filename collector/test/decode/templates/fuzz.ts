// SPDX-License-Identifier: Apache-2.0
/**
 * Hostile input for the v9 / IPFIX decoders (STYLE.md §6: a fuzz target per decoder): random bytes behind a
 * valid version, and mutations of real captures (bit flips, truncations, length fields set to extreme
 * values, spliced datagrams). Whatever comes in, the decoder may only throw DecodeError, must finish
 * quickly, must keep its state bounded, and a good capture decoded afterwards on the same env must give the
 * same records as on a fresh env. Deterministic: a fixed-seed PRNG.
 */
import { join } from 'node:path';
import { DecodeError, type ExporterInfo, type FlowRecord } from '../../../src/decode/types';
import { decodeIpfix } from '../../../src/decode/ipfix';
import { decodeNetflow9 } from '../../../src/decode/netflow9';
import { FIXTURES } from '../../helpers/testdata';
import { exporterOf, feedAll, listFlowCaptures, newRun, type Run } from './cflow';

/** mulberry32: small, fast, good enough to explore inputs reproducibly. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mutate(rnd: () => number, src: Buffer, headerLength: number): Buffer {
  const b = Buffer.from(src);
  const kind = Math.floor(rnd() * 5);
  const pos = (min: number) => min + Math.floor(rnd() * Math.max(1, b.length - min));
  switch (kind) {
    case 0: {
      // Bit flips anywhere after the version.
      const n = 1 + Math.floor(rnd() * 8);
      for (let i = 0; i < n; i++) {
        const p = pos(2);
        if (p < b.length) b[p] ^= 1 << Math.floor(rnd() * 8);
      }
      return b;
    }
    case 1:
      // Truncation.
      return b.subarray(0, Math.floor(rnd() * b.length));
    case 2: {
      // A 16-bit field (set length, template id, field count, field length, ...) set to an extreme value.
      const p = pos(2) & ~1;
      if (p + 2 <= b.length) b.writeUInt16BE([0, 1, 2, 3, 4, 255, 256, 0x7fff, 0x8000, 0xfffe, 0xffff][Math.floor(rnd() * 11)], p);
      return b;
    }
    case 3: {
      // Random bytes over a stretch of the body.
      const p = pos(headerLength);
      const n = Math.floor(rnd() * 32);
      for (let i = p; i < Math.min(b.length, p + n); i++) b[i] = Math.floor(rnd() * 256);
      return b;
    }
    default: {
      // The header of this datagram on the body of another part of it (misframed sets).
      const cut = pos(headerLength);
      return Buffer.concat([b.subarray(0, headerLength), b.subarray(cut)]);
    }
  }
}

function decodeAny(version: number, buf: Buffer, exporter: ExporterInfo, run: Run, sink: FlowRecord[]): void {
  const env = run.env;
  const emit = (r: FlowRecord) => {
    sink.push(r);
  };
  try {
    if (version === 10) decodeIpfix(buf, exporter, env, emit);
    else decodeNetflow9(buf, exporter, env, emit);
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
  }
}

const key = (r: FlowRecord) =>
  JSON.stringify([r.srcAddr, r.dstAddr, r.srcPort, r.dstPort, r.ipProtocol, r.bytes, r.packets, r.startMs, r.endMs, r.samplingRate]);

export function fuzzSuite(proto: 'netflow9' | 'ipfix'): void {
  const version = proto === 'ipfix' ? 10 : 9;
  const headerLength = version === 10 ? 16 : 20;
  const captures = listFlowCaptures(join(FIXTURES, proto));

  describe(`${proto} hostile input`, () => {
    test('random bytes behind a valid version: only DecodeError, quickly', () => {
      const rnd = prng(version * 7919);
      const run = newRun();
      const sink: FlowRecord[] = [];
      const exporter = { address: '198.51.100.7', port: 1, receivedMs: 0 };
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < 3000; i++) {
        const len = Math.floor(rnd() * 600);
        const b = Buffer.alloc(len);
        for (let j = 0; j < len; j++) b[j] = Math.floor(rnd() * 256);
        if (len >= 2) b.writeUInt16BE(version, 0);
        // Half of them with a plausible IPFIX length, so that the set walk is reached.
        if (version === 10 && len >= 4 && rnd() < 0.5) b.writeUInt16BE(len, 2);
        decodeAny(version, b, { ...exporter, receivedMs: i * 10 }, run, sink);
      }
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      expect(ms).toBeLessThan(10_000);
      expect(run.env.templates.pendingFor(proto, exporter.address)).toBeLessThanOrEqual(run.env.templates.config.pendingMaxSets);
    });

    test('templates built to make the decoder work hard finish quickly', () => {
      const run = newRun();
      const exporter = { address: '198.51.100.8', port: 1, receivedMs: 0 };
      // 16 000 zero-length fields and one 1-byte field; then a data set of 60 000 one-byte records.
      const n = 16000;
      const spec = Buffer.alloc(4 + (n + 1) * 4);
      spec.writeUInt16BE(300, 0);
      spec.writeUInt16BE(n + 1, 2);
      for (let i = 0; i < n; i++) spec.writeUInt32BE((5 << 16) | 0, 4 + i * 4); // ipClassOfService, length 0
      spec.writeUInt32BE((4 << 16) | 1, 4 + n * 4); // protocolIdentifier, length 1
      const data = Buffer.alloc(60000, 6);
      const sets =
        version === 10
          ? [Buffer.from([0, 2, 0, 0]), spec, Buffer.from([1, 44, 0, 0]), data]
          : [Buffer.from([0, 0, 0, 0]), spec, Buffer.from([1, 44, 0, 0]), data];
      sets[0].writeUInt16BE(4 + spec.length, 2);
      const templateMsg = Buffer.concat([Buffer.alloc(headerLength), sets[0], spec]);
      const dataMsg = Buffer.concat([Buffer.alloc(headerLength), Buffer.from([1, 44, (4 + data.length) >> 8, (4 + data.length) & 255]), data]);
      for (const m of [templateMsg, dataMsg]) {
        m.writeUInt16BE(version, 0);
        if (version === 10) m.writeUInt16BE(m.length, 2);
      }
      const sink: FlowRecord[] = [];
      const t0 = process.hrtime.bigint();
      decodeAny(version, templateMsg, exporter, run, sink);
      decodeAny(version, dataMsg, exporter, run, sink);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      expect(sink.length).toBe(60000);
      expect(sink[0].ipProtocol).toBe(6);
      expect(ms).toBeLessThan(2000);
    });

    test.each(captures.map((c) => [c.name, c] as const))('mutations of %s, then the good capture still decodes', (_name, cap) => {
      // Baseline on a fresh env.
      const base = newRun();
      feedAll(base, cap.datagrams);
      const rnd = prng(cap.name.length * 104729 + version);
      const run = newRun();
      const sink: FlowRecord[] = [];
      let slowest = 0;
      for (let round = 0; round < 300; round++) {
        for (const d of cap.datagrams) {
          const m = rnd() < 0.3 ? d.payload : mutate(rnd, d.payload, headerLength);
          const t0 = process.hrtime.bigint();
          decodeAny(version, m, exporterOf(d), run, sink);
          slowest = Math.max(slowest, Number(process.hrtime.bigint() - t0) / 1e6);
        }
      }
      // No datagram makes the decoder loop or crawl (a real datagram takes well under a millisecond).
      expect(slowest).toBeLessThan(250);
      // State stays bounded.
      const exporter = cap.datagrams[0].srcAddr;
      expect(run.env.templates.pendingFor(proto, exporter)).toBeLessThanOrEqual(run.env.templates.config.pendingMaxSets);
      for (const r of sink) {
        // Whatever was decoded is well-formed.
        expect(typeof r.fields).toBe('object');
        expect(r.samplingRate).toBeGreaterThanOrEqual(1);
      }
      // The good capture again, on the fuzzed env: every record of the fresh decode comes out again. Where
      // the fresh decode held nothing and the fuzzed env replays nothing, datagram by datagram the output is
      // exactly the same. (Data the mutants left waiting may be replayed when the good templates arrive,
      // and templates the good datagrams left may decode data the fresh env had to hold.)
      feedAll(run, cap.datagrams);
      const n = cap.datagrams.length;
      const againAll = run.perDatagram.slice(-n).flat().map(key);
      for (const k of base.perDatagram.flat().map(key)) expect(againAll).toContain(k);
      if (base.metrics.sum('pending_held') === 0) {
        for (let i = 0; i < n; i++) {
          if (run.replayedPerDatagram[run.replayedPerDatagram.length - n + i] !== 0) continue;
          expect(run.perDatagram[run.perDatagram.length - n + i].map(key)).toEqual(base.perDatagram[i].map(key));
        }
      }
      expect(run.crashes).toEqual([]);
    });
  });
}
