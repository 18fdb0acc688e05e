/**
 * Typing indicators (ephemeral, never stored), taken over from the hub's placeholder relay:
 *  - per user and channel (all of the user's sockets together), at most one `typing:started`
 *    every TYPING_INTERVAL_MS; repeats within it only extend the auto-stop;
 *  - `typing:stopped` is published on `typing:stop`, or automatically TYPING_AUTO_STOP_MS after
 *    the last start (a closed tab never leaves "is typing…" behind);
 *  - only by someone who may post there right now: typing is a message in the making, so it
 *    follows the send rules (send.ts checkMayPost: TIMED_OUT, CHANNEL_READ_ONLY, CHANNEL_ARCHIVED,
 *    PERMISSION_DENIED, BLOCKED in a DM), checked at every published start; a channel the user
 *    cannot see is `CHANNEL_NOT_FOUND`, as for subscribe. A start refused after an accepted one
 *    (timed out meanwhile) publishes `typing:stopped`, so nobody keeps seeing the indicator.
 * State is per instance; a start on A and a stop on B both reach everyone through the fan-out.
 */
import type { AppDeps } from "../../deps.ts";
import { AppError, NotFoundError } from "../../errors.ts";
import type { Hub, HubActor } from "../../ws/hub.ts";
import { channelTopic } from "../../ws/topics.ts";
import { dbOf, nowOf } from "../communities/index.ts";
import { accessChannel } from "../permissions/index.ts";
import { checkMayPost } from "./send.ts";
import { realTimers, type TimerHandle, type Timers } from "../../timers.ts";

export const TYPING_INTERVAL_MS = 3_000;
export const TYPING_AUTO_STOP_MS = 10_000;

type Entry = { lastStartMs: number; timer: TimerHandle };

export type TypingOptions = { intervalMs?: number; autoStopMs?: number };

/**
 * `options` is read at each frame, so tests may shorten the intervals after the app is built;
 * `timers` run the auto-stop (tests: a clock they advance).
 */
export function installTyping(deps: AppDeps, hub: Hub, options: () => TypingOptions | undefined = () => undefined, timers: Timers = realTimers): () => void {
  const intervalOf = () => options()?.intervalMs ?? TYPING_INTERVAL_MS;
  const autoStopOf = () => options()?.autoStopMs ?? TYPING_AUTO_STOP_MS;
  const typing = new Map<string, Entry>();

  const stop = (userId: string, channelId: string, publish: boolean) => {
    const key = `${userId}:${channelId}`;
    const entry = typing.get(key);
    if (!entry) return;
    timers.clear(entry.timer);
    typing.delete(key);
    if (publish) hub.publish(channelTopic(channelId), { type: "typing:stopped", channelId, userId });
  };

  const authorize = async (actor: HubActor, channelId: string) => {
    const db = dbOf(deps);
    const access = await accessChannel(db, { userId: actor.userId, isOwner: actor.isOwner }, channelId, nowOf(deps)).catch((error: unknown) => {
      if (error instanceof NotFoundError) throw new AppError("CHANNEL_NOT_FOUND", 404, "No such channel.");
      throw error;
    });
    await checkMayPost(db, access, actor);
  };

  hub.handleFrame("typing:start", async ({ actor, frame }) => {
    const channelId = (frame as { channelId: string }).channelId.toLowerCase();
    const key = `${actor.userId}:${channelId}`;
    const now = hub.now();
    const entry = typing.get(key);
    if (entry && now - entry.lastStartMs < intervalOf()) {
      // Coalesced: keep the indicator alive without another event.
      timers.clear(entry.timer);
      entry.timer = autoStop(actor.userId, channelId);
      return;
    }
    // Claim the slot before the (async) permission check, so a burst of starts publishes once.
    if (entry) timers.clear(entry.timer);
    const claimed: Entry = { lastStartMs: now, timer: autoStop(actor.userId, channelId) };
    typing.set(key, claimed);
    try {
      await authorize(actor, channelId);
    } catch (error) {
      timers.clear(claimed.timer);
      if (typing.get(key) === claimed) {
        typing.delete(key);
        // The previous start was shown to the channel: take the indicator down now.
        if (entry) hub.publish(channelTopic(channelId), { type: "typing:stopped", channelId, userId: actor.userId });
      }
      throw error;
    }
    if (typing.get(key) !== claimed) return; // stopped meanwhile
    hub.publish(channelTopic(channelId), { type: "typing:started", channelId, userId: actor.userId });
  });

  hub.handleFrame("typing:stop", ({ actor, frame }) => {
    // Only a user who is typing (so was authorised) produces a stop event; others are ignored.
    stop(actor.userId, (frame as { channelId: string }).channelId.toLowerCase(), true);
  });

  function autoStop(userId: string, channelId: string): TimerHandle {
    return timers.set(() => stop(userId, channelId, true), autoStopOf());
  }

  return () => {
    for (const entry of typing.values()) timers.clear(entry.timer);
    typing.clear();
  };
}
