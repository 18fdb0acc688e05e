/**
 * Which authenticated sockets this process holds, by user and by session. Bun's topics do the
 * fan-out; the registry exists for what topics cannot do: count a user's sockets (the cap of 8),
 * close the sockets of revoked sessions, and subscribe/unsubscribe all of a user's sockets when a
 * membership changes (so a kicked user's open socket stops receiving at once).
 */
export type RegisteredSocket = {
  readonly userId: string;
  readonly sessionId: string;
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
  close(code: number, reason: string): void;
};

export class SocketRegistry<S extends RegisteredSocket = RegisteredSocket> {
  private readonly byUser = new Map<string, Set<S>>();
  private readonly bySession = new Map<string, Set<S>>();

  get size(): number {
    let n = 0;
    for (const set of this.byUser.values()) n += set.size;
    return n;
  }

  countFor(userId: string): number {
    return this.byUser.get(userId)?.size ?? 0;
  }

  add(socket: S): void {
    let set = this.byUser.get(socket.userId);
    if (!set) this.byUser.set(socket.userId, (set = new Set()));
    set.add(socket);
    let forSession = this.bySession.get(socket.sessionId);
    if (!forSession) this.bySession.set(socket.sessionId, (forSession = new Set()));
    forSession.add(socket);
  }

  /** False when the socket was not registered (already removed). */
  remove(socket: S): boolean {
    const set = this.byUser.get(socket.userId);
    const removed = set?.delete(socket) ?? false;
    if (set && set.size === 0) this.byUser.delete(socket.userId);
    const forSession = this.bySession.get(socket.sessionId);
    if (forSession?.delete(socket) && forSession.size === 0) this.bySession.delete(socket.sessionId);
    return removed;
  }

  /** The user's sockets, optionally only those of the given sessions (a copy: callers close). */
  socketsOf(userId: string, sessionIds: readonly string[] | "all" = "all"): S[] {
    const set = this.byUser.get(userId);
    if (!set) return [];
    const all = [...set];
    return sessionIds === "all" ? all : all.filter((s) => sessionIds.includes(s.sessionId));
  }

  /** Distinct session ids with at least one socket: what the liveness sweep re-checks. */
  sessionIds(): string[] {
    return [...this.bySession.keys()];
  }

  socketsOfSession(sessionId: string): S[] {
    return [...(this.bySession.get(sessionId) ?? [])];
  }

  all(): S[] {
    const out: S[] = [];
    for (const set of this.byUser.values()) out.push(...set);
    return out;
  }
}
