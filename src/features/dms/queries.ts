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
