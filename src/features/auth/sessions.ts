/**
 * Sessions and refresh tokens. A session is one signed-in device; its refresh token rotates on
 * every use, and presenting an already-rotated token revokes the whole session (a stolen token
 * and the legitimate client can no longer both keep it alive). Logging in never touches the
 * user's other sessions (the reference revoked them all).
 *
 * Each session is bound to the JWT key that issued it (`key_id`). After the key pair is rotated,
 * a refresh with an older session is refused (SESSION_KEY_ROTATED) and the session is deleted:
 * rotation signs everyone out, as seeds/000 promises, although refresh tokens are opaque.
 */
import { runInTransaction, type Executor, type Outbox, type Tx } from "../../db/tx.ts";
import { insertAuditEntry, type RequestMeta } from "./audit.ts";
import { deviceNameFrom } from "./device-name.ts";
import { notifySessionsRevoked, type AuthKernel } from "./kernel.ts";
import { generateOpaqueToken, hashToken, REFRESH_TOKEN_TTL_SECS } from "./tokens.ts";

export type IssuedTokens = { sessionId: string; accessToken: string; refreshToken: string };

export async function createSession(tx: Tx, kernel: AuthKernel, userId: string, meta: RequestMeta): Promise<IssuedTokens> {
  const now = new Date(kernel.now());
  const sessionId = Bun.randomUUIDv7();
  await tx
    .insertInto("sessions")
    .values({
      id: sessionId,
      user_id: userId,
      device_name: deviceNameFrom(meta.userAgent).slice(0, 128),
      ip: meta.ip.slice(0, 64),
      created_at: now,
      last_used_at: now,
      expires_at: new Date(now.getTime() + REFRESH_TOKEN_TTL_SECS * 1000),
      key_id: kernel.signer.keyId,
    })
    .execute();
  const refreshToken = await insertRefreshToken(tx, sessionId, now);
  const accessToken = await kernel.signer.signAccessToken({ userId, sessionId }, now.getTime());
  return { sessionId, accessToken, refreshToken };
}

async function insertRefreshToken(tx: Tx, sessionId: string, now: Date): Promise<string> {
  const token = generateOpaqueToken();
  await tx
    .insertInto("refresh_tokens")
    .values({ token_hash: hashToken(token), session_id: sessionId, created_at: now, expires_at: new Date(now.getTime() + REFRESH_TOKEN_TTL_SECS * 1000) })
    .execute();
  return token;
}

export type RotateResult =
  | { kind: "rotated"; userId: string; sessionId: string; accessToken: string; refreshToken: string }
  /** A browser's parallel requests raced on one refresh cookie; the winner set the new cookie. */
  | { kind: "grace"; userId: string; sessionId: string; accessToken: string }
  | { kind: "invalid" }
  | { kind: "reused" }
  /** Issued under a JWT key that is no longer the server's: the session is gone, sign in again. */
  | { kind: "key_rotated" };

/**
 * graceMs > 0 only for the browser cookie path: several tabs or parallel htmx requests may
 * present the same refresh cookie in the same second. API clients get no grace: a second use of
 * a rotated token always means two holders.
 */
export async function rotateRefreshToken(kernel: AuthKernel, token: string, opts: { graceMs: number }): Promise<RotateResult> {
  if (token.length < 20 || token.length > 200) return { kind: "invalid" };
  const nowMs = kernel.now();
  const now = new Date(nowMs);
  const deps = { db: kernel.deps.database.db, events: kernel.deps.events };
  return runInTransaction(deps, async (tx, outbox) => {
    const row = await tx
      .selectFrom("refresh_tokens as rt")
      .innerJoin("sessions as s", "s.id", "rt.session_id")
      .innerJoin("users as u", "u.id", "s.user_id")
      .select(["rt.session_id", "rt.expires_at", "rt.rotated_at", "s.user_id", "s.revoked_at", "s.expires_at as session_expires_at", "s.key_id", "u.suspended_at"])
      .where("rt.token_hash", "=", hashToken(token))
      .forUpdate("rt")
      .executeTakeFirst();
    if (!row) return { kind: "invalid" } as const;
    if (row.key_id !== kernel.signer.keyId) {
      // Checked before anything else: no token of an old key's session is worth anything now.
      await tx.deleteFrom("sessions").where("id", "=", row.session_id).execute();
      notifySessionsRevoked(kernel, outbox, row.user_id, [row.session_id]);
      return { kind: "key_rotated" } as const;
    }
    const alive = row.revoked_at === null && row.session_expires_at > now && row.suspended_at === null;
    if (row.rotated_at !== null) {
      if (alive && opts.graceMs > 0 && nowMs - row.rotated_at.getTime() < opts.graceMs) {
        const accessToken = await kernel.signer.signAccessToken({ userId: row.user_id, sessionId: row.session_id }, nowMs);
        return { kind: "grace", userId: row.user_id, sessionId: row.session_id, accessToken } as const;
      }
      if (row.revoked_at === null) {
        await revokeSessionRows(tx, kernel, outbox, row.user_id, [row.session_id], "refresh_token_reused", now);
        await insertAuditEntry(tx, { actorId: row.user_id, action: "session_revoked", targetType: "session", targetId: row.session_id, metadata: { reason: "refresh_token_reused" }, at: now });
      }
      return { kind: "reused" } as const;
    }
    if (!alive || row.expires_at <= now) return { kind: "invalid" } as const;
    await tx.updateTable("refresh_tokens").set({ rotated_at: now }).where("token_hash", "=", hashToken(token)).execute();
    // Sliding lifetime: a session in use keeps going; one unused for 30 days ends.
    await tx.updateTable("sessions").set({ last_used_at: now, expires_at: new Date(nowMs + REFRESH_TOKEN_TTL_SECS * 1000) }).where("id", "=", row.session_id).execute();
    const refreshToken = await insertRefreshToken(tx, row.session_id, now);
    const accessToken = await kernel.signer.signAccessToken({ userId: row.user_id, sessionId: row.session_id }, nowMs);
    return { kind: "rotated", userId: row.user_id, sessionId: row.session_id, accessToken, refreshToken } as const;
  });
}

/** Marks sessions revoked and queues the after-commit notification. Returns the ids revoked. */
async function revokeSessionRows(tx: Tx, kernel: AuthKernel, outbox: Outbox, userId: string, sessionIds: string[], reason: string, now: Date): Promise<string[]> {
  if (sessionIds.length === 0) return [];
  const rows = await tx
    .updateTable("sessions")
    .set({ revoked_at: now, revoked_reason: reason })
    .where("user_id", "=", userId)
    .where("id", "in", sessionIds)
    .where("revoked_at", "is", null)
    .returning("id")
    .execute();
  const ids = rows.map((r) => r.id);
  notifySessionsRevoked(kernel, outbox, userId, ids);
  return ids;
}

/** Revokes one session of `userId`; false when it is not theirs or already ended (callers 404). */
export async function revokeSession(tx: Tx, kernel: AuthKernel, outbox: Outbox, userId: string, sessionId: string, reason: string): Promise<boolean> {
  const ids = await revokeSessionRows(tx, kernel, outbox, userId, [sessionId], reason, new Date(kernel.now()));
  return ids.length === 1;
}

/** Revokes every live session of the user, except `keepSessionId` when given. Returns the count. */
export async function revokeAllSessions(tx: Tx, kernel: AuthKernel, outbox: Outbox, userId: string, reason: string, keepSessionId?: string): Promise<number> {
  let query = tx
    .updateTable("sessions")
    .set({ revoked_at: new Date(kernel.now()), revoked_reason: reason })
    .where("user_id", "=", userId)
    .where("revoked_at", "is", null);
  if (keepSessionId) query = query.where("id", "!=", keepSessionId);
  const rows = await query.returning("id").execute();
  notifySessionsRevoked(kernel, outbox, userId, keepSessionId ? rows.map((r) => r.id) : "all");
  return rows.length;
}

export type SessionView = { id: string; deviceName: string; ip: string; createdAt: Date; lastUsedAt: Date; expiresAt: Date; current: boolean };

/** Sessions of an older JWT key are not listed: they can no longer act or refresh. */
export async function listActiveSessions(db: Executor, userId: string, currentSessionId: string, now: Date, currentKeyId: string): Promise<SessionView[]> {
  const rows = await db
    .selectFrom("sessions")
    .select(["id", "device_name", "ip", "created_at", "last_used_at", "expires_at"])
    .where("user_id", "=", userId)
    .where("revoked_at", "is", null)
    .where("expires_at", ">", now)
    .where("key_id", "=", currentKeyId)
    .orderBy("last_used_at", "desc")
    .execute();
  return rows.map((r) => ({ id: r.id, deviceName: r.device_name, ip: r.ip, createdAt: r.created_at, lastUsedAt: r.last_used_at, expiresAt: r.expires_at, current: r.id === currentSessionId }));
}

