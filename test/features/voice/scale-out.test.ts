/**
 * Voice across two instances (two apps, one database, the real Redis at REDIS_URL): Alice on A
 * and Bob on B are in one call and signal each other; a kick made on A ends Bob's seat on B; a
 * socket closed on B is re-bound on A within the grace; a crashed instance's seats are freed by
 * the other's sweep; a ring reaches the callee's devices on both and stops on both.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createApp, type App, type AppDeps } from "../../../src/app.ts";
import { setVoiceOptions, stopVoice, sweepVoice } from "../../../src/features/voice/index.ts";
import { silentLogger } from "../../../src/log.ts";
import { RedisFanout } from "../../../src/ws/fanout-redis.ts";
import { Hub } from "../../../src/ws/hub.ts";
import { createTestContext, type TestContext } from "../../helpers/app.ts";
import { listen, type TestSocket } from "../../helpers/ws.ts";
import { expectOk, fakeSdp, framesUntilSentinel, join, newMember, nextMatching, otherDevice, socketOf, voiceWorld, type Client, type VoiceWorld } from "./helpers.ts";

const REDIS_URL = process.env.REDIS_URL?.trim() || undefined;
if (!REDIS_URL) console.log("test/features/voice/scale-out.test.ts: skipped: REDIS_URL is not set (two instances need a real Redis)");

const CHANNEL = `hearth:fanout:voice-test:${process.pid}:${Date.now().toString(36)}`;

describe.skipIf(!REDIS_URL)("voice on two instances through Redis", () => {
  let a: TestContext & { wsUrl: string };
  let b: { deps: AppDeps; app: App; hub: Hub; ctx: TestContext & { wsUrl: string } };
  let w: VoiceWorld;
  const open: TestSocket[] = [];

  beforeAll(async () => {
    const ctxA = await createTestContext({ env: { COMMUNITY_CREATION_MODE: "anyone" }, hub: { fanout: new RedisFanout(REDIS_URL!, "voice-a", silentLogger, CHANNEL) } });
    a = Object.assign(ctxA, { wsUrl: (await listen(ctxA)).ws });
    const hub = new Hub({ log: silentLogger, version: a.config.version, fanout: new RedisFanout(REDIS_URL!, "voice-b", silentLogger, CHANNEL) });
    await hub.start();
    const deps: AppDeps = { ...a.deps, hub, events: hub };
    const app = createApp(deps);
    app.listen({ hostname: "127.0.0.1", port: 0 });
    // Instance B seen through the helpers' context shape (same database, B's hub and port).
    const ctx = Object.assign(Object.create(a) as TestContext, { hub, deps, app, wsUrl: `ws://127.0.0.1:${app.server!.port}/ws` });
    b = { deps, app, hub, ctx };
    w = await voiceWorld(a);
  });
  afterAll(async () => {
    for (const s of open) s.close();
    await stopVoice(b.deps);
    await b.hub.stop();
    b.app.stop(true);
    await a.close();
  });

  async function on(ctx: TestContext & { wsUrl: string }, c: Client, follow: string[]): Promise<TestSocket> {
    const s = await socketOf(ctx, c, follow);
    open.push(s);
    return s;
  }

  async function callAcross() {
    const channel = await expectOk(w.owner.call("POST", `/api/groups/${w.groupId}/channels`, { name: "Across", kind: "voice" }), 201);
    const alice = await newMember(a, w);
    const bob = await newMember(a, w);
    const aliceS = await on(a, alice, [channel.id]);
    const bobS = await on(b.ctx, bob, [channel.id]);
    const aJoin = await join(aliceS, channel.id);
    const bJoin = await join(bobS, channel.id);
    expect(await nextMatching(aliceS, (f) => f.type === "voice:participant_joined" && (f.participant as { userId: string }).userId === bob.user.id)).toMatchObject({ participant: { connId: bJoin.connId } });
    return { channelId: channel.id as string, alice, bob, aliceS, bobS, aConn: aJoin.connId as string, bConn: bJoin.connId as string };
  }

  test("Alice on A and Bob on B: one call, signals relayed both ways", async () => {
    const c = await callAcross();
    c.aliceS.send({ type: "rtc:signal", channelId: c.channelId, signals: [{ to: c.bConn, description: { type: "offer", sdp: fakeSdp("a-to-b") }, attestation: "QUJD" }] });
    expect(await nextMatching(c.bobS, (f) => f.type === "rtc:signal")).toMatchObject({ from: c.aConn, fromUserId: c.alice.user.id, to: c.bConn, description: { type: "offer", sdp: fakeSdp("a-to-b") }, attestation: "QUJD" });
    c.bobS.send({ type: "rtc:signal", channelId: c.channelId, signals: [{ to: c.aConn, description: { type: "answer", sdp: fakeSdp("b-to-a") } }] });
    expect(await nextMatching(c.aliceS, (f) => f.type === "rtc:signal")).toMatchObject({ from: c.bConn, to: c.aConn, description: { type: "answer" } });
    // Exactly once each, across instances.
    expect((await framesUntilSentinel(a, c.bobS, c.bob.user.id)).filter((f) => f.type === "rtc:signal")).toEqual([]);
    expect((await framesUntilSentinel(a, c.aliceS, c.alice.user.id)).filter((f) => f.type === "rtc:signal")).toEqual([]);
  });

  test("a kick made on A ends Bob's seat on B, and B stops relaying for him", async () => {
    const c = await callAcross();
    await expectOk(w.moderator.call("DELETE", `/api/communities/${w.communityId}/members/${c.bob.user.id}`), 204);
    expect(await nextMatching(c.bobS, (f) => f.type === "voice:ended")).toMatchObject({ connId: c.bConn, reason: "KICKED" });
    expect(await nextMatching(c.aliceS, (f) => f.type === "voice:participant_left")).toMatchObject({ userId: c.bob.user.id, reason: "KICKED" });
    c.bobS.send({ type: "rtc:signal", channelId: c.channelId, ref: "late", signals: [{ to: c.aConn, attestation: "QUJD" }] });
    expect(await nextMatching(c.bobS, (f) => f.ref === "late")).toMatchObject({ type: "error", code: "NOT_IN_CALL" });
  });

  test("Bob's socket on B closes; he rejoins through A within the grace: the seat is kept", async () => {
    setVoiceOptions(a.deps, { graceMs: 60_000 });
    setVoiceOptions(b.deps, { graceMs: 60_000 });
    const c = await callAcross();
    c.bobS.close();
    expect(await nextMatching(c.aliceS, (f) => f.type === "voice:participant_updated")).toMatchObject({ participant: { userId: c.bob.user.id, connected: false } });
    const again = await on(a, c.bob, [c.channelId]);
    const back = await join(again, c.channelId);
    expect(back).toMatchObject({ type: "voice:joined", resumed: true });
    expect(await nextMatching(c.aliceS, (f) => f.type === "voice:participant_updated")).toMatchObject({ participant: { userId: c.bob.user.id, connId: back.connId, connected: true } });
    // B's sweep with no grace at all finds nothing to free: the seat is bound again.
    setVoiceOptions(b.deps, { graceMs: 0 });
    await sweepVoice(b.deps);
    setVoiceOptions(b.deps, { graceMs: 60_000 });
    expect((await framesUntilSentinel(a, c.aliceS, c.alice.user.id)).filter((f) => f.type === "voice:participant_left")).toEqual([]);
  });

  test("a seat whose instance stopped refreshing it (a crash) is freed by the other instance's sweep", async () => {
    const c = await callAcross();
    await a.database.db.updateTable("voice_participants").set({ seen_at: new Date(Date.now() - 3_600_000) }).where("conn_id", "=", c.bConn).execute();
    await sweepVoice(a.deps);
    expect(await nextMatching(c.aliceS, (f) => f.type === "voice:participant_left")).toMatchObject({ userId: c.bob.user.id, connId: c.bConn, reason: "DISCONNECTED" });
  });

  test("a ring reaches the callee's devices on both instances; answering on B stops it on A", async () => {
    const alice = await newMember(a, w);
    const bob = await newMember(a, w);
    const channelId = (await expectOk(alice.call("POST", "/api/dms", { user_id: bob.user.id }))).channel_id;
    const aliceS = await on(a, alice, []);
    const laptop = await on(a, bob, []);
    const phone = await otherDevice(b.ctx, bob);
    open.push(phone);
    await join(aliceS, channelId);
    aliceS.send({ type: "voice:ring", channelId });
    await nextMatching(laptop, (f) => f.type === "voice:ring");
    await nextMatching(phone, (f) => f.type === "voice:ring");
    expect((await join(phone, channelId)).type).toBe("voice:joined");
    expect(await nextMatching(laptop, (f) => f.type === "voice:ring_ended")).toMatchObject({ reason: "ANSWERED" });
    expect(await nextMatching(aliceS, (f) => f.type === "voice:ring_ended")).toMatchObject({ reason: "ANSWERED" });
  });
});
