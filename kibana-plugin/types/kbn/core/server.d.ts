// SPDX-License-Identifier: Apache-2.0
/**
 * The subset of `@kbn/core/server` (Kibana 8.14) that kibana-plugin/server uses, so the server side
 * type-checks outside a Kibana checkout (tsconfig.check.json maps `@kbn/*` here). Inside Kibana the real
 * package applies and this file is not used.
 *
 * Written from Kibana's sources (members the plugin does not use are omitted, the rest keep Kibana's
 * names, generics and types):
 *   packages/core/http/core-http-server/src/router/router.ts                   IRouter, RouteRegistrar
 *   packages/core/http/core-http-server/src/router/route.ts                    RouteConfig, RouteConfigOptions, RouteMethod
 *   packages/core/http/core-http-server/src/router/route_validator.ts          RouteValidatorFullConfig, RouteValidationSpec
 *   packages/core/http/core-http-server/src/router/request.ts                  KibanaRequest, KibanaRequestEvents
 *   packages/core/http/core-http-server/src/router/request_handler.ts          RequestHandler
 *   packages/core/http/core-http-server/src/router/request_handler_context.ts  RequestHandlerContextBase
 *   packages/core/http/core-http-server/src/router/response.ts                 IKibanaResponse, ResponseError, CustomHttpResponseOptions
 *   packages/core/http/core-http-server/src/router/response_factory.ts         KibanaResponseFactory
 *   packages/core/elasticsearch/core-elasticsearch-server/src/client/client.ts ElasticsearchClient
 *   packages/core/elasticsearch/core-elasticsearch-server/src/client/scoped_cluster_client.ts IScopedClusterClient
 *   packages/core/http/core-http-request-handler-context-server, core-elasticsearch-server  CoreRequestHandlerContext
 *   packages/core/plugins/core-plugins-server/src/types.ts                     Plugin, PluginInitializer (async since 8.13),
 *                                                                              PluginInitializerContext, PluginConfigDescriptor
 *   packages/core/application/core-application-common/src/default_app_categories.ts DEFAULT_APP_CATEGORIES
 *   packages/kbn-logging/src/logger.ts, logger_factory.ts                      Logger, LoggerFactory
 *
 * Observables (request events) are typed structurally (`subscribe` returning an unsubscribable), which
 * rxjs' Observable satisfies; rxjs is not a dependency outside Kibana.
 */
import type { Client } from '@elastic/elasticsearch';
import type { ObjectType, Type } from '@kbn/config-schema';

/* ---- common ---- */

export interface Subscribable<T> {
  subscribe(next: (value: T) => void): { unsubscribe(): void };
}

export interface AppCategory {
  id: string;
  label: string;
  ariaLabel?: string;
  order?: number;
  euiIconType?: string;
}

/** kibana, enterpriseSearch, observability, security (id `securitySolution`), management. */
export declare const DEFAULT_APP_CATEGORIES: Readonly<Record<'kibana' | 'enterpriseSearch' | 'observability' | 'security' | 'management', AppCategory>>;

/* ---- logging ---- */

export interface Logger {
  debug(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
  warn(errorOrMessage: string | Error, meta?: Record<string, unknown>): void;
  error(errorOrMessage: string | Error, meta?: Record<string, unknown>): void;
  get(...childContextPaths: string[]): Logger;
}

export interface LoggerFactory {
  get(...contextParts: string[]): Logger;
}

/* ---- elasticsearch ---- */

/** Client used to query the elasticsearch cluster. */
export type ElasticsearchClient = Omit<Client, 'connectionPool' | 'serializer' | 'extend' | 'close' | 'diagnostic'>;

/** Omitted: asSecondaryAuthUser. */
export interface IScopedClusterClient {
  /** Acts as the Kibana internal user. */
  readonly asInternalUser: ElasticsearchClient;
  /** Acts as the user of the request (their privileges apply). */
  readonly asCurrentUser: ElasticsearchClient;
}

/* ---- http: routes ---- */

export type SafeRouteMethod = 'get' | 'options';
export type DestructiveRouteMethod = 'post' | 'put' | 'delete' | 'patch';
export type RouteMethod = SafeRouteMethod | DestructiveRouteMethod;
export type RouteAccess = 'public' | 'internal';

/** Omitted: body, timeout, summary, description, deprecated and OAS fields. */
export interface RouteConfigOptions<Method extends RouteMethod> {
  authRequired?: boolean | 'optional';
  xsrfRequired?: Method extends 'get' ? never : boolean;
  /** Defaults to 'internal'. */
  access?: RouteAccess;
  /** On 8.14, `access:<privilege>` tags are the route's required API privileges. */
  tags?: readonly string[];
}

export interface RouteValidationResultFactory {
  ok: <T>(value: T) => { value: T };
  badRequest: (error: Error | string, path?: string[]) => { error: Error };
}

export type RouteValidationFunction<T> = (
  data: any,
  validationResult: RouteValidationResultFactory,
) => { value: T; error?: never } | { value?: never; error: Error };

export type RouteValidationSpec<T> = ObjectType | Type<T> | RouteValidationFunction<T>;

export interface RouteValidatorConfig<P, Q, B> {
  params?: RouteValidationSpec<P>;
  query?: RouteValidationSpec<Q>;
  body?: RouteValidationSpec<B>;
}

export interface RouteValidatorOptions {
  unsafe?: { params?: boolean; query?: boolean; body?: boolean };
}

export type RouteValidatorFullConfig<P, Q, B> = RouteValidatorConfig<P, Q, B> & RouteValidatorOptions;

export interface RouteConfig<P, Q, B, Method extends RouteMethod> {
  path: string;
  /** `false`: no params, query or body reach the handler. */
  validate: RouteValidatorFullConfig<P, Q, B> | false;
  options?: RouteConfigOptions<Method>;
}

/* ---- http: request ---- */

export interface KibanaRequestEvents {
  /** Emits once if and when the request has been aborted (the client went away). */
  aborted$: Subscribable<void>;
  /** Emits once if and when the request has been completely handled. */
  completed$: Subscribable<void>;
}

/** Omitted: route, socket, auth, rewrittenUrl, httpVersion, protocol, apiVersion. */
export interface KibanaRequest<Params = unknown, Query = unknown, Body = unknown, Method extends RouteMethod = any> {
  readonly id: string;
  readonly uuid: string;
  readonly url: URL;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly isSystemRequest: boolean;
  readonly events: KibanaRequestEvents;
  readonly params: Params;
  readonly query: Query;
  readonly body: Body;
}

/* ---- http: response ---- */

export type HttpResponsePayload = undefined | string | Record<string, any> | Buffer;
export type ResponseErrorAttributes = Record<string, any>;
export type ResponseError = string | Error | { message: string | Error; attributes?: ResponseErrorAttributes };

export interface HttpResponseOptions<T extends HttpResponsePayload | ResponseError = any> {
  body?: T;
  headers?: Record<string, string | string[]>;
  bypassErrorFormat?: boolean;
}

export interface ErrorHttpResponseOptions {
  body?: ResponseError;
  headers?: Record<string, string | string[]>;
}

export interface CustomHttpResponseOptions<T extends HttpResponsePayload | ResponseError> {
  body?: T;
  headers?: Record<string, string | string[]>;
  bypassErrorFormat?: boolean;
  statusCode: number;
}

export interface IKibanaResponse<T extends HttpResponsePayload | ResponseError = any> {
  readonly status: number;
  readonly payload?: T;
  readonly options: HttpResponseOptions;
}

/** Omitted: accepted, noContent, redirected, unauthorized, forbidden, conflict, file, custom. */
export interface KibanaResponseFactory {
  /** 200. */
  ok<T extends HttpResponsePayload = HttpResponsePayload>(options?: HttpResponseOptions<T>): IKibanaResponse<T>;
  /** 400. */
  badRequest(options?: ErrorHttpResponseOptions): IKibanaResponse;
  /** 404. */
  notFound(options?: ErrorHttpResponseOptions): IKibanaResponse;
  /** Any error status. */
  customError(options: CustomHttpResponseOptions<ResponseError>): IKibanaResponse;
}

/* ---- http: handlers and router ---- */

export interface RequestHandlerContextBase {
  /** Await the listed context parts. */
  resolve: <T extends keyof Omit<this, keyof RequestHandlerContextBase>>(parts: T[]) => Promise<Pick<this, T>>;
}

/** Omitted: savedObjects, uiSettings, deprecations, featureFlags. */
export interface CoreRequestHandlerContext {
  elasticsearch: { client: IScopedClusterClient };
}

/** The context of a route handler created by `core.http.createRouter()`. */
export interface RequestHandlerContext extends RequestHandlerContextBase {
  core: Promise<CoreRequestHandlerContext>;
}

export type RequestHandler<
  P = unknown,
  Q = unknown,
  B = unknown,
  Context extends RequestHandlerContextBase = RequestHandlerContextBase,
  Method extends RouteMethod = any,
  ResponseFactory extends KibanaResponseFactory = KibanaResponseFactory,
> = (context: Context, request: KibanaRequest<P, Q, B, Method>, response: ResponseFactory) => IKibanaResponse<any> | Promise<IKibanaResponse<any>>;

export type RouteRegistrar<Method extends RouteMethod, Context extends RequestHandlerContextBase = RequestHandlerContextBase> = <P, Q, B>(
  route: RouteConfig<P, Q, B, Method>,
  handler: RequestHandler<P, Q, B, Context, Method>,
) => void;

/** Omitted: patch, handleLegacyErrors, getRoutes, versioned. */
export interface IRouter<Context extends RequestHandlerContextBase = RequestHandlerContextBase> {
  routerPath: string;
  get: RouteRegistrar<'get', Context>;
  post: RouteRegistrar<'post', Context>;
  put: RouteRegistrar<'put', Context>;
  delete: RouteRegistrar<'delete', Context>;
}

/* ---- lifecycle and plugins ---- */

/** Omitted: everything but http.createRouter. */
export interface CoreSetup {
  http: {
    createRouter<Context extends RequestHandlerContextBase = RequestHandlerContext>(): IRouter<Context>;
  };
}

/** Omitted: all services (the plugin uses none at start). */
export type CoreStart = object;

export interface Plugin<TSetup = void, TStart = void, TPluginsSetup extends object = object, TPluginsStart extends object = object> {
  setup(core: CoreSetup, plugins: TPluginsSetup): TSetup;
  start(core: CoreStart, plugins: TPluginsStart): TStart;
  stop?(): void | Promise<void>;
}

/** Omitted: opaqueId, env, node, config.create, config.legacy. */
export interface PluginInitializerContext<ConfigSchema = unknown> {
  logger: LoggerFactory;
  config: {
    /** The plugin's configuration now (validated by its schema at startup). */
    get: <T = ConfigSchema>() => T;
  };
}

/** The `plugin` export of a plugin's server/index.ts; asynchronous since Kibana 8.13. */
export type PluginInitializer<TSetup, TStart, TPluginsSetup extends object = object, TPluginsStart extends object = object> = (
  core: PluginInitializerContext,
) => Promise<Plugin<TSetup, TStart, TPluginsSetup, TPluginsStart>>;

export type PluginConfigSchema<T> = Type<T>;

export type ExposedToBrowserDescriptor<T> = { [Key in keyof T]?: boolean };

/** Omitted: deprecations, dynamicConfig, exposeToUsage. */
export interface PluginConfigDescriptor<T = any> {
  /** Keys of the configuration the browser side gets (`initializerContext.config.get()` in public/). */
  exposeToBrowser?: ExposedToBrowserDescriptor<T>;
  schema: PluginConfigSchema<T>;
}
