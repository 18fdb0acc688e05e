/** Edits, deletes, reactions, pins, read cursors and unread counts, with their limits and 404s. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestContext } from "../../helpers/app.ts";
import { client, envelope, expectOk, messagingContext, populatedCommunity, send, type Populated } from "./helpers.ts";

let ctx: TestContext;
let p: Populated;
let channel: string;
let clock = Date.now();

beforeAll(async () => {
  ctx = await messagingContext({ now: () => clock });
  p = await populatedCommunity(ctx);
  channel = p.generalChannelId;
});
afterAll(() => ctx.close(), 30_000);

describe("edit", () => {
  test("sender edits within 15 minutes; previous ciphertext kept; then refused", async () => {
    const m = await send(p.member, channel);
    const c2 = envelope();
    const edited = await expectOk(p.member.call("PATCH", `/api/messages/${m.id}`, { ciphertext: c2 }));
    expect(edited.message).toMatchObject({ id: m.id, ciphertext: c2, seq: m.seq });
    expect(edited.message.edited_at).not.toBeNull();
    const versions = await ctx.database.db.selectFrom("message_edits").select("ciphertext").where("message_id", "=", m.id).execute();
    expect(versions.map((v) => Buffer.from(v.ciphertext).toString("base64url"))).toEqual([m.ciphertext]);
    const other = await p.admin.call("PATCH", `/api/messages/${m.id}`, { ciphertext: envelope() });
    expect([other.status, other.body.error.code]).toEqual([403, "NOT_SENDER"]);
    clock += 15 * 60 * 1000 + 1000;
    const late = await p.member.call("PATCH", `/api/messages/${m.id}`, { ciphertext: envelope() });
    expect([late.status, late.body.error.code]).toEqual([403, "EDIT_WINDOW_PASSED"]);
    const big = await send(p.member, channel);
    expect((await p.member.call("PATCH", `/api/messages/${big.id}`, { ciphertext: envelope(65_537) })).status).toBe(413);
  });
});

describe("delete", () => {
  test("own message: content erased, row kept as placeholder; moderators may delete others'; members may not", async () => {
    const m = await send(p.member, channel);
    const r = await p.admin.call("DELETE", `/api/messages/${m.id}`); // admin: manage_messages
    expect(r.status).toBe(204);
    const got = await expectOk(p.member.call("GET", `/api/channels/${channel}/messages/${m.id}`));
    expect(got.message).toMatchObject({ id: m.id, ciphertext: null, mentions: [] });
    expect(got.message.deleted_at).not.toBeNull();
    const mine = await send(p.admin, channel);
    const refused = await p.member.call("DELETE", `/api/messages/${mine.id}`);
    expect([refused.status, refused.body.error.code]).toEqual([403, "PERMISSION_DENIED"]);
    expect((await p.admin.call("DELETE", `/api/messages/${mine.id}`)).status).toBe(204);
    expect((await p.admin.call("DELETE", `/api/messages/${mine.id}`)).status).toBe(204); // idempotent
    expect((await p.admin.call("PATCH", `/api/messages/${mine.id}`, { ciphertext: envelope() })).body.error.code).toBe("MESSAGE_DELETED");
  });
});

describe("reactions", () => {
  test("put/delete idempotent with counts and me; ≤ 20 distinct; emoji 1–34 (a 32-character :shortcode:)", async () => {
    const m = await send(p.member, channel);
    const thumbs = encodeURIComponent("👍");
    let r = await expectOk(p.member.call("PUT", `/api/messages/${m.id}/reactions/${thumbs}`));
    r = await expectOk(p.member.call("PUT", `/api/messages/${m.id}/reactions/${thumbs}`));
    expect(r.reactions).toEqual([{ emoji: "👍", count: 1, me: true }]);
    r = await expectOk(p.admin.call("PUT", `/api/messages/${m.id}/reactions/${thumbs}`));
    expect(r.reactions).toEqual([{ emoji: "👍", count: 2, me: true }]);
    const seen = await expectOk(p.owner.call("GET", `/api/channels/${channel}/messages/${m.id}`));
    expect(seen.message.reactions).toEqual([{ emoji: "👍", count: 2, me: false }]);
    r = await expectOk(p.admin.call("DELETE", `/api/messages/${m.id}/reactions/${thumbs}`));
    expect(r.reactions).toEqual([{ emoji: "👍", count: 1, me: false }]);
    for (let i = 1; i < 20; i++) await expectOk(p.member.call("PUT", `/api/messages/${m.id}/reactions/e${i}`));
    const over = await p.member.call("PUT", `/api/messages/${m.id}/reactions/e20`);
    expect([over.status, over.body.error.code]).toEqual([409, "TOO_MANY_REACTIONS"]);
    await expectOk(p.admin.call("PUT", `/api/messages/${m.id}/reactions/e5`)); // an existing one is fine
    const long = await p.member.call("PUT", `/api/messages/${m.id}/reactions/${"x".repeat(35)}`);
    expect([long.status, long.body.error.code]).toEqual([400, "INVALID_EMOJI"]);
  });

  test("timed-out members cannot react", async () => {
    const victim = await client(ctx);
    const invite = await expectOk(p.owner.call("POST", `/api/communities/${p.communityId}/invites`, {}), 201);
    await expectOk(victim.call("POST", `/api/community-invites/${invite.code}/accept`));
    const m = await send(p.member, channel);
    await expectOk(p.moderator.call("PUT", `/api/communities/${p.communityId}/timeouts/${victim.user.id}`, { duration_seconds: 600 }));
    const r = await victim.call("PUT", `/api/messages/${m.id}/reactions/ok`);
    expect([r.status, r.body.error.code]).toEqual([403, "TIMED_OUT"]);
  });
});

describe("pins", () => {
  test("pin permission, list, unpin, ≤ 50 per channel", async () => {
    const id = (await expectOk(p.owner.call("POST", `/api/groups/${p.groupId}/channels`, { name: "pins" }), 201)).id;
    const m = await send(p.member, id);
    const denied = await p.member.call("PUT", `/api/channels/${id}/pins/${m.id}`);
    expect([denied.status, denied.body.error.code]).toEqual([403, "PERMISSION_DENIED"]);
    expect((await p.moderator.call("PUT", `/api/channels/${id}/pins/${m.id}`)).status).toBe(204);
    expect((await p.moderator.call("PUT", `/api/channels/${id}/pins/${m.id}`)).status).toBe(204);
    const list = await expectOk(p.member.call("GET", `/api/channels/${id}/pins`));
    expect(list.messages.map((x: any) => x.id)).toEqual([m.id]);
    expect((await p.moderator.call("DELETE", `/api/channels/${id}/pins/${m.id}`)).status).toBe(204);
    expect((await expectOk(p.member.call("GET", `/api/channels/${id}/pins`))).messages).toEqual([]);
    for (let i = 0; i < 50; i++) {
      const x = await send(p.moderator, id);
      expect((await p.moderator.call("PUT", `/api/channels/${id}/pins/${x.id}`)).status).toBe(204);
    }
    const over = await p.moderator.call("PUT", `/api/channels/${id}/pins/${m.id}`);
    expect([over.status, over.body.error.code]).toEqual([409, "TOO_MANY_PINS"]);
    // A message through another channel's pin path does not exist there.
    expect((await p.moderator.call("PUT", `/api/channels/${channel}/pins/${m.id}`)).status).toBe(404);
  });
});

describe("read state", () => {
  test("cursor moves forward only, clamps to last seq; unread counts skip own and deleted messages", async () => {
    const id = (await expectOk(p.owner.call("POST", `/api/groups/${p.groupId}/channels`, { name: "unread" }), 201)).id;
    const sent = [];
    for (let i = 0; i < 5; i++) sent.push(await send(p.admin, id));
    await send(p.member, id); // own: not unread for member
    await expectOk(p.admin.call("DELETE", `/api/messages/${sent[4].id}`), 204);
    const find = async () => (await expectOk(p.member.call("GET", "/api/channels/unread"))).channels.find((c: any) => c.channel_id === id);
    expect(await find()).toEqual({ channel_id: id, community_id: p.communityId, unread: 4, mentions: 0, last_seq: 6, read_seq: 0 });
    expect((await p.member.call("PUT", `/api/channels/${id}/read`, { seq: 2 })).status).toBe(204);
    expect(await find()).toEqual({ channel_id: id, community_id: p.communityId, unread: 2, mentions: 0, last_seq: 6, read_seq: 2 });
    await expectOk(p.member.call("PUT", `/api/channels/${id}/read`, { seq: 1 }), 204);
    expect((await find()).read_seq).toBe(2);
    await expectOk(p.member.call("PUT", `/api/channels/${id}/read`, { seq: 999 }), 204);
    expect(await find()).toEqual({ channel_id: id, community_id: p.communityId, unread: 0, mentions: 0, last_seq: 6, read_seq: 6 });
    expect((await p.member.call("PUT", `/api/channels/${id}/read`, { seq: -1 })).status).toBe(400);
    // DMs are listed too; the outsider sees none of the community's channels.
    const dm = await expectOk(p.admin.call("POST", "/api/dms", { user_id: p.member.user.id }));
    await send(p.admin, dm.channel_id, {}, "pw");
    expect((await expectOk(p.member.call("GET", "/api/channels/unread"))).channels.find((c: any) => c.channel_id === dm.channel_id)?.unread).toBe(1);
    const outsider = await expectOk(p.outsider.call("GET", "/api/channels/unread"));
    expect(outsider.channels.some((c: any) => c.channel_id === id)).toBe(false);
  });

  test("private channels appear only for their members and admins", async () => {
    const id = (await expectOk(p.owner.call("POST", `/api/groups/${p.groupId}/channels`, { name: "secret", is_private: true }), 201)).id;
    await send(p.owner, id);
    const ids = async (c: typeof p.member) => (await expectOk(c.call("GET", "/api/channels/unread"))).channels.map((x: any) => x.channel_id);
    expect(await ids(p.member)).not.toContain(id);
    expect(await ids(p.admin)).toContain(id);
  });
});

describe("outsiders get 404 on every message id route", () => {
  test("edit, delete, reactions, pins, read, thread, read receipts, polls, bookmarks", async () => {
    const m = await send(p.member, channel);
    const dm = await expectOk(p.member.call("POST", "/api/dms", { user_id: p.admin.user.id }));
    const o = p.outsider;
    const routes: [string, string, unknown?][] = [
      ["PATCH", `/api/messages/${m.id}`, { ciphertext: envelope() }],
      ["DELETE", `/api/messages/${m.id}`],
      ["PUT", `/api/messages/${m.id}/reactions/x`],
      ["DELETE", `/api/messages/${m.id}/reactions/x`],
      ["PUT", `/api/channels/${channel}/pins/${m.id}`],
      ["DELETE", `/api/channels/${channel}/pins/${m.id}`],
      ["GET", `/api/channels/${channel}/pins`],
      ["PUT", `/api/channels/${channel}/read`, { seq: 1 }],
      ["GET", `/api/messages/${m.id}/thread`],
      ["GET", `/api/channels/${dm.channel_id}/read-receipts`],
      ["GET", `/api/channels/${channel}/read-receipts`],
      ["GET", `/api/channels/${channel}/polls`],
      ["POST", "/api/bookmarks", { message_id: m.id }],
      ["PATCH", `/api/messages/${crypto.randomUUID()}`, { ciphertext: envelope() }],
    ];
    for (const [method, path, body] of routes) {
      const r = await o.call(method, path, body);
      expect([method, path, r.status]).toEqual([method, path, 404]);
    }
    expect((await o.call("DELETE", "/api/messages/not-a-uuid")).status).toBe(400); // malformed: refused before any lookup
    expect((await expectOk(p.member.call("GET", `/api/channels/${channel}/messages/${m.id}`))).message.ciphertext).toBe(m.ciphertext);
  });
});
