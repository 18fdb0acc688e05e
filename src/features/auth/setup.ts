/**
 * First-run ownership and ADMIN_USERNAME, called from main.ts after migrating.
 * While the instance has no users, a one-time setup token is required for the first account
 * (no race for ownership of a freshly exposed instance). Only its hash is stored, in
 * instance_settings; registration consumes it with one DELETE … RETURNING (single use, atomic).
 */
import { sql } from "kysely";
import type { AppDeps } from "../../deps.ts";
import type { Executor, Tx } from "../../db/tx.ts";
import { ADMIN_POWERS } from "./admin-powers.ts";
import { insertAuditEntry } from "./audit.ts";
import { generateOpaqueToken, hashToken } from "./tokens.ts";
import { hasAnyUser } from "./users.ts";

const SETUP_KEY = "setup_token_hash";

/**
 * Returns the setup token to announce (null when users exist). SETUP_TOKEN presets it (automated
 * installs); otherwise a fresh one replaces any earlier one at every start until the first user.
 */
export async function ensureSetupToken(deps: Pick<AppDeps, "database" | "config" | "log">): Promise<string | null> {
  const db = deps.database.db;
  if (await hasAnyUser(db)) {
    await db.deleteFrom("instance_settings").where("key", "=", SETUP_KEY).execute();
    return null;
  }
  const token = deps.config.setupToken ?? generateOpaqueToken(24);
  // to_jsonb in SQL: postgres.js would JSON-encode a pre-stringified value a second time.
  const value = sql<string>`to_jsonb(${hashToken(token)}::text)`;
  await db
    .insertInto("instance_settings")
    .values({ key: SETUP_KEY, value })
    .onConflict((oc) => oc.column("key").doUpdateSet({ value, updated_at: new Date() }))
    .execute();
  return token;
}

/** Logs where the owner registers; the generated token is printed (the point of it), a preset one is not. */
export function announceSetupToken(deps: Pick<AppDeps, "config" | "log">, token: string, listenUrl: string): void {
  const base = deps.config.publicOrigin ?? listenUrl;
  if (deps.config.setupToken) {
    deps.log.warn("setup.waiting_for_owner", { note: `No accounts yet. Register the owner at ${base}/register with the SETUP_TOKEN you configured.` });
  } else {
    deps.log.warn("setup.waiting_for_owner", { note: "No accounts yet. Open this one-time link to create the owner account.", setup_url: `${base}/register?setup_token=${token}` });
  }
}

export async function consumeSetupToken(tx: Tx, token: string): Promise<boolean> {
  const row = await tx
    .deleteFrom("instance_settings")
    .where("key", "=", SETUP_KEY)
    .where(sql<string>`value #>> '{}'`, "=", hashToken(token))
    .returning("key")
    .executeTakeFirst();
  return row !== undefined;
}

/** Whether the token matches the pending setup token (read-only; consumeSetupToken decides). */
export async function isSetupTokenValid(db: Executor, token: string): Promise<boolean> {
  const row = await db
    .selectFrom("instance_settings")
    .select("key")
    .where("key", "=", SETUP_KEY)
    .where(sql<string>`value #>> '{}'`, "=", hashToken(token))
    .executeTakeFirst();
  return row !== undefined;
}

export async function isSetupPending(db: Executor): Promise<boolean> {
  return !(await hasAnyUser(db));
}

/** ADMIN_USERNAME at startup: grants admin with every power to that account if it exists. */
export async function grantConfiguredAdmin(deps: Pick<AppDeps, "database" | "config" | "log">): Promise<void> {
  const username = deps.config.adminUsername;
  if (!username) return;
  await deps.database.db.transaction().execute(async (tx) => {
    const row = await tx
      .updateTable("users")
      .set({ is_admin: true, admin_powers: [...ADMIN_POWERS], updated_at: new Date() })
      .where(sql<string>`lower(username)`, "=", username.toLowerCase())
      .where((eb) => eb.or([eb("is_admin", "=", false), sql<boolean>`cardinality(admin_powers) < ${ADMIN_POWERS.length}`]))
      .returning("id")
      .executeTakeFirst();
    if (row) {
      await insertAuditEntry(tx, { actorId: null, action: "admin_granted", targetType: "user", targetId: row.id, metadata: { source: "ADMIN_USERNAME" }, at: new Date() });
      deps.log.info("auth.admin_granted", { user_id: row.id, source: "ADMIN_USERNAME" });
    }
  });
}
