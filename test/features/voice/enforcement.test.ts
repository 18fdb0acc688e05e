/**
 * A call ends the moment its person may no longer be in it (docs/voice.md, "Who may be in a
 * call"): kick, ban, timeout, leaving the community, a deny override, a role change, the
 * channel made private or archived or turned into a text channel, a revoked session. Each case:
 * the person's session gets `voice:ended {reason}` and the others `voice:participant_left`
 * (bounded waits, no sleeps); their relay is refused from then on; the seat is gone.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { authKernelOf, revokeSession } from "../../../src/features/auth/index.ts";
import { runInTransaction } from "../../../src/db/tx.ts";
import { setVoiceOptions, sweepVoice } from "../../../src/features/voice/index.ts";
import type { TestContext } from "../../helpers/app.ts";
import { signIn } from "../../helpers/users.ts";
import { connectWithToken, type TestSocket } from "../../helpers/ws.ts";
import { expectOk, join, newMember, nextMatching, nextWithRef, socketOf, voiceContext, voiceWorld, type Client, type VoiceWorld } from "./helpers.ts";

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

type InCall = { channelId: string; target: Client; targetSocket: TestSocket; targetConn: string; peer: Client; peerSocket: TestSocket; peerConn: string };

async function callWithTarget(): Promise<InCall> {
  const channel = await expectOk(w.owner.call("POST", `/api/groups/${w.groupId}/channels`, { name: "Enforced", kind: "voice" }), 201);
  const target = await newMember(ctx, w);
  const peer = await newMember(ctx, w);
  const peerSocket = await socketOf(ctx, peer, [channel.id]);
  const targetSocket = await socketOf(ctx, target, [channel.id]);
  open.push(peerSocket, targetSocket);
  const peerConn = (await join(peerSocket, channel.id)).connId as string;
  const targetConn = (await join(targetSocket, channel.id)).connId as string;
  return { channelId: channel.id, target, targetSocket, targetConn, peer, peerSocket, peerConn };
}

/** The target's seat ended with `reason`: told to its session, to the peer, and its relay refused. */
async function expectEnded(c: InCall, reason: string): Promise<void> {
  expect(await nextMatching(c.targetSocket, (f) => f.type === "voice:ended")).toEqual({ type: "voice:ended", channelId: c.channelId, connId: c.targetConn, reason });
  expect(await nextMatching(c.peerSocket, (f) => f.type === "voice:participant_left")).toEqual({ type: "voice:participant_left", channelId: c.channelId, userId: c.target.user.id, connId: c.targetConn, reason });
  c.targetSocket.send({ type: "rtc:signal", channelId: c.channelId, ref: "after", signals: [{ to: c.peerConn, attestation: "QUJD" }] });
  expect(await nextWithRef(c.targetSocket, "after")).toMatchObject({ type: "error", code: "NOT_IN_CALL" });
  const seats = await ctx.database.db.selectFrom("voice_participants").select("user_id").where("channel_id", "=", c.channelId).execute();
  expect(seats.map((s) => s.user_id)).toEqual([c.peer.user.id]);
}

describe("moderation ends the call", () => {
  test("kick: KICKED", async () => {
    const c = await callWithTarget();
    await expectOk(w.moderator.call("DELETE", `/api/communities/${w.communityId}/members/${c.target.user.id}`), 204);
    await expectEnded(c, "KICKED");
  });

  test("ban: BANNED", async () => {
    const c = await callWithTarget();
    await expectOk(w.moderator.call("PUT", `/api/communities/${w.communityId}/bans/${c.target.user.id}`, {}), 204);
    await expectEnded(c, "BANNED");
  });

  test("timeout: TIMED_OUT", async () => {
    const c = await callWithTarget();
    await expectOk(w.moderator.call("PUT", `/api/communities/${w.communityId}/timeouts/${c.target.user.id}`, { duration_seconds: 60 }));
    await expectEnded(c, "TIMED_OUT");
  });

  test("leaving the community: ACCESS_CHANGED", async () => {
    const c = await callWithTarget();
    await expectOk(c.target.call("POST", `/api/communities/${w.communityId}/leave`), 204);
    await expectEnded(c, "ACCESS_CHANGED");
  });
});

describe("losing permission ends the call", () => {
  test("an override denying join_voice to members", async () => {
    const c = await callWithTarget();
    await expectOk(w.owner.call("PUT", `/api/channels/${c.channelId}/overrides`, { base_role: "member", allow: [], deny: ["join_voice"] }), 204);
    // Both are plain members: both lose the seat.
    expect(await nextMatching(c.targetSocket, (f) => f.type === "voice:ended")).toMatchObject({ connId: c.targetConn, reason: "ACCESS_CHANGED" });
    expect(await nextMatching(c.peerSocket, (f) => f.type === "voice:ended")).toMatchObject({ connId: c.peerConn, reason: "ACCESS_CHANGED" });
  });

  test("a role change: a demoted moderator where only moderators may join", async () => {
    const channel = await expectOk(w.owner.call("POST", `/api/groups/${w.groupId}/channels`, { name: "Mods", kind: "voice" }), 201);
    await expectOk(w.owner.call("PUT", `/api/channels/${channel.id}/overrides`, { base_role: "member", allow: [], deny: ["join_voice"] }), 204);
    const mod = await newMember(ctx, w);
    await expectOk(w.owner.call("PUT", `/api/communities/${w.communityId}/members/${mod.user.id}/role`, { role: "moderator" }), 204);
    const peerSocket = await socketOf(ctx, w.admin, [channel.id]);
    const modSocket = await socketOf(ctx, mod, [channel.id]);
    open.push(peerSocket, modSocket);
    await join(peerSocket, channel.id);
    const modConn = (await join(modSocket, channel.id)).connId;
    await expectOk(w.owner.call("PUT", `/api/communities/${w.communityId}/members/${mod.user.id}/role`, { role: "member" }), 204);
    expect(await nextMatching(modSocket, (f) => f.type === "voice:ended")).toEqual({ type: "voice:ended", channelId: channel.id, connId: modConn, reason: "ACCESS_CHANGED" });
    expect(await nextMatching(peerSocket, (f) => f.type === "voice:participant_left")).toMatchObject({ userId: mod.user.id, reason: "ACCESS_CHANGED" });
  });

  test("the channel made private (the person is not one of its members)", async () => {
    const c = await callWithTarget();
    await expectOk(w.owner.call("POST", `/api/channels/${c.channelId}/members`, { user_id: c.peer.user.id }), 204);
    await expectOk(w.owner.call("PATCH", `/api/channels/${c.channelId}`, { is_private: true }));
    await expectEnded(c, "ACCESS_CHANGED");
  });

  test("the channel archived, or turned into a text channel", async () => {
    const archived = await callWithTarget();
    await expectOk(w.owner.call("PATCH", `/api/channels/${archived.channelId}`, { archived: true }));
    expect(await nextMatching(archived.targetSocket, (f) => f.type === "voice:ended")).toMatchObject({ reason: "ACCESS_CHANGED" });
    expect(await nextMatching(archived.peerSocket, (f) => f.type === "voice:ended")).toMatchObject({ reason: "ACCESS_CHANGED" });
    const retyped = await callWithTarget();
    await expectOk(w.owner.call("PATCH", `/api/channels/${retyped.channelId}`, { kind: "text" }));
    expect(await nextMatching(retyped.targetSocket, (f) => f.type === "voice:ended")).toMatchObject({ reason: "ACCESS_CHANGED" });
  });

  test("a revoked session: SESSION_ENDED at once, not after the grace", async () => {
    const c = await callWithTarget();
    // The target's socket belongs to the session its client signed in with; revoke that one.
    const session = await ctx.database.db.selectFrom("voice_participants").select("session_id").where("conn_id", "=", c.targetConn).executeTakeFirstOrThrow();
    await runInTransaction({ db: ctx.database.db, events: ctx.hub }, (tx, outbox) => revokeSession(tx, authKernelOf(ctx.deps), outbox, c.target.user.id, session.session_id, "user_revoked"));
    expect(await nextMatching(c.peerSocket, (f) => f.type === "voice:participant_left")).toMatchObject({ userId: c.target.user.id, reason: "SESSION_ENDED" });
  });
});

describe("the safety net", () => {
  test("a seat whose permission vanished without any notification is ended by the sweep", async () => {
    const c = await callWithTarget();
    // Behind the features' back: no event announces this.
    await ctx.database.db.deleteFrom("community_members").where("community_id", "=", w.communityId).where("user_id", "=", c.target.user.id).execute();
    setVoiceOptions(ctx.deps, { revalidateEveryMs: 0 }); // this sweep re-asks every seat held here
    await sweepVoice(ctx.deps);
    expect(await nextMatching(c.peerSocket, (f) => f.type === "voice:participant_left")).toMatchObject({ userId: c.target.user.id, reason: "ACCESS_CHANGED" });
  });

  test("a kick that commits while the join is being decided still ends the seat", async () => {
    // Many rounds of join racing a kick: whatever the interleaving, nobody kicked keeps a seat.
    const channel = await expectOk(w.owner.call("POST", `/api/groups/${w.groupId}/channels`, { name: "Race", kind: "voice" }), 201);
    for (let i = 0; i < 5; i++) {
      const target = await newMember(ctx, w);
      const s = await socketOf(ctx, target, [channel.id]);
      open.push(s);
      const joining = join(s, channel.id);
      await expectOk(w.moderator.call("DELETE", `/api/communities/${w.communityId}/members/${target.user.id}`), 204);
      await joining;
      const deadline = Date.now() + 5_000;
      let seat = await ctx.database.db.selectFrom("voice_participants").select("user_id").where("user_id", "=", target.user.id).executeTakeFirst();
      while (seat && Date.now() < deadline) {
        await Bun.sleep(25);
        seat = await ctx.database.db.selectFrom("voice_participants").select("user_id").where("user_id", "=", target.user.id).executeTakeFirst();
      }
      expect(seat).toBeUndefined(); // a kicked user keeps no seat
    }
  });

  test("an API client's token socket in a call: the hub closes it on revocation and the seat is not kept for the grace", async () => {
    const c = await newMember(ctx, w);
    const signed = await signIn(ctx, c.user);
    const channel = await expectOk(w.owner.call("POST", `/api/groups/${w.groupId}/channels`, { name: "Revoke", kind: "voice" }), 201);
    const s = await connectWithToken(ctx.wsUrl, signed.accessToken);
    open.push(s);
    s.send({ type: "subscribe", channelIds: [channel.id] });
    await s.nextOfType("subscribed");
    await join(s, channel.id);
    await runInTransaction({ db: ctx.database.db, events: ctx.hub }, (tx, outbox) => revokeSession(tx, authKernelOf(ctx.deps), outbox, c.user.id, signed.sessionId, "user_revoked"));
    expect((await s.closed).code).toBe(4409);
    const deadline = Date.now() + 5_000;
    while ((await ctx.database.db.selectFrom("voice_participants").select("user_id").where("user_id", "=", c.user.id).executeTakeFirst()) !== undefined) {
      if (Date.now() > deadline) throw new Error("the revoked session kept its seat");
      await Bun.sleep(25);
    }
  });
});
