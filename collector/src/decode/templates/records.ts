// SPDX-License-Identifier: Apache-2.0
/**
 * Template-driven record decoding shared by the NetFlow v9 and IPFIX decoders: a template is compiled once
 * into a layout (typed arrays of lengths, reader kinds and roles, resolved from the registry when the template
 * arrives), and each data record is then read by one tight loop over that layout. The loop writes every
 * element into `fields` by its snake_case name and copies the elements the collector understands into a
 * reusable scratch array of "roles" (addresses, ports, counters, timestamps, sampling, ...), from which the
 * normalized `FlowRecord` is built with a fixed precedence.
 *
 * Fixed-length layouts are also compiled into one generated reader function per template (compile.ts,
 * PERFORMANCE.md §4 lesson 5); the interpreter here reads the rest (variable-length fields) and defines the
 * semantics both share.
 *
 * Precedence rules (documented here because they decide what the dashboards show):
 * - bytes: octetDeltaCount (1) > initiatorOctets (231, Cisco ASA NSEL) > octetTotalCount (85) >
 *   postOctetDeltaCount (23, v9 OUT_BYTES) > postOctetTotalCount (171); packets likewise with 2 > 298 >
 *   86 > 24 > 172. Initiator counts win over totals because ASA sends both and the total covers both
 *   directions, which would double count once the responder counts are added as the reverse direction.
 * - reverse (biflow) bytes: reverseOctetDeltaCount (PEN 29305/1) > responderOctets (232) >
 *   reverseOctetTotalCount (29305/85); packets 29305/2 > 299 > 29305/86.
 * - addresses: IPv4 elements (8/12) unless absent or both 0.0.0.0, then IPv6 (27/28).
 * - ports: sourceTransportPort/destinationTransportPort (7/11), else udp/tcp Source/DestinationPort (180-183).
 * - ICMP: icmpTypeCodeIPv4/IPv6 (32/139) > icmpType/CodeIPv4/IPv6 (176-179) > for protocol 1/58 the
 *   destination port, where NetFlow exporters traditionally put type * 256 + code.
 * - interfaces: ingress/egressInterface (10/14) > ingress/egressPhysicalInterface (252/253).
 * - sampling rate: the record's own fields (samplingInterval 34, samplerRandomInterval 50,
 *   samplingPopulation/samplingSize 310/309, (samplingPacketInterval + samplingPacketSpace) /
 *   samplingPacketInterval 305/306, 1/samplingProbability 311) > options data for the record's sampler id
 *   (48) or selector id (302) > options data without a sampler/selector id for the domain > the only rate
 *   the domain has, when it has exactly one > 1.
 * - start/end: absolute elements, flowStart/End Milli/Micro/Nanoseconds (152-157) > flowStart/EndSeconds
 *   (150/151) >
 *   flowStart/EndDeltaMicroseconds (158/159, before export time) > flowStart/EndSysUpTime (22/21): for v9
 *   relative to the header's sysUptime (abs = exportTime - (sysUptime - switched), with 32-bit wrap), for
 *   IPFIX relative to systemInitTimeMilliseconds (160) from the record or the domain's options data >
 *   a missing side from the other side and flowDurationMilli/Microseconds (161/162) > both from
 *   observationTime* (322-325) when nothing else is there.
 */
import { Kind, lookupIpfix, lookupV9, lookupV9Scope, readValue, REVERSE_PEN, V9_SCOPE_INTERFACE } from '../registry';
import { newFlowRecord } from '../types';
import type { DecodeEnv, EmitRecord, ExporterInfo, FieldValue, FlowRecord } from '../types';
import type { DatagramHeader, DomainState, Template, TemplateProtocol, TemplateStore } from './store';
import { VARIABLE_LENGTH } from './store';
import { compileReader, HELPERS, type CompiledReader } from './compile';

/** What the NetFlow v9 and IPFIX decoders need besides the bytes: metrics and the template store. */
export interface TemplateDecodeEnv extends DecodeEnv {
  templates: TemplateStore;
}

// Roles: numeric ones index NUM, string ones index STR (offset by STR_BASE).
const R = {
  NONE: 0,
  SRC_PORT: 1,
  DST_PORT: 2,
  UDP_SRC: 3,
  UDP_DST: 4,
  TCP_SRC: 5,
  TCP_DST: 6,
  PROTO: 7,
  TCP_FLAGS: 8,
  ICMP_TC4: 9,
  ICMP_TC6: 10,
  ICMP_T4: 11,
  ICMP_C4: 12,
  ICMP_T6: 13,
  ICMP_C6: 14,
  OCT_DELTA: 15,
  PKT_DELTA: 16,
  OCT_TOTAL: 17,
  PKT_TOTAL: 18,
  INIT_OCT: 19,
  RESP_OCT: 20,
  INIT_PKT: 21,
  RESP_PKT: 22,
  POST_OCT_DELTA: 23,
  POST_PKT_DELTA: 24,
  POST_OCT_TOTAL: 25,
  POST_PKT_TOTAL: 26,
  REV_OCT_DELTA: 27,
  REV_PKT_DELTA: 28,
  REV_OCT_TOTAL: 29,
  REV_PKT_TOTAL: 30,
  IN_IF: 31,
  OUT_IF: 32,
  IN_PHYS: 33,
  OUT_PHYS: 34,
  SAMPLING_INTERVAL: 35,
  SAMPLER_RANDOM: 36,
  SAMPLER_ID: 37,
  SELECTOR_ID: 38,
  SPI: 39,
  SPS: 40,
  SSIZE: 41,
  SPOP: 42,
  SPROB: 43,
  START_ABS: 44,
  END_ABS: 45,
  START_DELTA_US: 46,
  END_DELTA_US: 47,
  START_UP: 48,
  END_UP: 49,
  SYS_INIT: 50,
  DUR_MS: 51,
  DUR_US: 52,
  OBS_TIME: 53,
  IP_VERSION: 54,
  SCOPE_IF: 55,
  START_SEC: 56,
  END_SEC: 57,
  // string roles
  SRC4: 64,
  DST4: 65,
  SRC6: 66,
  DST6: 67,
  IF_NAME: 68,
} as const;
const NUM_SLOTS = 58;
const STR_BASE = 64;
const STR_SLOTS = 5;

/** Roles of IANA elements (pen 0), by element id; v9 types share the numbers below 32768. */
const IANA_ROLES: Array<[number, number]> = [
  [1, R.OCT_DELTA], [2, R.PKT_DELTA], [4, R.PROTO], [6, R.TCP_FLAGS], [7, R.SRC_PORT], [8, R.SRC4],
  [10, R.IN_IF], [11, R.DST_PORT], [12, R.DST4], [14, R.OUT_IF], [21, R.END_UP], [22, R.START_UP],
  [23, R.POST_OCT_DELTA], [24, R.POST_PKT_DELTA], [27, R.SRC6], [28, R.DST6], [32, R.ICMP_TC4],
  [34, R.SAMPLING_INTERVAL], [48, R.SAMPLER_ID], [50, R.SAMPLER_RANDOM], [60, R.IP_VERSION], [82, R.IF_NAME],
  [85, R.OCT_TOTAL], [86, R.PKT_TOTAL], [139, R.ICMP_TC6],
  [150, R.START_SEC], [151, R.END_SEC], [152, R.START_ABS], [153, R.END_ABS], [154, R.START_ABS],
  [155, R.END_ABS], [156, R.START_ABS], [157, R.END_ABS], [158, R.START_DELTA_US], [159, R.END_DELTA_US],
  [160, R.SYS_INIT], [161, R.DUR_MS], [162, R.DUR_US], [171, R.POST_OCT_TOTAL], [172, R.POST_PKT_TOTAL],
  [176, R.ICMP_T4], [177, R.ICMP_C4], [178, R.ICMP_T6], [179, R.ICMP_C6], [180, R.UDP_SRC], [181, R.UDP_DST],
  [182, R.TCP_SRC], [183, R.TCP_DST], [231, R.INIT_OCT], [232, R.RESP_OCT], [252, R.IN_PHYS], [253, R.OUT_PHYS],
  [298, R.INIT_PKT], [299, R.RESP_PKT], [302, R.SELECTOR_ID], [305, R.SPI], [306, R.SPS], [309, R.SSIZE],
  [310, R.SPOP], [311, R.SPROB], [322, R.OBS_TIME], [323, R.OBS_TIME], [324, R.OBS_TIME], [325, R.OBS_TIME],
];
const ROLE_BY_ID = new Uint8Array(512);
for (const [id, role] of IANA_ROLES) ROLE_BY_ID[id] = role;

/** RFC 5103 reverse elements the record uses (the rest only go into `fields`). */
function reverseRole(id: number): number {
  switch (id) {
    case 1:
      return R.REV_OCT_DELTA;
    case 2:
      return R.REV_PKT_DELTA;
    case 85:
      return R.REV_OCT_TOTAL;
    case 86:
      return R.REV_PKT_TOTAL;
    default:
      return R.NONE;
  }
}

/** A template compiled for reading: one entry per field. */
export interface Layout {
  readonly count: number;
  /** Length in bytes, -1 for variable length. */
  readonly lens: Int32Array;
  readonly kinds: Uint8Array;
  readonly roles: Uint8Array;
  readonly names: readonly string[];
  /** Generated reader for this layout (compile.ts), null when the interpreter reads it. */
  readonly reader: CompiledReader | null;
}

/**
 * Compiles a template's fields into a layout; done once per template (not per record). Zero-length fields
 * carry nothing and are left out, which also bounds the work per record by the record's length: a hostile
 * template of 16 000 empty fields and one 1-byte field would otherwise cost 16 000 steps per byte of data.
 */
export function compileLayout(proto: TemplateProtocol, t: Template): Layout {
  const fields = t.fields.filter((f) => f.length !== 0);
  const n = fields.length;
  const lens = new Int32Array(n);
  const kinds = new Uint8Array(n);
  const roles = new Uint8Array(n);
  const names: string[] = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const f = fields[i];
    lens[i] = f.length === VARIABLE_LENGTH ? -1 : f.length;
    let role: number = R.NONE;
    if (proto === 'netflow9' && f.scope) {
      const e = lookupV9Scope(f.id);
      kinds[i] = e.kind;
      names[i] = e.snake;
      if (f.id === V9_SCOPE_INTERFACE) role = R.SCOPE_IF;
    } else {
      const e = proto === 'netflow9' ? lookupV9(f.id) : lookupIpfix(f.id, f.pen);
      kinds[i] = e.kind;
      names[i] = e.snake;
      if (f.pen === 0) role = f.id < ROLE_BY_ID.length ? ROLE_BY_ID[f.id] : R.NONE;
      else if (f.pen === REVERSE_PEN) role = reverseRole(f.id);
    }
    roles[i] = role;
  }
  const base = { count: n, lens, kinds, roles, names };
  let reader: CompiledReader | null = null;
  if (useCompiledReaders) {
    try {
      reader = compileReader(base, STR_BASE, [R.SRC4, R.DST4], [R.SRC6, R.DST6]);
    } catch {
      reader = null; // e.g. code generation disallowed in this process: the interpreter reads the records
    }
  }
  return { ...base, reader };
}

let useCompiledReaders = true;

/** Turns generated per-template readers on or off (tests compare both paths; both read alike). */
export function setCompiledReaders(on: boolean): void {
  useCompiledReaders = on;
}

/** The layout of a template, compiled on first use and kept with the template. */
export function layoutOf(proto: TemplateProtocol, t: Template): Layout {
  let l = t.compiled as Layout | null;
  if (!l) {
    l = compileLayout(proto, t);
    t.compiled = l;
  }
  return l;
}

// Scratch of the record being read. Module-level and reused: one record is read at a time, synchronously,
// so there is nothing to share and nothing to allocate per record (STYLE.md §8).
const NUM = new Float64Array(NUM_SLOTS);
const STR: Array<string | null> = new Array<string | null>(STR_SLOTS).fill(null);
const HOLDER: { f: Record<string, FieldValue> } = { f: {} };

/**
 * Reads one record at `off` into `fields` (and the role scratch). Returns the offset after the record, or
 * -1 when a field runs past `end` (a variable length that does not fit, or a truncated record).
 */
export function readRecord(layout: Layout, buf: Buffer, off: number, end: number, fields: Record<string, FieldValue>): number {
  NUM.fill(NaN);
  STR[0] = STR[1] = STR[2] = STR[3] = STR[4] = null;
  const { count, lens, kinds, roles, names } = layout;
  for (let i = 0; i < count; i++) {
    let len = lens[i];
    if (len < 0) {
      // Variable length (RFC 7011 §7): one length octet, or 255 and a 2-octet length.
      if (off >= end) return -1;
      len = buf[off++];
      if (len === 255) {
        if (off + 2 > end) return -1;
        len = buf.readUInt16BE(off);
        off += 2;
      }
    }
    if (off + len > end) return -1;
    const kind = kinds[i];
    // Zero-length fields (RFC 7011 allows them in templates; exporters send them) carry nothing.
    if (len === 0 || kind === Kind.PADDING) {
      off += len;
      continue;
    }
    const v = readValue(kind as Kind, buf, off, len);
    const role = roles[i];
    if (role !== R.NONE) {
      if (role >= STR_BASE) {
        // Addresses only when the length is right; a 2-byte "IPv4 address" (H3C) is not one.
        if ((role === R.SRC4 || role === R.DST4) && len !== 4) {
          /* keep only in fields */
        } else if ((role === R.SRC6 || role === R.DST6) && len !== 16) {
          /* keep only in fields */
        } else if (STR[role - STR_BASE] === null && typeof v === 'string') {
          STR[role - STR_BASE] = v;
        }
      } else if (len <= 8 && NUM[role] !== NUM[role]) {
        // First occurrence wins; numeric roles need a number (decimal strings above 2^53 lose precision).
        NUM[role] = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : v ? 1 : 0;
      }
    }
    const name = names[i];
    const prev = fields[name];
    if (prev === undefined) fields[name] = v;
    else if (Array.isArray(prev)) prev.push(v as number | string);
    else fields[name] = [prev as number | string, v as number | string];
    off += len;
  }
  return off;
}

function has(x: number): boolean {
  return x === x; // not NaN
}

/** Sampling rate carried by the record just read (0 when none). */
function ownSamplingRate(): number {
  if (has(NUM[R.SPOP]) && NUM[R.SSIZE] > 0) return NUM[R.SPOP] / NUM[R.SSIZE];
  if (NUM[R.SPI] > 0 && has(NUM[R.SPS])) return (NUM[R.SPI] + NUM[R.SPS]) / NUM[R.SPI];
  if (NUM[R.SAMPLING_INTERVAL] > 0) return NUM[R.SAMPLING_INTERVAL];
  if (NUM[R.SAMPLER_RANDOM] > 0) return NUM[R.SAMPLER_RANDOM];
  if (NUM[R.SPROB] > 0 && NUM[R.SPROB] <= 1) return 1 / NUM[R.SPROB];
  return 0;
}

/** Options data record just read: learn sampling rates, interface names and the system init time. */
function learnOptions(store: TemplateStore, ds: DomainState): void {
  const rate = ownSamplingRate();
  if (rate > 0) {
    const r = Math.round(rate);
    if (has(NUM[R.SAMPLER_ID])) store.setOption(ds.samplerRates, NUM[R.SAMPLER_ID], r);
    else if (has(NUM[R.SELECTOR_ID])) store.setOption(ds.selectorRates, NUM[R.SELECTOR_ID], r);
    else ds.defaultRate = r;
  }
  const name = STR[R.IF_NAME - STR_BASE];
  if (name !== null) {
    const idx = has(NUM[R.SCOPE_IF])
      ? NUM[R.SCOPE_IF]
      : has(NUM[R.IN_IF])
        ? NUM[R.IN_IF]
        : has(NUM[R.OUT_IF])
          ? NUM[R.OUT_IF]
          : has(NUM[R.IN_PHYS])
            ? NUM[R.IN_PHYS]
            : NUM[R.OUT_PHYS];
    if (has(idx)) store.setOption(ds.interfaceNames, idx, name);
  }
  if (NUM[R.SYS_INIT] > 0) ds.systemInitMs = NUM[R.SYS_INIT];
}

function firstOf(a: number, b: number, c: number, d: number, e: number): number {
  return has(a) ? a : has(b) ? b : has(c) ? c : has(d) ? d : e;
}

function orNull(x: number): number | null {
  return x === x ? x : null;
}

/** Converts a sysUpTime-relative time to unix ms; NaN when there is no base. */
function fromUptime(up: number, header: DatagramHeader, sysInit: number): number {
  if (!has(up)) return NaN;
  if (header.sysUptimeMs !== null) {
    // v9: the header says how long the exporter had been up at export time. The signed 32-bit difference
    // copes with the 49.7-day wrap of both counters and with switched times a little after sysUptime.
    return header.exportTimeMs - ((header.sysUptimeMs - up) | 0);
  }
  return has(sysInit) ? sysInit + up : NaN;
}

/** Builds the normalized record from the role scratch (after `readRecord`). */
function buildRecord(
  proto: TemplateProtocol,
  exporter: string,
  header: DatagramHeader,
  ds: DomainState,
  fields: Record<string, FieldValue>,
): FlowRecord {
  const rec = newFlowRecord(proto, exporter);
  rec.sourceId = header.domain;
  rec.exportTimeMs = header.exportTimeMs;
  rec.sysUptimeMs = header.sysUptimeMs;
  rec.sequence = header.sequence;
  rec.fields = fields;

  // Addresses.
  const s4 = STR[R.SRC4 - STR_BASE];
  const d4 = STR[R.DST4 - STR_BASE];
  const s6 = STR[R.SRC6 - STR_BASE];
  const d6 = STR[R.DST6 - STR_BASE];
  const has4 = s4 !== null || d4 !== null;
  const has6 = s6 !== null || d6 !== null;
  const zero4 = (s4 === null || s4 === '0.0.0.0') && (d4 === null || d4 === '0.0.0.0');
  if (has4 && !(has6 && zero4)) {
    rec.ipVersion = 4;
    rec.srcAddr = s4;
    rec.dstAddr = d4;
  } else if (has6) {
    rec.ipVersion = 6;
    rec.srcAddr = s6;
    rec.dstAddr = d6;
  } else if (NUM[R.IP_VERSION] === 4 || NUM[R.IP_VERSION] === 6) {
    rec.ipVersion = NUM[R.IP_VERSION] as 4 | 6;
  }

  rec.srcPort = orNull(has(NUM[R.SRC_PORT]) ? NUM[R.SRC_PORT] : has(NUM[R.UDP_SRC]) ? NUM[R.UDP_SRC] : NUM[R.TCP_SRC]);
  rec.dstPort = orNull(has(NUM[R.DST_PORT]) ? NUM[R.DST_PORT] : has(NUM[R.UDP_DST]) ? NUM[R.UDP_DST] : NUM[R.TCP_DST]);
  rec.ipProtocol = orNull(NUM[R.PROTO]);

  // ICMP type and code.
  const tc = has(NUM[R.ICMP_TC4]) ? NUM[R.ICMP_TC4] : NUM[R.ICMP_TC6];
  if (has(tc)) {
    rec.icmpType = (tc >>> 8) & 255;
    rec.icmpCode = tc & 255;
  } else if (has(NUM[R.ICMP_T4]) || has(NUM[R.ICMP_C4])) {
    rec.icmpType = orNull(NUM[R.ICMP_T4]);
    rec.icmpCode = orNull(NUM[R.ICMP_C4]);
  } else if (has(NUM[R.ICMP_T6]) || has(NUM[R.ICMP_C6])) {
    rec.icmpType = orNull(NUM[R.ICMP_T6]);
    rec.icmpCode = orNull(NUM[R.ICMP_C6]);
  } else if ((rec.ipProtocol === 1 || rec.ipProtocol === 58) && rec.dstPort !== null) {
    rec.icmpType = (rec.dstPort >>> 8) & 255;
    rec.icmpCode = rec.dstPort & 255;
  }

  // Counters.
  rec.bytes = orNull(firstOf(NUM[R.OCT_DELTA], NUM[R.INIT_OCT], NUM[R.OCT_TOTAL], NUM[R.POST_OCT_DELTA], NUM[R.POST_OCT_TOTAL]));
  rec.packets = orNull(firstOf(NUM[R.PKT_DELTA], NUM[R.INIT_PKT], NUM[R.PKT_TOTAL], NUM[R.POST_PKT_DELTA], NUM[R.POST_PKT_TOTAL]));
  rec.reverseBytes = orNull(firstOf(NUM[R.REV_OCT_DELTA], NUM[R.RESP_OCT], NUM[R.REV_OCT_TOTAL], NaN, NaN));
  rec.reversePackets = orNull(firstOf(NUM[R.REV_PKT_DELTA], NUM[R.RESP_PKT], NUM[R.REV_PKT_TOTAL], NaN, NaN));

  rec.tcpFlags = orNull(NUM[R.TCP_FLAGS]);
  rec.inputInterface = orNull(has(NUM[R.IN_IF]) ? NUM[R.IN_IF] : NUM[R.IN_PHYS]);
  rec.outputInterface = orNull(has(NUM[R.OUT_IF]) ? NUM[R.OUT_IF] : NUM[R.OUT_PHYS]);
  if (ds.interfaceNames.size > 0) {
    if (rec.inputInterface !== null) rec.inputInterfaceName = ds.interfaceNames.get(rec.inputInterface) ?? null;
    if (rec.outputInterface !== null) rec.outputInterfaceName = ds.interfaceNames.get(rec.outputInterface) ?? null;
  }

  // Sampling.
  let rate = ownSamplingRate();
  if (!(rate > 0)) {
    if (has(NUM[R.SAMPLER_ID])) rate = ds.samplerRates.get(NUM[R.SAMPLER_ID]) ?? 0;
    else if (has(NUM[R.SELECTOR_ID])) rate = ds.selectorRates.get(NUM[R.SELECTOR_ID]) ?? 0;
    if (!(rate > 0)) rate = ds.defaultRate;
    if (!(rate > 0)) {
      // One sampler for the whole domain: unambiguous even when the records do not name it.
      if (ds.samplerRates.size + ds.selectorRates.size === 1) {
        for (const r of ds.samplerRates.values()) rate = r;
        for (const r of ds.selectorRates.values()) rate = r;
      }
    }
  }
  rec.samplingRate = rate > 0 ? Math.round(rate) : 1;

  // Start and end.
  // Milli/micro/nanosecond elements are finer than the seconds ones when an exporter sends both.
  let start = has(NUM[R.START_ABS]) ? NUM[R.START_ABS] : NUM[R.START_SEC];
  let end = has(NUM[R.END_ABS]) ? NUM[R.END_ABS] : NUM[R.END_SEC];
  if (!has(start) && has(NUM[R.START_DELTA_US])) start = header.exportTimeMs - Math.round(NUM[R.START_DELTA_US] / 1000);
  if (!has(end) && has(NUM[R.END_DELTA_US])) end = header.exportTimeMs - Math.round(NUM[R.END_DELTA_US] / 1000);
  const sysInit = has(NUM[R.SYS_INIT]) ? NUM[R.SYS_INIT] : ds.systemInitMs ?? NaN;
  if (!has(start)) start = fromUptime(NUM[R.START_UP], header, sysInit);
  if (!has(end)) end = fromUptime(NUM[R.END_UP], header, sysInit);
  const dur = has(NUM[R.DUR_MS]) ? NUM[R.DUR_MS] : has(NUM[R.DUR_US]) ? NUM[R.DUR_US] / 1000 : NaN;
  if (has(dur)) {
    if (has(start) && !has(end)) end = start + Math.round(dur);
    else if (has(end) && !has(start)) start = end - Math.round(dur);
  }
  if (!has(start) && !has(end) && has(NUM[R.OBS_TIME])) start = end = NUM[R.OBS_TIME];
  rec.startMs = orNull(start);
  rec.endMs = orNull(end);
  return rec;
}

/** Counts of one data set's decode. */
export interface SetResult {
  records: number;
  optionsRecords: number;
  /** A record did not fit (variable length past the set end): the rest of the set was skipped. */
  badRecord: boolean;
}

/**
 * Decodes the records of one data set (`buf[off, end)`) with its template: flow records are emitted,
 * options records update the domain's options data. Records are read while a minimal record still fits;
 * what is left is set padding.
 */
export function decodeDataSet(
  proto: TemplateProtocol,
  t: Template,
  buf: Buffer,
  off: number,
  end: number,
  header: DatagramHeader,
  exporter: ExporterInfo,
  env: TemplateDecodeEnv,
  emit: EmitRecord,
): SetResult {
  const result: SetResult = { records: 0, optionsRecords: 0, badRecord: false };
  const layout = layoutOf(proto, t);
  const ds = env.templates.domainForOptions(proto, exporter.address, header.domain);
  const min = t.minRecordLength;
  if (min <= 0) return result; // refused at template time; guard against an endless loop anyway
  const reader = layout.reader;
  while (off + min <= end) {
    let fields: Record<string, FieldValue>;
    let next: number;
    if (reader !== null) {
      NUM.fill(NaN);
      STR[0] = STR[1] = STR[2] = STR[3] = STR[4] = null;
      next = reader(buf, off, end, NUM, STR, HELPERS, HOLDER);
      fields = HOLDER.f;
    } else {
      fields = {};
      next = readRecord(layout, buf, off, end, fields);
    }
    if (next < 0) {
      result.badRecord = true;
      break;
    }
    off = next;
    if (t.options) {
      learnOptions(env.templates, ds);
      result.optionsRecords++;
    } else {
      const rec = buildRecord(proto, exporter.address, header, ds, fields);
      result.records++;
      emit(rec);
    }
  }
  return result;
}
