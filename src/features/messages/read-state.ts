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
import { accessChannel, accessCommunity, type ActorRef } from "../permissions/index.ts";
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

export type UnreadEntry = { channel_id: string; community_id: string | null; unread: number; mentions: number; last_seq: number; read_seq: number };

type UnreadRow = { id: string; community_id: string | null; last_seq: string | number; read_seq: string | number; unread: string | number; mentions: string | number; restricted: boolean };

/**
 * Every channel the user sees with its unread and mention counts, in ONE statement: a lateral
 * count per channel over at most UNREAD_CAP messages after the cursor (so a channel with a long
 * backlog costs UNREAD_CAP index entries, not its whole history). A message mentions me when its
 * stored `mentions` hold my id, or it carries @everyone, or @here while I was online
 * (here_ids). `channelId`: only that channel (the live badge refresh, GET /api/channels/:id/unread).
 */
export async function listUnread(deps: AppDeps, actor: ActorRef, opts: { channelId?: string; communityId?: string } = {}): Promise<UnreadEntry[]> {
  const db = dbOf(deps);
  const now = nowOf(deps);
  const me = actor.userId;
  const only = opts.channelId ? sql`and c.id = ${opts.channelId}::uuid` : opts.communityId ? sql`and c.community_id = ${opts.communityId}::uuid` : sql``;
  const dmOnly = opts.communityId ? sql`and false` : sql``;
  const result = await sql<UnreadRow>`
    with visible as (
      select c.id, c.community_id, c.last_seq, false as restricted
        from channels c join channel_members cm on cm.channel_id = c.id and cm.user_id = ${me}
       where c.kind in ('dm', 'group_dm') ${only} ${dmOnly}
      union all
      select c.id, c.community_id, c.last_seq,
             exists (select 1 from channel_role_overrides o where o.channel_id = c.id and 'view_channel' = any(o.deny)) as restricted
        from channels c join community_members m on m.community_id = c.community_id and m.user_id = ${me}
       where c.kind in ('text', 'announcement') ${only}
         and (not c.is_private or m.role in ('owner', 'admin')
              or exists (select 1 from channel_members cm where cm.channel_id = c.id and cm.user_id = ${me}))
    )
    select v.id, v.community_id, v.last_seq, coalesce(r.seq, 0) as read_seq, v.restricted, n.unread, n.mentions
      from visible v
      left join read_cursors r on r.user_id = ${me} and r.channel_id = v.id
      cross join lateral (
        select count(*) as unread,
               count(*) filter (where ${me}::uuid = any(capped.mentions) or capped.mention_all = 'everyone'
                                   or (capped.mention_all = 'here' and ${me}::uuid = any(capped.here_ids))) as mentions
          from (select msg.mentions, msg.mention_all, msg.here_ids from messages msg
                 where msg.channel_id = v.id and msg.seq > coalesce(r.seq, 0)
                   and msg.deleted_at is null and msg.sender_id is distinct from ${me}
                   and msg.thread_root_id is null
                   and (msg.expires_at is null or msg.expires_at > ${now})
                 limit ${UNREAD_CAP}) capped) n
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
    out.push({ channel_id: r.id, community_id: r.community_id, unread: Number(r.unread), mentions: Number(r.mentions), last_seq: Number(r.last_seq), read_seq: Number(r.read_seq) });
  }
  return out;
}

/** One channel's counts (the live badge refresh after channel:activity); 404 when the actor cannot see it. */
export async function getUnread(deps: AppDeps, actor: ActorRef, channelId: string): Promise<UnreadEntry> {
  const { channel } = await accessChannel(dbOf(deps), actor, channelId, nowOf(deps));
  const entry = (await listUnread(deps, actor, { channelId: channel.id }))[0];
  // A voice channel (or one the listing does not count): nothing unread.
  return entry ?? { channel_id: channel.id, community_id: channel.communityId ?? null, unread: 0, mentions: 0, last_seq: 0, read_seq: 0 };
}

/**
 * "Mark all read" for a community (its channels the actor sees) or everywhere (`communityId`
 * null: every channel and conversation). Every cursor moves to its channel's last seq in one
 * statement; the user's other devices get ONE `read:all` frame and clear their badges; DM
 * partners get read receipts as markRead gives them (when the user allows receipts).
 */
export async function markAllRead(deps: AppDeps, actor: ActorRef, communityId: string | null): Promise<{ channels: number }> {
  const now = nowOf(deps);
  const db = dbOf(deps);
  if (communityId !== null) await accessCommunity(db, actor, communityId, now);
  const entries = (await listUnread(deps, actor, communityId ? { communityId } : {})).filter((e) => e.read_seq < e.last_seq);
  await mutate(deps, async (tx, outbox) => {
    if (entries.length > 0) {
      await sql`
        insert into read_cursors (user_id, channel_id, seq, updated_at)
        select ${actor.userId}::uuid, u.channel_id, c.last_seq, ${now}::timestamptz
          from unnest(${entries.map((e) => e.channel_id)}::uuid[]) as u(channel_id) join channels c on c.id = u.channel_id
        on conflict (user_id, channel_id) do update set seq = greatest(read_cursors.seq, excluded.seq), updated_at = excluded.updated_at`.execute(tx);
      const dms = entries.filter((e) => e.community_id === null);
      if (dms.length > 0) {
        const user = await tx.selectFrom("users").select("read_receipts").where("id", "=", actor.userId).executeTakeFirst();
        if (user?.read_receipts) for (const e of dms) outbox.push(channelTopic(e.channel_id), { type: "read:receipt", channelId: e.channel_id, userId: actor.userId, seq: e.last_seq });
      }
    }
    outbox.push(userTopic(actor.userId), { type: "read:all", communityId });
  });
  return { channels: entries.length };
}

/**
 * Unread counts grouped for the home hub: per channel (DMs) and per community (the sum of its
 * channels'), from the one listUnread statement.
 */
type Counts = { unread: number; mentions: number };
export async function summariseUnread(deps: AppDeps, actor: ActorRef): Promise<{ byChannel: Map<string, Counts>; byCommunity: Map<string, Counts> }> {
  const entries = (await listUnread(deps, actor)).filter((e) => e.unread > 0 || e.mentions > 0);
  const byChannel = new Map(entries.map((e) => [e.channel_id, { unread: e.unread, mentions: e.mentions }]));
  const byCommunity = new Map<string, Counts>();
  for (const e of entries) {
    if (!e.community_id) continue;
    const sum = byCommunity.get(e.community_id) ?? { unread: 0, mentions: 0 };
    byCommunity.set(e.community_id, { unread: sum.unread + e.unread, mentions: sum.mentions + e.mentions });
  }
  return { byChannel, byCommunity };
}
