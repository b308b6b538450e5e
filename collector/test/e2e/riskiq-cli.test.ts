// SPDX-License-Identifier: Apache-2.0
/**
 * The RiskIQ export from the command line (the built CLI, as a user runs it): configuration errors stop
 * `threatflow run` with exit 2 and a message naming the variable (never the key), deprecated names name
 * their replacement, one half of the integration alone warns; `threatflow riskiq-sink` rejects a wrong key
 * and a flipped bit, survives garbage, prints only good records, reports its counts at exit, and refuses
 * bad arguments without echoing the key.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { encodeRecordsFrameSync, uuidBytes } from '../../src/output/riskiq/frame';
import { CLI, freeTcpPort, requireBuiltCli } from '../helpers/collector';
import { KEYS, startSinkProcess, TEST_UUID, until, type SinkProcess } from '../output/riskiq/helpers';

const SECRET_LOOKING = 'c2VjcmV0IGtleSE='; // base64 of "secret key!" (11 bytes)
const NOT_BASE64 = 'my-secret-key-value';

function runCli(args: string[], env: Record<string, string>): { status: number | null; stderr: string; stdout: string } {
  requireBuiltCli();
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EF_')));
  // Ports nobody uses, so that a configuration that were accepted would not collide with anything.
  const r = spawnSync(process.execPath, [CLI, ...args], {
    env: { ...base, EF_FLOW_SERVER_UDP_IP: '127.0.0.1', EF_FLOW_SERVER_UDP_PORT: '1', EF_API_ENABLE: 'false', ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

const ENABLED = {
  EF_OUTPUT_RISKIQ_ENABLE: 'true',
  EF_OUTPUT_RISKIQ_CUSTOMER_UUID: TEST_UUID,
  EF_OUTPUT_RISKIQ_CUSTOMER_ENCRYPTION_KEY: KEYS[128].toString('base64'),
};

describe('threatflow run: RiskIQ export configuration errors', () => {
  it.each([
    ['a bad UUID', { EF_OUTPUT_RISKIQ_CUSTOMER_UUID: '123e4567e89b12d3a456426614174000' }, 'EF_OUTPUT_RISKIQ_CUSTOMER_UUID: "123e4567e89b12d3a456426614174000" is not valid: empty or a UUID (8-4-4-4-12 hex digits)'],
    ['a key that is not base64', { EF_OUTPUT_RISKIQ_CUSTOMER_ENCRYPTION_KEY: NOT_BASE64 }, 'EF_OUTPUT_RISKIQ_CUSTOMER_ENCRYPTION_KEY: [redacted] is not valid: empty or base64 of a 16, 24 or 32-byte key'],
    ['a key of the wrong length', { EF_OUTPUT_RISKIQ_CUSTOMER_ENCRYPTION_KEY: SECRET_LOOKING }, 'EF_OUTPUT_RISKIQ_CUSTOMER_ENCRYPTION_KEY: [redacted] is not valid: empty or base64 of a 16, 24 or 32-byte key'],
    ['no key', { EF_OUTPUT_RISKIQ_CUSTOMER_ENCRYPTION_KEY: '' }, 'EF_OUTPUT_RISKIQ_ENABLE=true requires EF_OUTPUT_RISKIQ_CUSTOMER_UUID and EF_OUTPUT_RISKIQ_CUSTOMER_ENCRYPTION_KEY; EF_OUTPUT_RISKIQ_CUSTOMER_ENCRYPTION_KEY is not set'],
    ['a bad port', { EF_OUTPUT_RISKIQ_PORT: '70000' }, 'EF_OUTPUT_RISKIQ_PORT: "70000" is not valid: a TCP port 1-65535'],
    ['a bad batch size', { EF_OUTPUT_RISKIQ_BATCH_SIZE: '0' }, 'EF_OUTPUT_RISKIQ_BATCH_SIZE: "0" is not valid: an integer from 1 to 1000000 (records)'],
    ['a bad queue bound', { EF_OUTPUT_RISKIQ_QUEUE_MAX: 'lots' }, 'EF_OUTPUT_RISKIQ_QUEUE_MAX: "lots" is not valid: an integer from 1 to 100000000 (records)'],
    ['a bad TLS switch', { EF_OUTPUT_RISKIQ_TLS_ENABLE: 'yes' }, 'EF_OUTPUT_RISKIQ_TLS_ENABLE: "yes" is not valid: true or false (case-insensitive; no other spellings)'],
    ['a deprecated export variable', { EF_FLOW_OUTPUT_RISKIQ_CUSTOMER_ENCRYPTION_KEY: SECRET_LOOKING }, 'EF_FLOW_OUTPUT_RISKIQ_CUSTOMER_ENCRYPTION_KEY was renamed EF_OUTPUT_RISKIQ_CUSTOMER_ENCRYPTION_KEY in 6.0: rename the variable'],
    ['a deprecated enable switch', { EF_FLOW_OUTPUT_RISKIQ_ENABLE: 'true' }, 'EF_FLOW_OUTPUT_RISKIQ_ENABLE was renamed EF_OUTPUT_RISKIQ_ENABLE in 6.0: rename the variable'],
  ])('%s', (_name, env, message) => {
    const r = runCli(['run'], { ...ENABLED, ...env });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(message);
    for (const secret of [SECRET_LOOKING, NOT_BASE64, KEYS[128].toString('base64')]) expect(r.stderr + r.stdout).not.toContain(secret);
  });

  it('warns when only one half of the RiskIQ integration is enabled', () => {
    const exportOnly = runCli(['config'], ENABLED);
    expect(exportOnly.status).toBe(0);
    expect(exportOnly.stderr).toContain(
      'EF_OUTPUT_RISKIQ_ENABLE=true without EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_THREAT_ENABLE=true: flows are exported to RiskIQ but not enriched with its threat DB; the RiskIQ integration needs both',
    );
    expect(exportOnly.stdout).not.toContain(KEYS[128].toString('base64'));
    expect(JSON.parse(exportOnly.stdout).output.riskiq.customerEncryptionKey).toBe('[redacted]');
  });
});

describe('threatflow riskiq-sink', () => {
  it.each([
    [['--uuid', TEST_UUID, '--key', SECRET_LOOKING], '--key: the key decodes to 11 bytes; AES needs 16, 24 or 32'],
    [['--uuid', TEST_UUID, '--key', NOT_BASE64], '--key: the key is not base64'],
    [['--uuid', 'nope', '--key', KEYS[128].toString('base64')], '--uuid: "nope" is not a UUID'],
    [['--uuid', TEST_UUID], 'give exactly one of --key-file FILE and --key BASE64'],
    [['--key', KEYS[128].toString('base64')], "required option '--uuid <uuid>' not specified"],
  ])('%j', (args, message) => {
    const r = runCli(['riskiq-sink', '--listen', '127.0.0.1:0', ...args], {});
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(message);
    for (const secret of [SECRET_LOOKING, NOT_BASE64]) expect(r.stderr).not.toContain(secret);
  });

  it('rejects a wrong key and a flipped bit, survives garbage, prints only good records, and reports at exit', async () => {
    const uuid = uuidBytes(TEST_UUID);
    const rec = (i: number) =>
      `{"start":${i},"end":${i},"bytes":1,"packets":1,"src_ip":"","src_port":null,"dst_ip":"8.8.8.8","dst_port":53,"tcp_flags":0,"protocol":17,"community_id":""}`;
    let sink: SinkProcess | null = null;
    try {
      sink = await startSinkProcess({ port: await freeTcpPort(), key: KEYS[192] });
      const flipped = encodeRecordsFrameSync([rec(3)], KEYS[192], uuid);
      flipped[45] ^= 0x04;
      const parts = [
        encodeRecordsFrameSync([rec(1)], KEYS[192], uuid),
        encodeRecordsFrameSync([rec(2)], KEYS[128], uuid), // wrong key
        flipped,
        randomBytes(10_000),
        encodeRecordsFrameSync([rec(4), rec(5)], KEYS[192], uuid),
      ];
      const s = net.connect(sink.port, '127.0.0.1');
      await new Promise<void>((r) => s.once('connect', () => r()));
      for (const p of parts) s.write(p);
      await new Promise<void>((r) => s.end(() => r()));
      await until(() => sink!.records().length === 3 && sink!.logs().some((l) => l.msg === 'connection closed'), 10_000, 'the sink to read everything');
      expect(await sink.stop()).toBe(0);
      expect(sink.records()).toEqual([rec(1), rec(4), rec(5)]);
      const summary = sink.logs().find((l) => l.msg === 'riskiq sink stopped')!;
      expect(summary).toMatchObject({ frames: 2, records: 3, connections: 1 });
      expect(summary.badFrames.bad_tag).toBe(2);
      expect(summary.badFrames.bad_magic).toBeGreaterThanOrEqual(1);
      expect(sink.logs().filter((l) => l.msg === 'bad frame' && l.reason === 'bad_tag')).toHaveLength(2);
      for (const secret of [KEYS[192].toString('base64'), KEYS[192].toString('hex'), '8.8.8.8']) expect(sink.stderr()).not.toContain(secret);
    } finally {
      if (sink) await sink.stop();
    }
  });
});
