/**
 * Registration invites (instance admins with the "invites" power). A code is consumed inside the
 * registration transaction by one conditional UPDATE, so N parallel registrations on a one-use
 * invite create exactly one account: the row lock makes the others re-check `uses < max_uses`.
 */
import { sql } from "kysely";
import { NotFoundError } from "../../errors.ts";
import { runInTransaction, type Executor, type Tx } from "../../db/tx.ts";
import { insertAuditEntry, type RequestMeta } from "./audit.ts";
import type { Actor } from "./guard.ts";
import type { AuthKernel } from "./kernel.ts";
import { generateCode, isUuid, normalizeCode } from "./tokens.ts";

export const INVITE_MAX_HOURS = 8760;

export type InviteView = { id: string; code: string; maxUses: number | null; uses: number; expiresAt: Date | null; createdAt: Date; createdBy: string | null; usable: boolean };

export async function createInvite(kernel: AuthKernel, actor: Actor, input: { maxUses?: number; expiresInHours?: number }, meta: RequestMeta): Promise<InviteView> {
  const now = kernel.now();
  const row = {
    id: Bun.randomUUIDv7(),
    code: generateCode(3),
    created_by: actor.userId,
    max_uses: input.maxUses ?? null,
    expires_at: input.expiresInHours ? new Date(now + input.expiresInHours * 3600_000) : null,
    created_at: new Date(now),
  };
  await runInTransaction({ db: kernel.deps.database.db, events: kernel.deps.events }, async (tx) => {
    await tx.insertInto("registration_invites").values(row).execute();
    await insertAuditEntry(tx, { actorId: actor.userId, action: "invite_created", targetType: "invite", targetId: row.id, metadata: { max_uses: row.max_uses, expires_at: row.expires_at }, at: row.created_at, meta });
  });
  return { id: row.id, code: row.code, maxUses: row.max_uses, uses: 0, expiresAt: row.expires_at, createdAt: row.created_at, createdBy: actor.username, usable: true };
}

export async function listInvites(db: Executor, nowMs: number): Promise<InviteView[]> {
  const rows = await db
    .selectFrom("registration_invites as i")
    .leftJoin("users as u", "u.id", "i.created_by")
    .select(["i.id", "i.code", "i.max_uses", "i.uses", "i.expires_at", "i.created_at", "u.username"])
    .orderBy("i.created_at", "desc")
    .execute();
  return rows.map((r) => ({
    id: r.id,
    code: r.code,
    maxUses: r.max_uses,
    uses: r.uses,
    expiresAt: r.expires_at,
    createdAt: r.created_at,
    createdBy: r.username,
    usable: (r.max_uses === null || r.uses < r.max_uses) && (r.expires_at === null || r.expires_at.getTime() > nowMs),
  }));
}

export async function deleteInvite(kernel: AuthKernel, actor: Actor, id: string, meta: RequestMeta): Promise<void> {
  if (!isUuid(id)) throw new NotFoundError("No such invite.");
  await runInTransaction({ db: kernel.deps.database.db, events: kernel.deps.events }, async (tx) => {
    const row = await tx.deleteFrom("registration_invites").where("id", "=", id).returning("id").executeTakeFirst();
    if (!row) throw new NotFoundError("No such invite.");
    await insertAuditEntry(tx, { actorId: actor.userId, action: "invite_deleted", targetType: "invite", targetId: id, at: new Date(kernel.now()), meta });
  });
}

/** Whether the code could be spent now (read-only; consumeInvite decides, inside the transaction). */
export async function isInviteUsable(db: Executor, code: string, nowMs: number): Promise<boolean> {
  const normalized = normalizeCode(code, 3);
  if (!normalized) return false;
  const row = await db
    .selectFrom("registration_invites")
    .select("id")
    .where("code", "=", normalized)
    .where((eb) => eb.or([eb("max_uses", "is", null), eb("uses", "<", eb.ref("max_uses"))]))
    .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", new Date(nowMs))]))
    .executeTakeFirst();
  return row !== undefined;
}

/** Spends one use of the code; false when it is unknown, expired or used up. */
export async function consumeInvite(tx: Tx, code: string, nowMs: number): Promise<boolean> {
  const normalized = normalizeCode(code, 3);
  if (!normalized) return false;
  const row = await tx
    .updateTable("registration_invites")
    .set({ uses: sql`uses + 1` })
    .where("code", "=", normalized)
    .where((eb) => eb.or([eb("max_uses", "is", null), eb("uses", "<", eb.ref("max_uses"))]))
    .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", new Date(nowMs))]))
    .returning("id")
    .executeTakeFirst();
  return row !== undefined;
}
