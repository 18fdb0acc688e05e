/**
 * Personal access tokens (docs/auth.md "API tokens"): how a script or bot uses the API without a
 * browser session. `Authorization: Bearer hth_pat_…`; shown once, stored as SHA-256, listed and
 * revoked in settings. Each token acts through a session row of its own (key_id 'token'): socket
 * revocation, voice seats and file transfers treat it like a signed-in device, and "sign out
 * everywhere" or a password change ends it too.
 *
 * Scopes: `read` may only read (GET and HEAD, no WebSocket, whose frames send); `write` may do what
 * the user can do through the API. No token reaches the account's own security (password, 2FA,
 * sessions, tokens, deletion), sign-in routes, admin routes or pages: a leaked token cannot take
 * the account over or mint another token.
 */
import { ConflictError, ForbiddenError, InvalidInputError, NotFoundError, UnauthenticatedError } from "../../errors.ts";
import { runInTransaction, type Executor } from "../../db/tx.ts";
import { insertAuditEntry, type RequestMeta } from "./audit.ts";
import type { AuthKernel } from "./kernel.ts";
import { revokeSession } from "./sessions.ts";
import { generateOpaqueToken, hashToken, isUuid } from "./tokens.ts";
import { checkLength, cleanText } from "./validation.ts";

export const TOKEN_PREFIX = "hth_pat_";
export const ACCESS_TOKEN_SCOPES = ["read", "write"] as const;
export type AccessTokenScope = (typeof ACCESS_TOKEN_SCOPES)[number];
/** Choices offered for an expiry, in days; null = never. */
export const TOKEN_EXPIRY_DAYS = [7, 30, 90, 365] as const;
export const MAX_TOKENS_PER_USER = 25;
/** sessions.key_id of a token's session: never a JWT key thumbprint, so never listed as a device. */
export const TOKEN_SESSION_KEY = "token";
/** A token without expiry still needs a session expiry: far enough to be "never". */
const NEVER_MS = 100 * 365 * 24 * 3600 * 1000;
const DAY_MS = 24 * 3600 * 1000;
/** hth_pat_ + 43 base64url characters (32 random bytes). */
const TOKEN_SHAPE = /^hth_pat_[A-Za-z0-9_-]{43}$/;

export type AccessTokenView = { id: string; name: string; scope: AccessTokenScope; createdAt: Date; lastUsedAt: Date | null; expiresAt: Date | null };
export type TokenActorRow = { tokenId: string; sessionId: string; userId: string; scope: AccessTokenScope };

const tx = (kernel: AuthKernel) => ({ db: kernel.deps.database.db, events: kernel.deps.events });

export function looksLikeAccessToken(bearer: string): boolean {
  return bearer.startsWith(TOKEN_PREFIX);
}

export async function createAccessToken(
  kernel: AuthKernel,
  userId: string,
  input: { name: string; scope: string; expiresInDays: number | null },
  meta: RequestMeta,
): Promise<{ token: string; view: AccessTokenView }> {
  const name = cleanText(input.name);
  const nameProblem = checkLength(name, 1, 64);
  if (nameProblem) throw new InvalidInputError(nameProblem, { name: nameProblem }, "INVALID_TOKEN_NAME");
  if (!ACCESS_TOKEN_SCOPES.includes(input.scope as AccessTokenScope)) throw new InvalidInputError('The scope must be "read" or "write".', { scope: "Choose read or write." }, "INVALID_TOKEN_SCOPE");
  if (input.expiresInDays !== null && !TOKEN_EXPIRY_DAYS.includes(input.expiresInDays as (typeof TOKEN_EXPIRY_DAYS)[number])) {
    throw new InvalidInputError(`The expiry must be one of ${TOKEN_EXPIRY_DAYS.join(", ")} days, or never.`, { expires_in_days: "Choose an expiry." }, "INVALID_TOKEN_EXPIRY");
  }
  const scope = input.scope as AccessTokenScope;
  const token = TOKEN_PREFIX + generateOpaqueToken();
  return runInTransaction(tx(kernel), async (t) => {
    const now = new Date(kernel.now());
    // Serialise this user's token creations so the per-user limit holds under concurrent requests.
    await t.selectFrom("users").select("id").where("id", "=", userId).forUpdate().executeTakeFirstOrThrow();
    const live = await liveTokensQuery(t, userId, now).select((eb) => eb.fn.countAll<string>().as("n")).executeTakeFirstOrThrow();
    if (Number(live.n) >= MAX_TOKENS_PER_USER) throw new ConflictError(`You have ${MAX_TOKENS_PER_USER} API tokens, the most an account can have. Revoke one first.`, "TOO_MANY_TOKENS");
    const expiresAt = input.expiresInDays === null ? null : new Date(now.getTime() + input.expiresInDays * DAY_MS);
    const sessionId = Bun.randomUUIDv7();
    const id = Bun.randomUUIDv7();
    await t
      .insertInto("sessions")
      .values({ id: sessionId, user_id: userId, device_name: `API token: ${name}`.slice(0, 128), ip: meta.ip.slice(0, 64), created_at: now, last_used_at: now, expires_at: expiresAt ?? new Date(now.getTime() + NEVER_MS), key_id: TOKEN_SESSION_KEY })
      .execute();
    await t.insertInto("access_tokens").values({ id, user_id: userId, session_id: sessionId, name, scope, token_hash: hashToken(token), created_at: now, expires_at: expiresAt }).execute();
    await insertAuditEntry(t, { actorId: userId, action: "access_token_created", targetType: "access_token", targetId: id, metadata: { name, scope, expires_at: expiresAt?.toISOString() ?? null }, at: now, meta });
    return { token, view: { id, name, scope, createdAt: now, lastUsedAt: null, expiresAt } };
  });
}

function liveTokensQuery(db: Executor, userId: string, now: Date) {
  return db
    .selectFrom("access_tokens as t")
    .innerJoin("sessions as s", "s.id", "t.session_id")
    .where("t.user_id", "=", userId)
    .where("s.revoked_at", "is", null)
    .where("s.expires_at", ">", now);
}

/** The user's live tokens, newest first. Never the secret: it exists only in the creation answer. */
export async function listAccessTokens(db: Executor, userId: string, now: Date): Promise<AccessTokenView[]> {
  const rows = await liveTokensQuery(db, userId, now)
    .select(["t.id", "t.name", "t.scope", "t.created_at", "t.expires_at", "s.last_used_at", "s.created_at as session_created_at"])
    .orderBy("t.created_at", "desc")
    .execute();
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    scope: r.scope,
    createdAt: r.created_at,
    // The session row is created with last_used_at = creation: not used yet until it moves.
    lastUsedAt: r.last_used_at.getTime() === r.session_created_at.getTime() ? null : r.last_used_at,
    expiresAt: r.expires_at,
  }));
}

/** Revokes one of the user's tokens at once (its session ends; open sockets close). Unknown or someone else's: 404. */
export async function revokeAccessToken(kernel: AuthKernel, userId: string, tokenId: string, meta: RequestMeta): Promise<void> {
  if (!isUuid(tokenId)) throw new NotFoundError("No such token.", "TOKEN_NOT_FOUND");
  await runInTransaction(tx(kernel), async (t, outbox) => {
    const row = await liveTokensQuery(t, userId, new Date(kernel.now())).select(["t.id", "t.session_id", "t.name"]).where("t.id", "=", tokenId).executeTakeFirst();
    if (!row) throw new NotFoundError("No such token.", "TOKEN_NOT_FOUND");
    await revokeSession(t, kernel, outbox, userId, row.session_id, "access_token_revoked");
    await insertAuditEntry(t, { actorId: userId, action: "access_token_revoked", targetType: "access_token", targetId: row.id, metadata: { name: row.name }, at: new Date(kernel.now()), meta });
  });
}

/** The token's session and scope, or null for anything unknown. Liveness (revoked, expired, suspended) is the guard's session check. */
export async function findAccessToken(db: Executor, bearer: string): Promise<TokenActorRow | null> {
  if (!TOKEN_SHAPE.test(bearer)) return null;
  const row = await db.selectFrom("access_tokens").select(["id", "session_id", "user_id", "scope"]).where("token_hash", "=", hashToken(bearer)).executeTakeFirst();
  return row ? { tokenId: row.id, sessionId: row.session_id, userId: row.user_id, scope: row.scope } : null;
}

/**
 * What a token may not do, by request: throws 403 with a stable code. Paths, not routes: this
 * runs in the guard before routing is known, and errs on refusing.
 */
export function checkTokenReach(scope: AccessTokenScope, request: Request): void {
  const path = new URL(request.url).pathname;
  const method = request.method.toUpperCase();
  const readOnly = method === "GET" || method === "HEAD";
  const accountSecurity = (path.startsWith("/api/account") && !(readOnly && path === "/api/account/me")) || path.startsWith("/api/auth/");
  if (accountSecurity || path.startsWith("/api/admin") || !path.startsWith("/api/") && path !== "/ws") {
    throw new ForbiddenError("API tokens cannot manage the account, sign in, administer the instance or open pages. Use the web app for that.", "TOKEN_NOT_ALLOWED");
  }
  if (scope === "read" && (!readOnly || path === "/ws")) {
    throw new ForbiddenError("This API token may only read. Create a token with the write scope to change anything.", "TOKEN_SCOPE");
  }
}

export function tokenRefused(): UnauthenticatedError {
  return new UnauthenticatedError("This API token is unknown, revoked or expired.", "TOKEN_INVALID");
}
