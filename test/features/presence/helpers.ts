/** Helpers for presence tests: short grace/batch windows and event filters. */
import type { TestContext } from "../../helpers/app.ts";
import type { Frame, TestSocket } from "../../helpers/ws.ts";
import { setPresenceOptions } from "../../../src/features/presence/index.ts";
import { client, expectOk, type Client, type Populated } from "../messages/helpers.ts";

export const GRACE_MS = 400;
export const BATCH_MS = 150;

export function shortWindows(ctx: TestContext): void {
  setPresenceOptions(ctx.deps, { graceMs: GRACE_MS, batchMs: BATCH_MS });
}

/** presence:changed events about `userId` as others see them (not the user's own `self` echo). */
export function presenceEvents(socket: TestSocket, userId: string): Frame[] {
  return socket.received.filter((f) => f.type === "presence:changed" && f.userId === userId && !f.self);
}

export async function waitFor(check: () => boolean, timeoutMs = 3_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

/** Waits until `userId`'s latest event on `socket` has this status. */
export async function waitForStatus(socket: TestSocket, userId: string, status: string, timeoutMs = 3_000): Promise<void> {
  await waitFor(() => presenceEvents(socket, userId).at(-1)?.status === status, timeoutMs, `${userId} ${status} (got ${JSON.stringify(presenceEvents(socket, userId))})`);
}

export async function joinCommunity(ctx: TestContext, p: Populated): Promise<Client> {
  const c = await client(ctx);
  const invite = await expectOk(p.owner.call("POST", `/api/communities/${p.communityId}/invites`, {}), 201);
  await expectOk(c.call("POST", `/api/community-invites/${invite.code}/accept`));
  return c;
}
