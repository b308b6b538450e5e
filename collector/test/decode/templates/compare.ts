// SPDX-License-Identifier: Apache-2.0
/**
 * Compares our decode of a capture with tshark's, record by record, on the key fields: addresses, ports,
 * protocol, bytes, packets, TCP flags, start/end times and sampling rate. Expected values are computed
 * from tshark's decoded values only (plus the documented precedence rules of
 * src/decode/templates/records.ts where an exporter sends several candidates for one value).
 */
import type { FlowRecord } from '../../../src/decode/types';
import { feedAll, newRun, parseTsharkTime, tsharkPdus, type FlowCapture, type JObject, type Run, type TsharkPdu } from './cflow';

export interface Mismatch {
  datagram: number;
  record: number;
  field: string;
  expected: unknown;
  actual: unknown;
}

export interface CaptureComparison {
  name: string;
  run: Run;
  pdus: TsharkPdu[];
  /** Flow records tshark decoded (options records excluded). */
  tsharkRecords: number;
  /** Options records tshark decoded. */
  tsharkOptionsRecords: number;
  /** Flow records we emitted. */
  ourRecords: number;
  /** tshark records matched with one of ours field by field. */
  matched: number;
  /** Records of ours beyond tshark's in datagrams where held sets were replayed. */
  extraFromReplay: number;
  mismatches: Mismatch[];
  /** Datagram count differs between tshark and our capture reader. */
  pduCountMismatch: boolean;
  /** Data sets tshark left undecoded for want of a template. */
  tsharkUndecodedSets: number;
  tsharkMalformed: boolean;
}

function nums(flow: JObject, key: string): number[] {
  return flow.strs(key).map((s) => (s.startsWith('0x') ? parseInt(s, 16) : Number(s)));
}

/** Sampling state learnt from tshark's own options records, per domain. */
class TsharkOptions {
  private readonly bySampler = new Map<string, number>();
  private readonly bySelector = new Map<string, number>();
  private readonly byDomain = new Map<number, number>();
  private readonly count = new Map<number, number>();
  private readonly last = new Map<number, number>();
  readonly sysInit = new Map<number, number>();

  static rate(f: JObject): number {
    const pop = f.num('cflow.sampling_population');
    const size = f.num('cflow.sampling_size');
    if (pop !== undefined && size !== undefined && size > 0) return pop / size;
    const spi = f.num('cflow.sampling_packet_interval');
    const sps = f.num('cflow.sampling_packet_space');
    if (spi !== undefined && sps !== undefined && spi > 0) return (spi + sps) / spi;
    const si = f.num('cflow.sampling_interval');
    if (si !== undefined && si > 0) return si;
    const ri = f.num('cflow.sampler_random_interval');
    if (ri !== undefined && ri > 0) return ri;
    return 0;
  }

  learn(domain: number, f: JObject): void {
    const rate = TsharkOptions.rate(f);
    const sys = f.str('cflow.sys_init_time');
    if (sys !== undefined) {
      const ms = parseTsharkTime(sys);
      if (ms === ms) this.sysInit.set(domain, ms);
    }
    if (!(rate > 0)) return;
    const sampler = f.str('cflow.sampler_id');
    const selector = f.str('cflow.selector_id');
    if (sampler !== undefined) this.bySampler.set(`${domain}/${sampler}`, rate);
    else if (selector !== undefined) this.bySelector.set(`${domain}/${selector}`, rate);
    else this.byDomain.set(domain, rate);
    if (sampler !== undefined || selector !== undefined) {
      const k = `${domain}/${sampler ?? 's' + selector}`;
      if (!this.seen.has(k)) {
        this.seen.add(k);
        this.count.set(domain, (this.count.get(domain) ?? 0) + 1);
      }
      this.last.set(domain, rate);
    }
  }

  private readonly seen = new Set<string>();

  expected(domain: number, f: JObject): number {
    const own = TsharkOptions.rate(f);
    if (own > 0) return Math.round(own);
    let r = 0;
    const sampler = f.str('cflow.sampler_id');
    const selector = f.str('cflow.selector_id');
    if (sampler !== undefined) r = this.bySampler.get(`${domain}/${sampler}`) ?? 0;
    else if (selector !== undefined) r = this.bySelector.get(`${domain}/${selector}`) ?? 0;
    if (!(r > 0)) r = this.byDomain.get(domain) ?? 0;
    if (!(r > 0) && this.count.get(domain) === 1) r = this.last.get(domain) ?? 0;
    return r > 0 ? Math.round(r) : 1;
  }
}

interface Expect {
  field: string;
  expected: unknown;
  actual: unknown;
}

/** Expected key values of one tshark record against one of ours. */
function check(flow: JObject, rec: FlowRecord, pdu: TsharkPdu, opts: TsharkOptions): Expect[] {
  const out: Expect[] = [];
  const eq = (field: string, expected: unknown, actual: unknown) => {
    if (expected === undefined) return;
    if (expected !== actual) out.push({ field, expected, actual });
  };
  // Addresses: IPv4 unless absent or both 0.0.0.0, then IPv6 (records.ts).
  const s4 = flow.str('cflow.srcaddr');
  const d4 = flow.str('cflow.dstaddr');
  const s6 = flow.str('cflow.srcaddrv6');
  const d6 = flow.str('cflow.dstaddrv6');
  const has4 = s4 !== undefined || d4 !== undefined;
  const has6 = s6 !== undefined || d6 !== undefined;
  const zero4 = (s4 ?? '0.0.0.0') === '0.0.0.0' && (d4 ?? '0.0.0.0') === '0.0.0.0';
  if (has4 && !(has6 && zero4)) {
    eq('srcAddr', s4 ?? null, rec.srcAddr);
    eq('dstAddr', d4 ?? null, rec.dstAddr);
  } else if (has6) {
    eq('srcAddr', s6 ?? null, rec.srcAddr);
    eq('dstAddr', d6 ?? null, rec.dstAddr);
  }
  eq('srcPort', flow.num('cflow.srcport'), rec.srcPort);
  eq('dstPort', flow.num('cflow.dstport'), rec.dstPort);
  eq('ipProtocol', flow.num('cflow.protocol'), rec.ipProtocol);

  // Counters: tshark shows forward and reverse octetDeltaCount both as cflow.octets, in template order.
  const counter = (field: string, keys: string[], fwd: number | null, rev: number | null) => {
    for (const k of keys) {
      const v = nums(flow, k);
      if (v.length === 0) continue;
      if (v.length === 1) eq(field, v[0], fwd);
      else {
        const exp = [...v].sort((a, b) => a - b).join(',');
        const act = [fwd, rev].map(Number).sort((a, b) => a - b).join(',');
        eq(`${field}+reverse`, exp, act);
      }
      return;
    }
  };
  counter('bytes', ['cflow.octets', 'cflow.initiator_octets', 'cflow.permanent_octets', 'cflow.post_octets'], rec.bytes, rec.reverseBytes);
  counter('packets', ['cflow.packets', 'cflow.initiator_packets', 'cflow.permanent_packets', 'cflow.post_packets'], rec.packets, rec.reversePackets);
  const flags = nums(flow, 'cflow.tcpflags');
  if (flags.length > 0) eq('tcpFlags', flags[0], rec.tcpFlags);

  // Times. tshark puts them in one or more cflow.timedelta_tree objects (one per start/end pair of elements)
  // or, for a lone start, straight into the record.
  const trees = flow.entries.filter(([k, v]) => k === 'cflow.timedelta_tree' && typeof v === 'object' && v !== null).map(([, v]) => v as JObject);
  const relZero = (): number | undefined => {
    if (pdu.sysUptimeMs !== null) return pdu.exportSec * 1000 - (pdu.sysUptimeMs | 0);
    return opts.sysInit.get(pdu.domain);
  };
  const absAll = (k: string): number[] => {
    const out: number[] = [];
    for (const o of [flow, ...trees]) {
      for (const s of o.strs(k)) {
        const ms = parseTsharkTime(s);
        // tshark 4.0 prints a sysUpTime-relative time of 0 as 1970-01-01T00:00:00 (it takes the zero for an
        // absent base): that is relative time 0, handled below.
        if (ms === ms && ms !== 0) out.push(ms);
      }
    }
    return out;
  };
  const relOf = (k: string, absKey: string): number | undefined => {
    for (const o of [flow, ...trees]) {
      const s = o.str(k);
      if (s !== undefined) {
        const up = Math.round(Number(s) * 1000);
        if (pdu.sysUptimeMs !== null) return pdu.exportSec * 1000 - ((pdu.sysUptimeMs - up) | 0);
        const init = opts.sysInit.get(pdu.domain);
        return init === undefined ? undefined : init + up;
      }
      if (o.strs(absKey).some((x) => parseTsharkTime(x) === 0)) return relZero();
    }
    return undefined;
  };
  // Absolute elements win; of several, the finer (records.ts): prefer one with a sub-second part.
  const pick = (v: number[]) => (v.length === 0 ? undefined : v.find((x) => x % 1000 !== 0) ?? v[0]);
  const expStart = pick(absAll('cflow.abstimestart')) ?? relOf('cflow.timestart', 'cflow.abstimestart');
  const expEnd = pick(absAll('cflow.abstimeend')) ?? relOf('cflow.timeend', 'cflow.abstimeend');
  eq('startMs', expStart, rec.startMs);
  // A lone start: our end is then observation time or start + duration; only compare ends tshark shows.
  eq('endMs', expEnd, rec.endMs);
  eq('samplingRate', opts.expected(pdu.domain, flow), rec.samplingRate);
  eq('sourceId', pdu.domain, rec.sourceId);
  eq('sequence', pdu.sequence, rec.sequence);
  eq('exportTimeMs', pdu.exportSec * 1000, rec.exportTimeMs);
  eq('sysUptimeMs', pdu.sysUptimeMs, rec.sysUptimeMs);
  return out;
}

/** Feeds a capture through a fresh env and compares with tshark. */
export function compareCapture(cap: FlowCapture): CaptureComparison {
  const run = newRun();
  feedAll(run, cap.datagrams);
  const pdus = tsharkPdus(cap.path, cap.ports);
  const res: CaptureComparison = {
    name: cap.name,
    run,
    pdus,
    tsharkRecords: 0,
    tsharkOptionsRecords: 0,
    ourRecords: run.perDatagram.reduce((n, r) => n + r.length, 0),
    matched: 0,
    extraFromReplay: 0,
    mismatches: [],
    pduCountMismatch: pdus.length !== cap.datagrams.length,
    tsharkUndecodedSets: pdus.reduce((n, p) => n + p.undecodedSets, 0),
    tsharkMalformed: pdus.some((p) => p.malformed),
  };
  if (res.pduCountMismatch) return res;
  const opts = new TsharkOptions();
  for (let i = 0; i < pdus.length; i++) {
    const pdu = pdus[i];
    const ours = run.perDatagram[i];
    const theirs = pdu.records.filter((r) => !r.options);
    res.tsharkRecords += theirs.length;
    // tshark decodes in set order: options records of this datagram apply to data after them, and ours do
    // the same. Learn them all first: no capture mixes an options update and affected data in one datagram.
    for (const r of pdu.records) {
      if (r.options) {
        res.tsharkOptionsRecords++;
        opts.learn(pdu.domain, r.flow);
      }
    }
    // Our extra records are expected where held sets were replayed, and where tshark left data sets
    // undecoded that we could decode (tshark keys templates by source port too; we key by address).
    const replayed = run.replayedPerDatagram[i] > 0 || pdu.undecodedSets > 0;
    let j = 0;
    for (let k = 0; k < theirs.length; k++) {
      const t = theirs[k];
      let matchedHere = false;
      let firstDiff: Expect[] | null = null;
      // With replays, our extra records (held sets) may sit anywhere before tshark's next record.
      for (let jj = j; jj < ours.length; jj++) {
        const diff = check(t.flow, ours[jj], pdu, opts);
        if (diff.length === 0) {
          res.extraFromReplay += jj - j;
          j = jj + 1;
          matchedHere = true;
          break;
        }
        if (firstDiff === null) firstDiff = diff;
        if (!replayed) break;
      }
      if (matchedHere) {
        res.matched++;
        continue;
      }
      if (j < ours.length && firstDiff) {
        for (const d of firstDiff) res.mismatches.push({ datagram: i, record: k, ...d });
        j++;
      } else {
        res.mismatches.push({ datagram: i, record: k, field: 'missing', expected: 'record', actual: null });
      }
    }
    if (j < ours.length) {
      if (replayed) res.extraFromReplay += ours.length - j;
      else res.mismatches.push({ datagram: i, record: theirs.length, field: 'extra', expected: theirs.length, actual: ours.length });
    }
  }
  return res;
}
