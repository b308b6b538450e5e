// SPDX-License-Identifier: Apache-2.0
/** GET /internal/threatflow/db_status → DbStatusResponse (no parameters). */
import type { IRouter, Logger, RequestHandlerContext } from '@kbn/core/server';
import { API_PRIVILEGE, ROUTES } from '../../common';
import { getDbStatus, type ThreatflowEsOptions } from '../lib';
import { esHandler } from './handler';

export function registerDbStatusRoute(router: IRouter<RequestHandlerContext>, opts: ThreatflowEsOptions, logger: Logger): void {
  router.get(
    // No input: `validate: false` gives the handler empty params, query and body.
    { path: ROUTES.dbStatus, validate: false, options: { tags: [`access:${API_PRIVILEGE}`] } },
    esHandler(logger, (es, _query, signal) => getDbStatus(es, opts, signal)),
  );
}
