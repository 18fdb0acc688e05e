/**
 * The community audit log: every moderation and administrative action inside a community, written
 * in the transaction of the action (no entry for a rolled-back action). Visible to members with
 * the view_audit_log permission. Cascades away with the community.
 */
import type { Executor } from "../../db/tx.ts";
import { isUuid } from "../permissions/index.ts";

export type CommunityAuditAction =
  | "community_created"
  | "community_updated"
  | "ownership_transferred"
  | "member_role_changed"
  | "member_roles_set"
  | "member_kicked"
  | "member_banned"
  | "member_unbanned"
  | "member_timed_out"
  | "timeout_removed"
  | "member_warned"
  | "invite_created"
  | "invite_revoked"
  | "role_created"
  | "role_updated"
  | "role_deleted"
  | "group_created"
  | "group_updated"
  | "group_deleted"
  | "channel_created"
  | "channel_updated"
  | "channel_deleted"
  | "channel_override_set"
  | "channel_override_removed"
  | "report_resolved"
  | "report_dismissed"
  | "report_escalated"
  | "messages_purge_requested"
  | "webhook_created"
  | "webhook_revoked";

export type CommunityAuditEntry = {
  communityId: string;
  actorId: string | null;
  action: CommunityAuditAction;
  targetUserId?: string | null;
  targetType?: string;
  targetId?: string;
  reason?: string | null;
  metadata?: Record<string, unknown>;
  at: Date;
};

export async function insertCommunityAudit(db: Executor, e: CommunityAuditEntry): Promise<void> {
  await db
    .insertInto("community_audit_log")
    .values({
      id: Bun.randomUUIDv7(),
      community_id: e.communityId,
      actor_id: e.actorId,
      action: e.action,
      target_user_id: e.targetUserId ?? null,
      target_type: e.targetType ?? null,
      target_id: e.targetId ?? null,
      reason: e.reason ?? null,
      metadata: JSON.stringify(e.metadata ?? {}),
      created_at: e.at,
    })
    .execute();
}

export type CommunityAuditView = {
  id: string;
  action: string;
  actorId: string | null;
  actorName: string | null;
  targetUserId: string | null;
  targetName: string | null;
  targetType: string | null;
  targetId: string | null;
  reason: string | null;
  metadata: Record<string, unknown>;
  createdAt: Date;
};

/** Newest first, keyset-paginated by `before` (an entry id). */
export async function listCommunityAudit(db: Executor, communityId: string, opts: { limit: number; before?: string; action?: string }): Promise<CommunityAuditView[]> {
  let q = db
    .selectFrom("community_audit_log as a")
    .leftJoin("users as actor", "actor.id", "a.actor_id")
    .leftJoin("users as target", "target.id", "a.target_user_id")
    .select(["a.id", "a.action", "a.actor_id", "actor.display_name as actor_name", "a.target_user_id", "target.display_name as target_name", "a.target_type", "a.target_id", "a.reason", "a.metadata", "a.created_at"])
    .where("a.community_id", "=", communityId)
    .orderBy("a.created_at", "desc")
    .orderBy("a.id", "desc")
    .limit(opts.limit);
  if (opts.action) q = q.where("a.action", "=", opts.action);
  // A malformed cursor would be a database error: the routes refuse it; here it reads as no cursor.
  if (opts.before && isUuid(opts.before)) {
    const cursor = await db.selectFrom("community_audit_log").select(["created_at", "id"]).where("id", "=", opts.before).where("community_id", "=", communityId).executeTakeFirst();
    if (cursor) q = q.where((eb) => eb.or([eb("a.created_at", "<", cursor.created_at), eb.and([eb("a.created_at", "=", cursor.created_at), eb("a.id", "<", cursor.id)])]));
  }
  const rows = await q.execute();
  return rows.map((r) => ({
    id: r.id,
    action: r.action,
    actorId: r.actor_id,
    actorName: r.actor_name,
    targetUserId: r.target_user_id,
    targetName: r.target_name,
    targetType: r.target_type,
    targetId: r.target_id,
    reason: r.reason,
    metadata: r.metadata,
    createdAt: r.created_at,
  }));
}
