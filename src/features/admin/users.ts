/**
 * Instance administration of users (issue 15 §1 "Users", docs/admin.md): list and search, one
 * user's detail, suspend and unsuspend with a reason, end a user's sessions, end every session on
 * the instance. Power `users` guards all of it (routes); the rules on the target are here:
 * nobody acts on the owner or on themselves, and only the owner acts on another admin.
 */
import { ForbiddenError, InvalidInputError, NotFoundError } from "../../errors.ts";
import { runInTransaction, type Executor } from "../../db/tx.ts";
import { authKernelOf, createPasswordResetLink, insertAuditEntry, revokeAllSessions, suspendUser, unsuspendUser, RESET_LINK_PATH, type Actor, type RequestMeta } from "../auth/index.ts";
import { isUuid } from "../../shared/ids.ts";
import type { AppDeps } from "../../deps.ts";

export const USERS_PAGE_SIZE = 50;
export const USER_FILTERS = ["all", "suspended", "admins", "never_signed_in"] as const;
export type UserFilter = (typeof USER_FILTERS)[number];

export type UserListItem = {
  id: string;
  username: string;
  displayName: string;
  email: string | null;
  isOwner: boolean;
  isAdmin: boolean;
  suspendedAt: Date | null;
  createdAt: Date;
  lastSeenAt: Date | null;
};

export type UserDetail = UserListItem & {
  suspendedReason: string | null;
  adminPowers: string[];
  totpEnabled: boolean;
  sso: boolean;
  communities: { id: string; name: string; role: string; owner: boolean }[];
  sessions: { id: string; deviceName: string; ip: string; lastUsedAt: Date; createdAt: Date; token: boolean }[];
  devices: { deviceId: string; createdAt: Date }[];
  audit: { id: string; action: string; actorUsername: string | null; createdAt: Date; ip: string | null }[];
};

export const likePattern = (q: string) => `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** One page of users, newest first; `q` matches username, display name or email (case-insensitive). */
export async function listUsers(db: Executor, opts: { q?: string; filter?: UserFilter; page?: number; now: Date }): Promise<{ users: UserListItem[]; page: number; hasMore: boolean }> {
  const page = Math.max(1, opts.page ?? 1);
  let query = db
    .selectFrom("users as u")
    .select((eb) => [
      "u.id",
      "u.username",
      "u.display_name",
      "u.email",
      "u.is_owner",
      "u.is_admin",
      "u.suspended_at",
      "u.created_at",
      eb.selectFrom("sessions as s").select((s) => s.fn.max("s.last_used_at").as("m")).whereRef("s.user_id", "=", "u.id").as("last_seen_at"),
    ]);
  const q = opts.q?.trim();
  if (q) {
    const pattern = likePattern(q.toLowerCase());
    query = query.where((eb) => eb.or([eb(eb.fn("lower", ["u.username"]), "like", pattern), eb(eb.fn("lower", ["u.display_name"]), "like", pattern), eb(eb.fn("lower", ["u.email"]), "like", pattern)]));
  }
  if (opts.filter === "suspended") query = query.where("u.suspended_at", "is not", null);
  if (opts.filter === "admins") query = query.where((eb) => eb.or([eb("u.is_admin", "=", true), eb("u.is_owner", "=", true)]));
  // "Never signed in": no sign-in recorded in the audit log (registration alone does not count).
  if (opts.filter === "never_signed_in") query = query.where((eb) => eb.not(eb.exists(eb.selectFrom("audit_log as a").select("a.id").whereRef("a.actor_id", "=", "u.id").where("a.action", "=", "login"))));
  const rows = await query
    .orderBy("u.created_at", "desc")
    .orderBy("u.id")
    .limit(USERS_PAGE_SIZE + 1)
    .offset((page - 1) * USERS_PAGE_SIZE)
    .execute();
  return { users: rows.slice(0, USERS_PAGE_SIZE).map(toListItem), page, hasMore: rows.length > USERS_PAGE_SIZE };
}

type ListRow = { id: string; username: string; display_name: string; email: string | null; is_owner: boolean; is_admin: boolean; suspended_at: Date | null; created_at: Date; last_seen_at: Date | string | null };

function toListItem(r: ListRow): UserListItem {
  return {
    id: r.id,
    username: r.username,
    displayName: r.display_name,
    email: r.email,
    isOwner: r.is_owner,
    isAdmin: r.is_admin,
    suspendedAt: r.suspended_at,
    createdAt: r.created_at,
    lastSeenAt: r.last_seen_at === null ? null : new Date(r.last_seen_at),
  };
}

export async function userDetail(db: Executor, userId: string, now: Date): Promise<UserDetail> {
  if (!isUuid(userId)) throw new NotFoundError("No such user.", "USER_NOT_FOUND");
  const u = await db.selectFrom("users").selectAll().where("id", "=", userId).executeTakeFirst();
  if (!u) throw new NotFoundError("No such user.", "USER_NOT_FOUND");
  const [communities, sessions, devices, audit] = await Promise.all([
    db
      .selectFrom("community_members as m")
      .innerJoin("communities as c", "c.id", "m.community_id")
      .select(["c.id", "c.name", "m.role", "c.owner_id"])
      .where("m.user_id", "=", userId)
      .orderBy("c.name")
      .execute(),
    db
      .selectFrom("sessions")
      .select(["id", "device_name", "ip", "last_used_at", "created_at", "key_id"])
      .where("user_id", "=", userId)
      .where("revoked_at", "is", null)
      .where("expires_at", ">", now)
      .orderBy("last_used_at", "desc")
      .execute(),
    db.selectFrom("key_devices").select(["device_id", "created_at"]).where("user_id", "=", userId).orderBy("created_at").execute(),
    db
      .selectFrom("audit_log as a")
      .leftJoin("users as actor", "actor.id", "a.actor_id")
      .select(["a.id", "a.action", "actor.username", "a.created_at", "a.ip"])
      .where((eb) => eb.or([eb("a.actor_id", "=", userId), eb.and([eb("a.target_type", "=", "user"), eb("a.target_id", "=", userId)])]))
      .orderBy("a.created_at", "desc")
      .limit(20)
      .execute(),
  ]);
  const lastSeen = sessions.reduce<Date | null>((max, s) => (max === null || s.last_used_at > max ? s.last_used_at : max), null);
  return {
    ...toListItem({ ...u, last_seen_at: lastSeen }),
    suspendedReason: u.suspended_reason,
    adminPowers: u.admin_powers,
    totpEnabled: u.totp_enabled,
    sso: u.oidc_subject !== null,
    communities: communities.map((c) => ({ id: c.id, name: c.name, role: c.role, owner: c.owner_id === userId })),
    sessions: sessions.map((s) => ({ id: s.id, deviceName: s.device_name, ip: s.ip, lastUsedAt: s.last_used_at, createdAt: s.created_at, token: s.key_id === "token" })),
    devices: devices.map((d) => ({ deviceId: d.device_id, createdAt: d.created_at })),
    audit: audit.map((a) => ({ id: a.id, action: a.action, actorUsername: a.username, createdAt: a.created_at, ip: a.ip })),
  };
}

/** Why `actor` may not act on this user (the detail page shows it instead of the actions), or null. */
export function targetRefusal(actor: Actor, target: { id: string; isOwner: boolean; isAdmin: boolean }): string | null {
  if (target.id === actor.userId) return "This is your own account: use your settings instead.";
  if (target.isOwner) return "Nobody can act on the instance owner's account.";
  if (target.isAdmin && !actor.isOwner) return "Only the instance owner can act on another administrator.";
  return null;
}

/**
 * The target rules of every action on a user: unknown → 404 (as for an id that does not exist);
 * oneself or the owner → 403 ADMIN_TARGET_FORBIDDEN; another admin → only the owner.
 */
export async function checkTarget(db: Executor, actor: Actor, userId: string): Promise<{ id: string; username: string; suspended: boolean }> {
  if (!isUuid(userId)) throw new NotFoundError("No such user.", "USER_NOT_FOUND");
  const target = await db.selectFrom("users").select(["id", "username", "is_owner", "is_admin", "suspended_at"]).where("id", "=", userId).executeTakeFirst();
  if (!target) throw new NotFoundError("No such user.", "USER_NOT_FOUND");
  const refusal = targetRefusal(actor, { id: target.id, isOwner: target.is_owner, isAdmin: target.is_admin });
  if (refusal) throw new ForbiddenError(refusal, "ADMIN_TARGET_FORBIDDEN");
  return { id: target.id, username: target.username, suspended: target.suspended_at !== null };
}

export function parseReason(raw: unknown): string {
  const reason = typeof raw === "string" ? raw.replace(/[\u0000-\u001f\u007f]/g, " ").trim() : "";
  if (reason.length < 1 || [...reason].length > 500) throw new InvalidInputError("Give a reason of 1–500 characters: the user sees it when they try to sign in.", { reason: "1–500 characters." }, "INVALID_REASON");
  return reason;
}

/** Suspends: every session ends in the same transaction, sockets on every instance close after COMMIT, sign-in answers ACCOUNT_SUSPENDED. */
export async function adminSuspend(deps: AppDeps, actor: Actor, userId: string, rawReason: unknown, meta: RequestMeta): Promise<void> {
  const reason = parseReason(rawReason);
  await checkTarget(deps.database.db, actor, userId);
  await suspendUser(authKernelOf(deps), actor.userId, userId, reason, meta);
}

export async function adminUnsuspend(deps: AppDeps, actor: Actor, userId: string, meta: RequestMeta): Promise<void> {
  await checkTarget(deps.database.db, actor, userId);
  await unsuspendUser(authKernelOf(deps), actor.userId, userId, meta);
}

/** Signs the user out everywhere (their API tokens included). Returns how many sessions ended. */
export async function endUserSessions(deps: AppDeps, actor: Actor, userId: string, meta: RequestMeta): Promise<number> {
  await checkTarget(deps.database.db, actor, userId);
  const kernel = authKernelOf(deps);
  return runInTransaction({ db: deps.database.db, events: deps.events }, async (tx, outbox) => {
    const count = await revokeAllSessions(tx, kernel, outbox, userId, "ended_by_admin");
    await insertAuditEntry(tx, { actorId: actor.userId, action: "sessions_ended_by_admin", targetType: "user", targetId: userId, metadata: { revoked_count: count }, at: new Date(kernel.now()), meta });
    return count;
  });
}

/**
 * Signs everyone out, API tokens included, except the acting admin's own session (so the admin
 * who pressed the button is not locked out mid-incident). Returns how many sessions ended.
 */
export async function endAllSessions(deps: AppDeps, actor: Actor, meta: RequestMeta): Promise<number> {
  const kernel = authKernelOf(deps);
  return runInTransaction({ db: deps.database.db, events: deps.events }, async (tx, outbox) => {
    const users = await tx.selectFrom("sessions").select("user_id").distinct().where("revoked_at", "is", null).execute();
    let count = 0;
    for (const { user_id } of users) count += await revokeAllSessions(tx, kernel, outbox, user_id, "ended_by_admin", user_id === actor.userId ? actor.sessionId : undefined);
    await insertAuditEntry(tx, { actorId: actor.userId, action: "all_sessions_ended", targetType: "instance", metadata: { revoked_count: count }, at: new Date(kernel.now()), meta });
    return count;
  });
}

/**
 * A one-time password-reset link for the admin to hand over (auth's reset-links.ts): replaces the
 * user's earlier unused link; redeeming it ends their sessions. `baseUrl`: PUBLIC_URL or the request's origin.
 */
export async function adminResetLink(deps: AppDeps, actor: Actor, userId: string, baseUrl: string, meta: RequestMeta): Promise<{ url: string; expiresAt: Date }> {
  await checkTarget(deps.database.db, actor, userId);
  const link = await createPasswordResetLink(authKernelOf(deps), actor.userId, userId, meta);
  return { url: `${baseUrl}${RESET_LINK_PATH}${link.token}`, expiresAt: link.expiresAt };
}
