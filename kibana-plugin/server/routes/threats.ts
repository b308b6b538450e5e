// SPDX-License-Identifier: Apache-2.0
/** GET /internal/threatflow/threats?from&to&page&perPage&sortField&sortDirection → ThreatsResponse. */
import type { IRouter, Logger, RequestHandlerContext } from '@kbn/core/server';
import { API_PRIVILEGE, ROUTES, THREATS_PARAMS, parseThreatsQuery } from '../../common';
import { getThreats, type ThreatflowEsOptions } from '../lib';
import { esHandler } from './handler';
import { definedOnly, querySchema } from './schemas';

/** Every parameter an optional string; parseThreatsQuery decides (schemas.ts). */
export const threatsQuerySchema = querySchema(THREATS_PARAMS, parseThreatsQuery);

export function registerThreatsRoute(router: IRouter<RequestHandlerContext>, opts: ThreatflowEsOptions, logger: Logger): void {
  router.get(
    { path: ROUTES.threats, validate: { query: threatsQuerySchema }, options: { tags: [`access:${API_PRIVILEGE}`] } },
    // The validated query is still the raw strings: parse it into the typed, defaulted query.
    esHandler(logger, (es, query, signal) => getThreats(es, parseThreatsQuery(definedOnly(query)), opts, signal)),
  );
}

