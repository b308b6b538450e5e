// SPDX-License-Identifier: Apache-2.0
/**
 * TLS of the RiskIQ export, from the configuration (`riskiqOutputOptions`, i.e. EF_OUTPUT_RISKIQ_TLS_*)
 * to the socket, in process against the reference sink listening with TLS on loopback: a private CA file,
 * the system CAs (refused: counted, logged with the reason and what to set, nothing delivered), skipped
 * verification, the server name (SNI) and the classification of connection failures. The certificates are
 * made at test time with `openssl` (a throw-away CA and a server certificate for 127.0.0.1/localhost).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import tls from 'node:tls';
import { defaultConfig, type RiskiqOutputConfig } from '../../../src/config';
import { Metrics } from '../../../src/observability/metrics';
import { riskiqOutputOptions, riskiqTlsOptions, type RiskiqOutputOptions } from '../../../src/output/riskiq/output';
import { startRiskiqSink, type RiskiqSink } from '../../../src/output/riskiq/sink';
import { connectFailureReason, RiskiqTransport } from '../../../src/output/riskiq/transport';
import { testPki } from '../../e2e/threat-api-server';
import { memoryLogger } from '../../helpers/es';
import { KEYS, TEST_UUID, until } from './helpers';

const KEY = KEYS[128];
const line = (i: number) =>
  `{"start":${i},"end":${i},"bytes":1,"packets":1,"src_ip":"8.8.8.8","src_port":53,"dst_ip":"","dst_port":null,"tcp_flags":0,"protocol":17,"community_id":""}`;

function config(o: Partial<RiskiqOutputConfig>): RiskiqOutputConfig {
  return {
    ...defaultConfig().output.riskiq,
    enabled: true,
    customerUuid: TEST_UUID,
    customerEncryptionKey: KEY.toString('base64'),
    tlsEnabled: true,
    batchSize: 10,
    batchDeadlineMs: 50,
    ...o,
  };
}

const live: Array<{ stop(): Promise<void> } | { close(): Promise<void> }> = [];
afterEach(async () => {
  for (const x of live.splice(0)) await ('stop' in x ? x.stop() : x.close());
});

/** A transport made exactly as `threatflow run` makes it, with fast retries. */
function transport(cfg: RiskiqOutputConfig, overrides: Partial<RiskiqOutputOptions> = {}) {
  const metrics = new Metrics();
  const { log, lines } = memoryLogger('debug');
  const opts = riskiqOutputOptions(cfg, [], 1, { backoffInitialMs: 50, backoffMaxMs: 200, stopTimeoutMs: 2000, ...overrides });
  const t = new RiskiqTransport(opts, log, metrics);
  live.push(t);
  return { t, metrics, lines };
}

async function tlsSink(cert: string | Buffer, key: string | Buffer): Promise<{ sink: RiskiqSink; records: string[]; logLines: string[] }> {
  const records: string[] = [];
  const { log, lines } = memoryLogger('debug');
  const sink = await startRiskiqSink(
    { host: '127.0.0.1', port: 0, uuid: Buffer.from(TEST_UUID.replace(/-/g, ''), 'hex'), key: KEY, tls: { cert: Buffer.from(cert), key: Buffer.from(key) } },
    new Writable({ write: (c, _e, cb) => (records.push(...String(c).split('\n').filter(Boolean)), cb()) }),
    log,
  );
  live.push(sink);
  return { sink, records, logLines: lines };
}

const pki = testPki();

describe('riskiqTlsOptions', () => {
  it('verifies by default, against the system CAs, with the host name as server name', () => {
    expect(riskiqTlsOptions({ host: 'flow.riskiq.net', tlsSkipVerification: false, tlsCaCertFilepath: '' })).toEqual({
      rejectUnauthorized: true,
      servername: 'flow.riskiq.net',
    });
  });

  it('sends no server name for an address (RFC 6066), reads the CA file, and skips verification only when asked', () => {
    expect(riskiqTlsOptions({ host: '127.0.0.1', tlsSkipVerification: false, tlsCaCertFilepath: pki.caFile })).toEqual({
      rejectUnauthorized: true,
      ca: readFileSync(pki.caFile),
    });
    expect(riskiqTlsOptions({ host: '::1', tlsSkipVerification: true, tlsCaCertFilepath: '' })).toEqual({ rejectUnauthorized: false });
  });

  it('plain TCP when TLS is off, whatever the other TLS settings', () => {
    expect(riskiqOutputOptions(config({ tlsEnabled: false, tlsSkipVerification: true, tlsCaCertFilepath: pki.caFile }), []).tls).toBe(false);
  });
});

describe('connectFailureReason', () => {
  const e = (code?: string) => Object.assign(new Error('x'), code === undefined ? {} : { code });
  it.each([
    ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'certificate'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'certificate'],
    ['SELF_SIGNED_CERT_IN_CHAIN', 'certificate'],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'certificate'],
    ['CERT_HAS_EXPIRED', 'certificate'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'certificate'],
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'tls'],
    ['ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', 'tls'],
    ['ECONNREFUSED', 'network'],
    ['ECONNRESET', 'network'],
    ['ENOTFOUND', 'network'],
    [undefined, 'network'],
  ])('%s -> %s', (code, reason) => {
    expect(connectFailureReason(e(code))).toBe(reason);
  });
  it('no error -> network', () => expect(connectFailureReason(null)).toBe('network'));
});

describe('RiskIQ export over TLS to the reference sink', () => {
  it('with EF_OUTPUT_RISKIQ_TLS_CA_CERT_FILEPATH: connects to a receiver signed by that CA, by name and by address', async () => {
    for (const host of ['localhost', '127.0.0.1']) {
      const { sink, records } = await tlsSink(pki.certPem, pki.keyPem);
      const { t, lines } = transport(config({ host, port: sink.port, tlsCaCertFilepath: pki.caFile }));
      t.start();
      for (let i = 0; i < 25; i++) t.enqueue(line(i));
      await until(() => records.length === 25, 5000, `25 records over TLS to ${host}`);
      expect(records.map((r) => JSON.parse(r).start)).toEqual([...Array(25).keys()]);
      expect(t.stats()).toMatchObject({ connected: true, connects: 1, connectFailures: { certificate: 0, tls: 0, network: 0 } });
      const connected = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'connected to the RiskIQ receiver');
      expect(connected).toMatchObject({ host, tls: true, tls_verified: true });
      await t.stop();
      await sink.close();
    }
  });

  it('sends EF_OUTPUT_RISKIQ_HOST as SNI when it is a name, and nothing for an address', async () => {
    const seen: Array<string | false> = [];
    const server = tls.createServer({ cert: pki.certPem, key: pki.keyPem }, (s) => {
      seen.push((s as tls.TLSSocket & { servername?: string | false }).servername ?? false);
      s.on('error', () => {});
      s.resume();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    live.push({ close: () => new Promise<void>((r) => server.close(() => r())) });
    const port = (server.address() as AddressInfo).port;
    for (const host of ['localhost', '127.0.0.1']) {
      const { t } = transport(config({ host, port, tlsCaCertFilepath: pki.caFile }));
      t.start();
      await until(() => t.stats().connected, 5000, `a TLS connection to ${host}`);
      await t.stop();
    }
    expect(seen).toEqual(['localhost', false]);
  });

  it('without a CA file (system CAs): refuses the private receiver, counts and logs why, delivers nothing', async () => {
    const { sink, records } = await tlsSink(pki.certPem, pki.keyPem);
    const { t, metrics, lines } = transport(config({ host: 'localhost', port: sink.port }));
    t.start();
    for (let i = 0; i < 5; i++) t.enqueue(line(i));
    await until(() => t.stats().connectFailures.certificate >= 2, 5000, 'two refused attempts');
    const s = t.stats();
    expect(s).toMatchObject({ connected: false, connects: 0, recordsSent: 0, framesSent: 0, connectFailures: { tls: 0, network: 0 } });
    t.publish();
    expect(metrics.get('riskiq_connect_failures', { reason: 'certificate' })).toBe(s.connectFailures.certificate);
    const refused = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'RiskIQ receiver certificate not verified: nothing is sent to it, retrying');
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(refused[0]).toMatchObject({
      level: 'warn',
      host: 'localhost',
      port: sink.port,
      // The sink sends its certificate alone (no chain): OpenSSL cannot find the issuer among the system CAs.
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      error: 'unable to verify the first certificate',
      hint: expect.stringContaining('EF_OUTPUT_RISKIQ_TLS_CA_CERT_FILEPATH'),
    });
    expect(lines.some((l) => l.includes('unreachable'))).toBe(false);
    await t.stop();
    expect(records).toEqual([]);
    expect(sink.stats().records).toBe(0);
    const all = lines.join('\n');
    for (const secret of [KEY.toString('base64'), KEY.toString('hex'), pki.keyPem.split('\n')[1]]) expect(all).not.toContain(secret);
  });

  it('refuses a receiver whose certificate does not name EF_OUTPUT_RISKIQ_HOST, even with the right CA', async () => {
    const { sink } = await tlsSink(pki.certPem, pki.keyPem);
    // The name is verified (and sent as SNI) while the socket goes to the sink's address, as if DNS said so.
    const { t, lines } = transport(config({ host: 'receiver.example', port: sink.port, tlsCaCertFilepath: pki.caFile }), { host: '127.0.0.1' });
    t.start();
    await until(() => t.stats().connectFailures.certificate >= 1, 5000, 'a refused attempt');
    expect(lines.map((l) => JSON.parse(l)).find((l) => l.code !== undefined)).toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    expect(t.stats()).toMatchObject({ connected: false, connects: 0, recordsSent: 0 });
    expect(sink.stats().records).toBe(0);
  });

  it('EF_OUTPUT_RISKIQ_TLS_SKIP_VERIFICATION=true: connects to a self-signed receiver, and says it did not verify', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tf-riskiq-selfsigned-'));
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-subj', '/CN=someone else', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    const { sink, records } = await tlsSink(readFileSync(join(dir, 'cert.pem')), readFileSync(join(dir, 'key.pem')));
    const { t, lines } = transport(config({ host: '127.0.0.1', port: sink.port, tlsSkipVerification: true }));
    t.start();
    for (let i = 0; i < 12; i++) t.enqueue(line(i));
    await until(() => records.length === 12, 5000, '12 records over unverified TLS');
    const connected = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'connected to the RiskIQ receiver');
    expect(connected).toMatchObject({ tls: true, tls_verified: false });
  });
});
