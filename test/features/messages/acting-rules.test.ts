/**
 * Acting in a channel needs the right to act there, not only to see it (issue 10, item 8).
 * Typing indicators follow the send rules, over real sockets: a timed-out
 * member, a plain member of a read-only or announcement channel, anyone in an archived channel,
 * a member whose role may not send there, and either side of a blocked DM get an error frame with
 * the send path's code, and the other followers of the channel receive nothing (a legitimate
 * typist's event, sent after, is the first typing frame they see). A start refused after an
 * accepted one (timed out meanwhile) takes the indicator down with typing:stopped. Reactions in
 * a blocked 1:1 DM are refused like sends (BLOCKED) and nothing is published.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestContext } from "../../helpers/app.ts";
import type { TestSocket } from "../../helpers/ws.ts";
import { setTypingOptions } from "../../../src/features/messages/index.ts";
import { client, expectOk, messagingContext, populatedCommunity, send, socketFor, subscribe, withSockets, type Client, type Populated } from "./helpers.ts";

let ctx: TestContext;
let p: Populated;
let ws: string;
const sockets: TestSocket[] = [];

beforeAll(async () => {
  ctx = await messagingContext();
  p = await populatedCommunity(ctx);
  ws = (await withSockets(ctx)).ws;
  // Every start is checked (no coalescing window); no auto-stop within a test.
  setTypingOptions(ctx.deps, { intervalMs: 0, autoStopMs: 60_000 });
}, 90_000);
afterAll(async () => {
  for (const s of sockets) s.close();
  await ctx.close();
}, 90_000);

async function follow(c: Client, channelIds: string[]): Promise<TestSocket> {
  const socket = await socketFor(ctx, c, ws);
  sockets.push(socket);
  await subscribe(socket, channelIds);
  return socket;
}

async function newChannel(settings: Record<string, unknown> = {}): Promise<string> {
  const c = await expectOk(p.owner.call("POST", `/api/groups/${p.groupId}/channels`, { name: `t${Math.random().toString(36).slice(2, 8)}`, ...settings }), 201);
  return c.id as string;
}

async function joinCommunity(): Promise<Client> {
  const c = await client(ctx);
  const invite = await expectOk(p.owner.call("POST", `/api/communities/${p.communityId}/invites`, {}), 201);
  await expectOk(c.call("POST", `/api/community-invites/${invite.code}/accept`));
  return c;
}

/** `typist` is refused with `code`; the watcher's first typing frame afterwards is the legitimate one. */
async function expectRefused(typist: TestSocket, channelId: string, code: string, watcher: TestSocket, legit: { socket: TestSocket; userId: string }): Promise<void> {
  const ref = `r${Math.random().toString(36).slice(2, 8)}`;
  typist.send({ type: "typing:start", channelId, ref });
  expect(await typist.nextOfType("error")).toMatchObject({ code, ref });
  legit.socket.send({ type: "typing:start", channelId });
  const seen = await watcher.nextOfType("typing:started");
  expect(seen).toMatchObject({ channelId, userId: legit.userId });
  legit.socket.send({ type: "typing:stop", channelId });
  await watcher.nextOfType("typing:stopped");
}

describe("typing follows the send rules", () => {
  test("a timed-out member: TIMED_OUT, nothing reaches the channel; typing before the timeout is taken down", async () => {
    const channel = await newChannel();
    const victim = await joinCommunity();
    const victimSocket = await follow(victim, [channel]);
    const watcher = await follow(p.member, [channel]);
    const legit = { socket: await follow(p.admin, [channel]), userId: p.admin.user.id };
    victimSocket.send({ type: "typing:start", channelId: channel });
    expect(await watcher.nextOfType("typing:started")).toMatchObject({ userId: victim.user.id });
    await expectOk(p.moderator.call("PUT", `/api/communities/${p.communityId}/timeouts/${victim.user.id}`, { duration_seconds: 600 }));
    victimSocket.send({ type: "typing:start", channelId: channel, ref: "after-timeout" });
    expect(await victimSocket.nextOfType("error")).toMatchObject({ code: "TIMED_OUT", ref: "after-timeout" });
    expect(await watcher.nextOfType("typing:stopped")).toMatchObject({ channelId: channel, userId: victim.user.id });
    await expectRefused(victimSocket, channel, "TIMED_OUT", watcher, legit);
    // Nothing of the victim's after the timeout but the stop that took the indicator down.
    const fromVictim = watcher.received.filter((f) => f.type.startsWith("typing:") && f.userId === victim.user.id).map((f) => f.type);
    expect(fromVictim).toEqual(["typing:started", "typing:stopped"]);
  });

  test("read-only and announcement channels: CHANNEL_READ_ONLY for members, moderators may type", async () => {
    for (const settings of [{ read_only: true }, { kind: "announcement" }]) {
      const channel = await newChannel(settings);
      const member = await follow(p.member, [channel]);
      const watcher = await follow(p.admin, [channel]);
      await expectRefused(member, channel, "CHANNEL_READ_ONLY", watcher, { socket: await follow(p.moderator, [channel]), userId: p.moderator.user.id });
    }
  });

  test("an archived channel: CHANNEL_ARCHIVED for everyone", async () => {
    const channel = await newChannel({ archived: true });
    const owner = await follow(p.owner, [channel]);
    owner.send({ type: "typing:start", channelId: channel, ref: "arch" });
    expect(await owner.nextOfType("error")).toMatchObject({ code: "CHANNEL_ARCHIVED", ref: "arch" });
  });

  test("a role denied send_messages by a channel override: PERMISSION_DENIED", async () => {
    const channel = await newChannel();
    await expectOk(p.owner.call("PUT", `/api/channels/${channel}/overrides`, { base_role: "member", allow: [], deny: ["send_messages"] }), 204);
    const member = await follow(p.member, [channel]);
    const watcher = await follow(p.owner, [channel]);
    await expectRefused(member, channel, "PERMISSION_DENIED", watcher, { socket: await follow(p.admin, [channel]), userId: p.admin.user.id });
  });

  test("a blocked DM: BLOCKED both ways; the other side sees nothing", async () => {
    const [a, b] = [await client(ctx), await client(ctx)];
    const { makeContacts } = await import("../../helpers/contacts.ts");
    const dm = await makeContacts(ctx, a.user.id, b.user.id);
    const aSocket = await follow(a, [dm]);
    const bSocket = await follow(b, [dm]);
    await expectOk(b.call("POST", "/api/users/blocks", { user_id: a.user.id }), 204);
    for (const [typist, other] of [[aSocket, bSocket], [bSocket, aSocket]] as const) {
      typist.send({ type: "typing:start", channelId: dm, ref: "blocked" });
      expect(await typist.nextOfType("error")).toMatchObject({ code: "BLOCKED", ref: "blocked" });
      // A frame published to the DM after the refusal reaches the other side first: nothing was relayed.
      ctx.hub.publish(`channel:${dm}`, { type: "test:sentinel" });
      await other.nextOfType("test:sentinel");
      expect(other.received.some((f) => f.type === "typing:started")).toBe(false);
    }
  });

  test("a channel the user cannot see is still CHANNEL_NOT_FOUND", async () => {
    const channel = await newChannel();
    const outsider = await socketFor(ctx, p.outsider, ws);
    sockets.push(outsider);
    outsider.send({ type: "typing:start", channelId: channel, ref: "x" });
    expect(await outsider.nextOfType("error")).toMatchObject({ code: "CHANNEL_NOT_FOUND", ref: "x" });
  });
});

describe("reactions", () => {
  test("a blocked DM: adding a reaction is 403 BLOCKED both ways and nothing is published; taking one's own back is allowed", async () => {
    const [a, b] = [await client(ctx), await client(ctx)];
    const { makeContacts } = await import("../../helpers/contacts.ts");
    const dm = await makeContacts(ctx, a.user.id, b.user.id);
    const m = await send(a, dm, {}, "pw");
    await expectOk(b.call("PUT", `/api/messages/${m.id}/reactions/${encodeURIComponent("👍")}`));
    const aSocket = await follow(a, [dm]);
    await expectOk(b.call("POST", "/api/users/blocks", { user_id: a.user.id }), 204);
    for (const who of [a, b]) {
      const r = await who.call("PUT", `/api/messages/${m.id}/reactions/${encodeURIComponent("🎉")}`);
      expect([r.status, r.body.error.code]).toEqual([403, "BLOCKED"]);
    }
    ctx.hub.publish(`channel:${dm}`, { type: "test:sentinel" });
    await aSocket.nextOfType("test:sentinel");
    expect(aSocket.received.some((f) => f.type === "reaction:changed")).toBe(false);
    const removed = await b.call("DELETE", `/api/messages/${m.id}/reactions/${encodeURIComponent("👍")}`);
    expect(removed.status).toBe(200);
  });
});
