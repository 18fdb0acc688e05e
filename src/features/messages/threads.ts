/**
 * One thread (docs/messages.md "Threads"): its root and its replies in seq order. Threads are one
 * level, so a reply id names the same thread as its root. Channel history also contains the
 * replies (every seq is in it), but they are scattered there: this serves a complete thread.
 */
import type { AppDeps } from "../../deps.ts";
import { dbOf, nowOf } from "../communities/index.ts";
import type { ActorRef } from "../permissions/index.ts";
import { accessMessage } from "./access.ts";
import { findMessage, viewOf, viewsOf, type MessageView } from "./queries.ts";
import { parseLimit, parseSeq } from "./schemas.ts";

export type ThreadQuery = { after_seq?: unknown; limit?: unknown };

export async function listThread(deps: AppDeps, actor: ActorRef, messageId: string, query: ThreadQuery): Promise<{ root: MessageView; replies: MessageView[]; has_more: boolean }> {
  const after = parseSeq(query.after_seq, "after_seq") ?? 0;
  const limit = parseLimit(query.limit);
  const db = dbOf(deps);
  const now = nowOf(deps);
  const access = await accessMessage(db, actor, messageId, now);
  // A reply names its thread; its root is in the same channel (checked at send), so it is visible.
  const rootId = access.message.thread_root_id;
  const root = (rootId ? await findMessage(db, rootId, now) : undefined) ?? access.message;
  const rows = await db
    .selectFrom("messages")
    .selectAll()
    .where("channel_id", "=", root.channel_id)
    .where("thread_root_id", "=", root.id)
    .where("seq", ">", after)
    .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", now)]))
    .orderBy("seq", "asc")
    .limit(limit + 1)
    .execute();
  const has_more = rows.length > limit;
  const [rootView, replies] = await Promise.all([viewOf(db, root, actor.userId, now), viewsOf(db, rows.slice(0, limit), actor.userId, now)]);
  return { root: rootView, replies, has_more };
}
