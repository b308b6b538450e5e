// SPDX-License-Identifier: Apache-2.0
/** GET /internal/threatflow/threats?from&to&page&perPage&sortField&sortDirection → ThreatsResponse. */
import { schema } from '@kbn/config-schema';
import type { IRouter, Logger, RequestHandlerContext } from '@kbn/core/server';
import {
  API_PRIVILEGE,
  DEFAULT_PER_PAGE,
  MAX_PAGE,
  MAX_PER_PAGE,
  ROUTES,
  SORT_DIRECTIONS,
  THREAT_SORT_FIELDS,
  parseThreatsQuery,
} from '../../common';
import { getThreats, type ThreatflowEsOptions } from '../lib';
import { esHandler } from './handler';
import { intParam, oneOfError, rangeProps, validateRange } from './schemas';

export const threatsQuerySchema = schema.object(
  {
    ...rangeProps,
    page: intParam(0, MAX_PAGE, 0),
    perPage: intParam(1, MAX_PER_PAGE, DEFAULT_PER_PAGE),
    sortField: schema.string({ defaultValue: 'flows', validate: oneOfError(THREAT_SORT_FIELDS) }),
    sortDirection: schema.string({ defaultValue: 'desc', validate: oneOfError(SORT_DIRECTIONS) }),
  },
  { validate: validateRange },
);

export function registerThreatsRoute(router: IRouter<RequestHandlerContext>, opts: ThreatflowEsOptions, logger: Logger): void {
  router.get(
    { path: ROUTES.threats, validate: { query: threatsQuerySchema }, options: { tags: [`access:${API_PRIVILEGE}`] } },
    // parse* narrows the validated strings to the typed query (and checks once more, at no cost).
    esHandler(logger, (es, query, signal) => getThreats(es, parseThreatsQuery({ ...query }), opts, signal)),
  );
}
