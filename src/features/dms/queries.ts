/** Reads that decide who may talk to whom. */
import type { Executor } from "../../db/tx.ts";

export async function isBlockedEitherWay(db: Executor, a: string, b: string): Promise<boolean> {
  const row = await db
    .selectFrom("user_blocks")
    .select("blocker_id")
    .where((eb) => eb.or([eb.and([eb("blocker_id", "=", a), eb("blocked_id", "=", b)]), eb.and([eb("blocker_id", "=", b), eb("blocked_id", "=", a)])]))
    .executeTakeFirst();
  return row !== undefined;
}

/** True when `userId` and the other participant of this 1:1 DM block each other either way (one query). */
export async function isDmPartnerBlocked(db: Executor, channelId: string, userId: string): Promise<boolean> {
  const row = await db
    .selectFrom("channel_members as cm")
    .innerJoin("user_blocks as b", (j) =>
      j.on((eb) =>
        eb.or([
          eb.and([eb("b.blocker_id", "=", userId), eb("b.blocked_id", "=", eb.ref("cm.user_id"))]),
          eb.and([eb("b.blocked_id", "=", userId), eb("b.blocker_id", "=", eb.ref("cm.user_id"))]),
        ]),
      ),
    )
    .select("cm.user_id")
    .where("cm.channel_id", "=", channelId)
    .where("cm.user_id", "!=", userId)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

export async function shareCommunity(db: Executor, a: string, b: string): Promise<boolean> {
  const row = await db
    .selectFrom("community_members as x")
    .innerJoin("community_members as y", "y.community_id", "x.community_id")
    .select("x.community_id")
    .where("x.user_id", "=", a)
    .where("y.user_id", "=", b)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** True when a and b take part in one DM or group DM together. */
export async function shareDm(db: Executor, a: string, b: string): Promise<boolean> {
  const row = await db
    .selectFrom("channel_members as x")
    .innerJoin("channel_members as y", "y.channel_id", "x.channel_id")
    .innerJoin("channels as c", "c.id", "x.channel_id")
    .select("x.channel_id")
    .where("x.user_id", "=", a)
    .where("y.user_id", "=", b)
    .where("c.kind", "in", ["dm", "group_dm"])
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** Everything the DM, block and report checks need to know about a person, from the actor's side. */
export type Relation = {
  id: string;
  username: string;
  displayName: string;
  suspended: boolean;
  allowDmsFromAnyone: boolean;
  sharesCommunity: boolean;
  sharesDm: boolean;
  blockedByActor: boolean;
  blockedByTarget: boolean;
};

/**
 * One statement whatever the answer: an unknown id, a stranger and a blocker cost the same round
 * trip, so response timing does not tell them apart through an extra query.
 */
export async function findRelation(db: Executor, actorId: string, targetId: string): Promise<Relation | undefined> {
  const row = await db
    .selectFrom("users as u")
    .select(["u.id", "u.username", "u.display_name", "u.allow_dms_from_anyone", "u.suspended_at"])
    .select((eb) => [
      eb.exists(eb.selectFrom("community_members as x").innerJoin("community_members as y", "y.community_id", "x.community_id").select("x.user_id").where("x.user_id", "=", actorId).whereRef("y.user_id", "=", "u.id")).as("shares_community"),
      eb
        .exists(
          eb
            .selectFrom("channel_members as x")
            .innerJoin("channel_members as y", "y.channel_id", "x.channel_id")
            .innerJoin("channels as c", "c.id", "x.channel_id")
            .select("x.channel_id")
            .where("x.user_id", "=", actorId)
            .whereRef("y.user_id", "=", "u.id")
            .where("c.kind", "in", ["dm", "group_dm"]),
        )
        .as("shares_dm"),
      eb.exists(eb.selectFrom("user_blocks as b").select("b.blocker_id").where("b.blocker_id", "=", actorId).whereRef("b.blocked_id", "=", "u.id")).as("blocked_by_actor"),
      eb.exists(eb.selectFrom("user_blocks as b").select("b.blocker_id").whereRef("b.blocker_id", "=", "u.id").where("b.blocked_id", "=", actorId)).as("blocked_by_target"),
    ])
    .where("u.id", "=", targetId)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    id: row.id,
    username: row.username,
    displayName: row.display_name,
    suspended: row.suspended_at !== null,
    allowDmsFromAnyone: row.allow_dms_from_anyone,
    sharesCommunity: Boolean(row.shares_community),
    sharesDm: Boolean(row.shares_dm),
    blockedByActor: Boolean(row.blocked_by_actor),
    blockedByTarget: Boolean(row.blocked_by_target),
  };
}
