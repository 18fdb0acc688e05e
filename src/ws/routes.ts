/**
 * GET /ws: the upgrade. Browsers authenticate with the session cookie and must come from our own
 * origin (a cross-site page could otherwise open a socket with the user's cookies: cross-site
 * WebSocket hijacking). API clients without cookies upgrade unauthenticated and must send an
 * `auth` frame with a Bearer access token within AUTH_DEADLINE_MS.
 *
 * The upgrade never rotates the refresh cookie: a 101 response is a poor place to set cookies, and
 * a rotation the browser missed would later look like token reuse and end the session. A browser
 * whose access cookie expired gets 401, refreshes over HTTP (any page load does), and reconnects.
 */
import { Elysia } from "elysia";
import type { ServerWebSocket } from "bun";
import type { AppDeps } from "../deps.ts";
import { ForbiddenError, InvalidInputError, UnauthenticatedError } from "../errors.ts";
import { authKernelOf, findLiveSessionIds, onSessionsRevoked, resolveActor, type Actor } from "../features/auth/index.ts";
import { ACCESS_COOKIE, parseCookies, REFRESH_COOKIE } from "../features/auth/cookies.ts";
import { Connection, type TokenAuthenticator } from "./connection.ts";
import { isDatabaseUnavailable } from "../db/error-kinds.ts";
import type { Hub, HubActor } from "./hub.ts";

/**
 * What a socket carries. Elysia's server-wide websocket handler calls data.open/message/close/pong;
 * they are shared per hub (not closures per socket), so an idle socket costs its Connection and
 * this small object. Upgrading from a plain GET route instead of `.ws()` avoids Elysia keeping the
 * whole request context (and a set of closures) alive per socket, and hands us raw frames: `.ws()`
 * JSON-parses and coerces ("1" -> 1) before anything can measure or validate them.
 */
type SocketData = {
  actor: HubActor | null;
  authStartedMs: number;
  connection?: Connection;
  open(ws: ServerWebSocket<SocketData>): void;
  message(ws: ServerWebSocket<SocketData>, message: string | Buffer): void;
  close(ws: ServerWebSocket<SocketData>): void;
  pong(ws: ServerWebSocket<SocketData>): void;
};

const toHubActor = (actor: Actor): HubActor => ({ userId: actor.userId, sessionId: actor.sessionId, isAdmin: actor.isAdmin, isOwner: actor.isOwner });

/** Origin must be the request's own origin or PUBLIC_URL's; a missing Origin is not a browser. */
export function isAllowedOrigin(request: Request, publicOrigin: string | undefined): boolean {
  const origin = request.headers.get("origin");
  if (!origin || origin === "null") return false;
  if (publicOrigin && origin === publicOrigin) return true;
  return origin === new URL(request.url).origin;
}

export function hubRoutes(hub: Hub, deps: AppDeps) {
  const kernel = authKernelOf(deps);

  // Revocations, logout-all and suspension close the affected sockets on every instance at once.
  onSessionsRevoked(deps, (userId, sessionIds) => hub.closeUserSockets(userId, sessionIds, "session_revoked"));
  hub.setSessionChecker((ids) => findLiveSessionIds(deps.database.db, ids, new Date(kernel.now())));

  /** Resolves an actor through the auth kernel's own checks, from one credential only. */
  const actorFrom = async (headers: Record<string, string>): Promise<HubActor | null> => {
    try {
      // A throwaway header sink: cookie clearing on failure has nowhere to go on a socket.
      const actor = await resolveActor(kernel, new Request("http://localhost/ws", { headers }), { headers: {} });
      return actor ? toHubActor(actor) : null;
    } catch (error) {
      // An unreachable database is not a bad credential: 503 at the upgrade, 1013 after `auth`.
      if (isDatabaseUnavailable(error)) throw error;
      return null;
    }
  };
  const authenticateToken: TokenAuthenticator = (token) => actorFrom({ authorization: `Bearer ${token}` });

  const handlers: Pick<SocketData, "open" | "message" | "close" | "pong"> = {
    open(ws) {
      const connection = new Connection(hub, ws as ServerWebSocket<unknown>, authenticateToken);
      ws.data.connection = connection;
      connection.open(ws.data.actor, ws.data.authStartedMs);
    },
    message(ws, message) {
      void ws.data.connection?.onMessage(message);
    },
    close(ws) {
      ws.data.connection?.onClose();
    },
    // Liveness: a socket probed at the per-user cap proves it is alive (hub.probeUserSockets).
    pong(ws) {
      ws.data.connection?.onPong();
    },
  };

  return new Elysia({ name: "ws-hub" }).get("/ws", async ({ request, server }) => {
    hub.attachServer(server);
    const authStartedMs = hub.now();
    const origin = request.headers.get("origin");
    const cookies = parseCookies(request.headers.get("cookie"));
    const hasSessionCookie = ACCESS_COOKIE in cookies || REFRESH_COOKIE in cookies;
    if ((origin !== null || hasSessionCookie) && !isAllowedOrigin(request, deps.config.publicOrigin)) {
      throw new ForbiddenError("WebSocket connections are only accepted from this site.", "ORIGIN_REJECTED");
    }
    let actor: HubActor | null = null; // API client: first-frame auth
    if (hasSessionCookie) {
      const access = cookies[ACCESS_COOKIE];
      actor = access ? await actorFrom({ cookie: `${ACCESS_COOKIE}=${encodeURIComponent(access)}` }) : null;
      if (!actor) throw new UnauthenticatedError("The session cookie is missing, expired or ended. Refresh the page to sign in again.", "SESSION_EXPIRED");
    }
    const data: SocketData = { actor, authStartedMs, ...handlers };
    if (server?.upgrade(request, { data })) return;
    throw new InvalidInputError("This address only accepts WebSocket connections.", undefined, "WEBSOCKET_EXPECTED");
  });
}
