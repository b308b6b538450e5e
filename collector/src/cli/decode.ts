// SPDX-License-Identifier: Apache-2.0
/**
 * `threatflow decode FILE...`: decodes the flow exports in pcap/pcapng captures (any UDP port) through the
 * full pipeline and prints the final ECS documents as NDJSON on stdout, a summary on stderr.
 *
 * Deterministic: the exporter is the datagram's source address in the capture and every clock reading
 * (receive time, collect time) is the capture timestamp, so the same input gives byte-identical output.
 * All files share one pipeline, so templates from one file decode data in the next
 * (`threatflow decode templates.pcap data.pcap`).
 *
 * A capture cut short, IP fragments (not reassembled) and frames of an unsupported link type are reported
 * on stderr as warnings naming the file; the exit code stays 0 and the packets that could be read are
 * decoded. A file that is not a capture at all is an error naming the file (exit 1).
 *
 * `--threat-db FILE` enriches offline with a threat DB: FILE is a blocklist body in any format the
 * collector accepts from the API (DESIGN.md §5) or the DB the collector persisted
 * (EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_THREAT_CACHE_PATH).
 */
import type { Command } from 'commander';
import { readCaptureFile } from '../capture/pcap';
import { ConfigError, loadConfig, type Config } from '../config';
import { ThreatDbRef } from '../enrich/riskiq-threat/enricher';
import { ThreatDb } from '../enrich/riskiq-threat/lookup';
import { loadThreatDbFile } from '../enrich/riskiq-threat/service';
import type { ThreatLookup } from '../enrich/riskiq-threat/types';
import { createLogger } from '../observability/logger';
import { Metrics } from '../observability/metrics';
import { MemoryOutput } from '../output/memory';
import { decoderOptions, normalizerConfig, createEnrichers } from '../pipeline/build';
import { Pipeline } from '../pipeline/pipeline';

export interface DecodeResult {
  lines: string[];
  datagrams: number;
  metrics: Metrics;
}

/** Decodes captures in order and returns their documents; `onLines` streams them per datagram when given. */
export function decodeCaptures(
  files: string[],
  config: Config,
  onLines?: (lines: string[]) => void,
  opts: { threatDb?: ThreatLookup; onWarning?: (message: string) => void } = {},
): DecodeResult {
  const metrics = new Metrics();
  let threatDb: ThreatDbRef | undefined;
  if (opts.threatDb) {
    threatDb = new ThreatDbRef();
    threatDb.set(opts.threatDb);
  }
  const out = new MemoryOutput();
  let clock = 0;
  const log = createLogger({ level: config.logger.level });
  const pipeline = new Pipeline({
    decode: decoderOptions(config),
    normalize: normalizerConfig(config),
    enrichers: createEnrichers(config, threatDb ? { metrics, threatDb } : { metrics }),
    outputs: [out],
    metrics,
    log,
    now: () => clock,
  });
  const all: string[] = [];
  let datagrams = 0;
  for (const file of files) {
    for (const d of readCaptureFile(file, opts.onWarning)) {
      clock = Math.floor(d.timeMs);
      pipeline.handleDatagram(d.payload, { address: d.srcAddr, port: d.srcPort, receivedMs: clock });
      datagrams++;
      const lines = out.take();
      if (onLines) {
        if (lines.length) onLines(lines);
      } else {
        for (const l of lines) all.push(l);
      }
    }
  }
  // Data still waiting for a template when the captures end will never be decoded: count it.
  pipeline.tick(Number.MAX_SAFE_INTEGER);
  return { lines: all, datagrams, metrics };
}

export function register(program: Command): void {
  program
    .command('decode')
    .description('decode flow exports from pcap/pcapng files and print ECS documents as NDJSON')
    .argument('<file...>', 'capture files (pcap or pcapng, optionally gzip-compressed), decoded in order')
    .option('--quiet', 'no summary on stderr (warnings about the captures still print)')
    .option('--threat-db <file>', 'enrich with this threat DB: a blocklist file (JSON, NDJSON, CSV, text, gzip) or the persisted DB')
    .action((files: string[], o: { quiet?: boolean; threatDb?: string }) => {
      let config: Config;
      try {
        config = loadConfig(process.env).config;
      } catch (err) {
        if (err instanceof ConfigError) {
          process.stderr.write(`threatflow: invalid configuration:\n${err.message}\n`);
          process.exit(2);
        }
        throw err;
      }
      let threatDb: ThreatLookup | undefined;
      if (o.threatDb) {
        const loaded = loadThreatDbFile(o.threatDb);
        threatDb = ThreatDb.fromData(loaded.data);
        if (!o.quiet) {
          const how = loaded.kind === 'cache' ? 'persisted DB' : `${loaded.format} blocklist, ${loaded.malformed ?? 0} malformed entries skipped`;
          process.stderr.write(`threat DB ${o.threatDb}: ${loaded.data.info.entries} entries (${how})\n`);
        }
      }
      let records = 0;
      const res = decodeCaptures(
        files,
        config,
        (lines) => {
          records += lines.length;
          process.stdout.write(lines.join('\n') + '\n');
        },
        {
          ...(threatDb ? { threatDb } : {}),
          // Warnings (capture cut short, fragments, unsupported link type) print even with --quiet; they do not
          // change the exit code: the packets that could be read were decoded, as tshark does.
          onWarning: (w) => process.stderr.write(`threatflow: warning: ${w}\n`),
        },
      );
      if (!o.quiet) {
        const m = res.metrics.snapshot();
        const interesting = Object.fromEntries(Object.entries(m).filter(([k]) => /^(records|decode_errors|datagrams|counter_samples|threat_matches)/.test(k)));
        process.stderr.write(`decoded ${res.datagrams} datagrams into ${records} documents ${JSON.stringify(interesting)}\n`);
      }
    });
}
