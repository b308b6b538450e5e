// SPDX-License-Identifier: Apache-2.0
/**
 * The threat DB's life in the main thread of `threatflow run` (DESIGN.md §5):
 *
 * 1. at start, the last good DB persisted at `_THREAT_CACHE_PATH` (if any) goes into service at once, so a
 *    restart without API access still enriches;
 * 2. then the DB is downloaded (download.ts), parsed and built off the main thread (`buildInWorker`), and
 *    put into service only when the download is complete and the build yields at least one entry; a
 *    failure of any kind leaves the DB in service as it was;
 * 3. each new DB is published (`publish`: `threatflow run` broadcasts its SharedArrayBuffers to the decoding
 *    workers, which swap their reference) and persisted (write to a temporary file, then rename, so the
 *    cache on disk is always a complete DB);
 * 4. every `_THREAT_REFRESH_INTERVAL` minutes, again (refresh.ts, injectable clock).
 *
 * Metrics: `threat_db_loads{result=ok|failed}`, `threat_db_size` (entries), `threat_db_memory_size`
 * (bytes), `threat_db_age_seconds`; the matches are counted by the enricher in each worker
 * (`threat_matches{field}`).
 */
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { RiskiqThreatConfig } from '../../config';
import type { Logger } from '../../observability/logger';
import type { Metrics } from '../../observability/metrics';
import { buildThreatDb, type BuildMeta } from './build';
import { buildInWorker, type WorkerBuildResult } from './build-worker';
import { fetchBlocklist, LOG, redact, redactUrl, type DownloadConfig, type DownloadOptions, type DownloadResult } from './download';
import { loadInclExcl, type InclExcl } from './inclexcl';
import { deserializeThreatDb, serializeThreatDb, ThreatDbFormatError } from './lookup';
import { parseBlocklist } from './parse';
import { RefreshScheduler, systemClock, type Clock } from './refresh';
import type { ThreatDbData } from './types';

export interface ThreatServiceDeps {
  log: Logger;
  metrics?: Metrics;
  clock?: Clock;
  /** Puts a DB into service (in this thread and/or the workers). Called synchronously, on the main thread. */
  publish: (data: ThreatDbData) => void;
  /** Runs after each new DB is in service and persisted (the indicator index); its failure is logged only. */
  afterPublish?: (data: ThreatDbData) => Promise<void>;
  /** Replaces the download (tests that inject failures below HTTP use a real server instead). */
  download?: (cfg: DownloadConfig, log: Logger, opts: DownloadOptions) => Promise<DownloadResult>;
  /** Replaces the worker build. */
  build?: (body: Buffer, meta: BuildMeta) => Promise<WorkerBuildResult>;
  /** Extra trusted CA (PEM) for the download; production uses Node's store plus NODE_EXTRA_CA_CERTS. */
  ca?: string | Buffer;
}

/** Writes the DB so that the file at `path` is always complete: a temporary file, then a rename. */
export function persistThreatDb(path: string, data: ThreatDbData): number {
  mkdirSync(dirname(path), { recursive: true });
  const buf = serializeThreatDb(data);
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, buf);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  return buf.length;
}

/** Reads a DB persisted by `persistThreatDb`; null when there is no file. Throws when it is not one. */
export function readPersistedThreatDb(path: string): ThreatDbData | null {
  if (!existsSync(path)) return null;
  return deserializeThreatDb(readFileSync(path));
}

export interface LoadedThreatDbFile {
  data: ThreatDbData;
  /** `cache` for a persisted DB, else the blocklist format recognised. */
  kind: 'cache' | 'blocklist';
  format?: string;
  malformed?: number;
}

/**
 * Loads a DB from a file that is either a persisted DB or a blocklist body in any accepted format (gzip
 * or not): `threatflow decode --threat-db FILE` and `threatdb lookup/stats --db FILE`. Synchronous: the
 * CLI has nothing else to do meanwhile.
 */
export function loadThreatDbFile(path: string): LoadedThreatDbFile {
  const buf = readFileSync(path);
  try {
    return { data: deserializeThreatDb(buf), kind: 'cache' };
  } catch (err) {
    if (!(err instanceof ThreatDbFormatError)) throw err;
  }
  const parsed = parseBlocklist(buf);
  if (parsed.entries.length === 0) {
    throw new Error(`${path} is neither a persisted threat DB nor a blocklist with a valid entry (${parsed.malformed} malformed, format ${parsed.format})`);
  }
  const data = buildThreatDb(parsed.entries, { fetchedAt: statSync(path).mtimeMs, source: path });
  return { data, kind: 'blocklist', format: parsed.format, malformed: parsed.malformed };
}

export class ThreatService {
  private data: ThreatDbData | null = null;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly scheduler: RefreshScheduler;
  private readonly abort = new AbortController();
  private stopped = false;
  private afterChain: Promise<void> = Promise.resolve();
  /** The include/exclude list, validated at startup (the enricher of each worker loads its own copy). */
  readonly inclExcl: InclExcl | null;

  constructor(
    private readonly cfg: RiskiqThreatConfig,
    private readonly deps: ThreatServiceDeps,
  ) {
    this.log = deps.log;
    this.clock = deps.clock ?? systemClock;
    // A bad include/exclude file is a startup error, raised here on the main thread before any worker starts.
    this.inclExcl = cfg.threatInclExclPath ? loadInclExcl(cfg.threatInclExclPath) : null;
    this.scheduler = new RefreshScheduler(cfg.threatRefreshIntervalMinutes * 60_000, () => this.refresh().then(() => undefined), this.clock);
  }

  /** The DB in service, or null before the first one. */
  current(): ThreatDbData | null {
    return this.data;
  }

  /** Loads the persisted DB (if any) into service, then starts downloading on the schedule (first one now). */
  start(): void {
    this.loadCache();
    this.scheduler.start(true);
  }

  /** The download in progress or the last one (tests, `threatflow run` waiting for the first DB). */
  get refreshing(): Promise<void> | null {
    return this.scheduler.current;
  }

  private loadCache(): void {
    const path = this.cfg.threatCachePath;
    let data: ThreatDbData | null;
    try {
      data = readPersistedThreatDb(path);
    } catch (err) {
      this.log.warn({ path, error: (err as Error).message }, 'the persisted threat DB cannot be read; waiting for the download');
      return;
    }
    if (data === null) {
      this.log.info({ path }, 'no persisted threat DB yet; waiting for the download');
      return;
    }
    if (data.info.entries === 0) return;
    this.swap(data);
    this.log.info(
      { path, entries: data.info.entries, fetched_at: new Date(data.info.fetchedAt).toISOString(), source: data.info.source },
      'threat DB loaded from the persisted copy',
    );
    this.afterSwap(data, false);
  }

  private swap(data: ThreatDbData): void {
    this.data = data;
    this.deps.publish(data);
    this.updateMetrics();
  }

  private afterSwap(data: ThreatDbData, persist: boolean): Promise<void> {
    if (persist) {
      try {
        const bytes = persistThreatDb(this.cfg.threatCachePath, data);
        this.log.debug({ path: this.cfg.threatCachePath, bytes }, 'threat DB persisted');
      } catch (err) {
        this.log.warn({ path: this.cfg.threatCachePath, error: (err as Error).message }, 'the threat DB could not be persisted; the next restart waits for the API');
      }
    }
    const after = this.deps.afterPublish;
    if (!after) return Promise.resolve();
    // One at a time, and only for the DB still in service: the persisted DB's indicator write at startup
    // must never land after (and over) the fresher download's.
    this.afterChain = this.afterChain.then(() => {
      if (data !== this.data) return;
      return after(data).catch((err: unknown) => {
        this.deps.metrics?.inc('threat_indicator_index_errors');
        this.log.warn({ error: (err as Error).message }, 'the threat indicator index could not be updated');
      });
    });
    return this.afterChain;
  }

  /**
   * One download, build and swap. Resolves true when a new DB went into service; never rejects (every
   * failure is logged with the lines of DESIGN.md §5 and leaves the old DB in service).
   */
  async refresh(): Promise<boolean> {
    if (this.stopped) return false;
    const m = this.deps.metrics;
    const started = this.clock.now();
    const dl: DownloadConfig = {
      endpoint: this.cfg.threatEndpoint,
      user: this.cfg.apiUser,
      key: this.cfg.apiKey,
      timeoutSeconds: this.cfg.apiTimeoutSeconds,
      ...(this.deps.ca ? { ca: this.deps.ca } : {}),
    };
    const fail = (reason: string): false => {
      m?.inc('threat_db_loads', { result: 'failed' });
      this.log.error(LOG.initFailed(redact(reason, [this.cfg.apiKey])));
      if (this.data !== null) this.log.info({ entries: this.data.info.entries, fetched_at: new Date(this.data.info.fetchedAt).toISOString() }, 'the threat DB in service stays');
      return false;
    };
    let res: DownloadResult;
    try {
      res = await (this.deps.download ?? fetchBlocklist)(dl, this.log, { signal: this.abort.signal, now: () => this.clock.now() });
    } catch (err) {
      return this.stopped ? false : fail((err as Error).message);
    }
    let built: WorkerBuildResult;
    try {
      built = await (this.deps.build ?? buildInWorker)(res.body, { fetchedAt: res.fetchedAt, source: redactUrl(this.cfg.threatEndpoint) });
    } catch (err) {
      return fail(`the response is not a usable blocklist: ${(err as Error).message}`);
    }
    if (this.stopped) return false;
    if (built.data.info.entries === 0) {
      return fail(`the response holds no valid entry (${built.malformed} malformed, format ${built.format})`);
    }
    this.swap(built.data);
    m?.inc('threat_db_loads', { result: 'ok' });
    const info = built.data.info;
    this.log.info(
      {
        entries: info.entries,
        ipv4: info.ipv4Entries,
        ipv6: info.ipv6Entries,
        malformed: built.malformed,
        format: built.format,
        memory_bytes: info.memoryBytes,
        ms: this.clock.now() - started,
      },
      LOG.populated,
    );
    await this.afterSwap(built.data, true);
    return true;
  }

  /** Sets the gauges (size, memory, age); `threatflow run` calls it before each metrics read. */
  updateMetrics(): void {
    const m = this.deps.metrics;
    if (!m) return;
    const d = this.data;
    m.set('threat_db_size', d ? d.info.entries : 0);
    m.set('threat_db_memory_size', d ? d.info.memoryBytes : 0);
    m.set('threat_db_age_seconds', d ? Math.max(0, Math.round((this.clock.now() - d.info.fetchedAt) / 1000)) : -1);
  }

  /** Stops the schedule and cancels a download in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.scheduler.stop();
    this.abort.abort();
    const running = this.scheduler.current;
    if (running) await running;
  }
}
