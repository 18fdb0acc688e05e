/**
 * Topic names: the only addresses events are published to. A socket joins `user:<id>` and
 * `session:<id>` when it authenticates, and `channel:<id>` only through an authorised subscribe
 * or a feature's subscribeUser call. Keeping the spelling here means a typo cannot create a topic
 * nobody listens to.
 */
export const userTopic = (userId: string) => `user:${userId}`;
export const sessionTopic = (sessionId: string) => `session:${sessionId}`;
export const channelTopic = (channelId: string) => `channel:${channelId}`;
/**
 * Every authenticated socket on every instance (joined at connect through the realtime feature's
 * initial topics): instance-wide events such as `announcement:changed`. Carries nothing private.
 */
export const INSTANCE_TOPIC = "instance";

export type TopicKind = "user" | "session" | "channel";

export function parseTopic(topic: string): { kind: TopicKind; id: string } | null {
  const colon = topic.indexOf(":");
  if (colon < 0) return null;
  const kind = topic.slice(0, colon);
  if (kind !== "user" && kind !== "session" && kind !== "channel") return null;
  const id = topic.slice(colon + 1);
  return id ? { kind, id } : null;
}
