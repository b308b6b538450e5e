// SPDX-License-Identifier: Apache-2.0
// Part 3: end to end into the embedded Elasticsearch (tools/elasticsearch, 127.0.0.1:9200) on the same two
// cores. The collector writes into a bench-only data stream, `logs-threatflow.flows-bench`, with 0
// replicas and a 30 s refresh interval from EF_OUTPUT_ELASTICSEARCH_INDEX_TEMPLATE_{REPLICAS,
// REFRESH_INTERVAL}. The node is shared with the rest of the team, so the bench does not let the collector
// overwrite the shared `logs-threatflow.flows*` templates: it installs its own index template (priority
// 500, pattern = the bench data stream only) built from the collector's assets (dist) and the same EF_*
// values, starts the collector with EF_OUTPUT_ELASTICSEARCH_INDEX_TEMPLATE_ENABLE=false, and deletes the
// data stream and its templates afterwards.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { cpuSeconds, dist, fmtNum, fmtRate, http, log, readProcText, ROOT, sleep } from '../lib/common.mjs';
import { idleCpuPct, lossless, M, runStep, startCollector } from '../lib/collector.mjs';

const RECORDS = 30;
const ES = 'http://127.0.0.1:9200';
const DS = 'logs-threatflow.flows-bench';
const SETTINGS = `${DS}@settings`;
const MAPPINGS = `${DS}@mappings`;

async function esUp() {
  try {
    return (await http('GET', `${ES}/`)).status === 200;
  } catch {
    return false;
  }
}

async function count() {
  await http('POST', `${ES}/${DS}/_refresh`);
  const r = await http('GET', `${ES}/${DS}/_count`);
  return r.json?.count ?? 0;
}

async function cleanup() {
  await http('DELETE', `${ES}/_data_stream/${DS}`).catch(() => {});
  await http('DELETE', `${ES}/_index_template/${DS}`).catch(() => {});
  await http('DELETE', `${ES}/_component_template/${SETTINGS}`).catch(() => {});
  await http('DELETE', `${ES}/_component_template/${MAPPINGS}`).catch(() => {});
}

export async function runE2eEs(ctx) {
  const { quick, bin, v5File } = ctx;
  const out = { steps: [], error: null, esIdleCpuPct: null, startedEs: false };
  log('\n## 3. End to end: UDP -> threatflow run -> embedded Elasticsearch (NetFlow v5)');
  const esScript = join(ROOT, 'tools', 'elasticsearch', 'es.sh');
  if (!(await esUp())) {
    log('Elasticsearch is not running on :9200; starting it with tools/elasticsearch/es.sh');
    try {
      execFileSync('bash', [esScript, 'start', '--port', '9200'], { stdio: 'inherit', timeout: 240_000 });
      out.startedEs = true;
    } catch (e) {
      out.error = `could not start Elasticsearch: ${e.message}`;
      log(out.error);
      return out;
    }
  }
  const esPid = Number(readProcText(join(ROOT, 'tools', 'elasticsearch', 'data', 'es-9200.pid'))) || null;
  const info = (await http('GET', `${ES}/`)).json;
  out.esVersion = info?.version?.number;

  const efEnv = {
    EF_OUTPUT_ELASTICSEARCH_ENABLE: 'true',
    EF_OUTPUT_ELASTICSEARCH_ADDRESSES: '127.0.0.1:9200',
    EF_OUTPUT_ELASTICSEARCH_DATA_STREAM: DS,
    EF_OUTPUT_ELASTICSEARCH_INDEX_TEMPLATE_REPLICAS: '0',
    EF_OUTPUT_ELASTICSEARCH_INDEX_TEMPLATE_REFRESH_INTERVAL: '30s',
    EF_OUTPUT_ELASTICSEARCH_INDEX_TEMPLATE_ENABLE: 'false',
  };
  let collector = null;
  try {
    await cleanup();
    // Bench-only templates: the collector's own settings/mappings components, from the same EF_* values.
    const { loadConfig } = dist('config/index');
    const tcfg = loadConfig(efEnv).config.output.elasticsearch.indexTemplate;
    const assets = dist('output/elasticsearch/assets');
    const settings = assets.flowsSettingsComponent(
      {
        shards: tcfg.shards,
        replicas: tcfg.replicas,
        refreshInterval: tcfg.refreshInterval,
        codec: tcfg.codec,
        ilmLifecycle: '',
        pipelineDefault: tcfg.pipelineDefault,
        pipelineFinal: tcfg.pipelineFinal,
      },
      { ilmAvailable: false },
    );
    const put = async (path, body) => {
      const r = await http('PUT', `${ES}${path}`, body);
      if (r.status >= 300) throw new Error(`PUT ${path}: ${r.status} ${r.text.slice(0, 300)}`);
    };
    await put(`/_component_template/${SETTINGS}`, settings);
    await put(`/_component_template/${MAPPINGS}`, assets.flowsMappingsComponent());
    await put(`/_index_template/${DS}`, {
      index_patterns: [DS],
      data_stream: {},
      priority: 500,
      composed_of: [SETTINGS, MAPPINGS],
      _meta: { managed_by: 'threatflow-bench', description: 'npm run bench: deleted after the run' },
    });

    collector = await startCollector('es', efEnv);
    const e0 = esPid ? cpuSeconds(esPid) : NaN;
    out.collectorIdleCpuPct = await idleCpuPct(collector.pid);
    out.esIdleCpuPct = esPid ? (100 * (cpuSeconds(esPid) - e0)) / 2 : null;
    const probe = async () => {
      const m = await collector.metrics();
      return { received: m[M.received] ?? 0, records: m[M.records] ?? 0, docs: m[M.docs] ?? 0, dropped: m[M.dropped] ?? 0 };
    };
    const drained = (b, a, sent) => a.docs - b.docs + (a.dropped - b.dropped) >= sent * RECORDS;
    const seconds = quick ? 5 : 15;
    const ladder = quick ? [5_000] : [5_000, 10_000, 15_000, 20_000];
    log(
      `rate steps of ${seconds} s into ${DS} (ES ${out.esVersion ?? '?'} pid ${esPid ?? '?'}; idle before the steps: ES ${fmtNum(out.esIdleCpuPct)} %, collector ${fmtNum(out.collectorIdleCpuPct, 1)} % CPU):`,
    );
    log('  offered flows/s | sent flows | indexed (_count Δ) | indexed docs/s | socket drops | collector CPU % | CPU %/10k flows/s | ES JVM CPU % | sender % | others % | drain s');
    for (const flows of ladder) {
      const c0 = await count();
      const s = await runStep({
        bin,
        file: v5File,
        port: collector.udpPort,
        rateDps: Math.round(flows / RECORDS),
        seconds,
        recordsPerDatagram: RECORDS,
        pid: collector.pid,
        probe,
        drained,
        drainTimeoutMs: 30_000,
        pids: esPid ? { es: esPid } : {},
      });
      s.indexed = (await count()) - c0;
      s.indexedPerSec = s.indexed / (s.seconds + Math.max(0, s.drainMs / 1000 - 2.5));
      s.cpuPer10k = s.cpuPct / (s.offeredFlowsPerSec / 10_000);
      s.lossless = lossless(s) && s.indexed >= s.sentFlows;
      out.steps.push(s);
      log(
        `  ${fmtRate(s.offeredFlowsPerSec).padStart(6)} | ${fmtNum(s.sentFlows)} | ${fmtNum(s.indexed)} | ${fmtRate(s.indexedPerSec)} | ${fmtNum(s.socketDrops)} | ${fmtNum(s.cpuPct, 1)} | ${fmtNum(s.cpuPer10k, 1)} | ${fmtNum(s.extraCpuPct.es)} | ${fmtNum(s.senderCpuPct)} | ${fmtNum(s.othersCpuPct)} | ${fmtNum(s.drainMs / 1000, 1)}${s.lossless ? '' : '  LOSS'}${s.outputDropped ? ` (output dropped ${fmtNum(s.outputDropped)})` : ''}`,
      );
      await sleep(1000);
    }
  } catch (e) {
    out.error = String(e.message ?? e);
    log(`part 3 failed: ${out.error}`);
  } finally {
    if (collector) await collector.stop();
    await cleanup();
    if (out.startedEs) execFileSync('bash', [esScript, 'stop', '--port', '9200'], { stdio: 'inherit' });
  }
  return out;
}
