// SPDX-License-Identifier: Apache-2.0
/**
 * The flows templates on a real Elasticsearch (the embedded 8.14 OSS node; skipped with TF_TEST_NO_ES=1):
 * they install, normalized documents index into a data stream without errors, and the resulting mapping
 * has the types the schema promises, dynamic elements included. Uses its own template names and index
 * pattern so it never touches the collector's real templates.
 */
import { newFlowRecord, type FlowRecord } from '../../src/decode/types';
import { serializeDocument } from '../../src/pipeline/ecs';
import { createNormalizer } from '../../src/pipeline/normalize';
import { flowsTemplateSet, resolveFlowsField } from '../../src/output/elasticsearch/assets';
import { describeEs, es, uniqueId } from '../helpers/es';

describeEs('assets on a real Elasticsearch', () => {
  const id = uniqueId();
  const settingsName = `tftest-assets-${id}@settings`;
  const mappingsName = `tftest-assets-${id}@mappings`;
  const templateName = `tftest-assets-${id}`;
  const dataStream = `logs-tftest.assets${id}-default`;

  afterAll(async () => {
    await es('DELETE', `/_data_stream/${dataStream}`);
    await es('DELETE', `/_index_template/${templateName}`);
    await es('DELETE', `/_component_template/${encodeURIComponent(settingsName)}`);
    await es('DELETE', `/_component_template/${encodeURIComponent(mappingsName)}`);
  });

  it('installs, indexes normalized documents and maps them as the schema says', async () => {
    const set = flowsTemplateSet(
      { shards: 1, replicas: 0, refreshInterval: '1s', codec: 'best_compression', ilmLifecycle: 'threatflow', pipelineDefault: '', pipelineFinal: '' },
      { ilmAvailable: false },
    );
    const [settings, mappings] = Object.values(set.componentTemplates);
    const template = { ...Object.values(set.indexTemplates)[0], index_patterns: [`logs-tftest.assets${id}-*`], composed_of: [settingsName, mappingsName] };
    expect((await es('PUT', `/_component_template/${encodeURIComponent(settingsName)}`, settings)).status).toBe(200);
    expect((await es('PUT', `/_component_template/${encodeURIComponent(mappingsName)}`, mappings)).status).toBe(200);
    const put = await es('PUT', `/_index_template/${templateName}`, template);
    expect([put.status, put.json]).toEqual([200, { acknowledged: true }]);

    const n = createNormalizer({ timestampSource: 'end', communityIdEnable: true, communityIdSeed: 0, expandClientServer: true, privateCidrs: [] });
    const base = (fill: Partial<FlowRecord>): FlowRecord =>
      Object.assign(newFlowRecord('ipfix', '10.255.0.1'), { exportTimeMs: Date.now(), sysUptimeMs: 5 }, fill);
    const docs = [
      base({
        srcAddr: '192.168.1.10', dstAddr: '93.184.216.34', srcPort: 51000, dstPort: 443, ipProtocol: 6, bytes: 1, packets: 1,
        reverseBytes: 2, reversePackets: 1, startMs: Date.now() - 1000, endMs: Date.now(), tcpFlags: 0x1b, inputInterface: 1,
        inputInterfaceName: 'eth0', outputInterface: 2, outputInterfaceName: 'eth1',
        fields: { source_ipv4_address: '192.168.1.10', source_mac_address: '00:11:22:33:44:55', octet_delta_count: 1, 'enterprise.9.1': 'ab', ratio: 0.5 },
      }),
      base({ srcAddr: '10.0.0.1', dstAddr: '8.8.8.8', ipProtocol: 1, icmpType: 8, icmpCode: 0, bytes: 84, packets: 1 }),
      Object.assign(base({ srcAddr: '2a00:1450::1', dstAddr: 'fd00::1', srcPort: 1, dstPort: 2, ipProtocol: 17, samplingRate: 100, fields: { agent_address: '10.1.1.1' } }), { protocol: 'sflow5' as const }),
    ].map((r) => n.toDocument(r, Date.now()));
    const withThreat = n.toDocument(base({ srcAddr: '10.0.0.1', dstAddr: '8.8.8.8', ipProtocol: 17, srcPort: 1, dstPort: 53 }), Date.now());
    withThreat.threat = {
      enrichments: [
        {
          indicator: { ip: '8.8.8.8', type: 'ipv4-addr', provider: 'RiskIQ PassiveTotal', reference: 'https://x/8.8.8.8', description: 'd', confidence: 'high', first_seen: 1, last_seen: 2 },
          matched: { atomic: '8.8.8.8', field: 'destination.ip', type: 'indicator_match_rule' },
        },
      ],
    };
    withThreat.sec = { threat: { name: ['botnet'], feed: { name: 'RiskIQ PassiveTotal' } } };
    withThreat.flow.dst = { sec: { threat: { name: ['botnet'] } } };
    docs.push(withThreat);

    const body = docs.map((d) => `{"create":{}}\n${serializeDocument(d)}\n`).join('');
    const bulk = await es('POST', `/${dataStream}/_bulk?refresh=true&filter_path=errors,items.*.status,items.*.error`, body);
    expect(bulk.json.errors).toBe(false);

    const mapping = await es('GET', `/${dataStream}/_mapping/field/*`);
    const index = Object.keys(mapping.json)[0];
    const fields = mapping.json[index].mappings as Record<string, { mapping: Record<string, { type: string }> }>;
    const typeOf = (path: string): string | undefined => {
      const f = fields[path];
      return f ? Object.values(f.mapping)[0].type : undefined;
    };
    // Every field Elasticsearch mapped has the type our resolver predicts (no default dynamic mapping).
    const mismatches: string[] = [];
    for (const path of Object.keys(fields)) {
      if (path.startsWith('_') || path === 'data_stream.type') continue;
      const t = typeOf(path);
      if (t === 'object' || t === 'nested' || t === undefined) continue;
      const explicit = resolveFlowsField(path);
      if (explicit && explicit.type !== t) mismatches.push(`${path}: ${t} != ${explicit.type}`);
    }
    expect(mismatches).toEqual([]);
    expect(typeOf('netflow.source_ipv4_address')).toBe('ip');
    expect(typeOf('netflow.source_mac_address')).toBe('keyword');
    expect(typeOf('netflow.octet_delta_count')).toBe('long');
    expect(typeOf('netflow.ratio')).toBe('double');
    expect(typeOf('netflow.enterprise')).toBe('flattened');
    expect(typeOf('sflow.agent_address')).toBe('ip');
    expect(typeOf('threat.enrichments.indicator.ip')).toBe('ip');
    expect(typeOf('related.ip')).toBe('ip');
    expect(typeOf('event.duration')).toBe('long');

    // Dates in epoch ms are searchable as dates.
    const search = await es('POST', `/${dataStream}/_search`, {
      size: 0,
      query: { bool: { filter: [{ range: { '@timestamp': { gte: 'now-1h' } } }, { term: { 'network.direction': 'outbound' } }] } },
    });
    expect(search.json.hits.total.value).toBeGreaterThanOrEqual(2);
  });
});
