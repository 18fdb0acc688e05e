/**
 * Resolves the signed-in actor of a request and the Elysia guard other features use.
 *
 *   new Elysia().use(authGuard(deps)).get("/api/x", ({ actor }) => …, { auth: true })
 *   … { admin: "invites" }   // instance admin with that power (owner has all)
 *
 * Every request checks, in one indexed query, that the session is live and the user not
 * suspended: a revoked or suspended user's next request fails at once, not when the JWT expires.
 * Browsers whose access cookie expired are refreshed transparently through the refresh cookie.
 * Cookie-authenticated unsafe methods must pass the same-origin (CSRF) check; Bearer is exempt.
 */
import { Elysia } from "elysia";
import type { AppDeps } from "../../deps.ts";
import { ForbiddenError, UnauthenticatedError } from "../../errors.ts";
import { hasAdminPower, type AdminPower } from "./admin-powers.ts";
import { ACCESS_COOKIE, clearedSessionCookies, parseCookies, REFRESH_COOKIE, sessionCookies } from "./cookies.ts";
import { assertSameOrigin } from "./csrf.ts";
import { authKernelOf, type AuthKernel } from "./kernel.ts";
import { rotateRefreshToken } from "./sessions.ts";
import type { AccessClaims } from "./tokens.ts";
import { checkTokenReach, findAccessToken, looksLikeAccessToken, tokenRefused, TOKEN_SESSION_KEY, type AccessTokenScope } from "./access-tokens.ts";

export type Actor = Readonly<{
  userId: string;
  sessionId: string;
  username: string;
  displayName: string;
  isOwner: boolean;
  isAdmin: boolean;
  adminPowers: readonly string[];
  /** How the request authenticated: cookie requests are subject to CSRF checks; "token" is a personal access token. */
  via: "bearer" | "cookie" | "token";
  /** A personal access token's scope (access-tokens.ts); absent for sessions. */
  tokenScope?: AccessTokenScope;
}>;

/** Parallel browser requests may present one refresh cookie within this window (see sessions.ts). */
export const COOKIE_REFRESH_GRACE_MS = 30_000;
/** last_used_at is written at most this often per session, not on every request. */
const TOUCH_INTERVAL_MS = 60_000;

type HeaderSink = { headers: Record<string, unknown> };

function addSetCookies(set: HeaderSink | undefined, cookies: string[]): void {
  if (!set) return;
  const existing = set.headers["set-cookie"];
  const list = Array.isArray(existing) ? (existing as string[]) : typeof existing === "string" ? [existing] : [];
  set.headers["set-cookie"] = [...list, ...cookies];
}

async function loadActor(kernel: AuthKernel, claims: AccessClaims, via: Actor["via"], tokenScope?: AccessTokenScope): Promise<Actor | null> {
  const db = kernel.deps.database.db;
  const now = new Date(kernel.now());
  const row = await db
    .selectFrom("sessions as s")
    .innerJoin("users as u", "u.id", "s.user_id")
    .select(["u.id", "u.username", "u.display_name", "u.is_owner", "u.is_admin", "u.admin_powers", "s.last_used_at"])
    .where("s.id", "=", claims.sessionId)
    .where("s.user_id", "=", claims.userId)
    .where("s.revoked_at", "is", null)
    .where("s.expires_at", ">", now)
    // Bound to the key that issued it: a session of a rotated-out key never acts again. A
    // token's session is bound to no key (it has no JWT and no refresh token).
    .where("s.key_id", "=", via === "token" ? TOKEN_SESSION_KEY : kernel.signer.keyId)
    .where("u.suspended_at", "is", null)
    .executeTakeFirst();
  if (!row) return null;
  if (now.getTime() - row.last_used_at.getTime() > TOUCH_INTERVAL_MS) {
    await db.updateTable("sessions").set({ last_used_at: now }).where("id", "=", claims.sessionId).execute();
  }
  return {
    userId: row.id,
    sessionId: claims.sessionId,
    username: row.username,
    displayName: row.display_name,
    // A token never carries instance-admin rights, on any route (least privilege by construction).
    isOwner: via === "token" ? false : row.is_owner,
    isAdmin: via === "token" ? false : row.is_admin,
    adminPowers: via === "token" ? [] : row.admin_powers,
    via,
    ...(tokenScope ? { tokenScope } : {}),
  };
}

function bearerOf(request: Request): string | null | undefined {
  const header = request.headers.get("authorization");
  if (header === null) return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
  return match ? match[1]! : null;
}

/**
 * The actor, or null when the request carries no usable credentials. Throws for a malformed or
 * invalid Bearer token (an API client should learn its token is bad) and for CSRF failures.
 */
export async function resolveActor(kernel: AuthKernel, request: Request, set?: HeaderSink): Promise<Actor | null> {
  const bearer = bearerOf(request);
  const nowMs = kernel.now();
  if (bearer && looksLikeAccessToken(bearer)) {
    const token = await findAccessToken(kernel.deps.database.db, bearer);
    if (!token) throw tokenRefused();
    const actor = await loadActor(kernel, { userId: token.userId, sessionId: token.sessionId }, "token", token.scope);
    if (!actor) throw tokenRefused();
    checkTokenReach(token.scope, request);
    return actor;
  }
  if (bearer !== undefined) {
    const claims = bearer ? await kernel.signer.verifyAccessToken(bearer, nowMs) : null;
    if (!claims) throw new UnauthenticatedError("The access token is invalid or expired. Refresh it and try again.", "TOKEN_INVALID");
    const actor = await loadActor(kernel, claims, "bearer");
    if (!actor) throw new UnauthenticatedError("This session has ended. Please sign in again.", "SESSION_REVOKED");
    return actor;
  }
  const cookies = parseCookies(request.headers.get("cookie"));
  const access = cookies[ACCESS_COOKIE];
  const refresh = cookies[REFRESH_COOKIE];
  if (!access && !refresh) return null;
  assertSameOrigin(request, kernel.deps.config);
  const claims = access ? await kernel.signer.verifyAccessToken(access, nowMs) : null;
  if (claims) {
    const actor = await loadActor(kernel, claims, "cookie");
    if (actor) return actor;
    addSetCookies(set, clearedSessionCookies(kernel.deps.config));
    return null;
  }
  if (!refresh) return null;
  const rotated = await rotateRefreshToken(kernel, refresh, { graceMs: COOKIE_REFRESH_GRACE_MS });
  if (rotated.kind === "invalid" || rotated.kind === "reused" || rotated.kind === "key_rotated") {
    addSetCookies(set, clearedSessionCookies(kernel.deps.config));
    return null;
  }
  addSetCookies(set, sessionCookies(kernel.deps.config, rotated));
  return loadActor(kernel, { userId: rotated.userId, sessionId: rotated.sessionId }, "cookie");
}

export async function requireActor(kernel: AuthKernel, request: Request, set?: HeaderSink): Promise<Actor> {
  const actor = await resolveActor(kernel, request, set);
  if (!actor) throw new UnauthenticatedError();
  return actor;
}

// One resolution per request: the body guard (src/http/body-guard.ts) authenticates a request
// before reading its large body, and the route's guard then gets the same actor. Resolving twice
// would query twice and rotate an expired session's refresh cookie twice.
const resolvedActors = new WeakMap<Request, Promise<Actor | null>>();

function resolveActorOnce(kernel: AuthKernel, request: Request, set?: HeaderSink): Promise<Actor | null> {
  let actor = resolvedActors.get(request);
  if (!actor) {
    actor = resolveActor(kernel, request, set);
    resolvedActors.set(request, actor);
  }
  return actor;
}

async function requireActorOnce(kernel: AuthKernel, request: Request, set?: HeaderSink): Promise<Actor> {
  const actor = await resolveActorOnce(kernel, request, set);
  if (!actor) throw new UnauthenticatedError();
  return actor;
}

/**
 * For the body guard: throws 401 unless the request is signed in. The actor it resolves is the one
 * the route's `auth` / `optionalAuth` / `admin` guard gets.
 */
export function authenticateBeforeBody(deps: AppDeps): (request: Request, set: HeaderSink) => Promise<void> {
  const kernel = authKernelOf(deps);
  return async (request, set) => {
    await requireActorOnce(kernel, request, set);
  };
}

export function requireAdminPower(actor: Actor, power: AdminPower): void {
  if (!hasAdminPower(actor, power)) throw new ForbiddenError("This needs an instance administrator with the right permission.", "ADMIN_POWER_REQUIRED");
}

/**
 * The guard plugin. `auth: true` requires a signed-in actor; `admin: power` requires an instance
 * admin holding that power; `optionalAuth: true` yields `actor: Actor | null` (pages that show
 * something different when signed out).
 */
export function authGuard(deps: AppDeps) {
  const kernel = authKernelOf(deps);
  return new Elysia({ name: "auth-guard", seed: kernel.id }).macro({
    auth: {
      async resolve({ request, set }) {
        return { actor: await requireActorOnce(kernel, request, set as HeaderSink) };
      },
    },
    optionalAuth: {
      async resolve({ request, set }) {
        return { actor: await resolveActorOnce(kernel, request, set as HeaderSink) };
      },
    },
    admin: (power: AdminPower) => ({
      async resolve({ request, set }) {
        const actor = await requireActorOnce(kernel, request, set as HeaderSink);
        requireAdminPower(actor, power);
        return { actor };
      },
    }),
  });
}
