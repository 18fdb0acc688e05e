/**
 * Voice channel calls over /ws (docs/voice.md): who may join, the participant list live to
 * everyone following the channel (and nobody else), mute/deafen/speaking, leaving, moving, the
 * 25-seat cap, and the socket-close grace. Real sockets, real database.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { MAX_VOICE_PARTICIPANTS } from "../../../src/shared/protocol.ts";
import { setVoiceOptions } from "../../../src/features/voice/index.ts";
import type { TestContext } from "../../helpers/app.ts";
import type { TestSocket } from "../../helpers/ws.ts";
import { eventually, expectOk, framesUntilSentinel, join, newMember, nextMatching, nextWithRef, otherDevice, socketOf, voiceContext, voiceWorld, type VoiceWorld } from "./helpers.ts";

let ctx: TestContext & { wsUrl: string };
let w: VoiceWorld;
const open: TestSocket[] = [];

beforeAll(async () => {
  ctx = await voiceContext();
  w = await voiceWorld(ctx);
});
afterAll(async () => {
  for (const s of open) s.close();
  await ctx.close();
});

async function sock(c: VoiceWorld["member"], follow: string[] = [w.voiceId]): Promise<TestSocket> {
  const s = await socketOf(ctx, c, follow);
  open.push(s);
  return s;
}

const seatsOf = (channelId: string) => ctx.database.db.selectFrom("voice_participants").selectAll().where("channel_id", "=", channelId).execute();

describe("joining a voice channel's call", () => {
  test("the joiner gets its connId and the participants; followers of the channel see the join; others see nothing", async () => {
    const channel = await expectOk(w.owner.call("POST", `/api/groups/${w.groupId}/channels`, { name: "Join", kind: "voice" }), 201);
    const alice = await newMember(ctx, w);
    const bob = await newMember(ctx, w);
    const carol = await newMember(ctx, w); // follows another channel only
    const aliceS = await sock(alice, [channel.id]);
    const bobS = await sock(bob, [channel.id]);
    const carolS = await sock(carol, [w.generalChannelId]);

    const joined = await join(aliceS, channel.id, { muted: true });
    expect(joined.type).toBe("voice:joined");
    expect(joined.resumed).toBe(false);
    expect(joined.participants).toEqual([
      { userId: alice.user.id, connId: joined.connId, deviceId: "dev1", muted: true, deafened: false, video: false, screen: false, joinedAt: expect.any(String), connected: true },
    ]);
    const seen = await nextMatching(bobS, (f) => f.type === "voice:participant_joined");
    expect(seen).toEqual({ type: "voice:participant_joined", channelId: channel.id, participant: (joined.participants as unknown[])[0] });
    expect(await framesUntilSentinel(ctx, carolS, carol.user.id)).toEqual([]);

    const bobJoined = await join(bobS, channel.id);
    expect((bobJoined.participants as { userId: string }[]).map((p) => p.userId)).toEqual([alice.user.id, bob.user.id]);
    expect((await nextMatching(aliceS, (f) => f.type === "voice:participant_joined" && (f.participant as { userId: string }).userId === bob.user.id)).participant).toMatchObject({ connId: bobJoined.connId });

    // The HTTP view for the sidebar agrees, for anyone who can see the channel.
    const listed = await expectOk(carol.call("GET", `/api/channels/${channel.id}/voice`));
    expect(listed.participants.map((p: { connId: string }) => p.connId)).toEqual([joined.connId, bobJoined.connId]);
    const sidebar = await expectOk(carol.call("GET", `/api/communities/${w.communityId}/voice`));
    expect(Object.keys(sidebar.channels)).toEqual([channel.id]);
    const mine = await expectOk(alice.call("GET", "/api/account/voice"));
    expect(mine.call).toMatchObject({ channelId: channel.id, participant: { connId: joined.connId } });
  });

  test("refusals: outsiders, text channels, unfollowed channels, unknown devices, timeouts, a deny override, archived", async () => {
    const channel = await expectOk(w.owner.call("POST", `/api/groups/${w.groupId}/channels`, { name: "Refusals", kind: "voice" }), 201);
    const outsiderS = await sock(w.outsider, []);
    expect(await join(outsiderS, channel.id)).toMatchObject({ type: "error", code: "CHANNEL_NOT_FOUND" });
    expect(await join(outsiderS, crypto.randomUUID())).toMatchObject({ type: "error", code: "CHANNEL_NOT_FOUND" });

    const m = await newMember(ctx, w);
    const mS = await sock(m, [w.generalChannelId]);
    expect(await join(mS, w.generalChannelId)).toMatchObject({ type: "error", code: "NOT_A_VOICE_CHANNEL" });
    expect(await join(mS, channel.id)).toMatchObject({ type: "error", code: "SUBSCRIBE_FIRST" });
    mS.send({ type: "subscribe", channelIds: [channel.id] });
    await mS.nextOfType("subscribed");
    expect(await join(mS, channel.id, { deviceId: "not-registered" })).toMatchObject({ type: "error", code: "UNKNOWN_DEVICE" });

    await expectOk(w.owner.call("PUT", `/api/channels/${channel.id}/overrides`, { base_role: "member", allow: [], deny: ["join_voice"] }), 204);
    expect(await join(mS, channel.id)).toMatchObject({ type: "error", code: "PERMISSION_DENIED" });
    // Moderators are not members: the override does not concern them.
    const modS = await sock(w.moderator, [channel.id]);
    expect((await join(modS, channel.id)).type).toBe("voice:joined");
    modS.send({ type: "voice:leave", channelId: channel.id, ref: "bye" });
    await nextWithRef(modS, "bye");
    await expectOk(w.owner.call("PUT", `/api/channels/${channel.id}/overrides`, { base_role: "member", allow: [], deny: [] }), 204);

    await expectOk(w.moderator.call("PUT", `/api/communities/${w.communityId}/timeouts/${m.user.id}`, { duration_seconds: 60 }));
    expect(await join(mS, channel.id)).toMatchObject({ type: "error", code: "TIMED_OUT" });
    await expectOk(w.moderator.call("DELETE", `/api/communities/${w.communityId}/timeouts/${m.user.id}`), 204);

    await expectOk(w.owner.call("PATCH", `/api/channels/${channel.id}`, { archived: true }));
    const m2 = await newMember(ctx, w);
    expect(await join(await sock(m2, [channel.id]), channel.id)).toMatchObject({ type: "error", code: "ARCHIVED" });
    expect(await seatsOf(channel.id)).toEqual([]);
  });
});

describe("who sees a call", () => {
  test("a private voice channel's call is visible only to those who can see the channel", async () => {
    const channel = await expectOk(w.owner.call("POST", `/api/groups/${w.groupId}/channels`, { name: "Private", kind: "voice", is_private: true }), 201);
    const insider = await newMember(ctx, w);
    const other = await newMember(ctx, w);
    await expectOk(w.owner.call("POST", `/api/channels/${channel.id}/members`, { user_id: insider.user.id }), 204);
    const inS = await sock(insider, [channel.id]);
    expect((await join(inS, channel.id)).type).toBe("voice:joined");
    expect((await other.call("GET", `/api/channels/${channel.id}/voice`)).status).toBe(404);
    expect(Object.keys((await expectOk(other.call("GET", `/api/communities/${w.communityId}/voice`))).channels)).not.toContain(channel.id);
    expect(Object.keys((await expectOk(insider.call("GET", `/api/communities/${w.communityId}/voice`))).channels)).toContain(channel.id);
    const otherS = await sock(other, []);
    otherS.send({ type: "subscribe", channelIds: [channel.id], ref: "s" });
    expect(await nextWithRef(otherS, "s")).toMatchObject({ type: "error", code: "CHANNEL_NOT_FOUND" });
    expect(await join(otherS, channel.id)).toMatchObject({ type: "error", code: "CHANNEL_NOT_FOUND" });
  });
});

describe("in the call", () => {
  test("mute, deafen, camera and screen flags reach everyone following; speaking only when it changes; leaving tells all", async () => {
    const channel = await expectOk(w.owner.call("POST", `/api/groups/${w.groupId}/channels`, { name: "State", kind: "voice" }), 201);
    const alice = await newMember(ctx, w);
    const bob = await newMember(ctx, w);
    const watcher = await newMember(ctx, w); // follows the channel, not in the call: the sidebar
    const [aS, bS, wS] = [await sock(alice, [channel.id]), await sock(bob, [channel.id]), await sock(watcher, [channel.id])];
    const a = await join(aS, channel.id);
    const b = await join(bS, channel.id);
    await nextMatching(wS, (f) => f.type === "voice:participant_joined" && (f.participant as { userId: string }).userId === bob.user.id);

    aS.send({ type: "voice:state", channelId: channel.id, muted: true, video: true });
    const updated = await nextMatching(wS, (f) => f.type === "voice:participant_updated");
    expect(updated.participant).toMatchObject({ userId: alice.user.id, connId: a.connId, muted: true, video: true, deafened: false, screen: false, connected: true });
    expect((await nextMatching(bS, (f) => f.type === "voice:participant_updated")).participant).toMatchObject({ muted: true, video: true });

    aS.send({ type: "voice:state", channelId: channel.id, speaking: true });
    aS.send({ type: "voice:state", channelId: channel.id, speaking: true }); // no change: not published again
    aS.send({ type: "voice:state", channelId: channel.id, speaking: false });
    const speaking = [await nextMatching(wS, (f) => f.type === "voice:speaking"), await nextMatching(wS, (f) => f.type === "voice:speaking")];
    expect(speaking).toEqual([
      { type: "voice:speaking", channelId: channel.id, userId: alice.user.id, connId: a.connId, speaking: true },
      { type: "voice:speaking", channelId: channel.id, userId: alice.user.id, connId: a.connId, speaking: false },
    ]);
    expect(await framesUntilSentinel(ctx, wS, watcher.user.id)).toEqual([]);

    // A state frame from a socket that holds no seat, or about another call: NOT_IN_CALL.
    wS.send({ type: "voice:state", channelId: channel.id, muted: true, ref: "w" });
    expect(await nextWithRef(wS, "w")).toMatchObject({ type: "error", code: "NOT_IN_CALL" });
    aS.send({ type: "voice:state", channelId: w.voiceId, muted: true, ref: "other" });
    expect(await nextWithRef(aS, "other")).toMatchObject({ type: "error", code: "NOT_IN_CALL" });

    bS.send({ type: "voice:leave", channelId: channel.id, ref: "leave" });
    expect(await nextWithRef(bS, "leave")).toEqual({ type: "voice:left", channelId: channel.id, ref: "leave" });
    expect(await nextMatching(aS, (f) => f.type === "voice:participant_left")).toEqual({ type: "voice:participant_left", channelId: channel.id, userId: bob.user.id, connId: b.connId, reason: "LEFT" });
    expect(await nextMatching(wS, (f) => f.type === "voice:participant_left")).toMatchObject({ userId: bob.user.id, reason: "LEFT" });
    expect((await seatsOf(channel.id)).map((s) => s.user_id)).toEqual([alice.user.id]);
  });

  test("joining another call moves the seat (MOVED in the first); a second device takes the seat over (the first hangs up)", async () => {
    const one = await expectOk(w.owner.call("POST", `/api/groups/${w.groupId}/channels`, { name: "One", kind: "voice" }), 201);
    const two = await expectOk(w.owner.call("POST", `/api/groups/${w.groupId}/channels`, { name: "Two", kind: "voice" }), 201);
    const mover = await newMember(ctx, w);
    const stayer = await newMember(ctx, w);
    const moverS = await sock(mover, [one.id, two.id]);
    const stayerS = await sock(stayer, [one.id]);
    await join(stayerS, one.id);
    const first = await join(moverS, one.id);
    const second = await join(moverS, two.id);
    expect(second.type).toBe("voice:joined");
    expect(await nextMatching(stayerS, (f) => f.type === "voice:participant_left")).toEqual({ type: "voice:participant_left", channelId: one.id, userId: mover.user.id, connId: first.connId, reason: "MOVED" });
    // The old seat's end reaches the socket before the new seat's answer (hang up, then start).
    const endedAt = moverS.received.findIndex((f) => f.type === "voice:ended" && f.connId === first.connId);
    expect(moverS.received[endedAt]).toEqual({ type: "voice:ended", channelId: one.id, connId: first.connId, reason: "MOVED" });
    expect(endedAt).toBeLessThan(moverS.received.findIndex((f) => f.type === "voice:joined" && f.connId === second.connId));

    // The same person joins the same call from another device: the seat is kept (no leave/join),
    // re-bound with a new connId; the first device is told to hang up.
    const phone = await otherDevice(ctx, mover, [two.id]);
    open.push(phone);
    const taken = await join(phone, two.id);
    expect(taken).toMatchObject({ type: "voice:joined", resumed: true });
    expect(taken.connId).not.toBe(second.connId);
    expect(await nextMatching(moverS, (f) => f.type === "voice:ended")).toEqual({ type: "voice:ended", channelId: two.id, connId: second.connId, reason: "MOVED" });
    // The old socket no longer holds a seat.
    moverS.send({ type: "voice:state", channelId: two.id, muted: true, ref: "old" });
    expect(await nextWithRef(moverS, "old")).toMatchObject({ type: "error", code: "NOT_IN_CALL" });
  });

  test(`at most ${MAX_VOICE_PARTICIPANTS} people: the next one gets VOICE_FULL; someone already seated may rejoin`, async () => {
    const channel = await expectOk(w.owner.call("POST", `/api/groups/${w.groupId}/channels`, { name: "Full", kind: "voice" }), 201);
    const sockets: TestSocket[] = [];
    for (let i = 0; i < MAX_VOICE_PARTICIPANTS; i++) {
      const s = await sock(await newMember(ctx, w), [channel.id]);
      sockets.push(s);
      expect((await join(s, channel.id)).type).toBe("voice:joined");
    }
    const late = await sock(await newMember(ctx, w), [channel.id]);
    expect(await join(late, channel.id)).toMatchObject({ type: "error", code: "VOICE_FULL" });
    expect((await join(sockets[3]!, channel.id)).type).toBe("voice:joined");
    expect(await seatsOf(channel.id)).toHaveLength(MAX_VOICE_PARTICIPANTS);
    for (const s of sockets) {
      s.send({ type: "voice:leave", channelId: channel.id, ref: "l" });
      await nextWithRef(s, "l");
    }
    expect((await join(late, channel.id)).type).toBe("voice:joined");
  });

  test("concurrent joins never exceed the cap", async () => {
    const channel = await expectOk(w.owner.call("POST", `/api/groups/${w.groupId}/channels`, { name: "Race", kind: "voice" }), 201);
    const sockets: TestSocket[] = [];
    for (let i = 0; i < MAX_VOICE_PARTICIPANTS + 5; i++) sockets.push(await sock(await newMember(ctx, w), [channel.id]));
    const answers = await Promise.all(sockets.map((s) => join(s, channel.id)));
    expect(answers.filter((a) => a.type === "voice:joined")).toHaveLength(MAX_VOICE_PARTICIPANTS);
    expect(answers.filter((a) => a.code === "VOICE_FULL")).toHaveLength(5);
    expect(await seatsOf(channel.id)).toHaveLength(MAX_VOICE_PARTICIPANTS);
    for (const s of sockets) s.close();
  });
});

describe("a closed socket", () => {
  test("keeps its seat through the grace: shown reconnecting, and a rejoin within it re-binds the seat without a leave", async () => {
    setVoiceOptions(ctx.deps, { graceMs: 60_000 });
    const channel = await expectOk(w.owner.call("POST", `/api/groups/${w.groupId}/channels`, { name: "Grace", kind: "voice" }), 201);
    const alice = await newMember(ctx, w);
    const bob = await newMember(ctx, w);
    const bS = await sock(bob, [channel.id]);
    await join(bS, channel.id);
    const aS = await sock(alice, [channel.id]);
    const before = await join(aS, channel.id);
    const joinedAt = (before.participants as { userId: string; joinedAt: string }[]).find((p) => p.userId === alice.user.id)!.joinedAt;
    aS.close();
    const away = await nextMatching(bS, (f) => f.type === "voice:participant_updated");
    expect(away.participant).toMatchObject({ userId: alice.user.id, connId: before.connId, connected: false });

    const again = await sock(alice, [channel.id]); // the reload
    const back = await join(again, channel.id);
    expect(back).toMatchObject({ type: "voice:joined", resumed: true });
    expect(back.connId).not.toBe(before.connId);
    const returned = await nextMatching(bS, (f) => f.type === "voice:participant_updated");
    expect(returned.participant).toMatchObject({ userId: alice.user.id, connId: back.connId, connected: true, joinedAt });
    // Nobody saw her leave.
    expect((await framesUntilSentinel(ctx, bS, bob.user.id)).filter((f) => f.type === "voice:participant_left")).toEqual([]);
  });

  test("after the grace the seat is freed: DISCONNECTED", async () => {
    setVoiceOptions(ctx.deps, { graceMs: 100 });
    const channel = await expectOk(w.owner.call("POST", `/api/groups/${w.groupId}/channels`, { name: "Gone", kind: "voice" }), 201);
    const alice = await newMember(ctx, w);
    const bob = await newMember(ctx, w);
    const bS = await sock(bob, [channel.id]);
    await join(bS, channel.id);
    const aS = await sock(alice, [channel.id]);
    const a = await join(aS, channel.id);
    aS.close();
    expect(await nextMatching(bS, (f) => f.type === "voice:participant_left")).toEqual({ type: "voice:participant_left", channelId: channel.id, userId: alice.user.id, connId: a.connId, reason: "DISCONNECTED" });
    await eventually(() => seatsOf(channel.id), (rows) => rows.length === 1, "seat freed");
    setVoiceOptions(ctx.deps, { graceMs: 60_000 });
  });
});
