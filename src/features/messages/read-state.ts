/**
 * Read cursors and unread counts. A cursor only moves forward (GREATEST in the upsert, so racing
 * devices cannot move it back) and never beyond the channel's last seq. Unread counts of every
 * channel the user sees come from ONE query (a lateral count per channel, capped at
 * UNREAD_CAP); channels with view overrides are re-checked through accessChannel. Thread replies
 * are not counted: the timeline does not show them (docs/messages.md "Threads"), so a badge for
 * them would point at nothing; the cursor still moves over their seqs.
 */
import { sql } from "kysely";
import type { AppDeps } from "../../deps.ts";
import { InvalidInputError } from "../../errors.ts";
import { channelTopic, userTopic } from "../../ws/topics.ts";
import { accessChannel, type ActorRef } from "../permissions/index.ts";
import { dbOf, mutate, nowOf } from "../communities/index.ts";

export const UNREAD_CAP = 1000;

export async function markRead(deps: AppDeps, actor: ActorRef, channelId: string, input: { seq?: unknown }): Promise<void> {
  const seq = Number(input.seq);
  if (!Number.isSafeInteger(seq) || seq < 0) throw new InvalidInputError('The field "seq" must be a whole number ≥ 0.', { seq: "Invalid." }, "INVALID_SEQ");
  const now = nowOf(deps);
  await mutate(deps, async (tx, outbox) => {
    const { channel } = await accessChannel(tx, actor, channelId, now);
    const last = await tx.selectFrom("channels").select("last_seq").where("id", "=", channel.id).executeTakeFirstOrThrow();
    const target = Math.min(seq, Number(last.last_seq));
    const before = await tx.selectFrom("read_cursors").select("seq").where("user_id", "=", actor.userId).where("channel_id", "=", channel.id).executeTakeFirst();
    const row = await tx
      .insertInto("read_cursors")
      .values({ user_id: actor.userId, channel_id: channel.id, seq: target, updated_at: now })
      .onConflict((oc) => oc.columns(["user_id", "channel_id"]).doUpdateSet({ seq: sql`greatest(read_cursors.seq, excluded.seq)`, updated_at: now }))
      .returning("seq")
      .executeTakeFirstOrThrow();
    outbox.push(userTopic(actor.userId), { type: "read:updated", channelId: channel.id, seq: Number(row.seq) });
    // Read receipts (issue 6 §2): the other participants of a DM or group DM learn how far this
    // user read, unless the user opted out (PUT /api/account/preferences {read_receipts: false}).
    // Community channels have none (as the listing, receipts.ts): every follower would learn
    // how far everyone read.
    const dm = channel.kind === "dm" || channel.kind === "group_dm";
    if (dm && Number(row.seq) > Number(before?.seq ?? 0)) {
      const user = await tx.selectFrom("users").select("read_receipts").where("id", "=", actor.userId).executeTakeFirst();
      if (user?.read_receipts) outbox.push(channelTopic(channel.id), { type: "read:receipt", channelId: channel.id, userId: actor.userId, seq: Number(row.seq) });
    }
  });
}

export type UnreadEntry = { channel_id: string; unread: number; last_seq: number; read_seq: number };

export async function listUnread(deps: AppDeps, actor: ActorRef): Promise<UnreadEntry[]> {
  const db = dbOf(deps);
  const now = nowOf(deps);
  const me = actor.userId;
  const result = await sql<{ id: string; last_seq: string | number; read_seq: string | number; unread: string | number; restricted: boolean }>`
    with visible as (
      select c.id, c.last_seq, false as restricted
        from channels c join channel_members cm on cm.channel_id = c.id and cm.user_id = ${me}
       where c.kind in ('dm', 'group_dm')
      union all
      select c.id, c.last_seq,
             exists (select 1 from channel_role_overrides o where o.channel_id = c.id and 'view_channel' = any(o.deny)) as restricted
        from channels c join community_members m on m.community_id = c.community_id and m.user_id = ${me}
       where c.kind in ('text', 'announcement')
         and (not c.is_private or m.role in ('owner', 'admin')
              or exists (select 1 from channel_members cm where cm.channel_id = c.id and cm.user_id = ${me}))
    )
    select v.id, v.last_seq, coalesce(r.seq, 0) as read_seq, v.restricted,
           (select count(*) from (
              select 1 from messages msg
               where msg.channel_id = v.id and msg.seq > coalesce(r.seq, 0)
                 and msg.deleted_at is null and msg.sender_id is distinct from ${me}
                 and msg.thread_root_id is null
                 and (msg.expires_at is null or msg.expires_at > ${now})
               limit ${UNREAD_CAP}) capped) as unread
      from visible v left join read_cursors r on r.user_id = ${me} and r.channel_id = v.id
     order by v.id`.execute(db);
  const out: UnreadEntry[] = [];
  for (const r of result.rows) {
    if (r.restricted) {
      try {
        await accessChannel(db, actor, r.id, now);
      } catch {
        continue;
      }
    }
    out.push({ channel_id: r.id, unread: Number(r.unread), last_seq: Number(r.last_seq), read_seq: Number(r.read_seq) });
  }
  return out;
}

/**
 * Unread counts grouped for the home hub: per channel (DMs) and per community (the sum of its
 * channels'). listUnread plus one query for the communities of the channels that have any.
 */
export async function summariseUnread(deps: AppDeps, actor: ActorRef): Promise<{ byChannel: Map<string, number>; byCommunity: Map<string, number> }> {
  const entries = (await listUnread(deps, actor)).filter((e) => e.unread > 0);
  const byChannel = new Map(entries.map((e) => [e.channel_id, e.unread]));
  const byCommunity = new Map<string, number>();
  if (entries.length === 0) return { byChannel, byCommunity };
  const rows = await dbOf(deps).selectFrom("channels").select(["id", "community_id"]).where("id", "in", [...byChannel.keys()]).where("community_id", "is not", null).execute();
  for (const r of rows) byCommunity.set(r.community_id!, (byCommunity.get(r.community_id!) ?? 0) + byChannel.get(r.id)!);
  return { byChannel, byCommunity };
}
