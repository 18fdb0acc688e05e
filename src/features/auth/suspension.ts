/**
 * Suspension (used by the admin users feature when it lands): suspending ends every session of
 * the user in the same transaction and tells the WebSocket hub after COMMIT; the guard refuses a
 * suspended user's next request anyway (it checks suspended_at on every request).
 */
import { NotFoundError } from "../../errors.ts";
import { runInTransaction } from "../../db/tx.ts";
import { insertAuditEntry, type RequestMeta } from "./audit.ts";
import type { AuthKernel } from "./kernel.ts";
import { revokeAllSessions } from "./sessions.ts";
import { isUuid } from "./tokens.ts";

export async function suspendUser(kernel: AuthKernel, actorId: string | null, userId: string, reason: string, meta?: RequestMeta): Promise<void> {
  if (!isUuid(userId)) throw new NotFoundError("No such user.");
  await runInTransaction({ db: kernel.deps.database.db, events: kernel.deps.events }, async (tx, outbox) => {
    const at = new Date(kernel.now());
    const row = await tx.updateTable("users").set({ suspended_at: at, suspended_reason: reason.slice(0, 500), updated_at: at }).where("id", "=", userId).returning("id").executeTakeFirst();
    if (!row) throw new NotFoundError("No such user.");
    await revokeAllSessions(tx, kernel, outbox, userId, "suspended");
    await insertAuditEntry(tx, { actorId, action: "user_suspended", targetType: "user", targetId: userId, metadata: { reason }, at, meta });
  });
}

export async function unsuspendUser(kernel: AuthKernel, actorId: string | null, userId: string, meta?: RequestMeta): Promise<void> {
  if (!isUuid(userId)) throw new NotFoundError("No such user.");
  await runInTransaction({ db: kernel.deps.database.db, events: kernel.deps.events }, async (tx) => {
    const at = new Date(kernel.now());
    const row = await tx.updateTable("users").set({ suspended_at: null, suspended_reason: null, updated_at: at }).where("id", "=", userId).returning("id").executeTakeFirst();
    if (!row) throw new NotFoundError("No such user.");
    await insertAuditEntry(tx, { actorId, action: "user_unsuspended", targetType: "user", targetId: userId, at, meta });
  });
}
