// SPDX-License-Identifier: Apache-2.0
// One dataset of the per-record bench, in its own process so that JIT state and heap are not shared
// between datasets. Runs the collector's Pipeline (built by pipeline/build with the default config:
// decode + normalize + Community ID + locality + ECS serialization) with an output that writes every
// line into a reusable Buffer the way output/elasticsearch/bulk.ts does.
//
//   node per-record-child.mjs '{"dataset":"synth-v5","seconds":2,"warmup":0.5,"mode":"throughput"}'
//   node --expose-gc --min-semi-space-size=64 --max-semi-space-size=64 per-record-child.mjs '{..."mode":"alloc"}'
//
// Prints one JSON line on stdout.
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { dist } from '../lib/common.mjs';
import { loadCaptures } from '../lib/captures.mjs';
import { ipfixDatagrams, netflow5Datagrams, netflow9Datagrams, sflowDatagrams } from '../lib/synth.mjs';

const opts = JSON.parse(process.argv[2]);

/** The bulk writer's per-document work without the HTTP part: action line + document + newline. */
const ACTION = '{"create":{}}\n';
class BufferOutput {
  name = 'bench-buffer';
  buf = Buffer.allocUnsafe(9 * 1024 * 1024);
  len = 0;
  docs = 0;
  bytes = 0;
  async start() {}
  async flush() {}
  async stop() {}
  write(_doc, line) {
    if (this.len + 15 + line.length * 3 > this.buf.length) {
      this.bytes += this.len;
      this.len = 0;
    }
    this.len += this.buf.write(ACTION, this.len, 'latin1');
    this.len += this.buf.write(line, this.len, 'utf8');
    this.buf[this.len++] = 0x0a;
    this.docs++;
  }
  totalBytes() {
    return this.bytes + this.len;
  }
}

const PROTO_OF = { v5: 'netflow5', v9: 'netflow9', ipfix: 'ipfix', sflow: 'sflow5' };

/** -> { proto, setup: [{payload, exporter}], loop: [{payload, exporter}], note } */
function dataset(name) {
  const now = Date.now();
  const ex = (address) => ({ address, port: 40000, receivedMs: now });
  const wrap = (bufs, e) => bufs.map((payload) => ({ payload, exporter: e }));
  switch (name) {
    case 'synth-v5': {
      const e = ex('192.0.2.5');
      return { proto: 'netflow5', setup: [], loop: wrap(netflow5Datagrams(1000), e), note: '30 records/datagram' };
    }
    case 'synth-v9-v4':
    case 'synth-v9-v6': {
      const e = ex('192.0.2.9');
      const v6 = name.endsWith('v6');
      const { templates, data } = netflow9Datagrams(1000, { v6 });
      return { proto: 'netflow9', setup: wrap(templates, e), loop: wrap(data, e), note: `18-field template, ${v6 ? 20 : 25} records/datagram` };
    }
    case 'synth-ipfix-v4':
    case 'synth-ipfix-v6': {
      const e = ex('192.0.2.10');
      const v6 = name.endsWith('v6');
      const { templates, data } = ipfixDatagrams(1000, { v6 });
      return { proto: 'ipfix', setup: wrap(templates, e), loop: wrap(data, e), note: '18-field template, 20 records/datagram' };
    }
    case 'synth-sflow': {
      const e = ex('192.0.2.20');
      return { proto: 'sflow5', setup: [], loop: wrap(sflowDatagrams(1000), e), note: '7 flow samples/datagram, rate 1000' };
    }
    default: {
      const m = /^real-(v5|v9|ipfix|sflow)$/.exec(name);
      if (!m) throw new Error(`unknown dataset ${name}`);
      const proto = PROTO_OF[m[1]];
      const { groups } = loadCaptures();
      const g = groups[proto] ?? { datagrams: [], files: 0 };
      return { proto, setup: [], loop: g.datagrams, note: `${g.datagrams.length} datagrams from ${g.files} captures` };
    }
  }
}

function build() {
  const { defaultConfig } = dist('config/index');
  const { buildPipeline } = dist('pipeline/build');
  const { Metrics } = dist('observability/metrics');
  const { createLogger } = dist('observability/logger');
  const config = defaultConfig();
  const metrics = new Metrics();
  const out = new BufferOutput();
  const pipeline = buildPipeline(config, createLogger({ level: 'fatal' }), metrics, [out]);
  return { pipeline, metrics, out, config };
}

/**
 * A protocol the Pipeline does not decode yet (pipeline/decoders.ts has no entry): when its decoder is
 * compiled in dist, wire it into this Pipeline instance only, so the figure exists but is marked
 * provisional. Returns 'wired' | 'bench-wired' | 'not wired yet'.
 */
function ensureDecoder(pipeline, metrics, proto) {
  const decoders = pipeline.decoders;
  if (!(decoders instanceof Map)) return 'wired';
  if (decoders.has(proto)) return 'wired';
  if (proto !== 'netflow9' && proto !== 'ipfix') return 'not wired yet';
  try {
    const tpl = dist('decode/templates/index', { optional: true });
    const mod = dist(proto === 'netflow9' ? 'decode/netflow9/index' : 'decode/ipfix/index', { optional: true });
    const fn = mod && (proto === 'netflow9' ? mod.decodeNetflow9 : mod.decodeIpfix);
    if (!tpl?.createTemplateDecodeEnv || typeof fn !== 'function') return 'not wired yet';
    const env = tpl.createTemplateDecodeEnv(metrics, {});
    decoders.set(proto, { decode: (b, x, e) => fn(b, x, env, e) });
    return 'bench-wired';
  } catch {
    return 'not wired yet';
  }
}

function run() {
  const ds = dataset(opts.dataset);
  const { pipeline, metrics, out } = build();
  const status = ensureDecoder(pipeline, metrics, ds.proto);
  const result = { dataset: opts.dataset, proto: ds.proto, status, note: ds.note, datagramsInSet: ds.loop.length };
  if (status === 'not wired yet' || ds.loop.length === 0) return result;
  for (const d of ds.setup) pipeline.handleDatagram(d.payload, d.exporter);
  const loop = ds.loop;
  const n = loop.length;
  let i = 0;
  // Runs datagrams for `seconds`, checking the clock every 32 datagrams.
  const spin = (seconds) => {
    let recs = 0;
    let dgs = 0;
    const t0 = process.hrtime.bigint();
    const limit = BigInt(Math.round(seconds * 1e9));
    let elapsed = 0n;
    for (;;) {
      for (let k = 0; k < 32; k++) {
        const d = loop[i];
        recs += pipeline.handleDatagram(d.payload, d.exporter);
        if (++i === n) i = 0;
      }
      dgs += 32;
      elapsed = process.hrtime.bigint() - t0;
      if (elapsed >= limit) break;
    }
    return { recs, dgs, seconds: Number(elapsed) / 1e9 };
  };

  if (opts.mode === 'alloc') {
    spin(opts.warmup ?? 1);
    // Young generation fixed at 64 MB by the command line: a window of a few thousand records allocates
    // less than that, so heapUsed(after) - heapUsed(before) is the allocation, provided no GC ran in the
    // window (checked with a gc PerformanceObserver; the window is retried smaller if one did).
    let gcs = [];
    const obs = new PerformanceObserver((list) => gcs.push(...list.getEntries().map((e) => e.startTime)));
    obs.observe({ entryTypes: ['gc'] });
    const measure = (target) => {
      globalThis.gc();
      globalThis.gc();
      const t0 = performance.now();
      const h0 = process.memoryUsage().heapUsed;
      let recs = 0;
      let dgs = 0;
      while (recs < target) {
        const d = loop[i];
        recs += pipeline.handleDatagram(d.payload, d.exporter);
        if (++i === n) i = 0;
        dgs++;
        if (dgs > target * 50) break; // a set that yields no records
      }
      const h1 = process.memoryUsage().heapUsed;
      return { t0, t1: performance.now(), bytes: h1 - h0, recs, dgs };
    };
    return new Promise((resolve) => {
      const tries = [8000, 4000, 2000, 1000];
      const next = () => {
        const target = tries.shift();
        const m = measure(target);
        setTimeout(() => {
          const gcIn = gcs.filter((t) => t > m.t0 && t < m.t1).length;
          if (gcIn === 0 && m.recs > 0) {
            obs.disconnect();
            resolve({ ...result, allocBytesPerRecord: m.bytes / m.recs, allocRecords: m.recs });
          } else if (tries.length) {
            next();
          } else {
            obs.disconnect();
            resolve({ ...result, allocBytesPerRecord: null, allocNote: 'a GC ran inside every window' });
          }
        }, 20);
      };
      next();
    });
  }

  spin(opts.warmup ?? 0.5);
  const docs0 = out.docs;
  const bytes0 = out.totalBytes();
  const errs0 = metrics.sum('decode_errors');
  // The measured time in windows of 0.25 s: the box is shared, so the headline is the best window (the
  // least disturbed by other processes) and the mean over all windows is kept next to it.
  const windows = [];
  const total = opts.seconds ?? 2;
  while (windows.reduce((t, w) => t + w.seconds, 0) < total) windows.push(spin(Math.min(0.25, total)));
  const r = windows.reduce((a, w) => ({ recs: a.recs + w.recs, dgs: a.dgs + w.dgs, seconds: a.seconds + w.seconds }), { recs: 0, dgs: 0, seconds: 0 });
  const best = windows.reduce((a, w) => (w.recs / w.seconds > a.recs / a.seconds ? w : a));
  const docs = out.docs - docs0;
  return {
    ...result,
    seconds: r.seconds,
    records: r.recs,
    datagrams: r.dgs,
    windows: windows.length,
    recordsPerSec: best.recs / best.seconds,
    meanRecordsPerSec: r.recs / r.seconds,
    usPerRecord: best.recs ? (best.seconds * 1e6) / best.recs : null,
    datagramsPerSec: best.dgs / best.seconds,
    recordsPerDatagram: r.recs / r.dgs,
    docBytes: docs ? (out.totalBytes() - bytes0) / docs - ACTION.length - 1 : null,
    decodeErrors: metrics.sum('decode_errors') - errs0,
  };
}

Promise.resolve(run()).then(
  (r) => {
    const u = process.cpuUsage();
    process.stdout.write(`${JSON.stringify({ ...r, cpuSeconds: (u.user + u.system) / 1e6 })}\n`);
  },
  (e) => {
    process.stdout.write(`${JSON.stringify({ dataset: opts.dataset, error: String(e && e.stack ? e.stack : e) })}\n`);
    process.exitCode = 1;
  },
);
