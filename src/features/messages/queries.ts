/**
 * Row access and the JSON shape of a message (docs/messages.md). Row types stay in this file;
 * the rest of the feature works with MessageView (snake_case HTTP JSON) and its camelCase twin
 * for WebSocket frames.
 */
import { sql, type Selectable } from "kysely";
import type { Executor } from "../../db/tx.ts";
import type { MessagesTable, WebhookPlaintext } from "../../db/schema.ts";
import { encodeCiphertext } from "./schemas.ts";

export type MessageRow = Selectable<MessagesTable>;
export type ReactionCount = { emoji: string; count: number; me: boolean };

export type MessageView = {
  id: string;
  channel_id: string;
  seq: number;
  sender_id: string | null;
  /**
   * The author's name as the server knows it (community nickname, else display name), so a
   * client never needs its member list to name an author (issue 11 §1); null once the account
   * is deleted (sender_id is then null too).
   */
  sender_name: string | null;
  sender_device_id: string;
  client_id: string;
  scheme: string;
  ciphertext: string | null;
  reply_to_id: string | null;
  thread_root_id: string | null;
  mentions: string[];
  /** @everyone / @here, only when the sender was allowed it (docs/messages.md "Unread and mentions"). */
  mention_all: "everyone" | "here" | null;
  reactions: ReactionCount[];
  thread_reply_count: number;
  created_at: string;
  edited_at: string | null;
  deleted_at: string | null;
  expires_at: string | null;
  /**
   * A webhook's message (scheme "wh", docs/integrations.md): its PLAINTEXT content and the name
   * and avatar the webhook gave; null for people's (encrypted) messages and once deleted.
   */
  webhook: WebhookPlaintext | null;
};

export function toView(row: MessageRow, senderName: string | null, reactions: ReactionCount[] = [], threadReplyCount = 0): MessageView {
  return {
    id: row.id,
    channel_id: row.channel_id,
    seq: Number(row.seq),
    sender_id: row.sender_id,
    sender_name: row.scheme === "wh" ? webhookOf(row)?.username ?? "Webhook" : row.sender_id === null ? null : senderName,
    sender_device_id: row.sender_device_id,
    client_id: row.client_id,
    scheme: row.scheme,
    ciphertext: encodeCiphertext(row.ciphertext),
    reply_to_id: row.reply_to_id,
    thread_root_id: row.thread_root_id,
    mentions: row.mentions ?? [],
    mention_all: row.mention_all ?? null,
    reactions,
    thread_reply_count: threadReplyCount,
    created_at: iso(row.created_at)!,
    edited_at: iso(row.edited_at),
    deleted_at: iso(row.deleted_at),
    expires_at: iso(row.expires_at),
    webhook: webhookOf(row),
  };
}

/** The plaintext of a webhook message, as stored (jsonb arrives parsed; a string is parsed here). */
function webhookOf(row: MessageRow): WebhookPlaintext | null {
  if (row.scheme !== "wh" || row.deleted_at || !row.plaintext) return null;
  const p = (typeof row.plaintext === "string" ? JSON.parse(row.plaintext) : row.plaintext) as Partial<WebhookPlaintext>;
  return { content: String(p.content ?? ""), username: p.username ?? null, avatar_url: p.avatar_url ?? null };
}

function iso(d: Date | string | null): string | null {
  return d === null ? null : (d instanceof Date ? d : new Date(d)).toISOString();
}

/** The same message with camelCase keys, for WebSocket frames (docs/protocol.md). */
export function toWire(view: MessageView) {
  return {
    id: view.id,
    channelId: view.channel_id,
    seq: view.seq,
    senderId: view.sender_id,
    senderName: view.sender_name,
    senderDeviceId: view.sender_device_id,
    clientId: view.client_id,
    scheme: view.scheme,
    ciphertext: view.ciphertext,
    replyToId: view.reply_to_id,
    threadRootId: view.thread_root_id,
    mentions: view.mentions,
    mentionAll: view.mention_all,
    reactions: view.reactions.map((r) => ({ emoji: r.emoji, count: r.count })),
    threadReplyCount: view.thread_reply_count,
    createdAt: view.created_at,
    editedAt: view.edited_at,
    deletedAt: view.deleted_at,
    expiresAt: view.expires_at,
    webhook: view.webhook,
  };
}

/** A live message (not expired) by id. Deleted messages are still found (erased placeholder). */
export async function findMessage(db: Executor, id: string, now: Date, opts: { forUpdate?: boolean } = {}): Promise<MessageRow | undefined> {
  let q = db
    .selectFrom("messages")
    .selectAll()
    .where("id", "=", id)
    .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", now)]));
  if (opts.forUpdate) q = q.forUpdate();
  return q.executeTakeFirst();
}

export async function findByClientId(db: Executor, senderId: string, clientId: string): Promise<MessageRow | undefined> {
  return db.selectFrom("messages").selectAll().where("sender_id", "=", senderId).where("client_id", "=", clientId).executeTakeFirst();
}

/** Reaction counts per message (one query), with `me` for the viewer. */
export async function reactionsOf(db: Executor, messageIds: string[], viewerId: string): Promise<Map<string, ReactionCount[]>> {
  const out = new Map<string, ReactionCount[]>();
  if (messageIds.length === 0) return out;
  const rows = await db
    .selectFrom("message_reactions")
    .select(["message_id", "emoji", sql<number>`count(*)::int`.as("count"), sql<boolean>`bool_or(user_id = ${viewerId})`.as("me"), sql<Date>`min(created_at)`.as("first")])
    .where("message_id", "in", messageIds)
    .groupBy(["message_id", "emoji"])
    .orderBy("first")
    .execute();
  for (const r of rows) {
    const list = out.get(r.message_id) ?? [];
    list.push({ emoji: r.emoji, count: Number(r.count), me: r.me === true });
    out.set(r.message_id, list);
  }
  return out;
}

/** Live (not deleted, not expired) thread replies per root (one query). */
export async function threadCountsOf(db: Executor, rootIds: string[], now: Date): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (rootIds.length === 0) return out;
  const rows = await db
    .selectFrom("messages")
    .select(["thread_root_id", sql<number>`count(*)::int`.as("count")])
    .where("thread_root_id", "in", rootIds)
    .where("deleted_at", "is", null)
    .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", now)]))
    .groupBy("thread_root_id")
    .execute();
  for (const r of rows) if (r.thread_root_id) out.set(r.thread_root_id, Number(r.count));
  return out;
}

/**
 * Each message's author name as shown in its channel: the community nickname, else the display
 * name (a member who left, was kicked or banned keeps their display name). One query.
 */
export async function senderNamesOf(db: Executor, messageIds: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (messageIds.length === 0) return out;
  const rows = await db
    .selectFrom("messages as m")
    .innerJoin("users as u", "u.id", "m.sender_id")
    .innerJoin("channels as c", "c.id", "m.channel_id")
    .leftJoin("community_members as cm", (j) => j.onRef("cm.community_id", "=", "c.community_id").onRef("cm.user_id", "=", "m.sender_id"))
    .select(["m.id", "u.display_name", "cm.nickname"])
    .where("m.id", "in", messageIds)
    .execute();
  for (const r of rows) out.set(r.id, r.nickname || r.display_name);
  return out;
}

/** Views of rows with their authors' names, reactions and thread counts: four queries whatever the page size. */
export async function viewsOf(db: Executor, rows: MessageRow[], viewerId: string, now: Date): Promise<MessageView[]> {
  const ids = rows.map((r) => r.id);
  const [reactions, threads, names] = [await reactionsOf(db, ids, viewerId), await threadCountsOf(db, ids, now), await senderNamesOf(db, ids)];
  return rows.map((r) => toView(r, names.get(r.id) ?? null, reactions.get(r.id) ?? [], threads.get(r.id) ?? 0));
}

export async function viewOf(db: Executor, row: MessageRow, viewerId: string, now: Date): Promise<MessageView> {
  return (await viewsOf(db, [row], viewerId, now))[0]!;
}
