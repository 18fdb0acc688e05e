/** Pins: pin_message permission, at most 50 per channel, idempotent; `pin:changed` after COMMIT. */
import type { AppDeps } from "../../deps.ts";
import { ConflictError, ForbiddenError, NotFoundError } from "../../errors.ts";
import { channelTopic } from "../../ws/topics.ts";
import { accessChannel, type ActorRef } from "../permissions/index.ts";
import { dbOf, mutate, nowOf } from "../communities/index.ts";
import { accessMessage, allowsIn } from "./access.ts";
import { viewsOf, type MessageRow, type MessageView } from "./queries.ts";
import { MAX_PINS_PER_CHANNEL } from "./schemas.ts";

export async function setPin(deps: AppDeps, actor: ActorRef, channelId: string, messageId: string, pinned: boolean): Promise<void> {
  const now = nowOf(deps);
  await mutate(deps, async (tx, outbox) => {
    const access = await accessMessage(tx, actor, messageId, now);
    if (access.channel.id !== channelId.toLowerCase()) throw new NotFoundError("No such message.", "MESSAGE_NOT_FOUND");
    if (!allowsIn(access, "pin_message")) throw new ForbiddenError("You cannot pin messages in this channel.", "PERMISSION_DENIED");
    // Lock the channel row: the 50-pin limit holds under concurrent pins.
    await tx.selectFrom("channels").select("id").where("id", "=", access.channel.id).forUpdate().executeTakeFirstOrThrow();
    let changed: boolean;
    if (pinned) {
      if (access.message.deleted_at) throw new ConflictError("This message was deleted.", "MESSAGE_DELETED");
      const count = await tx.selectFrom("channel_pins").select((eb) => eb.fn.countAll<number>().as("n")).where("channel_id", "=", access.channel.id).executeTakeFirstOrThrow();
      const exists = await tx.selectFrom("channel_pins").select("message_id").where("channel_id", "=", access.channel.id).where("message_id", "=", access.message.id).executeTakeFirst();
      if (!exists && Number(count.n) >= MAX_PINS_PER_CHANNEL) throw new ConflictError(`A channel can have at most ${MAX_PINS_PER_CHANNEL} pinned messages.`, "TOO_MANY_PINS");
      const inserted = await tx.insertInto("channel_pins").values({ channel_id: access.channel.id, message_id: access.message.id, pinned_by: actor.userId, pinned_at: now }).onConflict((oc) => oc.doNothing()).returning("message_id").executeTakeFirst();
      changed = inserted !== undefined;
    } else {
      const removed = await tx.deleteFrom("channel_pins").where("channel_id", "=", access.channel.id).where("message_id", "=", access.message.id).returning("message_id").executeTakeFirst();
      changed = removed !== undefined;
    }
    if (changed) outbox.push(channelTopic(access.channel.id), { type: "pin:changed", channelId: access.channel.id, messageId: access.message.id, pinned });
  });
}

/** Pinned messages, newest pin first, and whether the actor may pin/unpin here (for the UI). */
export async function listPins(deps: AppDeps, actor: ActorRef, channelId: string): Promise<{ messages: MessageView[]; can_pin: boolean }> {
  const db = dbOf(deps);
  const now = nowOf(deps);
  const access = await accessChannel(db, actor, channelId, now);
  const { channel } = access;
  const rows = await db
    .selectFrom("channel_pins as p")
    .innerJoin("messages as m", "m.id", "p.message_id")
    .selectAll("m")
    .where("p.channel_id", "=", channel.id)
    .where((eb) => eb.or([eb("m.expires_at", "is", null), eb("m.expires_at", ">", now)]))
    .orderBy("p.pinned_at", "desc")
    .execute();
  return { messages: await viewsOf(db, rows as MessageRow[], actor.userId, now), can_pin: allowsIn(access, "pin_message") };
}
