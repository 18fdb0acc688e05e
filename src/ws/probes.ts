/**
 * Liveness probes (hub.ts, "The per-user cap counts only live sockets"): at the cap, the hub
 * pings one user's sockets on this instance and terminates those that stay silent for the probe
 * timeout; a frame or a pong from a socket proves it alive. At most one probe per user runs;
 * concurrent callers share it.
 */
import type { Logger } from "../log.ts";
import type { HubSocket } from "./hub-types.ts";
import type { SocketRegistry } from "./registry.ts";

type Probe = { waiting: Set<HubSocket>; settle: () => void; done: Promise<number> };

export class LivenessProbes {
  private readonly probes = new Map<string, Probe>();

  constructor(
    private readonly registry: SocketRegistry<HubSocket>,
    private readonly timeoutMs: number,
    /** Drops a socket found dead (the hub terminates and releases it). */
    private readonly drop: (socket: HubSocket) => void,
    private readonly log: Logger,
  ) {}

  /** Resolves to the number of sockets dropped. */
  probe(userId: string): Promise<number> {
    const running = this.probes.get(userId);
    if (running) return running.done;
    const sockets = this.registry.socketsOf(userId);
    if (sockets.length === 0) return Promise.resolve(0);
    let settle!: () => void;
    const settled = new Promise<void>((resolve) => (settle = resolve));
    const timer = setTimeout(settle, this.timeoutMs);
    timer.unref?.();
    const probe: Probe = {
      waiting: new Set(sockets),
      settle,
      done: settled.then(() => {
        clearTimeout(timer);
        this.probes.delete(userId);
        let dropped = 0;
        for (const socket of probe.waiting) {
          if (!this.registry.socketsOf(userId).includes(socket)) continue;
          this.drop(socket);
          dropped++;
        }
        if (dropped > 0) this.log.info("ws.dead_sockets_dropped", { userId, dropped });
        return dropped;
      }),
    };
    this.probes.set(userId, probe);
    for (const socket of sockets) socket.ping();
    return probe.done;
  }

  /** The probe of this user in flight, if any. */
  running(userId: string): Promise<number> | undefined {
    return this.probes.get(userId)?.done;
  }

  /** A socket answered a ping or sent a frame: it is alive (ends a probe waiting for it). */
  noteAlive(socket: HubSocket): void {
    if (this.probes.size === 0) return;
    const probe = this.probes.get(socket.userId);
    if (probe?.waiting.delete(socket) && probe.waiting.size === 0) probe.settle();
  }
}
