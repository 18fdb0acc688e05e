/**
 * Re-checks of open sockets' subscriptions when permissions change (the hub's local half of
 * recheck / recheck_topics / drop_topics fan-out messages). A socket that loses channel topics is
 * told why with one `subscription:revoked {reason, channelIds, until?}` frame per reason.
 */
import type { SubscriptionRevokedReason } from "../shared/protocol.ts";
import type { HubActor, HubSocket, SubscribeVerdict } from "./hub.ts";
import type { SocketRegistry } from "./registry.ts";
import { sessionTopic, userTopic } from "./topics.ts";

export type RevalidateHost = {
  readonly registry: SocketRegistry<HubSocket>;
  /** The hook's verdict, never rejecting (a failing hook refuses). */
  verdictOf(actor: HubActor, topic: string): Promise<SubscribeVerdict>;
  /** The non-channel topics (community …) the user should hold now. */
  topicsFor(actor: HubActor): Promise<string[]>;
};

const channelIdOf = (topic: string) => topic.slice(topic.indexOf(":") + 1);

type Revoked = { topic: string; verdict: SubscribeVerdict };

/** One user's sockets: join the topics they gained, leave those they lost. */
export async function recheckUserSockets(host: RevalidateHost, userId: string): Promise<void> {
  const first = host.registry.socketsOf(userId)[0];
  if (!first) return;
  const wanted = new Set(await host.topicsFor(first.actor));
  const channelVerdicts = new Map<string, Promise<SubscribeVerdict>>();
  const verdictFor = (topic: string) => {
    let verdict = channelVerdicts.get(topic);
    if (!verdict) channelVerdicts.set(topic, (verdict = host.verdictOf(first.actor, topic)));
    return verdict;
  };
  for (const socket of host.registry.socketsOf(userId)) {
    const revoked: Revoked[] = [];
    for (const topic of socket.topics()) {
      if (topic === userTopic(userId) || topic === sessionTopic(socket.sessionId) || wanted.has(topic)) continue;
      if (!topic.startsWith("channel:")) {
        socket.unsubscribe(topic);
        continue;
      }
      const verdict = await verdictFor(topic);
      if (verdict !== true) revoked.push({ topic, verdict });
    }
    revoke(socket, revoked);
    for (const topic of wanted) socket.subscribe(topic);
  }
}

/** Every socket following one of these topics: each user is asked once per topic. */
export async function recheckTopicSockets(host: RevalidateHost, topics: readonly string[]): Promise<void> {
  const concerned = new Set(topics);
  const verdicts = new Map<string, Promise<SubscribeVerdict>>();
  const work: Promise<void>[] = [];
  for (const socket of host.registry.all()) {
    const followed = socket.topics().filter((t) => concerned.has(t));
    if (followed.length === 0) continue;
    work.push(
      (async () => {
        const revoked: Revoked[] = [];
        for (const topic of followed) {
          const key = `${socket.userId}\n${topic}`;
          let verdict = verdicts.get(key);
          if (!verdict) verdicts.set(key, (verdict = host.verdictOf(socket.actor, topic)));
          const answer = await verdict;
          if (answer !== true) revoked.push({ topic, verdict: answer });
        }
        revoke(socket, revoked);
      })(),
    );
  }
  await Promise.all(work);
}

/** Every socket leaves these topics at once (deleted channels). */
export function dropTopicSockets(registry: SocketRegistry<HubSocket>, topics: readonly string[], reason: SubscriptionRevokedReason): void {
  const dropped = new Set(topics);
  for (const socket of registry.all()) {
    const lost = socket.topics().filter((t) => dropped.has(t));
    for (const topic of lost) socket.unsubscribe(topic);
    if (lost.length) socket.send({ type: "subscription:revoked", reason, channelIds: lost.map(channelIdOf) });
  }
}

/** Unsubscribes the socket from refused channel topics and tells it why, one frame per reason. */
function revoke(socket: HubSocket, revoked: Revoked[]): void {
  if (revoked.length === 0) return;
  const byReason = new Map<string, { reason: SubscriptionRevokedReason; until?: string; communityId?: string; channelIds: string[] }>();
  for (const { topic, verdict } of revoked) {
    socket.unsubscribe(topic);
    const refusal = typeof verdict === "object" ? verdict : undefined;
    const reason = refusal?.reason ?? "ACCESS_CHANGED";
    const key = `${reason}|${refusal?.until ?? ""}|${refusal?.communityId ?? ""}`;
    let entry = byReason.get(key);
    if (!entry) byReason.set(key, (entry = { reason, ...(refusal?.until ? { until: refusal.until } : {}), ...(refusal?.communityId ? { communityId: refusal.communityId } : {}), channelIds: [] }));
    entry.channelIds.push(channelIdOf(topic));
  }
  for (const entry of byReason.values()) socket.send({ type: "subscription:revoked", ...entry });
}
