/**
 * The to-device queue under a flood (issue 10 §4): each (sender, recipient device) pair has its
 * own share in messages and bytes, a full share refuses only its own sender (409 QUEUE_FULL)
 * while other senders' keys to the same device are queued and delivered, each sender has a total
 * byte quota, messages are rate-limited per sender, and undelivered messages expire (injected
 * clock) and are deleted in batches by the message jobs.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestContext } from "../../helpers/app.ts";
import { expireToDeviceMessages, setToDeviceQuotas } from "../../../src/features/messages/index.ts";
import { TO_DEVICE_SHARE_MAX_BYTES, TO_DEVICE_SHARE_MAX_MESSAGES, TO_DEVICE_TTL_MS } from "../../../src/features/messages/schemas.ts";
import { TO_DEVICE_MESSAGE_RATE, TO_DEVICE_RATE } from "../../../src/features/messages/to-device.ts";
import { signIn } from "../../helpers/users.ts";
import { client, envelope, expectOk, messagingContext, populatedCommunity, registerTestDevice, socketFor, withSockets, type Client, type Populated } from "./helpers.ts";

let ctx: TestContext;
let p: Populated;
let clock = Date.now();
let wsUrl: string;

beforeAll(async () => {
  ctx = await messagingContext({ now: () => clock });
  p = await populatedCommunity(ctx);
  wsUrl = (await withSockets(ctx)).ws;
}, 90_000);
afterAll(() => ctx.close(), 30_000);

/** Moves the injected clock; everyone signs in again (access tokens live 15 minutes). */
async function advance(ms: number): Promise<void> {
  clock += ms;
  for (const c of [p.owner, p.admin, p.moderator, p.member]) Object.assign(c.headers, (await signIn(ctx, c.user)).headers);
}

/** Enough time for every sender's rate-limit buckets to be full again. */
function refillRateLimits(): Promise<void> {
  return advance(Math.ceil(Math.max(TO_DEVICE_RATE.burst / TO_DEVICE_RATE.ratePerSec, TO_DEVICE_MESSAGE_RATE.burst / TO_DEVICE_MESSAGE_RATE.ratePerSec) * 1000) + 1000);
}

const post = (from: Client, body: unknown) => from.call("POST", "/api/e2ee/to-device", body);
const toDevice = (userId: string, deviceId: string, count: number, bytes = 8) => Array.from({ length: count }, () => ({ user_id: userId, device_id: deviceId, ciphertext: envelope(bytes) }));

/** Every message waiting for the device, paging as a client does (oldest first). */
async function fetchAll(owner: Client, deviceId: string): Promise<{ id: string; sender_id: string; ciphertext: string }[]> {
  const all: { id: string; sender_id: string; ciphertext: string }[] = [];
  for (;;) {
    const after = all.length ? `&after=${all.at(-1)!.id}` : "";
    const page = await expectOk(owner.call("GET", `/api/e2ee/to-device?device_id=${deviceId}${after}`));
    all.push(...page.messages);
    if (page.messages.length === 0) return all;
  }
}

async function storedRows(where: { recipientDevice?: string; sender?: string }): Promise<number> {
  let q = ctx.database.db.selectFrom("device_messages").select((eb) => eb.fn.countAll<string>().as("n"));
  if (where.recipientDevice) q = q.where("recipient_device_id", "=", where.recipientDevice);
  if (where.sender) q = q.where("sender_id", "=", where.sender);
  return Number((await q.executeTakeFirstOrThrow()).n);
}

describe("a flood from one sender", () => {
  test("fills only the sender's own share (409 QUEUE_FULL); another sender's keys to the same device are queued and delivered", async () => {
    await refillRateLimits();
    await registerTestDevice(ctx, p.admin.user.id, "victim");
    await registerTestDevice(ctx, p.member.user.id, "flooder");
    await registerTestDevice(ctx, p.moderator.user.id, "honest");
    const victimSocket = await socketFor(ctx, p.admin, wsUrl);
    // The flooder sends as fast as the API lets it, 200 messages a call, until refused.
    let flooded = 0;
    let refusal: { status: number; body: any } | undefined;
    for (let call = 0; call < 30 && !refusal; call++) {
      const r = await post(p.member, { sender_device_id: "flooder", messages: toDevice(p.admin.user.id, "victim", 200) });
      if (r.status === 202) flooded += r.body.queued;
      else refusal = r;
    }
    expect(flooded).toBe(TO_DEVICE_SHARE_MAX_MESSAGES);
    expect(refusal!.status).toBe(409);
    expect(refusal!.body.error.code).toBe("QUEUE_FULL");
    expect(refusal!.body.error.message).toContain("share");
    // The refused entries are named (all 200 of the last call: the share was already full).
    expect(Object.keys(refusal!.body.error.fields)).toHaveLength(200);
    expect(refusal!.body.error.fields["messages.0"]).toBeString();
    expect(await storedRows({ recipientDevice: "victim", sender: p.member.user.id })).toBe(TO_DEVICE_SHARE_MAX_MESSAGES);

    // Another co-member's Sender Key distribution to the same device still goes through …
    const key = envelope(300);
    const honest = await post(p.moderator, { sender_device_id: "honest", messages: [{ user_id: p.admin.user.id, device_id: "victim", ciphertext: key }] });
    expect([honest.status, honest.body]).toEqual([202, { queued: 1 }]);
    // … is announced to the victim's sockets …
    let announced = false;
    for (let i = 0; i < 10 && !announced; i++) {
      const event = await victimSocket.nextOfType("device:message");
      announced = event.deviceId === "victim" && (await ctx.database.db.selectFrom("device_messages").select("sender_id").where("id", "=", event.id as string).executeTakeFirst())?.sender_id === p.moderator.user.id;
    }
    expect(announced).toBe(true);
    // … and delivered: the device pages through the queue and finds it.
    const waiting = await fetchAll(p.admin, "victim");
    expect(waiting.filter((m) => m.sender_id === p.moderator.user.id).map((m) => m.ciphertext)).toEqual([key]);
    expect(waiting.filter((m) => m.sender_id === p.member.user.id)).toHaveLength(TO_DEVICE_SHARE_MAX_MESSAGES);
    victimSocket.close();

    // Acknowledging frees the flooder's share again (it is a share of what waits, not a lifetime budget).
    await expectOk(p.admin.call("POST", "/api/e2ee/to-device/ack", { device_id: "victim", up_to_id: waiting.at(-1)!.id }), 204);
    await refillRateLimits();
    expect((await post(p.member, { sender_device_id: "flooder", messages: toDevice(p.admin.user.id, "victim", 1) })).status).toBe(202);
  });

  test("the share is counted in bytes too: 1 MiB waiting fills it; the sender's other targets are unaffected", async () => {
    await refillRateLimits();
    await registerTestDevice(ctx, p.admin.user.id, "bytes-victim");
    await registerTestDevice(ctx, p.admin.user.id, "bytes-other");
    await registerTestDevice(ctx, p.owner.user.id, "bytes-sender");
    const big = 65_536;
    const fill = TO_DEVICE_SHARE_MAX_BYTES / big; // 16 maximum-size messages
    expect((await post(p.owner, { sender_device_id: "bytes-sender", messages: toDevice(p.admin.user.id, "bytes-victim", fill, big) })).status).toBe(202);
    const one = await post(p.owner, { sender_device_id: "bytes-sender", messages: toDevice(p.admin.user.id, "bytes-victim", 1, 1) });
    expect([one.status, one.body.error.code]).toEqual([409, "QUEUE_FULL"]);
    // A call mixing a full share and a free one queues nothing (all or nothing) and names only the full one.
    const mixed = await post(p.owner, { sender_device_id: "bytes-sender", messages: [...toDevice(p.admin.user.id, "bytes-other", 1), ...toDevice(p.admin.user.id, "bytes-victim", 1)] });
    expect([mixed.status, Object.keys(mixed.body.error.fields)]).toEqual([409, ["messages.1"]]);
    expect(await storedRows({ recipientDevice: "bytes-other" })).toBe(0);
    // The same sender's share of another device is its own.
    expect((await post(p.owner, { sender_device_id: "bytes-sender", messages: toDevice(p.admin.user.id, "bytes-other", 1) })).status).toBe(202);
  });

  test("two concurrent calls of one sender cannot both take the last slots of a share", async () => {
    await refillRateLimits();
    await registerTestDevice(ctx, p.admin.user.id, "race-victim");
    await registerTestDevice(ctx, p.member.user.id, "race-sender");
    const body = (n: number) => ({ sender_device_id: "race-sender", messages: toDevice(p.admin.user.id, "race-victim", n) });
    for (let sent = 0; sent < TO_DEVICE_SHARE_MAX_MESSAGES - 150; sent += 170) {
      expect((await post(p.member, body(Math.min(170, TO_DEVICE_SHARE_MAX_MESSAGES - 150 - sent)))).status).toBe(202);
    }
    const statuses = (await Promise.all([post(p.member, body(100)), post(p.member, body(100))])).map((r) => r.status).sort();
    expect(statuses).toEqual([202, 409]);
    expect(await storedRows({ recipientDevice: "race-victim" })).toBe(TO_DEVICE_SHARE_MAX_MESSAGES - 50);
  });

  test("each sender has a total byte quota over all devices (409 TO_DEVICE_QUOTA_EXCEEDED)", async () => {
    await refillRateLimits();
    const sender = await client(ctx);
    const invite = await expectOk(p.owner.call("POST", `/api/communities/${p.communityId}/invites`, {}), 201);
    await expectOk(sender.call("POST", `/api/community-invites/${invite.code}/accept`));
    await registerTestDevice(ctx, p.admin.user.id, "total-a");
    await registerTestDevice(ctx, p.owner.user.id, "total-b");
    setToDeviceQuotas(ctx.deps, { senderBytes: 3_000 });
    try {
      expect((await post(sender, { sender_device_id: "dev1", messages: toDevice(p.admin.user.id, "total-a", 2, 1_000) })).status).toBe(202);
      const over = await post(sender, { sender_device_id: "dev1", messages: toDevice(p.owner.user.id, "total-b", 2, 1_000) });
      expect([over.status, over.body.error.code]).toEqual([409, "TO_DEVICE_QUOTA_EXCEEDED"]);
      expect((await post(sender, { sender_device_id: "dev1", messages: toDevice(p.owner.user.id, "total-b", 1, 1_000) })).status).toBe(202);
      // Other senders are not affected by this sender's total.
      await registerTestDevice(ctx, p.moderator.user.id, "total-other");
      expect((await post(p.moderator, { sender_device_id: "total-other", messages: toDevice(p.owner.user.id, "total-b", 2, 1_000) })).status).toBe(202);
    } finally {
      setToDeviceQuotas(ctx.deps, {});
    }
  });
});

describe("rate limit per sender", () => {
  test("counted in messages, not only calls: a burst of 5,000 messages, then 429 RATE_LIMITED with Retry-After", async () => {
    await refillRateLimits();
    const sender = await client(ctx);
    const invite = await expectOk(p.owner.call("POST", `/api/communities/${p.communityId}/invites`, {}), 201);
    await expectOk(sender.call("POST", `/api/community-invites/${invite.code}/accept`));
    // Spread over devices so that no share fills first.
    const devices = Array.from({ length: Math.ceil(TO_DEVICE_MESSAGE_RATE.burst / TO_DEVICE_SHARE_MAX_MESSAGES) + 1 }, (_, i) => `rl-${i}`);
    for (const d of devices) await registerTestDevice(ctx, p.admin.user.id, d);
    const calls = TO_DEVICE_MESSAGE_RATE.burst / 200;
    expect(calls).toBeLessThan(TO_DEVICE_RATE.burst); // the message bucket, not the call bucket, is what refuses below
    for (let call = 0; call < calls; call++) {
      const r = await post(sender, { sender_device_id: "dev1", messages: toDevice(p.admin.user.id, devices[Math.floor((call * 200) / TO_DEVICE_SHARE_MAX_MESSAGES)]!, 200) });
      expect(r.status).toBe(202);
    }
    const limited = await post(sender, { sender_device_id: "dev1", messages: toDevice(p.admin.user.id, devices.at(-1)!, 1) });
    expect([limited.status, limited.body.error.code]).toEqual([429, "RATE_LIMITED"]);
    expect(limited.body.error.retry_after_secs).toBeGreaterThanOrEqual(1);
    // Another sender is not limited by this one's bucket.
    expect((await post(p.moderator, { sender_device_id: "dev1", messages: toDevice(p.admin.user.id, devices.at(-1)!, 1) })).status).toBe(202);
    // The bucket refills: one second later, 50 more.
    clock += 1_000;
    expect((await post(sender, { sender_device_id: "dev1", messages: toDevice(p.admin.user.id, devices.at(-1)!, TO_DEVICE_MESSAGE_RATE.ratePerSec) })).status).toBe(202);
  }, 60_000);
});

describe("expiry", () => {
  test("undelivered messages expire after the TTL: not fetched, not counted, deleted by the job in batches", async () => {
    await refillRateLimits();
    await registerTestDevice(ctx, p.admin.user.id, "ttl-victim");
    await registerTestDevice(ctx, p.member.user.id, "ttl-sender");
    const body = (n: number) => ({ sender_device_id: "ttl-sender", messages: toDevice(p.admin.user.id, "ttl-victim", n) });
    for (let sent = 0; sent < TO_DEVICE_SHARE_MAX_MESSAGES; sent += 200) expect((await post(p.member, body(200))).status).toBe(202);
    expect((await post(p.member, body(1))).status).toBe(409);
    await advance(TO_DEVICE_TTL_MS - 60_000);
    const fresh = await post(p.moderator, { sender_device_id: "dev1", messages: toDevice(p.admin.user.id, "ttl-victim", 1) });
    expect(fresh.status).toBe(202);
    await expireToDeviceMessages(ctx.deps); // (older tests' rows go now)
    expect(await storedRows({ recipientDevice: "ttl-victim", sender: p.member.user.id })).toBe(TO_DEVICE_SHARE_MAX_MESSAGES);

    await advance(60_000); // the flood is exactly TTL old now: expired
    const waiting = await fetchAll(p.admin, "ttl-victim");
    expect(waiting.map((m) => m.sender_id)).toEqual([p.moderator.user.id]);
    await refillRateLimits();
    expect((await post(p.member, body(1))).status).toBe(202); // the expired rows no longer fill the share
    const before = await storedRows({});
    const deleted = await expireToDeviceMessages(ctx.deps);
    expect(deleted).toBe(TO_DEVICE_SHARE_MAX_MESSAGES); // a full batch of 1,000, then an empty one
    expect(await storedRows({})).toBe(before - deleted);
    expect(await storedRows({ recipientDevice: "ttl-victim", sender: p.member.user.id })).toBe(1);
    expect(await storedRows({ recipientDevice: "ttl-victim", sender: p.moderator.user.id })).toBe(1);
    expect(await expireToDeviceMessages(ctx.deps)).toBe(0);
  });
});
