/**
 * Reactions: react permission in the channel (so not while timed out or archived), never across
 * a block in a 1:1 DM (adding one is `403 BLOCKED`, as sending; taking one's own back is fine), at most 20
 * distinct emoji per message (a new emoji beyond that is refused; joining an existing one is
 * fine), emoji 1–32 characters; `:shortcode:` only for a custom emoji of the channel's community. Idempotent PUT/DELETE; `reaction:changed` after COMMIT.
 */
import type { AppDeps } from "../../deps.ts";
import { ConflictError, ForbiddenError } from "../../errors.ts";
import { isDmPartnerBlocked } from "../dms/index.ts";
import { channelTopic } from "../../ws/topics.ts";
import type { ActorRef } from "../permissions/index.ts";
import { mutate, nowOf } from "../communities/index.ts";
import { accessMessage, allowsIn } from "./access.ts";
import { reactionsOf, type ReactionCount } from "./queries.ts";
import { requireKnownCustomReaction } from "../images/index.ts";
import { MAX_DISTINCT_REACTIONS, requireEmoji } from "./schemas.ts";

export async function setReaction(deps: AppDeps, actor: ActorRef, messageId: string, rawEmoji: string, on: boolean): Promise<ReactionCount[]> {
  const emoji = requireEmoji(rawEmoji);
  const now = nowOf(deps);
  return mutate(deps, async (tx, outbox) => {
    // Locking the message serialises the distinct-emoji count of concurrent reactions.
    const access = await accessMessage(tx, actor, messageId, now, { forUpdate: true });
    const m = access.message;
    if (m.deleted_at) throw new ConflictError("This message was deleted.", "MESSAGE_DELETED");
    if (!allowsIn(access, "react")) {
      const until = access.community?.subject.member?.timedOutUntil;
      if (until && until.getTime() > now.getTime()) throw new ForbiddenError("You are timed out in this community.", "TIMED_OUT");
      throw new ForbiddenError("You cannot react in this channel.", "PERMISSION_DENIED");
    }
    if (on && access.channel.kind === "dm" && (await isDmPartnerBlocked(tx, access.channel.id, actor.userId))) throw new ForbiddenError("You cannot react to this person's messages.", "BLOCKED");
    // `:shortcode:` names a custom emoji of the channel's community (issue 17 §4); taking one back needs no check.
    if (on) await requireKnownCustomReaction(tx, access.channel.communityId ?? null, emoji);
    let changed = false;
    if (on) {
      const distinct = await tx.selectFrom("message_reactions").select("emoji").distinct().where("message_id", "=", m.id).execute();
      if (!distinct.some((r) => r.emoji === emoji) && distinct.length >= MAX_DISTINCT_REACTIONS) {
        throw new ConflictError(`A message can have at most ${MAX_DISTINCT_REACTIONS} different reactions.`, "TOO_MANY_REACTIONS");
      }
      const inserted = await tx.insertInto("message_reactions").values({ message_id: m.id, user_id: actor.userId, emoji, created_at: now }).onConflict((oc) => oc.doNothing()).returning("emoji").executeTakeFirst();
      changed = inserted !== undefined;
    } else {
      const removed = await tx.deleteFrom("message_reactions").where("message_id", "=", m.id).where("user_id", "=", actor.userId).where("emoji", "=", emoji).returning("emoji").executeTakeFirst();
      changed = removed !== undefined;
    }
    const reactions = (await reactionsOf(tx, [m.id], actor.userId)).get(m.id) ?? [];
    if (changed) {
      outbox.push(channelTopic(m.channel_id), {
        type: "reaction:changed",
        channelId: m.channel_id,
        messageId: m.id,
        reactions: reactions.map((r) => ({ emoji: r.emoji, count: r.count })),
        // Who changed what: lets each client keep its own `me` flags.
        userId: actor.userId,
        emoji,
        added: on,
      });
    }
    return reactions;
  });
}
