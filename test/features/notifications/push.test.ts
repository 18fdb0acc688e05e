/**
 * Web push end to end against a real push service on loopback (test/helpers/push-service.ts: it
 * verifies the VAPID JWT and decrypts the aes128gcm body with the subscription keys the test
 * holds). Issue 13 §6 acceptance: Bob subscribed with no open socket gets exactly one push for
 * Alice's DM; the payload has no message text and no ciphertext; an open socket means no push;
 * a mentions-only channel pushes mentions only; do-not-disturb and mutes silence everything; a
 * 410 deletes the subscription; repeated failures are pruned by the job; subscriptions are the
 * caller's own (404 otherwise). Also measures DM send -> push received (p50 of 20).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestContext } from "../../helpers/app.ts";
import { startPushService, type TestPushService } from "../../helpers/push-service.ts";
import { encodingsOf } from "../../helpers/plaintext-scan.ts";
import { connectWithToken, listen, type TestSocket } from "../../helpers/ws.ts";
import { signIn } from "../../helpers/users.ts";
import { expectOk, messagingContext, populatedCommunity, type Populated } from "../messages/helpers.ts";
import { prunePushSubscriptions, pushSettled, type PushPayload } from "../../../src/features/notifications/index.ts";
import { MAX_PUSH_FAILURES } from "../../../src/features/notifications/push-sender.ts";
import { openDm, PLAINTEXT_MARKER, send, subscribe, vapidEnv, waitForSockets } from "./helpers.ts";

let ctx: TestContext;
let service: TestPushService;
let p: Populated;
let dmId: string;
const env = vapidEnv();

beforeAll(async () => {
  service = startPushService();
  ctx = await messagingContext({ env });
  p = await populatedCommunity(ctx);
  dmId = await openDm(p.moderator, p.member);
}, 120_000);
afterAll(async () => {
  await pushSettled(ctx?.deps ?? {});
  await ctx?.close();
  await service?.stop();
});

const alice = () => p.moderator;
const bob = () => p.member;

async function pushesDuring(work: () => Promise<unknown>): Promise<{ count: number; pushes: typeof service.received }> {
  const before = service.received.length;
  await work();
  await pushSettled(ctx.deps);
  const pushes = service.received.slice(before);
  return { count: pushes.length, pushes };
}

describe("web push on new messages", () => {
  test("Bob subscribed, no open tab: Alice's DM makes exactly one push, VAPID-signed, without text or ciphertext", async () => {
    const sub = await subscribe(bob(), service);
    let ciphertext = "";
    const { count, pushes } = await pushesDuring(async () => (ciphertext = (await send(alice(), dmId, "pw")).ciphertext));
    expect(count).toBe(1);
    const push = pushes[0]!;
    expect(push.subscription).toBe(sub.id);
    expect(push.jwt).toMatchObject({ valid: true, alg: "ES256", key: env.VAPID_PUBLIC_KEY });
    expect(push.jwt.claims).toMatchObject({ aud: service.origin, sub: "mailto:ops@example.com" });
    expect(push.headers["content-encoding"]).toBe("aes128gcm");
    const payload = JSON.parse(push.text) as PushPayload;
    expect(payload).toMatchObject({ type: "message", kind: "dm", channel_id: dmId, community_id: null, sender_id: alice().user.id, count: 1, url: `/dms/${dmId}` });
    expect(typeof payload.sender_name).toBe("string");
    // Neither the text (the server never has it) nor the ciphertext, in any encoding.
    for (const forbidden of [PLAINTEXT_MARKER, ciphertext, Buffer.from(ciphertext, "base64url").toString("base64"), Buffer.from(ciphertext, "base64url").toString("hex")]) {
      expect(push.text).not.toContain(forbidden);
      expect(push.text).not.toContain(forbidden.slice(0, 24));
    }
    // The marker in every encoding the plaintext scan knows, in the payload and on the wire.
    for (const { label, bytes } of encodingsOf(PLAINTEXT_MARKER)) {
      expect([label, Buffer.from(push.text).includes(bytes), Buffer.from(push.raw).includes(bytes)]).toEqual([label, false, false]);
    }
    // A second unread message: the count says so.
    const next = await pushesDuring(() => send(alice(), dmId, "pw"));
    expect(JSON.parse(next.pushes[0]!.text).count).toBe(2);
  });

  test("Bob with an open socket gets no push; after it closes, he does again", async () => {
    const { ws } = await listen(ctx);
    const session = await signIn(ctx, bob().user);
    let socket: TestSocket | undefined = await connectWithToken(ws, session.accessToken);
    try {
      await waitForSockets(ctx, bob().user.id, true);
      expect((await pushesDuring(() => send(alice(), dmId, "pw"))).count).toBe(0);
    } finally {
      socket.close();
      socket = undefined;
    }
    await waitForSockets(ctx, bob().user.id, false);
    expect((await pushesDuring(() => send(alice(), dmId, "pw"))).count).toBe(1);
  });

  test("mentions only: a mention in the channel pushes (marked as one), a plain message does not", async () => {
    // The default for community channels is "mentions"; say so on the channel too, over the API.
    await expectOk(bob().call("PUT", `/api/channels/${p.generalChannelId}/notifications`, { level: "mentions" }));
    expect(await expectOk(bob().call("GET", `/api/channels/${p.generalChannelId}/notifications`))).toEqual({ level: "mentions", muted_until: null });
    expect((await pushesDuring(() => send(alice(), p.generalChannelId, "sk"))).count).toBe(0);
    const mention = await pushesDuring(() => send(alice(), p.generalChannelId, "sk", { mentions: [bob().user.id] }));
    expect(mention.count).toBe(1);
    expect(JSON.parse(mention.pushes[0]!.text)).toMatchObject({ kind: "channel", mention: true, channel_id: p.generalChannelId, community_id: p.communityId, url: `/c/${p.communityId}/ch/${p.generalChannelId}` });
    // "All" on the channel: plain messages push too; back to inherit.
    await expectOk(bob().call("PUT", `/api/channels/${p.generalChannelId}/notifications`, { level: "all" }));
    expect((await pushesDuring(() => send(alice(), p.generalChannelId, "sk"))).count).toBe(1);
    await expectOk(bob().call("PUT", `/api/channels/${p.generalChannelId}/notifications`, { level: "inherit" }));
    expect((await pushesDuring(() => send(alice(), p.generalChannelId, "sk"))).count).toBe(0);
  });

  test("do-not-disturb silences everything, mentions and DMs included; muting a DM or the community for a while does too", async () => {
    const settings = await expectOk(bob().call("PUT", "/api/notifications/settings", { dnd: true }));
    expect(settings).toMatchObject({ level: "mentions", dm_level: "all", dnd: true, push: { enabled: true, public_key: env.VAPID_PUBLIC_KEY } });
    expect((await pushesDuring(() => send(alice(), dmId, "pw"))).count).toBe(0);
    expect((await pushesDuring(() => send(alice(), p.generalChannelId, "sk", { mentions: [bob().user.id] }))).count).toBe(0);
    await expectOk(bob().call("PUT", "/api/notifications/settings", { dnd: false }));

    const muted = await expectOk(bob().call("PUT", `/api/channels/${dmId}/notifications`, { mute: "1h" }));
    expect(Date.parse(muted.muted_until) - Date.now()).toBeGreaterThan(3_500_000);
    expect((await pushesDuring(() => send(alice(), dmId, "pw"))).count).toBe(0);
    await expectOk(bob().call("PUT", `/api/channels/${dmId}/notifications`, { mute: "off" }));
    expect((await pushesDuring(() => send(alice(), dmId, "pw"))).count).toBe(1);

    const forever = await expectOk(bob().call("PUT", `/api/communities/${p.communityId}/notifications`, { mute: "forever" }));
    expect(forever.muted_until.startsWith("9999-")).toBe(true);
    expect((await pushesDuring(() => send(alice(), p.generalChannelId, "sk", { mentions: [bob().user.id] }))).count).toBe(0);
    await expectOk(bob().call("PUT", `/api/communities/${p.communityId}/notifications`, { mute: "off" }));
    expect((await pushesDuring(() => send(alice(), p.generalChannelId, "sk", { mentions: [bob().user.id] }))).count).toBe(1);
  });

  test("the sender gets no push for their own message; a non-viewer of the channel gets none", async () => {
    const aliceSub = await subscribe(alice(), service);
    const fromAlice = await pushesDuring(() => send(alice(), dmId, "pw"));
    expect(fromAlice.pushes.map((x) => JSON.parse(x.text).sender_id)).toEqual([alice().user.id]);
    expect(fromAlice.pushes.map((x) => x.subscription)).not.toContain(aliceSub.id);
    expect(fromAlice.pushes.every((x) => JSON.parse(x.text).channel_id === dmId)).toBe(true);
    // The outsider subscribes and is mentioned (a mention of a non-member is dropped by the send path anyway).
    await subscribe(p.outsider, service);
    await expectOk(p.outsider.call("PUT", "/api/notifications/settings", { level: "all" }));
    const channel = await pushesDuring(() => send(bob(), p.generalChannelId, "sk", { mentions: [p.outsider.user.id] }));
    expect(channel.pushes.map((x) => JSON.parse(x.text).sender_id)).not.toContain(undefined);
    const recipients = new Set(channel.pushes.map((x) => x.subscription));
    expect(recipients.size).toBe(channel.count);
    const outsiderRows = await ctx.database.db.selectFrom("push_subscriptions").select("id").where("user_id", "=", p.outsider.user.id).execute();
    expect(outsiderRows.length).toBe(1);
    // Bob's plain channel message: Alice's default is "mentions", the outsider may not view it.
    expect(channel.count).toBe(0);
  });

  test("a 410 from the push service deletes the subscription; repeated failures are pruned by the job", async () => {
    const carol = p.admin;
    const dm = await openDm(alice(), carol);
    const gone = await subscribe(carol, service);
    service.answer(gone.id, 410);
    expect((await pushesDuring(() => send(alice(), dm, "pw"))).count).toBe(1);
    expect(await ctx.database.db.selectFrom("push_subscriptions").select("id").where("id", "=", gone.serverId).executeTakeFirst()).toBeUndefined();

    const failing = await subscribe(carol, service);
    service.answer(failing.id, 500);
    for (let i = 0; i < MAX_PUSH_FAILURES; i++) await pushesDuring(() => send(alice(), dm, "pw"));
    const row = await ctx.database.db.selectFrom("push_subscriptions").select("failure_count").where("id", "=", failing.serverId).executeTakeFirstOrThrow();
    expect(row.failure_count).toBe(MAX_PUSH_FAILURES);
    expect((await prunePushSubscriptions(ctx.deps)).failing).toBe(1);
    expect(await ctx.database.db.selectFrom("push_subscriptions").select("id").where("id", "=", failing.serverId).executeTakeFirst()).toBeUndefined();
  });

  test("subscriptions are per device and the caller's own: another user's id is 404 like an unknown one; signing out ends them", async () => {
    const sub = await subscribe(bob(), service);
    const listed = await expectOk(bob().call("GET", "/api/push/subscriptions"));
    expect(listed.subscriptions.find((s: { id: string }) => s.id === sub.serverId)).toMatchObject({ endpoint_origin: service.origin, this_device: true });
    const theirs = await p.outsider.call("DELETE", `/api/push/subscriptions/${sub.serverId}`);
    const unknown = await p.outsider.call("DELETE", `/api/push/subscriptions/${crypto.randomUUID()}`);
    expect([theirs.status, unknown.status]).toEqual([404, 404]);
    expect(theirs.body).toEqual(unknown.body);
    expect((await bob().call("DELETE", `/api/push/subscriptions/${sub.serverId}`)).status).toBe(204);
    // A session of its own, then signed out: its subscription goes with it.
    const device = await signIn(ctx, bob().user);
    const other = service.subscribe();
    const saved = await ctx.request("/api/push/subscriptions", { method: "POST", headers: device.headers, body: JSON.stringify({ endpoint: other.endpoint, keys: other.keys }) });
    expect(saved.status).toBe(201);
    const id = ((await saved.json()) as { id: string }).id;
    expect((await ctx.request("/api/auth/logout", { method: "POST", headers: device.headers })).status).toBeLessThan(400);
    await pushSettled(ctx.deps);
    expect(await ctx.database.db.selectFrom("push_subscriptions").select("id").where("id", "=", id).executeTakeFirst()).toBeUndefined();
  });

  test("endpoints are checked: https only (http on loopback outside production), no IP literals, no credentials", async () => {
    const keys = service.subscribe().keys;
    for (const endpoint of ["ftp://push.example.com/x", "https://10.0.0.1/x", "https://user:pw@push.example.com/x", "http://push.example.com/x", "not a url"]) {
      const res = await bob().call("POST", "/api/push/subscriptions", { endpoint, keys });
      expect([endpoint, res.status, res.body.error?.code]).toEqual([endpoint, 400, "INVALID_PUSH_ENDPOINT"]);
    }
  });

  test("notification settings of a community or channel are 404 to a non-member, like an unknown id", async () => {
    for (const [path, body] of [
      [`/api/communities/${p.communityId}/notifications`, { level: "all" }],
      [`/api/channels/${p.generalChannelId}/notifications`, { level: "all" }],
      [`/api/channels/${dmId}/notifications`, { mute: "1h" }],
    ] as const) {
      for (const method of ["GET", "PUT"]) {
        const unknownPath = path.replace(/[0-9a-f-]{36}/, crypto.randomUUID());
        const [theirs, none] = [await p.outsider.call(method, path, method === "PUT" ? body : undefined), await p.outsider.call(method, unknownPath, method === "PUT" ? body : undefined)];
        expect([method, path, theirs.status, none.status]).toEqual([method, path, 404, 404]);
        expect(theirs.body.error.message).toBe(none.body.error.message);
      }
    }
  });

  test("measure: a sent DM to the push reaching the push service, p50 over 20 sends", async () => {
    const dave = p.owner;
    const dm = await openDm(alice(), dave);
    await subscribe(dave, service);
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      const before = service.received.length;
      const started = performance.now();
      await send(alice(), dm, "pw");
      const [push] = (await service.waitFor(before + 1)).slice(before);
      times.push(push!.receivedAt - started);
      await pushSettled(ctx.deps);
    }
    times.sort((a, b) => a - b);
    console.log(`push latency (DM send -> push service): p50 ${times[9]!.toFixed(1)} ms, p90 ${times[17]!.toFixed(1)} ms, max ${times[19]!.toFixed(1)} ms over 20 sends (${ctx.database.kind ?? "db"})`);
    expect(times.length).toBe(20);
  });
});
