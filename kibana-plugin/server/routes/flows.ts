// SPDX-License-Identifier: Apache-2.0
/** GET /internal/threatflow/flows?from&to&ip&role&size → FlowsResponse. */
import { schema } from '@kbn/config-schema';
import type { IRouter, Logger, RequestHandlerContext } from '@kbn/core/server';
import { API_PRIVILEGE, DEFAULT_FLOWS, FLOW_ROLES, MAX_FLOWS, ROUTES, ipError, parseFlowsQuery } from '../../common';
import { getFlows, type ThreatflowEsOptions } from '../lib';
import { esHandler } from './handler';
import { intParam, oneOfError, rangeProps, validateRange } from './schemas';

export const flowsQuerySchema = schema.object(
  {
    ...rangeProps,
    ip: schema.string({ validate: ipError }),
    role: schema.string({ defaultValue: 'indicator', validate: oneOfError(FLOW_ROLES) }),
    size: intParam(1, MAX_FLOWS, DEFAULT_FLOWS),
  },
  { validate: validateRange },
);

export function registerFlowsRoute(router: IRouter<RequestHandlerContext>, opts: ThreatflowEsOptions, logger: Logger): void {
  router.get(
    { path: ROUTES.flows, validate: { query: flowsQuerySchema }, options: { tags: [`access:${API_PRIVILEGE}`] } },
    esHandler(logger, (es, query, signal) => getFlows(es, parseFlowsQuery({ ...query }), opts, signal)),
  );
}
