/**
 * Helpers for presence tests. The grace and batch windows run on a clock the test advances
 * (ManualTimers, passed to the app as deps.timers) at their production lengths: "offline only
 * after the grace" and "no flicker on a quick reload" are decided by the test moving the clock,
 * not by how fast a loaded machine reconnects a socket.
 */
import type { TestContext } from "../../helpers/app.ts";
import { ManualTimers } from "../../helpers/manual-timers.ts";
import type { Frame, TestSocket } from "../../helpers/ws.ts";
import { BATCH_MS, GRACE_MS, presenceOf } from "../../../src/features/presence/index.ts";
import { client, expectOk, type Client, type Populated } from "../messages/helpers.ts";

export { BATCH_MS, GRACE_MS };

/** How long a bounded wait for something that should happen may take (wide: CI machines are loaded). */
const WAIT_MS = 15_000;

/** The presence clock of one or more apps (two instances share one in the Redis test). */
export class PresenceClock {
  readonly timers = new ManualTimers();
  private readonly apps: TestContext[] = [];

  attach(ctx: TestContext): void {
    this.apps.push(ctx);
  }

  /** Store writes queued and flushes under way are done, on every app. */
  async settled(): Promise<void> {
    for (const ctx of this.apps) await presenceOf(ctx.deps)!.settled();
  }

  /** Moves the clock: timers due fire, and what they started (flushes) is finished. */
  async advance(ms: number): Promise<void> {
    await this.settled();
    this.timers.advance(ms);
    await this.settled();
  }
}

/** presence:changed events about `userId` as others see them (not the user's own `self` echo). */
export function presenceEvents(socket: TestSocket, userId: string): Frame[] {
  return socket.received.filter((f) => f.type === "presence:changed" && f.userId === userId && !f.self);
}

export async function waitFor(check: () => boolean, what = "condition", timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
}

/** The server has registered exactly `n` sockets of the user (opens and closes have landed). */
export async function waitForSockets(ctx: TestContext, userId: string, n: number): Promise<void> {
  await waitFor(() => ctx.hub.registry.countFor(userId) === n, `${n} registered sockets of ${userId}`);
}

/** One batch window passes, then `userId`'s latest event on `socket` must be `status`. */
export async function expectStatusAfterBatch(clock: PresenceClock, socket: TestSocket, userId: string, status: string): Promise<void> {
  await clock.advance(BATCH_MS);
  await waitFor(() => presenceEvents(socket, userId).at(-1)?.status === status, `${userId} ${status} (got ${JSON.stringify(presenceEvents(socket, userId))})`);
}

/** The events `socket` has received about `userId` after everything published so far arrived. */
export async function settledEvents(clock: PresenceClock, socket: TestSocket, userId: string): Promise<string[]> {
  await clock.settled();
  await socket.roundTrip();
  return presenceEvents(socket, userId).map((e) => e.status as string);
}

/** The user's own `self` echo of a presence:set: the change is stored and its batch scheduled. */
export async function waitForSelfEcho(socket: TestSocket, status: string): Promise<void> {
  await waitFor(() => socket.received.some((f) => f.type === "presence:changed" && f.self && f.status === status), `self echo ${status}`);
}

export async function joinCommunity(ctx: TestContext, p: Populated): Promise<Client> {
  const c = await client(ctx);
  const invite = await expectOk(p.owner.call("POST", `/api/communities/${p.communityId}/invites`, {}), 201);
  await expectOk(c.call("POST", `/api/community-invites/${invite.code}/accept`));
  return c;
}
