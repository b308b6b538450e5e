// SPDX-License-Identifier: Apache-2.0
/**
 * The capture reader tells what it could not read: a capture cut short keeps the packets before and says
 * after how many it stopped; a bogus pcapng block length, an unsupported link type and IP fragments are
 * reported (file, offset / link type / count) instead of giving fewer datagrams silently; errors name the file.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectCapture, inspectCaptureFile, readCaptureFile } from '../../src/capture/pcap';
import { CAPTURES_DIR } from '../helpers/exporters';

function ipv4Udp(payload: Buffer, opts: { id?: number; flagsFrag?: number } = {}): Buffer {
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + 8 + payload.length, 2);
  ip.writeUInt16BE(opts.id ?? 1, 4);
  ip.writeUInt16BE(opts.flagsFrag ?? 0, 6);
  ip[8] = 64;
  ip[9] = 17;
  Buffer.from([192, 0, 2, 1]).copy(ip, 12);
  Buffer.from([192, 0, 2, 2]).copy(ip, 16);
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(4000, 0);
  udp.writeUInt16BE(2055, 2);
  udp.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([ip, udp, payload]);
}

function ipv6FragUdp(payload: Buffer, id: number): Buffer {
  const ip = Buffer.alloc(40);
  ip[0] = 0x60;
  ip.writeUInt16BE(8 + 8 + payload.length, 4);
  ip[6] = 44; // fragment header
  ip[7] = 64;
  ip[23] = 1;
  ip[39] = 2;
  const frag = Buffer.alloc(8);
  frag[0] = 17;
  frag.writeUInt16BE(1, 2); // offset 0, M flag
  frag.writeUInt32BE(id, 4);
  return Buffer.concat([ip, frag, Buffer.alloc(8), payload]);
}

/** A classic pcap, little-endian, µs, with these frames. */
function pcap(linkType: number, frames: Buffer[]): Buffer {
  const gh = Buffer.alloc(24);
  gh.writeUInt32LE(0xa1b2c3d4, 0);
  gh.writeUInt16LE(2, 4);
  gh.writeUInt16LE(4, 6);
  gh.writeUInt32LE(65535, 16);
  gh.writeUInt32LE(linkType, 20);
  const parts = [gh];
  frames.forEach((f, i) => {
    const rh = Buffer.alloc(16);
    rh.writeUInt32LE(1700000000 + i, 0);
    rh.writeUInt32LE(f.length, 8);
    rh.writeUInt32LE(f.length, 12);
    parts.push(rh, f);
  });
  return Buffer.concat(parts);
}

function block(type: number, body: Buffer, lenOverride?: number): Buffer {
  const pad = Buffer.alloc((4 - (body.length % 4)) % 4);
  const len = 12 + body.length + pad.length;
  const b = Buffer.alloc(len);
  b.writeUInt32LE(type, 0);
  b.writeUInt32LE(lenOverride ?? len, 4);
  body.copy(b, 8);
  b.writeUInt32LE(len, len - 4);
  return b;
}

function pcapng(frames: Buffer[], badLengthAt = -1): Buffer {
  const shb = Buffer.alloc(16);
  shb.writeUInt32LE(0x1a2b3c4d, 0);
  shb.writeUInt16LE(1, 4);
  shb.writeInt32LE(-1, 8);
  shb.writeInt32LE(-1, 12);
  const idb = Buffer.alloc(8);
  idb.writeUInt16LE(101, 0); // raw IP
  const blocks = [block(0x0a0d0d0a, shb), block(1, idb)];
  frames.forEach((f, i) => {
    const epb = Buffer.alloc(20);
    epb.writeUInt32LE(f.length, 12);
    epb.writeUInt32LE(f.length, 16);
    blocks.push(block(6, Buffer.concat([epb, f]), i === badLengthAt ? 7 : undefined));
  });
  return Buffer.concat(blocks);
}

const payloads = [Buffer.from('first'), Buffer.from('second'), Buffer.from('third')];

describe('capture reader warnings', () => {
  it('keeps the packets before a cut and says the capture is cut short after N packets', () => {
    const full = pcap(101, payloads.map((p) => ipv4Udp(p)));
    const r = inspectCapture(full.subarray(0, full.length - 3), 'half.pcap');
    expect(r.datagrams.map((d) => d.payload.toString())).toEqual(['first', 'second']);
    expect(r.warnings).toEqual([expect.stringMatching(/^capture half\.pcap is cut short after 2 packets \(in the middle of a packet at offset \d+\)/)]);
    // Cut inside a record header too.
    const inHeader = inspectCapture(full.subarray(0, 24 + 16 + ipv4Udp(payloads[0]).length + 5), 'h.pcap');
    expect(inHeader.datagrams).toHaveLength(1);
    expect(inHeader.warnings[0]).toMatch(/cut short after 1 packets \(in a record header/);
  });

  it('a whole capture gives no warnings', () => {
    expect(inspectCapture(pcap(101, payloads.map((p) => ipv4Udp(p))), 'x').warnings).toEqual([]);
    expect(inspectCaptureFile(join(CAPTURES_DIR, 'softflowd-v9.pcap')).warnings).toEqual([]);
  });

  it('a real capture cut in half: warning, packets before kept', () => {
    const file = join(CAPTURES_DIR, 'pmacct-sflow.pcap');
    const data = readFileSync(file);
    const dir = mkdtempSync(join(tmpdir(), 'tf-pcap-'));
    const half = join(dir, 'half.pcap');
    writeFileSync(half, data.subarray(0, Math.floor(data.length / 2)));
    const warnings: string[] = [];
    const got = readCaptureFile(half, (w) => warnings.push(w));
    expect(got.length).toBeGreaterThan(0);
    expect(got.length).toBeLessThan(readCaptureFile(file).length);
    expect(warnings).toEqual([expect.stringContaining(`capture ${half} is cut short after ${got.length} packets`)]);
  });

  it('reports a pcapng block with a bogus length, with its offset', () => {
    const frames = payloads.map((p) => ipv4Udp(p));
    const r = inspectCapture(pcapng(frames, 1), 'bad.pcapng');
    expect(r.datagrams.map((d) => d.payload.toString())).toEqual(['first']);
    expect(r.warnings).toEqual([expect.stringMatching(/^capture bad\.pcapng: bogus pcapng block length 7 at offset \d+; reading stopped after 1 packets/)]);
    // And a pcapng cut short.
    const ok = pcapng(frames);
    const cut = inspectCapture(ok.subarray(0, ok.length - 10), 'cut.pcapng');
    expect(cut.datagrams).toHaveLength(2);
    expect(cut.warnings[0]).toMatch(/^capture cut\.pcapng is cut short after 2 packets/);
    expect(inspectCapture(ok, 'ok').warnings).toEqual([]);
  });

  it('reports an unsupported link type with its number and how many packets were skipped', () => {
    const r = inspectCapture(pcap(147, payloads.map((p) => ipv4Udp(p))), 'user0.pcap');
    expect(r.datagrams).toEqual([]);
    expect(r.warnings).toEqual([expect.stringMatching(/^capture user0\.pcap: link type 147 is not supported .*: 3 packets skipped$/)]);
  });

  it('counts fragmented UDP datagrams (IPv4 and IPv6) and says reassembly is not supported', () => {
    const frames = [
      ipv4Udp(Buffer.from('a'), { id: 7, flagsFrag: 0x2000 }), // first fragment, MF
      ipv4Udp(Buffer.from('b'), { id: 7, flagsFrag: 0x0003 }), // last fragment of the same datagram
      ipv4Udp(Buffer.from('c'), { id: 8, flagsFrag: 0x2000 }),
      ipv4Udp(Buffer.from('whole'), { id: 9, flagsFrag: 0x4000 }), // DF only: not a fragment
    ];
    const r = inspectCapture(pcap(101, frames), 'frag.pcap');
    expect(r.datagrams.map((d) => d.payload.toString())).toEqual(['whole']);
    expect(r.warnings).toEqual(['capture frag.pcap: 2 fragmented UDP datagrams skipped (reassembly not supported)']);
    const v6 = inspectCapture(pcap(101, [ipv6FragUdp(Buffer.from('x'), 1), ipv6FragUdp(Buffer.from('y'), 1)]), 'frag6.pcap');
    expect(v6.warnings).toEqual(['capture frag6.pcap: 1 fragmented UDP datagrams skipped (reassembly not supported)']);
  });

  it('errors name the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tf-pcap-'));
    const empty = join(dir, 'empty.pcap');
    writeFileSync(empty, '');
    expect(() => readCaptureFile(empty)).toThrow(`capture ${empty}: file too short to be a capture`);
    const notGzip = join(dir, 'bad.pcap.gz');
    writeFileSync(notGzip, Buffer.from([0x1f, 0x8b, 1, 2, 3]));
    expect(() => readCaptureFile(notGzip)).toThrow(`capture ${notGzip}: not valid gzip`);
  });
});
