// SPDX-License-Identifier: Apache-2.0
/**
 * Parse + build off the main thread (DESIGN.md §5, PERFORMANCE.md §5): the downloaded body is transferred
 * (not copied) to a short-lived worker thread, which parses it straight into columns, builds the tables in
 * SharedArrayBuffers and posts the ThreatDbData back. Structured clone shares SharedArrayBuffers, so the
 * main thread only adopts a few references and the small payload table: its stall is microseconds, and the
 * flow path keeps running on the old DB until the caller swaps.
 *
 * One worker per build: a refresh is once a day by default, and a fresh thread returns every byte of the
 * parse to the OS when it ends.
 *
 * This file is both the API (main thread) and the worker's entry (it runs itself with a marker in
 * workerData). From the TypeScript sources (tests under ts-jest) the worker registers a transpile-only
 * hook first, so tests do not depend on a built `dist/`.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isArrayBuffer } from 'node:util/types';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { buildFromColumns, type BuildMeta } from './build';
import { BlocklistParseError, parseToColumns, type ParseOptions } from './parse';
import type { ThreatDbData } from './types';

export interface WorkerBuildResult {
  data: ThreatDbData;
  /** Entries counted and skipped by the parser. */
  malformed: number;
  /** Format recognised: json-array, json-object, ndjson, csv, text. */
  format: string;
  /** CIDRs listed with host bits set, kept as their network. */
  hostBitsMasked: number;
  /** Entries kept without a date field that did not parse. */
  invalidFields: number;
  /** True when the body was gzip. */
  compressed: boolean;
  /** Milliseconds spent in the worker: parsing, building. */
  timings: { parseMs: number; buildMs: number };
}

const MARKER = 'threatflow:riskiq-threat:build-worker';

interface Request {
  body: Uint8Array;
  meta: BuildMeta;
  options: ParseOptions;
}

type Reply =
  | ({ ok: true } & WorkerBuildResult)
  | { ok: false; name: string; message: string };

/**
 * Parses and builds `body` in a worker thread. The body's memory is transferred to the worker: afterwards
 * the caller's Buffer is empty (length 0) unless it shared its memory with other Buffers (Node's small-buffer
 * pool), in which case it is copied first. Rejects with BlocklistParseError for a body that is not a
 * blocklist, with Error when the worker fails.
 */
export function buildInWorker(body: Buffer, meta: BuildMeta, options: ParseOptions = {}): Promise<WorkerBuildResult> {
  return new Promise<WorkerBuildResult>((resolve, reject) => {
    let settled = false;
    const fromSource = __filename.endsWith('.ts');
    const worker = new Worker(fromSource ? tsBootstrap() : __filename, { eval: fromSource, workerData: { [MARKER]: true } });
    worker.once('message', (msg: Reply) => {
      settled = true;
      if (msg.ok) {
        const { ok: _ok, ...result } = msg;
        resolve(result);
      } else {
        const err = msg.name === 'BlocklistParseError' ? new BlocklistParseError(msg.message) : new Error(msg.message);
        reject(err);
      }
    });
    worker.once('error', (err) => {
      if (settled) return;
      settled = true;
      reject(new Error(`threat DB build worker failed: ${err.message}`, { cause: err }));
    });
    worker.once('exit', (code) => {
      if (settled) return;
      settled = true;
      reject(new Error(`threat DB build worker exited with code ${code} before answering`));
    });
    let bytes: Uint8Array = body;
    const own = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength && isArrayBuffer(body.buffer);
    if (!own) bytes = new Uint8Array(body); // a view into a shared pool: copy what is ours
    const request: Request = { body: bytes, meta: { fetchedAt: meta.fetchedAt, source: meta.source }, options: { ...options } };
    try {
      worker.postMessage(request, [bytes.buffer as ArrayBuffer]);
    } catch {
      // Untransferable memory (marked by Node): send a copy.
      const copy = new Uint8Array(bytes);
      worker.postMessage({ ...request, body: copy }, [copy.buffer]);
    }
  });
}

/**
 * Worker code when running from the TypeScript sources: a transpile-only hook, then this module. The
 * transpiled files are cached in the temp directory by path, size and mtime, so only the first worker of
 * a test run pays for loading the TypeScript compiler (seconds on a busy machine).
 */
function tsBootstrap(): string {
  const ts = require.resolve('typescript');
  const cacheDir = join(tmpdir(), 'threatflow-ts-worker-cache');
  return `
    const fs = require('node:fs');
    const path = require('node:path');
    const crypto = require('node:crypto');
    const cacheDir = ${JSON.stringify(cacheDir)};
    let ts = null;
    require.extensions['.ts'] = (m, filename) => {
      const st = fs.statSync(filename);
      const key = crypto.createHash('sha1').update(filename + ':' + st.size + ':' + st.mtimeMs).digest('hex');
      const cached = path.join(cacheDir, key + '.js');
      let out;
      try {
        out = fs.readFileSync(cached, 'utf8');
      } catch {
        ts = ts || require(${JSON.stringify(ts)});
        out = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
          compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
          fileName: filename,
        }).outputText;
        try {
          fs.mkdirSync(cacheDir, { recursive: true });
          fs.writeFileSync(cached + '.' + process.pid, out);
          fs.renameSync(cached + '.' + process.pid, cached);
        } catch {}
      }
      m._compile(out, filename);
    };
    require(${JSON.stringify(__filename)});
  `;
}

function runWorker(): void {
  const port = parentPort;
  if (port === null) return;
  port.once('message', (req: Request) => {
    let reply: Reply;
    try {
      const t0 = performance.now();
      const parsed = parseToColumns(req.body, req.options);
      const t1 = performance.now();
      const data = buildFromColumns(parsed.columns, req.meta);
      const t2 = performance.now();
      reply = {
        ok: true,
        data,
        malformed: parsed.malformed,
        format: parsed.format,
        hostBitsMasked: parsed.columns.hostBitsMasked,
        invalidFields: parsed.invalidFields,
        compressed: parsed.compressed,
        timings: { parseMs: t1 - t0, buildMs: t2 - t1 },
      };
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      reply = { ok: false, name: e.name, message: e.message };
    }
    port.postMessage(reply);
  });
}

if (!isMainThread && workerData !== null && typeof workerData === 'object' && (workerData as Record<string, unknown>)[MARKER] === true) {
  runWorker();
}
