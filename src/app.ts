/**
 * createApp(deps): the whole HTTP/WS application without listening, so tests drive it through
 * app.handle() or listen(0). Order of the request pipeline:
 *   request id -> body size guard -> client IP -> rate limit -> route -> (error renderer)
 * and every response, including errors and static files, gets the security headers.
 */
import { Elysia } from "elysia";
import type { Config } from "./config.ts";
import type { Database } from "./db/open.ts";
import type { EventPublisher } from "./db/tx.ts";
import type { Logger } from "./log.ts";
import type { Secrets } from "./secrets.ts";
import { AppError, InvalidInputError, NotFoundError, PayloadTooLargeError, RateLimitedError } from "./errors.ts";
import { createClientIpResolver } from "./http/client-ip.ts";
import { applySecurityHeaders, SECURITY_HEADERS } from "./http/security-headers.ts";
import { DEFAULT_RATE_LIMITS, isAuthEndpoint, MemoryRateLimitStore, type RateLimits, type RateLimitStore } from "./http/rate-limit.ts";
import { renderError, toAppError } from "./http/error-response.tsx";
import { serveStatic } from "./http/static-files.ts";
import type { AssetResolver } from "./http/assets.ts";
import { healthRoutes } from "./features/health/routes.ts";
import { homeRoutes } from "./features/home/routes.tsx";
import { oidcRoutes } from "./features/oidc/index.ts";
import { keysRoutes } from "./features/keys/index.ts";
import { authApiRoutes } from "./features/auth/routes-api.ts";
import { authPageRoutes } from "./features/auth/routes-pages-auth.tsx";
import { settingsPageRoutes } from "./features/auth/routes-pages-settings.tsx";
import { communityApiRoutes } from "./features/communities/routes.ts";
import { channelApiRoutes } from "./features/channels/routes.ts";
import { dmApiRoutes } from "./features/dms/routes.ts";
import { moderationApiRoutes } from "./features/moderation/routes.ts";
import { communityPages } from "./features/communities/pages.tsx";
import { communitySettingsPages } from "./features/communities/settings-pages.tsx";
import { dmPages } from "./features/dms/pages.tsx";
import { installMessaging, messageApiRoutes } from "./features/messages/index.ts";
import { Hub } from "./ws/hub.ts";
import { hubRoutes } from "./ws/routes.ts";
import { wireRealtime } from "./features/realtime/index.ts";
import { installPresence } from "./features/presence/index.ts";
import { presenceRoutes } from "./features/presence/routes.ts";
import { keySharingRoutes } from "./features/key-sharing/index.ts";
import { helpRoutes } from "./features/home/help-encryption.tsx";
import { MAX_TRANSPORT_FRAME_BYTES } from "./shared/protocol.ts";

/** Requests above this are refused with 413 before the body is read (seeds/000: 110 MB). */
export const MAX_BODY_BYTES = 110 * 1024 * 1024;

export type AppDeps = {
  config: Config;
  database: Database;
  log: Logger;
  secrets: Secrets;
  events: EventPublisher;
  /** The WebSocket hub (/ws). main.ts and tests pass the same object as `events`. */
  hub?: Hub;
  assets: AssetResolver;
  rateLimits?: RateLimits;
  rateLimitStore?: RateLimitStore;
  now?: () => number;
  /** The progressive login delay waits through this; tests pass a recorder instead of sleeping. */
  sleep?: (ms: number) => Promise<void>;
};

type RequestState = { requestId: string; clientIp: string; startedMs: number; path: string };

// Per-request state, keyed by the Request object (module-level so features can read the client
// IP the pipeline resolved, through clientIpOf, without re-deriving it from proxy headers).
const requestStates = new WeakMap<Request, RequestState>();

/** The client IP as resolved by the pipeline (trusted proxies honoured); "unknown" before it ran. */
export function clientIpOf(request: Request): string {
  return requestStates.get(request)?.clientIp ?? "unknown";
}

export function createApp(deps: AppDeps) {
  // Without an injected hub /ws still works (a private hub that no service publishes to).
  const hub = deps.hub ?? new Hub({ log: deps.log, version: deps.config.version, now: deps.now });
  wireRealtime(deps, hub);
  const limits = deps.rateLimits ?? DEFAULT_RATE_LIMITS;
  const store = deps.rateLimitStore ?? new MemoryRateLimitStore();
  const now = deps.now ?? Date.now;
  const resolveClientIp = createClientIpResolver(deps.config.trustedProxies);
  const states = requestStates;
  const stateOf = (request: Request): RequestState => {
    let state = states.get(request);
    if (!state) {
      state = { requestId: crypto.randomUUID(), clientIp: "unknown", startedMs: performance.now(), path: pathOf(request.url) };
      states.set(request, state);
    }
    return state;
  };

  const errorResponse = (error: unknown, request: Request): Response => {
    const state = stateOf(request);
    const appError = toAppError(error, state.requestId, deps.log);
    return applySecurityHeaders(renderError({ error: appError, request, path: state.path, requestId: state.requestId, assets: deps.assets }));
  };

  // Messaging wires itself into the hub (subscribe check, membership listener, message:send).
  if (deps.hub) installMessaging(deps, deps.hub);
  if (deps.hub) installPresence(deps, deps.hub);
  const app = new Elysia({
    name: "hearth",
    // Bun-level WebSocket settings (they apply to the whole server, hence here, not in the hub):
    // - frames above the hard limit are closed with 1009; below it the hub answers oversized
    //   frames (> MAX_FRAME_BYTES) with an error frame and keeps the socket;
    // - Bun pings idle sockets and closes those that stay silent for idleTimeout seconds;
    // - a client that cannot keep up is closed at the backpressure limit rather than buffered
    //   without bound; it reconnects and catches up over HTTP.
    websocket: {
      maxPayloadLength: MAX_TRANSPORT_FRAME_BYTES,
      idleTimeout: 60,
      sendPings: true,
      backpressureLimit: 4 * 1024 * 1024,
      closeOnBackpressureLimit: true,
      perMessageDeflate: false,
    },
  })
    .onRequest(async ({ request, server }) => {
      const state = stateOf(request);
      const length = Number(request.headers.get("content-length") ?? 0);
      if (length > MAX_BODY_BYTES) return errorResponse(new PayloadTooLargeError(), request);
      state.clientIp = resolveClientIp(request.headers, server?.requestIP(request)?.address);
      const limit = isAuthEndpoint(request.method, state.path) ? { key: "auth", limit: limits.auth } : { key: "general", limit: limits.general };
      // Auth endpoints pay into both buckets: the stricter one cannot be dodged, and the general
      // one still counts them.
      const checks = limit.key === "auth" ? [limit, { key: "general", limit: limits.general }] : [limit];
      for (const check of checks) {
        const result = await store.take(`${check.key}:${state.clientIp}`, check.limit, now());
        if (!result.allowed) {
          deps.log.info("http.rate_limited", { requestId: state.requestId, ip: state.clientIp, bucket: check.key, path: state.path });
          return errorResponse(new RateLimitedError(result.retryAfterSecs), request);
        }
      }
    })
    .onError(({ error, code, request }) => {
      if (code === "NOT_FOUND") return errorResponse(new NotFoundError("There is nothing at this address."), request);
      if (code === "VALIDATION" || code === "PARSE") {
        // Never echo Elysia's validation dump (it includes the schema); name the field instead.
        return errorResponse(validationToAppError(error), request);
      }
      if (error instanceof AppError) return errorResponse(error, request);
      return errorResponse(error, request);
    })
    .onAfterHandle(({ request, set }) => {
      set.headers["x-request-id"] = stateOf(request).requestId;
    })
    .mapResponse(({ request, responseValue, set }) => {
      // Every successful response passes here; make sure headers land even on raw Response objects.
      if (responseValue instanceof Response) {
        responseValue.headers.set("x-request-id", stateOf(request).requestId);
        return applySecurityHeaders(responseValue);
      }
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) set.headers[name] ??= value;
    })
    .onAfterResponse(({ request, set }) => {
      const state = stateOf(request);
      deps.log.debug("http.request", { requestId: state.requestId, method: request.method, path: state.path, status: set.status, ms: Math.round(performance.now() - state.startedMs) });
    })
    .use(healthRoutes(deps))
    .use(oidcRoutes(deps))
    .get("/public/*", ({ params }) => serveStatic(deps.config.staticDir, params["*"]))
    .use(authApiRoutes(deps))
    .use(authPageRoutes(deps))
    .use(settingsPageRoutes(deps))
    .use(homeRoutes(deps))
    .use(helpRoutes(deps))
    .use(keysRoutes(deps))
    .use(communityApiRoutes(deps))
    .use(channelApiRoutes(deps))
    .use(dmApiRoutes(deps))
    .use(moderationApiRoutes(deps))
    .use(messageApiRoutes(deps))
    .use(keySharingRoutes(deps))
    .use(presenceRoutes(deps))
    .use(communityPages(deps))
    .use(communitySettingsPages(deps))
    .use(dmPages(deps))
    .use(hubRoutes(hub, deps));
  return app;
}

function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start === -1) return "/";
  const end = url.search(/[?#]/);
  return url.slice(start, end === -1 ? undefined : end);
}

function validationToAppError(error: unknown): AppError {
  const e = error as { valueError?: { path?: string; message?: string }; all?: { path?: string; summary?: string; message?: string }[] };
  const first = e.valueError ?? e.all?.[0];
  const field = first?.path?.replace(/^\//, "").replace(/\//g, ".") || undefined;
  if (!field) return new InvalidInputError("The request could not be read. Check that it is valid JSON or form data.");
  return new InvalidInputError(`The field "${field}" is missing or invalid.`, { [field]: "Missing or invalid value." });
}

export type App = ReturnType<typeof createApp>;
