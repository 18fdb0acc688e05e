/**
 * Subscriptions follow permission changes on open sockets, through the real APIs and real
 * sockets: a timeout cuts live delivery for its duration (TIMED_OUT, with `until`), and channel
 * overrides, private-channel membership, privacy, deletion and role permissions re-check the
 * sockets following the channel after COMMIT, before the request returns on this instance.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestContext } from "../helpers/app.ts";
import { signIn } from "../helpers/users.ts";
import { connectWithToken, listen, type TestSocket } from "../helpers/ws.ts";
// The messaging helpers' client/populatedCommunity: each person has a registered device, which
// every send needs (sender_device_id is checked: UNKNOWN_DEVICE).
import { client, expectOk, messagingContext, populatedCommunity, send, sendBody, subscribe, type Client, type Populated } from "../features/messages/helpers.ts";
import { userTopic } from "../../src/ws/topics.ts";
import { isSubscriptionRevokedFrame } from "../../src/shared/protocol.ts";

let ctx: TestContext;
let url: string;
let c: Populated;
const sockets: TestSocket[] = [];

beforeAll(async () => {
  ctx = await messagingContext();
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

async function newChannel(extra: Record<string, unknown> = {}): Promise<string> {
  return (await expectOk(c.owner.call("POST", `/api/groups/${c.groupId}/channels`, { name: `ch-${crypto.randomUUID().slice(0, 8)}`, ...extra }), 201)).id;
}

/** Publishes a sentinel to the user's own topic and returns every frame received before it. */
async function framesUntilSentinel(socket: TestSocket, userId: string): Promise<{ type: string; [k: string]: unknown }[]> {
  ctx.hub.publish(userTopic(userId), { type: "test:sentinel" });
  const frames: { type: string }[] = [];
  for (;;) {
    const frame = await socket.nextFrame();
    if (frame.type === "test:sentinel") return frames;
    frames.push(frame);
  }
}

/** A real message is sent; the bystander receives it, and `cut` must not have by its sentinel. */
async function expectCutOff(cut: TestSocket, cutUserId: string, bystander: TestSocket, channelId: string): Promise<void> {
  const sent = await send(c.owner, channelId);
  expect(((await bystander.nextOfType("message:new")).message as { id: string }).id).toBe(sent.id);
  const seen = await framesUntilSentinel(cut, cutUserId);
  expect(seen.filter((f) => f.type === "message:new")).toEqual([]);
}

describe("timeouts cut live delivery", () => {
  test("timed out while following: the next message does not reach the socket; it is told why and until when", async () => {
    const who = await joinCommunity();
    const socket = await connect(who);
    const bystander = await connect(c.member);
    await subscribe(socket, [c.generalChannelId]);
    await subscribe(bystander, [c.generalChannelId]);

    const { expires_at: until } = await expectOk(c.moderator.call("PUT", `/api/communities/${c.communityId}/timeouts/${who.user.id}`, { duration_seconds: 600, reason: "cool down" }));
    await expectCutOff(socket, who.user.id, bystander, c.generalChannelId);
    const revoked = socket.received.find((f) => f.type === "subscription:revoked");
    expect(isSubscriptionRevokedFrame(revoked)).toBe(true);
    expect(revoked).toMatchObject({ reason: "TIMED_OUT", communityId: c.communityId, until });
    expect(revoked!.channelIds as string[]).toContain(c.generalChannelId);
    // The moderation frame still arrives on the user's own topic.
    expect(socket.received.some((f) => f.type === "member:timed_out")).toBe(true);

    // Re-subscribing is refused with TIMED_OUT and the end of the timeout.
    socket.send({ type: "subscribe", channelIds: [c.generalChannelId], ref: "again" });
    // nextOfType: a coalesced channel:activity hint for the message sent above may still arrive
    // on the user's own topic first; it is not part of what this step checks.
    expect(await socket.nextOfType("error")).toMatchObject({ type: "error", code: "TIMED_OUT", ref: "again", channelIds: [c.generalChannelId], until });
    expect(await socket.nextOfType("subscribed")).toEqual({ type: "subscribed", channelIds: [], ref: "again" });

    // Reading history over HTTP stays allowed; sending does not.
    expect((await who.call("GET", `/api/channels/${c.generalChannelId}/messages`)).status).toBe(200);
    expect((await who.call("POST", `/api/channels/${c.generalChannelId}/messages`, sendBody())).body.error.code).toBe("TIMED_OUT");

    // Removed early: the client may follow again at once.
    await expectOk(c.moderator.call("DELETE", `/api/communities/${c.communityId}/timeouts/${who.user.id}`), 204);
    expect((await socket.nextOfType("member:timeout_removed")).community_id).toBe(c.communityId);
    await subscribe(socket, [c.generalChannelId]);
    const sent = await send(c.owner, c.generalChannelId);
    expect(((await socket.nextOfType("message:new")).message as { id: string }).id).toBe(sent.id);
  });

  test("after the timeout expires the client can follow again (expiry is read from the database)", async () => {
    const who = await joinCommunity();
    const socket = await connect(who);
    await expectOk(c.moderator.call("PUT", `/api/communities/${c.communityId}/timeouts/${who.user.id}`, { duration_seconds: 60 }));
    socket.send({ type: "subscribe", channelIds: [c.generalChannelId] });
    expect(await socket.nextOfType("error")).toMatchObject({ code: "TIMED_OUT" });
    expect((await socket.nextOfType("subscribed")).channelIds).toEqual([]);
    // Time passes: the row's end is now in the past (as at `until`).
    await ctx.database.db.updateTable("community_timeouts").set({ expires_at: new Date(Date.now() - 1000) }).where("user_id", "=", who.user.id).execute();
    await subscribe(socket, [c.generalChannelId]);
  });

  test("a timeout does not touch the user's other communities or DMs", async () => {
    const who = await joinCommunity();
    const other = await expectOk(c.owner.call("POST", "/api/communities", { name: "Elsewhere" }), 201);
    const invite = await expectOk(c.owner.call("POST", `/api/communities/${other.id}/invites`, {}), 201);
    await expectOk(who.call("POST", `/api/community-invites/${invite.code}/accept`));
    const otherChannel = (await expectOk(c.owner.call("GET", `/api/communities/${other.id}/groups`))).groups[0].channels[0].id;
    const socket = await connect(who);
    await subscribe(socket, [c.generalChannelId, otherChannel]);
    await expectOk(c.moderator.call("PUT", `/api/communities/${c.communityId}/timeouts/${who.user.id}`, { duration_seconds: 60 }));
    const sent = await send(c.owner, otherChannel);
    expect(((await socket.nextOfType("message:new")).message as { id: string }).id).toBe(sent.id);
  });
});

describe("channel access changes re-check the sockets following the channel", () => {
  test("an override denying view_channel to members: a subscribed member stops receiving right after the PUT", async () => {
    const channelId = await newChannel();
    const socket = await connect(c.member);
    const moderator = await connect(c.moderator);
    await subscribe(socket, [channelId]);
    await subscribe(moderator, [channelId]);
    await expectOk(c.owner.call("PUT", `/api/channels/${channelId}/overrides`, { base_role: "member", allow: [], deny: ["view_channel"] }), 204);
    // No waiting: the request returned after this instance's sockets were re-checked.
    await expectCutOff(socket, c.member.user.id, moderator, channelId);
    expect(socket.received.find((f) => f.type === "subscription:revoked")).toEqual({ type: "subscription:revoked", reason: "ACCESS_CHANGED", channelIds: [channelId] });
    // Moderators keep following (the override names members only).
    socket.send({ type: "subscribe", channelIds: [channelId] });
    expect(await socket.nextOfType("error")).toMatchObject({ code: "CHANNEL_NOT_FOUND" });
    expect((await socket.nextOfType("subscribed")).channelIds).toEqual([]);
    // Removing the override lets them follow again.
    const { overrides } = await expectOk(c.owner.call("GET", `/api/channels/${channelId}/overrides`));
    await expectOk(c.owner.call("DELETE", `/api/channels/${channelId}/overrides/${overrides[0].id}`), 204);
    await subscribe(socket, [channelId]);
  });

  test("a channel turned private: members who are not in it are cut off; adding and removing members", async () => {
    const channelId = await newChannel();
    const member = await connect(c.member);
    const admin = await connect(c.admin);
    await subscribe(member, [channelId]);
    await subscribe(admin, [channelId]);
    await expectOk(c.owner.call("PATCH", `/api/channels/${channelId}`, { is_private: true }));
    await expectCutOff(member, c.member.user.id, admin, channelId);

    await expectOk(c.owner.call("POST", `/api/channels/${channelId}/members`, { user_id: c.member.user.id }), 204);
    await subscribe(member, [channelId]);
    await expectOk(c.owner.call("DELETE", `/api/channels/${channelId}/members/${c.member.user.id}`), 204);
    await expectCutOff(member, c.member.user.id, admin, channelId);
    expect(member.received.filter((f) => f.type === "subscription:revoked").length).toBe(2);
    expect(member.received.some((f) => f.type === "channel:removed")).toBe(true);
  });

  test("removing a private channel's member: 404 for a non-member, an unknown channel, and an outsider", async () => {
    const channelId = await newChannel({ is_private: true });
    expect((await c.owner.call("DELETE", `/api/channels/${channelId}/members/${c.member.user.id}`)).body.error.code).toBe("NOT_FOUND");
    expect((await c.owner.call("DELETE", `/api/channels/${crypto.randomUUID()}/members/${c.member.user.id}`)).status).toBe(404);
    expect((await c.outsider.call("DELETE", `/api/channels/${channelId}/members/${c.owner.user.id}`)).status).toBe(404);
    // A member without manage_channels who can see it: 403.
    await expectOk(c.owner.call("POST", `/api/channels/${channelId}/members`, { user_id: c.member.user.id }), 204);
    expect((await c.member.call("DELETE", `/api/channels/${channelId}/members/${c.owner.user.id}`)).status).toBe(403);
  });

  test("a deleted channel: its followers leave the topic and are told", async () => {
    const channelId = await newChannel();
    const socket = await connect(c.member);
    await subscribe(socket, [channelId]);
    await expectOk(c.owner.call("DELETE", `/api/channels/${channelId}`), 204);
    expect(await socket.nextOfType("subscription:revoked")).toEqual({ type: "subscription:revoked", reason: "CHANNEL_DELETED", channelIds: [channelId] });
  });

  test("a role deleted: holders who saw a hidden channel only through it are cut off", async () => {
    const channelId = await newChannel();
    const who = await joinCommunity();
    const role = await expectOk(c.owner.call("POST", `/api/communities/${c.communityId}/roles`, { name: `r-${crypto.randomUUID().slice(0, 6)}`, permissions: [] }), 201);
    await expectOk(c.owner.call("PUT", `/api/communities/${c.communityId}/members/${who.user.id}/roles`, { role_ids: [role.id] }), 204);
    await expectOk(c.owner.call("PUT", `/api/channels/${channelId}/overrides`, { base_role: "member", allow: [], deny: ["view_channel"] }), 204);
    await expectOk(c.owner.call("PUT", `/api/channels/${channelId}/overrides`, { role_id: role.id, allow: ["view_channel"], deny: [] }), 204);
    const socket = await connect(who);
    const admin = await connect(c.admin);
    await subscribe(socket, [channelId]);
    await subscribe(admin, [channelId]);
    await expectOk(c.owner.call("DELETE", `/api/communities/${c.communityId}/roles/${role.id}`), 204);
    await expectCutOff(socket, who.user.id, admin, channelId);
  });
});
