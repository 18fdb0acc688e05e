/**
 * Listeners for "a message was created" (after COMMIT, on the instance that handled the send):
 * notifications (web push) subscribe here rather than being called by the send path, so this
 * feature does not depend on them. A listener must not block or throw into the send: it is
 * called synchronously and does its work in the background.
 */
export type CreatedMessage = Readonly<{
  id: string;
  channelId: string;
  senderId: string;
  senderName: string | null;
  /** The user ids the sender mentioned (members only; docs/messages.md). */
  mentions: readonly string[];
  /** @everyone / @here, only when the sender was allowed it. */
  mentionAll: "everyone" | "here" | null;
  /** For @here: who was online when it was sent. */
  hereIds: readonly string[];
  seq: number;
}>;

type Listener = (message: CreatedMessage) => void;
const listeners = new WeakMap<object, Set<Listener>>();

/** Returns the function that removes the listener. */
export function onMessageCreated(deps: object, listener: Listener): () => void {
  let set = listeners.get(deps);
  if (!set) listeners.set(deps, (set = new Set()));
  set.add(listener);
  return () => set.delete(listener);
}

export function emitMessageCreated(deps: object, message: CreatedMessage): void {
  for (const listener of listeners.get(deps) ?? []) {
    try {
      listener(message);
    } catch {
      // a listener's failure is its own (it logs); the message is sent
    }
  }
}
