// SPDX-License-Identifier: Apache-2.0
/**
 * The reference receiver over real TCP: good frames print their records exactly; a wrong key, a wrong
 * UUID, a flipped bit, garbage and truncation are counted by reason and logged without secrets, and the
 * sink keeps serving (later good frames on the same connection still print). Also its argument parsing.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { SinkArgsError, sinkOptions } from '../../../src/cli/riskiq-sink';
import { encodeRecordsFrameSync, sealFrame, uuidBytes } from '../../../src/output/riskiq/frame';
import { recordSchemaProblem, startRiskiqSink, type RiskiqSink } from '../../../src/output/riskiq/sink';
import { memoryLogger } from '../../helpers/es';
import { KEYS, keyFile, TEST_UUID, until } from './helpers';

const KEY = KEYS[128];
const UUID = uuidBytes(TEST_UUID);
const REC = (i: number) =>
  `{"start":${i},"end":${i + 1},"bytes":100,"packets":1,"src_ip":"","src_port":null,"dst_ip":"8.8.8.8","dst_port":53,"tcp_flags":0,"protocol":17,"community_id":"1:abc="}`;

let sink: RiskiqSink;
let out: string[];
let logLines: string[];

beforeEach(async () => {
  out = [];
  const { log, lines } = memoryLogger('info');
  logLines = lines;
  sink = await startRiskiqSink(
    { host: '127.0.0.1', port: 0, uuid: UUID, key: KEY },
    new Writable({ write: (c, _e, cb) => (out.push(...String(c).split('\n').filter(Boolean)), cb()) }),
    log,
  );
});
afterEach(() => sink.close());

/** Sends buffers on one connection, closes it, and waits until the sink has seen the close. */
async function send(...parts: Buffer[]): Promise<void> {
  const before = sink.stats().connections;
  const s = net.connect(sink.port, '127.0.0.1');
  await new Promise<void>((r) => s.once('connect', () => r()));
  for (const p of parts) s.write(p);
  await new Promise<void>((r) => s.end(() => r()));
  await until(() => logLines.filter((l) => l.includes('"connection closed"')).length > before, 5000, 'the sink to see the close');
}

describe('riskiq sink', () => {
  it('prints the records of good frames exactly, in order', async () => {
    const frames = [encodeRecordsFrameSync([REC(1), REC(2)], KEY, UUID), encodeRecordsFrameSync([REC(3)], KEY, UUID)];
    await send(Buffer.concat(frames));
    expect(out).toEqual([REC(1), REC(2), REC(3)]);
    expect(sink.stats()).toMatchObject({ frames: 2, records: 3, bytes: frames[0].length + frames[1].length });
  });

  it('rejects a wrong key, a wrong UUID and a flipped bit, and keeps decoding the good frames around them', async () => {
    const good = (i: number) => encodeRecordsFrameSync([REC(i)], KEY, UUID);
    const wrongKey = encodeRecordsFrameSync([REC(100)], KEYS[256], UUID);
    const wrongKeySameSize = encodeRecordsFrameSync([REC(101)], Buffer.alloc(16, 9), UUID);
    const otherUuid = encodeRecordsFrameSync([REC(102)], KEY, uuidBytes('00000000-0000-4000-8000-000000000001'));
    const flipped = good(103);
    flipped[40] ^= 0x01; // in the ciphertext
    const flippedTag = good(104);
    flippedTag[flippedTag.length - 1] ^= 0x80;
    const flippedNonce = good(105);
    flippedNonce[25] ^= 0x10;
    await send(good(1), wrongKey, good(2), wrongKeySameSize, otherUuid, flipped, flippedTag, flippedNonce, good(3));
    expect(out).toEqual([REC(1), REC(2), REC(3)]);
    const st = sink.stats();
    expect(st.badFrames).toMatchObject({ bad_tag: 5, wrong_uuid: 1 });
    expect(st.records).toBe(3);
    const bad = logLines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'bad frame');
    expect(bad.map((l) => l.reason).sort()).toEqual(['bad_tag', 'bad_tag', 'bad_tag', 'bad_tag', 'bad_tag', 'wrong_uuid']);
    expect(bad.find((l) => l.reason === 'wrong_uuid').uuid).toBe('00000000-0000-4000-8000-000000000001');
  });

  it('survives garbage: random bytes, bad lengths, truncation, and serves the next connection', async () => {
    const good = encodeRecordsFrameSync([REC(7)], KEY, UUID);
    const badLen = Buffer.from(good);
    badLen.writeUInt32BE(0xffffffff, 32);
    await send(randomBytes(100_000), good, badLen.subarray(0, 36), Buffer.from('RQF1 but not really'), good);
    await send(randomBytes(5000));
    await send(good.subarray(0, 60)); // cut short by the connection's end
    await send(good);
    expect(out).toEqual([REC(7), REC(7), REC(7)]);
    const st = sink.stats();
    expect(st.badFrames.bad_magic).toBeGreaterThanOrEqual(2);
    expect(st.badFrames.bad_length).toBe(1);
    expect(st.badFrames.truncated).toBe(1);
    expect(st.connections).toBe(4);
  });

  it('counts records that do not fit the schema, and flags records holding a non-public address', async () => {
    const rec = JSON.parse(REC(1));
    const lines = [
      'not json',
      JSON.stringify({ ...rec, extra: 1 }),
      JSON.stringify({ ...rec, dst_port: 'x' }),
      JSON.stringify({ ...rec, src_ip: '', dst_ip: '', dst_port: null }),
      JSON.stringify({ ...rec, dst_ip: '10.1.2.3' }),
      REC(2),
    ];
    await send(sealFrame(gzipSync(Buffer.from(lines.join('\n') + '\n')), KEY, UUID));
    expect(out).toEqual([lines[4], REC(2)]); // the private one is printed (to be seen) and flagged
    expect(sink.stats().badRecords).toEqual({ not_json: 1, bad_schema: 3, private_address: 1 });
    expect(logLines.some((l) => l.includes('record holds a non-public address'))).toBe(true);
  });

  it('never logs the key or any decrypted content', async () => {
    const frame = encodeRecordsFrameSync([REC(1)], KEY, UUID);
    const flipped = Buffer.from(frame);
    flipped[50] ^= 1;
    await send(frame, flipped, encodeRecordsFrameSync(['{"secret":"10.9.8.7"}'], KEY, UUID), randomBytes(300));
    const text = logLines.join('\n');
    for (const secret of [KEY.toString('base64'), KEY.toString('hex'), '10.9.8.7', '8.8.8.8', '"secret"']) expect(text).not.toContain(secret);
  });
});

describe('recordSchemaProblem', () => {
  it('accepts exactly the DESIGN.md §6 record', () => {
    expect(recordSchemaProblem(JSON.parse(REC(1)))).toBeNull();
    const r = JSON.parse(REC(1));
    expect(recordSchemaProblem({ ...r, protocol: null, community_id: '' })).toBeNull();
    const reordered = { end: r.end, start: r.start, ...r };
    expect(recordSchemaProblem(reordered)).toMatch(/keys are end,start/);
    expect(recordSchemaProblem({ ...r, src_port: 5 })).toBe('src_port without src_ip');
    expect(recordSchemaProblem([1])).toBe('not an object');
  });
});

describe('riskiq-sink arguments', () => {
  const key = KEY.toString('base64');
  it('parses a complete set', () => {
    const o = sinkOptions({ listen: '[::1]:20000', uuid: TEST_UUID, keyFile: keyFile(KEY), privateCidrs: '81.2.69.0/24' });
    expect(o).toMatchObject({ host: '::1', port: 20000, tls: null, privateCidrs: ['81.2.69.0/24'] });
    expect(o.key.equals(KEY)).toBe(true);
    expect(sinkOptions({ listen: '127.0.0.1:0', uuid: TEST_UUID, key }).port).toBe(0);
  });

  it.each([
    [{ listen: 'nope', uuid: TEST_UUID, key }, '--listen "nope" is not valid'],
    [{ listen: '127.0.0.1:1', key }, '--uuid is required'],
    [{ listen: '127.0.0.1:1', uuid: 'abc', key }, '--uuid: "abc" is not a UUID'],
    [{ listen: '127.0.0.1:1', uuid: TEST_UUID }, 'give exactly one of --key-file FILE and --key BASE64'],
    [{ listen: '127.0.0.1:1', uuid: TEST_UUID, key, keyFile: '/x' }, 'give exactly one of --key-file FILE and --key BASE64'],
    [{ listen: '127.0.0.1:1', uuid: TEST_UUID, key: 'c2VjcmV0IGtleSE=' }, '--key: the key decodes to 11 bytes; AES needs 16, 24 or 32'],
    [{ listen: '127.0.0.1:1', uuid: TEST_UUID, key: 'my secret key!' }, '--key: the key is not base64'],
    [{ listen: '127.0.0.1:1', uuid: TEST_UUID, keyFile: '/nonexistent/key' }, '--key-file /nonexistent/key: no such file'],
    [{ listen: '127.0.0.1:1', uuid: TEST_UUID, key, tlsCert: '/x' }, '--tls-cert and --tls-key go together'],
    [{ listen: '127.0.0.1:1', uuid: TEST_UUID, key, privateCidrs: '10.0.0/8' }, '--private-cidrs: 10.0.0 is not an IPv4 or IPv6 address'],
  ])('%j', (args, message) => {
    let err: unknown;
    try {
      sinkOptions(args);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SinkArgsError);
    expect((err as Error).message).toContain(message);
    if ('key' in args && args.key) expect((err as Error).message).not.toContain(args.key);
  });
});
