/**
 * Access to messages goes through the channel (DESIGN rule 3): a message is visible exactly when
 * its channel is (`accessChannel`), otherwise 404, also for expired messages.
 */
import type { Executor } from "../../db/tx.ts";
import { NotFoundError } from "../../errors.ts";
import { accessChannel, allows, isUuid, type Action, type ActorRef, type ChannelAccess } from "../permissions/index.ts";
import { findMessage, type MessageRow } from "./queries.ts";

export type MessageAccess = ChannelAccess & { message: MessageRow };

export async function accessMessage(db: Executor, actor: ActorRef, messageId: string, now: Date, opts: { forUpdate?: boolean } = {}): Promise<MessageAccess> {
  const message = isUuid(messageId) ? await findMessage(db, messageId.toLowerCase(), now, opts) : undefined;
  if (!message) throw new NotFoundError("No such message.", "MESSAGE_NOT_FOUND");
  try {
    const access = await accessChannel(db, actor, message.channel_id, now);
    return { ...access, message };
  } catch (error) {
    if (error instanceof NotFoundError) throw new NotFoundError("No such message.", "MESSAGE_NOT_FOUND");
    throw error;
  }
}

/**
 * A channel action for a visible channel. DMs and group DMs have no community: their participants
 * may send, react and pin (nobody moderates a DM; each participant deletes only their own).
 */
export function allowsIn(access: ChannelAccess, action: Action): boolean {
  if (!access.community) return action !== "manage_messages";
  return allows(access.community, action);
}

export function isDm(access: ChannelAccess): boolean {
  return access.channel.kind === "dm" || access.channel.kind === "group_dm";
}
