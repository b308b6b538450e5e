// SPDX-License-Identifier: Apache-2.0
/**
 * The Kibana route layer (server/routes, server/plugin) outside Kibana: `@kbn/config-schema` and
 * `@kbn/core/server` are not installed here, so they are replaced by small stand-ins that behave like the
 * 8.14 packages for what the routes use (string/number/boolean/object/maybe/oneOf/arrayOf types with
 * `validate`, `min`/`max`, `defaultValue`, numeric strings converted, unknown keys refused, the object's
 * own `validate` after its keys). A fake router records the routes; the
 * handlers then run against the embedded Elasticsearch with the real Elasticsearch client.
 */
import { Client } from '@elastic/elasticsearch';
import { ES_URL, describeEs } from '../../../collector/test/helpers/es';
import { errors } from '@elastic/elasticsearch';
import { API_PRIVILEGE, BadRequestError, ROUTES, parseFlowsQuery, parseThreatsQuery } from '../../common';
import { getThreats } from '../../server/lib';
import { LAUNCH, decodeCaptures, loadFlows } from './fixture';

jest.mock(
  '@kbn/config-schema',
  () => {
    type Check = (v: unknown) => unknown;
    const type = (check: Check, opts: { defaultValue?: unknown; validate?: (v: never) => string | void } = {}) => ({
      opts,
      validate(v: unknown) {
        if (v === undefined && opts.defaultValue !== undefined) return opts.defaultValue;
        if (v === undefined) throw new Error('expected a value');
        const out = check(v);
        const msg = opts.validate?.(out as never);
        if (typeof msg === 'string') throw new Error(msg);
        return out;
      },
    });
    const schema = {
      string: (o: { minLength?: number; validate?: (v: never) => string | void; defaultValue?: string } = {}) =>
        type((v) => {
          if (typeof v !== 'string') throw new Error(`expected value of type [string] but got [${typeof v}]`);
          if (o.minLength !== undefined && v.length < o.minLength) throw new Error('too short');
          return v;
        }, o),
      number: (o: { min?: number; max?: number; validate?: (v: never) => string | void; defaultValue?: number } = {}) =>
        type((v) => {
          // Joi `convert`: a numeric string becomes a number.
          const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
          if (typeof n !== 'number' || Number.isNaN(n)) throw new Error(`expected value of type [number] but got [${typeof v}]`);
          if (o.min !== undefined && n < o.min) throw new Error(`Value must be equal to or greater than [${o.min}].`);
          if (o.max !== undefined && n > o.max) throw new Error(`Value must be equal to or lower than [${o.max}].`);
          return n;
        }, o),
      boolean: (o: { defaultValue?: boolean } = {}) => type((v) => v, o),
      // MaybeType: undefined stays undefined (the key is still set in the object's result).
      maybe: (t: { validate(v: unknown): unknown }) => ({ validate: (v: unknown) => (v === undefined ? undefined : t.validate(v)) }),
      // UnionType: the first type that accepts the value.
      oneOf: (types: Array<{ validate(v: unknown): unknown }>) => ({
        validate(v: unknown) {
          const errs: string[] = [];
          for (const t of types) {
            try {
              return t.validate(v);
            } catch (e) {
              errs.push((e as Error).message);
            }
          }
          throw new Error(`types that failed validation: ${errs.join('; ')}`);
        },
      }),
      arrayOf: (item: { validate(v: unknown): unknown }) =>
        type((v) => {
          if (!Array.isArray(v)) throw new Error(`expected value of type [array] but got [${typeof v}]`);
          return v.map((x) => item.validate(x));
        }),
      object: (props: Record<string, { validate(v: unknown): unknown }>, o: { validate?: (v: never) => string | void } = {}) =>
        type((v) => {
          const obj = v as Record<string, unknown>;
          for (const k of Object.keys(obj)) if (!(k in props)) throw new Error(`[${k}]: definition for this key is missing`);
          const out: Record<string, unknown> = {};
          for (const [k, t] of Object.entries(props)) {
            try {
              out[k] = t.validate(obj[k]);
            } catch (e) {
              throw new Error(`[${k}]: ${(e as Error).message}`);
            }
          }
          return out;
        }, o),
    };
    return { schema };
  },
  { virtual: true },
);

jest.mock('@kbn/core/server', () => ({ DEFAULT_APP_CATEGORIES: { security: { id: 'securitySolution', label: 'Security' } } }), { virtual: true });

interface Recorded {
  path: string;
  validate: false | { query: { validate(v: unknown): unknown } };
  options: { tags: string[] };
  handler: (ctx: unknown, req: unknown, res: unknown) => Promise<{ status: number; payload: unknown }>;
}

/** The response factory's answers as plain values, the shape IKibanaResponse has. */
const response = {
  ok: (o: { body: unknown }) => ({ status: 200, payload: o.body }),
  badRequest: (o: { body: unknown }) => ({ status: 400, payload: o.body }),
  notFound: (o: { body: unknown }) => ({ status: 404, payload: o.body }),
  customError: (o: { statusCode: number; body: unknown }) => ({ status: o.statusCode, payload: o.body }),
};

const logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, get: () => logger };

/** A request whose aborted$ can be fired, like Kibana's (an rxjs Observable there). */
function request(query: unknown) {
  const listeners: Array<() => void> = [];
  return {
    query,
    abort: () => listeners.forEach((l) => l()),
    events: {
      aborted$: {
        subscribe: (fn: () => void) => {
          listeners.push(fn);
          return { unsubscribe: () => listeners.splice(listeners.indexOf(fn), 1) };
        },
      },
    },
  };
}

describeEs('server routes and plugin (Kibana stand-ins) on the embedded Elasticsearch', () => {
  const routes = new Map<string, Recorded>();
  let client: Client;
  let drop: () => Promise<void> = async () => undefined;
  let flowsIndex = '';
  const features: unknown[] = [];

  beforeAll(async () => {
    const loaded = await loadFlows(decodeCaptures());
    drop = loaded.drop;
    flowsIndex = loaded.dataStream;
    client = new Client({ node: ES_URL });
    const { plugin, config } = await import('../../server');
    const cfg = config.schema.validate({ flowsIndex, indicatorsIndex: `${flowsIndex}-none` }) as Record<string, unknown>;
    expect(cfg).toEqual({ enabled: true, launchUrlTemplate: LAUNCH, flowsIndex, indicatorsIndex: `${flowsIndex}-none` });
    expect(config.exposeToBrowser).toEqual({ launchUrlTemplate: true });
    const instance = await plugin({ logger: { get: () => logger }, config: { get: () => cfg } } as never);
    const router = { get: (route: Omit<Recorded, 'handler'>, handler: Recorded['handler']) => routes.set(route.path, { ...route, handler }) };
    instance.setup({ http: { createRouter: () => router } } as never, { features: { registerKibanaFeature: (f: unknown) => features.push(f) } });
  }, 120_000);

  afterAll(async () => {
    await drop();
    await client?.close();
  });

  const context = () => ({ core: Promise.resolve({ elasticsearch: { client: { asCurrentUser: client } } }) });
  const validQuery = (path: string, q: Record<string, string>) => {
    const v = routes.get(path)!.validate;
    return v === false ? {} : v.query.validate(q);
  };

  it('registers the three GET routes with the API privilege tag, and the feature that grants it', () => {
    expect([...routes.keys()].sort()).toEqual([ROUTES.dbStatus, ROUTES.flows, ROUTES.threats].sort());
    for (const r of routes.values()) expect(r.options.tags).toEqual([`access:${API_PRIVILEGE}`]);
    expect(features).toEqual([expect.objectContaining({ id: 'threatflow', privileges: expect.objectContaining({ read: expect.objectContaining({ api: [API_PRIVILEGE] }) }) })]);
  });

  it('rejects a launch URL template without {{value}} in the config', async () => {
    const { config } = await import('../../server');
    expect(() => config.schema.validate({ launchUrlTemplate: 'https://example.com/search' })).toThrow(/must contain \{\{value\}\}/);
  });

  it('validates the query with the parse functions: same acceptance, same messages (Kibana answers 400)', () => {
    const ok = { from: '2026-01-01T00:00:00Z', to: '2027-01-01T00:00:00Z' };
    // Valid: the raw strings pass through (the handler parses them into the typed query).
    expect(validQuery(ROUTES.threats, ok)).toEqual(ok);
    expect(validQuery(ROUTES.threats, { ...ok, page: '3', perPage: '100' })).toEqual({ ...ok, page: '3', perPage: '100' });
    const refused: Array<[string, Record<string, unknown>, RegExp]> = [
      [ROUTES.threats, { ...ok, perPage: '1000000' }, /^perPage must be between 1 and 100, got 1000000$/],
      [ROUTES.threats, { ...ok, perPage: '2.5' }, /^perPage must be an integer$/],
      [ROUTES.threats, { from: ok.to, to: ok.from }, /inverted/],
      [ROUTES.threats, { ...ok, from: 'yesterday' }, /ISO-8601/],
      [ROUTES.threats, { ...ok, from: '2026-02-30T00:00:00Z' }, /no such day/],
      [ROUTES.threats, { ...ok, sortField: 'x' }, /sortField must be one of/],
      [ROUTES.threats, { ...ok, page: ['1', '2'] }, /^page given more than once$/],
      [ROUTES.threats, { to: ok.to }, /from and to are required/],
      // Unknown keys: config-schema's own refusal (unknowns: forbid), before the parse function's.
      [ROUTES.threats, { ...ok, extra: '1' }, /\[extra\]: definition for this key is missing/],
      [ROUTES.flows, { ...ok, ip: 'not-an-ip' }, /not an IPv4 or IPv6 address/],
      [ROUTES.flows, { ...ok }, /^ip is required$/],
      [ROUTES.flows, { ...ok, ip: ['10.0.0.5', '10.0.0.6'] }, /^ip given more than once$/],
      [ROUTES.flows, { ...ok, ip: '10.0.0.5', size: '501' }, /size must be between 1 and 500/],
      [ROUTES.flows, { ...ok, ip: '10.0.0.5', role: 'admin' }, /role must be one of indicator, host/],
      [ROUTES.flows, { ...ok, ip: '10.0.0.5', sortField: 'flows' }, /\[sortField\]: definition for this key is missing/],
    ];
    for (const [path, q, msg] of refused) {
      let message = 'accepted';
      try {
        validQuery(path, q);
      } catch (e) {
        message = (e as Error).message;
      }
      expect([path, q, message]).toEqual([path, q, expect.stringMatching(msg)]);
    }
  });

  it('accepts exactly what parse* accepts, with its message (the harness and the route functions use parse*)', () => {
    const ok = { from: '2026-01-01T00:00:00Z', to: '2027-01-01T00:00:00Z' };
    const threatsCases: Array<Record<string, unknown>> = [
      ok,
      { ...ok, page: '500', perPage: '1', sortField: 'internalHosts', sortDirection: 'asc' },
      { ...ok, page: '501' },
      { ...ok, page: '-1' },
      { ...ok, page: '' },
      { ...ok, perPage: '0' },
      { ...ok, perPage: 'abc' },
      { ...ok, sortDirection: 'up' },
      { ...ok, sortField: ['flows', 'bytes'] },
      { from: '2026-01-01T00:00:00+0200', to: '2026-01-02T00:00:00-05:00' },
      { from: '2026-01-01', to: '2026-01-02' },
      { from: '2020-01-01T00:00:00Z', to: '2026-01-01T00:00:00Z' },
      { from: '2026-04-31T00:00:00Z', to: '2026-05-02T00:00:00Z' },
      {},
    ];
    const flowsCases: Array<Record<string, unknown>> = [
      { ...ok, ip: '10.0.0.5' },
      { ...ok, ip: '::ffff:45.33.32.156', role: 'indicator', size: '500' },
      { ...ok, ip: 'FD00::0010', role: 'host', size: '1' },
      { ...ok, ip: '10.0.0.0/8' },
      { ...ok, ip: '010.0.0.5' },
      { ...ok, ip: '10.0.0.5', size: '0' },
      { ...ok, ip: '10.0.0.5', role: ['host', 'host'] },
      { ...ok, ip: '' },
    ];
    const outcome = (f: () => unknown): string => {
      try {
        f();
        return 'ok';
      } catch (e) {
        return (e as Error).message;
      }
    };
    for (const [path, parse, cases] of [
      [ROUTES.threats, parseThreatsQuery, threatsCases],
      [ROUTES.flows, parseFlowsQuery, flowsCases],
    ] as const) {
      for (const q of cases) {
        const byParse = outcome(() => parse({ ...q }));
        expect([path, q, outcome(() => validQuery(path, q))]).toEqual([path, q, byParse]);
      }
    }
    expect(() => parseThreatsQuery({ ...ok, page: '501' })).toThrow(BadRequestError);
  });

  it('answers 200 with what the lib function returns, using the request user\'s client', async () => {
    const q = validQuery(ROUTES.threats, { from: '2026-01-01T00:00:00Z', to: '2027-01-01T00:00:00Z', perPage: '3' });
    const res = await routes.get(ROUTES.threats)!.handler(context(), request(q), response);
    const direct = await getThreats(client, parseThreatsQuery({ ...(q as object) }), { flowsIndex, indicatorsIndex: 'x', launchUrlTemplate: LAUNCH });
    expect(res).toEqual({ status: 200, payload: direct });
    expect((res.payload as typeof direct).threats).toHaveLength(3);
    const flows = await routes.get(ROUTES.flows)!.handler(context(), request(validQuery(ROUTES.flows, { from: '2026-01-01T00:00:00Z', to: '2027-01-01T00:00:00Z', ip: '10.0.0.5', role: 'host' })), response);
    expect(flows.status).toBe(200);
    expect((flows.payload as { total: number }).total).toBeGreaterThan(0);
    const db = await routes.get(ROUTES.dbStatus)!.handler(context(), request({}), response);
    expect(db).toEqual({ status: 200, payload: expect.objectContaining({ present: false }) });
  });

  it('maps a BadRequestError from the lib function to 400 with its message', async () => {
    // Past config-schema (e.g. the harness calling in), the lib function's own checks still answer 400.
    const res = await routes.get(ROUTES.threats)!.handler(context(), request({ from: 'x', to: 'y' }), response);
    expect(res.status).toBe(400);
    expect(res.payload).toEqual({ message: expect.stringMatching(/ISO-8601/) });
  });

  /** What the threats route answers when the user's client fails with `err`. */
  const answerTo = async (err: unknown) => {
    const failing = { search: () => Promise.reject(err) };
    const ctx = { core: Promise.resolve({ elasticsearch: { client: { asCurrentUser: failing } } }) };
    const q = validQuery(ROUTES.threats, { from: '2026-01-01T00:00:00Z', to: '2027-01-01T00:00:00Z' });
    return routes.get(ROUTES.threats)!.handler(ctx, request(q), response);
  };

  /** A ResponseError as the client makes it from an Elasticsearch answer. */
  const esAnswer = (statusCode: number, body: unknown) =>
    new errors.ResponseError({ body, statusCode, headers: {}, warnings: null, meta: {} as never });

  it('maps Elasticsearch errors by the one rule (401/403/404/429 kept, other 4xx → 500, 5xx/no answer → 502) with the real reason', async () => {
    // Real answers of the embedded Elasticsearch: a cluster limit on a search we built (400), a missing index (404).
    const tooMany = await client
      .search({ index: flowsIndex, size: 0, aggs: { x: { date_histogram: { field: '@timestamp', fixed_interval: '1ms', min_doc_count: 0, extended_bounds: { min: 0, max: 100_000 } } } } })
      .catch((e: unknown) => e);
    expect(tooMany).toBeInstanceOf(errors.ResponseError);
    expect((tooMany as errors.ResponseError).statusCode).toBe(400);
    expect(await answerTo(tooMany)).toEqual({
      status: 500,
      payload: { message: expect.stringMatching(/^Elasticsearch answered 400: too_many_buckets_exception: Trying to create too many buckets/) },
    });
    const missing = await client.search({ index: `${flowsIndex}-missing` }).catch((e: unknown) => e);
    expect(await answerTo(missing)).toEqual({ status: 404, payload: { message: expect.stringMatching(/^Elasticsearch answered 404: index_not_found_exception: no such index/) } });

    const security = { error: { root_cause: [{ type: 'security_exception', reason: 'action [indices:data/read/search] is unauthorized' }], type: 'security_exception', reason: 'action [indices:data/read/search] is unauthorized' }, status: 403 };
    expect(await answerTo(esAnswer(403, security))).toEqual({ status: 403, payload: { message: 'Elasticsearch answered 403: security_exception: action [indices:data/read/search] is unauthorized' } });
    expect((await answerTo(esAnswer(401, { error: { type: 'security_exception', reason: 'missing authentication credentials' } }))).status).toBe(401);
    expect(await answerTo(esAnswer(429, { error: { root_cause: [], type: 'es_rejected_execution_exception', reason: 'rejected execution of search' } }))).toEqual({
      status: 429,
      payload: { message: 'Elasticsearch answered 429: es_rejected_execution_exception: rejected execution of search' },
    });
    // Nested caused_by under an empty root_cause and reason; a type alone when that is all there is.
    const nested = { error: { root_cause: [], type: 'search_phase_execution_exception', reason: '', caused_by: { type: 'x', caused_by: { type: 'circuit_breaking_exception', reason: '[parent] Data too large' } } } };
    expect(await answerTo(esAnswer(503, nested))).toEqual({ status: 502, payload: { message: 'Elasticsearch answered 503: circuit_breaking_exception: [parent] Data too large' } });
    expect(await answerTo(esAnswer(400, { error: { type: 'parsing_exception' } }))).toEqual({ status: 500, payload: { message: 'Elasticsearch answered 400: parsing_exception' } });

    // No answer at all: a real connection refused.
    const nowhere = new Client({ node: 'http://127.0.0.1:1', maxRetries: 0 });
    const refused = await nowhere.search({ index: 'x' }).catch((e: unknown) => e);
    await nowhere.close();
    expect(await answerTo(refused)).toEqual({ status: 502, payload: { message: expect.stringMatching(/^Elasticsearch did not answer: /) } });
    // Not an Elasticsearch error: 500 with its message.
    expect(await answerTo(new Error('socket hang up'))).toEqual({ status: 500, payload: { message: 'socket hang up' } });
  });

  it('aborts the Elasticsearch request when the browser goes away', async () => {
    let seen: AbortSignal | undefined;
    const waiting = {
      search: (_p: unknown, o: { signal: AbortSignal }) =>
        new Promise((_resolve, reject) => {
          seen = o.signal;
          o.signal.addEventListener('abort', () => reject(new Error('Request aborted')));
        }),
    };
    const ctx = { core: Promise.resolve({ elasticsearch: { client: { asCurrentUser: waiting } } }) };
    const req = request(validQuery(ROUTES.threats, { from: '2026-01-01T00:00:00Z', to: '2027-01-01T00:00:00Z' }));
    const pending = routes.get(ROUTES.threats)!.handler(ctx, req, response);
    await new Promise((r) => setTimeout(r, 20));
    expect(seen?.aborted).toBe(false);
    req.abort();
    expect(await pending).toEqual({ status: 499, payload: { message: 'request aborted by the client' } });
    expect(seen?.aborted).toBe(true);
  });
});
