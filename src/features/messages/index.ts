/**
 * The messaging feature's public face (docs/messages.md):
 *   messageApiRoutes(deps)         the /api/channels/{id}/messages… and /api/messages/… routers
 *   installMessaging(deps, hub)    hub wiring: subscribe check, membership listener, WS frames
 *   startMessageJobs(deps)         TTL expiry, 30-day hard delete, ban purges, to-device
 *                                  expiry, scheduled messages (main.ts); run-once
 *                                  functions for tests in jobs.ts
 */
import type { AppDeps } from "../../deps.ts";
import { AppError } from "../../errors.ts";
import type { Hub } from "../../ws/hub.ts";
import type { MessageSendFrame } from "../../shared/protocol.ts";
import { installRealtime } from "./realtime.ts";
import { installTyping } from "./typing.ts";
import { sendMessage } from "./send.ts";
import { toWire } from "./queries.ts";

export { messageApiRoutes } from "./routes.ts";
export { flushActivity, setActivityInterval, setActivityOptions, stopActivity, ACTIVITY_PER_USER_MAX } from "./realtime.ts";
export { expireMessages, expireToDeviceMessages, hardDeleteMessages, processMessagePurges, startMessageJobs } from "./jobs.ts";
export { deliverScheduledMessages } from "./scheduled.ts";
export { setToDeviceQuotas } from "./to-device.ts";
// Notifications (web push) listen for new messages here (created-hooks.ts).
export { onMessageCreated, type CreatedMessage } from "./created-hooks.ts";

const installed = new WeakMap<object, () => Promise<void>>();
const typingOptions = new WeakMap<object, { intervalMs?: number; autoStopMs?: number }>();

/** Tests: shorter typing intervals (read at each frame). */
export function setTypingOptions(deps: object, opts: { intervalMs?: number; autoStopMs?: number }): void {
  typingOptions.set(deps, opts);
}

/** Idempotent per deps: createApp calls it when a hub is injected. */
/** Returns `stop`: typing timers dropped, activity badges stopped (awaiting a flush in flight). */
export function installMessaging(deps: AppDeps, hub: Hub): () => Promise<void> {
  const existing = installed.get(deps);
  if (existing) return existing;
  const offRealtime = installRealtime(deps, hub);
  const offTyping = installTyping(deps, hub, () => typingOptions.get(deps), deps.timers);
  hub.handleFrame("message:send", async ({ actor, frame }) => {
    const f = frame as MessageSendFrame;
    const { message } = await sendMessage(deps, actor, f.channelId, {
      client_id: f.clientId,
      scheme: f.scheme,
      ciphertext: f.ciphertext,
      sender_device_id: f.senderDeviceId,
      reply_to_id: f.replyToId,
      thread_root_id: f.threadRootId,
      mentions: f.mentions,
      viewer_version: f.viewerVersion,
      file_ids: f.fileIds,
    }).catch((error: unknown) => {
      // The channel of a frame is an id like any other: "not yours" reads as "not found".
      if (error instanceof AppError && error.status === 404) throw new AppError("CHANNEL_NOT_FOUND", 404, "No such channel.");
      throw error;
    });
    return { type: "message:sent", ref: f.ref, message: toWire(message) };
  });
  const off = async () => {
    offTyping();
    installed.delete(deps);
    await offRealtime();
  };
  installed.set(deps, off);
  return off;
}
// Reports (moderation) may name only a message the reporter can read: 404 otherwise.
export { accessMessage } from "./access.ts";
export { checkMayPost } from "./send.ts";
// Chat pages render the last page of history server-side (structure + ciphertext only).
export { listHistory } from "./history.ts";
export { summariseUnread } from "./read-state.ts";
export { HISTORY_PAGE, MessageHistory } from "./views.tsx";
// Incoming webhooks (docs/integrations.md): the one plaintext message path.
export { postWebhookMessage, WEBHOOK_DEVICE_ID } from "./webhook-post.ts";
export type { MessageView } from "./queries.ts";
