/**
 * Edit history (issue 17 §6): GET /api/messages/{id}/versions lists the previous ciphertexts of an
 * edited message, oldest first, to whoever can read the channel; an outsider, a member without
 * access to a private channel and a hostile id get the 404 of an unknown message; a deleted
 * message has none (its versions are deleted with its content); the answer is rate limited.
 * The quick switcher's GET /api/switcher lists only what the user can reach.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestContext } from "../../helpers/app.ts";
import { client, envelope, expectOk, messagingContext, populatedCommunity, registerTestDevice, send, TEST_DEVICE_ID, type Populated } from "./helpers.ts";

let ctx: TestContext;
let p: Populated;
let channel: string;

beforeAll(async () => {
  ctx = await messagingContext();
  p = await populatedCommunity(ctx);
  channel = p.generalChannelId;
}, 120_000);
afterAll(() => ctx.close(), 30_000);

describe("message versions", () => {
  test("two edits: the readers see the two previous ciphertexts oldest first; the current one is the message's", async () => {
    const m = await send(p.member, channel);
    const c2 = envelope();
    const c3 = envelope();
    await expectOk(p.member.call("PATCH", `/api/messages/${m.id}`, { ciphertext: c2 }));
    await expectOk(p.member.call("PATCH", `/api/messages/${m.id}`, { ciphertext: c3 }));
    for (const reader of [p.member, p.admin, p.owner]) {
      const got = await expectOk(reader.call("GET", `/api/messages/${m.id}/versions`));
      expect(got.message_id).toBe(m.id);
      expect(got.has_more).toBe(false);
      expect(got.versions.map((v: { ciphertext: string }) => v.ciphertext)).toEqual([m.ciphertext, c2]);
      expect(Date.parse(got.versions[0].created_at)).toBeLessThanOrEqual(Date.parse(got.versions[0].replaced_at));
      expect(got.versions[1].created_at).toBe(got.versions[0].replaced_at);
    }
    const current = await expectOk(p.admin.call("GET", `/api/channels/${channel}/messages/${m.id}`));
    expect(current.message.ciphertext).toBe(c3);
  });

  test("an edit from another of the sender's devices: the message names the new device, each version the device that wrote it; an unknown device is refused and nothing changes", async () => {
    const m = await send(p.member, channel);
    const laptop = `laptop-${crypto.randomUUID().slice(0, 8)}`;
    await registerTestDevice(ctx, p.member.user.id, laptop);
    const c2 = envelope();
    const edited = await expectOk(p.member.call("PATCH", `/api/messages/${m.id}`, { ciphertext: c2, sender_device_id: laptop }));
    expect(edited.message.sender_device_id).toBe(laptop);
    const c3 = envelope();
    await expectOk(p.member.call("PATCH", `/api/messages/${m.id}`, { ciphertext: c3 })); // an older client: the device stays
    const got = await expectOk(p.admin.call("GET", `/api/messages/${m.id}/versions`));
    expect(got.versions.map((v: { sender_device_id: string }) => v.sender_device_id)).toEqual([TEST_DEVICE_ID, laptop]);
    expect((await expectOk(p.admin.call("GET", `/api/channels/${channel}/messages/${m.id}`))).message.sender_device_id).toBe(laptop);
    // Someone else's device, a made-up one: 400 UNKNOWN_DEVICE; the message and its versions stay.
    await registerTestDevice(ctx, p.admin.user.id, "admins-phone");
    for (const device of ["admins-phone", "never-registered"]) {
      const res = await p.member.call("PATCH", `/api/messages/${m.id}`, { ciphertext: envelope(), sender_device_id: device });
      expect([res.status, res.body.error.code]).toEqual([400, "UNKNOWN_DEVICE"]);
    }
    const after = await expectOk(p.admin.call("GET", `/api/channels/${channel}/messages/${m.id}`));
    expect([after.message.ciphertext, after.message.sender_device_id]).toEqual([c3, laptop]);
    expect((await expectOk(p.admin.call("GET", `/api/messages/${m.id}/versions`))).versions).toHaveLength(2);
  });

  test("a message never edited has no versions", async () => {
    const m = await send(p.member, channel);
    expect((await expectOk(p.admin.call("GET", `/api/messages/${m.id}/versions`))).versions).toEqual([]);
  });

  test("outsider, unknown and hostile ids: the same 404 or 400; never another channel's versions", async () => {
    const m = await send(p.member, channel);
    await expectOk(p.member.call("PATCH", `/api/messages/${m.id}`, { ciphertext: envelope() }));
    const outsider = await p.outsider.call("GET", `/api/messages/${m.id}/versions`);
    const unknown = await p.outsider.call("GET", `/api/messages/${crypto.randomUUID()}/versions`);
    expect([outsider.status, outsider.body.error.code]).toEqual([404, "MESSAGE_NOT_FOUND"]);
    expect([unknown.status, unknown.body]).toEqual([404, outsider.body]);
    const stranger = await client(ctx);
    expect((await stranger.call("GET", `/api/messages/${m.id}/versions`)).status).toBe(404);
    for (const hostile of ["not-a-uuid", "'%20OR%201=1--", "..%2F..%2Fetc", m.id.toUpperCase() + "0"]) {
      const r = await p.member.call("GET", `/api/messages/${hostile}/versions`);
      expect([400, 404]).toContain(r.status);
      expect(typeof r.body.error.code).toBe("string");
    }
    // Uppercase is the same id (as for GET message).
    expect((await p.member.call("GET", `/api/messages/${m.id.toUpperCase()}/versions`)).status).toBe(200);
    const anon = await ctx.request(`/api/messages/${m.id}/versions`);
    expect(anon.status).toBe(401);
  });

  test("a private channel: a member without access gets 404, one with access reads", async () => {
    const staff = (await expectOk(p.owner.call("POST", `/api/groups/${p.groupId}/channels`, { name: "staff-versions", is_private: true }), 201)).id as string;
    const m = await send(p.owner, staff);
    await expectOk(p.owner.call("PATCH", `/api/messages/${m.id}`, { ciphertext: envelope() }));
    const r = await p.member.call("GET", `/api/messages/${m.id}/versions`);
    expect([r.status, r.body.error.code]).toEqual([404, "MESSAGE_NOT_FOUND"]);
    expect((await expectOk(p.owner.call("GET", `/api/messages/${m.id}/versions`))).versions).toHaveLength(1);
  });

  test("deleting a message deletes its versions (retention): none are listed, none are stored", async () => {
    const m = await send(p.member, channel);
    await expectOk(p.member.call("PATCH", `/api/messages/${m.id}`, { ciphertext: envelope() }));
    await expectOk(p.member.call("PATCH", `/api/messages/${m.id}`, { ciphertext: envelope() }));
    expect((await p.member.call("DELETE", `/api/messages/${m.id}`)).status).toBe(204);
    const got = await expectOk(p.admin.call("GET", `/api/messages/${m.id}/versions`));
    expect(got.versions).toEqual([]);
    const stored = await ctx.database.db.selectFrom("message_edits").select("id").where("message_id", "=", m.id).execute();
    expect(stored).toEqual([]);
  });

  test("DM versions: the two participants read them, a third person gets 404", async () => {
    const dm = await expectOk(p.member.call("POST", "/api/dms", { user_id: p.admin.user.id }));
    const m = await send(p.member, dm.channel_id, {}, "pw");
    await expectOk(p.member.call("PATCH", `/api/messages/${m.id}`, { ciphertext: envelope() }));
    expect((await expectOk(p.admin.call("GET", `/api/messages/${m.id}/versions`))).versions[0].ciphertext).toBe(m.ciphertext);
    expect((await p.owner.call("GET", `/api/messages/${m.id}/versions`)).status).toBe(404);
  });

  test("rate limited per user: 429 RATE_LIMITED after the burst", async () => {
    const m = await send(p.moderator, channel);
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push((await p.moderator.call("GET", `/api/messages/${m.id}/versions`)).status);
    expect(statuses).toContain(429);
    expect(statuses.slice(0, 20).every((s) => s === 200)).toBe(true);
  });
});

describe("switcher list", () => {
  test("communities, visible channels, DMs and DM people; no private channel without access, nothing of other communities", async () => {
    const other = await populatedCommunity(ctx, "Elsewhere");
    const secret = (await expectOk(p.owner.call("POST", `/api/groups/${p.groupId}/channels`, { name: "secret-switch", is_private: true }), 201)).id as string;
    const dm = await expectOk(p.member.call("POST", "/api/dms", { user_id: p.moderator.user.id }));
    const list = await expectOk(p.member.call("GET", "/api/switcher"));
    const ids = (xs: { id?: string; channel_id?: string }[]) => xs.map((x) => x.id ?? x.channel_id);
    expect(ids(list.communities)).toContain(p.communityId);
    expect(ids(list.communities)).not.toContain(other.communityId);
    expect(ids(list.channels)).toContain(channel);
    expect(ids(list.channels)).not.toContain(secret);
    expect(ids(list.channels)).not.toContain(other.generalChannelId);
    expect(list.channels.find((c: { id: string }) => c.id === channel)).toMatchObject({ community_id: p.communityId, can_send: true });
    expect(ids(list.dms)).toContain(dm.channel_id);
    expect(list.people.find((x: { id: string }) => x.id === p.moderator.user.id)).toMatchObject({ dm_channel_id: dm.channel_id });
    const owners = await expectOk(p.owner.call("GET", "/api/switcher"));
    expect(ids(owners.channels)).toContain(secret);
    expect(ids(owners.dms)).not.toContain(dm.channel_id);
    expect((await ctx.request("/api/switcher")).status).toBe(401);
  });
});
