/**
 * The audit log: security and administrative actions with actor, target, IP, user agent and
 * time (seeds/004). Written inside the transaction of the action it records, so a rolled-back
 * action leaves no entry and a committed one always has one.
 */
import type { Executor } from "../../db/tx.ts";

export type AuditAction =
  | "register"
  | "login"
  | "login_failed"
  | "verification_failed"
  | "lockout"
  | "2fa_enabled"
  | "2fa_disabled"
  | "backup_code_used"
  | "backup_codes_regenerated"
  | "password_changed"
  | "account_recovered"
  | "recovery_code_regenerated"
  | "session_revoked"
  | "logout"
  | "logout_all"
  | "admin_granted"
  | "invite_created"
  | "invite_deleted"
  | "account_deleted"
  | "profile_updated"
  | "user_suspended"
  | "user_unsuspended"
  | "sessions_ended_by_admin"
  | "all_sessions_ended"
  | "access_token_created"
  | "access_token_revoked"
  | "audit_log_exported"
  | "audit_log_verified"
  | "user_deleted"
  | "password_reset_link_created"
  | "password_reset_by_link"
  | "admin_powers_changed"
  | "report_closed_by_admin"
  | "reauthenticated"
  | "data_exported"
  | "user_data_exported"
  | "user_wiped"
  | "announcement_created"
  | "announcement_updated"
  | "announcement_expired"
  | "legal_page_updated"
  | "instance_setting_changed"
  | "email_released";

export type RequestMeta = {
  ip: string;
  userAgent: string | null;
  /** The raw trusted-device cookie, if any (device-cookie.ts); never written to the audit log. */
  deviceCookie?: string;
};

export type AuditEntry = {
  actorId: string | null;
  action: AuditAction;
  targetType?: string;
  targetId?: string;
  metadata?: Record<string, unknown>;
  at: Date;
  meta?: RequestMeta;
};

export async function insertAuditEntry(db: Executor, entry: AuditEntry): Promise<void> {
  await db
    .insertInto("audit_log")
    .values({
      id: Bun.randomUUIDv7(),
      actor_id: entry.actorId,
      action: entry.action,
      target_type: entry.targetType ?? null,
      target_id: entry.targetId ?? null,
      ip: entry.meta?.ip ?? null,
      user_agent: entry.meta?.userAgent?.slice(0, 512) ?? null,
      metadata: JSON.stringify(entry.metadata ?? {}),
      created_at: entry.at,
    })
    .execute();
}

export type AuditRow = {
  id: string;
  actorId: string | null;
  actorUsername: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  ip: string | null;
  userAgent: string | null;
  metadata: Record<string, unknown>;
  createdAt: Date;
};

export type AuditFilter = {
  /** Exact action name. */
  action?: string;
  /** The actor's username (case-insensitive) or id. */
  actor?: string;
  /** The target's id. */
  target?: string;
  /** Inclusive lower and exclusive upper bound of created_at. */
  since?: Date;
  until?: Date;
};

/** Newest first; keyset pagination on (created_at, id) via the `before` id. */
export async function listAuditEntries(db: Executor, opts: { limit: number; before?: string } & AuditFilter): Promise<AuditRow[]> {
  let query = db
    .selectFrom("audit_log as a")
    .leftJoin("users as u", "u.id", "a.actor_id")
    .select(["a.id", "a.actor_id", "u.username", "a.action", "a.target_type", "a.target_id", "a.ip", "a.user_agent", "a.metadata", "a.created_at"])
    .orderBy("a.created_at", "desc")
    .orderBy("a.id", "desc")
    .limit(opts.limit);
  if (opts.action) query = query.where("a.action", "=", opts.action);
  if (opts.actor) {
    const actor = opts.actor;
    query = /^[0-9a-f-]{36}$/i.test(actor) ? query.where("a.actor_id", "=", actor) : query.where((eb) => eb(eb.fn("lower", ["u.username"]), "=", actor.toLowerCase()));
  }
  if (opts.target) query = query.where("a.target_id", "=", opts.target);
  if (opts.since) query = query.where("a.created_at", ">=", opts.since);
  if (opts.until) query = query.where("a.created_at", "<", opts.until);
  if (opts.before && /^[0-9a-f-]{36}$/i.test(opts.before)) {
    const cursor = await db.selectFrom("audit_log").select(["created_at", "id"]).where("id", "=", opts.before).executeTakeFirst();
    if (cursor) {
      query = query.where((eb) => eb.or([eb("a.created_at", "<", cursor.created_at), eb.and([eb("a.created_at", "=", cursor.created_at), eb("a.id", "<", cursor.id)])]));
    }
  }
  const rows = await query.execute();
  return rows.map((r) => ({
    id: r.id,
    actorId: r.actor_id,
    actorUsername: r.username,
    action: r.action,
    targetType: r.target_type,
    targetId: r.target_id,
    ip: r.ip,
    userAgent: r.user_agent,
    metadata: r.metadata,
    createdAt: r.created_at,
  }));
}
