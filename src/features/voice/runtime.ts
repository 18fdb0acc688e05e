/**
 * What one instance of the voice feature keeps in memory, next to the seats in the database:
 * which of ITS sockets holds which seat (a seat belongs to one socket: the tab that has the
 * microphone), the grace and ring timers it started, and the work in flight (awaited on stop,
 * so no query outlives the database). Everything another instance must know is in the database.
 */
import type { AppDeps } from "../../deps.ts";
import { MemoryRateLimitStore, type RateLimitStore } from "../../http/rate-limit.ts";
import type { RtcSignalEvent } from "../../shared/protocol.ts";
import type { Hub, HubSocket } from "../../ws/hub.ts";

/** A closed socket keeps its seat this long: a reload or a network blip within it keeps the seat. */
export const VOICE_GRACE_MS = 15_000;
/** An unanswered DM ring stops after this. */
export const RING_TIMEOUT_MS = 45_000;
/** How often an instance refreshes its seats' seen_at and frees expired seats and rings. */
export const VOICE_SWEEP_INTERVAL_MS = 10_000;
/** A seat whose instance stopped refreshing it for this long (crashed) is freed. */
export const VOICE_STALE_AFTER_MS = 45_000;
/** The safety net: seats held here are re-checked against the permission model this often. */
export const VOICE_REVALIDATE_EVERY_MS = 60_000;

export type VoiceOptions = { graceMs?: number; ringTimeoutMs?: number; sweepIntervalMs?: number; staleAfterMs?: number; revalidateEveryMs?: number };

/**
 * Test seam (never set in production): sees every relayed signal just before it is published
 * and returns what is actually sent (null drops it). A test uses it to play a server that
 * rewrites the DTLS fingerprint in relayed SDP; the clients must refuse that connection.
 */
export type SignalRelayHook = (event: RtcSignalEvent) => RtcSignalEvent | null;

export type Binding = {
  socket: HubSocket;
  userId: string;
  sessionId: string;
  channelId: string;
  connId: string;
  deviceId: string;
  /** Last speaking flag published for this seat (only changes are published). */
  speaking: boolean;
};

const optionsByDeps = new WeakMap<object, VoiceOptions>();
const hooksByDeps = new WeakMap<object, SignalRelayHook>();

/** Tests: shorter grace, ring and sweep periods (read at each use). */
export function setVoiceOptions(deps: object, options: VoiceOptions): void {
  optionsByDeps.set(deps, { ...optionsByDeps.get(deps), ...options });
}

/** Tests only: install (or remove, with undefined) the relay hook. */
export function setSignalRelayHook(deps: object, hook: SignalRelayHook | undefined): void {
  if (hook) hooksByDeps.set(deps, hook);
  else hooksByDeps.delete(deps);
}

export class VoiceRuntime {
  /** Names this instance in voice_participants.instance_id. */
  readonly instanceId = `voice-${crypto.randomUUID()}`;
  readonly bindings = new Map<HubSocket, Binding>();
  readonly graceTimers = new Map<string, Timer>();
  readonly ringTimers = new Map<string, Timer>();
  /** Frames of one socket are handled in order (signals must arrive in the order sent). */
  readonly chains = new WeakMap<HubSocket, Promise<unknown>>();
  readonly rateLimits: RateLimitStore;
  private readonly inFlight = new Set<Promise<unknown>>();
  sweepTimer: Timer | undefined;
  lastRevalidateMs = 0;
  stopped = false;

  constructor(
    readonly deps: AppDeps,
    readonly hub: Hub,
  ) {
    this.rateLimits = deps.rateLimitStore ?? new MemoryRateLimitStore();
  }

  get options(): Required<VoiceOptions> {
    const o = optionsByDeps.get(this.deps);
    return {
      graceMs: o?.graceMs ?? VOICE_GRACE_MS,
      ringTimeoutMs: o?.ringTimeoutMs ?? RING_TIMEOUT_MS,
      sweepIntervalMs: o?.sweepIntervalMs ?? VOICE_SWEEP_INTERVAL_MS,
      staleAfterMs: o?.staleAfterMs ?? VOICE_STALE_AFTER_MS,
      revalidateEveryMs: o?.revalidateEveryMs ?? VOICE_REVALIDATE_EVERY_MS,
    };
  }

  get relayHook(): SignalRelayHook | undefined {
    return hooksByDeps.get(this.deps);
  }

  now(): Date {
    return new Date((this.deps.now ?? Date.now)());
  }

  publish(topic: string, event: { type: string } & Record<string, unknown>): void {
    this.deps.events.publish(topic, event);
  }

  /** Background work (listeners, timers): logged when it fails, awaited by stop(). */
  track(work: Promise<unknown>): void {
    const tracked = work.catch((error: unknown) => this.deps.log.error("voice.task_failed", { error: error instanceof Error ? error : String(error) }));
    this.inFlight.add(tracked);
    void tracked.finally(() => this.inFlight.delete(tracked));
  }

  /** Runs `work` after the socket's previous frame finished (and before its next). */
  inOrder<T>(socket: HubSocket, work: () => Promise<T>): Promise<T> {
    const previous = this.chains.get(socket) ?? Promise.resolve();
    const turn = previous.then(work);
    this.chains.set(
      socket,
      turn.catch(() => {}),
    );
    return turn;
  }

  bindingOfConn(connId: string): Binding | undefined {
    for (const binding of this.bindings.values()) if (binding.connId === connId) return binding;
    return undefined;
  }

  /** Forgets local state of seats that ended (here or on another instance). */
  forget(connIds: Iterable<string>): void {
    for (const connId of connIds) {
      clearTimeout(this.graceTimers.get(connId));
      this.graceTimers.delete(connId);
      const binding = this.bindingOfConn(connId);
      if (binding) this.bindings.delete(binding.socket);
    }
  }

  schedule(map: Map<string, Timer>, key: string, ms: number, fn: () => Promise<unknown>): void {
    clearTimeout(map.get(key));
    const timer = setTimeout(() => {
      map.delete(key);
      if (!this.stopped) this.track(fn());
    }, ms);
    timer.unref?.();
    map.set(key, timer);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.sweepTimer);
    for (const timer of [...this.graceTimers.values(), ...this.ringTimers.values()]) clearTimeout(timer);
    this.graceTimers.clear();
    this.ringTimers.clear();
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }
}
