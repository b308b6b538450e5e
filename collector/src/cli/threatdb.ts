// SPDX-License-Identifier: Apache-2.0
/**
 * `threatflow threatdb fetch|lookup IP|stats` (DESIGN.md §9): downloads, queries and describes the RiskIQ
 * PassiveTotal threat DB with the collector's own configuration (EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_*).
 *
 * - `fetch` downloads with a progress bar on stderr, builds the DB in a worker thread, persists it where
 *   the collector loads it at startup (`_THREAT_CACHE_PATH`, or `--output`) and prints its statistics.
 *   The log lines of DESIGN.md §5 go to stderr as the collector writes them.
 * - `lookup IP` prints the entry that matches (longest prefix) with its tags and launch URL, exit 0, or
 *   says that there is none, exit 1.
 * - `stats` prints entries by family and prefix length, age, source and memory.
 *
 * `lookup` and `stats` read the persisted DB, or `--db FILE` (a persisted DB or a blocklist body).
 */
import { isIP } from 'node:net';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { ConfigError, loadConfig, type Config } from '../config';
import { createIpClassifier } from '../enrich/ip-class';
import { launchUrlFor } from '../enrich/riskiq-threat/enricher';
import { buildInWorker } from '../enrich/riskiq-threat/build-worker';
import { fetchBlocklist, LOG, redactUrl, RISKIQ_API_KEY_VAR, RISKIQ_API_USER_VAR } from '../enrich/riskiq-threat/download';
import { loadInclExcl } from '../enrich/riskiq-threat/inclexcl';
import { ThreatDb } from '../enrich/riskiq-threat/lookup';
import { loadThreatDbFile, persistThreatDb, readPersistedThreatDb } from '../enrich/riskiq-threat/service';
import type { ThreatDbData, ThreatDbInfo, ThreatMatch } from '../enrich/riskiq-threat/types';
import { createLogger } from '../observability/logger';

function config(): Config {
  try {
    return loadConfig(process.env).config;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`threatflow: invalid configuration:\n${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

/** The DB to query: `--db FILE`, else the persisted one. */
function loadDb(cfg: Config, file: string | undefined): { data: ThreatDbData; from: string } {
  if (file) {
    const loaded = loadThreatDbFile(file);
    return { data: loaded.data, from: `${file} (${loaded.kind === 'cache' ? 'persisted DB' : `${loaded.format} blocklist`})` };
  }
  const path = cfg.enrich.riskiq.threatCachePath;
  const data = readPersistedThreatDb(path);
  if (data === null) {
    throw new Error(`no threat DB at ${path} (EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_THREAT_CACHE_PATH): run \`threatflow threatdb fetch\` first, or pass --db FILE`);
  }
  return { data, from: `${path} (persisted DB)` };
}

function iso(ms: number | undefined): string {
  return ms === undefined || !Number.isFinite(ms) ? '-' : new Date(ms).toISOString();
}

export function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

function size(bytes: number): string {
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(2)} MiB`;
}

/** Prefix-length keys sorted by family, then longest first (`v4/32`, `v4/24`, `v6/128`, ...). */
function sortedPrefixes(byPrefix: Record<string, number>): Array<[string, number]> {
  return Object.entries(byPrefix).sort(([a], [b]) => {
    const [fa, la] = a.split('/');
    const [fb, lb] = b.split('/');
    return fa === fb ? Number(lb) - Number(la) : fa < fb ? -1 : 1;
  });
}

/** The `stats` text. */
export function statsText(info: ThreatDbInfo, from: string, now = Date.now()): string {
  const lines = [
    `threat DB:   ${from}`,
    `source:      ${info.source}`,
    `fetched:     ${iso(info.fetchedAt)} (${formatAge(now - info.fetchedAt)} ago)`,
    `entries:     ${info.entries} (IPv4 ${info.ipv4Entries}, IPv6 ${info.ipv6Entries})`,
    `memory:      ${size(info.memoryBytes)}`,
    'by prefix length:',
    ...sortedPrefixes(info.byPrefix).map(([k, n]) => `  ${k.padEnd(8)} ${n}`),
  ];
  return lines.join('\n') + '\n';
}

/** The `lookup` text for a match. */
export function matchText(ip: string, m: ThreatMatch, launchUrl: string): string {
  return (
    [
      `${ip} is listed: ${m.indicator}`,
      `  tags:        ${m.tags.length > 0 ? m.tags.join(', ') : '(none)'}`,
      `  confidence:  ${m.confidence ?? '-'}`,
      `  first seen:  ${iso(m.firstSeen)}`,
      `  last seen:   ${iso(m.lastSeen)}`,
      `  launch:      ${launchUrlFor(launchUrl, ip)}`,
    ].join('\n') + '\n'
  );
}

async function fetchCommand(o: { output?: string; progress: boolean }): Promise<void> {
  const cfg = config();
  const r = cfg.enrich.riskiq;
  const missing = [...(r.apiUser === '' ? [RISKIQ_API_USER_VAR] : []), ...(r.apiKey === '' ? [RISKIQ_API_KEY_VAR] : [])];
  if (missing.length > 0) throw new Error(`fetching the threat DB needs ${RISKIQ_API_USER_VAR} and ${RISKIQ_API_KEY_VAR}; not set: ${missing.join(', ')}`);
  const log = createLogger({ level: cfg.logger.level }).child({ caller: 'cli/threatdb' });
  const showBar = o.progress && process.stderr.isTTY === true;
  const bar = showBar
    ? new cliProgress.SingleBar(
        { format: 'download |{bar}| {percentage}% | {value}/{total} bytes', stream: process.stderr, hideCursor: true },
        cliProgress.Presets.shades_classic,
      )
    : null;
  let barStarted = false;
  const res = await (async () => {
    try {
      return await fetchBlocklist({ endpoint: r.threatEndpoint, user: r.apiUser, key: r.apiKey, timeoutSeconds: r.apiTimeoutSeconds }, log, {
        onProgress: (received, total) => {
          if (!bar) return;
          if (!barStarted) {
            bar.start(total ?? received, 0);
            barStarted = true;
          }
          // Without a Content-Length the bar's total follows what has arrived.
          if (total === null) bar.setTotal(received);
          bar.update(received);
        },
      });
    } catch (err) {
      log.error(LOG.initFailed((err as Error).message));
      throw err;
    } finally {
      if (barStarted) bar?.stop();
    }
  })();
  let built;
  try {
    built = await buildInWorker(res.body, { fetchedAt: res.fetchedAt, source: redactUrl(r.threatEndpoint) });
  } catch (err) {
    log.error(LOG.initFailed(`the response is not a usable blocklist: ${(err as Error).message}`));
    throw err;
  }
  if (built.data.info.entries === 0) {
    const reason = `the response holds no valid entry (${built.malformed} malformed, format ${built.format})`;
    log.error(LOG.initFailed(reason));
    throw new Error(reason);
  }
  log.info({ entries: built.data.info.entries, malformed: built.malformed, format: built.format }, LOG.populated);
  const path = o.output ?? r.threatCachePath;
  const bytes = persistThreatDb(path, built.data);
  process.stdout.write(`saved ${path} (${bytes} bytes); ${built.format} body, ${built.malformed} malformed entries skipped\n`);
  process.stdout.write(statsText(built.data.info, `${path} (persisted DB)`));
}

function lookupCommand(ip: string, o: { db?: string; json?: boolean }): void {
  if (isIP(ip) === 0) throw new Error(`"${ip}" is not an IPv4 or IPv6 address`);
  const cfg = config();
  const { data, from } = loadDb(cfg, o.db);
  const db = ThreatDb.fromData(data);
  const m = db.lookup(ip);
  const isPrivate = createIpClassifier(cfg.enrich.privateCidrs).isPrivate(ip);
  const inclExclPath = cfg.enrich.riskiq.threatInclExclPath;
  const excluded = !isPrivate && inclExclPath !== '' && !loadInclExcl(inclExclPath).allows(ip);
  if (o.json) {
    process.stdout.write(JSON.stringify({ ip, listed: m !== null, match: m, private: isPrivate, excluded, db: from }) + '\n');
  } else if (m) {
    process.stdout.write(matchText(ip, m, cfg.enrich.riskiq.launchUrl));
  } else {
    process.stdout.write(`${ip} is not listed (${data.info.entries} entries, fetched ${iso(data.info.fetchedAt)}, ${from})\n`);
  }
  if (!o.json && isPrivate) process.stdout.write(`note: ${ip} is a private address: the collector never looks it up (DESIGN.md §7)\n`);
  if (!o.json && excluded) process.stdout.write(`note: ${ip} is excluded from lookups by ${inclExclPath}\n`);
  process.exitCode = m ? 0 : 1;
}

function statsCommand(o: { db?: string; json?: boolean }): void {
  const cfg = config();
  const { data, from } = loadDb(cfg, o.db);
  if (o.json) {
    process.stdout.write(JSON.stringify({ ...data.info, ageSeconds: Math.round((Date.now() - data.info.fetchedAt) / 1000), db: from }) + '\n');
  } else {
    process.stdout.write(statsText(data.info, from));
  }
}

export function register(program: Command): void {
  const cmd = program.command('threatdb').description('download, query and describe the RiskIQ PassiveTotal threat DB');
  cmd
    .command('fetch')
    .description('download the threat DB now, build it and save it where the collector loads it at startup')
    .option('--output <file>', 'where to save it (default EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_THREAT_CACHE_PATH)')
    .option('--no-progress', 'no progress bar')
    .action(fetchCommand);
  cmd
    .command('lookup')
    .description('look an address up in the threat DB: exit 0 when listed, 1 when not')
    .argument('<ip>', 'IPv4 or IPv6 address')
    .option('--db <file>', 'a persisted DB or a blocklist file instead of the persisted DB')
    .option('--json', 'one JSON line')
    .action(lookupCommand);
  cmd
    .command('stats')
    .description('entries by family and prefix length, age, source and memory of the threat DB')
    .option('--db <file>', 'a persisted DB or a blocklist file instead of the persisted DB')
    .option('--json', 'one JSON line')
    .action(statsCommand);
}
