/**
 * The hub: the realtime backbone features publish to after COMMIT. It owns the authenticated
 * sockets of this process (registry), delivers events through Bun topics, and applies control
 * operations (close a session's sockets, subscribe/unsubscribe a user) on every instance through
 * the fan-out. It never queries business tables: authorisation of channel subscriptions is an
 * injected hook, and session liveness is asked of the auth feature.
 *
 *   hub.publish(topic, event)                       EventPublisher: deps.events
 *   hub.closeUserSockets(userId, sessionIds|"all", reason)
 *   hub.subscribeUser(userId, topics) / hub.unsubscribeUser(userId, topics)
 *   hub.recheckUser(userId)                         re-ask the hooks below for the user's open sockets
 *   hub.recheckTopics(topics)                       re-ask them for every socket following these channels
 *   hub.dropTopics(topics, reason)                  every socket leaves these channels (deleted)
 *   hub.setAuthorizeSubscribe((actor, topic) => verdict)   channel:<id> subscriptions (true, false
 *                                                   = CHANNEL_NOT_FOUND, or a refusal with its code)
 *   hub.setInitialTopics((actor) => Promise<string[]>)  topics joined at connect (community:<id> …)
 *   hub.handleFrame(type, handler)                  a feature's client frames
 *   hub.onSocketsChanged((userId, delta, socket) => void)   a socket of the user was admitted (+1) or released (-1) here
 *
 * The per-user cap counts only live sockets: a peer that vanished without a close frame (network
 * gone, laptop asleep) still looks open until Bun's idle timeout (60 s). So a user who reaches the
 * cap is not refused at once: the hub pings that user's sockets (on every instance, through the
 * fan-out), terminates those that stay silent for `probeTimeoutMs`, and admits the newcomer if a
 * slot came free. Live sockets answer the ping at once (browsers do it by themselves), so a user
 * with eight real tabs is still refused.
 *
 * Sockets that lose a channel through a re-check or a drop get `subscription:revoked {reason,
 * channelIds, until?}` (protocol.ts), so the client knows why the channel went quiet.
 */
import type { Server } from "bun";
import type { EventPublisher } from "../db/tx.ts";
import type { Logger } from "../log.ts";
import { CLIENT_FRAME_TYPES, CLOSE, EVENT_TYPE, FRAME_RATE, MAX_SOCKETS_PER_USER, type SubscriptionRevokedReason } from "../shared/protocol.ts";
import type { Fanout, FanoutMessage } from "./fanout.ts";
import { LocalFanout } from "./fanout-local.ts";
import { SocketRegistry } from "./registry.ts";
import { LivenessProbes } from "./probes.ts";
import { SocketCap } from "./socket-cap.ts";
import { dropTopicSockets, recheckTopicSockets, recheckUserSockets } from "./revalidate.ts";
import { noteSocketAdmitted, noteSocketReleased, observeFanout } from "../metrics/registry.ts";
import { RevocationMemory } from "./revocations.ts";
import { MembershipGenerations } from "./generations.ts";
import { sweepSessionSockets } from "./session-sweep.ts";

export type { AuthorizeSubscribe, FrameHandler, HubActor, HubOptions, HubSocket, InitialTopics, SocketsListener, SubscribeRefusal, SubscribeVerdict } from "./hub-types.ts";
import type { AuthorizeSubscribe, FrameHandler, HubActor, HubOptions, HubSocket, InitialTopics, SocketsListener, SubscribeVerdict } from "./hub-types.ts";

/** Frames the hub itself must answer: a feature cannot take them over. */
const RESERVED_FRAMES = new Set(["ping", "auth", "subscribe", "unsubscribe"]);

/** At the cap, a socket that does not answer a ping within this is terminated as dead. */
export const PROBE_TIMEOUT_MS = 2_000;


export class Hub implements EventPublisher {
  readonly log: Logger;
  readonly fanout: Fanout;
  readonly version: string;
  readonly now: () => number;
  readonly options: Required<Pick<HubOptions, "livenessIntervalMs" | "frameRate" | "maxSocketsPerUser" | "probeTimeoutMs">> & Pick<HubOptions, "authDeadlineMs" | "maxFrameBytes">;
  readonly registry = new SocketRegistry<HubSocket>();
  authorizeSubscribe: AuthorizeSubscribe = () => false; // no channels exist until a feature says so
  private initialTopics: InitialTopics = () => [];
  private server: Server<unknown> | undefined;
  private started: Promise<void> | undefined;
  private livenessTimer: Timer | undefined;
  private checkSessions: ((ids: string[]) => Promise<Set<string>>) | undefined;
  /** Revocations remembered a while, to refuse a socket whose auth raced one (revocations.ts). */
  private readonly revoked: RevocationMemory;
  private readonly frameHandlers = new Map<string, FrameHandler>();
  private readonly socketListeners: SocketsListener[] = [];
  private readonly stopHooks: (() => void)[] = [];
  /** An authorisation that straddles a kick or recheck is re-run (generations.ts). */
  private readonly generations = new MembershipGenerations();
  /** The cap's counting, local and shared (socket-cap.ts). */
  private readonly cap: SocketCap;
  /** The local half of the last recheck delivered (fan-out delivers locally, synchronously). */
  private localWork: Promise<void> | undefined;
  /** Liveness probes at the cap (probes.ts). */
  private readonly probes: LivenessProbes;

  constructor(opts: HubOptions) {
    this.log = opts.log;
    this.fanout = opts.fanout ?? new LocalFanout();
    this.version = opts.version;
    this.now = opts.now ?? Date.now;
    this.revoked = new RevocationMemory(this.now);
    this.options = {
      livenessIntervalMs: opts.livenessIntervalMs ?? 30_000,
      frameRate: opts.frameRate ?? FRAME_RATE,
      maxSocketsPerUser: opts.maxSocketsPerUser ?? MAX_SOCKETS_PER_USER,
      probeTimeoutMs: opts.probeTimeoutMs ?? PROBE_TIMEOUT_MS,
      authDeadlineMs: opts.authDeadlineMs,
      maxFrameBytes: opts.maxFrameBytes,
    };
    this.cap = new SocketCap(this.registry, opts.socketCounter, this.fanout, this.log);
    this.probes = new LivenessProbes(this.registry, this.options.probeTimeoutMs, (socket) => {
      socket.terminate();
      this.release(socket);
    }, this.log);
  }

  /** Starts the fan-out listener (Redis subscribe); idempotent. main.ts awaits it before listen. */
  start(): Promise<void> {
    return (this.started ??= this.fanout.start((message) => this.deliver(message)));
  }

  /** The server to publish on: learned from the first upgrade (before it, no socket exists here). */
  attachServer(server: Server<unknown> | null | undefined): void {
    if (server && !this.server) this.server = server;
  }

  setAuthorizeSubscribe(fn: AuthorizeSubscribe): void {
    this.authorizeSubscribe = fn;
  }

  setInitialTopics(fn: InitialTopics): void {
    this.initialTopics = fn;
  }

  /**
   * The topics a socket of this actor should hold beyond user/session, asked of the features. If
   * a kick (unsubscribeUser) lands while they answer, they are asked again: the kick wins.
   */
  async topicsFor(actor: HubActor): Promise<string[]> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const generation = this.membershipGeneration(actor.userId);
      let topics: string[];
      try {
        topics = await this.initialTopics(actor);
      } catch (error) {
        this.log.error("ws.initial_topics_failed", { error: error instanceof Error ? error : String(error) });
        return [];
      }
      if (generation === this.membershipGeneration(actor.userId)) return topics;
    }
    return [];
  }

  /**
   * Installs a feature's handler for a client frame type from the catalogue (message:send …).
   * typing:start/stop may be taken over (the hub's relay is a placeholder); ping, auth and
   * (un)subscribe may not.
   */
  handleFrame(type: string, handler: FrameHandler): void {
    if (RESERVED_FRAMES.has(type)) throw new Error(`the hub handles "${type}" frames itself`);
    if (!(CLIENT_FRAME_TYPES as string[]).includes(type)) throw new Error(`"${type}" is not in the frame catalogue (src/shared/protocol.ts)`);
    this.frameHandlers.set(type, handler);
  }

  /** Runs when the hub stops (after its sockets are released): features drop timers and stores. */
  onStop(hook: () => void): void {
    this.stopHooks.push(hook);
  }

  /** Presence and voice: told whenever this instance admits or releases a socket of a user. */
  onSocketsChanged(listener: SocketsListener): void {
    this.socketListeners.push(listener);
  }

  private notifySockets(socket: HubSocket, delta: 1 | -1): void {
    for (const listener of this.socketListeners) {
      try {
        listener(socket.userId, delta, socket);
      } catch (error) {
        this.log.error("ws.socket_listener_failed", { error: error instanceof Error ? error : String(error) });
      }
    }
  }

  frameHandler(type: string): FrameHandler | undefined {
    return this.frameHandlers.get(type);
  }

  /** The liveness sweep asks this (auth feature) which sessions are still live. */
  setSessionChecker(check: (ids: string[]) => Promise<Set<string>>): void {
    this.checkSessions = check;
    clearInterval(this.livenessTimer);
    this.livenessTimer = setInterval(() => void this.sweepSessions(), this.options.livenessIntervalMs);
    this.livenessTimer.unref();
  }

  // ------------------------------------------------------------ API for features

  /**
   * EventPublisher: called after COMMIT (runInTransaction's outbox). `event.type` must be a
   * `domain:verb`; the frame is serialised once here and sent verbatim to every subscriber.
   */
  publish(topic: string, event: unknown): void {
    const type = (event as { type?: unknown } | null)?.type;
    if (typeof event !== "object" || event === null || typeof type !== "string" || !EVENT_TYPE.test(type) || topic.includes("\n")) {
      this.log.error("ws.publish_invalid_event", { topic, type: typeof type === "string" ? type : typeof type });
      return;
    }
    const started = performance.now();
    let data: string;
    try {
      data = JSON.stringify(event);
    } catch (error) {
      // Called after COMMIT: a bug in one event must not fail the request that committed.
      this.log.error("ws.publish_unserialisable_event", { topic, type, error: error instanceof Error ? error.message : String(error) });
      return;
    }
    this.fanout.publish({ kind: "event", topic, data });
    // Serialising plus the local delivery (synchronous) plus handing it to Redis.
    observeFanout((performance.now() - started) / 1000);
  }

  /** Closes the sockets of these sessions (or all of the user's) on every instance. */
  closeUserSockets(userId: string, sessionIds: readonly string[] | "all", reason = "session_ended"): void {
    if (sessionIds !== "all" && sessionIds.length === 0) return;
    this.fanout.publish({ kind: "close", userId, sessionIds: sessionIds === "all" ? "all" : [...sessionIds], code: CLOSE.SESSION_ENDED, reason });
  }

  /** Joins every open socket of the user (all instances) to these topics: a new membership. */
  subscribeUser(userId: string, topics: readonly string[]): void {
    if (topics.length > 0) this.fanout.publish({ kind: "subscribe", userId, topics: [...topics] });
  }

  /** Removes every open socket of the user from these topics at once: kick, ban, leave, timeout. */
  unsubscribeUser(userId: string, topics: readonly string[]): void {
    if (topics.length > 0) this.fanout.publish({ kind: "unsubscribe", userId, topics: [...topics] });
  }

  /**
   * Re-asks the permission hooks for every open socket of the user (all instances): joins topics
   * the user gained, leaves channel and community topics the user lost. For changes only the
   * features can judge (a role change, a channel's permission overrides); removals the caller
   * knows precisely should use unsubscribeUser, which takes effect synchronously.
   */
  recheckUser(userId: string): Promise<void> {
    return this.publishAndAwaitLocal({ kind: "recheck", userId });
  }

  /**
   * Re-asks the subscribe hook for every socket (all instances) following one of these channel
   * topics, and removes the refused: an override, a channel's privacy or a role's permissions
   * changed and concerns everyone following it. Resolves when this instance's sockets are done
   * (callers await it after COMMIT, so the request returns with the local sockets already cut).
   */
  recheckTopics(topics: readonly string[]): Promise<void> {
    if (topics.length === 0) return Promise.resolve();
    return this.publishAndAwaitLocal({ kind: "recheck_topics", topics: [...topics] });
  }

  /** Every socket (all instances) leaves these topics at once and is told why (a deleted channel). */
  dropTopics(topics: readonly string[], reason: SubscriptionRevokedReason = "CHANNEL_DELETED"): void {
    if (topics.length > 0) this.fanout.publish({ kind: "drop_topics", topics: [...topics], reason });
  }

  private publishAndAwaitLocal(message: FanoutMessage): Promise<void> {
    this.localWork = undefined;
    this.fanout.publish(message);
    const work = this.localWork ?? Promise.resolve();
    this.localWork = undefined;
    return work;
  }

  /** Sockets held by this instance (all users), for health and benchmarks. */
  get localSocketCount(): number {
    return this.registry.size;
  }

  // ------------------------------------------------------------ connection lifecycle

  /**
   * Registers an authenticated socket, or refuses it (cap, or a revocation it raced). With a
   * shared socket counter the cap counts the user's sockets on every instance; the admission in
   * progress counts locally meanwhile, so parallel connects on one instance cannot overshoot.
   * At the cap, the user's sockets are probed first (dead peers are dropped; see the top).
   * The caller releases the socket if it closed while this was pending.
   */
  async admit(socket: HubSocket, authStartedMs: number): Promise<boolean> {
    const { userId } = socket.actor;
    if (this.refuseRevoked(socket, authStartedMs)) return false;
    const cap = this.options.maxSocketsPerUser;
    if (this.cap.localCount(userId) >= cap) {
      await this.probeUserSockets(userId);
      if (this.refuseRevoked(socket, authStartedMs)) return false;
      if (this.cap.localCount(userId) >= cap) return this.refuseCap(socket);
    }
    if (this.cap.counter) {
      if (!(await this.cap.reserve(userId, cap, this.options.probeTimeoutMs, () => this.probes.running(userId)))) {
        this.cap.sync(userId);
        return this.refuseCap(socket);
      }
      if (this.refuseRevoked(socket, authStartedMs)) {
        this.cap.sync(userId);
        return false;
      }
    }
    // Registered at once (revocations and kicks reach it from now on); its topics, the user's own
    // included, are joined by the connection right before `hello`, so no event precedes hello.
    this.registry.add(socket);
    noteSocketAdmitted();
    this.cap.sync(userId);
    this.notifySockets(socket, 1);
    return true;
  }

  /**
   * Pings the user's sockets on this instance and terminates those that stay silent for
   * probeTimeoutMs. Resolves to the number dropped; concurrent calls for one user share one probe.
   */
  probeUserSockets(userId: string): Promise<number> {
    return this.probes.probe(userId);
  }

  /** A socket answered a ping or sent a frame: it is alive (ends a probe waiting for it). */
  noteAlive(socket: HubSocket): void {
    this.probes.noteAlive(socket);
  }

  private refuseRevoked(socket: HubSocket, authStartedMs: number): boolean {
    if (!this.revoked.refuses(socket.actor, authStartedMs)) return false;
    socket.fail("SESSION_ENDED", "This session has ended. Please sign in again.", CLOSE.SESSION_ENDED);
    return true;
  }

  private refuseCap(socket: HubSocket): false {
    socket.fail("TOO_MANY_SESSIONS", `At most ${this.options.maxSocketsPerUser} connections per user are allowed. Close another tab or device.`, CLOSE.TOO_MANY_SESSIONS);
    return false;
  }

  release(socket: HubSocket): void {
    const removed = this.registry.remove(socket);
    // A socket that closed during a probe needs no answer (noteAlive ends the wait the same way).
    if (removed) this.noteAlive(socket);
    if (this.registry.countFor(socket.userId) === 0) this.generations.forget(socket.userId);
    if (removed) {
      noteSocketReleased();
      this.cap.sync(socket.userId);
      this.notifySockets(socket, -1);
    }
  }

  /** Changes whenever a subscription decision about the user may have gone stale. */
  membershipGeneration(userId: string): number {
    return this.generations.of(userId);
  }

  // ------------------------------------------------------------ delivery (local half of fan-out)

  private deliver(message: FanoutMessage): void {
    switch (message.kind) {
      case "event":
        this.server?.publish(message.topic, message.data);
        return;
      case "close": {
        this.revoked.remember(message.userId, message.sessionIds);
        for (const socket of this.registry.socketsOf(message.userId, message.sessionIds)) {
          socket.fail("SESSION_ENDED", "This session has ended. Please sign in again.", message.code);
          this.release(socket); // at once: nothing published after this may reach it
        }
        return;
      }
      case "subscribe":
        for (const socket of this.registry.socketsOf(message.userId)) for (const topic of message.topics) socket.subscribe(topic);
        return;
      case "unsubscribe":
        this.generations.bump(message.userId);
        for (const socket of this.registry.socketsOf(message.userId)) for (const topic of message.topics) socket.unsubscribe(topic);
        return;
      case "recheck":
        this.localWork = this.recheck(message.userId).catch((error: unknown) => this.log.error("ws.recheck_failed", { error: error instanceof Error ? error : String(error) }));
        return;
      case "recheck_topics":
        this.localWork = this.recheckTopicsHere(message.topics).catch((error: unknown) => this.log.error("ws.recheck_failed", { error: error instanceof Error ? error : String(error) }));
        return;
      case "drop_topics":
        this.generations.bumpAll();
        dropTopicSockets(this.registry, message.topics, message.reason);
        return;
      case "probe":
        // Another instance (or this one) found the user at the cap; dropping our dead sockets
        // releases them, which writes this instance's new count to the shared counter.
        void this.probeUserSockets(message.userId);
        return;
    }
  }

  /** The verdict as a promise that never rejects (a failing hook refuses). */
  verdictOf(actor: HubActor, topic: string): Promise<SubscribeVerdict> {
    return Promise.resolve(this.authorizeSubscribe(actor, topic)).catch(() => false as const);
  }

  private async recheck(userId: string): Promise<void> {
    if (this.registry.countFor(userId) === 0) return;
    // Bumped first: a subscribe or connect whose permission check straddles this one re-asks.
    this.generations.bump(userId);
    await recheckUserSockets(this, userId);
  }

  private async recheckTopicsHere(topics: readonly string[]): Promise<void> {
    this.generations.bumpAll();
    await recheckTopicSockets(this, topics);
  }

  /** Closes sockets whose session is no longer live (expired, revoked, user suspended). */
  sweepSessions(): Promise<number> {
    return this.checkSessions ? sweepSessionSockets(this.registry, this.checkSessions, (socket) => this.release(socket), this.log) : Promise.resolve(0);
  }

  /** Closes every socket (server shutdown) and the fan-out connections. */
  async stop(): Promise<void> {
    clearInterval(this.livenessTimer);
    for (const socket of this.registry.all()) {
      socket.close(CLOSE.GOING_AWAY, "server_shutdown");
      this.release(socket);
    }
    for (const hook of this.stopHooks) hook();
    await this.cap.counter?.close();
    await this.fanout.close();
  }
}
