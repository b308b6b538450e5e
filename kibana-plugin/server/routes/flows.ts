// SPDX-License-Identifier: Apache-2.0
/** GET /internal/threatflow/flows?from&to&ip&role&size → FlowsResponse. */
import type { IRouter, Logger, RequestHandlerContext } from '@kbn/core/server';
import { API_PRIVILEGE, FLOWS_PARAMS, ROUTES, parseFlowsQuery } from '../../common';
import { getFlows, type ThreatflowEsOptions } from '../lib';
import { esHandler } from './handler';
import { definedOnly, querySchema } from './schemas';

/** Every parameter an optional string; parseFlowsQuery decides (schemas.ts). */
export const flowsQuerySchema = querySchema(FLOWS_PARAMS, parseFlowsQuery);

export function registerFlowsRoute(router: IRouter<RequestHandlerContext>, opts: ThreatflowEsOptions, logger: Logger): void {
  router.get(
    { path: ROUTES.flows, validate: { query: flowsQuerySchema }, options: { tags: [`access:${API_PRIVILEGE}`] } },
    esHandler(logger, (es, query, signal) => getFlows(es, parseFlowsQuery(definedOnly(query)), opts, signal)),
  );
}
