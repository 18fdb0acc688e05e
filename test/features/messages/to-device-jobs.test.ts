/** The to-device queue (permission, delivery event, fetch, ack, limits) and the message jobs. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestContext } from "../../helpers/app.ts";
import { expireMessages, hardDeleteMessages, processMessagePurges } from "../../../src/features/messages/index.ts";
import { client, envelope, expectOk, messagingContext, populatedCommunity, send, socketFor, withSockets, type Client, type Populated } from "./helpers.ts";

let ctx: TestContext;
let p: Populated;
let clock = Date.now();

beforeAll(async () => {
  ctx = await messagingContext({ now: () => clock });
  p = await populatedCommunity(ctx);
});
afterAll(() => ctx.close(), 30_000);

async function device(c: Client, deviceId: string) {
  const bytes = new Uint8Array(32);
  await ctx.database.db.insertInto("key_devices").values({ user_id: c.user.id, device_id: deviceId, signing_key: bytes, identity_key: bytes, signed_prekey_id: 1, signed_prekey: bytes, signed_prekey_signature: new Uint8Array(64), signed_prekey_updated_at: new Date(), created_at: new Date() } as any).execute();
}

describe("to-device queue", () => {
  test("queue to a contact's device, delivery event, fetch oldest first, ack deletes", async () => {
    await device(p.member, "m1");
    await device(p.admin, "a1");
    await device(p.admin, "a2");
    const { ws } = await withSockets(ctx);
    const adminSocket = await socketFor(ctx, p.admin, ws);
    const c1 = envelope(100);
    const c2 = envelope(100);
    const r = await p.member.call("POST", "/api/e2ee/to-device", { sender_device_id: "m1", messages: [{ user_id: p.admin.user.id, device_id: "a1", ciphertext: c1 }, { user_id: p.admin.user.id, device_id: "a1", ciphertext: c2 }, { user_id: p.admin.user.id, device_id: "a2", ciphertext: c1 }] });
    expect([r.status, r.body]).toEqual([202, { queued: 3 }]);
    const events = [await adminSocket.nextOfType("device:message"), await adminSocket.nextOfType("device:message")];
    expect(events.map((e) => e.deviceId).sort()).toEqual(["a1", "a2"]);
    const got = await expectOk(p.admin.call("GET", "/api/e2ee/to-device?device_id=a1"));
    expect(got.messages.map((m: any) => m.ciphertext)).toEqual([c1, c2]);
    expect(got.messages[0]).toMatchObject({ sender_id: p.member.user.id, sender_device_id: "m1" });
    const after = await expectOk(p.admin.call("GET", `/api/e2ee/to-device?device_id=a1&after=${got.messages[0].id}`));
    expect(after.messages.map((m: any) => m.id)).toEqual([got.messages[1].id]);
    await expectOk(p.admin.call("POST", "/api/e2ee/to-device/ack", { device_id: "a1", up_to_id: got.messages[0].id }), 204);
    expect((await expectOk(p.admin.call("GET", "/api/e2ee/to-device?device_id=a1"))).messages.map((m: any) => m.id)).toEqual([got.messages[1].id]);
    // Only the owner reads a device's queue: another user's device "does not exist".
    expect((await p.member.call("GET", "/api/e2ee/to-device?device_id=a1")).status).toBe(404);
    adminSocket.close();
  });

  test("recipients must be users whose keys the sender may fetch; own device required; limits", async () => {
    const stranger = await client(ctx);
    await device(stranger, "s1");
    const post = (body: unknown) => p.member.call("POST", "/api/e2ee/to-device", body);
    const denied = await post({ sender_device_id: "m1", messages: [{ user_id: stranger.user.id, device_id: "s1", ciphertext: envelope() }] });
    expect([denied.status, denied.body.error.code]).toEqual([404, "USER_NOT_FOUND"]);
    const notMine = await post({ sender_device_id: "a1", messages: [{ user_id: p.admin.user.id, device_id: "a1", ciphertext: envelope() }] });
    expect([notMine.status, notMine.body.error.code]).toEqual([400, "UNKNOWN_DEVICE"]);
    const noDevice = await post({ sender_device_id: "m1", messages: [{ user_id: p.admin.user.id, device_id: "zz", ciphertext: envelope() }] });
    expect(noDevice.status).toBe(404);
    const tooMany = await post({ sender_device_id: "m1", messages: Array.from({ length: 201 }, () => ({ user_id: p.admin.user.id, device_id: "a1", ciphertext: envelope(8) })) });
    expect(tooMany.status).toBe(400);
    const big = await post({ sender_device_id: "m1", messages: [{ user_id: p.admin.user.id, device_id: "a1", ciphertext: envelope(65_537) }] });
    expect(big.status).toBe(413);
    const total = await post({ sender_device_id: "m1", messages: Array.from({ length: 40 }, () => ({ user_id: p.admin.user.id, device_id: "a1", ciphertext: envelope(60_000) })) });
    expect(total.status).toBe(413);
    const stored = await ctx.database.db.selectFrom("device_messages").select("id").where("recipient_id", "=", stranger.user.id).execute();
    expect(stored).toEqual([]);
  });

  test("sender_device_id: a revoked or made-up device is 400 UNKNOWN_DEVICE (as sends) and nothing is queued", async () => {
    await device(p.member, "m-gone");
    const body = (from: string) => ({ sender_device_id: from, messages: [{ user_id: p.admin.user.id, device_id: "a1", ciphertext: envelope(8) }] });
    expect((await p.member.call("POST", "/api/e2ee/to-device", body("m-gone"))).status).toBe(202);
    await expectOk(p.member.call("DELETE", "/api/keys/devices/m-gone"), 204);
    for (const from of ["m-gone", "never-registered"]) {
      const r = await p.member.call("POST", "/api/e2ee/to-device", body(from));
      expect([r.status, r.body.error.code]).toEqual([400, "UNKNOWN_DEVICE"]);
    }
    const stored = await ctx.database.db.selectFrom("device_messages").select("id").where("sender_device_id", "in", ["m-gone", "never-registered"]).execute();
    expect(stored.length).toBe(1);
  });

  test("rate-limited per sender", async () => {
    await device(p.moderator, "x1");
    const body = { sender_device_id: "x1", messages: [{ user_id: p.admin.user.id, device_id: "a2", ciphertext: envelope(8) }] };
    const statuses: number[] = [];
    for (let i = 0; i < 32; i++) statuses.push((await p.moderator.call("POST", "/api/e2ee/to-device", body)).status);
    expect(statuses.slice(0, 30).every((s) => s === 202)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
  });
});

describe("jobs", () => {
  test("channel TTL: expired messages disappear from history and are deleted by the job", async () => {
    const id = (await expectOk(p.owner.call("POST", `/api/groups/${p.groupId}/channels`, { name: "ttl", message_ttl_seconds: 60 }), 201)).id;
    const m = await send(p.member, id);
    const keep = await send(p.member, p.generalChannelId);
    clock += 61_000;
    expect((await expectOk(p.member.call("GET", `/api/channels/${id}/messages`))).messages).toEqual([]);
    expect((await p.member.call("GET", `/api/channels/${id}/messages/${m.id}`)).status).toBe(404);
    expect(await expireMessages(ctx.deps)).toBeGreaterThanOrEqual(1);
    expect(await ctx.database.db.selectFrom("messages").select("id").where("id", "=", m.id).executeTakeFirst()).toBeUndefined();
    expect(await ctx.database.db.selectFrom("messages").select("id").where("id", "=", keep.id).executeTakeFirst()).toBeDefined();
  });

  test("ban with delete_message_days erases the user's recent messages in that community only", async () => {
    const victim = await client(ctx);
    const invite = await expectOk(p.owner.call("POST", `/api/communities/${p.communityId}/invites`, {}), 201);
    await expectOk(victim.call("POST", `/api/community-invites/${invite.code}/accept`));
    const old = await send(victim, p.generalChannelId);
    await ctx.database.db.updateTable("messages").set({ created_at: new Date(clock - 3 * 24 * 3600 * 1000) }).where("id", "=", old.id).execute();
    const recent = await send(victim, p.generalChannelId);
    const dm = await expectOk(victim.call("POST", "/api/dms", { user_id: p.member.user.id }));
    const inDm = await send(victim, dm.channel_id, {}, "pw");
    await expectOk(p.admin.call("PUT", `/api/communities/${p.communityId}/bans/${victim.user.id}`, { delete_message_days: 2 }), 204);
    expect(await processMessagePurges(ctx.deps)).toBe(1);
    expect(await processMessagePurges(ctx.deps)).toBe(0);
    const rows = await ctx.database.db.selectFrom("messages").select(["id", "deleted_at"]).where("id", "in", [old.id, recent.id, inDm.id]).execute();
    const deleted = Object.fromEntries(rows.map((r) => [r.id, r.deleted_at !== null]));
    expect(deleted).toEqual({ [old.id]: false, [recent.id]: true, [inDm.id]: false });
  });

  test("deleting a community deletes its messages in the same transaction", async () => {
    const owner = await client(ctx);
    const community = await expectOk(owner.call("POST", "/api/communities", { name: "Doomed" }), 201);
    const groups = await expectOk(owner.call("GET", `/api/communities/${community.id}/groups`));
    const ch = groups.groups[0].channels[0].id;
    const m = await send(owner, ch);
    await expectOk(owner.call("PUT", `/api/messages/${m.id}/reactions/x`));
    await expectOk(owner.call("PUT", `/api/channels/${ch}/pins/${m.id}`), 204);
    await expectOk(owner.call("PUT", `/api/channels/${ch}/read`, { seq: 1 }), 204);
    const del = await owner.call("DELETE", `/api/communities/${community.id}`, { confirm_name: "Doomed" });
    expect([200, 204]).toContain(del.status);
    expect(await ctx.database.db.selectFrom("messages").select("id").where("channel_id", "=", ch).execute()).toEqual([]);
  });

  test("deleted messages are hard-deleted after 30 days; replies survive (reply_to set to null)", async () => {
    const m = await send(p.member, p.generalChannelId);
    const reply = await send(p.admin, p.generalChannelId, { reply_to_id: m.id, thread_root_id: m.id });
    await expectOk(p.member.call("DELETE", `/api/messages/${m.id}`), 204);
    expect(await hardDeleteMessages(ctx.deps)).toBe(0);
    clock += 30 * 24 * 3600 * 1000 + 1000;
    expect(await hardDeleteMessages(ctx.deps)).toBeGreaterThanOrEqual(1);
    expect(await ctx.database.db.selectFrom("messages").select("id").where("id", "=", m.id).executeTakeFirst()).toBeUndefined();
    const kept = await ctx.database.db.selectFrom("messages").select(["reply_to_id", "thread_root_id"]).where("id", "=", reply.id).executeTakeFirstOrThrow();
    expect(kept).toEqual({ reply_to_id: null, thread_root_id: null });
  });
});
