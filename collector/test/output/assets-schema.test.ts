// SPDX-License-Identifier: Apache-2.0
/**
 * One schema feeds everything (STYLE.md §14): every leaf field the normalizer (and, for the threat fields,
 * the threat enricher's document type) can write resolves against the flows mapping, with a value of the
 * mapped type, and every explicitly mapped field is written by some document.
 */
import { newFlowRecord, type FlowProtocol, type FlowRecord } from '../../src/decode/types';
import { parseIPv4, parseIPv6 } from '../../src/enrich/ip-class';
import type { EcsDocument } from '../../src/pipeline/ecs';
import { createNormalizer } from '../../src/pipeline/normalize';
import { flowsMappedFields, resolveFlowsField } from '../../src/output/elasticsearch/assets';

function rec(protocol: FlowProtocol, fill: Partial<FlowRecord>): FlowRecord {
  return Object.assign(newFlowRecord(protocol, '10.255.0.1'), { exportTimeMs: 1_700_000_000_000 }, fill);
}

/** Records that together reach every branch of the normalizer that adds a field. */
function records(): FlowRecord[] {
  const full: Partial<FlowRecord> = {
    sourceId: 9,
    sysUptimeMs: 1000,
    ipVersion: 4,
    srcAddr: '192.168.1.10',
    dstAddr: '93.184.216.34',
    srcPort: 51000,
    dstPort: 443,
    ipProtocol: 6,
    bytes: 100,
    packets: 2,
    reverseBytes: 300,
    reversePackets: 3,
    startMs: 1_699_999_999_000,
    endMs: 1_700_000_000_000,
    tcpFlags: 0x1b,
    inputInterface: 1,
    outputInterface: 2,
    inputInterfaceName: 'eth0',
    outputInterfaceName: 'eth1',
  };
  return [
    rec('netflow5', { ...full, reverseBytes: null, reversePackets: null, fields: { src_as: 1, dst_as: 2, src_mask: 24, next_hop: '10.0.0.1' } }),
    rec('netflow9', {
      ...full,
      fields: {
        source_ipv4_address: '192.168.1.10',
        destination_ipv4_address: '93.184.216.34',
        ip_next_hop_ipv4_address: '10.0.0.1',
        source_mac_address: '00:11:22:33:44:55',
        distinct_count_of_source_ipv4_address: 4,
        application_name: 'https',
        vlan_ids: [1, 2],
        some_ratio: 0.5,
        is_multicast: false,
      },
    }),
    rec('ipfix', {
      ...full,
      ipVersion: 6,
      srcAddr: '2a00:1450:4001::200e',
      dstAddr: 'fd00::1',
      fields: {
        source_ipv6_address: '2a00:1450:4001::200e',
        post_nat_source_ipv6_address: '2a00:1450:4001::1',
        'enterprise.29305.1': 'cafe',
        'enterprise.29305.2': 12,
        'unknown.1ff': '00ff',
        observation_domain_id: 9,
      },
    }),
    rec('ipfix', { srcAddr: '10.0.0.1', dstAddr: '8.8.8.8', ipProtocol: 1, icmpType: 8, icmpCode: 0, bytes: 84, packets: 1 }),
    rec('ipfix', { srcAddr: '10.0.0.1', dstAddr: '8.8.8.8', ipProtocol: 47, bytes: 84, packets: 1 }),
    rec('sflow5', {
      ...full,
      reverseBytes: null,
      reversePackets: null,
      samplingRate: 1000,
      fields: { agent_address: '10.1.1.1', sample_pool: 5, next_hop: '10.1.1.254', src_mac: '00:11:22:33:44:55', vlan: 10 },
    }),
  ];
}

/** A document as the threat enricher will finish it (typed by EcsDocument, so the names are the real ones). */
function withThreat(doc: EcsDocument): EcsDocument {
  doc.flow.dst = { sec: { threat: { name: ['botnet'] } } };
  doc.flow.src = { sec: { threat: { name: ['scanner'] } } };
  doc.flow.client = { sec: { threat: { name: ['scanner'] } } };
  doc.flow.server = { sec: { threat: { name: ['botnet'] } } };
  doc.threat = {
    enrichments: [
      {
        indicator: {
          ip: '93.184.216.34',
          type: 'ipv4-addr',
          provider: 'RiskIQ PassiveTotal',
          reference: 'https://community.riskiq.com/research?query=93.184.216.34',
          description: 'botnet',
          confidence: 'high',
          first_seen: 1_690_000_000_000,
          last_seen: 1_699_000_000_000,
        },
        matched: { atomic: '93.184.216.34', field: 'destination.ip', type: 'indicator_match_rule' },
      },
    ],
  };
  doc.sec = { threat: { name: ['botnet', 'scanner'], feed: { name: 'RiskIQ PassiveTotal' } } };
  return doc;
}

function documents(): EcsDocument[] {
  const n = createNormalizer({ timestampSource: 'end', communityIdEnable: true, communityIdSeed: 0, expandClientServer: true, privateCidrs: [] });
  const docs = records().map((r) => n.toDocument(r, 1_700_000_001_000));
  docs.push(withThreat(n.toDocument(records()[0], 1_700_000_001_000)));
  return docs;
}

/** Leaf paths with their values; arrays of scalars are one leaf, arrays of objects are walked. */
function leaves(value: unknown, prefix = '', out: Array<[string, unknown]> = []): Array<[string, unknown]> {
  if (Array.isArray(value) && value.some((v) => typeof v === 'object' && v !== null)) {
    for (const v of value) leaves(v, prefix, out);
  } else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) leaves(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out.push([prefix, value]);
  }
  return out;
}

function fitsType(type: string, value: unknown): boolean {
  const values = Array.isArray(value) ? value : [value];
  return values.every((v) => {
    switch (type) {
      case 'ip':
        return typeof v === 'string' && (parseIPv4(v) >= 0 || parseIPv6(v, new Uint8Array(16)));
      case 'flattened':
        // Every leaf below a flattened field is indexed as a keyword of its text.
        return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
      case 'long':
        return Number.isInteger(v);
      case 'double':
        return typeof v === 'number';
      case 'date':
        return Number.isInteger(v) || typeof v === 'string';
      case 'keyword':
        return typeof v === 'string';
      case 'boolean':
        return typeof v === 'boolean';
      default:
        return false;
    }
  });
}

describe('assets: every field the normalizer writes is mapped', () => {
  const docs = documents();
  const all = docs.flatMap((d) => leaves(d));

  it('resolves every leaf path to a mapped type that fits its value', () => {
    const problems: string[] = [];
    for (const [path, value] of all) {
      const r = resolveFlowsField(path, value);
      if (r === null) problems.push(`${path}: not mapped`);
      else if (!fitsType(r.type, value)) problems.push(`${path}: ${JSON.stringify(value)} is not a ${r.type} (${r.via})`);
    }
    expect([...new Set(problems)]).toEqual([]);
    expect(all.length).toBeGreaterThan(300);
  });

  it('writes no nulls and no empty objects', () => {
    for (const d of docs) {
      const line = JSON.stringify(d);
      expect(line).not.toMatch(/:null|:\{\}/);
    }
  });

  it('maps only what some document writes (no stale fields in the template)', () => {
    const written = new Set(all.map(([p]) => p));
    // A flattened field is written when any key below it is.
    // Fields the bundled ingest pipeline writes (ingest-pipelines/threatflow-flows.json), not the collector.
    const byPipeline = new Set(['event.ingested', 'ecs.version', 'tags', 'error.message']);
    const isWritten = (p: string) => byPipeline.has(p) || written.has(p) || [...written].some((w) => w.startsWith(`${p}.`));
    const unused = [...flowsMappedFields().keys()].filter((p) => !isWritten(p));
    expect(unused).toEqual([]);
  });

  it('sends decoded IP elements to ip fields and other elements to keyword/long', () => {
    const byPath = new Map(all.map(([p, v]) => [p, resolveFlowsField(p, v)?.via]));
    expect(byPath.get('netflow.ip_next_hop_ipv4_address')).toBe('flow_elements_ip');
    expect(byPath.get('netflow.post_nat_source_ipv6_address')).toBe('flow_elements_ip');
    expect(byPath.get('sflow.agent_address')).toBe('flow_elements_ip');
    expect(byPath.get('netflow.source_mac_address')).toBe('flow_elements_string');
    expect(byPath.get('sflow.src_mac')).toBe('flow_elements_string');
    expect(byPath.get('netflow.distinct_count_of_source_ipv4_address')).toBe('flow_elements_long');
    expect(byPath.get('netflow.enterprise.29305.1')).toBe('property'); // inside the flattened field
    expect(byPath.get('netflow.unknown.1ff')).toBe('property');
  });
});
