/**
 * Edits (sender only, within 15 minutes; the previous ciphertext is kept in message_edits) and
 * deletes (sender, or manage_messages in the channel; content erased at once, the row hard-deleted
 * after 30 days by the job). Each is one transaction; the event follows COMMIT.
 */
import type { AppDeps } from "../../deps.ts";
import { ConflictError, ForbiddenError } from "../../errors.ts";
import { channelTopic } from "../../ws/topics.ts";
import type { ActorRef } from "../permissions/index.ts";
import { mutate, nowOf } from "../communities/index.ts";
import { accessMessage, allowsIn } from "./access.ts";
import { viewOf, toWire, type MessageView } from "./queries.ts";
import { decodeCiphertext, EDIT_WINDOW_MS, parseViewerVersion, requireDeviceId, viewersChanged } from "./schemas.ts";
import { checkMaySend, unknownDevice } from "./send.ts";
import { isDeviceRegistered } from "../keys/index.ts";
import { releaseFilesOf } from "../files/index.ts";

export async function editMessage(deps: AppDeps, actor: ActorRef, messageId: string, input: { ciphertext?: unknown; viewer_version?: unknown; sender_device_id?: unknown }): Promise<MessageView> {
  const ciphertext = decodeCiphertext(input.ciphertext);
  const viewerVersion = parseViewerVersion(input.viewer_version);
  // The device that encrypted the new version (readers of a Sender Key message decrypt with that
  // device's key). Absent: the device of the version it replaces (older clients).
  const deviceId = input.sender_device_id === undefined ? null : requireDeviceId(input.sender_device_id);
  const now = nowOf(deps);
  return mutate(deps, async (tx, outbox) => {
    const access = await accessMessage(tx, actor, messageId, now, { forUpdate: true });
    const m = access.message;
    if (m.sender_id !== actor.userId) throw new ForbiddenError("You can only edit your own messages.", "NOT_SENDER");
    if (m.deleted_at) throw new ConflictError("This message was deleted.", "MESSAGE_DELETED");
    if (now.getTime() - new Date(m.created_at).getTime() > EDIT_WINDOW_MS) throw new ForbiddenError("Messages can be edited for 15 minutes after sending.", "EDIT_WINDOW_PASSED");
    // The same rules as sending: a timed-out member or an archived channel takes no edits.
    await checkMaySend(tx, access, actor, m.scheme as "sk" | "pw");
    if (viewerVersion !== null) {
      // As for a send (send.ts): the new ciphertext must be for the current viewer set. FOR SHARE
      // waits for a viewer change in flight (it holds the row) and keeps one from starting.
      const channel = await tx.selectFrom("channels").select("viewer_version").where("id", "=", m.channel_id).forShare().executeTakeFirstOrThrow();
      if (viewerVersion < Number(channel.viewer_version)) throw viewersChanged();
    }
    if (deviceId !== null && !(await isDeviceRegistered(tx, actor.userId, deviceId))) throw unknownDevice();
    await tx.insertInto("message_edits").values({ id: Bun.randomUUIDv7(), message_id: m.id, ciphertext: m.ciphertext!, sender_device_id: m.sender_device_id, created_at: m.edited_at ?? m.created_at, replaced_at: now }).execute();
    const row = await tx.updateTable("messages").set({ ciphertext, edited_at: now, ...(deviceId === null ? {} : { sender_device_id: deviceId }) }).where("id", "=", m.id).returningAll().executeTakeFirstOrThrow();
    const message = await viewOf(tx, row, actor.userId, now);
    outbox.push(channelTopic(m.channel_id), { type: "message:edited", message: toWire(message) });
    return message;
  });
}

export async function deleteMessage(deps: AppDeps, actor: ActorRef, messageId: string): Promise<void> {
  const now = nowOf(deps);
  await mutate(deps, async (tx, outbox) => {
    const access = await accessMessage(tx, actor, messageId, now, { forUpdate: true });
    const m = access.message;
    if (m.sender_id !== actor.userId && !allowsIn(access, "manage_messages")) throw new ForbiddenError("You can only delete your own messages.", "PERMISSION_DENIED");
    if (m.deleted_at) return; // idempotent
    await eraseMessages(tx, [m.id], now);
    outbox.push(channelTopic(m.channel_id), { type: "message:deleted", channelId: m.channel_id, messageId: m.id, seq: Number(m.seq) });
  });
}

/** Erases content, previous versions, reactions and pins of these messages (rows stay 30 days). */
export async function eraseMessages(tx: Parameters<Parameters<typeof mutate>[1]>[0], ids: string[], now: Date): Promise<void> {
  if (ids.length === 0) return;
  await tx.updateTable("messages").set({ ciphertext: null, plaintext: null, deleted_at: now, mentions: [], mention_all: null, here_ids: [] }).where("id", "in", ids).where("deleted_at", "is", null).execute();
  await tx.deleteFrom("message_edits").where("message_id", "in", ids).execute();
  await tx.deleteFrom("message_reactions").where("message_id", "in", ids).execute();
  await tx.deleteFrom("channel_pins").where("message_id", "in", ids).execute();
  await releaseFilesOf(tx, ids, now);
}
