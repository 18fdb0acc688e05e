/**
 * The per-user socket cap's counting (hub.ts admit): this instance's sockets of a user are its
 * registered ones plus admissions still waiting for the shared count, so parallel connects on one
 * instance cannot overshoot; with a shared counter (Redis, socket-count.ts) the cap counts every
 * instance's sockets. When the shared count is full, every instance probes its sockets of the user
 * (through the fan-out) and the reservation is retried until the probes had time to finish.
 */
import type { Logger } from "../log.ts";
import type { Fanout } from "./fanout.ts";
import type { HubSocket } from "./hub-types.ts";
import type { SocketRegistry } from "./registry.ts";
import type { SocketCounter } from "./socket-count.ts";

/** With a shared count, how long beyond the probe the other instances get to publish their new counts. */
const PROBE_GRACE_MS = 1_000;
const PROBE_POLL_MS = 100;

export class SocketCap {
  /** Admissions waiting for the shared socket count, per user (they count against the cap). */
  private readonly pending = new Map<string, number>();

  constructor(
    private readonly registry: SocketRegistry<HubSocket>,
    readonly counter: SocketCounter | undefined,
    private readonly fanout: Fanout,
    private readonly log: Logger,
  ) {}

  /** Registered plus pending sockets of the user on this instance. */
  localCount(userId: string): number {
    return this.registry.countFor(userId) + (this.pending.get(userId) ?? 0);
  }

  /**
   * Reserves a slot in the shared count (true without a counter). `probeRunning` is this
   * instance's probe of the user, which the fan-out's probe message starts synchronously.
   */
  async reserve(userId: string, cap: number, probeTimeoutMs: number, probeRunning: () => Promise<number> | undefined): Promise<boolean> {
    const counter = this.counter;
    if (!counter) return true;
    this.pending.set(userId, (this.pending.get(userId) ?? 0) + 1);
    try {
      if (await counter.tryReserve(userId, this.localCount(userId), cap)) return true;
      const deadline = Date.now() + probeTimeoutMs + PROBE_GRACE_MS;
      this.fanout.publish({ kind: "probe", userId });
      await probeRunning();
      for (;;) {
        if (await counter.tryReserve(userId, this.localCount(userId), cap)) return true;
        if (Date.now() >= deadline) return false;
        await Bun.sleep(PROBE_POLL_MS);
      }
    } catch (error) {
      // Redis briefly unavailable: the local cap still holds; do not lock users out.
      this.log.warn("ws.socket_count_failed", { error: error instanceof Error ? error.message : String(error) });
      return true;
    } finally {
      const left = (this.pending.get(userId) ?? 1) - 1;
      if (left > 0) this.pending.set(userId, left);
      else this.pending.delete(userId);
    }
  }

  /** Writes this instance's current count for the user to the shared counter (in issue order). */
  sync(userId: string): void {
    this.counter?.setLocal(userId, this.localCount(userId)).catch((error: unknown) => {
      this.log.warn("ws.socket_count_failed", { error: error instanceof Error ? error.message : String(error) });
    });
  }
}
