// SPDX-License-Identifier: Apache-2.0
/**
 * What every route handler does around its lib function: take the request user's Elasticsearch client
 * (their index privileges apply), abort the Elasticsearch request when the browser goes away, and map
 * errors to HTTP answers.
 */
import type { ElasticsearchClient, IKibanaResponse, KibanaResponseFactory, Logger, RequestHandler, RequestHandlerContext } from '@kbn/core/server';
import { BadRequestError } from '../../common';
import { esFailureOf } from '../lib/errors';

/** nginx's "client closed request": nobody reads it, but the log says what happened. */
export const CLIENT_CLOSED_REQUEST = 499;

type Run<Q> = (es: ElasticsearchClient, query: Q, signal: AbortSignal) => Promise<object>;

/**
 * The HTTP status an error from a lib function or the Elasticsearch client stands for: 400 for a refused
 * request, the rule of server/lib/errors.ts for an Elasticsearch failure (401/403/404/429 kept, other 4xx
 * → 500, 5xx and no answer → 502), 500 for anything else.
 */
export function statusOf(err: unknown): number {
  if (err instanceof BadRequestError) return 400;
  return esFailureOf(err)?.statusCode ?? 500;
}

export function errorResponse(response: KibanaResponseFactory, err: unknown, aborted: boolean, logger: Logger): IKibanaResponse {
  if (err instanceof BadRequestError) return response.badRequest({ body: { message: err.message } });
  if (aborted) return response.customError({ statusCode: CLIENT_CLOSED_REQUEST, body: { message: 'request aborted by the client' } });
  const es = esFailureOf(err);
  const statusCode = es?.statusCode ?? 500;
  const message = es?.message ?? (err instanceof Error ? err.message : String(err));
  if (statusCode >= 500) logger.error(`threatflow route failed (${statusCode}): ${message}`);
  else logger.warn(`threatflow route refused by Elasticsearch (${statusCode}): ${message}`);
  return response.customError({ statusCode, body: { message } });
}

export function esHandler<Q>(logger: Logger, run: Run<Q>): RequestHandler<unknown, Q, unknown, RequestHandlerContext, 'get'> {
  return async (context, request, response) => {
    const controller = new AbortController();
    const subscription = request.events.aborted$.subscribe(() => controller.abort());
    try {
      const es = (await context.core).elasticsearch.client.asCurrentUser;
      return response.ok({ body: await run(es, request.query, controller.signal) });
    } catch (err) {
      return errorResponse(response, err, controller.signal.aborted, logger);
    } finally {
      subscription.unsubscribe();
    }
  };
}
