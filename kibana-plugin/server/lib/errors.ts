// SPDX-License-Identifier: Apache-2.0
/**
 * What an Elasticsearch failure means for the caller of a route: one rule, used by the Kibana routes
 * (server/routes/handler.ts) and the standalone harness (harness/server.ts) alike.
 *
 * | Elasticsearch                                   | route answers | why |
 * |-------------------------------------------------|---------------|-----|
 * | 401, 403                                        | the same      | the user's credentials or privileges: theirs to fix |
 * | 404                                             | 404           | the index or alias is not there |
 * | 429                                             | 429           | the cluster is busy: retry later |
 * | any other 4xx (e.g. `search_phase_execution_exception` from a cluster limit) | 500 | the search is built here from validated input: a refusal of it is this plugin's failure, not the user's bad request |
 * | 5xx, no answer (connection refused, timeout, no living node) | 502 | the upstream failed: Kibana (or the harness) is the gateway |
 *
 * The message carries Elasticsearch's real reason: `root_cause[0].reason`, else the first `caused_by` reason
 * down the chain (a cluster limit such as too_many_buckets_exception is only there, under an empty
 * `root_cause` and an empty `reason`), else the error's own reason, else its `type`.
 *
 * Errors are recognized by shape (`meta.statusCode`, the client's error names), not by class, so that
 * Kibana's copy of the client and this one's agree.
 */

export interface EsFailure {
  statusCode: number;
  message: string;
}

interface EsErrorCause {
  type?: string;
  reason?: string;
  root_cause?: EsErrorCause[];
  caused_by?: EsErrorCause;
}

/** The client's errors for "Elasticsearch did not answer". */
const NO_ANSWER = new Set(['ConnectionError', 'NoLivingConnectionsError', 'TimeoutError']);

/** Elasticsearch's reason for an error body (`{ error: { root_cause, caused_by, type, reason } }`). */
export function esReason(body: unknown): string | undefined {
  const e = (body as { error?: EsErrorCause | string } | undefined)?.error;
  if (typeof e === 'string') return e.trim() || undefined;
  if (!e || typeof e !== 'object') return undefined;
  const root = e.root_cause?.[0];
  if (root?.reason) return root.type ? `${root.type}: ${root.reason}` : root.reason;
  // The first caused_by down the chain that has a reason (the outer ones say the most; deeper ones tend to
  // be a parser's detail).
  for (let c = e.caused_by, depth = 0; c && depth < 20; c = c.caused_by, depth++) {
    if (c.reason) return c.type ? `${c.type}: ${c.reason}` : c.reason;
  }
  if (e.reason) return e.type ? `${e.type}: ${e.reason}` : e.reason;
  return e.type;
}

/** The status for an Elasticsearch HTTP status (table above). */
export function routeStatusOfEs(esStatus: number): number {
  if (esStatus === 401 || esStatus === 403 || esStatus === 404 || esStatus === 429) return esStatus;
  if (esStatus >= 400 && esStatus < 500) return 500;
  return 502;
}

/**
 * The answer for an Elasticsearch failure, or undefined when `err` is not one (a bug, a bad request: the
 * caller decides). `esUrl`, when given, is named in the "did not answer" message (without credentials).
 */
export function esFailureOf(err: unknown, esUrl?: string): EsFailure | undefined {
  const e = err as { name?: unknown; message?: unknown; meta?: { statusCode?: unknown; body?: unknown } } | null | undefined;
  if (!e || typeof e !== 'object') return undefined;
  const message = typeof e.message === 'string' ? e.message : '';
  const s = e.meta?.statusCode;
  if (typeof s === 'number' && s >= 400 && s <= 599) {
    const reason = esReason(e.meta?.body) ?? (message || `status ${s}`);
    return { statusCode: routeStatusOfEs(s), message: `Elasticsearch answered ${s}: ${reason}` };
  }
  if (typeof e.name === 'string' && NO_ANSWER.has(e.name)) {
    const where = esUrl === undefined ? 'Elasticsearch' : `Elasticsearch at ${redactUrl(esUrl)}`;
    return { statusCode: 502, message: `${where} did not answer: ${message || e.name}` };
  }
  return undefined;
}

/** `url` without username and password (URL parser), for messages and logs; never echoes an unparsable one. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(invalid URL)';
  }
}
