// SPDX-License-Identifier: Apache-2.0
/**
 * Test helpers shared by the NetFlow v5, sFlow and packet-header tests: run tshark on a capture and read its
 * JSON decode, list the flow captures of the shared test data, and build wire bytes by hand.
 *
 * tshark's `-T json` repeats keys inside one object (two samples with the same sequence number, two VLAN
 * tags, two IP layers of a tunnel). `JSON.parse` keeps only the last of them and `--no-duplicate-keys`
 * regroups them out of order, so the JSON is read here by a small parser that keeps every entry in order.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { readCaptureFile, type CapturedDatagram } from '../../../src/capture/pcap';
import { SHARED_TESTDATA } from '../../helpers/testdata';

export { JObject, parseOrderedJson, type JValue } from '../../helpers/ordered-json';
import { JObject, parseOrderedJson, type JValue } from '../../helpers/ordered-json';

export const HAVE_TSHARK = spawnSync('tshark', ['--version'], { stdio: 'ignore' }).status === 0;

/** Runs `tshark -r FILE -T json` (with `-d` decode-as rules) and returns each frame's `layers` object. */
export function tsharkLayers(file: string, decodeAs: string[] = []): JObject[] {
  const args = ['-n', '-r', file, '-T', 'json'];
  for (const d of decodeAs) args.push('-d', d);
  const out = execFileSync('tshark', args, { maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] });
  const frames = parseOrderedJson(out.toString('utf8')) as JValue[];
  return frames.map((f) => ((f as JObject).obj('_source') as JObject).obj('layers') as JObject);
}

/** A capture of the shared test data holding NetFlow v5 and/or sFlow datagrams. */
export interface FlowCapture {
  /** Path relative to the shared test data directory. */
  name: string;
  path: string;
  datagrams: CapturedDatagram[];
  v5: number[];
  sflow: number[];
}

function walk(dir: string, out: string[]): void {
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (/\.(pcap|pcapng)(\.gz)?$/.test(e)) out.push(p);
  }
}

/** True for a NetFlow v5 datagram (uint16 version 5 at offset 0). */
export function isNetflow5(p: Buffer): boolean {
  return p.length >= 2 && p[0] === 0 && p[1] === 5;
}

/** True for an sFlow v5 datagram (uint32 version 5 at offset 0). */
export function isSflow5(p: Buffer): boolean {
  return p.length >= 4 && p[0] === 0 && p[1] === 0 && p[2] === 0 && p[3] === 5;
}

/** Every capture under the shared test data that holds NetFlow v5 or sFlow v5 datagrams. */
export function flowCaptures(): FlowCapture[] {
  const files: string[] = [];
  walk(SHARED_TESTDATA, files);
  const out: FlowCapture[] = [];
  for (const path of files) {
    let datagrams: CapturedDatagram[];
    try {
      datagrams = readCaptureFile(path);
    } catch {
      continue;
    }
    const v5: number[] = [];
    const sflow: number[] = [];
    datagrams.forEach((d, i) => {
      if (isNetflow5(d.payload)) v5.push(i);
      else if (isSflow5(d.payload)) sflow.push(i);
    });
    if (v5.length || sflow.length) out.push({ name: relative(SHARED_TESTDATA, path), path, datagrams, v5, sflow });
  }
  return out;
}

/** Builds wire bytes for hand-made cases: big-endian integers, hex text, IP addresses. */
export class Bytes {
  private readonly parts: number[] = [];

  u8(...v: number[]): this {
    for (const x of v) this.parts.push(x & 0xff);
    return this;
  }

  u16(...v: number[]): this {
    for (const x of v) this.parts.push((x >>> 8) & 0xff, x & 0xff);
    return this;
  }

  u32(...v: number[]): this {
    for (const x of v) this.parts.push((x >>> 24) & 0xff, (x >>> 16) & 0xff, (x >>> 8) & 0xff, x & 0xff);
    return this;
  }

  hex(s: string): this {
    const h = s.replace(/[^0-9a-fA-F]/g, '');
    for (let i = 0; i < h.length; i += 2) this.parts.push(parseInt(h.slice(i, i + 2), 16));
    return this;
  }

  ipv4(s: string): this {
    return this.u8(...s.split('.').map(Number));
  }

  /** Full (uncompressed) IPv6 text, 8 groups. */
  ipv6(s: string): this {
    const groups = s.split(':');
    if (groups.length !== 8) throw new Error('write all 8 groups');
    return this.u16(...groups.map((g) => parseInt(g, 16)));
  }

  bytes(b: Uint8Array | Bytes): this {
    const src = b instanceof Bytes ? b.build() : b;
    for (const x of src) this.parts.push(x);
    return this;
  }

  zeros(n: number): this {
    for (let i = 0; i < n; i++) this.parts.push(0);
    return this;
  }

  get length(): number {
    return this.parts.length;
  }

  build(): Buffer {
    return Buffer.from(this.parts);
  }
}

/** Raw frames of a classic pcap file (test helper; captures with UDP flow exports use src/capture/pcap). */
export function readPcapFrames(data: Buffer): { linkType: number; frames: Buffer[] } {
  const magic = data.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && magic !== 0xd4c3b2a1 && magic !== 0x4d3cb2a1) throw new Error('not a classic pcap file');
  const u32 = (o: number) => (le ? data.readUInt32LE(o) : data.readUInt32BE(o));
  const linkType = u32(20) & 0x0fffffff;
  const frames: Buffer[] = [];
  for (let off = 24; off + 16 <= data.length; ) {
    const incl = u32(off + 8);
    off += 16;
    frames.push(data.subarray(off, off + incl));
    off += incl;
  }
  return { linkType, frames };
}

/** A classic pcap file (microsecond, little-endian) holding `frames` of `linkType`. */
export function writePcap(frames: Buffer[], linkType = 1): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(262144, 16);
  head.writeUInt32LE(linkType, 20);
  const parts: Buffer[] = [head];
  frames.forEach((f, i) => {
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(1600000000 + i, 0);
    rec.writeUInt32LE(f.length, 8);
    rec.writeUInt32LE(f.length, 12);
    parts.push(rec, f);
  });
  return Buffer.concat(parts);
}

/** Deterministic PRNG (mulberry32) so that a failing random case can be replayed. */
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
