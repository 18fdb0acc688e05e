/**
 * The signed-in user's own account: profile, password change (other sessions end), session
 * management, logout, and deletion (refused while another feature reports a blocker, such as
 * owning a community; everything else goes in one transaction, so nothing is half-deleted).
 */
import { ConflictError, InvalidInputError, NotFoundError, type FieldErrors } from "../../errors.ts";
import { runInTransaction, type Executor, type Outbox, type Tx } from "../../db/tx.ts";
import { insertAuditEntry, type RequestMeta } from "./audit.ts";
import type { Actor } from "./guard.ts";
import { checkSignedInCredential } from "./credential-check.ts";
import type { AuthKernel } from "./kernel.ts";
import { checkPasswordRules, hashPassword, verifyPassword } from "./passwords.ts";
import { revokeAllSessions, revokeSession } from "./sessions.ts";
import { isUuid } from "./tokens.ts";
import { findUserById, type UserRow } from "./users.ts";
import { checkLength, cleanText } from "./validation.ts";

/**
 * Deletion blockers: other features register a check that returns a user-facing reason why the
 * account cannot be deleted yet, or null. The communities feature registers "owns a community"
 * (there is no communities table yet). Checks run inside the deletion transaction.
 */
export type AccountDeletionBlocker = (db: Executor, userId: string) => Promise<string | null>;
const deletionBlockers: AccountDeletionBlocker[] = [];
export function registerAccountDeletionBlocker(check: AccountDeletionBlocker): () => void {
  deletionBlockers.push(check);
  return () => {
    const i = deletionBlockers.indexOf(check);
    if (i !== -1) deletionBlockers.splice(i, 1);
  };
}

/**
 * Deletion steps: other features register work that must happen in the deletion transaction,
 * after every blocker passed and before the user row goes (its cascades remove memberships and
 * devices). The communities feature gives the user's channels a new viewer version there.
 */
export type AccountDeletionStep = (tx: Executor, userId: string) => Promise<void>;
const deletionSteps: AccountDeletionStep[] = [];
export function registerAccountDeletionStep(step: AccountDeletionStep): () => void {
  deletionSteps.push(step);
  return () => {
    const i = deletionSteps.indexOf(step);
    if (i !== -1) deletionSteps.splice(i, 1);
  };
}

/**
 * Profile change steps: other features register work that runs in the transaction of a profile
 * change (display name, status, pronouns, about me) with its outbox, e.g. telling the people who
 * can see the profile (community mates, DM partners) that it changed.
 */
export type ProfileChangeStep = (tx: Executor, outbox: Outbox, userId: string) => Promise<void>;
const profileChangeSteps: ProfileChangeStep[] = [];
export function registerProfileChangeStep(step: ProfileChangeStep): () => void {
  profileChangeSteps.push(step);
  return () => {
    const i = profileChangeSteps.indexOf(step);
    if (i !== -1) profileChangeSteps.splice(i, 1);
  };
}

const tx = (kernel: AuthKernel) => ({ db: kernel.deps.database.db, events: kernel.deps.events });

export async function requireOwnUser(kernel: AuthKernel, actor: Actor): Promise<UserRow> {
  const user = await findUserById(kernel.deps.database.db, actor.userId);
  if (!user) throw new NotFoundError("Your account no longer exists.");
  return user;
}

export type ProfileInput = { displayName?: string; customStatus?: string | null; bio?: string | null; pronouns?: string | null; allowDmsFromAnyone?: boolean };

export async function updateProfile(kernel: AuthKernel, actor: Actor, input: ProfileInput, meta: RequestMeta): Promise<UserRow> {
  const fields: FieldErrors = {};
  const changes: { display_name?: string; custom_status?: string | null; bio?: string | null; pronouns?: string | null; allow_dms_from_anyone?: boolean } = {};
  if (input.displayName !== undefined) {
    const v = cleanText(input.displayName);
    const e = checkLength(v, 1, 64);
    if (e) fields.display_name = e;
    changes.display_name = v;
  }
  const optional = (name: "custom_status" | "bio" | "pronouns", value: string | null | undefined, max: number, keepNewlines = false) => {
    if (value === undefined) return;
    const v = value === null ? "" : keepNewlines ? value.replace(/\r\n/g, "\n").trim() : cleanText(value);
    const e = checkLength(v, 0, max);
    if (e) fields[name] = e;
    changes[name] = v === "" ? null : v;
  };
  optional("custom_status", input.customStatus, 128);
  optional("bio", input.bio, 500, true);
  optional("pronouns", input.pronouns, 50);
  if (input.allowDmsFromAnyone !== undefined) changes.allow_dms_from_anyone = input.allowDmsFromAnyone;
  if (Object.keys(fields).length > 0) throw new InvalidInputError("Some fields need attention.", fields);
  return runInTransaction(tx(kernel), async (t, outbox) => {
    const at = new Date(kernel.now());
    const row = await t.updateTable("users").set({ ...changes, updated_at: at }).where("id", "=", actor.userId).returningAll().executeTakeFirstOrThrow();
    await insertAuditEntry(t, { actorId: actor.userId, action: "profile_updated", targetType: "user", targetId: actor.userId, metadata: { fields: Object.keys(changes) }, at, meta });
    const shown = ["display_name", "custom_status", "bio", "pronouns"].some((k) => k in changes);
    if (shown) for (const step of profileChangeSteps) await step(t, outbox, actor.userId);
    return row;
  });
}

const wrongPassword = (field: string) => () => new InvalidInputError("The current password is wrong.", { [field]: "The password is wrong." }, "INVALID_PASSWORD");

/** Accounts without a password (SSO only) have nothing to re-enter; others go through the lockout. */
async function requireCurrentPassword(kernel: AuthKernel, user: UserRow, password: string, meta: RequestMeta, context: string, field: string): Promise<void> {
  const hash = user.password_hash;
  if (!hash) return;
  await checkSignedInCredential(kernel, user, meta, context, "wrong_password", () => verifyPassword(hash, password), wrongPassword(field));
}

/**
 * For other features that ask for the password again before a sensitive action: the same gate
 * (lockout, failure count, audit with `context`) as every password check here. Throws
 * INVALID_PASSWORD (400, field "password") or ACCOUNT_LOCKED (423).
 */
export async function confirmCurrentPassword(kernel: AuthKernel, actor: Actor, password: string, meta: RequestMeta, context: string): Promise<void> {
  await requireCurrentPassword(kernel, await requireOwnUser(kernel, actor), password, meta, context, "password");
}

export async function changePassword(kernel: AuthKernel, actor: Actor, input: { currentPassword: string; newPassword: string }, meta: RequestMeta): Promise<number> {
  const user = await requireOwnUser(kernel, actor);
  await requireCurrentPassword(kernel, user, input.currentPassword, meta, "change_password", "current_password");
  const problem = checkPasswordRules(input.newPassword, user.username);
  if (problem) throw new InvalidInputError(problem, { new_password: problem });
  const passwordHash = await hashPassword(input.newPassword);
  return runInTransaction(tx(kernel), async (t, outbox) => {
    const at = new Date(kernel.now());
    await t.updateTable("users").set({ password_hash: passwordHash, updated_at: at }).where("id", "=", user.id).execute();
    const revoked = await revokeAllSessions(t, kernel, outbox, user.id, "password_changed", actor.sessionId);
    await insertAuditEntry(t, { actorId: user.id, action: "password_changed", targetType: "user", targetId: user.id, metadata: { other_sessions_revoked: revoked }, at, meta });
    return revoked;
  });
}

/** Revokes one of the actor's sessions; someone else's id (or nonsense) is a 404. */
export async function revokeOwnSession(kernel: AuthKernel, actor: Actor, sessionId: string, meta: RequestMeta): Promise<void> {
  if (!isUuid(sessionId)) throw new NotFoundError("No such session.");
  await runInTransaction(tx(kernel), async (t, outbox) => {
    if (!(await revokeSession(t, kernel, outbox, actor.userId, sessionId, "revoked_by_user"))) throw new NotFoundError("No such session.");
    await insertAuditEntry(t, { actorId: actor.userId, action: "session_revoked", targetType: "session", targetId: sessionId, at: new Date(kernel.now()), meta });
  });
}

export async function logout(kernel: AuthKernel, actor: Actor, meta: RequestMeta): Promise<void> {
  await runInTransaction(tx(kernel), async (t, outbox) => {
    await revokeSession(t, kernel, outbox, actor.userId, actor.sessionId, "logout");
    await insertAuditEntry(t, { actorId: actor.userId, action: "logout", targetType: "session", targetId: actor.sessionId, at: new Date(kernel.now()), meta });
  });
}

export async function logoutAll(kernel: AuthKernel, actor: Actor, meta: RequestMeta): Promise<number> {
  return runInTransaction(tx(kernel), async (t, outbox) => {
    const count = await revokeAllSessions(t, kernel, outbox, actor.userId, "logout_all");
    await insertAuditEntry(t, { actorId: actor.userId, action: "logout_all", targetType: "user", targetId: actor.userId, metadata: { revoked_count: count }, at: new Date(kernel.now()), meta });
    return count;
  });
}

export async function deleteAccount(kernel: AuthKernel, actor: Actor, password: string, meta: RequestMeta): Promise<void> {
  const user = await requireOwnUser(kernel, actor);
  await requireCurrentPassword(kernel, user, password, meta, "delete_account", "password");
  await deleteUserAccount(kernel, { userId: user.id, username: user.username, isOwner: user.is_owner, actorId: null, meta });
}

export type UserDeletion = {
  userId: string;
  username: string;
  isOwner: boolean;
  /** null: the user deleted their own account (`account_deleted`); else the admin who did (`user_deleted`). */
  actorId: string | null;
  meta: RequestMeta;
  /** Work in the same transaction before the blockers run (an admin's heirs take over communities). */
  before?: (tx: Tx, outbox: Outbox) => Promise<Record<string, unknown> | void>;
  /**
   * A wipe (admin, issue 15 §3): audited as `user_wiped`, and the entry keeps what the log needs
   * (who acted, the id, the counts from `before`), not the username.
   */
  wipe?: boolean;
};

/**
 * The one account deletion, for the user themselves and for an admin (docs/admin.md): blockers,
 * deletion steps, every session ended (sockets close after COMMIT), audited, the row removed
 * (memberships, devices and keys cascade; messages stay with a null sender: "Deleted user").
 * One transaction: a refusal anywhere leaves everything as it was.
 */
export async function deleteUserAccount(kernel: AuthKernel, d: UserDeletion): Promise<void> {
  await runInTransaction(tx(kernel), async (t, outbox) => {
    const extra = d.before ? await d.before(t, outbox) : undefined;
    for (const check of deletionBlockers) {
      const reason = await check(t, d.userId);
      if (reason) throw new ConflictError(reason, "ACCOUNT_DELETION_BLOCKED");
    }
    if (d.isOwner) throw new ConflictError("The instance owner cannot delete their account.", "ACCOUNT_DELETION_BLOCKED");
    for (const step of deletionSteps) await step(t, d.userId);
    await revokeAllSessions(t, kernel, outbox, d.userId, "account_deleted");
    const action = d.wipe ? "user_wiped" : d.actorId === null ? "account_deleted" : "user_deleted";
    await insertAuditEntry(t, { actorId: d.actorId, action, targetType: "user", targetId: d.userId, metadata: { ...(d.wipe ? {} : { username: d.username }), ...(extra ?? {}) }, at: new Date(kernel.now()), meta: d.meta });
    await t.deleteFrom("users").where("id", "=", d.userId).execute();
  });
}
