// SPDX-License-Identifier: Apache-2.0
/**
 * The flows data stream's Elasticsearch assets: component templates `logs-threatflow.flows@settings` and
 * `logs-threatflow.flows@mappings`, and the index template `logs-threatflow.flows` (DESIGN.md §4, §8).
 *
 * The mapping is the single source of truth for the document schema (STYLE.md §14): the normalizer's
 * output, the ingest pipelines, the dashboards and the ML jobs are checked against it in tests, through
 * `resolveFlowsField` and `flowsMappedFields`.
 *
 * Only field types of the OSS server are used (the embedded Elasticsearch has no X-Pack): ip, long,
 * double, keyword, date, boolean, object, nested. No `constant_keyword`, `wildcard`, `flattened`,
 * `unsigned_long` or `match_only_text`.
 *
 * Dates are `strict_date_optional_time||epoch_millis`: the collector writes epoch milliseconds, ingest
 * pipelines and other writers may write ISO strings.
 */

/** Bump when the mapping or settings change, so that installed older templates are replaced. */
export const FLOWS_SCHEMA_VERSION = 2;

export const FLOWS_INDEX_TEMPLATE = 'logs-threatflow.flows';
export const FLOWS_SETTINGS_COMPONENT = 'logs-threatflow.flows@settings';
export const FLOWS_MAPPINGS_COMPONENT = 'logs-threatflow.flows@mappings';
export const FLOWS_INDEX_PATTERN = 'logs-threatflow.flows-*';
export const FLOWS_DATA_STREAM = 'logs-threatflow.flows-default';
/** Above the built-in `logs` template (100), so our template wins for `logs-threatflow.flows-*`. */
export const FLOWS_TEMPLATE_PRIORITY = 200;

/** The `EF_OUTPUT_ELASTICSEARCH_INDEX_TEMPLATE_*` values the templates are built from. */
export interface FlowsTemplateConfig {
  shards: number;
  replicas: number;
  /** An Elasticsearch time value (`10s`) or `-1`. */
  refreshInterval: string;
  /** `default` or `best_compression`. */
  codec: string;
  /** ILM policy name; empty/null for none. */
  ilmLifecycle?: string | null;
  /** Default ingest pipeline; empty/null for none (the caller resolves "empty means the bundled one"). */
  pipelineDefault?: string | null;
  /** Final ingest pipeline; empty/null for none. */
  pipelineFinal?: string | null;
}

export interface FlowsTemplateOptions {
  /**
   * Whether the cluster has ILM. Without X-Pack `index.lifecycle.name` is an unknown setting and the
   * template would be rejected, so it is only written when this is true (default true).
   */
  ilmAvailable?: boolean;
}

export type FieldMapping =
  | { type: 'ip'; ignore_malformed?: boolean }
  | { type: 'long'; ignore_malformed?: boolean }
  | { type: 'double'; ignore_malformed?: boolean }
  | { type: 'boolean' }
  | { type: 'flattened'; ignore_above?: number }
  | { type: 'keyword'; ignore_above?: number }
  | { type: 'date'; format: string }
  | ObjectMapping
  | NestedMapping;

export interface ObjectMapping {
  type?: 'object';
  dynamic?: boolean;
  properties: Record<string, FieldMapping>;
}

export interface NestedMapping {
  type: 'nested';
  properties: Record<string, FieldMapping>;
}

export interface DynamicTemplate {
  path_match: string[];
  path_unmatch?: string[];
  match_mapping_type: 'string' | 'long' | 'double' | 'boolean';
  mapping: FieldMapping;
}

export interface FlowsMappings {
  dynamic: boolean;
  date_detection: boolean;
  numeric_detection: boolean;
  dynamic_templates: Array<Record<string, DynamicTemplate>>;
  properties: Record<string, FieldMapping>;
}

export interface ComponentTemplate {
  template: { settings?: Record<string, unknown>; mappings?: FlowsMappings };
  version: number;
  _meta: Record<string, unknown>;
}

export interface IndexTemplate {
  index_patterns: string[];
  data_stream: Record<string, never>;
  priority: number;
  composed_of: string[];
  version: number;
  _meta: Record<string, unknown>;
}

/** What the installer takes (`install.ts`'s TemplateSet). */
export interface FlowsTemplateSet {
  componentTemplates: Record<string, ComponentTemplate>;
  indexTemplates: Record<string, IndexTemplate>;
}

const DATE_FORMAT = 'strict_date_optional_time||epoch_millis';

const keyword = (): FieldMapping => ({ type: 'keyword', ignore_above: 1024 });
const ip = (): FieldMapping => ({ type: 'ip' });
const long = (): FieldMapping => ({ type: 'long' });
const date = (): FieldMapping => ({ type: 'date', format: DATE_FORMAT });
const obj = (properties: Record<string, FieldMapping>): ObjectMapping => ({ properties });

function endpoint(withLocality: boolean): ObjectMapping {
  const p: Record<string, FieldMapping> = { ip: ip(), port: long(), bytes: long(), packets: long() };
  if (withLocality) p.locality = keyword();
  return obj(p);
}

const iface = (): ObjectMapping => obj({ interface: obj({ id: keyword(), name: keyword() }) });
const sideThreat = (): ObjectMapping => obj({ sec: obj({ threat: obj({ name: keyword() }) }) });
const exporter = (): ObjectMapping => obj({ address: ip(), version: long(), source_id: long(), uptime_millis: long() });

/**
 * Decoded elements whose names say they hold an IP address: IANA `*IPv4Address`/`*IPv6Address` and
 * prefixes, `ipv4RouterSc`, `mibObjectValueIPAddress`, SRv6 segments, vendor `*_addr`/`*_ip`, and sFlow's
 * `*address`/`*next_hop`. MAC addresses are excluded by name. Only string values match (a count such as
 * `distinct_count_of_source_ipv4_address` is a number and falls through to `long`), and a string that is
 * not an IP is kept in `_source` without failing the document (`ignore_malformed`).
 */
const IP_FIELD_PATTERNS = [
  '*_address',
  '*ipv4_prefix',
  '*ipv6_prefix',
  '*ipv4_router_sc',
  '*segment_ipv6',
  '*_addr',
  '*_ip',
  '*next_hop',
];

function familyPatterns(patterns: string[]): string[] {
  return ['netflow', 'sflow'].flatMap((root) => patterns.map((p) => `${root}.${p}`));
}

/** Builds the mappings; a function so that callers can never mutate a shared copy. */
export function flowsMappings(): FlowsMappings {
  return {
    dynamic: true,
    date_detection: false,
    numeric_detection: false,
    dynamic_templates: [
      {
        flow_elements_ip: {
          path_match: familyPatterns(IP_FIELD_PATTERNS),
          path_unmatch: ['*mac_address', '*_mac'],
          match_mapping_type: 'string',
          mapping: { type: 'ip', ignore_malformed: true },
        },
      },
      {
        flow_elements_string: {
          path_match: familyPatterns(['*']),
          match_mapping_type: 'string',
          mapping: { type: 'keyword', ignore_above: 1024 },
        },
      },
      {
        flow_elements_long: {
          path_match: familyPatterns(['*']),
          match_mapping_type: 'long',
          mapping: { type: 'long', ignore_malformed: true },
        },
      },
      {
        flow_elements_double: {
          path_match: familyPatterns(['*']),
          match_mapping_type: 'double',
          mapping: { type: 'double', ignore_malformed: true },
        },
      },
      {
        flow_elements_boolean: {
          path_match: familyPatterns(['*']),
          match_mapping_type: 'boolean',
          mapping: { type: 'boolean' },
        },
      },
    ],
    properties: {
      '@timestamp': date(),
      event: obj({
        kind: keyword(),
        category: keyword(),
        type: keyword(),
        module: keyword(),
        dataset: keyword(),
        start: date(),
        end: date(),
        duration: long(),
        // Written by the threatflow-flows ingest pipeline (ingest-pipelines/), not by the collector.
        ingested: date(),
      }),
      // Also the ingest pipeline's: ECS version, failure tags and the failing processor's message.
      ecs: obj({ version: keyword() }),
      tags: keyword(),
      error: obj({ message: keyword() }),
      source: endpoint(true),
      destination: endpoint(true),
      client: endpoint(false),
      server: endpoint(false),
      network: obj({
        transport: keyword(),
        iana_number: keyword(),
        type: keyword(),
        bytes: long(),
        packets: long(),
        community_id: keyword(),
        direction: keyword(),
      }),
      observer: obj({ ip: ip(), ingress: iface(), egress: iface() }),
      flow: obj({
        locality: keyword(),
        sampling_rate: long(),
        icmp: obj({ type: long(), code: long() }),
        src: sideThreat(),
        dst: sideThreat(),
        client: sideThreat(),
        server: sideThreat(),
      }),
      related: obj({ ip: ip() }),
      netflow: {
        type: 'object',
        dynamic: true,
        properties: {
          exporter: exporter(),
          tcp_control_bits: long(),
          // Elements the registry does not name (`enterprise.<pen>.<id>`, `unknown.<id>`) are one field
          // each: any exporter (or anyone spoofing one) could otherwise add thousands of mapped fields and
          // hit the field limit, after which every new document is rejected.
          enterprise: { type: 'flattened', ignore_above: 1024 },
          unknown: { type: 'flattened', ignore_above: 1024 },
        },
      },
      sflow: {
        type: 'object',
        dynamic: true,
        properties: { exporter: exporter(), tcp_control_bits: long(), sampling_rate: long() },
      },
      threat: obj({
        enrichments: {
          type: 'nested',
          properties: {
            indicator: obj({
              ip: ip(),
              type: keyword(),
              provider: keyword(),
              reference: keyword(),
              description: keyword(),
              confidence: keyword(),
              first_seen: date(),
              last_seen: date(),
            }),
            matched: obj({ atomic: keyword(), field: keyword(), type: keyword() }),
          },
        },
      }),
      sec: obj({ threat: obj({ name: keyword(), feed: obj({ name: keyword() }) }) }),
    },
  };
}

function meta(description: string): Record<string, unknown> {
  return { version: FLOWS_SCHEMA_VERSION, managed_by: 'threatflow', description };
}

const nonEmpty = (s: string | null | undefined): s is string => typeof s === 'string' && s.trim() !== '';

/** `logs-threatflow.flows@settings` from the index template configuration. */
export function flowsSettingsComponent(cfg: FlowsTemplateConfig, opts: FlowsTemplateOptions = {}): ComponentTemplate {
  const index: Record<string, unknown> = {
    number_of_shards: cfg.shards,
    number_of_replicas: cfg.replicas,
    refresh_interval: cfg.refreshInterval,
    codec: cfg.codec,
    // netflow.* grows with every vendor element seen; the default limit (1000) would turn new elements
    // into rejected documents.
    mapping: { total_fields: { limit: 5000 }, ignore_malformed: true },
  };
  if (nonEmpty(cfg.pipelineDefault)) index.default_pipeline = cfg.pipelineDefault;
  if (nonEmpty(cfg.pipelineFinal)) index.final_pipeline = cfg.pipelineFinal;
  if (nonEmpty(cfg.ilmLifecycle) && opts.ilmAvailable !== false) index.lifecycle = { name: cfg.ilmLifecycle };
  return {
    template: { settings: { index } },
    version: FLOWS_SCHEMA_VERSION,
    _meta: meta('threatflow flow records: index settings'),
  };
}

/** `logs-threatflow.flows@mappings`. */
export function flowsMappingsComponent(): ComponentTemplate {
  return {
    template: { mappings: flowsMappings() },
    version: FLOWS_SCHEMA_VERSION,
    _meta: meta('threatflow flow records: ECS mapping'),
  };
}

/** `logs-threatflow.flows`: the data stream template composed of the two components. */
export function flowsIndexTemplate(): IndexTemplate {
  return {
    index_patterns: [FLOWS_INDEX_PATTERN],
    data_stream: {},
    priority: FLOWS_TEMPLATE_PRIORITY,
    composed_of: [FLOWS_SETTINGS_COMPONENT, FLOWS_MAPPINGS_COMPONENT],
    version: FLOWS_SCHEMA_VERSION,
    _meta: meta('threatflow flow records (ECS), one document per flow'),
  };
}

/** All three templates, keyed by name, components first (they must exist before the index template). */
export function flowsTemplateSet(cfg: FlowsTemplateConfig, opts: FlowsTemplateOptions = {}): FlowsTemplateSet {
  return {
    componentTemplates: {
      [FLOWS_SETTINGS_COMPONENT]: flowsSettingsComponent(cfg, opts),
      [FLOWS_MAPPINGS_COMPONENT]: flowsMappingsComponent(),
    },
    indexTemplates: { [FLOWS_INDEX_TEMPLATE]: flowsIndexTemplate() },
  };
}

/** The kind Elasticsearch's dynamic mapping sees for a JSON value (`match_mapping_type`). */
export type JsonKind = 'string' | 'long' | 'double' | 'boolean' | 'object';

export function jsonKind(value: unknown): JsonKind | null {
  if (Array.isArray(value)) return value.length > 0 ? jsonKind(value[0]) : null;
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'number':
      return Number.isInteger(value) ? 'long' : 'double';
    case 'boolean':
      return 'boolean';
    case 'object':
      return value === null ? null : 'object';
    default:
      return null;
  }
}

export interface ResolvedField {
  /** Leaf type: ip, long, double, keyword, date, boolean. */
  type: string;
  /** `property` when explicitly mapped, else the name of the dynamic template that maps it. */
  via: string;
  /** Set when the path goes through a nested field (`threat.enrichments`). */
  nested?: string;
}

function wildcard(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

/**
 * Resolves a dotted leaf path against the flows mapping as Elasticsearch would: explicit properties
 * first, then (inside `dynamic` objects) the dynamic templates in order, matched on the full path and on
 * the JSON kind of `value` (omit `value` for explicit fields only). Null when the path is not mapped
 * or only reachable through Elasticsearch's default dynamic mapping.
 */
export function resolveFlowsField(path: string, value?: unknown, mappings: FlowsMappings = cachedMappings()): ResolvedField | null {
  const parts = path.split('.');
  let props: Record<string, FieldMapping> | undefined = mappings.properties;
  let nested: string | undefined;
  let dynamicRoot = false;
  for (let i = 0; i < parts.length; i++) {
    // Longest explicit property name first would matter only for dotted property names; we have none.
    const m: FieldMapping | undefined = props?.[parts[i]];
    if (m === undefined) {
      if (!dynamicRoot) return null;
      break;
    }
    if ('properties' in m) {
      if (i === parts.length - 1) return null; // an object is not a leaf
      if (m.type === 'nested') nested = parts.slice(0, i + 1).join('.');
      if ('dynamic' in m && m.dynamic === true) dynamicRoot = true;
      props = m.properties;
      continue;
    }
    // Any key below a flattened field is indexed inside it as a keyword.
    if (m.type === 'flattened') return { type: 'flattened', via: 'property', ...(nested ? { nested } : {}) };
    if (i !== parts.length - 1) return null; // a leaf in the middle of the path
    return { type: m.type, via: 'property', ...(nested ? { nested } : {}) };
  }
  const kind = jsonKind(value);
  if (kind === null || kind === 'object') return null;
  for (const entry of mappings.dynamic_templates) {
    for (const [name, t] of Object.entries(entry)) {
      if (t.match_mapping_type !== kind) continue;
      if (!t.path_match.some((p) => wildcard(p).test(path))) continue;
      if (t.path_unmatch?.some((p) => wildcard(p).test(path))) continue;
      return { type: (t.mapping as { type: string }).type, via: name };
    }
  }
  return null;
}

let cached: FlowsMappings | null = null;
function cachedMappings(): FlowsMappings {
  cached ??= flowsMappings();
  return cached;
}

/** Every explicitly mapped leaf field as `path -> type` (for dashboards, ML jobs and pipeline tests). */
export function flowsMappedFields(mappings: FlowsMappings = cachedMappings()): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (props: Record<string, FieldMapping>, prefix: string): void => {
    for (const [k, m] of Object.entries(props)) {
      const path = prefix ? `${prefix}.${k}` : k;
      if ('properties' in m) walk(m.properties, path);
      else out.set(path, m.type);
    }
  };
  walk(mappings.properties, '');
  return out;
}
