/**
 * Key-request entitlement (issue 11 §3, docs/crypto.md "Key requests"): before a device forwards
 * the key of a message to another device, it asks the server whether that device's user may read
 * the message. The server answers from the records it already has; it never sees a key.
 *
 *   not a reader of the channel now (left, kicked, banned, lost access)  → NOT_A_VIEWER, always
 *   DM / group DM, or a channel with history 'joined'                    → only items created at or
 *                                                                          after the user became a
 *                                                                          reader (findViewerSince),
 *                                                                          else BEFORE_JOINED
 *   channel with history 'shared'                                        → every live item
 *   no such live item in this channel (other channel, deleted, expired)  → NOT_FOUND
 *
 * Items are message ids, or `poll:<id>` for a poll's question (polls-ui archives it under that
 * name). Only a reader of the channel may ask (404 otherwise, as for any channel route).
 */
import type { AppDeps } from "../../deps.ts";
import { InvalidInputError, NotFoundError } from "../../errors.ts";
import { accessChannel, isUuid, type ActorRef } from "../permissions/index.ts";
import { findViewerSince } from "../channels/index.ts";
import { dbOf, nowOf } from "../communities/index.ts";

export const MAX_ENTITLEMENT_ITEMS = 200;

export type RefusalReason = "NOT_A_VIEWER" | "BEFORE_JOINED" | "NOT_FOUND";
export type Entitled = { id: string; seq: number | null; client_id: string | null; sender_device_id: string | null };
export type Entitlements = { user_id: string; entitled: Entitled[]; refused: { id: string; reason: RefusalReason }[] };

const POLL = "poll:";

/** `ids`: comma-separated message ids and `poll:<id>` names, at most MAX_ENTITLEMENT_ITEMS. */
export function parseItemIds(raw: string): string[] {
  const ids = [...new Set(raw.split(",").map((s) => s.trim().toLowerCase()).filter(Boolean))];
  const bad = ids.find((id) => !isUuid(id.startsWith(POLL) ? id.slice(POLL.length) : id));
  if (ids.length === 0 || ids.length > MAX_ENTITLEMENT_ITEMS || bad !== undefined) {
    throw new InvalidInputError(`ids must list 1–${MAX_ENTITLEMENT_ITEMS} message ids or poll:<id> names, comma-separated.`, { ids: "Invalid." }, "INVALID_IDS");
  }
  return ids;
}

export async function checkKeyEntitlements(deps: AppDeps, actor: ActorRef, channelId: string, query: { user_id: string; ids: string }): Promise<Entitlements> {
  const db = dbOf(deps);
  const now = nowOf(deps);
  const { channel } = await accessChannel(db, actor, channelId, now);
  if (!isUuid(query.user_id)) throw new InvalidInputError("user_id must be a user id.", { user_id: "Invalid." }, "INVALID_USER_ID");
  const userId = query.user_id.toLowerCase();
  const ids = parseItemIds(query.ids);
  const messageIds = ids.filter((id) => !id.startsWith(POLL));
  const pollIds = ids.filter((id) => id.startsWith(POLL)).map((id) => id.slice(POLL.length));
  const [target, messages, polls] = await Promise.all([
    db.selectFrom("users").select(["id", "is_owner"]).where("id", "=", userId).executeTakeFirst(),
    messageIds.length
      ? db
          .selectFrom("messages")
          .select(["id", "seq", "client_id", "sender_device_id", "created_at"])
          .where("channel_id", "=", channel.id)
          .where("id", "in", messageIds)
          .where("deleted_at", "is", null)
          .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", now)]))
          .execute()
      : Promise.resolve([]),
    pollIds.length ? db.selectFrom("polls").select(["id", "created_at"]).where("channel_id", "=", channel.id).where("id", "in", pollIds).execute() : Promise.resolve([]),
  ]);
  // The same model as every other check: may this user view the channel now?
  let viewer = false;
  if (target) {
    try {
      await accessChannel(db, { userId, isOwner: target.is_owner }, channel.id, now);
      viewer = true;
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
  }
  const shared = channel.communityId !== null && channel.historyVisibility === "shared";
  const since = viewer && !shared ? await findViewerSince(db, channel, userId) : null;
  const found = new Map<string, { createdAt: Date; entitled: Entitled }>();
  for (const m of messages) found.set(m.id, { createdAt: new Date(m.created_at), entitled: { id: m.id, seq: Number(m.seq), client_id: m.client_id, sender_device_id: m.sender_device_id } });
  for (const p of polls) found.set(POLL + p.id, { createdAt: new Date(p.created_at), entitled: { id: POLL + p.id, seq: null, client_id: null, sender_device_id: null } });
  const out: Entitlements = { user_id: userId, entitled: [], refused: [] };
  for (const id of ids) {
    const item = found.get(id);
    if (!viewer) out.refused.push({ id, reason: "NOT_A_VIEWER" });
    else if (!item) out.refused.push({ id, reason: "NOT_FOUND" });
    else if (!shared && (since === null || item.createdAt < since)) out.refused.push({ id, reason: "BEFORE_JOINED" });
    else out.entitled.push(item.entitled);
  }
  return out;
}
