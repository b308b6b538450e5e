// SPDX-License-Identifier: Apache-2.0
/**
 * The subset of `@kbn/core/public` (Kibana 8.14) that kibana-plugin/public uses, so the browser side
 * type-checks outside a Kibana checkout (tsconfig.check.json maps `@kbn/*` here). Inside Kibana the real
 * package applies and this file is not used.
 *
 * Written from Kibana's sources (members the plugin does not use are omitted, the rest keep Kibana's
 * names and types):
 *   packages/core/application/core-application-common/src/app_category.ts         AppCategory
 *   packages/core/application/core-application-common/src/default_app_categories.ts DEFAULT_APP_CATEGORIES
 *   packages/core/application/core-application-browser/src/app_mount.ts           AppMount, AppUnmount, AppMountParameters
 *   packages/core/application/core-application-browser/src/application.ts         App, AppNavOptions
 *   packages/core/application/core-application-browser/src/contracts.ts           ApplicationSetup
 *   packages/core/http/core-http-browser/src/types.ts                             HttpSetup/HttpStart, IBasePath,
 *                                                                                 HttpFetchQuery, HttpFetchOptions, HttpHandler,
 *                                                                                 HttpResponse, IHttpFetchError
 *   packages/core/lifecycle/core-lifecycle-browser/src/core_setup.ts              CoreSetup, StartServicesAccessor
 *   packages/core/lifecycle/core-lifecycle-browser/src/core_start.ts              CoreStart
 *   packages/core/plugins/core-plugins-browser/src/plugin.ts                      Plugin
 *   packages/core/plugins/core-plugins-browser/src/plugin_initializer.ts          PluginInitializer, PluginInitializerContext
 *   packages/core/theme/core-theme-browser/src/types.ts                           CoreTheme, ThemeServiceStart (core.theme)
 *   packages/core/ui-settings/core-ui-settings-browser/src/types.ts               IUiSettingsClient (core.uiSettings)
 *
 * Observables (`theme$`) are typed structurally (`subscribe` returning an unsubscribable), which rxjs'
 * Observable satisfies; rxjs is not a dependency outside Kibana.
 */

/* ---- common ---- */

export interface Subscribable<T> {
  subscribe(next: (value: T) => void): { unsubscribe(): void };
}

/* ---- application ---- */

export interface AppCategory {
  id: string;
  label: string;
  ariaLabel?: string;
  order?: number;
  euiIconType?: string;
}

/** kibana, enterpriseSearch, observability, security (id `securitySolution`), management. */
export declare const DEFAULT_APP_CATEGORIES: Record<string, AppCategory>;

export type AppUnmount = () => void;

/** Omitted: history, appBasePath, onAppLeave, setHeaderActionMenu, theme$. */
export interface AppMountParameters<HistoryLocationState = unknown> {
  /** The container element to render the application into. */
  element: HTMLElement;
}

export type AppMount<HistoryLocationState = unknown> = (
  params: AppMountParameters<HistoryLocationState>,
) => AppUnmount | Promise<AppUnmount>;

export interface AppNavOptions {
  order?: number;
  tooltip?: string;
  euiIconType?: string;
  icon?: string;
}

/** Omitted: status, visibleIn, defaultPath, updater$, capabilities, chromeless, exactRoute, keywords, deepLinks. */
export interface App<HistoryLocationState = unknown> extends AppNavOptions {
  id: string;
  title: string;
  category?: AppCategory;
  mount: AppMount<HistoryLocationState>;
  appRoute?: string;
}

/** Omitted: registerAppUpdater. */
export interface ApplicationSetup {
  register<HistoryLocationState = unknown>(app: App<HistoryLocationState>): void;
}

/* ---- http ---- */

export interface IBasePath {
  get: () => string;
  prepend: (url: string) => string;
  remove: (url: string) => string;
  readonly serverBasePath: string;
  readonly publicBaseUrl?: string;
}

export interface HttpFetchQuery {
  [key: string]: string | number | boolean | string[] | number[] | boolean[] | undefined | null;
}

export interface HttpHeadersInit {
  [name: string]: any;
}

/** HttpRequestInit's fetch options folded in; omitted: body, cache, credentials, integrity, keepalive, mode, redirect, referrer, referrerPolicy, window, rawResponse, context, version. */
export interface HttpFetchOptions {
  method?: string;
  signal?: AbortSignal | null;
  query?: HttpFetchQuery;
  prependBasePath?: boolean;
  headers?: HttpHeadersInit;
  asSystemRequest?: boolean;
  asResponse?: boolean;
}

export interface HttpFetchOptionsWithPath extends HttpFetchOptions {
  path: string;
}

export interface HttpResponse<TResponseBody = unknown> {
  readonly fetchOptions: Readonly<HttpFetchOptionsWithPath>;
  readonly request: Readonly<Request>;
  readonly response?: Readonly<Response>;
  readonly body?: TResponseBody;
}

export interface HttpHandler {
  <TResponseBody = unknown>(path: string, options: HttpFetchOptions & { asResponse: true }): Promise<HttpResponse<TResponseBody>>;
  <TResponseBody = unknown>(options: HttpFetchOptionsWithPath & { asResponse: true }): Promise<HttpResponse<TResponseBody>>;
  <TResponseBody = unknown>(path: string, options?: HttpFetchOptions): Promise<TResponseBody>;
  <TResponseBody = unknown>(options: HttpFetchOptionsWithPath): Promise<TResponseBody>;
}

/** The rejection of an HttpHandler; for a 4xx/5xx answer `body` is the parsed JSON error body. */
export interface IHttpFetchError<TResponseBody = unknown> extends Error {
  readonly name: string;
  readonly request: Request;
  readonly response?: Response;
  readonly body?: TResponseBody;
}

/** Omitted: anonymousPaths, externalUrl, intercept, addLoadingCountSource, getLoadingCount$. */
export interface HttpSetup {
  basePath: IBasePath;
  fetch: HttpHandler;
  delete: HttpHandler;
  get: HttpHandler;
  head: HttpHandler;
  options: HttpHandler;
  patch: HttpHandler;
  post: HttpHandler;
  put: HttpHandler;
}

export type HttpStart = HttpSetup;

/* ---- theme ---- */

/** Contains all the required information to apply Kibana's theme at the various levels it can be used. */
export interface CoreTheme {
  /** is dark mode enabled or not */
  readonly darkMode: boolean;
}

/** Omitted: everything but theme$ (the same in ThemeServiceSetup). */
export interface ThemeServiceStart {
  /**
   * An observable of the currently active theme. Note that the observable has a replay effect, so it will
   * emit once during subscriptions.
   */
  theme$: Subscribable<CoreTheme>;
}

/* ---- ui settings ---- */

/**
 * Client-side client that provides access to the advanced settings stored in elasticsearch.
 * Omitted: get$, getAll, set, remove, isDeclared, isDefault, isCustom, isOverridden, getUpdate$, getUpdateErrors$.
 */
export interface IUiSettingsClient {
  /**
   * Gets the value for a specific uiSetting. If this setting has no user-defined value
   * then the `defaultOverride` parameter is returned (and parsed if setting is of type
   * "json" or "number). If the parameter is not defined and the key is not registered
   * by any plugin then an error is thrown, otherwise reads the default value defined by a plugin.
   */
  get: <T = any>(key: string, defaultOverride?: T) => T;
}

/* ---- lifecycle ---- */

/** Omitted: every service but application and http. */
export interface CoreSetup<TPluginsStart extends object = object, TStart = unknown> {
  application: ApplicationSetup;
  http: HttpSetup;
  getStartServices: StartServicesAccessor<TPluginsStart, TStart>;
}

/** Omitted: every service but http, theme and uiSettings. */
export interface CoreStart {
  http: HttpStart;
  theme: ThemeServiceStart;
  uiSettings: IUiSettingsClient;
}

export type StartServicesAccessor<TPluginsStart extends object = object, TStart = unknown> = () => Promise<
  [CoreStart, TPluginsStart, TStart]
>;

/* ---- plugins ---- */

export interface Plugin<TSetup = void, TStart = void, TPluginsSetup extends object = object, TPluginsStart extends object = object> {
  setup(core: CoreSetup<TPluginsStart, TStart>, plugins: TPluginsSetup): TSetup;
  start(core: CoreStart, plugins: TPluginsStart): TStart;
  stop?(): void | Promise<void>;
}

/** Omitted: opaqueId, env, logger. */
export interface PluginInitializerContext<ConfigSchema extends object = object> {
  readonly config: {
    get: <T extends object = ConfigSchema>() => T;
  };
}

export type PluginInitializer<TSetup, TStart, TPluginsSetup extends object = object, TPluginsStart extends object = object> = (
  core: PluginInitializerContext,
) => Plugin<TSetup, TStart, TPluginsSetup, TPluginsStart>;
