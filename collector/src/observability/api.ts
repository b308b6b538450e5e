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

const GAUGES = new Set(['udp_read_buffer_bytes', 'output_queue_batches', 'template_cache_size', 'uptime_seconds']);

export function prometheusText(values: Record<string, number>): string {
  const byName = new Map<string, string[]>();
  for (const [key, v] of Object.entries(values)) {
    const brace = key.indexOf('{');
    const base = brace < 0 ? key : key.slice(0, brace);
    const labels = brace < 0 ? '' : key.slice(brace);
    const gauge = GAUGES.has(base) || base.endsWith('_size');
    const name = `threatflow_${base.replace(/[^a-zA-Z0-9_]/g, '_')}${gauge ? '' : '_total'}`;
    if (!byName.has(name)) byName.set(name, [`# TYPE ${name} ${gauge ? 'gauge' : 'counter'}`]);
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
