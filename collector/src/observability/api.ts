// SPDX-License-Identifier: Apache-2.0
/**
 * Liveness `/livez`, readiness `/readyz`, `/health` and Prometheus `/metrics` on EF_API_IP:EF_API_PORT
 * (DESIGN.md §10). Metric names get the `threatflow_` prefix; counters end in `_total`.
 */
import http from 'node:http';

export interface ApiState {
  /** Metric key (`name{label="v"}`) → value, as Metrics.snapshot() gives it. */
  metrics(): Record<string, number>;
  ready(): boolean;
  health(): { status: 'ok' | 'degraded'; detail: Record<string, unknown> };
}

/** Metrics that go up and down; everything else is a counter (and gets `_total`). */
const GAUGES = new Set([
  'udp_read_buffer_bytes',
  'output_queue_batches',
  'output_spool_bytes',
  'output_spool_batches',
  'template_cache_size',
  'template_pending_sets',
  'threat_db_size',
  'threat_db_memory_size',
  'threat_db_age_seconds',
  'riskiq_queue_size',
  'riskiq_connections',
  'process_resident_memory_bytes',
  'process_heap_used_bytes',
  'uptime_seconds',
  'worker_backlog_bytes',
]);

/** One-line help for the metrics an operator looks at first. */
const HELP: Record<string, string> = {
  udp_datagrams_received: 'UDP datagrams received by the listeners',
  datagrams: 'datagrams handed to a decoder, by protocol',
  records: 'flow records decoded, by protocol',
  decode_errors: 'malformed data skipped, by protocol and reason',
  udp_receive_buffer_errors: 'datagrams the kernel dropped for a full receive buffer since start (all sockets)',
  output_documents: 'documents accepted by an output',
  output_dropped: 'documents an output dropped, by reason',
  output_dead_letter: 'documents Elasticsearch rejected for their content (written to the dead-letter file)',
  bulk_requests: 'bulk requests, by result',
  bulk_retries: 'bulk requests retried',
  template_cache_size: 'NetFlow v9/IPFIX templates held',
  template_pending_sets: 'data sets waiting for their template',
  process_resident_memory_bytes: 'resident memory of the collector process (all threads)',
};

export function prometheusText(values: Record<string, number>): string {
  const byName = new Map<string, string[]>();
  for (const [key, v] of Object.entries(values)) {
    const brace = key.indexOf('{');
    const base = brace < 0 ? key : key.slice(0, brace);
    const labels = brace < 0 ? '' : key.slice(brace);
    const gauge = GAUGES.has(base) || base.endsWith('_size');
    const name = `threatflow_${base.replace(/[^a-zA-Z0-9_]/g, '_')}${gauge ? '' : '_total'}`;
    if (!byName.has(name)) {
      const head = HELP[base] ? [`# HELP ${name} ${HELP[base]}`] : [];
      byName.set(name, [...head, `# TYPE ${name} ${gauge ? 'gauge' : 'counter'}`]);
    }
    byName.get(name)!.push(`${name}${labels} ${v}`);
  }
  return [...byName.values()].map((l) => l.join('\n')).join('\n') + '\n';
}

export function startApi(ip: string, port: number, state: ApiState): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/livez') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      const ok = state.ready();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ready\n' : 'not ready\n');
    } else if (path === '/health') {
      const h = state.health();
      res.writeHead(h.status === 'ok' ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(h) + '\n');
    } else if (path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(prometheusText(state.metrics()));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, ip, () => resolve(server));
  });
}
