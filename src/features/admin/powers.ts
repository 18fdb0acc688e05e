/**
 * The powers tab (issue 15 §1 "Powers", docs/admin.md): who is an administrator and with which
 * of seeds/004's powers. Guarded by the power `roles`. The rules: nobody acts on the owner (who
 * holds every power) or on themselves; an admin changes only powers they hold themselves (they
 * neither grant nor take away one they lack), so only the owner can hand out `roles` to someone
 * who lacks a power the granter lacks. Powers apply from the target's next request (the guard
 * reads them each time).
 */
import { ForbiddenError, InvalidInputError, NotFoundError } from "../../errors.ts";
import { runInTransaction, type Executor } from "../../db/tx.ts";
import type { AppDeps } from "../../deps.ts";
import { ADMIN_POWERS, authKernelOf, hasAdminPower, insertAuditEntry, isAdminPower, type Actor, type AdminPower, type RequestMeta } from "../auth/index.ts";
import { isUuid } from "../../shared/ids.ts";

export const POWER_LABELS: Record<AdminPower, string> = {
  users: "User management: find, suspend, delete, reset passwords",
  invites: "Registration invites",
  roles: "Role management: grant and revoke admin powers",
  auth_settings: "Authentication settings",
  server_settings: "Server settings",
  privacy: "Privacy and data management",
  backups: "Backups",
  encryption: "Encryption",
  audit: "Audit log viewing",
  analytics: "Analytics",
  updates: "Updates",
  directory: "Channel directory management",
  storage: "Storage data management",
};

export type AdminListItem = { id: string; username: string; displayName: string; isOwner: boolean; powers: AdminPower[]; suspended: boolean };

/** The owner and every admin, owner first then by username. */
export async function listAdmins(db: Executor): Promise<AdminListItem[]> {
  const rows = await db
    .selectFrom("users")
    .select(["id", "username", "display_name", "is_owner", "is_admin", "admin_powers", "suspended_at"])
    .where((eb) => eb.or([eb("is_owner", "=", true), eb("is_admin", "=", true)]))
    .orderBy("is_owner", "desc")
    .orderBy("username")
    .execute();
  return rows.map((r) => ({ id: r.id, username: r.username, displayName: r.display_name, isOwner: r.is_owner, powers: r.is_owner ? [...ADMIN_POWERS] : r.admin_powers.filter(isAdminPower), suspended: r.suspended_at !== null }));
}

/** Why `actor` may not change this user's powers, or null (the page shows it instead of the form). */
export function powersRefusal(actor: Actor, target: { id: string; isOwner: boolean }): string | null {
  if (target.id === actor.userId) return "These are your own powers: another administrator with them, or the owner, changes them.";
  if (target.isOwner) return "The instance owner holds every power; nobody changes that.";
  return null;
}

export type PowersChange = { isAdmin: boolean; powers: string[] };

/**
 * Sets whether the user is an admin and which powers they hold. Refuses (403
 * ADMIN_POWER_NOT_HELD) any change to a power the actor lacks; an unknown power is 400.
 */
export async function setAdminPowers(deps: AppDeps, actor: Actor, target: { id?: string; username?: string }, change: PowersChange, meta: RequestMeta): Promise<AdminListItem> {
  const unknown = change.powers.filter((p) => !isAdminPower(p));
  if (unknown.length > 0) throw new InvalidInputError(`Unknown power: ${unknown.join(", ")}.`, { powers: `Choose among: ${ADMIN_POWERS.join(", ")}.` }, "UNKNOWN_POWER");
  const wanted = change.isAdmin ? [...new Set(change.powers as AdminPower[])].sort((a, b) => ADMIN_POWERS.indexOf(a) - ADMIN_POWERS.indexOf(b)) : [];
  const kernel = authKernelOf(deps);
  return runInTransaction({ db: deps.database.db, events: deps.events }, async (tx) => {
    let query = tx.selectFrom("users").select(["id", "username", "display_name", "is_owner", "is_admin", "admin_powers", "suspended_at"]).forUpdate();
    if (target.id !== undefined) {
      if (!isUuid(target.id)) throw new NotFoundError("No such user.", "USER_NOT_FOUND");
      query = query.where("id", "=", target.id);
    } else query = query.where((eb) => eb(eb.fn("lower", ["username"]), "=", (target.username ?? "").trim().toLowerCase()));
    const row = await query.executeTakeFirst();
    if (!row) throw new NotFoundError("No such user.", "USER_NOT_FOUND");
    const refusal = powersRefusal(actor, { id: row.id, isOwner: row.is_owner });
    if (refusal) throw new ForbiddenError(refusal, "ADMIN_TARGET_FORBIDDEN");
    const before = row.is_admin ? row.admin_powers.filter(isAdminPower) : [];
    const changed = ADMIN_POWERS.filter((p) => before.includes(p) !== wanted.includes(p));
    const lacking = changed.filter((p) => !hasAdminPower(actor, p));
    if (lacking.length > 0) throw new ForbiddenError(`You can only grant or revoke powers you hold yourself; you lack: ${lacking.join(", ")}.`, "ADMIN_POWER_NOT_HELD");
    // Making or unmaking an admin with no power in play still takes `roles` (the route's power).
    if (row.is_admin !== change.isAdmin || changed.length > 0) {
      const at = new Date(kernel.now());
      await tx.updateTable("users").set({ is_admin: change.isAdmin, admin_powers: wanted, updated_at: at }).where("id", "=", row.id).execute();
      await insertAuditEntry(tx, { actorId: actor.userId, action: "admin_powers_changed", targetType: "user", targetId: row.id, metadata: { was_admin: row.is_admin, is_admin: change.isAdmin, before, after: wanted }, at, meta });
    }
    return { id: row.id, username: row.username, displayName: row.display_name, isOwner: false, powers: wanted, suspended: row.suspended_at !== null };
  });
}
