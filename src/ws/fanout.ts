/**
 * Fan-out carries two things between hub instances: events for topics, and control operations on
 * a user's sockets (close for revocations, subscribe/unsubscribe for membership changes). Control
 * operations travel the same way as events because the socket to close may live on another
 * instance than the request that revoked its session.
 *
 * Every message is delivered locally at once (no round trip through Redis for the sockets we
 * hold) and, with Redis, to every other instance; each instance ignores its own messages, so
 * nothing is delivered twice.
 */
import type { SubscriptionRevokedReason } from "../shared/protocol.ts";

export type FanoutMessage =
  /** `data` is the serialised frame, built once by the publisher and sent verbatim. */
  | { kind: "event"; topic: string; data: string }
  | { kind: "close"; userId: string; sessionIds: string[] | "all"; code: number; reason: string }
  | { kind: "subscribe" | "unsubscribe"; userId: string; topics: string[] }
  /** Permissions of the user changed in a way only the features can judge: re-ask them. */
  | { kind: "recheck"; userId: string }
  /** A channel's permissions changed for many: re-ask for every socket following these topics. */
  | { kind: "recheck_topics"; topics: string[] }
  /** These channel topics are gone (deleted channels): every socket leaves them. */
  | { kind: "drop_topics"; topics: string[]; reason: SubscriptionRevokedReason }
  /** The user is at the socket cap: ping the user's sockets and drop the dead ones (hub.ts). */
  | { kind: "probe"; userId: string };

export type Deliver = (message: FanoutMessage) => void;

export interface Fanout {
  readonly kind: "local" | "redis";
  /** Registers the local delivery and starts listening to other instances. */
  start(deliver: Deliver): Promise<void>;
  publish(message: FanoutMessage): void;
  close(): Promise<void>;
}

/**
 * Wire encoding for Redis: `origin \n kind \n rest`. Events keep their already-serialised frame
 * as the tail (`topic \n data`) instead of being JSON-encoded a second time.
 */
export function encodeFanout(origin: string, message: FanoutMessage): string {
  if (message.kind === "event") return `${origin}\nevent\n${message.topic}\n${message.data}`;
  const { kind, ...rest } = message;
  return `${origin}\n${kind}\n${JSON.stringify(rest)}`;
}

export function decodeFanout(wire: string): { origin: string; message: FanoutMessage } | null {
  const a = wire.indexOf("\n");
  const b = a < 0 ? -1 : wire.indexOf("\n", a + 1);
  if (b < 0) return null;
  const origin = wire.slice(0, a);
  const kind = wire.slice(a + 1, b);
  const rest = wire.slice(b + 1);
  try {
    if (kind === "event") {
      const c = rest.indexOf("\n");
      if (c < 0) return null;
      return { origin, message: { kind, topic: rest.slice(0, c), data: rest.slice(c + 1) } };
    }
    if (kind === "close" || kind === "subscribe" || kind === "unsubscribe" || kind === "recheck" || kind === "recheck_topics" || kind === "drop_topics" || kind === "probe") {
      return { origin, message: { kind, ...(JSON.parse(rest) as object) } as FanoutMessage };
    }
  } catch {
    // a malformed message from a foreign publisher on our channel is ignored
  }
  return null;
}
