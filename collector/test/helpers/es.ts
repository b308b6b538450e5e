// SPDX-License-Identifier: Apache-2.0
/** Small helpers for tests that talk to the embedded Elasticsearch (started by global-setup / .ci/run). */
import { createLogger, type Logger } from '../../src/observability/logger';

export const ES_URL = process.env.TF_TEST_ES_URL ?? 'http://127.0.0.1:9200';
export const describeEs: jest.Describe = process.env.TF_TEST_NO_ES === '1' ? describe.skip : describe;

export async function es(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const ndjson = typeof body === 'string';
  const res = await fetch(`${ES_URL}${path}`, {
    method,
    headers: { 'content-type': ndjson ? 'application/x-ndjson' : 'application/json' },
    body: body === undefined ? undefined : ndjson ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

/** A unique, lower-case suffix for index/template names so concurrent test files never collide. */
export function uniqueId(): string {
  return `${process.pid}x${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/** A logger that keeps its lines in memory, so tests can assert on them (and on what they never contain). */
export function memoryLogger(level: 'debug' | 'info' | 'warn' | 'error' = 'debug'): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const log = createLogger({ level, destination: { write: (s: string) => void lines.push(s) } as never });
  return { log, lines };
}

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(fn: () => Promise<T | null | undefined | false>, timeoutMs = 20_000, stepMs = 200): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
