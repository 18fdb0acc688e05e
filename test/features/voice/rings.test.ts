/**
 * Calls in DMs and group DMs (docs/voice.md, "Calls in conversations"): a ring reaches every
 * device of the callee; answering or declining on one stops it on all; an unanswered ring stops
 * by itself; an emptied call cancels its rings; nobody rings across a block.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { setVoiceOptions } from "../../../src/features/voice/index.ts";
import type { TestContext } from "../../helpers/app.ts";
import type { TestSocket } from "../../helpers/ws.ts";
import { expectOk, framesUntilSentinel, join, newMember, nextMatching, nextWithRef, otherDevice, socketOf, voiceContext, voiceWorld, type Client, type VoiceWorld } from "./helpers.ts";

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

async function sock(c: Client): Promise<TestSocket> {
  const s = await socketOf(ctx, c);
  open.push(s);
  return s;
}
async function device(c: Client): Promise<TestSocket> {
  const s = await otherDevice(ctx, c);
  open.push(s);
  return s;
}
async function dm(a: Client, b: Client): Promise<string> {
  return (await expectOk(a.call("POST", "/api/dms", { user_id: b.user.id }))).channel_id;
}
async function ring(s: TestSocket, channelId: string, extra: Record<string, unknown> = {}) {
  const ref = crypto.randomUUID().slice(0, 8);
  s.send({ type: "voice:ring", channelId, ref, ...extra });
  return nextWithRef(s, ref);
}

describe("ringing in a DM", () => {
  test("rings every device of the callee; answering on one stops the others and tells the caller", async () => {
    const [alice, bob] = [await newMember(ctx, w), await newMember(ctx, w)];
    const channelId = await dm(alice, bob);
    const aS = await sock(alice);
    const [laptop, phone] = [await sock(bob), await device(bob)];
    const joined = await join(aS, channelId);
    expect(joined.type).toBe("voice:joined");
    // The callee's devices see the call start without having the conversation open.
    expect(await nextMatching(laptop, (f) => f.type === "voice:participant_joined")).toMatchObject({ channelId, participant: { userId: alice.user.id } });

    const ringing = await ring(aS, channelId);
    expect(ringing).toMatchObject({ type: "voice:ringing", channelId, userIds: [bob.user.id] });
    for (const s of [laptop, phone]) expect(await nextMatching(s, (f) => f.type === "voice:ring")).toEqual({ type: "voice:ring", channelId, callerId: alice.user.id, expiresAt: ringing.expiresAt });
    expect((await expectOk(bob.call("GET", "/api/account/voice"))).rings).toEqual([{ channelId, callerId: alice.user.id, expiresAt: ringing.expiresAt }]);

    expect((await join(phone, channelId)).type).toBe("voice:joined");
    const answered = { type: "voice:ring_ended", channelId, calleeId: bob.user.id, callerId: alice.user.id, reason: "ANSWERED" };
    expect(await nextMatching(laptop, (f) => f.type === "voice:ring_ended")).toEqual(answered);
    expect(await nextMatching(aS, (f) => f.type === "voice:ring_ended")).toEqual(answered);
    expect((await expectOk(bob.call("GET", "/api/account/voice"))).rings).toEqual([]);
  });

  test("declining on one device stops the ring on the others and tells the caller", async () => {
    const [alice, bob] = [await newMember(ctx, w), await newMember(ctx, w)];
    const channelId = await dm(alice, bob);
    const aS = await sock(alice);
    const [laptop, phone] = [await sock(bob), await device(bob)];
    await join(aS, channelId);
    await ring(aS, channelId);
    await nextMatching(laptop, (f) => f.type === "voice:ring");
    await nextMatching(phone, (f) => f.type === "voice:ring");
    phone.send({ type: "voice:decline", channelId });
    const declined = { type: "voice:ring_ended", channelId, calleeId: bob.user.id, callerId: alice.user.id, reason: "DECLINED" };
    for (const s of [laptop, phone, aS]) expect(await nextMatching(s, (f) => f.type === "voice:ring_ended")).toEqual(declined);
    // A second decline (the other device, late) changes nothing and tells nobody.
    laptop.send({ type: "voice:decline", channelId });
    expect((await framesUntilSentinel(ctx, aS, alice.user.id)).filter((f) => f.type === "voice:ring_ended")).toEqual([]);
  });

  test("an unanswered ring stops by itself (TIMEOUT); a call that empties cancels its rings (CANCELLED)", async () => {
    const [alice, bob] = [await newMember(ctx, w), await newMember(ctx, w)];
    const channelId = await dm(alice, bob);
    const aS = await sock(alice);
    const bS = await sock(bob);
    await join(aS, channelId);
    setVoiceOptions(ctx.deps, { ringTimeoutMs: 150 });
    try {
      await ring(aS, channelId);
      expect(await nextMatching(bS, (f) => f.type === "voice:ring_ended")).toMatchObject({ calleeId: bob.user.id, reason: "TIMEOUT" });
    } finally {
      setVoiceOptions(ctx.deps, { ringTimeoutMs: 45_000 });
    }
    await ring(aS, channelId);
    await nextMatching(bS, (f) => f.type === "voice:ring");
    aS.send({ type: "voice:leave", channelId });
    expect(await nextMatching(bS, (f) => f.type === "voice:ring_ended")).toMatchObject({ calleeId: bob.user.id, reason: "CANCELLED" });
  });

  test("only a participant of the call may ring, only in conversations, only its members", async () => {
    const [alice, bob, carol] = [await newMember(ctx, w), await newMember(ctx, w), await newMember(ctx, w)];
    const channelId = await dm(alice, bob);
    const aS = await sock(alice);
    expect(await ring(aS, channelId)).toMatchObject({ type: "error", code: "NOT_IN_CALL" });
    await join(aS, channelId);
    expect(await ring(aS, channelId, { userIds: [carol.user.id] })).toMatchObject({ type: "error", code: "USER_NOT_FOUND" });
    const voiceS = await socketOf(ctx, alice, [w.voiceId]);
    open.push(voiceS);
    await join(voiceS, w.voiceId);
    expect(await ring(voiceS, w.voiceId)).toMatchObject({ type: "error", code: "RING_NOT_ALLOWED" });
  });
});

describe("blocks", () => {
  test("a blocked person cannot call or ring in a DM", async () => {
    const [alice, bob] = [await newMember(ctx, w), await newMember(ctx, w)];
    const channelId = await dm(alice, bob);
    await expectOk(bob.call("POST", "/api/users/blocks", { user_id: alice.user.id }), 204);
    const aS = await sock(alice);
    const bS = await sock(bob);
    expect(await join(aS, channelId)).toMatchObject({ type: "error", code: "BLOCKED" });
    expect(await ring(aS, channelId)).toMatchObject({ type: "error", code: "NOT_IN_CALL" });
    expect((await framesUntilSentinel(ctx, bS, bob.user.id)).filter((f) => f.type.startsWith("voice:"))).toEqual([]);
  });

  test("in a group DM, a ring skips whoever blocked the caller or was blocked by them", async () => {
    const [alice, bob, carol, dave] = [await newMember(ctx, w), await newMember(ctx, w), await newMember(ctx, w), await newMember(ctx, w)];
    const group = (await expectOk(alice.call("POST", "/api/dms", { user_ids: [bob.user.id, carol.user.id, dave.user.id] }))).channel_id;
    await expectOk(bob.call("POST", "/api/users/blocks", { user_id: alice.user.id }), 204);
    await expectOk(alice.call("POST", "/api/users/blocks", { user_id: carol.user.id }), 204);
    const aS = await sock(alice);
    const [bS, cS, dS] = [await sock(bob), await sock(carol), await sock(dave)];
    await join(aS, group);
    expect(await ring(aS, group)).toMatchObject({ type: "voice:ringing", userIds: [dave.user.id] });
    expect(await nextMatching(dS, (f) => f.type === "voice:ring")).toMatchObject({ callerId: alice.user.id });
    for (const [s, c] of [[bS, bob], [cS, carol]] as const) expect((await framesUntilSentinel(ctx, s, c.user.id)).filter((f) => f.type === "voice:ring")).toEqual([]);
  });
});
