// SPDX-License-Identifier: Apache-2.0
/**
 * A real HTTP or HTTPS server on loopback that plays the PassiveTotal blocklist API for the threat tests:
 * it checks HTTP basic auth, serves a body (gzip-encoded when asked and the client accepts it), and can
 * misbehave on purpose: an error status, a connection reset, a body shorter than its Content-Length, or a
 * body that stalls.
 *
 * HTTPS uses a certificate made at test time with `openssl`: a throw-away CA and a server certificate for
 * 127.0.0.1/localhost signed by it. Clients are given the CA (or NODE_EXTRA_CA_CERTS for a child process):
 * TLS verification stays on.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export const API_PATH = '/v2/netflow/blocklist/download';

export interface TestPki {
  dir: string;
  caPem: string;
  caFile: string;
  keyPem: string;
  certPem: string;
}

let pki: TestPki | null = null;

/** A CA and a server certificate for 127.0.0.1 and localhost, made once per test process. */
export function testPki(): TestPki {
  if (pki) return pki;
  const dir = mkdtempSync(join(tmpdir(), 'tf-pki-'));
  const p = (f: string) => join(dir, f);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl('req', '-x509', ...ec, '-keyout', p('ca.key'), '-out', p('ca.pem'), '-days', '2', '-subj', '/CN=threatflow test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  ssl('req', ...ec, '-keyout', p('srv.key'), '-out', p('srv.csr'), '-subj', '/CN=localhost');
  writeFileSync(p('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n');
  ssl('x509', '-req', '-in', p('srv.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial', '-out', p('srv.pem'), '-days', '2', '-extfile', p('ext.cnf'));
  pki = { dir, caPem: readFileSync(p('ca.pem'), 'utf8'), caFile: p('ca.pem'), keyPem: readFileSync(p('srv.key'), 'utf8'), certPem: readFileSync(p('srv.pem'), 'utf8') };
  return pki;
}

/** What the server does with the next requests. */
export type Behaviour =
  | { kind: 'ok'; body: Buffer | string; gzip?: boolean; contentType?: string; chunked?: boolean }
  | { kind: 'status'; status: number; body?: string }
  | { kind: 'reset' }
  /** Sends `sent` bytes of the body with a Content-Length of the whole, then closes. */
  | { kind: 'truncate'; body: Buffer | string; sent: number }
  /** Sends the headers and `sent` bytes, then nothing (until the client gives up or the server stops). */
  | { kind: 'stall'; body: Buffer | string; sent: number };

export interface SeenRequest {
  path: string;
  authorization: string | undefined;
  acceptEncoding: string | undefined;
}

export interface FakePassiveTotal {
  url: string;
  requests: SeenRequest[];
  behaviour: Behaviour;
  close(): Promise<void>;
}

export async function startFakePassiveTotal(opts: { tls: boolean; user: string; key: string; behaviour: Behaviour }): Promise<FakePassiveTotal> {
  const sockets = new Set<Socket>();
  const expected = `Basic ${Buffer.from(`${opts.user}:${opts.key}`).toString('base64')}`;
  const state: FakePassiveTotal = {
    url: '',
    requests: [],
    behaviour: opts.behaviour,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    state.requests.push({ path: req.url ?? '', authorization: req.headers.authorization, acceptEncoding: req.headers['accept-encoding'] });
    if (req.url !== API_PATH) {
      res.writeHead(404).end('not found');
      return;
    }
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorized"}');
      return;
    }
    const b = state.behaviour;
    const bytes = (x: Buffer | string) => (typeof x === 'string' ? Buffer.from(x) : x);
    switch (b.kind) {
      case 'ok': {
        let body = bytes(b.body);
        const headers: http.OutgoingHttpHeaders = { 'content-type': b.contentType ?? 'application/octet-stream' };
        if (b.gzip && /gzip/.test(String(req.headers['accept-encoding'] ?? ''))) {
          body = gzipSync(body);
          headers['content-encoding'] = 'gzip';
        }
        if (!b.chunked) headers['content-length'] = body.length;
        res.writeHead(200, headers);
        // Two writes, so the client reads the body in more than one chunk.
        const half = Math.floor(body.length / 2);
        res.write(body.subarray(0, half));
        res.end(body.subarray(half));
        return;
      }
      case 'status':
        res.writeHead(b.status, { 'content-type': 'text/plain' }).end(b.body ?? `status ${b.status}`);
        return;
      case 'reset':
        req.socket.resetAndDestroy();
        return;
      case 'truncate': {
        const body = bytes(b.body);
        res.writeHead(200, { 'content-length': body.length, 'content-type': 'text/plain' });
        res.write(body.subarray(0, b.sent), () => req.socket.destroy());
        return;
      }
      case 'stall': {
        const body = bytes(b.body);
        res.writeHead(200, { 'content-length': body.length, 'content-type': 'text/plain' });
        res.write(body.subarray(0, b.sent));
        return;
      }
    }
  };
  const server: http.Server = opts.tls
    ? https.createServer({ key: testPki().keyPem, cert: testPki().certPem }, handler)
    : http.createServer(handler);
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('secureConnection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  state.url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}${API_PATH}`;
  return state;
}

/** A random API key, so a test can grep every line and error for it. */
export function randomKey(): string {
  return `k${Math.random().toString(36).slice(2)}${Date.now().toString(36)}Z`;
}

// ---------------------------------------------------------------------------------------------------
// The demo blocklist, read independently of the collector's parser, and a brute-force reference matcher.

export const DEMO_BLOCKLIST = join(__dirname, '..', 'fixtures', 'riskiq-demo', 'blocklist.csv');

export interface ReferenceEntry {
  text: string;
  tags: string[];
  confidence: string;
  firstSeen: number;
  lastSeen: number;
}

/** The demo CSV, split by hand: `ip,tags(;-separated),first_seen,last_seen,confidence`, `#` comments. */
export function demoEntries(): ReferenceEntry[] {
  return readFileSync(DEMO_BLOCKLIST, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#') && !l.startsWith('ip,'))
    .map((l) => {
      const [text, tags, first, last, confidence] = l.split(',');
      return { text, tags: tags.split(';'), confidence, firstSeen: Date.parse(first), lastSeen: Date.parse(last) };
    });
}

function v6Big(addr: string): bigint {
  const [head, tail] = addr.includes('::') ? addr.split('::') : [addr, null];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === null ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

function toBig(addr: string): { v: bigint; bits: number } {
  if (addr.includes(':')) return { v: v6Big(addr), bits: 128 };
  return { v: addr.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n), bits: 32 };
}

/** The longest-prefix entry containing `ip`, by brute force over every entry; null when none. */
export function referenceMatch(entries: ReferenceEntry[], ip: string): ReferenceEntry | null {
  const a = toBig(ip);
  let best: ReferenceEntry | null = null;
  let bestLen = -1;
  for (const e of entries) {
    const [net, lenText] = e.text.split('/');
    const n = toBig(net);
    if (n.bits !== a.bits) continue;
    const len = lenText === undefined ? n.bits : Number(lenText);
    const shift = BigInt(n.bits - len);
    if (a.v >> shift === n.v >> shift && len > bestLen) {
      best = e;
      bestLen = len;
    }
  }
  return best;
}

/** The traffic generator's private addresses (RFC 1918, ULA, link-local); everything else it uses is public. */
export function generatorPrivate(ip: string): boolean {
  return /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|f[cd]|fe80:)/.test(ip);
}
