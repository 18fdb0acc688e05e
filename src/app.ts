/**
 * createApp(deps): the whole HTTP/WS application without listening, so tests drive it through
 * app.handle() or listen(0). Order of the request pipeline:
 *   request id -> client IP -> rate limit -> body guard -> input guard (text, path params) -> route -> (error renderer)
 * and every response, including errors and static files, gets the security headers. The body
 * guard (src/http/body-guard.ts) comes last in onRequest: it decides, before Elysia's parse phase
 * reads anything, whether the body may be read (per-route budget, authentication first for large
 * bodies, bytes in flight per client and per process), and onAfterResponse gives back its bytes
 * and counts the request in the metrics by route template (src/metrics/registry.ts).
 */
import { Elysia } from "elysia";
// The dependency type and the request context live below every feature (src/deps.ts,
// src/http/request-context.ts), so features never import this file: no import cycle through it.
export type { AppDeps } from "./deps.ts";
export { clientIpOf } from "./http/request-context.ts";
import type { AppDeps } from "./deps.ts";
import { requestStates, type RequestState } from "./http/request-context.ts";
import { AppError, NotFoundError, RateLimitedError } from "./errors.ts";
import { createClientIpResolver, limitSubjectOf } from "./http/client-ip.ts";
import { applySecurityHeaders, SECURITY_HEADERS } from "./http/security-headers.ts";
import { DEFAULT_RATE_LIMITS, isAuthEndpoint, MemoryRateLimitStore } from "./http/rate-limit.ts";
import { renderError, toAppError } from "./http/error-response.tsx";
import { serveStatic } from "./http/static-files.ts";
import { createBodyGuard } from "./http/body-guard.ts";
import { InFlightBodies } from "./http/body-in-flight.ts";
import { compressDynamic } from "./http/compression.ts";
import { assertPathParamsKnown, inputGuard } from "./http/input-guard.ts";
import { validationToAppError } from "./http/validation-error.ts";
import { healthRoutes } from "./features/health/routes.ts";
import { probeRoutes } from "./features/health/probes.ts";
import { metricsRoutes } from "./metrics/routes.ts";
import { observeHttpRequest } from "./metrics/registry.ts";
import { homeRoutes } from "./features/home/routes.tsx";
import { oidcRoutes } from "./features/oidc/index.ts";
import { keysRoutes } from "./features/keys/index.ts";
import { authApiRoutes } from "./features/auth/routes-api.ts";
import { authenticateBeforeBody } from "./features/auth/index.ts";
import { authPageRoutes } from "./features/auth/routes-pages-auth.tsx";
import { passwordResetRoutes } from "./features/auth/routes-reset.tsx";
import { dataRightsRoutes } from "./features/data-rights/index.ts";
import { settingsPageRoutes } from "./features/auth/routes-pages-settings.tsx";
import { adminMoreRoutes, adminPowerRoutes, adminUserRoutes } from "./features/admin/index.ts";
import { auditRoutes } from "./features/audit/index.ts";
import { announcementRoutes } from "./features/announcements/index.ts";
import { legalRoutes } from "./features/legal/index.ts";
import { serverSettingsRoutes } from "./features/server-settings/index.ts";
import { usageRoutes } from "./features/usage/index.ts";
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
import { installVoice, voiceRoutes } from "./features/voice/index.ts";
import { apiDocsRoutes, type DocumentedApp } from "./features/api-docs/index.ts";
import { fileRoutes } from "./features/files/index.ts";
import { imageRoutes } from "./features/images/index.ts";
import { webhookRoutes } from "./features/webhooks/index.ts";
import { linkPreviewRoutes } from "./features/link-previews/index.ts";
import { meetingRoutes } from "./features/meetings/index.ts";
import { gifRoutes } from "./features/gifs/index.ts";
import { feedbackRoutes } from "./features/feedback/index.ts";
import { installNotifications, notificationApiRoutes, notificationPages, pwaRoutes } from "./features/notifications/index.ts";
import { MAX_TRANSPORT_FRAME_BYTES } from "./shared/protocol.ts";

/** The admin area's routers as one plugin (one .use keeps the app's route type within tsc's depth). */
function adminAreaRoutes(deps: AppDeps) {
  return new Elysia({ name: "admin-area" }).use(adminUserRoutes(deps)).use(auditRoutes(deps)).use(adminPowerRoutes(deps)).use(adminMoreRoutes(deps)).use(announcementRoutes(deps)).use(legalRoutes(deps)).use(serverSettingsRoutes(deps)).use(usageRoutes(deps));
}

export function createApp(deps: AppDeps) {
  // Without an injected hub /ws still works (a private hub that no service publishes to).
  const hub = deps.hub ?? new Hub({ log: deps.log, version: deps.config.version, now: deps.now });
  wireRealtime(deps, hub);
  const limits = deps.rateLimits ?? DEFAULT_RATE_LIMITS;
  const store = deps.rateLimitStore ?? new MemoryRateLimitStore();
  const now = deps.now ?? Date.now;
  const resolveClientIp = createClientIpResolver(deps.config.trustedProxies, deps.config.clientIpHeader);
  const states = requestStates;
  const stateOf = (request: Request): RequestState => {
    let state = states.get(request);
    if (!state) {
      state = { requestId: crypto.randomUUID(), clientIp: "unknown", startedMs: performance.now(), path: pathOf(request.url) };
      states.set(request, state);
    }
    return state;
  };

  const bodyGuard = createBodyGuard({ routes: () => app.routes, inFlight: deps.inFlightBodies ?? new InFlightBodies(), authenticate: authenticateBeforeBody(deps) });

  const errorResponse = (error: unknown, request: Request): Response => {
    const state = stateOf(request);
    const appError = toAppError(error, state.requestId, deps.log);
    state.status = appError.status;
    return applySecurityHeaders(renderError({ error: appError, request, path: state.path, requestId: state.requestId, assets: deps.assets }));
  };

  // A refusal before routing: Elysia runs no onAfterResponse for it, so it is counted here (no route matched yet).
  const refuseEarly = (error: unknown, request: Request): Response => {
    const response = errorResponse(error, request);
    observeHttpRequest(request.method, undefined, response.status, (performance.now() - stateOf(request).startedMs) / 1000);
    return response;
  };

  // Messaging wires itself into the hub (subscribe check, membership listener, message:send).
  if (deps.hub) installMessaging(deps, deps.hub);
  if (deps.hub) installPresence(deps, deps.hub);
  if (deps.hub) installVoice(deps, deps.hub);
  // Web push on new messages (when VAPID keys are set); settings work either way.
  installNotifications(deps);
  let documented: DocumentedApp | undefined;
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
    .onRequest(async ({ request, server, set }) => {
      const state = stateOf(request);
      state.clientIp = resolveClientIp(request.headers, server?.requestIP(request)?.address);
      const limit = isAuthEndpoint(request.method, state.path) ? { key: "auth", limit: limits.auth } : { key: "general", limit: limits.general };
      // Auth endpoints pay into both buckets: the stricter one cannot be dodged, and the general
      // one still counts them.
      const checks = limit.key === "auth" ? [limit, { key: "general", limit: limits.general }] : [limit];
      for (const check of checks) {
        const result = await store.take(`${check.key}:${limitSubjectOf(state.clientIp)}`, check.limit, now());
        if (!result.allowed) {
          deps.log.info("http.rate_limited", { requestId: state.requestId, ip: state.clientIp, bucket: check.key, path: state.path });
          return refuseEarly(new RateLimitedError(result.retryAfterSecs), request);
        }
      }
      // Bodies in flight are counted per client like the rate limits (an IPv6 client by its /64).
      const refused = await bodyGuard.admit(request, state.path, limitSubjectOf(state.clientIp), set);
      if (refused) return refuseEarly(refused, request);
    })
    .onError(({ error, code, request }) => {
      // An AppError first: Elysia reports a thrown error's own `code` here, so a service's
      // NotFoundError ("No such user.") would otherwise be taken for an unknown route.
      if (error instanceof AppError) return errorResponse(error, request);
      if (code === "NOT_FOUND") return errorResponse(new NotFoundError("There is nothing at this address."), request);
      if (code === "VALIDATION" || code === "PARSE") {
        // Never echo Elysia's validation dump (it includes the schema); name the field instead.
        return errorResponse(validationToAppError(error), request);
      }
      return errorResponse(error, request);
    })
    .onAfterHandle(({ request, set }) => {
      set.headers["x-request-id"] = stateOf(request).requestId;
    })
    .mapResponse(({ request, responseValue, set }) => {
      // Every successful response passes here; make sure headers land even on raw Response objects.
      // HTML and JSON are compressed here when that is safe (src/http/compression.ts).
      stateOf(request).status ??= responseValue instanceof Response ? responseValue.status : Number(set.status);
      if (responseValue instanceof Response) {
        responseValue.headers.set("x-request-id", stateOf(request).requestId);
        return compressDynamic(request, applySecurityHeaders(responseValue), set);
      }
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) set.headers[name] ??= value;
      return compressDynamic(request, responseValue, set);
    })
    .onAfterResponse(({ request, set, route }) => {
      bodyGuard.finish(request);
      const state = stateOf(request);
      // By route template, never the raw path (ids would make one series per message).
      observeHttpRequest(request.method, route, state.status ?? Number(set.status), (performance.now() - state.startedMs) / 1000);
      deps.log.debug("http.request", { requestId: state.requestId, method: request.method, path: state.path, status: set.status, ms: Math.round(performance.now() - state.startedMs) });
    })
    .use(inputGuard())
    .use(healthRoutes(deps))
    .use(probeRoutes(deps))
    .use(metricsRoutes(deps))
    .use(oidcRoutes(deps))
    .get("/public/*", ({ params, request }) => serveStatic(deps.config.staticDir, params["*"], request))
    .use(authApiRoutes(deps))
    .use(authPageRoutes(deps))
    .use(passwordResetRoutes(deps))
    .use(settingsPageRoutes(deps))
    .use(adminAreaRoutes(deps))
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
    .use(voiceRoutes(deps))
    // Public images ride on the files plugin: one more step in this chain is one too many for
    // tsc's instantiation depth (TS2589); imageRoutes is typed as a plain plugin for the same reason.
    .use(fileRoutes(deps).use(imageRoutes(deps)))
    .use(notificationApiRoutes(deps))
    .use(notificationPages(deps))
    .use(pwaRoutes(deps))
    .use(communityPages(deps))
    .use(communitySettingsPages(deps))
    .use(dmPages(deps))
    .use(hubRoutes(hub, deps))
    // Last: the OpenAPI document reads the finished route table (on its first request).
    .use(apiDocsRoutes(deps, () => documented!));
  // Outside the chain: the chain's type is at TypeScript's instantiation depth (TS2589). Before
  // the first request, so the OpenAPI document (built on its first request) includes it.
  app.use(dataRightsRoutes(deps));
  // Outside the typed chain, which is at TypeScript's instantiation depth (TS2589): use() adds
  // to this same instance, before the route table is read (OpenAPI, path params, body budgets).
  (app as unknown as Elysia).use(webhookRoutes(deps)).use(linkPreviewRoutes(deps)).use(meetingRoutes(deps)).use(gifRoutes(deps)).use(feedbackRoutes(deps));
  documented = app as unknown as DocumentedApp;
  // Bun's own limit, the backstop for every route: no body larger than the largest budget is
  // accepted at all (Bun answers 413 itself and stops reading).
  app.config.serve = { ...app.config.serve, maxRequestBodySize: bodyGuard.largestBudget() };
  assertPathParamsKnown(app.routes);
  return app;
}

function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start === -1) return "/";
  const end = url.search(/[?#]/);
  return url.slice(start, end === -1 ? undefined : end);
}

export type App = ReturnType<typeof createApp>;
