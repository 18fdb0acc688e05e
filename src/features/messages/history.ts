/**
 * History by sequence: newest first (before_seq, or the latest page), or oldest first after a
 * seq (catch-up after a reconnect). Deleted messages stay in the page as erased placeholders so a
 * client sees every seq; expired ones are gone. Three queries per page whatever its size.
 */
import type { AppDeps } from "../../deps.ts";
import { InvalidInputError, NotFoundError } from "../../errors.ts";
import { accessChannel, type ActorRef } from "../permissions/index.ts";
import { dbOf, nowOf } from "../communities/index.ts";
import { accessMessage } from "./access.ts";
import { viewOf, viewsOf, type MessageView } from "./queries.ts";
import { parseLimit, parseSeq } from "./schemas.ts";

export type HistoryQuery = { before_seq?: unknown; after_seq?: unknown; limit?: unknown };

export async function listHistory(deps: AppDeps, actor: ActorRef, channelId: string, query: HistoryQuery): Promise<{ messages: MessageView[]; has_more: boolean }> {
  const before = parseSeq(query.before_seq, "before_seq");
  const after = parseSeq(query.after_seq, "after_seq");
  if (before !== null && after !== null) throw new InvalidInputError("Use before_seq or after_seq, not both.", { before_seq: "Use one." }, "INVALID_CURSOR");
  const limit = parseLimit(query.limit);
  const db = dbOf(deps);
  const now = nowOf(deps);
  const { channel } = await accessChannel(db, actor, channelId, now);
  let q = db
    .selectFrom("messages")
    .selectAll()
    .where("channel_id", "=", channel.id)
    .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", now)]))
    .limit(limit + 1);
  if (after !== null) q = q.where("seq", ">", after).orderBy("seq", "asc");
  else {
    if (before !== null) q = q.where("seq", "<", before);
    q = q.orderBy("seq", "desc");
  }
  const rows = await q.execute();
  const has_more = rows.length > limit;
  return { messages: await viewsOf(db, rows.slice(0, limit), actor.userId, now), has_more };
}

export async function getMessage(deps: AppDeps, actor: ActorRef, channelId: string, messageId: string): Promise<MessageView> {
  const db = dbOf(deps);
  const now = nowOf(deps);
  const access = await accessMessage(db, actor, messageId, now);
  if (access.channel.id !== channelId.toLowerCase()) throw new NotFoundError("No such message.", "MESSAGE_NOT_FOUND");
  return viewOf(db, access.message, actor.userId, now);
}
