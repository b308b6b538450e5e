// SPDX-License-Identifier: Apache-2.0
/** The flows index template assets: shape, values from configuration, OSS-only field types, resolution. */
import {
  FLOWS_INDEX_TEMPLATE,
  FLOWS_MAPPINGS_COMPONENT,
  FLOWS_SCHEMA_VERSION,
  FLOWS_SETTINGS_COMPONENT,
  flowsIndexTemplate,
  flowsMappedFields,
  flowsMappings,
  flowsSettingsComponent,
  flowsTemplateSet,
  resolveFlowsField,
  type FieldMapping,
  type FlowsTemplateConfig,
} from '../../src/output/elasticsearch/assets';

const CFG: FlowsTemplateConfig = {
  shards: 3,
  replicas: 1,
  refreshInterval: '30s',
  codec: 'best_compression',
  ilmLifecycle: '',
  pipelineDefault: '',
  pipelineFinal: '',
};

describe('assets: settings component', () => {
  it('carries shards, replicas, refresh interval, codec and a field limit', () => {
    expect(flowsSettingsComponent(CFG)).toEqual({
      template: {
        settings: {
          index: {
            number_of_shards: 3,
            number_of_replicas: 1,
            refresh_interval: '30s',
            codec: 'best_compression',
            mapping: { total_fields: { limit: 5000 }, ignore_malformed: true },
          },
        },
      },
      version: FLOWS_SCHEMA_VERSION,
      _meta: { version: FLOWS_SCHEMA_VERSION, managed_by: 'threatflow', description: 'threatflow flow records: index settings' },
    });
  });

  it('adds default/final pipelines and the ILM policy only when set', () => {
    const s = flowsSettingsComponent({ ...CFG, pipelineDefault: 'threatflow-flows', pipelineFinal: 'final-x', ilmLifecycle: 'threatflow' });
    expect(s.template.settings).toMatchObject({
      index: { default_pipeline: 'threatflow-flows', final_pipeline: 'final-x', lifecycle: { name: 'threatflow' } },
    });
    const none = flowsSettingsComponent({ ...CFG, pipelineDefault: null, pipelineFinal: undefined, ilmLifecycle: '  ' });
    const index = (none.template.settings as { index: Record<string, unknown> }).index;
    expect(Object.keys(index)).toEqual(['number_of_shards', 'number_of_replicas', 'refresh_interval', 'codec', 'mapping']);
  });

  it('leaves the ILM policy out on clusters without ILM (the OSS server rejects the setting)', () => {
    const s = flowsSettingsComponent({ ...CFG, ilmLifecycle: 'threatflow' }, { ilmAvailable: false });
    expect((s.template.settings as { index: Record<string, unknown> }).index.lifecycle).toBeUndefined();
  });
});

describe('assets: index template', () => {
  it('is a data stream template above the built-in logs template, composed of both components', () => {
    expect(flowsIndexTemplate()).toEqual({
      index_patterns: ['logs-threatflow.flows-*'],
      data_stream: {},
      priority: 200,
      composed_of: ['logs-threatflow.flows@settings', 'logs-threatflow.flows@mappings'],
      version: FLOWS_SCHEMA_VERSION,
      _meta: { version: FLOWS_SCHEMA_VERSION, managed_by: 'threatflow', description: 'threatflow flow records (ECS), one document per flow' },
    });
    expect(flowsIndexTemplate().priority).toBeGreaterThan(100);
  });

  it('names the three templates in install order', () => {
    const set = flowsTemplateSet(CFG);
    expect(Object.keys(set.componentTemplates)).toEqual([FLOWS_SETTINGS_COMPONENT, FLOWS_MAPPINGS_COMPONENT]);
    expect(Object.keys(set.indexTemplates)).toEqual([FLOWS_INDEX_TEMPLATE]);
    for (const t of [...Object.values(set.componentTemplates), ...Object.values(set.indexTemplates)]) {
      expect(t.version).toBe(FLOWS_SCHEMA_VERSION);
      expect(t._meta).toMatchObject({ version: FLOWS_SCHEMA_VERSION, managed_by: 'threatflow' });
    }
  });

  it('returns fresh objects, so callers cannot corrupt each other', () => {
    const a = flowsMappings();
    (a.properties.source as { properties: Record<string, unknown> }).properties.ip = { type: 'keyword' };
    expect(resolveFlowsField('source.ip')?.type).toBe('ip');
    expect(flowsMappings().properties.source).toEqual(flowsMappings().properties.source);
  });
});

describe('assets: mappings', () => {
  // `flattened` is in the server since 7.13 (assets-es.test.ts installs it on the embedded OSS node).
  const OSS_TYPES = new Set(['ip', 'long', 'double', 'keyword', 'date', 'boolean', 'object', 'nested', 'flattened']);

  it('uses only field types of the OSS server', () => {
    const used = new Set<string>();
    const walk = (m: FieldMapping): void => {
      used.add(m.type ?? 'object');
      if ('properties' in m) Object.values(m.properties).forEach(walk);
    };
    const mappings = flowsMappings();
    Object.values(mappings.properties).forEach(walk);
    for (const entry of mappings.dynamic_templates) for (const t of Object.values(entry)) walk(t.mapping);
    expect([...used].filter((t) => !OSS_TYPES.has(t))).toEqual([]);
  });

  it('maps dates with epoch_millis, IPs as ip, counters and ports as long', () => {
    const fields = flowsMappedFields();
    for (const [path, type] of fields) {
      if (/(^|\.)(ip|address)$/.test(path)) expect([path, type]).toEqual([path, 'ip']);
      if (/(^|\.)(port|bytes|packets|duration|sampling_rate)$/.test(path)) expect([path, type]).toEqual([path, 'long']);
      if (/(@timestamp|\.start|\.end|_seen)$/.test(path)) expect([path, type]).toEqual([path, 'date']);
    }
    const m = flowsMappings();
    expect(m.properties['@timestamp']).toEqual({ type: 'date', format: 'strict_date_optional_time||epoch_millis' });
    expect(m.date_detection).toBe(false);
  });

  it('maps the threat fields now: nested enrichments, flat keyword tags', () => {
    expect(flowsMappings().properties.threat).toMatchObject({ properties: { enrichments: { type: 'nested' } } });
    expect(resolveFlowsField('threat.enrichments.indicator.ip')).toEqual({ type: 'ip', via: 'property', nested: 'threat.enrichments' });
    for (const f of ['type', 'provider', 'reference', 'description', 'confidence']) {
      expect(resolveFlowsField(`threat.enrichments.indicator.${f}`)?.type).toBe('keyword');
    }
    for (const f of ['first_seen', 'last_seen']) expect(resolveFlowsField(`threat.enrichments.indicator.${f}`)?.type).toBe('date');
    for (const f of ['atomic', 'field', 'type']) expect(resolveFlowsField(`threat.enrichments.matched.${f}`)?.type).toBe('keyword');
    for (const p of ['sec.threat.name', 'sec.threat.feed.name', 'flow.src.sec.threat.name', 'flow.dst.sec.threat.name', 'flow.client.sec.threat.name', 'flow.server.sec.threat.name']) {
      expect([p, resolveFlowsField(p)?.type]).toEqual([p, 'keyword']);
    }
  });

  it.each([
    ['netflow.source_ipv4_address', '10.0.0.1', 'ip'],
    ['netflow.post_nat_destination_ipv6_address', '2001:db8::1', 'ip'],
    ['netflow.source_ipv4_prefix', '10.0.0.0', 'ip'],
    ['netflow.ipv4_router_sc', '10.0.0.1', 'ip'],
    ['netflow.mib_object_value_ip_address', '10.0.0.1', 'ip'],
    ['netflow.srh_active_segment_ipv6', '2001:db8::1', 'ip'],
    ['netflow.nat_log_field_idx_ipv4_int_addr', '10.0.0.1', 'ip'],
    ['sflow.agent_address', '10.1.1.1', 'ip'],
    ['sflow.next_hop', '10.1.1.254', 'ip'],
    ['netflow.source_mac_address', '00:11:22:33:44:55', 'keyword'],
    ['netflow.sta_mac_address', '00:11:22:33:44:55', 'keyword'],
    ['netflow.distinct_count_of_source_ipv4_address', 12, 'long'],
    ['netflow.source_ipv4_prefix_length', 24, 'long'],
    ['netflow.octet_delta_count', 1500, 'long'],
    ['netflow.enterprise.9.12235', 'abcd', 'flattened'],
    ['netflow.some_ratio', 0.25, 'double'],
    ['netflow.is_multicast', true, 'boolean'],
    ['netflow.vlan_list', [10, 20], 'long'],
    ['sflow.header_protocol', 1, 'long'],
    ['netflow.exporter.address', undefined, 'ip'],
    ['netflow.tcp_control_bits', undefined, 'long'],
  ])('%s (%j) is %s', (path, value, type) => {
    expect(resolveFlowsField(path, value)?.type).toBe(type);
  });

  it('does not resolve unmapped paths or objects', () => {
    expect(resolveFlowsField('source.nope')).toBeNull();
    expect(resolveFlowsField('source')).toBeNull();
    expect(resolveFlowsField('unknown.field', 'x')).toBeNull();
    expect(resolveFlowsField('source.ip.sub')).toBeNull();
    expect(resolveFlowsField('netflow.x', { a: 1 })).toBeNull();
  });
});
