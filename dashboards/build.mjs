// SPDX-License-Identifier: Apache-2.0
/**
 * Generates dashboards/kibana-8.14.x-threatflow.ndjson: the threatflow data view, Lens visualizations and
 * dashboards as a Kibana 8.14 saved objects export. One script so that ids and references stay consistent.
 *
 * Field names come from the flows mapping (collector/src/output/elasticsearch/assets.ts, compiled): the
 * data view's URL formatters cover every `ip` field of the mapping. Run `npm run build` first, then
 * `node dashboards/build.mjs`. The output is deterministic (no timestamps, no random ids).
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const assets = require(join(here, '..', 'collector', 'dist', 'output', 'elasticsearch', 'assets.js'));

export const LAUNCH_URL = 'https://community.riskiq.com/research?query={{value}}';
export const DATA_VIEW_ID = 'threatflow-flows';
const INDEX_PATTERN = assets.FLOWS_INDEX_PATTERN;

const CORE = '8.8.0';
/**
 * Kept at versions every 8.14 node knows (an object that claims a newer version than the node's is refused on
 * import; an older one is migrated forward): index-pattern 8.0.0, lens 8.9.0, dashboard 8.9.0.
 */
const TYPE_VERSION = { 'index-pattern': '8.0.0', lens: '8.9.0', dashboard: '8.9.0' };

/**
 * IP fields of the data view: every explicitly mapped `ip` field, plus the decoded elements the collector
 * commonly writes that the dynamic templates map as `ip` (checked against resolveFlowsField).
 */
const DYNAMIC_IP_FIELDS = [
  'netflow.source_ipv4_address',
  'netflow.destination_ipv4_address',
  'netflow.source_ipv6_address',
  'netflow.destination_ipv6_address',
  'netflow.ip_next_hop_ipv4_address',
  'netflow.bgp_next_hop_ipv4_address',
  'netflow.exporter_ipv4_address',
  'sflow.agent_address',
];

function ipFields() {
  const out = [];
  for (const [path, type] of assets.flowsMappedFields()) if (type === 'ip') out.push(path);
  for (const path of DYNAMIC_IP_FIELDS) {
    const r = assets.resolveFlowsField(path, '192.0.2.1');
    if (!r || r.type !== 'ip') throw new Error(`${path} is not an ip field of the mapping`);
    out.push(path);
  }
  return out.sort();
}

function so(type, id, attributes, references = []) {
  return {
    attributes,
    coreMigrationVersion: CORE,
    id,
    managed: false,
    references,
    type,
    typeMigrationVersion: TYPE_VERSION[type],
  };
}

// ---------------------------------------------------------------------------------------------------------
// Data view

function dataView() {
  const fmt = {};
  for (const f of ipFields()) fmt[f] = { id: 'url', params: { type: 'a', urlTemplate: LAUNCH_URL, labelTemplate: '{{value}}', openLinkInCurrentTab: false } };
  return so('index-pattern', DATA_VIEW_ID, {
    allowNoIndex: true,
    fieldAttrs: '{}',
    fieldFormatMap: JSON.stringify(fmt),
    fields: '[]',
    name: 'threatflow flows',
    runtimeFieldMap: '{}',
    sourceFilters: '[]',
    timeFieldName: '@timestamp',
    title: INDEX_PATTERN,
    typeMeta: '{}',
  });
}

// ---------------------------------------------------------------------------------------------------------
// Lens columns

const kql = (query) => ({ query, language: 'kuery' });

const LENS_TYPES = { ip: 'ip', keyword: 'string', long: 'number', double: 'number', date: 'date', boolean: 'boolean' };

/** Lens's dataType for a field, from the flows mapping (throws for a field the mapping does not have). */
function lensDataType(field) {
  const r = assets.resolveFlowsField(field);
  if (!r || !LENS_TYPES[r.type]) throw new Error(`${field} is not a mapped field`);
  if (r.nested) throw new Error(`${field} is inside a nested field; Lens cannot aggregate it`);
  return LENS_TYPES[r.type];
}

const col = {
  time: () => ({
    label: '@timestamp', dataType: 'date', operationType: 'date_histogram', sourceField: '@timestamp', isBucketed: true, scale: 'interval',
    params: { interval: 'auto', includeEmptyRows: true, dropPartials: false },
  }),
  terms: (field, label, orderBy, size = 10) => ({
    label, dataType: lensDataType(field), operationType: 'terms', sourceField: field, isBucketed: true, scale: 'ordinal',
    params: { size, orderBy: { type: 'column', columnId: orderBy }, orderDirection: 'desc', otherBucket: false, missingBucket: false, parentFormat: { id: 'terms' } },
    customLabel: true,
  }),
  count: (label = 'Flows') => ({
    label, dataType: 'number', operationType: 'count', sourceField: '___records___', isBucketed: false, scale: 'ratio', params: { emptyAsNull: true }, customLabel: true,
  }),
  sum: (field, label) => ({
    label, dataType: 'number', operationType: 'sum', sourceField: field, isBucketed: false, scale: 'ratio', params: { emptyAsNull: true, format: { id: 'bytes', params: { decimals: 1 } } }, customLabel: true,
  }),
  unique: (field, label) => ({
    label, dataType: 'number', operationType: 'unique_count', sourceField: field, isBucketed: false, scale: 'ratio', params: { emptyAsNull: true }, customLabel: true,
  }),
};

/** A Lens saved object with one formBased layer. `columns` is an ordered list of [id, column]. */
function lens(id, title, vis, columns, query = '', description = '') {
  const layerId = `${id}-layer`;
  const columnMap = {};
  for (const [cid, c] of columns) columnMap[cid] = c;
  const ids = columns.map(([cid]) => cid);
  const buckets = columns.filter(([, c]) => c.isBucketed).map(([cid]) => cid);
  const metrics = columns.filter(([, c]) => !c.isBucketed).map(([cid]) => cid);
  let visualizationType;
  let visualization;
  if (vis.kind === 'xy') {
    visualizationType = 'lnsXY';
    visualization = {
      legend: { isVisible: true, position: 'right' },
      valueLabels: 'hide',
      fittingFunction: 'None',
      preferredSeriesType: vis.series,
      axisTitlesVisibilitySettings: { x: false, yLeft: true, yRight: true },
      layers: [{
        layerId, layerType: 'data', seriesType: vis.series, xAccessor: buckets[0], accessors: metrics,
        ...(buckets[1] ? { splitAccessor: buckets[1] } : {}),
      }],
    };
  } else if (vis.kind === 'table') {
    visualizationType = 'lnsDatatable';
    visualization = { layerId, layerType: 'data', columns: ids.map((columnId) => ({ columnId, isTransposed: false })) };
  } else if (vis.kind === 'pie') {
    visualizationType = 'lnsPie';
    visualization = {
      shape: 'donut',
      layers: [{ layerId, layerType: 'data', primaryGroups: buckets, metrics, numberDisplay: 'percent', categoryDisplay: 'default', legendDisplay: 'default', nestedLegend: false }],
    };
  } else if (vis.kind === 'metric') {
    visualizationType = 'lnsMetric';
    visualization = { layerId, layerType: 'data', metricAccessor: metrics[0] };
  } else throw new Error(vis.kind);
  return so('lens', id, {
    description,
    state: {
      adHocDataViews: {},
      datasourceStates: { formBased: { layers: { [layerId]: { columnOrder: ids, columns: columnMap, incompleteColumns: {}, sampling: 1 } } } },
      filters: [],
      internalReferences: [],
      query: kql(query),
      visualization,
    },
    title,
    visualizationType,
  }, [{ id: DATA_VIEW_ID, name: `indexpattern-datasource-layer-${layerId}`, type: 'index-pattern' }]);
}

// ---------------------------------------------------------------------------------------------------------
// Visualizations, per dashboard

const THREAT = 'sec.threat.name : *';
const BRUTE_PORTS = 'destination.port : (22 or 3389 or 5900)';
const AMP_PORTS = 'source.port : (19 or 53 or 123 or 161 or 389 or 1900 or 11211)';

const V = {
  // Threats
  threatFlowsTime: lens('threatflow-lens-threat-flows-over-time', '[threatflow] Threat flows over time', { kind: 'xy', series: 'bar_stacked' },
    [['t', col.time()], ['tag', col.terms('sec.threat.name', 'Threat tag', 'n', 5)], ['n', col.count('Threat flows')]], THREAT),
  threatConversationsTime: lens('threatflow-lens-threat-conversations-over-time', '[threatflow] Threat conversations over time', { kind: 'xy', series: 'line' },
    [['t', col.time()], ['n', col.unique('network.community_id', 'Conversations')]], THREAT),
  threatConversations: lens('threatflow-lens-threat-conversations', '[threatflow] Threat conversations', { kind: 'table' },
    [['c', col.terms('client.ip', 'Client', 'n', 50)], ['s', col.terms('server.ip', 'Server', 'n', 1)], ['p', col.terms('server.port', 'Port', 'n', 1)],
      ['tag', col.terms('sec.threat.name', 'Threat tags', 'n', 3)], ['n', col.count()], ['b', col.sum('network.bytes', 'Bytes')]], THREAT),
  threatTags: lens('threatflow-lens-top-threat-tags', '[threatflow] Top threat tags', { kind: 'pie' },
    [['tag', col.terms('sec.threat.name', 'Threat tag', 'n', 10)], ['n', col.count()]], THREAT),
  publicThreats: lens('threatflow-lens-public-threats', '[threatflow] Public Threats', { kind: 'table' },
    [['ip', col.terms('destination.ip', 'Threat IP', 'n', 50)], ['tag', col.terms('flow.dst.sec.threat.name', 'Tags', 'n', 3)], ['n', col.count()],
      ['h', col.unique('source.ip', 'Internal hosts')], ['b', col.sum('network.bytes', 'Bytes')]],
    'destination.locality : "public" and flow.dst.sec.threat.name : *', 'Public addresses listed by RiskIQ PassiveTotal that hosts contacted; each IP opens PassiveTotal.'),
  atRiskServers: lens('threatflow-lens-at-risk-servers', '[threatflow] At-Risk Servers', { kind: 'table' },
    [['ip', col.terms('server.ip', 'Server', 'n', 50)], ['p', col.terms('server.port', 'Port', 'n', 3)], ['n', col.count()],
      ['c', col.unique('client.ip', 'Threat clients')], ['b', col.sum('network.bytes', 'Bytes')]],
    'flow.client.sec.threat.name : *', 'Servers that listed threat addresses connected to as clients.'),
  highRiskClients: lens('threatflow-lens-high-risk-clients', '[threatflow] High-Risk Clients', { kind: 'table' },
    [['ip', col.terms('client.ip', 'Client', 'n', 50)], ['n', col.count()], ['s', col.unique('server.ip', 'Threat servers')], ['b', col.sum('network.bytes', 'Bytes')]],
    'flow.server.sec.threat.name : *', 'Clients that connected to servers listed as threats.'),
  threatDirection: lens('threatflow-lens-threat-direction', '[threatflow] Threat flows by direction', { kind: 'pie' },
    [['d', col.terms('network.direction', 'Direction', 'n', 5)], ['n', col.count()]], THREAT),
  // Reconnaissance
  portScanTable: lens('threatflow-lens-port-scan-sources', '[threatflow] Port scan: sources by distinct destination ports', { kind: 'table' },
    [['ip', col.terms('source.ip', 'Source', 'ports', 25)], ['ports', col.unique('destination.port', 'Distinct ports')], ['hosts', col.unique('destination.ip', 'Distinct targets')], ['n', col.count()]],
    'network.transport : "tcp"'),
  portScanTime: lens('threatflow-lens-port-scan-over-time', '[threatflow] Port scan: distinct destination ports over time', { kind: 'xy', series: 'line' },
    [['t', col.time()], ['ip', col.terms('source.ip', 'Source', 'ports', 5)], ['ports', col.unique('destination.port', 'Distinct ports')]], 'network.transport : "tcp"'),
  icmpSweepTable: lens('threatflow-lens-icmp-sweep-sources', '[threatflow] ICMP sweep: sources by distinct targets', { kind: 'table' },
    [['ip', col.terms('source.ip', 'Source', 'hosts', 25)], ['hosts', col.unique('destination.ip', 'Distinct targets')], ['n', col.count()]],
    'network.transport : ("icmp" or "ipv6-icmp") and flow.icmp.type : (8 or 128)'),
  icmpSweepTime: lens('threatflow-lens-icmp-sweep-over-time', '[threatflow] ICMP sweep: distinct targets over time', { kind: 'xy', series: 'line' },
    [['t', col.time()], ['ip', col.terms('source.ip', 'Source', 'hosts', 5)], ['hosts', col.unique('destination.ip', 'Distinct targets')]],
    'network.transport : ("icmp" or "ipv6-icmp")'),
  // Brute force
  bruteTable: lens('threatflow-lens-brute-force-pairs', '[threatflow] Brute force: SSH/RDP/VNC clients', { kind: 'table' },
    [['c', col.terms('source.ip', 'Client', 'ports', 25)], ['s', col.terms('destination.ip', 'Server', 'ports', 3)], ['p', col.terms('destination.port', 'Service port', 'ports', 3)],
      ['ports', col.unique('source.port', 'Client ports')], ['n', col.count()]], BRUTE_PORTS),
  bruteTime: lens('threatflow-lens-brute-force-over-time', '[threatflow] Brute force: connections over time by service', { kind: 'xy', series: 'bar_stacked' },
    [['t', col.time()], ['p', col.terms('destination.port', 'Service port', 'n', 3)], ['n', col.count('Connections')]], BRUTE_PORTS),
  // DDoS
  synTime: lens('threatflow-lens-syn-flood-over-time', '[threatflow] SYN flood: SYN-only flows over time by target', { kind: 'xy', series: 'bar_stacked' },
    [['t', col.time()], ['ip', col.terms('destination.ip', 'Target', 'n', 5)], ['n', col.count('SYN-only flows')]],
    'network.transport : "tcp" and netflow.tcp_control_bits : 2'),
  synTable: lens('threatflow-lens-syn-flood-targets', '[threatflow] SYN flood: targets', { kind: 'table' },
    [['ip', col.terms('destination.ip', 'Target', 'n', 25)], ['p', col.terms('destination.port', 'Port', 'n', 3)], ['n', col.count('SYN-only flows')], ['src', col.unique('source.ip', 'Distinct sources')]],
    'network.transport : "tcp" and netflow.tcp_control_bits : 2'),
  ampTime: lens('threatflow-lens-udp-amplification-over-time', '[threatflow] UDP amplification: reflected bytes over time by target', { kind: 'xy', series: 'area_stacked' },
    [['t', col.time()], ['ip', col.terms('destination.ip', 'Target', 'b', 5)], ['b', col.sum('network.bytes', 'Bytes')]], `network.transport : "udp" and ${AMP_PORTS}`),
  ampTable: lens('threatflow-lens-udp-amplification-targets', '[threatflow] UDP amplification: targets and reflector ports', { kind: 'table' },
    [['ip', col.terms('destination.ip', 'Target', 'b', 25)], ['p', col.terms('source.port', 'Reflector port', 'b', 3)], ['b', col.sum('network.bytes', 'Bytes')],
      ['r', col.unique('source.ip', 'Reflectors')]], `network.transport : "udp" and ${AMP_PORTS}`),
  // Flows overview
  flowsTime: lens('threatflow-lens-flows-over-time', '[threatflow] Bytes over time by transport', { kind: 'xy', series: 'area_stacked' },
    [['t', col.time()], ['tr', col.terms('network.transport', 'Transport', 'b', 5)], ['b', col.sum('network.bytes', 'Bytes')]]),
  totalFlows: lens('threatflow-lens-total-flows', '[threatflow] Flows', { kind: 'metric' }, [['n', col.count()]]),
  topTalkers: lens('threatflow-lens-top-talkers', '[threatflow] Top talkers', { kind: 'table' },
    [['ip', col.terms('source.ip', 'Source', 'b', 25)], ['b', col.sum('network.bytes', 'Bytes')], ['p', col.sum('network.packets', 'Packets')], ['n', col.count()]]),
  services: lens('threatflow-lens-services', '[threatflow] Services (server ports)', { kind: 'table' },
    [['p', col.terms('server.port', 'Server port', 'b', 25)], ['tr', col.terms('network.transport', 'Transport', 'b', 2)], ['b', col.sum('network.bytes', 'Bytes')], ['n', col.count()]]),
  protocols: lens('threatflow-lens-protocols', '[threatflow] Protocols', { kind: 'pie' },
    [['tr', col.terms('network.transport', 'Transport', 'b', 10)], ['b', col.sum('network.bytes', 'Bytes')]]),
  exporters: lens('threatflow-lens-exporters', '[threatflow] Exporters', { kind: 'table' },
    [['ip', col.terms('observer.ip', 'Exporter', 'n', 25)], ['v', col.terms('netflow.exporter.version', 'Version', 'n', 3)], ['n', col.count()], ['b', col.sum('network.bytes', 'Bytes')]]),
  directions: lens('threatflow-lens-directions', '[threatflow] Directions', { kind: 'pie' },
    [['d', col.terms('network.direction', 'Direction', 'b', 5)], ['b', col.sum('network.bytes', 'Bytes')]]),
};

// ---------------------------------------------------------------------------------------------------------
// Dashboards

export const DASHBOARDS = [
  { id: 'threatflow-dashboard-threats', title: '[threatflow] Threats', nav: 'Threats',
    description: 'Flows to and from addresses listed by RiskIQ PassiveTotal; every IP opens PassiveTotal.',
    panels: [[V.threatFlowsTime, 32, 12], [V.threatTags, 16, 12], [V.threatConversationsTime, 32, 10], [V.threatDirection, 16, 10], [V.threatConversations, 48, 15],
      [V.publicThreats, 48, 15], [V.atRiskServers, 24, 15], [V.highRiskClients, 24, 15]] },
  { id: 'threatflow-dashboard-reconnaissance', title: '[threatflow] Reconnaissance', nav: 'Reconnaissance',
    description: 'Port scans (distinct destination ports per source) and ICMP sweeps (distinct targets per source).',
    panels: [[V.portScanTime, 24, 12], [V.portScanTable, 24, 12], [V.icmpSweepTime, 24, 12], [V.icmpSweepTable, 24, 12]] },
  { id: 'threatflow-dashboard-brute-force', title: '[threatflow] Brute force', nav: 'Brute force',
    description: 'Many client ports from one client to SSH (22), RDP (3389) and VNC (5900).',
    panels: [[V.bruteTime, 48, 12], [V.bruteTable, 48, 15]] },
  { id: 'threatflow-dashboard-ddos', title: '[threatflow] DDoS', nav: 'DDoS',
    description: 'SYN floods (SYN-only TCP flows) and UDP amplification (bytes from reflector ports).',
    panels: [[V.synTime, 24, 12], [V.synTable, 24, 12], [V.ampTime, 24, 12], [V.ampTable, 24, 12]] },
  { id: 'threatflow-dashboard-flows-overview', title: '[threatflow] Flows overview', nav: 'Flows overview',
    description: 'Top talkers, services, protocols, exporters and directions.',
    panels: [[V.flowsTime, 36, 12], [V.totalFlows, 12, 12], [V.topTalkers, 24, 15], [V.services, 24, 15], [V.protocols, 16, 12], [V.directions, 16, 12], [V.exporters, 16, 12]] },
];

function navMarkdown(current) {
  return DASHBOARDS.map((d) => (d.id === current ? `**${d.nav}**` : `[${d.nav}](/app/dashboards#/view/${d.id})`)).join(' | ');
}

function dashboard(d) {
  const panels = [];
  const references = [];
  const nav = 'nav';
  panels.push({
    type: 'visualization',
    gridData: { x: 0, y: 0, w: 48, h: 3, i: nav },
    panelIndex: nav,
    embeddableConfig: {
      hidePanelTitles: true,
      enhancements: {},
      savedVis: {
        id: '', title: '', description: '', type: 'markdown', uiState: {},
        params: { fontSize: 12, openLinksInNewTab: false, markdown: navMarkdown(d.id) },
        data: { aggs: [], searchSource: { query: kql(''), filter: [] } },
      },
    },
  });
  let x = 0;
  let y = 3;
  let rowH = 0;
  d.panels.forEach(([vis, w, h], n) => {
    if (x + w > 48) { x = 0; y += rowH; rowH = 0; }
    const i = `p${n + 1}`;
    panels.push({ type: 'lens', gridData: { x, y, w, h, i }, panelIndex: i, embeddableConfig: { enhancements: {} }, panelRefName: `panel_${i}` });
    references.push({ id: vis.id, name: `${i}:panel_${i}`, type: 'lens' });
    x += w;
    rowH = Math.max(rowH, h);
  });
  return so('dashboard', d.id, {
    description: d.description,
    kibanaSavedObjectMeta: { searchSourceJSON: JSON.stringify({ query: kql(''), filter: [] }) },
    optionsJSON: JSON.stringify({ useMargins: true, syncColors: false, syncCursor: true, syncTooltips: false, hidePanelTitles: false }),
    panelsJSON: JSON.stringify(panels),
    refreshInterval: { pause: true, value: 0 },
    timeFrom: 'now-24h',
    timeRestore: true,
    timeTo: 'now',
    title: d.title,
    version: 1,
  }, references);
}

export function buildObjects() {
  return [dataView(), ...Object.values(V), ...DASHBOARDS.map(dashboard)];
}

const objects = buildObjects();
const lines = objects.map((o) => JSON.stringify(o));
lines.push(JSON.stringify({ excludedObjects: [], excludedObjectsCount: 0, exportedCount: objects.length, missingRefCount: 0, missingReferences: [] }));
// `--stdout` prints instead of writing (the content test compares it with the committed file).
if (process.argv.includes('--stdout')) process.stdout.write(`${lines.join('\n')}\n`);
else {
  writeFileSync(join(here, 'kibana-8.14.x-threatflow.ndjson'), `${lines.join('\n')}\n`);
  console.log(`wrote ${objects.length} saved objects`);
}
