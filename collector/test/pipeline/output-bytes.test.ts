// SPDX-License-Identifier: Apache-2.0
/**
 * What the per-record path produces must not change when it is made faster: for every document of every
 * shared capture (the code path of `threatflow decode`), with and without threat enrichment, and for
 * hand-made records with awkward values, the line is byte for byte `JSON.stringify(doc)`, `netflow.*` /
 * `sflow.*` has exactly the keys, values and order of the straightforward element-by-element copy spelled
 * out below (the normalizer takes an object-spread fast path when it can), and the same input gives the
 * same bytes twice.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readCaptureFile } from '../../src/capture/pcap';
import { loadConfig } from '../../src/config';
import { newFlowRecord, type FieldValue, type FlowRecord } from '../../src/decode/types';
import { ThreatDbRef } from '../../src/enrich/riskiq-threat/enricher';
import type { ThreatLookup, ThreatMatch } from '../../src/enrich/riskiq-threat/types';
import { createLogger } from '../../src/observability/logger';
import { Metrics } from '../../src/observability/metrics';
import type { Output } from '../../src/output/types';
import { createEnrichers, decoderOptions, normalizerConfig } from '../../src/pipeline/build';
import type { Enricher } from '../../src/pipeline/pipeline';
import { serializeDocument, type EcsDocument } from '../../src/pipeline/ecs';
import { createNormalizer } from '../../src/pipeline/normalize';
import { Pipeline } from '../../src/pipeline/pipeline';

const ROOT = join(__dirname, '..', '..', '..');
const DIRS = [join(ROOT, '..', 'shared', 'testdata'), join(ROOT, 'collector', 'test', 'exporters', 'captures')];

function walk(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (/\.(pcap|pcapng)(\.gz)?$/.test(e)) out.push(p);
  }
  return out;
}

const FILES = [...DIRS.flatMap((d) => walk(d))].sort();

/** Lists every address, with tags that need escaping now and then, so every document gets threat fields. */
const EVERYTHING: ThreatLookup = {
  info: { fetchedAt: 0, source: 'test' } as unknown as ThreatLookup['info'],
  lookup(ip: string): ThreatMatch | null {
    const odd = ip.endsWith('1');
    return {
      indicator: ip,
      prefixLength: ip.includes(':') ? 128 : 32,
      tags: odd ? ['scanner', 'quote " back\\slash \u0001 é 😀'] : ['c2'],
      firstSeen: odd ? 1_700_000_000_000 : undefined,
      confidence: odd ? '85' : undefined,
    };
  },
};

/** `netflow.*` / `sflow.*` built the obvious way: exporter, then each element, dotted names nested. */
function referenceFields(doc: EcsDocument, rec: FlowRecord): Record<string, unknown> {
  const src = (doc.netflow ?? doc.sflow)!;
  const to: Record<string, unknown> = { exporter: src.exporter };
  for (const [key, value] of Object.entries(rec.fields) as Array<[string, FieldValue | null | undefined]>) {
    if (value === undefined || value === null) continue;
    const parts = key.split('.');
    if (parts[0] === 'exporter' || parts[0] === 'sampling_rate') continue;
    let node = to;
    for (let i = 0; i < parts.length - 1; i++) {
      const next = node[parts[i]];
      if (typeof next === 'object' && next !== null && !Array.isArray(next)) node = next as Record<string, unknown>;
      else node = node[parts[i]] = {};
    }
    node[parts[parts.length - 1]] = value;
  }
  if (rec.tcpFlags !== null) to.tcp_control_bits = rec.tcpFlags;
  if (rec.protocol === 'sflow5') to.sampling_rate = src.sampling_rate;
  return to;
}

/** Runs after the normalizer: checks `netflow.*` / `sflow.*` against the reference. */
class FieldsCheck implements Enricher {
  readonly name = 'fields-check';
  checked = 0;
  mismatches: string[] = [];
  enrich(doc: EcsDocument, rec: FlowRecord): void {
    const got = JSON.stringify(doc.netflow ?? doc.sflow);
    const want = JSON.stringify(referenceFields(doc, rec));
    if (got !== want && this.mismatches.length < 3) this.mismatches.push(`${got}\n!==\n${want}`);
    this.checked++;
  }
}

/** Keeps each document and its line as the pipeline hands them to the outputs. */
class Capture implements Output {
  readonly name = 'capture';
  docs: Array<{ doc: EcsDocument; line: string }> = [];
  metrics = new Metrics();
  /** Sum of handleDatagram's return values. */
  returned = 0;
  async start(): Promise<void> {}
  write(doc: EcsDocument, line: string): void {
    this.docs.push({ doc, line });
  }
  async flush(): Promise<void> {}
  async stop(): Promise<void> {}
}

function run(files: string[], enriched: boolean, check?: FieldsCheck): Capture {
  const config = loadConfig({}).config;
  const out = new Capture();
  const metrics = out.metrics;
  let threatDb: ThreatDbRef | undefined;
  if (enriched) {
    threatDb = new ThreatDbRef();
    threatDb.set(EVERYTHING);
  }
  let clock = 0;
  const pipeline = new Pipeline({
    decode: decoderOptions(config),
    normalize: normalizerConfig(config),
    enrichers: [...(check ? [check] : []), ...createEnrichers(config, threatDb ? { metrics, threatDb } : { metrics })],
    outputs: [out],
    metrics,
    log: createLogger({ level: 'fatal' }),
    now: () => clock,
  });
  for (const f of files) {
    let dgs;
    try {
      dgs = readCaptureFile(f);
    } catch {
      continue;
    }
    for (const d of dgs) {
      clock = Math.floor(d.timeMs);
      out.returned += pipeline.handleDatagram(d.payload, { address: d.srcAddr, port: d.srcPort, receivedMs: clock });
    }
  }
  return out;
}

describe('per-record output', () => {
  it('finds the shared captures', () => {
    expect(FILES.length).toBeGreaterThan(5);
  });

  for (const enriched of [false, true]) {
    it(`writes JSON.stringify's bytes for every document of every capture${enriched ? ', enriched' : ''}`, () => {
      const check = new FieldsCheck();
      const out = run(FILES, enriched, check);
      expect(check.mismatches).toEqual([]);
      expect(check.checked).toBe(out.docs.length);
      // Records are counted once per datagram now: the totals must still match.
      expect(out.metrics.sum('records')).toBe(out.docs.length);
      expect(out.returned).toBe(out.docs.length);
      for (const p of ['netflow5', 'netflow9', 'ipfix', 'sflow5']) {
        const docs = out.docs.filter(({ doc }) => (p === 'sflow5' ? doc.sflow !== undefined : doc.netflow?.exporter.version === { netflow5: 5, netflow9: 9, ipfix: 10 }[p]));
        expect(out.metrics.get('records', { protocol: p })).toBe(docs.length);
      }
      expect(out.docs.length).toBeGreaterThan(1000);
      const protocols = new Set<string>();
      let threat = 0;
      for (const { doc, line } of out.docs) {
        const expected = JSON.stringify(doc);
        if (line !== expected) {
          // Deep-equal first for a readable diff, then bytes.
          expect(JSON.parse(line)).toEqual(JSON.parse(expected));
          expect(line).toBe(expected);
        }
        expect(serializeDocument(doc)).toBe(line);
        protocols.add(doc.netflow ? `netflow${doc.netflow.exporter.version}` : 'sflow');
        if (doc.threat) threat++;
      }
      expect([...protocols].sort()).toEqual(['netflow10', 'netflow5', 'netflow9', 'sflow']);
      if (enriched) expect(threat).toBeGreaterThan(100);
    });
  }

  it('is deterministic: the same captures give the same bytes', () => {
    const files = FILES.slice(0, 8);
    const a = run(files, true).docs.map((d) => d.line);
    const b = run(files, true).docs.map((d) => d.line);
    expect(b).toEqual(a);
  });

  it('handles awkward records: null values, dotted and reserved names, escapes', () => {
    const n = createNormalizer({ timestampSource: 'end', communityIdEnable: true, communityIdSeed: 0, expandClientServer: true, privateCidrs: [] });
    const rec = Object.assign(newFlowRecord('ipfix', '2001:db8::1'), {
      exportTimeMs: 1_700_000_000_000,
      ipVersion: 6 as const,
      srcAddr: '2001:db8::2',
      dstAddr: '2001:db8::3',
      srcPort: 1,
      dstPort: 65535,
      ipProtocol: 58,
      icmpType: 128,
      icmpCode: 0,
      bytes: 2 ** 64,
      packets: 1e21,
      reverseBytes: 0.5,
      reversePackets: -0,
      inputInterfaceName: 'eth0 "uplink"\n\t\\',
      outputInterfaceName: 'lone \ud800 surrogate',
      fields: {
        application_name: 'caf\u00e9 \u2028 \u{1f600}',
        '123': 1,
        '7': 'seven',
        'weird"key\\': true,
        nan_value: NaN,
        missing: null as unknown as FieldValue,
        inf_value: -Infinity,
        list: [1, 'two', 3],
        'enterprise.00000009.000c': 5,
        'enterprise.00000009.000d': 'x',
        big: '18446744073709551615',
        flag: false,
        exporter: 'ignored (reserved)',
      },
    });
    const doc = n.toDocument(rec, 1_700_000_001_000);
    expect(serializeDocument(doc)).toBe(JSON.stringify(doc));
    expect(JSON.stringify(doc.netflow)).toBe(JSON.stringify(referenceFields(doc, rec)));
    expect(Object.keys(doc.netflow!)[0]).toBe('7'); // integer-like keys first, as for any object
    // A record without awkward elements takes the spread path: same result as the reference.
    const clean = Object.assign(newFlowRecord('netflow9', '192.0.2.1'), { tcpFlags: 0x12, fields: { a: 1, tcp_control_bits: 3, b: 'x', c: [1, 2] } });
    const cleanDoc = n.toDocument(clean, 5);
    expect(JSON.stringify(cleanDoc.netflow)).toBe(JSON.stringify(referenceFields(cleanDoc, clean)));
    expect(Object.keys(cleanDoc.netflow!)).toEqual(['exporter', 'a', 'tcp_control_bits', 'b', 'c']);
    expect(cleanDoc.netflow!.tcp_control_bits).toBe(0x12);
    // Fields an enricher might add, in any order, with any content.
    const d = doc as unknown as Record<string, unknown>;
    d.sec = { threat: { name: ['a"b'], feed: { name: 'x' } } };
    d.threat = { enrichments: [{ indicator: { ip: '1.2.3.4', first_seen: 5 }, matched: { atomic: '1.2.3.4' } }] };
    d.other = [undefined, null, () => 1, { u: undefined }];
    d.skipped = undefined;
    doc.flow.src = { sec: { threat: { name: ['c2'] } } };
    (doc.flow as unknown as Record<string, unknown>).extra = undefined;
    expect(serializeDocument(doc)).toBe(JSON.stringify(doc));
    const empty = n.toDocument(newFlowRecord('netflow9', '192.0.2.1'), 5);
    expect(serializeDocument(empty)).toBe(JSON.stringify(empty));
  });
});
