/**
 * Subscriptions follow permissions live, through the real communities API and real sockets:
 * only viewers may follow a channel; a kick, ban or leave cuts the socket off the community and
 * its channels at once (the next event does not reach it); a role change moves the user in or out
 * of the moderators' topic on open sockets.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestContext } from "../helpers/app.ts";
import { signIn } from "../helpers/users.ts";
import { connectWithToken, listen, type TestSocket } from "../helpers/ws.ts";
import { client, communityTestContext, expectOk, populatedCommunity, type Client, type Populated } from "../features/communities/helpers.ts";
import { channelTopic, userTopic } from "../../src/ws/topics.ts";
import { communityTopic, moderatorsTopic } from "../../src/features/realtime/index.ts";

let ctx: TestContext;
let url: string;
let c: Populated;
const sockets: TestSocket[] = [];

beforeAll(async () => {
  ctx = await communityTestContext();
  url = (await listen(ctx)).ws;
  c = await populatedCommunity(ctx);
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await ctx.close();
});

async function connect(who: Client): Promise<TestSocket> {
  const socket = await connectWithToken(url, (await signIn(ctx, who.user)).accessToken);
  sockets.push(socket);
  return socket;
}

async function joinCommunity(): Promise<Client> {
  const invite = await expectOk(c.owner.call("POST", `/api/communities/${c.communityId}/invites`, {}), 201);
  const who = await client(ctx);
  await expectOk(who.call("POST", `/api/community-invites/${invite.code}/accept`));
  return who;
}

/** Publishes a sentinel to the user's own topic and returns every frame received before it. */
async function framesUntilSentinel(socket: TestSocket, userId: string): Promise<{ type: string }[]> {
  ctx.hub.publish(userTopic(userId), { type: "test:sentinel" });
  const frames: { type: string }[] = [];
  for (;;) {
    const frame = await socket.nextFrame();
    if (frame.type === "test:sentinel") return frames;
    frames.push(frame);
  }
}

describe("channel subscriptions through the permission model", () => {
  test("a member may follow the community's channel; an outsider gets CHANNEL_NOT_FOUND", async () => {
    const member = await connect(c.member);
    member.send({ type: "subscribe", channelIds: [c.generalChannelId], ref: "m" });
    expect(await member.nextFrame()).toEqual({ type: "subscribed", channelIds: [c.generalChannelId], ref: "m" });
    const outsider = await connect(c.outsider);
    outsider.send({ type: "subscribe", channelIds: [c.generalChannelId], ref: "o" });
    expect(await outsider.nextFrame()).toMatchObject({ type: "error", code: "CHANNEL_NOT_FOUND", channelIds: [c.generalChannelId] });
    expect(await outsider.nextFrame()).toEqual({ type: "subscribed", channelIds: [], ref: "o" });
    ctx.hub.publish(channelTopic(c.generalChannelId), { type: "test:in_channel" });
    expect(await member.nextFrame()).toEqual({ type: "test:in_channel" });
    expect(await framesUntilSentinel(outsider, c.outsider.user.id)).toEqual([]);
  });

  test("at connect a member's socket hears the community; a non-member's does not", async () => {
    const member = await connect(c.member);
    const outsider = await connect(c.outsider);
    await expectOk(c.owner.call("PATCH", `/api/communities/${c.communityId}`, { description: "changed" }));
    expect((await member.nextOfType("community:updated")).community_id).toBe(c.communityId);
    expect(await framesUntilSentinel(outsider, c.outsider.user.id)).toEqual([]);
  });
});

describe("removals take effect on open sockets at once", () => {
  for (const kind of ["kick", "ban", "leave"] as const) {
    test(`${kind}: the next channel and community events do not reach the removed user`, async () => {
      const removed = await joinCommunity();
      const socket = await connect(removed);
      const bystander = await connect(c.member);
      socket.send({ type: "subscribe", channelIds: [c.generalChannelId] });
      // By type: the bystander coming online may put a presence:changed frame first.
      expect(await socket.nextOfType("subscribed")).toMatchObject({ type: "subscribed", channelIds: [c.generalChannelId] });
      bystander.send({ type: "subscribe", channelIds: [c.generalChannelId] });
      await bystander.nextOfType("subscribed");

      if (kind === "kick") await expectOk(c.moderator.call("DELETE", `/api/communities/${c.communityId}/members/${removed.user.id}`), 204);
      if (kind === "ban") await expectOk(c.moderator.call("PUT", `/api/communities/${c.communityId}/bans/${removed.user.id}`, { reason: "test" }), 204);
      if (kind === "leave") await expectOk(removed.call("POST", `/api/communities/${c.communityId}/leave`), 204);

      // The next message in the channel, and the next community event.
      ctx.hub.publish(channelTopic(c.generalChannelId), { type: "test:next_message" });
      ctx.hub.publish(communityTopic(c.communityId), { type: "test:community_news" });
      expect((await bystander.nextOfType("test:next_message")).type).toBe("test:next_message");
      const seen = (await framesUntilSentinel(socket, removed.user.id)).map((f) => f.type);
      expect(seen).not.toContain("test:next_message");
      expect(seen).not.toContain("test:community_news");
      // It was told, on its own topic (the communities feature's frame).
      expect(seen).toContain(kind === "leave" ? "member:left" : kind === "ban" ? "member:banned" : "member:kicked");
      // And it cannot follow the channel again.
      socket.send({ type: "subscribe", channelIds: [c.generalChannelId] });
      expect(await socket.nextOfType("error")).toMatchObject({ type: "error", code: "CHANNEL_NOT_FOUND" });
    });
  }
});

describe("role changes move open sockets in and out of the moderators' topic", () => {
  test("promoted: hears moderator events; demoted: no longer", async () => {
    const who = await joinCommunity();
    const socket = await connect(who);
    const probe = async () => {
      ctx.hub.publish(moderatorsTopic(c.communityId), { type: "test:mod_only" });
      return (await framesUntilSentinel(socket, who.user.id)).map((f) => f.type).includes("test:mod_only");
    };
    expect(await probe()).toBe(false);
    await expectOk(c.owner.call("PUT", `/api/communities/${c.communityId}/members/${who.user.id}/role`, { role: "moderator" }), 204);
    // recheckUser is asynchronous (it asks the permission model): bounded polling.
    expect(await eventually(probe)).toBe(true);
    await expectOk(c.owner.call("PUT", `/api/communities/${c.communityId}/members/${who.user.id}/role`, { role: "member" }), 204);
    expect(await eventually(async () => !(await probe()))).toBe(true);
  });
});

/** Polls `check` until it holds; bounded by time, widely (a loaded machine is slow, not wrong). */
async function eventually(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<boolean> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await Bun.sleep(20)) {
    if (await check()) return true;
  }
  return check();
}
