// SPDX-License-Identifier: Apache-2.0
/**
 * The frame format of DESIGN.md §6: frames built by the encoder open with Node's crypto in the test (no
 * code shared with the decoder), for AES-128/192/256; the decoder rejects a wrong key, a wrong UUID and
 * every single flipped bit; the stream reader survives any chunking, garbage and truncation.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import {
  decodeRecords,
  encodeRecordsFrame,
  encodeRecordsFrameSync,
  FrameReader,
  HEADER_BYTES,
  MAX_FRAME_DATA_BYTES,
  openFrame,
  parseKey,
  RiskiqKeyError,
  sealFrame,
  TAG_BYTES,
  uuidBytes,
  type BadFrameReason,
} from '../../../src/output/riskiq/frame';
import { KEYS, openFramesIndependently, TEST_UUID } from './helpers';

const UUID = uuidBytes(TEST_UUID);
const LINES = [
  '{"start":1767225601000,"end":1767225601141,"bytes":881,"packets":7,"src_ip":"","src_port":null,"dst_ip":"93.184.216.34","dst_port":443,"tcp_flags":27,"protocol":6,"community_id":"1:LQU9qZlK+B5F3KDmev6m5PMibrg="}',
  '{"start":1767225601012,"end":1767225601129,"bytes":3175,"packets":6,"src_ip":"93.184.216.34","src_port":443,"dst_ip":"","dst_port":null,"tcp_flags":27,"protocol":6,"community_id":"1:LQU9qZlK+B5F3KDmev6m5PMibrg="}',
  '{"start":1767225605000,"end":1767225605010,"bytes":152,"packets":2,"src_ip":"45.33.32.156","src_port":123,"dst_ip":"162.159.200.1","dst_port":123,"tcp_flags":0,"protocol":17,"community_id":"1:9j2Dzwrw7T9E+IZi4b4IVT66HBI="}',
];

describe('frames open with Node crypto, independently of the decoder', () => {
  it.each([128, 192, 256] as const)('AES-%i-GCM', async (bits) => {
    const key = KEYS[bits];
    const frame = await encodeRecordsFrame(LINES, key, UUID);
    // Layout: magic, uuid, nonce, length, data, tag.
    expect(frame.toString('latin1', 0, 4)).toBe('RQF1');
    expect(frame.subarray(4, 20).toString('hex')).toBe(TEST_UUID.replace(/-/g, ''));
    const len = frame.readUInt32BE(32);
    expect(frame.length).toBe(HEADER_BYTES + len + TAG_BYTES);
    const [opened] = openFramesIndependently(frame, key);
    expect(opened.lines).toEqual(LINES);
    expect(opened.text.endsWith('\n')).toBe(true);
    // A key of another size does not open it.
    const other = KEYS[bits === 128 ? 256 : 128];
    expect(() => openFramesIndependently(frame, other)).toThrow();
  });

  it('uses a fresh random nonce per frame', () => {
    const nonces = new Set<string>();
    for (let i = 0; i < 200; i++) nonces.add(encodeRecordsFrameSync(LINES, KEYS[128], UUID).subarray(20, 32).toString('hex'));
    expect(nonces.size).toBe(200);
  });

  it('matches a frame built by hand from the specification (fixed nonce)', () => {
    const nonce = Buffer.from('0102030405060708090a0b0c', 'hex');
    const payload = gzipSync(Buffer.from(LINES.join('\n') + '\n'));
    const c = createCipheriv('aes-256-gcm', KEYS[256], nonce);
    c.setAAD(Buffer.concat([Buffer.from('RQF1'), UUID]));
    const data = Buffer.concat([c.update(payload), c.final()]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const want = Buffer.concat([Buffer.from('RQF1'), UUID, nonce, len, data, c.getAuthTag()]);
    expect(sealFrame(payload, KEYS[256], UUID, nonce).equals(want)).toBe(true);
  });

  it('an empty batch is a valid frame with no records', () => {
    const f = encodeRecordsFrameSync([], KEYS[128], UUID);
    expect(openFramesIndependently(f, KEYS[128])[0].lines).toEqual([]);
  });
});

describe('the decoder rejects what it must', () => {
  const frame = encodeRecordsFrameSync(LINES, KEYS[192], UUID);

  it('opens a good frame', () => {
    const r = openFrame(frame, KEYS[192], UUID);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const d = decodeRecords(r.payload);
    expect(d).toEqual({ ok: true, lines: LINES });
  });

  it('rejects a wrong key of every size', () => {
    for (const key of [KEYS[128], KEYS[256], Buffer.alloc(24, 0xaa), Buffer.from(KEYS[192]).fill(0, 23)]) {
      expect(openFrame(frame, key, UUID)).toEqual({ ok: false, reason: 'bad_tag' });
    }
  });

  it('rejects another customer UUID', () => {
    expect(openFrame(frame, KEYS[192], uuidBytes('00000000-0000-4000-8000-000000000000'))).toEqual({ ok: false, reason: 'wrong_uuid' });
  });

  it('rejects every single flipped bit, each with the reason its field implies', () => {
    const seen = new Map<BadFrameReason, number>();
    for (let bit = 0; bit < frame.length * 8; bit++) {
      const f = Buffer.from(frame);
      f[bit >> 3] ^= 0x80 >> (bit & 7);
      const r = openFrame(f, KEYS[192], UUID);
      expect(r.ok).toBe(false);
      if (r.ok) continue;
      const byte = bit >> 3;
      const want: BadFrameReason[] =
        byte < 4 ? ['bad_magic'] : byte < 20 ? ['wrong_uuid'] : byte < 32 ? ['bad_tag'] : byte < 36 ? ['bad_length', 'truncated'] : ['bad_tag'];
      expect([byte, want.includes(r.reason)]).toEqual([byte, true]);
      seen.set(r.reason, (seen.get(r.reason) ?? 0) + 1);
    }
    expect(seen.get('bad_tag')).toBeGreaterThan(0);
  });

  it('rejects a frame that authenticates but is not gzip, and one that inflates too far', () => {
    const notGzip = sealFrame(Buffer.from('plain text'), KEYS[128], UUID);
    const r = openFrame(notGzip, KEYS[128], UUID);
    expect(r.ok).toBe(true);
    if (r.ok) expect(decodeRecords(r.payload)).toEqual({ ok: false, reason: 'bad_gzip' });
    const bomb = gzipSync(Buffer.alloc(4 * 1024 * 1024));
    expect(decodeRecords(bomb, 1024 * 1024)).toEqual({ ok: false, reason: 'too_large' });
  });
});

describe('key and UUID parsing never print the key', () => {
  it('accepts base64 of 16, 24 and 32 bytes, with surrounding whitespace', () => {
    for (const bits of [128, 192, 256] as const) expect(parseKey(` ${KEYS[bits].toString('base64')}\n`).equals(KEYS[bits])).toBe(true);
  });

  it.each([
    ['not base64!!', 'the key is not base64'],
    ['AAEC AwQF', 'the key is not base64'],
    ['', 'the key is not base64'],
    [Buffer.alloc(20, 7).toString('base64'), 'the key decodes to 20 bytes; AES needs 16, 24 or 32'],
    [Buffer.alloc(8, 7).toString('base64'), 'the key decodes to 8 bytes; AES needs 16, 24 or 32'],
  ])('%j', (value, message) => {
    let err: unknown;
    try {
      parseKey(value);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RiskiqKeyError);
    expect((err as Error).message).toBe(message);
    if (value.trim() !== '') expect((err as Error).message).not.toContain(value.trim());
  });

  it('rejects a bad UUID', () => {
    expect(() => uuidBytes('123e4567e89b12d3a456426614174000')).toThrow(/is not a UUID/);
    expect(uuidBytes(TEST_UUID.toUpperCase()).equals(UUID)).toBe(true);
  });
});

describe('FrameReader: stream framing', () => {
  function run(chunks: Buffer[]): { frames: Buffer[]; garbage: Array<[BadFrameReason, number]> } {
    const frames: Buffer[] = [];
    const garbage: Array<[BadFrameReason, number]> = [];
    const r = new FrameReader((f) => frames.push(f), (reason, n) => garbage.push([reason, n]));
    for (const c of chunks) r.push(c);
    r.end();
    return { frames, garbage };
  }
  const frames = [LINES.slice(0, 1), LINES, LINES.slice(1)].map((l) => encodeRecordsFrameSync(l, KEYS[128], UUID));
  const stream = Buffer.concat(frames);

  it('returns the frames whatever the chunking (one byte at a time, random cuts)', () => {
    const one = run([...stream].map((b) => Buffer.from([b])));
    expect(one.frames.map((f) => f.toString('hex'))).toEqual(frames.map((f) => f.toString('hex')));
    expect(one.garbage).toEqual([]);
    for (let trial = 0; trial < 50; trial++) {
      const chunks: Buffer[] = [];
      for (let off = 0; off < stream.length; ) {
        const n = 1 + Math.floor(Math.random() * 80);
        chunks.push(stream.subarray(off, off + n));
        off += n;
      }
      expect(run(chunks).frames).toHaveLength(3);
    }
  });

  it('skips garbage up to the next frame and reports each run once', () => {
    const junk = Buffer.from('hello, this is not a frame; RQ nor this RQF');
    const r = run([junk, frames[0], Buffer.from('xx'), frames[1], junk, junk, frames[2]]);
    expect(r.frames).toHaveLength(3);
    expect(r.garbage).toEqual([
      ['bad_magic', junk.length],
      ['bad_magic', 2],
      ['bad_magic', 2 * junk.length],
    ]);
  });

  it('survives random garbage between frames (fuzz)', () => {
    for (let trial = 0; trial < 30; trial++) {
      const parts: Buffer[] = [];
      for (const f of frames) parts.push(randomBytes(Math.floor(Math.random() * 3000)), f);
      const all = Buffer.concat(parts);
      const chunks: Buffer[] = [];
      for (let off = 0; off < all.length; ) {
        const n = 1 + Math.floor(Math.random() * 500);
        chunks.push(all.subarray(off, off + n));
        off += n;
      }
      const got = run(chunks).frames.filter((f) => openFrame(f, KEYS[128], UUID).ok);
      // Random bytes may hold "RQF1" and swallow a frame only with negligible probability (2^-32 per offset).
      expect(got.map((f) => f.toString('hex'))).toEqual(frames.map((f) => f.toString('hex')));
    }
  });

  it('treats an impossible length as garbage and resynchronises', () => {
    const bad = Buffer.from(frames[0]);
    bad.writeUInt32BE(MAX_FRAME_DATA_BYTES + 1, 32);
    const r = run([bad.subarray(0, 40), frames[1]]);
    expect(r.frames).toEqual([frames[1]]);
    expect(r.garbage).toEqual([['bad_length', 40]]);
  });

  it('reports a frame cut by the end of the stream as truncated', () => {
    const r = run([frames[0], frames[1].subarray(0, 50)]);
    expect(r.frames).toHaveLength(1);
    expect(r.garbage).toEqual([['truncated', 50]]);
    expect(run([Buffer.from('RQ')]).garbage).toEqual([['truncated', 2]]);
    expect(run([Buffer.from('zz')]).garbage).toEqual([['bad_magic', 2]]);
  });
});
