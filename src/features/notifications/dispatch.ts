/**
 * From a new message to notifications (docs/notifications.md "Who is notified"). Runs on the
 * instance that handled the send, after COMMIT, in the background: so with several instances
 * each message is considered exactly once, and the send never waits for a push service.
 *
 *  1. Candidates: the other people of a DM / group DM; for a community channel, its members
 *     (those with no open socket only when they have a live push subscription: nobody else can
 *     be reached).
 *  2. shouldNotify's rule (settings.ts) over all of them at once, then, in a community channel,
 *     the same access check as reading it (only for the few the rule kept).
 *  3. People with an open socket on any instance (the presence store: Redis with several
 *     instances) get one `notify:message` frame on their user topic: their tabs show a desktop
 *     notification when none of them is focused (src/client/live/desktop-notify.ts). The others
 *     get one push per live subscription (when the server has VAPID keys).
 *
 * Frame and push carry who, where and how many: ids, the sender's and conversation's names the
 * server already knows, the unread count. Never the message text, which the server does not
 * have, and never the ciphertext.
 */
import type { AppDeps } from "../../deps.ts";
import { userTopic } from "../../ws/topics.ts";
import { accessChannel } from "../permissions/index.ts";
import { presenceOf } from "../presence/index.ts";
import type { CreatedMessage } from "../messages/index.ts";
import { listTargets, usersWithTargets } from "./push-subscriptions.ts";
import { sendPush } from "./push-sender.ts";
import { usersToNotify } from "./settings.ts";

/** What a message push carries (the service worker renders it; src/client/sw/index.ts). */
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

/**
 * The frame an open tab gets instead of a push: the same facts, spelled camelCase like every new
 * frame (docs/protocol.md), and the message's id (one notification per message, however many tabs).
 */
export type NotifyFrame = {
  type: "notify:message";
  messageId: string;
  channelId: string;
  communityId: string | null;
  kind: PushPayload["kind"];
  senderId: string;
  senderName: string | null;
  channelName: string | null;
  communityName: string | null;
  mention: boolean;
  count: number;
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

/** Splits people into those with an open socket and those without (the presence store; none = nobody online). */
export async function splitByPresence(deps: AppDeps, userIds: readonly string[]): Promise<{ online: string[]; offline: string[] }> {
  const counts = await (presenceOf(deps)?.store.counts(userIds) ?? Promise.resolve(new Map<string, number>()));
  const online: string[] = [];
  const offline: string[] = [];
  for (const id of userIds) ((counts.get(id) ?? 0) > 0 ? online : offline).push(id);
  return { online, offline };
}

/** Notifies the people a new message should notify. Returns the pushes sent and the frames published. */
export async function dispatchMessage(deps: AppDeps, message: CreatedMessage): Promise<{ pushes: number; frames: number }> {
  const db = deps.database.db;
  const now = new Date(deps.now?.() ?? Date.now());
  const channel = await db
    .selectFrom("channels as c")
    .leftJoin("communities as co", "co.id", "c.community_id")
    .select(["c.id", "c.kind", "c.name", "c.community_id", "co.name as community_name"])
    .where("c.id", "=", message.channelId)
    .executeTakeFirst();
  if (!channel) return { pushes: 0, frames: 0 };
  const dm = channel.kind === "dm" || channel.kind === "group_dm";
  const members = dm
    ? await db.selectFrom("channel_members").select("user_id").where("channel_id", "=", channel.id).where("user_id", "<>", message.senderId).execute()
    : await db.selectFrom("community_members").select("user_id").where("community_id", "=", channel.community_id!).where("user_id", "<>", message.senderId).execute();
  const { online, offline } = await splitByPresence(
    deps,
    members.map((r) => r.user_id),
  );
  const reachable = deps.config.vapid ? await usersWithTargets(db, offline, now) : [];
  const candidates = [...online, ...reachable];
  if (candidates.length === 0) return { pushes: 0, frames: 0 };
  const mentions = mentionedAmong(message, candidates);
  let wanted = await usersToNotify(deps, candidates, { kind: "message", channelId: channel.id, communityId: channel.community_id, dm }, mentions, now);
  if (!dm && wanted.length > 0) {
    const owners = new Map((await db.selectFrom("users").select(["id", "is_owner"]).where("id", "in", wanted).execute()).map((r) => [r.id, r.is_owner]));
    const visible = await Promise.all(wanted.map((userId) => accessChannel(db, { userId, isOwner: owners.get(userId) ?? false }, channel.id, now).then(() => userId, () => null)));
    wanted = visible.filter((id): id is string => id !== null);
  }
  if (wanted.length === 0) return { pushes: 0, frames: 0 };
  const cursors = await db.selectFrom("read_cursors").select(["user_id", "seq"]).where("channel_id", "=", channel.id).where("user_id", "in", wanted).execute();
  const readSeq = new Map(cursors.map((r) => [r.user_id, Number(r.seq)]));
  const mentioned = new Set(mentions);
  const about = (userId: string): Omit<PushPayload, "v" | "type"> => ({
    channel_id: channel.id,
    community_id: channel.community_id,
    kind: dm ? (channel.kind as "dm" | "group_dm") : "channel",
    sender_id: message.senderId,
    sender_name: message.senderName,
    channel_name: channel.kind === "dm" ? null : channel.name,
    community_name: channel.community_name ?? null,
    mention: mentioned.has(userId),
    count: Math.max(1, message.seq - (readSeq.get(userId) ?? 0)),
    url: dm ? `/dms/${channel.id}` : `/c/${channel.community_id}/ch/${channel.id}`,
  });
  const onlineSet = new Set(online);
  let frames = 0;
  for (const userId of wanted) {
    if (!onlineSet.has(userId)) continue;
    const a = about(userId);
    const frame: NotifyFrame = {
      type: "notify:message",
      messageId: message.id,
      channelId: a.channel_id,
      communityId: a.community_id,
      kind: a.kind,
      senderId: a.sender_id,
      senderName: a.sender_name,
      channelName: a.channel_name,
      communityName: a.community_name,
      mention: a.mention,
      count: a.count,
      url: a.url,
    };
    deps.events.publish(userTopic(userId), frame);
    frames++;
  }
  const targets = await listTargets(
    db,
    wanted.filter((id) => !onlineSet.has(id)),
    now,
  );
  const outcomes = await Promise.all(targets.map((target) => sendPush(deps, target, { v: 1, type: "message", ...about(target.userId) } satisfies PushPayload, now)));
  return { pushes: outcomes.filter((o) => o === "sent").length, frames };
}
