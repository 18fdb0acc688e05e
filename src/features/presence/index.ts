/**
 * Presence (issue 6 §2, docs/protocol.md "Presence"): who is online, idle, dnd or offline.
 *
 *  - A user is online while any socket is open (any instance: counts live in the PresenceStore).
 *  - `presence:set {status}` chooses online | idle | dnd | invisible; invisible is reported as
 *    offline to everyone but the user.
 *  - Going offline waits GRACE_MS after the last socket closes, so a reload does not flicker.
 *  - Changes are batched: a changed user is flushed BATCH_MS after the first change, with the
 *    status current at that moment, so each user produces at most one `presence:changed` per
 *    BATCH_MS and quick changes coalesce; an event equal to the last one published is dropped.
 *  - Recipients: `community:<id>` of each community of the user, and `user:<id>` of DM partners.
 *    The user's own sockets get `presence:changed {self: true}` with the real status.
 */
import { sql } from "kysely";
import type { AppDeps } from "../../deps.ts";
import type { PresenceSetFrame, PresenceStatus, VisiblePresence } from "../../shared/protocol.ts";
import type { Hub } from "../../ws/hub.ts";
import { realTimers, type TimerHandle, type Timers } from "../../timers.ts";
import { userTopic } from "../../ws/topics.ts";
import { communityTopic } from "../realtime/index.ts";
import { MemoryPresenceStore, RedisPresenceStore, type PresenceStore } from "./store.ts";

export const GRACE_MS = 10_000;
export const BATCH_MS = 1_000;

export type PresenceOptions = { graceMs?: number; batchMs?: number; store?: PresenceStore };

const optionsByDeps = new WeakMap<AppDeps, PresenceOptions>();
const installed = new WeakMap<AppDeps, Presence>();

/** Tests: shorter grace and batch windows (read at each use), or a given store (before createApp). */
export function setPresenceOptions(deps: AppDeps, options: PresenceOptions): void {
  optionsByDeps.set(deps, { ...optionsByDeps.get(deps), ...options });
}

export function presenceOf(deps: AppDeps): Presence | undefined {
  return installed.get(deps);
}

export function installPresence(deps: AppDeps, hub: Hub): Presence {
  let presence = installed.get(deps);
  if (!presence) {
    const store = optionsByDeps.get(deps)?.store ?? (deps.config.redisUrl ? new RedisPresenceStore(deps.config.redisUrl) : new MemoryPresenceStore());
    presence = new Presence(deps, hub, store, deps.timers ?? realTimers);
    installed.set(deps, presence);
  }
  return presence;
}

export class Presence {
  private readonly local = new Map<string, number>();
  private readonly graceTimers = new Map<string, TimerHandle>();
  private readonly pending = new Set<string>();
  private flushTimer: TimerHandle | undefined;
  private stopped = false;
  /** Serialises store writes per user (a connect and a close racing must land in order). */
  private chain: Promise<unknown> = Promise.resolve();
  /** Flushes under way (settled() waits for them). */
  private readonly flushing = new Set<Promise<void>>();

  constructor(
    private readonly deps: AppDeps,
    private readonly hub: Hub,
    readonly store: PresenceStore,
    private readonly timers: Timers = realTimers,
  ) {
    hub.onSocketsChanged((userId, delta) => this.onSockets(userId, delta));
    hub.onStop(() => this.stop());
    hub.handleFrame("presence:set", async ({ actor, frame }) => {
      const status = (frame as PresenceSetFrame).status;
      await this.store.setStatus(actor.userId, status);
      hub.publish(userTopic(actor.userId), { type: "presence:changed", userId: actor.userId, status, self: true });
      this.schedule(actor.userId);
    });
  }

  private get options() {
    const o = optionsByDeps.get(this.deps);
    return { graceMs: o?.graceMs ?? GRACE_MS, batchMs: o?.batchMs ?? BATCH_MS };
  }

  private onSockets(userId: string, delta: 1 | -1): void {
    if (this.stopped) return;
    const count = Math.max(0, (this.local.get(userId) ?? 0) + delta);
    if (count > 0) this.local.set(userId, count);
    else this.local.delete(userId);
    this.chain = this.chain.then(() => this.store.setLocalCount(userId, count)).catch((error: unknown) => this.deps.log.warn("presence.store_failed", { error: error instanceof Error ? error.message : String(error) }));
    if (delta === 1) {
      this.timers.clear(this.graceTimers.get(userId));
      this.graceTimers.delete(userId);
      this.chain = this.chain.then(() => this.schedule(userId));
    } else if (count === 0) {
      this.timers.clear(this.graceTimers.get(userId));
      const timer = this.timers.set(() => {
        this.graceTimers.delete(userId);
        this.schedule(userId);
      }, this.options.graceMs);
      this.graceTimers.set(userId, timer);
    }
  }

  private schedule(userId: string): void {
    if (this.stopped) return;
    this.pending.add(userId);
    if (this.flushTimer !== undefined) return;
    this.flushTimer = this.timers.set(() => {
      this.flushTimer = undefined;
      const users = [...this.pending];
      this.pending.clear();
      const flush = this.flush(users).catch((error: unknown) => this.deps.log.error("presence.flush_failed", { error: error instanceof Error ? error : String(error) }));
      this.flushing.add(flush);
      void flush.finally(() => this.flushing.delete(flush));
    }, this.options.batchMs);
  }

  /**
   * Resolves once the store writes queued so far and the flushes under way are done (tests: with
   * timers they advance, this is the moment every event those timers caused has been published).
   */
  async settled(): Promise<void> {
    for (;;) {
      const chain = this.chain;
      await chain.catch(() => {});
      await Promise.all(this.flushing);
      if (chain === this.chain && this.flushing.size === 0) return;
    }
  }

  /** What others see of these users now. */
  async visible(userIds: readonly string[]): Promise<Map<string, VisiblePresence>> {
    const [counts, statuses] = await Promise.all([this.store.counts(userIds), this.store.statuses(userIds)]);
    return new Map(userIds.map((id) => [id, visibleOf(counts.get(id) ?? 0, statuses.get(id) ?? "online")]));
  }

  /** The user's own view: the chosen status while connected (invisible included). */
  async own(userId: string): Promise<PresenceStatus | "offline"> {
    const [counts, statuses] = await Promise.all([this.store.counts([userId]), this.store.statuses([userId])]);
    return (counts.get(userId) ?? 0) > 0 ? (statuses.get(userId) ?? "online") : "offline";
  }

  private async flush(userIds: string[]): Promise<void> {
    const visible = await this.visible(userIds);
    for (const userId of userIds) {
      const status = visible.get(userId) ?? "offline";
      const previous = (await this.store.swapPublished(userId, status)) ?? "offline";
      if (previous === status || this.stopped) continue;
      const event = { type: "presence:changed", userId, status };
      for (const topic of await this.recipientTopics(userId)) this.hub.publish(topic, event);
    }
  }

  private async recipientTopics(userId: string): Promise<string[]> {
    const db = this.deps.database.db;
    const communities = await db.selectFrom("community_members").select("community_id").where("user_id", "=", userId).execute();
    const partners = await dmPartners(this.deps, userId);
    return [...communities.map((r) => communityTopic(r.community_id)), ...partners.map(userTopic)];
  }

  stop(): void {
    this.stopped = true;
    this.timers.clear(this.flushTimer);
    for (const timer of this.graceTimers.values()) this.timers.clear(timer);
    this.graceTimers.clear();
    void this.chain.then(() => this.store.close()).catch(() => {});
  }
}

function visibleOf(count: number, status: PresenceStatus): VisiblePresence {
  return count > 0 && status !== "invisible" ? status : "offline";
}

async function dmPartners(deps: AppDeps, userId: string): Promise<string[]> {
  const result = await sql<{ user_id: string }>`
    select distinct other.user_id
      from channel_members mine
      join channels c on c.id = mine.channel_id and c.kind in ('dm', 'group_dm')
      join channel_members other on other.channel_id = c.id and other.user_id <> ${userId}
     where mine.user_id = ${userId}`.execute(deps.database.db);
  return result.rows.map((r) => r.user_id);
}

/** Of these users, those the viewer may see: themselves, co-members of a community, DM partners. */
export async function visibleTo(deps: AppDeps, viewerId: string, userIds: readonly string[]): Promise<string[]> {
  if (userIds.length === 0) return [];
  const ids = [...userIds];
  const result = await sql<{ user_id: string }>`
    select m2.user_id from community_members m1
      join community_members m2 on m2.community_id = m1.community_id
     where m1.user_id = ${viewerId} and m2.user_id in (${sql.join(ids)})
    union
    select other.user_id from channel_members mine
      join channels c on c.id = mine.channel_id and c.kind in ('dm', 'group_dm')
      join channel_members other on other.channel_id = c.id
     where mine.user_id = ${viewerId} and other.user_id in (${sql.join(ids)})`.execute(deps.database.db);
  const allowed = new Set(result.rows.map((r) => r.user_id));
  allowed.add(viewerId);
  return ids.filter((id) => allowed.has(id));
}
