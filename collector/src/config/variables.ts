// SPDX-License-Identifier: Apache-2.0
/**
 * Every `EF_*` variable, declared once (STYLE.md §3): its name, where its value lands in the `Config`
 * object, its kind (which says how it is parsed and what is allowed), its default, whether it is a secret
 * and what it means. Parsing and validation live in `env.ts`; this file is data plus the types that tie
 * each declaration to the `Config` field it fills, so that a declaration whose kind or default does not
 * fit its field does not compile.
 *
 * Variable names are those of the ElastiFlow Unified Flow Collector where it has them (DESIGN.md
 * preamble), so that threatflow is a drop-in for its RiskIQ integration.
 */

/** Listening and dispatch (DESIGN.md §3). */
export interface ServerConfig {
  /** Address the UDP listeners bind to. */
  udpIp: string;
  /** UDP ports to listen on; every port takes every protocol. */
  udpPorts: number[];
  /** SO_RCVBUF size to request, in bytes; the kernel may grant less. */
  udpReadBufferMaxSize: number;
  /** Decoder worker threads; 0 means automatic, see `effectiveWorkers`. */
  workers: number;
}

/** Protocol switches and template handling (DESIGN.md §3). */
export interface DecodeConfig {
  protocols: { netflow5: boolean; netflow9: boolean; ipfix: boolean; sflow5: boolean };
  /** Data sets held per exporter while their template is missing. */
  templatePendingMax: number;
  /** How long such data sets are held, in seconds. */
  templatePendingMaxAgeSeconds: number;
}

/** RiskIQ PassiveTotal threat enrichment (DESIGN.md §5). */
export interface RiskiqThreatConfig {
  enabled: boolean;
  apiUser: string;
  /** Secret. */
  apiKey: string;
  threatEndpoint: string;
  threatRefreshIntervalMinutes: number;
  apiTimeoutSeconds: number;
  /** Include/exclude list file; "" when not set. */
  threatInclExclPath: string;
  /** PassiveTotal launch URL template containing `{{value}}` (DESIGN.md §4). */
  launchUrl: string;
  threatCachePath: string;
}

export interface EnrichConfig {
  communityId: { enabled: boolean; seed: number };
  /** Extra ranges to treat as private (DESIGN.md §7), as given, e.g. `203.0.113.0/24`. */
  privateCidrs: string[];
  expandClientServer: boolean;
  riskiq: RiskiqThreatConfig;
}

/**
 * Elasticsearch output (DESIGN.md §8). This is the effective configuration: when `cloudId` is set,
 * `addresses` is empty; when `apiKey` is set, `username` and `password` are empty.
 */
export interface ElasticsearchOutputConfig {
  enabled: boolean;
  /** `host:port` without a scheme; `tlsEnabled` chooses https. */
  addresses: string[];
  username: string;
  /** Secret. */
  password: string;
  /** Secret. */
  apiKey: string;
  cloudId: string;
  tlsEnabled: boolean;
  tlsSkipVerification: boolean;
  tlsCaCertFilepath: string;
  batchDeadlineMs: number;
  batchMaxBytes: number;
  batchMaxDocs: number;
  /** Bulk requests in flight. */
  concurrency: number;
  timestampSource: 'end' | 'start' | 'export' | 'collect';
  indexTemplate: {
    enabled: boolean;
    overwrite: boolean;
    shards: number;
    replicas: number;
    /** An Elasticsearch time value, e.g. `10s`, or `-1`. */
    refreshInterval: string;
    codec: 'default' | 'best_compression';
    ilmLifecycle: string;
    pipelineDefault: string;
    pipelineFinal: string;
  };
  retryEnabled: boolean;
  maxRetries: number;
  retryBackoffMs: number;
  deadLetterPath: string;
  spoolPath: string;
  spoolMaxSize: number;
  dataStream: string;
}

export interface StdoutOutputConfig {
  enabled: boolean;
  format: 'json' | 'json_pretty';
}

/** RiskIQ flow export (DESIGN.md §6). */
export interface RiskiqOutputConfig {
  enabled: boolean;
  host: string;
  port: number;
  /** Lower-case UUID; "" when not set. */
  customerUuid: string;
  /** Secret: base64 of a 16, 24 or 32-byte AES key; "" when not set. */
  customerEncryptionKey: string;
  tlsEnabled: boolean;
  /** Connect even when the receiver's certificate does not verify (testing only). */
  tlsSkipVerification: boolean;
  /** PEM file of the CA(s) to verify the receiver with instead of the system CAs; "" when not set. */
  tlsCaCertFilepath: string;
  batchSize: number;
  batchDeadlineMs: number;
  queueMax: number;
}

export interface OutputConfig {
  elasticsearch: ElasticsearchOutputConfig;
  stdout: StdoutOutputConfig;
  riskiq: RiskiqOutputConfig;
}

export interface LoggerConfig {
  level: 'debug' | 'info' | 'warn' | 'error';
}

/** Liveness, readiness and metrics endpoints (DESIGN.md §10). */
export interface ApiConfig {
  enabled: boolean;
  ip: string;
  port: number;
}

/** The whole collector configuration, as `loadConfig` returns it. */
export interface Config {
  server: ServerConfig;
  decode: DecodeConfig;
  enrich: EnrichConfig;
  output: OutputConfig;
  logger: LoggerConfig;
  api: ApiConfig;
}

// ---------------------------------------------------------------------------------------------------------
// Kinds of values.

export interface BoolKind {
  type: 'bool';
}
export interface IntKind {
  type: 'int';
  min: number;
  max: number;
  /** Unit shown after the range, e.g. `ms`, `bytes`. */
  unit?: string;
}
/** One TCP port, 1..65535. */
export interface PortKind {
  type: 'port';
}
export interface EnumKind<T extends string> {
  type: 'enum';
  values: readonly T[];
}
/** Free text; `pattern` (with `allowed` describing it) restricts it; `required` rejects the empty string. */
export interface StringKind {
  type: 'string';
  required: boolean;
  pattern?: RegExp;
  allowed?: string;
  /** Longest value in UTF-8 bytes. */
  maxBytes?: number;
}
/** An IPv4 or IPv6 address literal (no zone). */
export interface IpKind {
  type: 'ip';
}
/** A host name (RFC 1123) or an IPv4/IPv6 address literal. */
export interface HostKind {
  type: 'host';
}
/** Comma-separated UDP ports, at least one, no duplicates. */
export interface PortListKind {
  type: 'ports';
}
/** Comma-separated `host:port`, at least one, no scheme. */
export interface HostPortListKind {
  type: 'hostports';
  /** What to say to someone who wrote `http://…`. */
  schemeHint?: string;
  /** What to say to someone who wrote `user:pw@host:port` (refused, never echoed). */
  credentialsHint?: string;
}
/** Comma-separated IPv4/IPv6 CIDRs, possibly none. */
export interface CidrListKind {
  type: 'cidrs';
}
/** A UUID, or "" for none. */
export interface UuidKind {
  type: 'uuid';
}
/** Base64 of a key of one of `bytes` lengths, or "" for none. */
export interface Base64KeyKind {
  type: 'base64key';
  bytes: readonly number[];
}
/** An absolute http(s) URL; `placeholder` must appear in it when given. */
export interface UrlKind {
  type: 'url';
  placeholder?: string;
  /** What to say to someone who wrote `https://user:pw@host/` (refused, never echoed). */
  credentialsHint?: string;
}
/** A file path, or "" for none; `mustExist` requires a readable regular file. */
export interface PathKind {
  type: 'path';
  mustExist: boolean;
  /** Whether "" (no file) is allowed. */
  optional: boolean;
  /** The file must hold PEM certificates (at least one, each a valid X.509 certificate). Needs `mustExist`. */
  pemCertificates?: boolean;
}
/** An Elasticsearch time value (`10s`, `500ms`, `1m`) or `-1`. */
export interface EsTimeKind {
  type: 'estime';
}
/** An Elastic Cloud ID (`name:base64(host$es$kibana)`), or "" for none. */
export interface CloudIdKind {
  type: 'cloudid';
}

export type StringValuedKind =
  | StringKind
  | IpKind
  | HostKind
  | UuidKind
  | Base64KeyKind
  | UrlKind
  | PathKind
  | EsTimeKind
  | CloudIdKind;

export type Kind =
  | BoolKind
  | IntKind
  | PortKind
  | EnumKind<string>
  | StringValuedKind
  | PortListKind
  | HostPortListKind
  | CidrListKind;

/** The kinds that can fill a field of type T. */
export type KindFor<T> = [T] extends [boolean]
  ? BoolKind
  : [T] extends [number]
    ? IntKind | PortKind
    : [T] extends [number[]]
      ? PortListKind
      : [T] extends [string[]]
        ? HostPortListKind | CidrListKind
        : [T] extends [string]
          ? string extends T
            ? StringValuedKind
            : EnumKind<T>
          : never;

// ---------------------------------------------------------------------------------------------------------
// Paths into Config.

type Leaf = string | number | boolean | readonly unknown[];

/** Dotted paths of the leaves of T, e.g. `server.udpPorts`. */
export type LeafPath<T, Prefix extends string = ''> = {
  [K in keyof T & string]: T[K] extends Leaf ? `${Prefix}${K}` : LeafPath<T[K], `${Prefix}${K}.`>;
}[keyof T & string];

/** The type of the leaf of T at dotted path P. */
export type AtPath<T, P extends string> = P extends `${infer H}.${infer R}`
  ? H extends keyof T
    ? AtPath<T[H], R>
    : never
  : P extends keyof T
    ? T[P]
    : never;

export type ConfigPath = LeafPath<Config>;

/** Which part of the configuration a variable belongs to; used to group the reference table. */
export type Group =
  | 'server'
  | 'decode'
  | 'enrich'
  | 'enrich.riskiq'
  | 'output.elasticsearch'
  | 'output.stdout'
  | 'output.riskiq'
  | 'logger'
  | 'api';

export interface Variable<P extends ConfigPath = ConfigPath> {
  name: string;
  path: P;
  kind: KindFor<AtPath<Config, P>>;
  default: AtPath<Config, P>;
  /** Secrets are never printed: `[redacted]` in errors and in the configuration dump. */
  secret: boolean;
  description: string;
}

/** A declared variable of any path, as the parser sees it. */
export interface AnyVariable {
  name: string;
  path: ConfigPath;
  kind: Kind;
  default: unknown;
  secret: boolean;
  description: string;
}

/** A declaration whose path keeps its literal type, so that the table can be checked for completeness. */
export type DeclaredVariable<P extends ConfigPath> = AnyVariable & { readonly path: P };

function v<P extends ConfigPath>(
  name: string,
  path: P,
  kind: KindFor<AtPath<Config, P>>,
  def: AtPath<Config, P>,
  description: string,
  opts: { secret?: boolean } = {},
): DeclaredVariable<P> {
  const decl: Variable<P> = { name, path, kind, default: def, secret: opts.secret ?? false, description };
  return decl as DeclaredVariable<P>;
}

const bool: BoolKind = { type: 'bool' };
const port: PortKind = { type: 'port' };
const ip: IpKind = { type: 'ip' };
const int = (min: number, max: number, unit?: string): IntKind =>
  unit === undefined ? { type: 'int', min, max } : { type: 'int', min, max, unit };
const text = (required: boolean): StringKind => ({ type: 'string', required });
const file = (mustExist: boolean, optional: boolean): PathKind => ({ type: 'path', mustExist, optional });
const oneOf = <T extends string>(...values: T[]): EnumKind<T> => ({ type: 'enum', values });

/** Elasticsearch index, data stream, pipeline and policy names: lower-case, none of `\/*?"<>|,# :`, ≤ 255 bytes. */
const esName = (required: boolean, what: string): StringKind => ({
  type: 'string',
  required,
  pattern: /^(?![-_+.])(?!\.\.?$)(?!.*\p{Lu})[^\\/*?"<>|,# :]+$/u,
  maxBytes: 255,
  allowed: `${required ? '' : 'empty or '}${what}: lower-case, at most 255 bytes, not starting with -, _, + or ., without spaces or any of \\ / * ? " < > | , # :`,
});

/**
 * A data stream name: an {@link esName} in the `type-dataset-namespace` shape of the Elastic data stream
 * naming scheme (three or more non-empty parts separated by `-`; the namespace, last, has no `-`).
 */
const dataStreamName: StringKind = {
  type: 'string',
  required: true,
  pattern: /^(?![-_+.])(?!.*\p{Lu})(?=[^-]+-[^-]+(?:-[^-]+)*-[^-]+$)[^\\/*?"<>|,# :]+$/u,
  maxBytes: 255,
  allowed:
    'a data stream name type-dataset-namespace, e.g. logs-threatflow.flows-default: lower-case, at most 255 bytes, not starting with -, _, + or ., without spaces or any of \\ / * ? " < > | , # :',
};

const MAX_INT32 = 2_147_483_647;

const RISKIQ_ENRICH = 'EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_';
const ES = 'EF_OUTPUT_ELASTICSEARCH_';
const RISKIQ_OUT = 'EF_OUTPUT_RISKIQ_';

export const SERVER_VARIABLES = [
  v('EF_FLOW_SERVER_UDP_IP', 'server.udpIp', ip, '0.0.0.0', 'Address the UDP flow listeners bind to.'),
  v('EF_FLOW_SERVER_UDP_PORT', 'server.udpPorts', { type: 'ports' }, [2055],
    'UDP ports to listen on; each port accepts NetFlow v5/v9, IPFIX and sFlow v5.'),
  v('EF_FLOW_SERVER_UDP_READ_BUFFER_MAX_SIZE', 'server.udpReadBufferMaxSize', int(1, MAX_INT32, 'bytes'), 33_554_432,
    'Socket receive buffer (SO_RCVBUF) to request; the size the kernel grants is logged.'),
  v('EF_FLOW_SERVER_WORKERS', 'server.workers', int(0, 1024), 0,
    'Decoder worker threads; 0 means one less than the number of CPU cores, at least 1.'),
] as const;

export const DECODE_VARIABLES = [
  v('EF_PROCESSOR_DECODE_NETFLOW5_ENABLE', 'decode.protocols.netflow5', bool, true, 'Decode NetFlow v5.'),
  v('EF_PROCESSOR_DECODE_NETFLOW9_ENABLE', 'decode.protocols.netflow9', bool, true, 'Decode NetFlow v9.'),
  v('EF_PROCESSOR_DECODE_IPFIX_ENABLE', 'decode.protocols.ipfix', bool, true, 'Decode IPFIX.'),
  v('EF_PROCESSOR_DECODE_SFLOW5_ENABLE', 'decode.protocols.sflow5', bool, true, 'Decode sFlow v5.'),
  v('EF_PROCESSOR_DECODE_TEMPLATE_PENDING_MAX', 'decode.templatePendingMax', int(0, 1_000_000, 'data sets'), 1024,
    'NetFlow v9/IPFIX data sets held per exporter while their template is missing; 0 holds none.'),
  v('EF_PROCESSOR_DECODE_TEMPLATE_PENDING_MAX_AGE', 'decode.templatePendingMaxAgeSeconds', int(1, 86_400, 's'), 60,
    'Seconds a data set waits for its template before it is dropped.'),
] as const;

export const ENRICH_VARIABLES = [
  v('EF_PROCESSOR_ENRICH_COMMUNITYID_ENABLE', 'enrich.communityId.enabled', bool, true,
    'Add the Community ID v1 flow hash (`network.community_id`).'),
  v('EF_PROCESSOR_ENRICH_COMMUNITYID_SEED', 'enrich.communityId.seed', int(0, 65_535), 0, 'Community ID seed.'),
  v('EF_PROCESSOR_ENRICH_IPADDR_PRIVATE_CIDRS', 'enrich.privateCidrs', { type: 'cidrs' }, [],
    'Extra ranges to treat as private, in addition to the IANA special-purpose ranges.'),
  v('EF_PROCESSOR_EXPAND_CLISRV', 'enrich.expandClientServer', bool, true,
    'Infer client and server from TCP flags and well-known ports (`client.*`, `server.*`).'),
] as const;

export const RISKIQ_THREAT_VARIABLES = [
  v(`${RISKIQ_ENRICH}THREAT_ENABLE`, 'enrich.riskiq.enabled', bool, false,
    `Enrich flows with the RiskIQ PassiveTotal threat DB; needs \`${RISKIQ_ENRICH}API_USER\` and \`${RISKIQ_ENRICH}API_KEY\`.`),
  v(`${RISKIQ_ENRICH}API_USER`, 'enrich.riskiq.apiUser', text(false), '', 'PassiveTotal API user (usually an email address).'),
  v(`${RISKIQ_ENRICH}API_KEY`, 'enrich.riskiq.apiKey', text(false), '', 'PassiveTotal API key.', { secret: true }),
  v(`${RISKIQ_ENRICH}THREAT_ENDPOINT`, 'enrich.riskiq.threatEndpoint',
    { type: 'url', credentialsHint: `use ${RISKIQ_ENRICH}API_USER and ${RISKIQ_ENRICH}API_KEY` },
    'https://api.passivetotal.org/v2/netflow/blocklist/download', 'URL the threat DB is downloaded from; no credentials in it (they are refused).'),
  v(`${RISKIQ_ENRICH}THREAT_REFRESH_INTERVAL`, 'enrich.riskiq.threatRefreshIntervalMinutes', int(60, 525_600, 'minutes'),
    1440, 'Minutes between threat DB downloads.'),
  v(`${RISKIQ_ENRICH}API_TIMEOUT`, 'enrich.riskiq.apiTimeoutSeconds', int(1, 3600, 's'), 30,
    'Seconds a threat DB download may take, body included.'),
  v(`${RISKIQ_ENRICH}THREAT_INCLEXCL_PATH`, 'enrich.riskiq.threatInclExclPath', file(true, true), '',
    'File of IPs, CIDRs and ranges to include in or exclude (`!10.0.0.0/8`) from threat lookups.'),
  v(`${RISKIQ_ENRICH}LAUNCH_URL`, 'enrich.riskiq.launchUrl',
    { type: 'url', placeholder: '{{value}}', credentialsHint: 'the URL is written into every enriched document' },
    'https://community.riskiq.com/research?query={{value}}',
    'PassiveTotal launch URL template; `{{value}}` is replaced by the IP address.'),
  v(`${RISKIQ_ENRICH}THREAT_CACHE_PATH`, 'enrich.riskiq.threatCachePath', file(false, false), './data/riskiq-threat-db.json',
    'Where the last good threat DB is kept, so that a restart without API access still enriches.'),
] as const;

export const ELASTICSEARCH_VARIABLES = [
  v(`${ES}ENABLE`, 'output.elasticsearch.enabled', bool, false, 'Index flow documents into Elasticsearch.'),
  v(`${ES}ADDRESSES`, 'output.elasticsearch.addresses',
    { type: 'hostports', schemeHint: `set ${ES}TLS_ENABLE=true for https`, credentialsHint: `use ${ES}USERNAME and ${ES}PASSWORD, or ${ES}API_KEY` },
    ['127.0.0.1:9200'],
    `Elasticsearch nodes as \`host:port\`, no scheme (\`${ES}TLS_ENABLE\` selects https); ignored when \`${ES}CLOUD_ID\` is set.`),
  v(`${ES}USERNAME`, 'output.elasticsearch.username', text(false), '', 'User for basic authentication.'),
  v(`${ES}PASSWORD`, 'output.elasticsearch.password', text(false), '',
    `Password for basic authentication; needs \`${ES}USERNAME\`. Kept as given: secrets are not trimmed.`, { secret: true }),
  v(`${ES}API_KEY`, 'output.elasticsearch.apiKey', text(false), '',
    'API key (the base64 `id:api_key` form); wins over user and password (a warning names them). Kept as given: secrets are not trimmed.', { secret: true }),
  v(`${ES}CLOUD_ID`, 'output.elasticsearch.cloudId', { type: 'cloudid' }, '',
    `Elastic Cloud ID; wins over \`${ES}ADDRESSES\`.`),
  v(`${ES}TLS_ENABLE`, 'output.elasticsearch.tlsEnabled', bool, false, 'Connect with https.'),
  v(`${ES}TLS_SKIP_VERIFICATION`, 'output.elasticsearch.tlsSkipVerification', bool, false,
    'Do not verify the server certificate (testing only).'),
  v(`${ES}TLS_CA_CERT_FILEPATH`, 'output.elasticsearch.tlsCaCertFilepath', file(true, true), '',
    'PEM file of the CA that signed the server certificate.'),
  v(`${ES}BATCH_DEADLINE`, 'output.elasticsearch.batchDeadlineMs', int(1, 3_600_000, 'ms'), 2000,
    'Milliseconds after which a partial bulk request is sent.'),
  v(`${ES}BATCH_MAX_BYTES`, 'output.elasticsearch.batchMaxBytes', int(1024, MAX_INT32, 'bytes'), 8_388_608,
    'Bulk request size at which it is sent.'),
  v(`${ES}BATCH_MAX_DOCS`, 'output.elasticsearch.batchMaxDocs', int(1, 1_000_000, 'documents'), 5000,
    'Documents per bulk request at which it is sent.'),
  v(`${ES}CONCURRENCY`, 'output.elasticsearch.concurrency', int(1, 64, 'requests'), 4, 'Bulk requests in flight.'),
  v(`${ES}TIMESTAMP_SOURCE`, 'output.elasticsearch.timestampSource', oneOf('end', 'start', 'export', 'collect'), 'end',
    'What `@timestamp` is: flow end, flow start, export time or collection time.'),
  v(`${ES}INDEX_TEMPLATE_ENABLE`, 'output.elasticsearch.indexTemplate.enabled', bool, true,
    'Install the component and index templates of the flows data stream at startup, and the ILM policy they name when the cluster has ILM and lacks it (no ingest pipeline is created).'),
  v(`${ES}INDEX_TEMPLATE_OVERWRITE`, 'output.elasticsearch.indexTemplate.overwrite', bool, true,
    '`true`: rewrite the templates at every startup, whatever is installed; `false`: write them only when missing or older than this version.'),
  v(`${ES}INDEX_TEMPLATE_SHARDS`, 'output.elasticsearch.indexTemplate.shards', int(1, 1024), 1, 'Primary shards per backing index.'),
  v(`${ES}INDEX_TEMPLATE_REPLICAS`, 'output.elasticsearch.indexTemplate.replicas', int(0, 1024), 1, 'Replicas per shard.'),
  v(`${ES}INDEX_TEMPLATE_REFRESH_INTERVAL`, 'output.elasticsearch.indexTemplate.refreshInterval', { type: 'estime' }, '10s',
    'Index refresh interval.'),
  v(`${ES}INDEX_TEMPLATE_CODEC`, 'output.elasticsearch.indexTemplate.codec', oneOf('default', 'best_compression'),
    'best_compression', 'Stored fields compression.'),
  v(`${ES}INDEX_TEMPLATE_ILM_LIFECYCLE`, 'output.elasticsearch.indexTemplate.ilmLifecycle', esName(false, 'an ILM policy name'),
    'threatflow', 'ILM policy named in the index settings, where the cluster has ILM; created at startup when missing (rollover daily or at 50 GB per primary shard, delete after 30 days), an existing policy is never changed; empty for none.'),
  v(`${ES}INDEX_TEMPLATE_PIPELINE_DEFAULT`, 'output.elasticsearch.indexTemplate.pipelineDefault',
    esName(false, 'an ingest pipeline name'), '', 'Default ingest pipeline, which must exist in the cluster (checked at startup; `threatflow run` does not create it, `threatflow setup` installs the bundled `threatflow-flows`); empty for none.'),
  v(`${ES}INDEX_TEMPLATE_PIPELINE_FINAL`, 'output.elasticsearch.indexTemplate.pipelineFinal',
    esName(false, 'an ingest pipeline name'), '', 'Final ingest pipeline, which must exist in the cluster (checked at startup); empty for none.'),
  v(`${ES}RETRY_ENABLE`, 'output.elasticsearch.retryEnabled', bool, true,
    'Retry bulk requests and documents on 429, 5xx and connection errors.'),
  v(`${ES}MAX_RETRIES`, 'output.elasticsearch.maxRetries', int(0, 100), 3, 'Retries of a failed bulk request or rejected document (429, 5xx, connection errors).'),
  v(`${ES}RETRY_BACKOFF`, 'output.elasticsearch.retryBackoffMs', int(1, 600_000, 'ms'), 1000,
    'First retry delay in milliseconds; it doubles on each retry.'),
  v(`${ES}DEAD_LETTER_PATH`, 'output.elasticsearch.deadLetterPath', file(false, false), './data/elasticsearch-dead-letter.ndjson',
    'NDJSON file of documents rejected for their content, with the reason.'),
  v(`${ES}SPOOL_PATH`, 'output.elasticsearch.spoolPath', file(false, false), './data/spool',
    `Directory of the disk spool: batches Elasticsearch does not take after \`${ES}MAX_RETRIES\` retries (or that overflow the in-memory queue) are kept here, one file per batch (\`worker-N/\` per decoding worker), and replayed oldest first when it answers again, including at the next start.`),
  v(`${ES}SPOOL_MAX_SIZE`, 'output.elasticsearch.spoolMaxSize', int(0, Number.MAX_SAFE_INTEGER, 'bytes'), 1_073_741_824,
    `Most bytes the spool holds (shared equally by the decoding workers); a batch beyond it is dropped and counted as \`output_dropped{reason="spool_full"}\`, never an older one. 0 turns the spool off: such batches are dropped and counted.`),
  v(`${ES}DATA_STREAM`, 'output.elasticsearch.dataStream', dataStreamName, 'logs-threatflow.flows-default',
    'Data stream the flow documents are written to; outside `logs-threatflow.flows-*` (the index template\'s pattern) documents do not get the threatflow mappings, and a warning says so.'),
] as const;

export const STDOUT_VARIABLES = [
  v('EF_OUTPUT_STDOUT_ENABLE', 'output.stdout.enabled', bool, false, 'Write flow documents to standard output.'),
  v('EF_OUTPUT_STDOUT_FORMAT', 'output.stdout.format', oneOf('json', 'json_pretty'), 'json',
    '`json`: one document a line; `json_pretty`: indented.'),
] as const;

export const RISKIQ_OUTPUT_VARIABLES = [
  v(`${RISKIQ_OUT}ENABLE`, 'output.riskiq.enabled', bool, false,
    `Export the public side of flows to RiskIQ; needs \`${RISKIQ_OUT}CUSTOMER_UUID\` and \`${RISKIQ_OUT}CUSTOMER_ENCRYPTION_KEY\`.`),
  v(`${RISKIQ_OUT}HOST`, 'output.riskiq.host', { type: 'host' }, 'flow.riskiq.net', 'RiskIQ flow receiver host name or address.'),
  v(`${RISKIQ_OUT}PORT`, 'output.riskiq.port', port, 20000, 'RiskIQ flow receiver TCP port.'),
  v(`${RISKIQ_OUT}CUSTOMER_UUID`, 'output.riskiq.customerUuid', { type: 'uuid' }, '', 'Customer UUID given by RiskIQ.'),
  v(`${RISKIQ_OUT}CUSTOMER_ENCRYPTION_KEY`, 'output.riskiq.customerEncryptionKey', { type: 'base64key', bytes: [16, 24, 32] },
    '', 'Customer AES key given by RiskIQ, base64.', { secret: true }),
  v(`${RISKIQ_OUT}TLS_ENABLE`, 'output.riskiq.tlsEnabled', bool, false, 'Connect to the receiver with TLS.'),
  v(`${RISKIQ_OUT}TLS_SKIP_VERIFICATION`, 'output.riskiq.tlsSkipVerification', bool, false,
    'Do not verify the receiver certificate (testing only; a warning says so at startup).'),
  v(`${RISKIQ_OUT}TLS_CA_CERT_FILEPATH`, 'output.riskiq.tlsCaCertFilepath', { ...file(true, true), pemCertificates: true }, '',
    `PEM file of the CA(s) that signed the receiver certificate, trusted instead of the system CAs (empty: the system CAs); the name verified and sent as SNI is \`${RISKIQ_OUT}HOST\` when it is a host name.`),
  v(`${RISKIQ_OUT}BATCH_SIZE`, 'output.riskiq.batchSize', int(1, 1_000_000, 'records'), 1000, 'Records per frame.'),
  v(`${RISKIQ_OUT}BATCH_DEADLINE`, 'output.riskiq.batchDeadlineMs', int(1, 3_600_000, 'ms'), 5000,
    'Milliseconds after which a partial frame is sent.'),
  v(`${RISKIQ_OUT}QUEUE_MAX`, 'output.riskiq.queueMax', int(1, 100_000_000, 'records'), 100_000,
    'Records queued while the receiver is unreachable; the oldest are dropped beyond it.'),
] as const;

export const LOGGER_VARIABLES = [
  v('EF_LOGGER_LEVEL', 'logger.level', oneOf('debug', 'info', 'warn', 'error'), 'info', 'Least severe level logged.'),
] as const;

export const API_VARIABLES = [
  v('EF_API_ENABLE', 'api.enabled', bool, true, 'Serve `/livez`, `/readyz`, `/health` and `/metrics`.'),
  v('EF_API_IP', 'api.ip', ip, '0.0.0.0', 'Address the API server binds to.'),
  v('EF_API_PORT', 'api.port', port, 8080, 'TCP port of the API server.'),
] as const;

/** Every variable, grouped in the order of the configuration reference. */
export const VARIABLES = [
  ...SERVER_VARIABLES,
  ...DECODE_VARIABLES,
  ...ENRICH_VARIABLES,
  ...RISKIQ_THREAT_VARIABLES,
  ...ELASTICSEARCH_VARIABLES,
  ...STDOUT_VARIABLES,
  ...RISKIQ_OUTPUT_VARIABLES,
  ...LOGGER_VARIABLES,
  ...API_VARIABLES,
] as const satisfies readonly AnyVariable[];

/**
 * Compile-time completeness: a `Config` field that no variable fills makes this line fail to compile,
 * naming the field.
 */
type Undeclared = Exclude<ConfigPath, (typeof VARIABLES)[number]['path']>;
const everyFieldDeclared: [Undeclared] extends [never] ? true : Undeclared = true;
void everyFieldDeclared;

export const VARIABLES_BY_NAME: ReadonlyMap<string, AnyVariable> = new Map(VARIABLES.map((d) => [d.name, d]));

/** The group a variable belongs to, from its path. */
export function groupOf(d: AnyVariable): Group {
  const p = d.path;
  if (p.startsWith('enrich.riskiq.')) return 'enrich.riskiq';
  if (p.startsWith('output.')) return p.split('.').slice(0, 2).join('.') as Group;
  return p.split('.')[0] as Group;
}

// ---------------------------------------------------------------------------------------------------------
// Deprecated names (Akvorado's deprecated-field registry): a name here stops startup with the replacement.

export interface DeprecatedPrefix {
  /** Old prefix, e.g. `EF_FLOW_OUTPUT_RISKIQ_`. */
  from: string;
  /** New prefix that replaces it, e.g. `EF_OUTPUT_RISKIQ_`. */
  to: string;
  /** Release that renamed it. */
  since: string;
}

export const DEPRECATED_PREFIXES: readonly DeprecatedPrefix[] = [
  { from: 'EF_FLOW_OUTPUT_RISKIQ_', to: 'EF_OUTPUT_RISKIQ_', since: '6.0' },
  { from: 'EF_FLOW_DECODER_ENRICH_RISKIQ_', to: 'EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_', since: '6.0' },
];

// ---------------------------------------------------------------------------------------------------------
// How kinds and values read in messages and in the reference table.

/** What a variable of this kind accepts, as a phrase that completes "... is not valid: <allowed>". */
export function allowedText(kind: Kind): string {
  switch (kind.type) {
    case 'bool':
      return 'true or false (case-insensitive; no other spellings)';
    case 'int':
      return `an integer from ${kind.min} to ${kind.max}${kind.unit ? ` (${kind.unit})` : ''}`;
    case 'port':
      return 'a TCP port 1-65535';
    case 'enum':
      return `one of ${kind.values.join(', ')}`;
    case 'string':
      return kind.allowed ?? (kind.required ? 'a non-empty string' : 'any string');
    case 'ip':
      return 'an IPv4 or IPv6 address literal, e.g. 0.0.0.0 or ::';
    case 'host':
      return 'a host name or an IPv4/IPv6 address';
    case 'ports':
      return 'a comma-separated list of UDP ports 1-65535';
    case 'hostports':
      return 'a comma-separated list of host:port, without a scheme (IPv6 as [address]:port)';
    case 'cidrs':
      return 'empty or a comma-separated list of IPv4/IPv6 CIDRs (address/prefix, no host bits), e.g. 10.0.0.0/8,fd00::/8';
    case 'uuid':
      return 'empty or a UUID (8-4-4-4-12 hex digits)';
    case 'base64key':
      return `empty or base64 of a ${listOr(kind.bytes.map(String))}-byte key`;
    case 'url':
      return `an http:// or https:// URL${kind.placeholder ? ` containing ${kind.placeholder}` : ''}`;
    case 'path':
      return `${kind.optional ? 'empty or ' : ''}${kind.pemCertificates ? 'the path of an existing readable PEM file of certificates' : kind.mustExist ? 'the path of an existing readable file' : 'a file path'}`;
    case 'estime':
      return 'an Elasticsearch time value (a whole number with d, h, m, s, ms, micros or nanos, e.g. 10s) or -1';
    case 'cloudid':
      return 'empty or an Elastic Cloud ID (name:base64 as shown in the Elastic Cloud console)';
  }
}

/** A typed value as it would be written in the environment. */
export function envText(value: unknown): string {
  if (Array.isArray(value)) return value.map(String).join(',');
  return String(value);
}

function listOr(items: string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}
