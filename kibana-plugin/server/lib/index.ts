// SPDX-License-Identifier: Apache-2.0
/**
 * The routes' logic as plain functions of an Elasticsearch client: Kibana's route handlers
 * (server/routes/), the standalone harness and the tests call the same code.
 */
export type { SearchClient, ThreatflowEsOptions } from './types';
export { getThreats, sortThreats, tagsOf } from './threats';
export { getFlows, flowRowOf, MAX_COUNTERPARTS } from './flows';
export { getDbStatus, isNotFound } from './db_status';
export { canonicalIp } from './query';
export { esFailureOf, esReason, redactUrl, routeStatusOfEs, type EsFailure } from './errors';
