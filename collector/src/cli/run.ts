// SPDX-License-Identifier: Apache-2.0
/**
 * `threatflow run` (the default command): the collector. Configuration comes only from EF_* variables;
 * a bad value stops startup before any socket is opened. The main thread owns the UDP sockets and hands
 * datagrams to decoding workers (exporter affinity); each worker runs the whole pipeline and its outputs.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { ConfigError, effectiveWorkers, loadConfig, type Config } from '../config';
import { threadThreatDb } from '../enrich/riskiq-threat/enricher';
import { IndicatorIndex } from '../enrich/riskiq-threat/indicators';
import { ThreatDb } from '../enrich/riskiq-threat/lookup';
import { ThreatService } from '../enrich/riskiq-threat/service';
import type { ThreatDbData } from '../enrich/riskiq-threat/types';
import { startApi } from '../observability/api';
import { createLogger, type Logger } from '../observability/logger';
import { Metrics } from '../observability/metrics';
import { buildPipeline } from '../pipeline/build';
import { readUdpRcvbufErrors, UdpReceiver } from '../server/udp';
import { WorkerPool } from '../server/worker-pool';

export interface RunningCollector {
  ports(): number[];
  metrics(): Record<string, number>;
  stop(): Promise<void>;
}

/** Starts the collector; resolves once it listens. Exported for tests and benchmarks. */
export async function startCollector(
  config: Config,
  log: Logger,
  opts: { statsIntervalMs?: number; inThread?: boolean } = {},
): Promise<RunningCollector> {
  const metrics = new Metrics();
  const workers = opts.inThread ? 0 : effectiveWorkers(config.server, availableParallelism());
  let dispatch: (buf: Buffer, address: string, port: number, receivedMs: number) => void;
  let stopDecoding: () => Promise<void>;
  let workerMetrics: () => Record<string, number> = () => ({});
  let decodingHealthy: () => boolean = () => true;
  // The RiskIQ threat DB lives here, in the main thread (download, build in a worker, refresh, persist);
  // each new DB is handed to the decoding workers. Created before them: a bad include/exclude file stops
  // startup here.
  let publishThreatDb: (data: ThreatDbData) => void = () => undefined;
  let indicators: IndicatorIndex | null = null;
  let threat: ThreatService | null = null;
  if (config.enrich.riskiq.enabled) {
    const threatLog = log.child({ caller: 'enrich/riskiq-threat' });
    if (config.output.elasticsearch.enabled) {
      indicators = IndicatorIndex.fromConfig(config, threatLog);
    }
    const idx = indicators;
    threat = new ThreatService(config.enrich.riskiq, {
      log: threatLog,
      metrics,
      publish: (data) => publishThreatDb(data),
      ...(idx ? { afterPublish: async (data: ThreatDbData) => void (await idx.replace(data)) } : {}),
    });
    if (idx && config.output.elasticsearch.indexTemplate.enabled) {
      try {
        await idx.install(config.output.elasticsearch.indexTemplate.overwrite);
      } catch (err) {
        threatLog.warn({ error: (err as Error).message }, 'the threat indicator index template could not be installed');
      }
    }
  }
  if (workers > 0) {
    const pool = new WorkerPool(join(__dirname, '..', 'pipeline', 'worker.js'), workers, { config }, log.child({ caller: 'server/worker-pool' }), metrics);
    await pool.start();
    dispatch = (b, a, p, t) => pool.dispatch(b, a, p, t);
    stopDecoding = () => pool.stop();
    publishThreatDb = (data) => pool.broadcast({ type: 'threat_db', data });
    workerMetrics = () => pool.workerMetrics();
    decodingHealthy = () => pool.healthy();
  } else {
    // In-thread decoding: for tests that run the collector inside jest (no compiled worker script there).
    const pipeline = buildPipeline(config, log, metrics);
    await pipeline.start();
    dispatch = (b, a, p, t) => void pipeline.handleDatagram(b, { address: a, port: p, receivedMs: t });
    stopDecoding = () => pipeline.stop();
    publishThreatDb = (data) => threadThreatDb.set(ThreatDb.fromData(data));
  }
  const receiver = new UdpReceiver(
    { ip: config.server.udpIp, ports: config.server.udpPorts, recvBufferSize: config.server.udpReadBufferMaxSize },
    (buf, address, port, receivedMs) => {
      metrics.inc('udp_datagrams_received');
      dispatch(buf, address, port, receivedMs);
    },
    log.child({ caller: 'server/udp' }),
    metrics,
  );
  // The persisted DB goes to the workers before the first datagram; the download runs in the background.
  threat?.start();
  await receiver.start();
  const rcvbufAtStart = readUdpRcvbufErrors();
  const all = (): Record<string, number> => {
    threat?.updateMetrics();
    const values = { ...metrics.snapshot() };
    for (const [k, v] of Object.entries(workerMetrics())) values[k] = (values[k] ?? 0) + v;
    const drops = readUdpRcvbufErrors();
    if (drops !== null && rcvbufAtStart !== null) values['udp_receive_buffer_errors'] = drops - rcvbufAtStart;
    const mem = process.memoryUsage();
    values['process_resident_memory_bytes'] = mem.rss;
    values['process_heap_used_bytes'] = mem.heapUsed;
    return values;
  };
  // /health looks at the last minute, not at totals since start: a drop an hour ago is history.
  const dropsOf = (v: Record<string, number>) =>
    Object.entries(v).filter(([k]) => k.startsWith('output_dropped') || k.startsWith('datagrams_dropped')).reduce((n, [, x]) => n + x, 0);
  let dropsMinuteAgo = 0;
  let dropsNow = 0;
  const window = setInterval(() => {
    dropsMinuteAgo = dropsNow;
    dropsNow = dropsOf(all());
  }, 60_000);
  window.unref();
  const api = config.api.enabled
    ? await startApi(config.api.ip, config.api.port, {
        metrics: all,
        ready: () => decodingHealthy(),
        health: () => {
          const v = all();
          const droppedRecently = dropsOf(v) - dropsMinuteAgo;
          const workersOk = decodingHealthy();
          return {
            status: droppedRecently > 0 || !workersOk ? 'degraded' : 'ok',
            detail: {
              datagrams: v['udp_datagrams_received'] ?? 0,
              dropped_last_minute: droppedRecently,
              dropped_total: dropsOf(v),
              workers_running: workersOk,
              worker_restarts: v['worker_restarts'] ?? 0,
            },
          };
        },
      })
    : null;
  const statsLog = log.child({ caller: 'cli/run' });
  const timer = setInterval(() => statsLog.info({ metrics: all() }, 'collector stats'), opts.statsIntervalMs ?? 60_000);
  timer.unref();
  log.info({ ports: receiver.ports(), workers, outputs: outputNames(config) }, 'collector started');
  return {
    ports: () => receiver.ports(),
    metrics: all,
    async stop() {
      clearInterval(timer);
      clearInterval(window);
      await threat?.stop();
      await receiver.stop();
      await stopDecoding();
      await indicators?.close();
      if (api) await new Promise<void>((r) => api.close(() => r()));
      statsLog.info({ metrics: all() }, 'collector stopped');
    },
  };
}

function outputNames(config: Config): string[] {
  const names: string[] = [];
  if (config.output.elasticsearch.enabled) names.push('elasticsearch');
  if (config.output.stdout.enabled) names.push('stdout');
  if (config.output.riskiq.enabled) names.push('riskiq');
  return names;
}

export function register(program: Command): void {
  program
    .command('run', { isDefault: true })
    .description('run the collector (the default command); configuration from EF_* variables')
    .action(async () => {
      let config: Config;
      let warnings: string[];
      try {
        ({ config, warnings } = loadConfig(process.env));
      } catch (err) {
        if (err instanceof ConfigError) {
          process.stderr.write(`threatflow: invalid configuration:\n${err.message}\n`);
          process.exit(2);
        }
        throw err;
      }
      const log = createLogger({ level: config.logger.level });
      for (const w of warnings) log.warn(w);
      if (outputNames(config).length === 0) {
        log.warn('no output is enabled (EF_OUTPUT_ELASTICSEARCH_ENABLE, EF_OUTPUT_STDOUT_ENABLE, EF_OUTPUT_RISKIQ_ENABLE): flows are decoded and counted only');
      }
      let collector: RunningCollector;
      try {
        collector = await startCollector(config, log);
      } catch (err) {
        log.fatal({ error: (err as Error).message }, 'collector failed to start');
        process.exit(1);
      }
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        log.info({ signal }, 'stopping');
        await collector.stop();
        process.exit(0);
      };
      process.on('SIGINT', () => void stop('SIGINT'));
      process.on('SIGTERM', () => void stop('SIGTERM'));
    });
}
