#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// `node bench/riskiq.mjs [--quick] [--json]`: the RiskIQ export's cost per record on one core, against the
// decode rate of the same machine (DESIGN.md §6: the export must never limit the collector).
//
// 1. Decode: synthetic NetFlow v5 (30 records per datagram, random private/public addresses, TCP/UDP/ICMP)
//    through a pipeline built by collector/dist/pipeline/build.js from the default configuration
//    (decode -> normalize with Community ID and locality -> JSON.stringify), output discarded. The
//    documents of one pass are kept as the export's input.
// 2. Export, stage by stage over those documents, each on this thread:
//      filter + serialize     RecordBuilder.line(doc) (classification with the shared classifier, record line)
//      + gzip + encrypt       the above, then per 1,000 flows: join, gzip (level of frame.ts), AES-256-GCM,
//                             frame, all on this thread
//      whole output           RiskiqOutput.write() into a loopback receiver that discards the bytes: queue,
//                             frames, gzip on libuv's pool, socket writes; rate per CPU second of the whole
//                             process (all threads), i.e. per core
//    Rates are per input flow (documents/s) — the unit the decode rate uses — plus per exported record.
// Needs only collector/dist (npm run build). Prints figures; never fails on a number.
import { createRequire } from 'node:module';
import net from 'node:net';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'collector', 'dist');
const require = createRequire(import.meta.url);
const dist = (p) => require(join(DIST, `${p}.js`));

const args = new Set(process.argv.slice(2));
const QUICK = args.has('--quick');
const JSON_OUT = args.has('--json');
const MEASURE_MS = QUICK ? 700 : 2000;
const WARMUP_MS = QUICK ? 200 : 500;

const { defaultConfig } = dist('config/index');
const { buildPipeline } = dist('pipeline/build');
const { createLogger } = dist('observability/logger');
const { Metrics } = dist('observability/metrics');
const { createRecordBuilder } = dist('output/riskiq/record');
const { sealFrame, ndjson, GZIP_LEVEL } = dist('output/riskiq/frame');
const { RiskiqOutput, riskiqOutputOptions } = dist('output/riskiq/output');

// ---------------------------------------------------------------------------------------------------
// Synthetic NetFlow v5, seeded.

function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function v5Datagrams(count, records = 30, seed = 5) {
  const r = rng(seed);
  const now = Date.now();
  const priv = () => [10, r() * 256, r() * 256, r() * 256];
  const pub = () => [[8, 45, 93, 151, 185][Math.floor(r() * 5)], r() * 256, r() * 256, 1 + r() * 254];
  const out = [];
  for (let d = 0; d < count; d++) {
    const b = Buffer.alloc(24 + 48 * records);
    b.writeUInt16BE(5, 0);
    b.writeUInt16BE(records, 2);
    b.writeUInt32BE(3_600_000, 4); // sysUptime
    b.writeUInt32BE(Math.floor(now / 1000), 8);
    b.writeUInt32BE(d * records, 16);
    for (let i = 0; i < records; i++) {
      const o = 24 + 48 * i;
      const kind = r(); // 30 % internal, 30 % outbound, 25 % inbound, 15 % external
      const src = kind < 0.6 ? priv() : pub();
      const dst = kind < 0.3 || (kind >= 0.6 && kind < 0.85) ? priv() : pub();
      src.forEach((x, k) => (b[o + k] = x));
      dst.forEach((x, k) => (b[o + 4 + k] = x));
      const proto = [6, 6, 6, 17, 17, 1][Math.floor(r() * 6)];
      b.writeUInt32BE(1 + Math.floor(r() * 1000), o + 16); // packets
      b.writeUInt32BE(40 + Math.floor(r() * 1e6), o + 20); // octets
      b.writeUInt32BE(3_500_000, o + 24);
      b.writeUInt32BE(3_599_000, o + 28);
      b.writeUInt16BE(proto === 1 ? 0 : 1024 + Math.floor(r() * 60000), o + 32);
      b.writeUInt16BE(proto === 1 ? 0x0800 : [22, 53, 80, 443, 3389][Math.floor(r() * 5)], o + 34);
      b[o + 37] = proto === 6 ? 0x1b : 0;
      b[o + 38] = proto;
    }
    out.push(b);
  }
  return out;
}

const ROUNDS = QUICK ? 1 : 3;
/** Flows per frame in the frame stages; also the output's batch size. */
const BATCH = 1000;

/**
 * Runs `fn(i)` in a loop for MEASURE_MS after a warm-up, ROUNDS times, and keeps the best round (the box
 * is shared: the best round is the one least disturbed); returns units/s and µs/unit.
 */
function measure(fn, unitsPerCall = 1) {
  let i = 0;
  const warmEnd = performance.now() + WARMUP_MS;
  while (performance.now() < warmEnd) fn(i++);
  let best = null;
  for (let round = 0; round < ROUNDS; round++) {
    let n = 0;
    const t0 = process.hrtime.bigint();
    const end = performance.now() + MEASURE_MS;
    while (performance.now() < end) {
      fn(i++);
      n++;
    }
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    const r = { perSec: (n * unitsPerCall) / s, usPerUnit: (s * 1e6) / (n * unitsPerCall) };
    if (!best || r.perSec > best.perSec) best = r;
  }
  return best;
}

// ---------------------------------------------------------------------------------------------------

const log = createLogger({ level: 'error' });
const config = defaultConfig();
const datagrams = v5Datagrams(1000);

// 1. Decode rate, and the documents of one pass.
const docs = [];
let keep = true;
const sink = {
  name: 'bench',
  start: async () => {},
  write: (doc) => {
    if (keep) docs.push(doc);
  },
  flush: async () => {},
  stop: async () => {},
};
const pipeline = buildPipeline(config, log, new Metrics(), [sink]);
const exporter = { address: '192.0.2.1', port: 2055, receivedMs: Date.now() };
for (const d of datagrams) pipeline.handleDatagram(d, exporter);
keep = false;
const decode = measure((i) => pipeline.handleDatagram(datagrams[i % datagrams.length], exporter), 30);

// 2. Export stages over the same documents.
const builder = createRecordBuilder(config.enrich.privateCidrs);
const lines = docs.map((d) => builder.line(d)).filter((l) => l !== null);
const exportedShare = lines.length / docs.length;
const filterSerialize = measure((i) => builder.line(docs[i % docs.length]));

const key = Buffer.alloc(32, 7);
const opts = riskiqOutputOptions(
  { enabled: true, host: '127.0.0.1', port: 9, customerUuid: '123e4567-e89b-12d3-a456-426614174000', customerEncryptionKey: key.toString('base64'), tlsEnabled: false, batchSize: BATCH, batchDeadlineMs: 5000, queueMax: 100_000 },
  config.enrich.privateCidrs,
);
// The real output into a loopback receiver that discards what it reads: write() on this thread, gzip on
// the thread pool, encryption and socket writes here. Measured in CPU time of the whole process (all
// threads, receiver included), yielding every 30 flows as the pipeline does between datagrams.
const receiver = net.createServer((s) => s.on('data', () => {}));
await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
const output = new RiskiqOutput({ ...opts, port: receiver.address().port }, log, null);
await output.start();
while (!output.stats().connected) await new Promise((r) => setTimeout(r, 10));
async function realPath(ms) {
  const cpu0 = process.cpuUsage();
  const sent0 = output.stats().recordsSent;
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < ms) {
    for (let k = 0; k < 30; k++) output.write(docs[n++ % docs.length], '');
    if (n % 300 === 0) await new Promise((r) => setImmediate(r));
    // Offer no more than the transport takes (it builds one frame at a time), so no CPU goes to records
    // the bounded queue would drop: the figure is the sustainable rate.
    while (output.stats().queued > 2 * BATCH) await new Promise((r) => setTimeout(r, 1));
  }
  await output.flush();
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  return { perSec: n / cpuS, usPerUnit: (cpuS * 1e6) / n, sent: output.stats().recordsSent - sent0, dropped: output.stats().dropped.queue_full };
}
await realPath(WARMUP_MS);
let writePath = null;
for (let round = 0; round < ROUNDS; round++) {
  const r = await realPath(MEASURE_MS);
  if (!writePath || r.perSec > writePath.perSec) writePath = r;
}
await output.stop();
await new Promise((r) => receiver.close(r));

const uuid = Buffer.from('123e4567e89b12d3a456426614174000', 'hex');
let frameBytes = 0;
let frames = 0;
const full = measure((i) => {
  const base = (i * BATCH) % docs.length;
  const batch = [];
  for (let k = 0; k < BATCH; k++) {
    const l = builder.line(docs[(base + k) % docs.length]);
    if (l !== null) batch.push(l);
  }
  const f = sealFrame(gzipSync(ndjson(batch), { level: GZIP_LEVEL }), key, uuid);
  frameBytes += f.length;
  frames++;
}, BATCH);
const OTHER_LEVEL = GZIP_LEVEL === 1 ? 6 : 1;
let otherBytes = 0;
let otherFrames = 0;
const gzipOther = measure((i) => {
  const base = (i * BATCH) % docs.length;
  const batch = [];
  for (let k = 0; k < BATCH; k++) {
    const l = builder.line(docs[(base + k) % docs.length]);
    if (l !== null) batch.push(l);
  }
  otherBytes += sealFrame(gzipSync(ndjson(batch), { level: OTHER_LEVEL }), key, uuid).length;
  otherFrames++;
}, BATCH);

const rows = [
  ['decode (v5 synthetic, full pipeline)', decode, null],
  ['export: filter + serialize', filterSerialize, decode],
  ['export: whole output to a loopback receiver (CPU s, all threads)', writePath, decode],
  [`export: + gzip level ${GZIP_LEVEL} + AES-256-GCM frame`, full, decode],
  [`export: same with gzip level ${OTHER_LEVEL} (for comparison)`, gzipOther, decode],
];

const fmt = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(0)}k` : n.toFixed(0));
if (JSON_OUT) {
  console.log(JSON.stringify({ node: process.version, exportedShare, gzipLevel: GZIP_LEVEL, bytesPerRecord: frameBytes / (frames * BATCH * exportedShare), rows: rows.map(([name, m]) => ({ name, perSec: m.perSec, usPerUnit: m.usPerUnit })) }));
} else {
  console.log(`# RiskIQ export bench (${QUICK ? 'quick, ' : ''}one core, node ${process.version}, load average ${loadavg()[0].toFixed(1)}; best of ${ROUNDS} rounds)`);
  console.log(`input: ${docs.length.toLocaleString('en')} flows from ${datagrams.length} v5 datagrams; ${(exportedShare * 100).toFixed(0)} % have a public side and become records`);
  const perRecord = (bytes, n) => (bytes / (n * BATCH * exportedShare)).toFixed(1);
  console.log(`wire: ${perRecord(frameBytes, frames)} bytes per record with gzip level ${GZIP_LEVEL} (${perRecord(otherBytes, otherFrames)} with level ${OTHER_LEVEL}), frames of ${BATCH} flows`);
  console.log('');
  console.log('| stage | flows/s per core | µs/flow | records/s per core | vs decode rate |');
  console.log('|---|---|---|---|---|');
  for (const [name, m, base] of rows) {
    const rec = base === null ? '—' : fmt(m.perSec * exportedShare);
    console.log(`| ${name} | ${fmt(m.perSec)} | ${m.usPerUnit.toFixed(2)} | ${rec} | ${base === null ? '1×' : `${(m.perSec / base.perSec).toFixed(1)}×`} |`);
  }
  console.log('');
  console.log('"vs decode rate": how many times faster than decoding the export stage processes the same flows.');
  console.log(`whole output, best round: ${writePath.sent.toLocaleString('en')} records sent, ${writePath.dropped} dropped by the queue.`);
}
