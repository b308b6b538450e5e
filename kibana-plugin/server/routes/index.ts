// SPDX-License-Identifier: Apache-2.0
import type { IRouter, Logger, RequestHandlerContext } from '@kbn/core/server';
import type { ThreatflowEsOptions } from '../lib';
import { registerDbStatusRoute } from './db_status';
import { registerFlowsRoute } from './flows';
import { registerThreatsRoute } from './threats';

export function registerRoutes(router: IRouter<RequestHandlerContext>, opts: ThreatflowEsOptions, logger: Logger): void {
  registerThreatsRoute(router, opts, logger);
  registerFlowsRoute(router, opts, logger);
  registerDbStatusRoute(router, opts, logger);
}
