/**
 * Makes two users contacts the way the product does: a DM between them (channels + channel_members
 * + dm_pairs rows, as the DM service writes them), so `shareCommunityOrDm` says yes.
 */
import type { TestContext } from "./app.ts";

export async function makeContacts(ctx: TestContext, a: string, b: string): Promise<string> {
  const [userA, userB] = a < b ? [a, b] : [b, a];
  const existing = await ctx.database.db.selectFrom("dm_pairs").select("channel_id").where("user_a", "=", userA).where("user_b", "=", userB).executeTakeFirst();
  if (existing) return existing.channel_id;
  const channelId = Bun.randomUUIDv7();
  await ctx.database.db.transaction().execute(async (tx) => {
    await tx.insertInto("channels").values({ id: channelId, kind: "dm", community_id: null, group_id: null, name: null, topic: null, created_by: a }).execute();
    await tx.insertInto("channel_members").values([{ channel_id: channelId, user_id: a }, { channel_id: channelId, user_id: b }]).execute();
    await tx.insertInto("dm_pairs").values({ user_a: userA, user_b: userB, channel_id: channelId }).execute();
  });
  return channelId;
}
