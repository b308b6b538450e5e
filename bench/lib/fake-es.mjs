// SPDX-License-Identifier: Apache-2.0
// A loopback stand-in for Elasticsearch 8.14 that answers what the collector calls, with the real
// response shapes so that client-side costs are not flattered (PERFORMANCE.md §6 "How to check them"):
//   GET /                                   info body, `x-elastic-product: Elasticsearch` (on every 2xx)
//   GET /_ilm/*                             400 "no handler found" like the OSS node (no X-Pack)
//   GET|PUT /_component_template/<name>     404 until PUT, then the stored body
//   GET|PUT /_index_template/<name>         same
//   PUT /_ingest/pipeline/<name>            acknowledged
//   POST /<target>/_bulk[?filter_path=...]  {"errors":false,"items":[...]} with one item per document,
//                                           filtered like ES does for filter_path; documents are
//                                           counted as newlines / 2, the body is never parsed
//   GET /_bench/stats                       {docs, requests, bytes} for the harness
// Run as a child: `node fake-es.mjs [port]`; prints {"port":N} on stdout once listening.
import http from 'node:http';

const port = Number(process.argv[2] ?? 0);
const stats = { docs: 0, requests: 0, bytes: 0, other: 0 };
const templates = { component: new Map(), index: new Map() };

const INFO = JSON.stringify({
  name: 'bench-fake-es',
  cluster_name: 'threatflow-bench',
  cluster_uuid: 'dHJlYXRmbG93LWJlbmNo',
  version: {
    number: '8.14.3',
    build_flavor: 'default',
    build_type: 'tar',
    build_hash: 'd55f984299e0e88dee72ebd8255f7ff130859ad0',
    build_date: '2024-07-07T22:04:49.882652950Z',
    build_snapshot: false,
    lucene_version: '9.10.0',
    minimum_wire_compatibility_version: '7.17.0',
    minimum_index_compatibility_version: '7.0.0',
  },
  tagline: 'You Know, for Search',
});

let seqNo = 0;

function send(req, res, status, body) {
  const accept = String(req.headers.accept ?? '');
  res.writeHead(status, {
    'x-elastic-product': 'Elasticsearch',
    'content-type': accept.includes('vnd.elasticsearch+json') ? 'application/vnd.elasticsearch+json;compatible-with=8' : 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

function notFound(kind, name) {
  return JSON.stringify({
    error: {
      root_cause: [{ type: 'resource_not_found_exception', reason: `${kind} matching [${name}] not found` }],
      type: 'resource_not_found_exception',
      reason: `${kind} matching [${name}] not found`,
    },
    status: 404,
  });
}

/** The response of a successful bulk of `n` create items, shaped by filter_path as ES shapes it. */
function bulkResponse(n, target, filterPath, took) {
  if (filterPath) {
    const wantsItems = filterPath.split(',').some((p) => p.startsWith('items'));
    const wantsStatus = filterPath.includes('items.*.status') || filterPath === 'items' || filterPath.includes('items.*,');
    const head = filterPath.includes('errors') ? '{"errors":false' : '{';
    if (!wantsItems || !wantsStatus) return `${head}}`;
    const item = '{"create":{"status":201}}';
    return `${head}${head.length > 1 ? ',' : ''}"items":[${n ? `${item},`.repeat(n - 1) + item : ''}]}`;
  }
  const index = `.ds-${target}-2026.01.01-000001`;
  const parts = new Array(n);
  for (let i = 0; i < n; i++) {
    parts[i] = `{"create":{"_index":"${index}","_id":"${(seqNo + i).toString(36).padStart(20, 'A')}","_version":1,"result":"created","_shards":{"total":1,"successful":1,"failed":0},"_seq_no":${seqNo + i},"_primary_term":1,"status":201}}`;
  }
  seqNo += n;
  return `{"took":${took},"errors":false,"items":[${parts.join(',')}]}`;
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  const path = url.pathname;
  const chunks = [];
  let newlines = 0;
  let bytes = 0;
  const isBulk = req.method === 'POST' && path.endsWith('/_bulk');
  const started = Date.now();
  req.on('data', (c) => {
    bytes += c.length;
    if (isBulk) {
      // Count documents without parsing: 2 lines per `create` item.
      let i = -1;
      while ((i = c.indexOf(0x0a, i + 1)) !== -1) newlines++;
    } else {
      chunks.push(c);
    }
  });
  req.on('end', () => {
    if (isBulk) {
      const n = newlines >> 1;
      stats.docs += n;
      stats.requests++;
      stats.bytes += bytes;
      const target = decodeURIComponent(path.slice(1, -'/_bulk'.length)) || 'default';
      return send(req, res, 200, bulkResponse(n, target, url.searchParams.get('filter_path'), Date.now() - started));
    }
    stats.other++;
    const body = Buffer.concat(chunks).toString('utf8');
    if (path === '/_bench/stats') return send(req, res, 200, JSON.stringify(stats));
    if (path === '/' && (req.method === 'GET' || req.method === 'HEAD')) return send(req, res, 200, INFO);
    if (path.startsWith('/_ilm')) {
      return send(req, res, 400, JSON.stringify({ error: `no handler found for uri [${path}] and method [${req.method}]` }));
    }
    let m = /^\/_(component|index)_template\/([^/]+)$/.exec(path);
    if (m) {
      const kind = m[1];
      const name = decodeURIComponent(m[2]);
      const store = templates[kind];
      if (req.method === 'PUT' || req.method === 'POST') {
        try {
          store.set(name, JSON.parse(body || '{}'));
        } catch {
          return send(req, res, 400, JSON.stringify({ error: { type: 'parse_exception', reason: 'bad body' }, status: 400 }));
        }
        return send(req, res, 200, '{"acknowledged":true}');
      }
      if (req.method === 'DELETE') {
        store.delete(name);
        return send(req, res, 200, '{"acknowledged":true}');
      }
      if (!store.has(name)) return send(req, res, 404, notFound(`${kind} template`, name));
      return kind === 'component'
        ? send(req, res, 200, JSON.stringify({ component_templates: [{ name, component_template: store.get(name) }] }))
        : send(req, res, 200, JSON.stringify({ index_templates: [{ name, index_template: store.get(name) }] }));
    }
    m = /^\/_ingest\/pipeline\/([^/]+)$/.exec(path);
    if (m && req.method === 'PUT') return send(req, res, 200, '{"acknowledged":true}');
    if (req.method === 'PUT') return send(req, res, 200, '{"acknowledged":true}');
    return send(req, res, 404, notFound('resource', path));
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
