// SPDX-License-Identifier: Apache-2.0
/**
 * Test helpers for the NetFlow v9 / IPFIX decoders: list the v9/IPFIX captures of the shared test data, run
 * tshark (the independent reference decoder) on a capture and turn its JSON into per-datagram lists of
 * decoded records, feed a capture through our decoders, and build wire bytes by hand.
 *
 * tshark's `-T json` repeats keys inside one object (a biflow record has `cflow.octets` twice, forward and
 * reverse, in template order). `JSON.parse` keeps only the last, so the JSON is read here by a small parser
 * that keeps every entry in document order.
 */
import '../registry/ensure-generated';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { readCaptureFile, type CapturedDatagram } from '../../../src/capture/pcap';
import { DecodeError, type ExporterInfo, type FlowRecord } from '../../../src/decode/types';
import { Metrics } from '../../../src/observability/metrics';
import { SHARED_TESTDATA } from '../../helpers/testdata';
import { createTemplateDecodeEnv, type TemplateDecodeEnv, type TemplateStoreConfig } from '../../../src/decode/templates';
import { decodeNetflow9 } from '../../../src/decode/netflow9';
import { decodeIpfix } from '../../../src/decode/ipfix';

// ---------------------------------------------------------------------------------------------------------
// Ordered JSON.

export { JObject, parseOrderedJson, type JValue } from '../../helpers/ordered-json';
import { JObject, parseOrderedJson, type JValue } from '../../helpers/ordered-json';

export interface FlowCapture {
  /** Path relative to the shared test data. */
  name: string;
  path: string;
  /** The v9 / IPFIX datagrams, in file order. */
  datagrams: CapturedDatagram[];
  /** UDP destination ports of those datagrams (tshark needs decode-as for non-default ports). */
  ports: number[];
}

function* walk(dir: string): Generator<string> {
  for (const f of readdirSync(dir).sort()) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) yield* walk(p);
    else if (/\.pcap(ng)?(\.gz)?$/.test(f)) yield p;
  }
}

export function flowVersion(payload: Buffer): number {
  return payload.length >= 2 ? payload.readUInt16BE(0) : -1;
}

/** Every capture under the shared test data holding at least one NetFlow v9 or IPFIX datagram. */
export function listFlowCaptures(root = SHARED_TESTDATA): FlowCapture[] {
  const out: FlowCapture[] = [];
  if (!existsSync(root)) return out;
  for (const path of walk(root)) {
    let all: CapturedDatagram[];
    try {
      all = readCaptureFile(path);
    } catch {
      continue;
    }
    const datagrams = all.filter((d) => {
      const v = flowVersion(d.payload);
      return v === 9 || v === 10;
    });
    if (datagrams.length === 0) continue;
    const ports = [...new Set(datagrams.map((d) => d.dstPort))].sort((a, b) => a - b);
    out.push({ name: relative(root, path), path, datagrams, ports });
  }
  return out;
}

export function exporterOf(d: CapturedDatagram): ExporterInfo {
  return { address: d.srcAddr, port: d.srcPort, receivedMs: d.timeMs };
}

// ---------------------------------------------------------------------------------------------------------
// tshark.

export function haveTshark(): boolean {
  const r = spawnSync('tshark', ['-v'], { encoding: 'utf8' });
  return r.status === 0;
}

export function haveMergecap(): boolean {
  const r = spawnSync('mergecap', ['-v'], { encoding: 'utf8' });
  return r.status === 0;
}

/** One record tshark decoded, with the values we compare. */
export interface TsharkRecord {
  flow: JObject;
  setId: number;
  options: boolean;
}

/** One NetFlow/IPFIX PDU as tshark decoded it. */
export interface TsharkPdu {
  frame: number;
  version: number;
  /** v9: unix_secs; IPFIX: export time (s). */
  exportSec: number;
  /** v9 sysUptime (ms), IPFIX null. */
  sysUptimeMs: number | null;
  domain: number;
  records: TsharkRecord[];
  /** Data sets tshark could not decode (no template). */
  undecodedSets: number;
  /** Template and options template records tshark parsed. */
  templates: number;
  optionsTemplates: number;
  sequence: number;
  malformed: boolean;
}

const TSHARK_CACHE = new Map<string, TsharkPdu[]>();

/** Runs tshark on a capture (decode-as cflow on the given UDP ports) and returns its v9/IPFIX PDUs in order. */
export function tsharkPdus(path: string, ports: number[]): TsharkPdu[] {
  const key = `${path}|${ports.join(',')}`;
  const hit = TSHARK_CACHE.get(key);
  if (hit) return hit;
  const args = ['-r', path, '-T', 'json'];
  for (const p of ports) args.push('-d', `udp.port==${p},cflow`);
  const r = spawnSync('tshark', args, { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`tshark failed on ${path}: ${r.stderr}`);
  const frames = parseOrderedJson(r.stdout) as JValue[];
  // Which template ids are options templates, by (frame, id): tshark names the frame a data set's template
  // came from (cflow.template_frame).
  const optionsAt = new Set<string>();
  const pdus: TsharkPdu[] = [];
  for (const f of frames) {
    const layers = (f as JObject).obj('_source')!.obj('layers')!;
    const frameNo = Number(layers.obj('frame')!.str('frame.number'));
    for (const [k, v] of layers.entries) {
      if (k !== 'cflow' || !(v instanceof JObject)) continue;
      const version = v.num('cflow.version');
      if (version !== 9 && version !== 10) continue;
      for (const [sk, sv] of v.entries) {
        if (!(sv instanceof JObject) || !/^(Flow)?Set /.test(sk)) continue;
        for (const [tk, tv] of sv.entries) {
          if (!(tv instanceof JObject)) continue;
          if (tk.startsWith('Options Template (Id = ')) optionsAt.add(`${frameNo}/${tv.str('cflow.template_id')}`);
        }
      }
      let templates = 0;
      let optionsTemplates = 0;
      for (const [sk, sv] of v.entries) {
        if (!(sv instanceof JObject) || !/^(Flow)?Set /.test(sk)) continue;
        for (const [tk] of sv.entries) {
          if (tk.startsWith('Options Template (Id = ')) optionsTemplates++;
          else if (tk.startsWith('Template (Id = ')) templates++;
        }
      }
      const ts = v.obj('cflow.timestamp_tree');
      const pdu: TsharkPdu = {
        frame: frameNo,
        version,
        exportSec: Number(ts?.str(version === 9 ? 'cflow.unix_secs' : 'cflow.exporttime') ?? NaN),
        sysUptimeMs: version === 9 ? Math.round(Number(v.str('cflow.sysuptime')) * 1000) : null,
        domain: Number(v.str(version === 9 ? 'cflow.source_id' : 'cflow.od_id')),
        records: [],
        undecodedSets: 0,
        templates,
        optionsTemplates,
        sequence: Number(v.str('cflow.sequence')),
        malformed: false,
      };
      for (const [sk, sv] of v.entries) {
        if (sk === '_ws.malformed') pdu.malformed = true;
        if (!(sv instanceof JObject) || !/^(Flow)?Set /.test(sk)) continue;
        const setId = Number(sv.str('cflow.flowset_id'));
        if (setId < 256) continue;
        const tframe = sv.str('cflow.template_frame');
        let any = false;
        for (const [fk, fv] of sv.entries) {
          if (fk.startsWith('Data (') && fk.includes('no template found')) pdu.undecodedSets++;
          if (fk === '_ws.malformed' || (fv instanceof JObject && fv.get('_ws.malformed') !== undefined)) pdu.malformed = true;
          if (!/^Flow \d+( |$)/.test(fk) || !(fv instanceof JObject)) continue;
          any = true;
          pdu.records.push({ flow: fv, setId, options: optionsAt.has(`${tframe}/${setId}`) });
        }
        void any;
      }
      pdus.push(pdu);
    }
  }
  TSHARK_CACHE.set(key, pdus);
  return pdus;
}

const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };

/** tshark's absolute time text ("Oct  5, 2009 06:06:07.492059999 UTC") as unix ms, floored. */
export function parseTsharkTime(s: string): number {
  const m = /^([A-Z][a-z]{2})\s+(\d+), (\d{4}) (\d\d):(\d\d):(\d\d)(?:\.(\d+))? UTC$/.exec(s.trim());
  if (!m) return NaN;
  const frac = (m[7] ?? '0').padEnd(9, '0');
  const base = Date.UTC(Number(m[3]), MONTHS[m[1]], Number(m[2]), Number(m[4]), Number(m[5]), Number(m[6]));
  return base + Math.floor(Number(frac.slice(0, 9)) / 1e6);
}

// ---------------------------------------------------------------------------------------------------------
// Feeding our decoders the way the pipeline does (pipeline/pipeline.ts): the caller counts datagrams and
// records and counts a thrown DecodeError by its reason.

export interface Run {
  env: TemplateDecodeEnv;
  metrics: Metrics;
  /** Records emitted, per datagram. */
  perDatagram: FlowRecord[][];
  /** Held sets replayed while decoding each datagram. */
  replayedPerDatagram: number[];
  /** Non-DecodeError exceptions (bugs). */
  crashes: Error[];
}

export function newRun(config: Partial<TemplateStoreConfig> = {}): Run {
  const metrics = new Metrics();
  return { env: createTemplateDecodeEnv(metrics, config), metrics, perDatagram: [], replayedPerDatagram: [], crashes: [] };
}

/** Decodes one datagram (v9 or IPFIX by its version) into the run. */
export function feed(run: Run, payload: Buffer, exporter: ExporterInfo): FlowRecord[] {
  const out: FlowRecord[] = [];
  const v = flowVersion(payload);
  const protocol = v === 10 ? 'ipfix' : 'netflow9';
  run.metrics.inc('datagrams', { protocol });
  const replayedBefore = run.metrics.sum('pending_replayed');
  try {
    const emit = (r: FlowRecord) => {
      run.metrics.inc('records', { protocol });
      out.push(r);
    };
    if (v === 10) decodeIpfix(payload, exporter, run.env, emit);
    else decodeNetflow9(payload, exporter, run.env, emit);
  } catch (e) {
    if (e instanceof DecodeError) run.metrics.error(e.reason, exporter.address, protocol, e.message);
    else run.crashes.push(e as Error);
  }
  run.perDatagram.push(out);
  run.replayedPerDatagram.push(run.metrics.sum('pending_replayed') - replayedBefore);
  return out;
}

export function feedAll(run: Run, datagrams: CapturedDatagram[]): FlowRecord[] {
  const all: FlowRecord[] = [];
  for (const d of datagrams) all.push(...feed(run, d.payload, exporterOf(d)));
  return all;
}

// ---------------------------------------------------------------------------------------------------------
// Hand-built wire bytes.

/** Hex text (spaces, newlines and `#` comments allowed) to bytes. */
export function hex(s: string): Buffer {
  const clean = s.replace(/#[^\n]*/g, '').replace(/[^0-9a-fA-F]/g, '');
  if (clean.length % 2 !== 0) throw new Error('odd hex length');
  return Buffer.from(clean, 'hex');
}

export function u16(n: number): string {
  return n.toString(16).padStart(4, '0');
}

export function u32(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

/** An IPFIX message: header (length filled in) and sets given as hex. */
export function ipfixMessage(exportSec: number, seq: number, domain: number, sets: string[]): Buffer {
  const body = hex(sets.join(''));
  return Buffer.concat([hex(u16(10) + u16(16 + body.length) + u32(exportSec) + u32(seq) + u32(domain)), body]);
}

/** An IPFIX set: id and contents, length filled in. */
export function ipfixSet(id: number, contents: string): string {
  const b = hex(contents);
  return u16(id) + u16(4 + b.length) + b.toString('hex');
}

/** A NetFlow v9 packet: header and flowsets given as hex. */
export function v9Packet(sysUptime: number, unixSecs: number, seq: number, sourceId: number, count: number, flowsets: string[]): Buffer {
  return hex(u16(9) + u16(count) + u32(sysUptime) + u32(unixSecs) + u32(seq) + u32(sourceId) + flowsets.join(''));
}

export const v9Flowset = ipfixSet;
