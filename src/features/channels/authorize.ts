/**
 * The one call the messaging, reactions and voice features make before acting in a channel:
 * `authorizeChannelAction(db, actor, channelId, action, now)`. It returns what they need (TTL, slow
 * mode and whether the actor is exempt) or throws: 404 when the channel is not theirs to see, 403
 * with a specific code (TIMED_OUT, ARCHIVED, READ_ONLY, BLOCKED, PERMISSION_DENIED) otherwise.
 */
import { ForbiddenError } from "../../errors.ts";
import type { Executor } from "../../db/tx.ts";
import { accessChannel, can, type ActorRef, type ChannelAccess, type ChannelRecord } from "../permissions/index.ts";
import { isBlockedEitherWay } from "../dms/index.ts";

export type ChannelAction = "view_channel" | "send_message" | "react" | "join_voice" | "pin_message" | "manage_messages" | "mention_everyone";

export type ChannelDecision = {
  channel: ChannelRecord;
  /** Seconds between messages for this actor (0 when exempt or off). */
  slowModeSeconds: number;
  messageTtlSeconds: number;
};

export async function authorizeChannelAction(db: Executor, actor: ActorRef, channelId: string, action: ChannelAction, now: Date): Promise<ChannelDecision> {
  return decideChannelAction(db, actor, await accessChannel(db, actor, channelId, now), action);
}

/** The same decision on a channel the caller already fetched with accessChannel (one query less). */
export async function decideChannelAction(db: Executor, actor: ActorRef, access: ChannelAccess, action: ChannelAction): Promise<ChannelDecision> {
  const channel = access.channel;
  if (!access.community) {
    // DMs: participants only (accessChannel), and nothing is sent across a block.
    if ((action === "send_message" || action === "react" || action === "join_voice") && channel.kind === "dm") {
      const other = await db.selectFrom("channel_members").select("user_id").where("channel_id", "=", channel.id).where("user_id", "!=", actor.userId).executeTakeFirst();
      if (other && (await isBlockedEitherWay(db, actor.userId, other.user_id))) throw new ForbiddenError("You cannot message this user: one of you has blocked the other.", "BLOCKED");
    }
    return { channel, slowModeSeconds: 0, messageTtlSeconds: channel.messageTtlSeconds };
  }
  const c = access.community;
  if (!can(c.subject, action, c.ctx)) {
    const until = c.subject.member?.timedOutUntil;
    if (until && action !== "view_channel" && action !== "manage_messages" && action !== "pin_message") {
      throw new ForbiddenError(`You are timed out until ${until.toISOString()}.`, "TIMED_OUT");
    }
    if (channel.archived) throw new ForbiddenError("This channel is archived.", "ARCHIVED");
    if (action === "send_message" && (channel.readOnly || channel.kind === "announcement")) throw new ForbiddenError("Only moderators can post in this channel.", "READ_ONLY");
    throw new ForbiddenError("You do not have permission to do that here.", "PERMISSION_DENIED");
  }
  const exempt = can(c.subject, "manage_messages", c.ctx);
  return { channel, slowModeSeconds: exempt ? 0 : channel.slowModeSeconds, messageTtlSeconds: channel.messageTtlSeconds };
}
