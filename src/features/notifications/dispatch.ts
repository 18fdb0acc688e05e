/**
 * From a new message to push messages (docs/notifications.md "Who gets a push"). Runs on the
 * instance that handled the send, after COMMIT, in the background: so with several instances
 * each message is considered exactly once, and the send never waits for a push service.
 *
 *  1. Candidates: the other people of a DM / group DM; for a community channel, members with a
 *     live push subscription who may view the channel (the same access check as reading it).
 *  2. shouldNotify's rule (settings.ts) over all of them at once.
 *  3. Only people with no open socket on any instance (the presence store: Redis with several
 *     instances): a user with a tab open is told by the tab.
 *  4. One push per live subscription. The payload names who, where and how many: ids, the
 *     sender's and conversation's names the server already knows, the unread count. Never the
 *     message text, which the server does not have, and never the ciphertext.
 */
import type { AppDeps } from "../../deps.ts";
import { accessChannel } from "../permissions/index.ts";
import { presenceOf } from "../presence/index.ts";
import type { CreatedMessage } from "../messages/index.ts";
import { listTargets, usersWithTargets } from "./push-subscriptions.ts";
import { sendPush } from "./push-sender.ts";
import { usersToNotify } from "./settings.ts";

/** What a push carries (the service worker renders it; src/client/sw/index.ts). */
export type PushPayload = {
  v: 1;
  type: "message";
  channel_id: string;
  community_id: string | null;
  kind: "dm" | "group_dm" | "channel";
  sender_id: string;
  sender_name: string | null;
  /** The channel's name, or the group DM's name when it has one; null for a DM. */
  channel_name: string | null;
  community_name: string | null;
  mention: boolean;
  /** Unread messages of the recipient in this conversation. */
  count: number;
  /** Where a click on the notification leads (same origin). */
  url: string;
};

const pending = new WeakMap<object, Set<Promise<unknown>>>();

/** Tests: resolves once every push started so far has been decided and sent. */
export async function pushSettled(deps: object): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const set = pending.get(deps);
    if (!set || set.size === 0) return;
    await Promise.allSettled([...set]);
  }
}

export function track(deps: object, work: Promise<unknown>): void {
  let set = pending.get(deps);
  if (!set) pending.set(deps, (set = new Set()));
  set.add(work);
  void work.finally(() => set.delete(work));
}

/**
 * Who of `candidates` the message mentions: the named ids, everyone for @everyone, the people
 * online at send time for @here (who, having a tab open then, rarely get a push: see step 3).
 */
export function mentionedAmong(message: Pick<CreatedMessage, "mentions" | "mentionAll" | "hereIds">, candidates: readonly string[]): string[] {
  if (message.mentionAll === "everyone") return [...candidates];
  const named = new Set([...message.mentions, ...(message.mentionAll === "here" ? message.hereIds : [])]);
  return candidates.filter((id) => named.has(id));
}

export async function dispatchMessage(deps: AppDeps, message: CreatedMessage): Promise<number> {
  const db = deps.database.db;
  const now = new Date(deps.now?.() ?? Date.now());
  const channel = await db
    .selectFrom("channels as c")
    .leftJoin("communities as co", "co.id", "c.community_id")
    .select(["c.id", "c.kind", "c.name", "c.community_id", "co.name as community_name"])
    .where("c.id", "=", message.channelId)
    .executeTakeFirst();
  if (!channel) return 0;
  const dm = channel.kind === "dm" || channel.kind === "group_dm";
  let candidates: string[];
  if (dm) {
    const rows = await db.selectFrom("channel_members").select("user_id").where("channel_id", "=", channel.id).where("user_id", "<>", message.senderId).execute();
    candidates = await usersWithTargets(db, rows.map((r) => r.user_id), now);
  } else {
    const rows = await db
      .selectFrom("community_members as m")
      .innerJoin("push_subscriptions as p", "p.user_id", "m.user_id")
      .innerJoin("users as u", "u.id", "m.user_id")
      .select(["m.user_id", "u.is_owner"])
      .distinct()
      .where("m.community_id", "=", channel.community_id!)
      .where("m.user_id", "<>", message.senderId)
      .execute();
    const visible = await Promise.all(
      rows.map((r) =>
        accessChannel(db, { userId: r.user_id, isOwner: r.is_owner }, channel.id, now).then(
          () => r.user_id,
          () => null,
        ),
      ),
    );
    candidates = await usersWithTargets(db, visible.filter((id): id is string => id !== null), now);
  }
  if (candidates.length === 0) return 0;
  const mentions = mentionedAmong(message, candidates);
  const wanted = await usersToNotify(deps, candidates, { kind: "message", channelId: channel.id, communityId: channel.community_id, dm }, mentions, now);
  if (wanted.length === 0) return 0;
  const counts = await (presenceOf(deps)?.store.counts(wanted) ?? Promise.resolve(new Map<string, number>()));
  const offline = wanted.filter((id) => (counts.get(id) ?? 0) === 0);
  if (offline.length === 0) return 0;
  const cursors = await db.selectFrom("read_cursors").select(["user_id", "seq"]).where("channel_id", "=", channel.id).where("user_id", "in", offline).execute();
  const readSeq = new Map(cursors.map((r) => [r.user_id, Number(r.seq)]));
  const unreadOf = (userId: string) => Math.max(1, message.seq - (readSeq.get(userId) ?? 0));
  const mentioned = new Set(mentions);
  const url = dm ? `/dms/${channel.id}` : `/c/${channel.community_id}/ch/${channel.id}`;
  const targets = await listTargets(db, offline, now);
  const outcomes = await Promise.all(
    targets.map((target) => {
      const payload: PushPayload = {
        v: 1,
        type: "message",
        channel_id: channel.id,
        community_id: channel.community_id,
        kind: dm ? (channel.kind as "dm" | "group_dm") : "channel",
        sender_id: message.senderId,
        sender_name: message.senderName,
        channel_name: channel.kind === "dm" ? null : channel.name,
        community_name: channel.community_name ?? null,
        mention: mentioned.has(target.userId),
        count: unreadOf(target.userId),
        url,
      };
      return sendPush(deps, target, payload, now);
    }),
  );
  return outcomes.filter((o) => o === "sent").length;
}
