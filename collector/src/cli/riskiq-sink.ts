// SPDX-License-Identifier: Apache-2.0
/**
 * `threatflow riskiq-sink --uuid UUID (--key-file FILE | --key BASE64) [--listen HOST:PORT]
 * [--tls-cert FILE --tls-key FILE] [--private-cidrs LIST]`: the reference RiskIQ receiver (DESIGN.md §6).
 * Prints every record it receives as one NDJSON line on stdout, exactly as decrypted; logs connections,
 * bad frames and a summary at exit on stderr (zap-style JSON lines). Point a collector at it
 * (`EF_OUTPUT_RISKIQ_HOST`/`_PORT`, same UUID and key) to see exactly what leaves the network.
 *
 * Bad arguments exit 2 with a message that never contains the key.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { Command } from 'commander';
import { checkCidr } from '../config/net';
import { createLogger } from '../observability/logger';
import { parseKey, RiskiqKeyError, uuidBytes } from '../output/riskiq/frame';
import { startRiskiqSink, type RiskiqSink, type SinkOptions } from '../output/riskiq/sink';

export interface SinkArgs {
  listen: string;
  uuid?: string;
  key?: string;
  keyFile?: string;
  tlsCert?: string;
  tlsKey?: string;
  privateCidrs?: string;
}

/** A usage error: the message names the option and never holds the key. */
export class SinkArgsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SinkArgsError';
  }
}

function readFileOrFail(option: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SinkArgsError(`${option} ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'not readable' : (code ?? 'cannot be read')}`);
  }
}

/** Parses the sink's options; throws SinkArgsError. */
export function sinkOptions(a: SinkArgs): SinkOptions {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(a.listen);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535 || (isIP(m[1]) === 0 && !/^[a-zA-Z0-9.-]+$/.test(m[1]))) {
    throw new SinkArgsError(`--listen "${a.listen}" is not valid: HOST:PORT with a port 0-65535 (IPv6 as [addr]:port)`);
  }
  if (a.uuid === undefined) throw new SinkArgsError('--uuid is required (the customer UUID the collector sends)');
  let uuid: Buffer;
  try {
    uuid = uuidBytes(a.uuid);
  } catch (e) {
    throw new SinkArgsError(`--uuid: ${(e as Error).message}`);
  }
  if ((a.key === undefined) === (a.keyFile === undefined)) throw new SinkArgsError('give exactly one of --key-file FILE and --key BASE64');
  let key: Buffer;
  const option = a.keyFile !== undefined ? `--key-file ${a.keyFile}` : '--key';
  try {
    key = parseKey(a.keyFile !== undefined ? readFileOrFail('--key-file', a.keyFile).toString('utf8') : (a.key as string));
  } catch (e) {
    if (e instanceof RiskiqKeyError) throw new SinkArgsError(`${option}: ${e.message}`);
    throw e;
  }
  if ((a.tlsCert === undefined) !== (a.tlsKey === undefined)) throw new SinkArgsError('--tls-cert and --tls-key go together');
  const tls = a.tlsCert !== undefined ? { cert: readFileOrFail('--tls-cert', a.tlsCert), key: readFileOrFail('--tls-key', a.tlsKey as string) } : null;
  const privateCidrs = (a.privateCidrs ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const c of privateCidrs) {
    const r = checkCidr(c);
    if (!r.ok) throw new SinkArgsError(`--private-cidrs: ${r.reason}`);
  }
  return { host: m[1], port, uuid, key, tls, privateCidrs };
}

export function register(program: Command): void {
  program
    .command('riskiq-sink')
    .description('the reference RiskIQ receiver: checks, decrypts and prints the records a collector exports (NDJSON on stdout)')
    .requiredOption('--uuid <uuid>', 'customer UUID (EF_OUTPUT_RISKIQ_CUSTOMER_UUID)')
    .option('--key-file <file>', 'file holding the base64 AES key (EF_OUTPUT_RISKIQ_CUSTOMER_ENCRYPTION_KEY)')
    .option('--key <base64>', 'the base64 AES key itself (visible to other users in the process list: prefer --key-file)')
    .option('--listen <host:port>', 'address to listen on', '127.0.0.1:20000')
    .option('--tls-cert <file>', 'PEM certificate (chain): listen with TLS')
    .option('--tls-key <file>', 'PEM private key of --tls-cert')
    .option('--private-cidrs <list>', 'extra private ranges, as the collector has them: records holding one are flagged')
    .action(async (a: SinkArgs) => {
      let opts: SinkOptions;
      try {
        opts = sinkOptions(a);
      } catch (e) {
        if (!(e instanceof SinkArgsError)) throw e;
        process.stderr.write(`threatflow riskiq-sink: ${e.message}\n`);
        process.exit(2);
      }
      const log = createLogger({ level: 'info' }).child({ caller: 'cli/riskiq-sink' });
      let sink: RiskiqSink;
      try {
        sink = await startRiskiqSink(opts, process.stdout, log);
      } catch (e) {
        log.fatal({ error: (e as Error).message }, 'riskiq sink failed to start');
        process.exit(1);
      }
      log.info({ host: sink.host, port: sink.port, tls: opts.tls !== null }, 'riskiq sink listening');
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        await sink.close();
        log.info({ signal, ...sink.stats() }, 'riskiq sink stopped');
        process.stdout.write('', () => process.exit(0));
      };
      process.on('SIGINT', () => void stop('SIGINT'));
      process.on('SIGTERM', () => void stop('SIGTERM'));
    });
}
