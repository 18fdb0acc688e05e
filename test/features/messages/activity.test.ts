/**
 * channel:activity (sidebar badges) for big communities goes to `community:<id>` once, so member
 * sockets must hold that topic: at connect and after joining while connected. And stopping the
 * activity coalescer while a flush is in flight waits for it (shutdown closes the database next).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestContext } from "../../helpers/app.ts";
import { listen, type TestSocket } from "../../helpers/ws.ts";
import { userTopic } from "../../../src/ws/topics.ts";
import { flushActivity, setActivityOptions, stopActivity } from "../../../src/features/messages/index.ts";
import { client, expectOk, messagingContext, populatedCommunity, send, socketFor, type Populated } from "./helpers.ts";

let ctx: TestContext;
let url: string;
let p: Populated;
const sockets: TestSocket[] = [];

beforeAll(async () => {
  ctx = await messagingContext();
  url = (await listen(ctx)).ws;
  p = await populatedCommunity(ctx);
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await ctx.close();
});

/** Frames received before a sentinel on the user's own topic. */
async function framesUntilSentinel(socket: TestSocket, userId: string) {
  ctx.hub.publish(userTopic(userId), { type: "test:sentinel" });
  const frames: { type: string; [k: string]: unknown }[] = [];
  for (;;) {
    const frame = await socket.nextFrame();
    if (frame.type === "test:sentinel") return frames;
    frames.push(frame);
  }
}

describe("channel:activity above the per-user threshold", () => {
  test("goes to community:<id> and reaches members' sockets (connected before, and joined while connected), not outsiders", async () => {
    // 5 members > 1: the community path, as for a 2,001-member community.
    setActivityOptions(ctx.deps, { perUserMax: 1 });
    try {
      const member = await socketFor(ctx, p.member, url);
      const outsider = await socketFor(ctx, p.outsider, url);
      sockets.push(member, outsider);
      const latecomer = await client(ctx);
      const late = await socketFor(ctx, latecomer, url);
      sockets.push(late);
      const invite = await expectOk(p.owner.call("POST", `/api/communities/${p.communityId}/invites`, {}), 201);
      await expectOk(latecomer.call("POST", `/api/community-invites/${invite.code}/accept`));
      // Joining re-checks the latecomer's sockets (asynchronously): the community's own events
      // reaching it show it holds the community topic now.
      for (let i = 0; i < 50; i++) {
        await expectOk(p.owner.call("PATCH", `/api/communities/${p.communityId}`, { description: `probe ${i}` }));
        if ((await framesUntilSentinel(late, latecomer.user.id)).some((f) => f.type === "community:updated")) break;
      }

      const sent = await send(p.owner, p.generalChannelId);
      await flushActivity(ctx.deps);
      for (const socket of [member, late]) {
        const activity = await socket.nextOfType("channel:activity");
        expect(activity).toEqual({ type: "channel:activity", channelId: p.generalChannelId, seq: sent.seq });
      }
      expect((await framesUntilSentinel(outsider, p.outsider.user.id)).filter((f) => f.type === "channel:activity")).toEqual([]);
    } finally {
      setActivityOptions(ctx.deps, { perUserMax: 2_000 });
    }
  });
});

describe("stopping", () => {
  test("stopActivity while a flush is in flight resolves after the flush, and later activity is ignored", async () => {
    const own = await messagingContext();
    const c = await populatedCommunity(own);
    setActivityOptions(own.deps, { intervalMs: 60_000 });
    await send(c.owner, c.generalChannelId);
    let flushed = false;
    const flush = flushActivity(own.deps).then(() => {
      flushed = true;
    });
    // The flush has started its recipients query; stop must wait for it, not cut it off.
    await stopActivity(own.deps);
    expect(flushed).toBe(true);
    await flush;
    await send(c.owner, c.generalChannelId); // after stop: no timer, no query after close
    await own.close(); // resolves: nothing holds the database
  });
});
