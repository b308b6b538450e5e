#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
/**
 * `npm run demo`: the main job end to end on its embedded defaults, from a fresh clone.
 *
 * 1. installs what is missing (npm packages; the Maven build of the embedded Elasticsearch),
 * 2. starts the embedded Elasticsearch on 127.0.0.1:9200 (left running at the end),
 * 3. serves a sample PassiveTotal blocklist (collector/test/fixtures/riskiq-demo/) from a loopback HTTP
 *    server and starts the collector (`threatflow run`) on UDP 127.0.0.1:2055 with the Elasticsearch
 *    output and the RiskIQ threat enrichment on,
 * 4. replays real exporter captures bundled in the repository (softflowd NetFlow v5/v9/IPFIX and pmacct
 *    IPFIX/sFlow exports of a known traffic capture),
 * 5. waits until every document is searchable, prints a summary (threat matches with their launch links
 *    included) and how to query the data,
 * 6. stops the collector.
 *
 * Plain Node (no dependencies) so it runs before `npm ci`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBlocklistServer } from './blocklist-server.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const ES_PORT = Number(process.env.ES_PORT ?? 9200);
const ES = `http://127.0.0.1:${ES_PORT}`;
const UDP_PORT = Number(process.env.TF_DEMO_UDP_PORT ?? 2055);
const API_PORT = Number(process.env.TF_DEMO_API_PORT ?? 18080);
const DATA_STREAM = 'logs-threatflow.flows-demo';
const CLI = join(ROOT, 'collector', 'dist', 'cli', 'main.js');
const WORK = join(ROOT, '.threatflow', 'demo');
const CAPTURES_DIR = join(ROOT, 'collector', 'test', 'exporters', 'captures');
const DEMO_BLOCKLIST = join(ROOT, 'collector', 'test', 'fixtures', 'riskiq-demo', 'blocklist.csv');
const INDICATORS = 'logs-ti_threatflow_latest.indicators';

const say = (msg) => process.stdout.write(`\x1b[1m==>\x1b[0m ${msg}\n`);
const fail = (msg) => {
  process.stderr.write(`demo: ${msg}\n`);
  process.exit(1);
};

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', ...opts });
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} failed (exit ${r.status})`);
  return r;
}

async function es(method, path, body) {
  const res = await fetch(`${ES}${path}`, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  // 1. Install what is missing.
  if (!existsSync(join(ROOT, 'node_modules', '@elastic', 'elasticsearch'))) {
    say('installing npm packages (npm ci)');
    run('npm', ['ci', '--no-audit', '--no-fund']);
  }
  say('building the collector');
  run('npm', ['run', '--silent', 'build']);

  // 2. Embedded Elasticsearch.
  say(`starting the embedded Elasticsearch on ${ES} (first time: Maven downloads ~37 MB)`);
  run('bash', [join(ROOT, 'tools', 'elasticsearch', 'es.sh'), 'start', '--port', String(ES_PORT)]);
  // A clean demo data stream each time, so the counts below are this run's.
  await es('DELETE', `/_data_stream/${DATA_STREAM}`);

  // 3. The collector.
  const captures = readdirSync(CAPTURES_DIR).filter((f) => /\.pcap(ng)?$/.test(f)).sort().map((f) => join(CAPTURES_DIR, f));
  if (captures.length === 0) fail(`no sample captures in ${CAPTURES_DIR}`);
  mkdirSync(WORK, { recursive: true });
  const logPath = join(WORK, 'collector.log');
  // A stand-in for the PassiveTotal blocklist API, with demo credentials; no persisted DB from an earlier
  // run, so the log shows the download.
  const blocklist = await startBlocklistServer({ file: DEMO_BLOCKLIST, user: 'demo', key: 'demo-key' });
  const threatCache = join(WORK, 'riskiq-threat-db.bin');
  rmSync(threatCache, { force: true });
  say(`serving the sample blocklist ${relative(ROOT, DEMO_BLOCKLIST)} at ${blocklist.url}`);
  const env = {
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EF_'))),
    EF_FLOW_SERVER_UDP_IP: '127.0.0.1',
    EF_FLOW_SERVER_UDP_PORT: String(UDP_PORT),
    EF_OUTPUT_ELASTICSEARCH_ENABLE: 'true',
    EF_OUTPUT_ELASTICSEARCH_ADDRESSES: `127.0.0.1:${ES_PORT}`,
    EF_OUTPUT_ELASTICSEARCH_DATA_STREAM: DATA_STREAM,
    EF_OUTPUT_ELASTICSEARCH_INDEX_TEMPLATE_REPLICAS: '0',
    EF_OUTPUT_ELASTICSEARCH_BATCH_DEADLINE: '500',
    EF_OUTPUT_ELASTICSEARCH_DEAD_LETTER_PATH: join(WORK, 'dead-letter.ndjson'),
    EF_OUTPUT_ELASTICSEARCH_SPOOL_PATH: join(WORK, 'spool'),
    EF_API_IP: '127.0.0.1',
    EF_API_PORT: String(API_PORT),
    EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_THREAT_ENABLE: 'true',
    EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_THREAT_ENDPOINT: blocklist.url,
    EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_API_USER: 'demo',
    EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_API_KEY: 'demo-key',
    EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_THREAT_CACHE_PATH: threatCache,
  };
  say(`starting the collector on udp://127.0.0.1:${UDP_PORT} (log: ${relative(ROOT, logPath)})`);
  const logFd = openSync(logPath, 'w');
  const collector = spawn(process.execPath, [CLI, 'run'], { cwd: WORK, env, stdio: ['ignore', logFd, logFd] });
  let exited = false;
  collector.on('exit', () => (exited = true));
  const stopCollector = async () => {
    if (!exited) {
      collector.kill('SIGTERM');
      for (let i = 0; i < 100 && !exited; i++) await sleep(100);
    }
    await blocklist.close();
  };
  process.on('SIGINT', () => void stopCollector().then(() => process.exit(130)));
  for (let i = 0; ; i++) {
    if (exited) fail(`the collector exited during startup:\n${readFileSync(logPath, 'utf8')}`);
    try {
      if ((await fetch(`http://127.0.0.1:${API_PORT}/readyz`)).ok) break;
    } catch {
      /* not up yet */
    }
    if (i > 300) fail('the collector did not become ready in 30 s');
    await sleep(100);
  }
  // The threat DB is downloaded in the background: wait for it, so every replayed flow is enriched.
  for (let i = 0; ; i++) {
    const log = readFileSync(logPath, 'utf8');
    if (log.includes('RiskIQ Threats: DB successfully populated.')) break;
    if (log.includes('RiskIQ Threats: failed to initialize DB')) fail(`the threat DB did not load:\n${log}`);
    if (exited || i > 300) fail(`the threat DB did not load in 30 s:\n${log}`);
    await sleep(100);
  }
  say('threat DB loaded (RiskIQ Threats: DB successfully populated.)');

  // How many documents to expect: the same captures through `threatflow decode`.
  const decoded = spawnSync(process.execPath, [CLI, 'decode', '--quiet', ...captures], { cwd: ROOT, env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (decoded.status !== 0) fail(`decode failed: ${decoded.stderr}`);
  const expected = decoded.stdout.split('\n').filter(Boolean).length;

  // 4. Replay.
  say(`replaying ${captures.length} captures (${captures.map((c) => relative(ROOT, c)).join(', ')})`);
  run(process.execPath, [CLI, 'replay', ...captures, '--to', `127.0.0.1:${UDP_PORT}`, '--rate', '2000']);

  // 5. Wait until searchable.
  let count = 0;
  for (let i = 0; i < 120; i++) {
    await es('POST', `/${DATA_STREAM}/_refresh`);
    const r = await es('GET', `/${DATA_STREAM}/_count`);
    count = r.body?.count ?? 0;
    if (count >= expected) break;
    await sleep(500);
  }
  await stopCollector();
  if (count < expected) fail(`only ${count} of ${expected} documents became searchable; see ${logPath}`);
  say(`${count} flow documents are searchable in ${DATA_STREAM}`);

  const agg = await es('POST', `/${DATA_STREAM}/_search`, {
    size: 1,
    sort: [{ 'network.bytes': 'desc' }],
    aggs: {
      protocols: { terms: { field: 'netflow.exporter.version', missing: 0, size: 10 } },
      sflow: { filter: { exists: { field: 'sflow.exporter.address' } } },
      talkers: { terms: { field: 'source.ip', size: 5, order: { bytes: 'desc' } }, aggs: { bytes: { sum: { field: 'network.bytes' } } } },
      directions: { terms: { field: 'network.direction', size: 5 } },
    },
  });
  const a = agg.body.aggregations;
  const names = { 5: 'NetFlow v5', 9: 'NetFlow v9', 10: 'IPFIX' };
  console.log('\nDocuments by protocol:');
  for (const b of a.protocols.buckets) if (b.key !== 0) console.log(`  ${(names[b.key] ?? `v${b.key}`).padEnd(12)} ${b.doc_count}`);
  console.log(`  ${'sFlow v5'.padEnd(12)} ${a.sflow.doc_count}`);
  console.log('\nTop talkers (source.ip by bytes):');
  for (const b of a.talkers.buckets) console.log(`  ${String(b.key).padEnd(28)} ${b.bytes.value} bytes in ${b.doc_count} flows`);
  console.log('\nDirections:');
  for (const b of a.directions.buckets) console.log(`  ${String(b.key).padEnd(12)} ${b.doc_count}`);

  // Threat matches: one bucket per listed address seen in the flows (threat.enrichments is nested).
  const threats = await es('POST', `/${DATA_STREAM}/_search`, {
    size: 0,
    query: { exists: { field: 'sec.threat.name' } },
    aggs: {
      names: { terms: { field: 'sec.threat.name', size: 20 } },
      enrichments: {
        nested: { path: 'threat.enrichments' },
        aggs: {
          indicators: {
            terms: { field: 'threat.enrichments.indicator.ip', size: 20 },
            aggs: {
              flows: { reverse_nested: {} },
              top: { top_hits: { size: 1, _source: ['threat.enrichments.indicator.description', 'threat.enrichments.indicator.reference'] } },
            },
          },
        },
      },
    },
  });
  await es('POST', `/${INDICATORS}/_refresh`);
  const indicatorCount = (await es('GET', `/${INDICATORS}/_count`)).body?.count ?? 0;
  const t = threats.body.aggregations;
  console.log(`\nThreat matches (RiskIQ PassiveTotal, sample blocklist): ${threats.body.hits.total.value} flows`);
  for (const b of t.enrichments.indicators.buckets) {
    const ind = b.top.hits.hits[0]?._source?.indicator ?? b.top.hits.hits[0]?._source ?? {};
    console.log(`  ${String(b.key).padEnd(18)} ${String(b.flows.doc_count).padStart(3)} flows  tags: ${ind.description ?? '-'}`);
    console.log(`  ${''.padEnd(18)} launch: ${ind.reference ?? '-'}`);
  }
  console.log(`  by tag (sec.threat.name): ${t.names.buckets.map((b) => `${b.key} ${b.doc_count}`).join(', ')}`);
  console.log(`  ${indicatorCount} indicators in ${INDICATORS} (ECS threat.indicator.*)`);
  console.log('\nOne document (the largest flow):');
  console.log(JSON.stringify(agg.body.hits.hits[0]._source, null, 2));
  console.log(`
Query it yourself (Elasticsearch keeps running on ${ES}):
  curl -s '${ES}/logs-threatflow.flows-*/_search?q=network.direction:inbound&pretty'
  curl -s '${ES}/logs-threatflow.flows-*/_count?q=destination.port:443'
  curl -s '${ES}/logs-threatflow.flows-*/_search?q=sec.threat.name:*&size=1&pretty'
  curl -s -H 'content-type: application/json' '${ES}/logs-threatflow.flows-*/_search?size=0&pretty' \\
       -d '{"aggs":{"top":{"terms":{"field":"destination.ip"}}}}'
Decode a capture offline:        node collector/dist/cli/main.js decode ${relative(ROOT, captures[0])}
Enrich offline with a blocklist: node collector/dist/cli/main.js decode --threat-db ${relative(ROOT, DEMO_BLOCKLIST)} ${relative(ROOT, captures[0])}
Look an address up:              node collector/dist/cli/main.js threatdb lookup 45.33.32.156 --db ${relative(ROOT, DEMO_BLOCKLIST)}
Run the collector yourself:      EF_OUTPUT_ELASTICSEARCH_ENABLE=true${process.env.ES_PORT ? ` EF_OUTPUT_ELASTICSEARCH_ADDRESSES=127.0.0.1:${ES_PORT}` : ''} node collector/dist/cli/main.js run
Stop Elasticsearch when done:    bash tools/elasticsearch/es.sh stop${process.env.ES_PORT ? ` --port ${ES_PORT}` : ''}
The collector has been stopped; its log is ${relative(ROOT, logPath)}.`);
}

main().catch((err) => fail(err.stack ?? String(err)));
