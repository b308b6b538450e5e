// SPDX-License-Identifier: Apache-2.0
/**
 * The standalone harness: the plugin's browser app and its three routes without Kibana.
 *
 * - `GET /` serves index.html, which loads the esbuild bundle of main.tsx (the app + stand-in core services)
 *   and EUI's theme CSS, with the browser config inlined.
 * - `GET ROUTES.*` parse the query with the same parse* functions the Kibana routes use and call the real
 *   route functions (server/lib) with a real Elasticsearch client, so what the page shows is what the
 *   plugin would show on the same data. Errors answer with the ErrorBody shape Kibana produces: 400 for
 *   a refused request or a malformed request target; an Elasticsearch failure by the rule the Kibana
 *   routes follow (server/lib/errors.ts); 500 for anything else.
 *
 * node:http and no framework: three JSON routes and four static files do not need one.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Client, errors } from '@elastic/elasticsearch';
import { BadRequestError, ROUTES, parseFlowsQuery, parseThreatsQuery, type ErrorBody } from '../common';
import { esFailureOf, getDbStatus, getFlows, getThreats, type ThreatflowEsOptions } from '../server/lib';
import { resolveConfig, type BrowserConfig, type HarnessConfig } from './config';
import { DIST_DIR, HARNESS_DIR } from './paths';

const BROWSER_DIST = join(DIST_DIR, 'browser');

export interface HarnessOptions extends Partial<HarnessConfig> {
  /**
   * Build the browser bundle before listening (default true). The CLI builds it itself beforehand; tests
   * leave it on so they always exercise the current sources.
   */
  build?: boolean;
  /** One line per request and per error (default: nothing). */
  log?: (line: string) => void;
}

export interface Harness {
  /** http://127.0.0.1:<port>/ */
  url: string;
  config: HarnessConfig;
  close(): Promise<void>;
}

/** Runs build.mjs in a child process (see there for why not in-process). */
export function buildBrowserBundle(): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [join(HARNESS_DIR, 'build.mjs'), 'browser'], { timeout: 180_000 }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`building the harness browser bundle failed: ${stderr || err.message}`));
      else resolve();
    });
  });
}

interface StaticFile {
  type: string;
  body: Buffer;
}

async function loadStatic(): Promise<Map<string, StaticFile>> {
  const files = new Map<string, StaticFile>();
  const add = async (urlPath: string, file: string, type: string): Promise<void> => {
    try {
      files.set(urlPath, { type, body: await readFile(join(BROWSER_DIST, file)) });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new Error(`${join(BROWSER_DIST, file)} is missing: run \`node kibana-plugin/harness/build.mjs\` (or start with build: true)`);
      }
      throw err;
    }
  };
  await add('/main.js', 'main.js', 'text/javascript; charset=utf-8');
  await add('/main.css', 'main.css', 'text/css; charset=utf-8');
  // The source map is a convenience for debugging in the browser; the page works without it.
  await add('/main.js.map', 'main.js.map', 'application/json').catch(() => undefined);
  await add('/main.css.map', 'main.css.map', 'application/json').catch(() => undefined);
  return files;
}

/** JSON that is safe inside a <script> element (no `</script>`, no `<!--`). */
function inlineJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c');
}

export function indexHtml(cfg: BrowserConfig): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>threatflow (standalone harness)</title>
<link rel="stylesheet" href="/main.css">
<script>window.__THREATFLOW_HARNESS__ = ${inlineJson(cfg)};</script>
</head>
<body>
<div id="threatflowHarnessRoot"></div>
<script src="/main.js"></script>
</body>
</html>
`;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
};

function errorBody(statusCode: number, message: string): ErrorBody {
  return { statusCode, error: STATUS_TEXT[statusCode] ?? 'Error', message };
}

/**
 * The status and body for an error thrown while answering a route: 400 for a refused request; for an
 * Elasticsearch failure the rule the Kibana routes follow too (server/lib/errors.ts: 401/403/404/429 kept,
 * other 4xx → 500, 5xx and no answer → 502, Elasticsearch's real reason in the message); 500 otherwise.
 */
export function errorResponse(err: unknown, esUrl: string): ErrorBody {
  // By name too: a second copy of common/ (another bundle) would have its own class.
  if (err instanceof BadRequestError || (err instanceof Error && err.name === 'BadRequestError')) {
    return errorBody(400, err.message);
  }
  const es = esFailureOf(err, esUrl);
  if (es) return errorBody(es.statusCode, es.message);
  if (err instanceof errors.ElasticsearchClientError) {
    // The client's own failures (serialization, configuration): not Elasticsearch's answer.
    return errorBody(500, `Elasticsearch client error: ${err.message}`);
  }
  return errorBody(500, err instanceof Error ? err.message : String(err));
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    // Always the current build and the current data: this is a development tool.
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(body));
}

/** Query parameters as the parse* functions take them: single values as strings, repeated ones as arrays. */
function rawQuery(url: URL): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of new Set(url.searchParams.keys())) {
    const all = url.searchParams.getAll(key);
    out[key] = all.length === 1 ? all[0] : all;
  }
  return out;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const { build = true, log = () => undefined, ...partial } = options;
  const config = resolveConfig(partial);
  if (build) await buildBrowserBundle();
  const files = await loadStatic();
  const html = indexHtml({ launchUrlTemplate: config.launchUrlTemplate, kibanaUrl: config.kibanaUrl });
  const es = new Client({ node: config.esUrl, requestTimeout: 30_000, maxRetries: 1 });
  const esOpts: ThreatflowEsOptions = {
    flowsIndex: config.flowsIndex,
    indicatorsIndex: config.indicatorsIndex,
    launchUrlTemplate: config.launchUrlTemplate,
  };

  const api: Record<string, (q: Record<string, unknown>, signal: AbortSignal) => Promise<unknown>> = {
    [ROUTES.threats]: (q, signal) => getThreats(es, parseThreatsQuery(q), esOpts, signal),
    [ROUTES.flows]: (q, signal) => getFlows(es, parseFlowsQuery(q), esOpts, signal),
    [ROUTES.dbStatus]: (_q, signal) => getDbStatus(es, esOpts, signal),
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://127.0.0.1');
    } catch {
      // A request target no URL parser accepts (`GET http://[ HTTP/1.1`): the client's error, not ours.
      sendJson(res, 400, errorBody(400, 'malformed request target'));
      return;
    }
    const route = api[url.pathname];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, errorBody(405, `${req.method} is not supported; the harness only answers GET`));
      return;
    }
    if (route) {
      // A browser that navigates away or an app that aborts a stale request closes the connection: stop
      // the Elasticsearch search too, as Kibana does with the request's abort signal.
      const abort = new AbortController();
      res.on('close', () => {
        if (!res.writableFinished) abort.abort();
      });
      try {
        sendJson(res, 200, await route(rawQuery(url), abort.signal));
        log(`GET ${url.pathname}${url.search} 200`);
      } catch (err) {
        if (abort.signal.aborted) return;
        const body = errorResponse(err, config.esUrl);
        log(`GET ${url.pathname}${url.search} ${body.statusCode}: ${body.message}`);
        sendJson(res, body.statusCode, body);
      }
      return;
    }
    if (url.pathname === '/' || url.pathname === '/index.html') {
      send(res, 200, 'text/html; charset=utf-8', html);
      return;
    }
    if (url.pathname === '/favicon.ico') {
      // Browsers ask for it on every page; a 404 would be a console error in every headless test run.
      res.writeHead(204, { 'cache-control': 'no-store' });
      res.end();
      return;
    }
    const file = files.get(url.pathname);
    if (file) {
      send(res, 200, file.type, file.body);
      return;
    }
    sendJson(res, 404, errorBody(404, `${url.pathname} not found`));
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log(`unexpected error: ${(err as Error).stack ?? String(err)}`);
      if (!res.headersSent) sendJson(res, 500, errorBody(500, 'internal error in the harness'));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    config: { ...config, port },
    close: async () => {
      // Keep-alive connections (a browser's) would hold close() open until they time out.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await es.close();
    },
  };
}
