// Revocations the hub remembers for a while (REVOCATION_MEMORY_MS): a socket whose sign-in check
// raced a revocation (the check passed, the revocation landed before admission) is refused at
// admission instead of living on with an ended session.
import type { HubActor } from "./hub-types.ts";

/** Revocations remembered this long, to refuse a socket whose auth check raced the revocation. */
export const REVOCATION_MEMORY_MS = 120_000;

export class RevocationMemory {
  /** `s:<sessionId>` or `u:<userId>` (all sessions) -> when it was revoked. */
  private readonly revoked = new Map<string, number>();

  constructor(private readonly now: () => number) {}

  remember(userId: string, sessionIds: readonly string[] | "all"): void {
    const now = this.now();
    for (const [key, at] of this.revoked) if (now - at > REVOCATION_MEMORY_MS) this.revoked.delete(key);
    if (sessionIds === "all") this.revoked.set(`u:${userId}`, now);
    else for (const id of sessionIds) this.revoked.set(`s:${id}`, now);
  }

  /** The session was revoked, or all of the user's were after this socket's auth began. */
  refuses(actor: Pick<HubActor, "userId" | "sessionId">, authStartedMs: number): boolean {
    const revokedAll = this.revoked.get(`u:${actor.userId}`);
    return this.revoked.has(`s:${actor.sessionId}`) || (revokedAll !== undefined && revokedAll >= authStartedMs);
  }
}
