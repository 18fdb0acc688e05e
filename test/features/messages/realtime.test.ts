/**
 * Live delivery over real sockets: message:new to followers and the sender's other devices,
 * sending over the socket, hostile frames, removals while connected (kick, ban, revoke, private
 * channel role loss), timeouts, reconnect catch-up by seq, activity and read events.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestContext } from "../../helpers/app.ts";
import type { TestSocket } from "../../helpers/ws.ts";
import { ManualTimers } from "../../helpers/manual-timers.ts";
import { client, countMessages, envelope, expectOk, messagingContext, nextMessage, populatedCommunity, registerTestDevice, send, sendBody, socketFor, subscribe, TEST_DEVICE_ID, withSockets, type Client, type Populated } from "./helpers.ts";

// Typing's auto-stop (and presence) run on this clock: they end when a test advances it.
const timers = new ManualTimers();
let ctx: TestContext;
let p: Populated;
let channel: string;
let ws: string;
const sockets: TestSocket[] = [];

beforeAll(async () => {
  ctx = await messagingContext({ timers });
  p = await populatedCommunity(ctx);
  channel = p.generalChannelId;
  ws = (await withSockets(ctx)).ws;
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await ctx.close();
});

async function follow(c: Client, channelIds = [channel]) {
  const s = await socketFor(ctx, c, ws);
  sockets.push(s);
  await subscribe(s, channelIds);
  return s;
}

async function joinCommunity(): Promise<Client> {
  const c = await client(ctx);
  const invite = await expectOk(p.owner.call("POST", `/api/communities/${p.communityId}/invites`, {}), 201);
  await expectOk(c.call("POST", `/api/community-invites/${invite.code}/accept`));
  return c;
}

/** A marker message from the owner that every follower must receive: proves delivery is flowing. */
async function marker(to: TestSocket[]) {
  const m = await send(p.owner, channel);
  for (const s of to) {
    for (;;) {
      const got = await nextMessage(s);
      if (got.id === m.id) break;
    }
  }
  return m;
}

describe("delivery", () => {
  test("message:new reaches followers (camelCase) and the sender's other device; outsiders cannot follow", async () => {
    const bob = await follow(p.member);
    const aliceOther = await follow(p.admin);
    const m = await send(p.admin, channel);
    for (const s of [bob, aliceOther]) {
      const got = await nextMessage(s);
      expect(got).toMatchObject({ id: m.id, channelId: channel, seq: m.seq, senderId: p.admin.user.id, senderDeviceId: "dev1", ciphertext: m.ciphertext, clientId: m.client_id });
    }
    const outsider = await socketFor(ctx, p.outsider, ws);
    sockets.push(outsider);
    outsider.send({ type: "subscribe", channelIds: [channel], ref: "o" });
    expect(await outsider.nextOfType("error")).toMatchObject({ code: "CHANNEL_NOT_FOUND", ref: "o" });
  });

  test("message:send over the socket answers message:sent and fans out; duplicates stay one", async () => {
    const bob = await follow(p.member);
    const alice = await follow(p.admin);
    await registerTestDevice(ctx, p.admin.user.id, "dev2"); // the sender's second device
    const frame = { type: "message:send", ref: "r1", channelId: channel, clientId: crypto.randomUUID(), scheme: "sk", ciphertext: envelope(), senderDeviceId: "dev2" };
    alice.send(frame);
    const sent = await alice.nextOfType("message:sent");
    expect(sent).toMatchObject({ ref: "r1", message: { channelId: channel, clientId: frame.clientId, senderDeviceId: "dev2" } });
    expect((await nextMessage(bob)).id).toBe((sent.message as any).id);
    const before = await countMessages(ctx);
    alice.send({ ...frame, ref: "r2" });
    const again = await alice.nextOfType("message:sent");
    expect((again.message as any).id).toBe((sent.message as any).id);
    expect(await countMessages(ctx)).toBe(before);
  });

  test("hostile frames: error frames, nothing stored, the socket keeps working", async () => {
    const alice = await follow(p.admin);
    const dm = await expectOk(p.member.call("POST", "/api/dms", { user_id: p.owner.user.id }));
    const before = await countMessages(ctx);
    const base = { type: "message:send", channelId: channel, clientId: crypto.randomUUID(), scheme: "sk", ciphertext: envelope(), senderDeviceId: TEST_DEVICE_ID };
    const cases: [string, unknown, string][] = [
      ["malformed", "{not json", "INVALID_JSON"],
      ["wrong type", { ...base, ref: "a", clientId: 42 }, "INVALID_FRAME"],
      ["unknown field", { ...base, ref: "b", extra: 1 }, "INVALID_FRAME"],
      ["unknown frame", { type: "message:explode", ref: "c" }, "UNKNOWN_TYPE"],
      ["bad base64", { ...base, ref: "d", ciphertext: "@@@" }, "INVALID_FRAME"],
      ["ciphertext over 64 KiB", { ...base, ref: "e", ciphertext: envelope(65_537) }, "INVALID_FRAME"],
      ["oversized frame", { ...base, ref: "f", ciphertext: "A".repeat(200_000) }, "FRAME_TOO_LARGE"],
      ["another channel (a DM of others)", { ...base, ref: "g", channelId: dm.channel_id, scheme: "pw" }, "CHANNEL_NOT_FOUND"],
      ["a channel that does not exist", { ...base, ref: "h", channelId: crypto.randomUUID() }, "CHANNEL_NOT_FOUND"],
      ["wrong scheme", { ...base, ref: "i", clientId: crypto.randomUUID(), scheme: "pw" }, "INVALID_SCHEME"],
      ["a device the sender never registered", { ...base, ref: "j", clientId: crypto.randomUUID(), senderDeviceId: "not-mine" }, "UNKNOWN_DEVICE"],
      ["another user's registered device", { ...base, ref: "k", clientId: crypto.randomUUID(), senderDeviceId: "bobs-phone" }, "UNKNOWN_DEVICE"],
    ];
    await registerTestDevice(ctx, p.member.user.id, "bobs-phone");
    for (const [name, frame, code] of cases) {
      if (typeof frame === "string") alice.sendRaw(frame);
      else alice.send(frame);
      const error = await alice.nextOfType("error");
      expect([name, error.code]).toEqual([name, code]);
      if (code === "UNKNOWN_DEVICE") expect(error).toMatchObject({ field: "sender_device_id", message: expect.stringContaining("device is not registered") });
    }
    expect(alice.isClosed()).toBe(false);
    expect(await countMessages(ctx)).toBe(before);
    alice.send({ type: "ping", ref: "alive" });
    expect(await alice.nextOfType("pong")).toMatchObject({ ref: "alive" });
    await marker([alice]);
  });
});

describe("removals while connected", () => {
  for (const kind of ["kick", "ban", "revoke"] as const) {
    test(`${kind}: the next message in the channel does not reach the removed user's socket`, async () => {
      const victim = await joinCommunity();
      const victimSocket = await follow(victim);
      const witness = await follow(p.member);
      await marker([victimSocket, witness]);
      if (kind === "kick") await expectOk(p.moderator.call("DELETE", `/api/communities/${p.communityId}/members/${victim.user.id}`), 204);
      if (kind === "ban") await expectOk(p.moderator.call("PUT", `/api/communities/${p.communityId}/bans/${victim.user.id}`, {}), 204);
      if (kind === "revoke") await expectOk(victim.call("DELETE", `/api/account/sessions/${(victimSocket as any).sessionId}`), 204);
      const after = await marker([witness]);
      // The witness got it, so the hub has published it: the victim's socket must not have it.
      // Everything sent to the victim before now has arrived once a ping is answered (or it closed).
      if (kind === "revoke") await victimSocket.closed;
      else await victimSocket.roundTrip();
      expect(victimSocket.received.some((f) => f.type === "message:new" && (f.message as any).id === after.id)).toBe(false);
      if (kind === "revoke") expect((await victimSocket.closed).code).toBe(4409);
      else {
        victimSocket.send({ type: "subscribe", channelIds: [channel], ref: "back" });
        expect(await victimSocket.nextOfType("error")).toMatchObject({ code: "CHANNEL_NOT_FOUND", ref: "back" });
      }
    });
  }

  test("losing a private channel (removed from its members by a role change) unsubscribes", async () => {
    const secret = (await expectOk(p.owner.call("POST", `/api/groups/${p.groupId}/channels`, { name: "staff", is_private: true }), 201)).id;
    const mod = await joinCommunity();
    await expectOk(p.owner.call("PUT", `/api/communities/${p.communityId}/members/${mod.user.id}/role`, { role: "admin" }), 204);
    const s = await follow(mod, [secret]);
    const before = await send(p.owner, secret);
    expect((await nextMessage(s)).id).toBe(before.id);
    await expectOk(p.owner.call("PUT", `/api/communities/${p.communityId}/members/${mod.user.id}/role`, { role: "member" }), 204);
    const witness = await follow(p.owner, [secret]);
    // The re-check runs after COMMIT; wait (bounded) until the hub has unsubscribed the socket.
    const deadline = Date.now() + 15_000;
    let last: any;
    for (;;) {
      last = await send(p.owner, secret);
      await nextMessage(witness).then(async (m) => m.id === last.id || (await nextMessage(witness)));
      await s.roundTrip();
      if (!s.received.some((f) => f.type === "message:new" && (f.message as any).id === last.id)) break;
      if (Date.now() > deadline) throw new Error("still delivered after the role change");
    }
    const next = await send(p.owner, secret);
    await nextMessage(witness).then(async (m) => m.id === next.id || (await nextMessage(witness)));
    await s.roundTrip();
    expect(s.received.some((f) => f.type === "message:new" && (f.message as any).id === next.id)).toBe(false);
  });

  test("timed out: live delivery stops, HTTP history stays readable (documented), cannot send over HTTP or the socket", async () => {
    const victim = await joinCommunity();
    const s = await follow(victim);
    await expectOk(p.moderator.call("PUT", `/api/communities/${p.communityId}/timeouts/${victim.user.id}`, { duration_seconds: 600 }));
    expect(await s.nextOfType("subscription:revoked")).toMatchObject({ reason: "TIMED_OUT", communityId: p.communityId });
    const m = await send(p.owner, channel);
    const history = await expectOk(victim.call("GET", `/api/channels/${channel}/messages`));
    expect(JSON.stringify(history)).toContain(m.id);
    const r = await victim.call("POST", `/api/channels/${channel}/messages`, sendBody());
    expect([r.status, r.body.error.code]).toEqual([403, "TIMED_OUT"]);
    s.send({ type: "message:send", ref: "t", channelId: channel, clientId: crypto.randomUUID(), scheme: "sk", ciphertext: envelope(), senderDeviceId: TEST_DEVICE_ID });
    expect(await s.nextOfType("error")).toMatchObject({ code: "TIMED_OUT", ref: "t" });
  });
});

describe("nothing lost", () => {
  test("reconnect: drop Bob's socket, send 50, reconnect → Bob fetches all 50 once, in order (after_seq)", async () => {
    const id = (await expectOk(p.owner.call("POST", `/api/groups/${p.groupId}/channels`, { name: "reconnect" }), 201)).id;
    const bob = await follow(p.member, [id]);
    const first = await send(p.admin, id);
    const lastSeen = (await nextMessage(bob)).seq as number;
    expect(lastSeen).toBe(first.seq);
    bob.close();
    await bob.closed;
    const sent = [];
    for (let i = 0; i < 50; i++) sent.push(await send(p.admin, id));
    const again = await follow(p.member, [id]);
    const fetched: any[] = [];
    let after = lastSeen;
    for (;;) {
      const page = await expectOk(p.member.call("GET", `/api/channels/${id}/messages?after_seq=${after}&limit=20`));
      fetched.push(...page.messages);
      if (page.messages.length) after = page.messages.at(-1).seq;
      if (!page.has_more) break;
    }
    expect(fetched.map((m) => m.id)).toEqual(sent.map((m) => m.id));
    expect(fetched.map((m) => m.seq)).toEqual(sent.map((_, i) => lastSeen + 1 + i));
    const live = await send(p.admin, id);
    expect((await nextMessage(again)).seq).toBe(live.seq);
  });
});

describe("user-topic events", () => {
  test("channel:activity (sidebar badges) and read:updated reach the user's sockets", async () => {
    const id = (await expectOk(p.owner.call("POST", `/api/groups/${p.groupId}/channels`, { name: "badges" }), 201)).id;
    const s = await socketFor(ctx, p.member, ws); // follows no channel
    sockets.push(s);
    const m = await send(p.admin, id);
    for (;;) {
      const a = await s.nextOfType("channel:activity");
      if (a.channelId === id) {
        expect(a.seq).toBe(m.seq);
        break;
      }
    }
    await expectOk(p.member.call("PUT", `/api/channels/${id}/read`, { seq: m.seq }), 204);
    expect(await s.nextOfType("read:updated")).toMatchObject({ channelId: id, seq: m.seq });
    // Private channels are not announced to those who cannot see them.
    const secret = (await expectOk(p.owner.call("POST", `/api/groups/${p.groupId}/channels`, { name: "hidden", is_private: true }), 201)).id;
    await send(p.owner, secret);
    const pub = await send(p.owner, id);
    for (;;) {
      const a = await s.nextOfType("channel:activity");
      expect(a.channelId).not.toBe(secret);
      if (a.channelId === id && a.seq === pub.seq) break;
    }
  });

  test("edits, deletes, reactions and pins are published to the channel", async () => {
    const s = await follow(p.member);
    const m = await send(p.moderator, channel);
    await nextMessage(s);
    await expectOk(p.moderator.call("PATCH", `/api/messages/${m.id}`, { ciphertext: envelope() }));
    expect(await s.nextOfType("message:edited")).toMatchObject({ message: { id: m.id } });
    await expectOk(p.member.call("PUT", `/api/messages/${m.id}/reactions/ok`));
    expect(await s.nextOfType("reaction:changed")).toMatchObject({ channelId: channel, messageId: m.id, reactions: [{ emoji: "ok", count: 1 }], userId: p.member.user.id, emoji: "ok", added: true });
    await expectOk(p.moderator.call("PUT", `/api/channels/${channel}/pins/${m.id}`), 204);
    expect(await s.nextOfType("pin:changed")).toMatchObject({ channelId: channel, messageId: m.id, pinned: true });
    await expectOk(p.moderator.call("DELETE", `/api/messages/${m.id}`), 204);
    expect(await s.nextOfType("message:deleted")).toMatchObject({ channelId: channel, messageId: m.id, seq: m.seq });
  });
});

describe("typing", () => {
  test("one typing:started per interval per user, auto-stop, explicit stop; refused outside visible channels", async () => {
    const { setTypingOptions } = await import("../../../src/features/messages/index.ts");
    const { TYPING_AUTO_STOP_MS } = await import("../../../src/features/messages/typing.ts");
    // No second event within the interval, whatever the machine's speed; the auto-stop keeps its
    // real length and fires when the test advances the clock.
    setTypingOptions(ctx.deps, { intervalMs: 60_000 });
    for (const s of sockets.splice(0)) {
      s.close();
      await s.closed;
    }
    const id = (await expectOk(p.owner.call("POST", `/api/groups/${p.groupId}/channels`, { name: "typing" }), 201)).id;
    const bob = await follow(p.member, [id]);
    const alice = await follow(p.admin, [id]);
    alice.send({ type: "typing:start", channelId: id });
    alice.send({ type: "typing:start", channelId: id }); // coalesced
    await alice.roundTrip(); // both starts handled
    expect(await bob.nextOfType("typing:started")).toMatchObject({ channelId: id, userId: p.admin.user.id });
    // Auto-stop after 10 s without a start; the second start produced no second event.
    timers.advance(TYPING_AUTO_STOP_MS);
    expect(await bob.nextOfType("typing:stopped")).toMatchObject({ channelId: id, userId: p.admin.user.id });
    await bob.roundTrip();
    expect(bob.received.filter((f) => f.type === "typing:started" && f.channelId === id)).toHaveLength(1);
    alice.send({ type: "typing:start", channelId: id });
    await bob.nextOfType("typing:started");
    alice.send({ type: "typing:stop", channelId: id });
    await bob.nextOfType("typing:stopped");
    const outsider = await socketFor(ctx, p.outsider, ws);
    sockets.push(outsider);
    outsider.send({ type: "typing:start", channelId: id, ref: "x" });
    expect(await outsider.nextOfType("error")).toMatchObject({ code: "CHANNEL_NOT_FOUND", ref: "x" });
    setTypingOptions(ctx.deps, {});
  });
});
