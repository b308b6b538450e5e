#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
/**
 * A stand-in for the PassiveTotal blocklist API on loopback, for the demo and for trying the threat
 * enrichment without an account: serves one blocklist file at `/v2/netflow/blocklist/download` behind HTTP
 * basic auth (401 on wrong credentials, as the real API does), gzip-encoded when the client accepts it.
 *
 *   node scripts/blocklist-server.mjs FILE [--port 8089] [--user demo] [--key demo-key]
 *
 * then point the collector at it:
 *
 *   EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_THREAT_ENABLE=true \
 *   EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_THREAT_ENDPOINT=http://127.0.0.1:8089/v2/netflow/blocklist/download \
 *   EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_API_USER=demo EF_PROCESSOR_ENRICH_IPADDR_RISKIQ_API_KEY=demo-key \
 *   node collector/dist/cli/main.js run
 *
 * Plain Node, no dependencies (the demo runs it before `npm ci` has finished mattering).
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';

export const BLOCKLIST_PATH = '/v2/netflow/blocklist/download';

/** Starts the server; resolves with its URL, the requests it answered, and close(). */
export async function startBlocklistServer({ file, user = 'demo', key = 'demo-key', host = '127.0.0.1', port = 0 }) {
  const expected = `Basic ${Buffer.from(`${user}:${key}`).toString('base64')}`;
  const requests = [];
  const server = http.createServer((req, res) => {
    const ok = req.headers.authorization === expected;
    requests.push({ path: req.url, status: req.url !== BLOCKLIST_PATH ? 404 : ok ? 200 : 401 });
    if (req.url !== BLOCKLIST_PATH) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    if (!ok) return void res.writeHead(401, { 'content-type': 'application/json' }).end('{"message":"invalid credentials"}\n');
    // Read on every request, so an edited file is served at the next refresh.
    let body = readFileSync(file);
    const headers = { 'content-type': 'text/csv' };
    if (/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
      body = gzipSync(body);
      headers['content-encoding'] = 'gzip';
    }
    headers['content-length'] = body.length;
    res.writeHead(200, headers).end(body);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const url = `http://${host}:${server.address().port}${BLOCKLIST_PATH}`;
  return {
    url,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const opt = (name, def) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args.splice(i, 2)[1] : def;
  };
  const port = Number(opt('port', '8089'));
  const user = opt('user', 'demo');
  const key = opt('key', 'demo-key');
  const file = args[0];
  if (!file) {
    process.stderr.write('usage: node scripts/blocklist-server.mjs FILE [--port 8089] [--user demo] [--key demo-key]\n');
    process.exit(2);
  }
  const s = await startBlocklistServer({ file, user, key, port });
  process.stdout.write(`serving ${file} at ${s.url} (basic auth ${user}:<key>); Ctrl-C to stop\n`);
  process.on('SIGINT', () => void s.close().then(() => process.exit(0)));
}
