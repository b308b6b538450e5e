// SPDX-License-Identifier: Apache-2.0
/**
 * The RiskIQ export wire format (DESIGN.md §6): a TCP stream of frames
 *
 *   magic   "RQF1"                       4 bytes
 *   uuid    customer UUID                16 bytes (the 128 bits of the 8-4-4-4-12 text, in text order)
 *   nonce   random per frame             12 bytes
 *   length  of the ciphertext, uint32 BE  4 bytes
 *   data    AES-GCM(key, nonce, aad = magic || uuid) of gzip(NDJSON records, each line ending in \n)
 *   tag     GCM tag                      16 bytes
 *
 * AES-128, -192 or -256 by the key's length (16, 24, 32 bytes). Nonces are 96 random bits per frame
 * (NIST SP 800-38D §8.2.2: fine far beyond any frame count one key will see).
 *
 * Both ends live here: `sealFrame`/`encodeRecordsFrame` for the output, `FrameReader` (stream framing with
 * resynchronisation on garbage) and `openFrame`/`decodeRecords` for `threatflow riskiq-sink`. Nothing here
 * ever puts a key into an error message.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { gunzipSync, gzip, gzipSync } from 'node:zlib';

export const MAGIC = Buffer.from('RQF1', 'latin1');
export const UUID_BYTES = 16;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
/** magic + uuid + nonce + length. */
export const HEADER_BYTES = 4 + UUID_BYTES + NONCE_BYTES + 4;
/** Largest ciphertext a frame may carry; the reader treats a larger length field as garbage. */
export const MAX_FRAME_DATA_BYTES = 64 * 1024 * 1024;
/** Largest NDJSON payload a frame may inflate to (bounds a gzip bomb at the receiver). */
export const MAX_PLAINTEXT_BYTES = 512 * 1024 * 1024;
/**
 * gzip level of the export. Level 1: ~53 bytes per record on the wire against ~47 at zlib's default 6, for
 * half the CPU (1.3 µs against 2.4 µs per record, interleaved A/B on the 2-core box; bench/riskiq.mjs).
 * CPU is what the collector runs short of; the export's bandwidth is small either way (~0.5 MB/s at 10k
 * records/s).
 */
export const GZIP_LEVEL = 1;

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A bad UUID or key. The message never contains a key. */
export class RiskiqKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RiskiqKeyError';
  }
}

/** The 16 bytes of a UUID in its 8-4-4-4-12 text form; throws RiskiqKeyError. */
export function uuidBytes(text: string): Buffer {
  if (!UUID_RE.test(text)) throw new RiskiqKeyError(`"${text}" is not a UUID (8-4-4-4-12 hex digits)`);
  return Buffer.from(text.replace(/-/g, ''), 'hex');
}

/** The 8-4-4-4-12 text of 16 UUID bytes, lower-case. */
export function uuidText(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/**
 * The AES key from its base64 text (surrounding whitespace ignored); 16, 24 or 32 bytes. Throws
 * RiskiqKeyError saying what is wrong (not base64, or how many bytes it decodes to) without the value.
 */
export function parseKey(b64: string): Buffer {
  const t = b64.trim();
  if (t === '' || t.length % 4 !== 0 || !BASE64_RE.test(t)) throw new RiskiqKeyError('the key is not base64');
  const key = Buffer.from(t, 'base64');
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) {
    throw new RiskiqKeyError(`the key decodes to ${key.length} bytes; AES needs 16, 24 or 32`);
  }
  return key;
}

function cipherName(key: Buffer): 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm' {
  switch (key.length) {
    case 16:
      return 'aes-128-gcm';
    case 24:
      return 'aes-192-gcm';
    case 32:
      return 'aes-256-gcm';
    default:
      throw new RiskiqKeyError(`the key is ${key.length} bytes; AES needs 16, 24 or 32`);
  }
}

/** magic || uuid: the additional authenticated data of every frame. */
export function frameAad(uuid: Buffer): Buffer {
  return Buffer.concat([MAGIC, uuid]);
}

/** One frame around `payload` (already gzip-compressed NDJSON). `nonce` is random unless given (tests). */
export function sealFrame(payload: Buffer, key: Buffer, uuid: Buffer, nonce: Buffer = randomBytes(NONCE_BYTES)): Buffer {
  if (uuid.length !== UUID_BYTES) throw new RiskiqKeyError('the customer UUID must be 16 bytes');
  if (nonce.length !== NONCE_BYTES) throw new Error('internal: the nonce must be 12 bytes');
  const cipher = createCipheriv(cipherName(key), key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(frameAad(uuid));
  const frame = Buffer.allocUnsafe(HEADER_BYTES + payload.length + TAG_BYTES);
  MAGIC.copy(frame, 0);
  uuid.copy(frame, 4);
  nonce.copy(frame, 4 + UUID_BYTES);
  // AES-GCM is a stream mode: the ciphertext is exactly as long as the plaintext.
  frame.writeUInt32BE(payload.length, 4 + UUID_BYTES + NONCE_BYTES);
  let off = HEADER_BYTES;
  off += cipher.update(payload).copy(frame, off);
  off += cipher.final().copy(frame, off);
  cipher.getAuthTag().copy(frame, off);
  return frame;
}

/** The NDJSON payload of a batch: every line followed by `\n`. */
export function ndjson(lines: readonly string[]): Buffer {
  return Buffer.from(lines.length === 0 ? '' : lines.join('\n') + '\n', 'utf8');
}

/** gzip on libuv's thread pool, so compression stays off the decoding thread. */
function gzipAsync(data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => gzip(data, { level: GZIP_LEVEL }, (err, out) => (err ? reject(err) : resolve(out))));
}

/** A frame holding these record lines (async: the gzip runs on the thread pool). */
export async function encodeRecordsFrame(lines: readonly string[], key: Buffer, uuid: Buffer): Promise<Buffer> {
  return sealFrame(await gzipAsync(ndjson(lines)), key, uuid);
}

/** The same, synchronously (tests, benchmarks). */
export function encodeRecordsFrameSync(lines: readonly string[], key: Buffer, uuid: Buffer, nonce?: Buffer): Buffer {
  return sealFrame(gzipSync(ndjson(lines), { level: GZIP_LEVEL }), key, uuid, nonce);
}

/** Why a frame was rejected; stable words, used as metric labels and in the sink's log lines. */
export type BadFrameReason =
  | 'bad_magic' // bytes that are not a frame (skipped until the next "RQF1")
  | 'bad_length' // a length field above MAX_FRAME_DATA_BYTES (treated as garbage)
  | 'wrong_uuid' // a well-formed frame for another customer
  | 'bad_tag' // authentication failed: wrong key, or a bit changed anywhere in nonce, data or tag
  | 'bad_gzip' // authenticated, but not gzip (a broken sender)
  | 'too_large' // inflates beyond MAX_PLAINTEXT_BYTES
  | 'truncated'; // the connection ended inside a frame

export type OpenResult = { ok: true; payload: Buffer } | { ok: false; reason: BadFrameReason };

/** Checks magic, UUID and tag of one whole frame and returns the decrypted (still gzipped) payload. */
export function openFrame(frame: Buffer, key: Buffer, uuid: Buffer): OpenResult {
  if (frame.length < HEADER_BYTES + TAG_BYTES || !frame.subarray(0, 4).equals(MAGIC)) return { ok: false, reason: 'bad_magic' };
  const len = frame.readUInt32BE(4 + UUID_BYTES + NONCE_BYTES);
  if (len > MAX_FRAME_DATA_BYTES) return { ok: false, reason: 'bad_length' };
  if (frame.length !== HEADER_BYTES + len + TAG_BYTES) return { ok: false, reason: 'truncated' };
  if (!frame.subarray(4, 4 + UUID_BYTES).equals(uuid)) return { ok: false, reason: 'wrong_uuid' };
  const nonce = frame.subarray(4 + UUID_BYTES, 4 + UUID_BYTES + NONCE_BYTES);
  const decipher = createDecipheriv(cipherName(key), key, nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(frameAad(uuid));
  decipher.setAuthTag(frame.subarray(HEADER_BYTES + len));
  try {
    const a = decipher.update(frame.subarray(HEADER_BYTES, HEADER_BYTES + len));
    const b = decipher.final();
    return { ok: true, payload: b.length === 0 ? a : Buffer.concat([a, b]) };
  } catch {
    return { ok: false, reason: 'bad_tag' };
  }
}

/** The NDJSON lines of a decrypted payload (without the newlines). */
export function decodeRecords(payload: Buffer, maxBytes = MAX_PLAINTEXT_BYTES): { ok: true; lines: string[] } | { ok: false; reason: BadFrameReason } {
  let text: string;
  try {
    text = gunzipSync(payload, { maxOutputLength: maxBytes }).toString('utf8');
  } catch (e) {
    return { ok: false, reason: (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' ? 'too_large' : 'bad_gzip' };
  }
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return { ok: true, lines };
}

/**
 * Splits a byte stream into frames. A frame is handed over whole (`onFrame`, magic and length checked,
 * nothing else); bytes that do not start a frame are skipped up to the next "RQF1" and reported once per
 * run (`onGarbage`), so a receiver survives garbage and resynchronises. Holds at most one frame's bytes.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Bytes skipped in the current garbage run, reported when a frame starts again or at the end. */
  private skipping = 0;
  private skipReason: BadFrameReason = 'bad_magic';

  constructor(
    private readonly onFrame: (frame: Buffer) => void,
    private readonly onGarbage: (reason: BadFrameReason, bytes: number) => void,
    private readonly maxDataBytes = MAX_FRAME_DATA_BYTES,
  ) {}

  /** Bytes held, waiting for the rest of a frame. */
  get pending(): number {
    return this.buffered;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    this.drain();
  }

  /** The stream ended: a partial frame is reported as `truncated`, a garbage run as itself. */
  end(): void {
    if (this.buffered > 0 && !this.startsWithMagic()) {
      this.skipping += this.buffered;
      this.chunks = [];
      this.buffered = 0;
    }
    this.flushGarbage();
    if (this.buffered > 0) {
      const n = this.buffered;
      this.chunks = [];
      this.buffered = 0;
      this.onGarbage('truncated', n);
    }
  }

  private flushGarbage(): void {
    if (this.skipping > 0) {
      const n = this.skipping;
      this.skipping = 0;
      this.onGarbage(this.skipReason, n);
      this.skipReason = 'bad_magic';
    }
  }

  /** The first `n` buffered bytes as one Buffer (joins chunks only as far as needed). */
  private peek(n: number): Buffer {
    if (this.chunks[0].length >= n) return this.chunks[0].subarray(0, n);
    const joined = Buffer.concat(this.chunks);
    this.chunks = [joined];
    return joined.subarray(0, n);
  }

  private consume(n: number): void {
    this.buffered -= n;
    while (n > 0) {
      const c = this.chunks[0];
      if (c.length <= n) {
        n -= c.length;
        this.chunks.shift();
      } else {
        this.chunks[0] = c.subarray(n);
        n = 0;
      }
    }
  }

  private startsWithMagic(): boolean {
    if (this.buffered < 4) return this.buffered > 0 && MAGIC.subarray(0, this.buffered).equals(this.peek(this.buffered));
    return this.peek(4).equals(MAGIC);
  }

  /** Drops bytes up to the next possible "RQF1" (a partial magic at the end is kept). */
  private skipToMagic(reason: BadFrameReason, skipAtLeast: number): void {
    if (this.skipping === 0) this.skipReason = reason;
    const all = this.peek(this.buffered);
    let at = all.indexOf(MAGIC, skipAtLeast);
    if (at < 0) {
      // Keep a tail that could be the start of a magic split across chunks.
      at = Math.max(skipAtLeast, all.length - 3);
      while (at < all.length && !MAGIC.subarray(0, all.length - at).equals(all.subarray(at))) at++;
    }
    this.skipping += at;
    this.consume(at);
  }

  private drain(): void {
    for (;;) {
      if (this.buffered === 0) return;
      if (this.buffered < 4) {
        if (!this.startsWithMagic()) this.skipToMagic('bad_magic', 1);
        return;
      }
      if (!this.peek(4).equals(MAGIC)) {
        this.skipToMagic('bad_magic', 1);
        continue;
      }
      if (this.buffered < HEADER_BYTES) return;
      const len = this.peek(HEADER_BYTES).readUInt32BE(4 + UUID_BYTES + NONCE_BYTES);
      if (len > this.maxDataBytes) {
        this.skipToMagic('bad_length', 1);
        continue;
      }
      this.flushGarbage();
      const total = HEADER_BYTES + len + TAG_BYTES;
      if (this.buffered < total) return;
      const frame = Buffer.from(this.peek(total)); // a copy: the frame outlives the chunks it came from
      this.consume(total);
      this.onFrame(frame);
    }
  }
}
