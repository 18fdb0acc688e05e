/**
 * Threads (GET /api/messages/{id}/thread), the pin list's can_pin, and the read-receipt listing
 * of DMs (GET /api/channels/{id}/read-receipts), with their 400s and outsider 404s.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestContext } from "../../helpers/app.ts";
import { expectOk, messagingContext, populatedCommunity, send, type Populated } from "./helpers.ts";

let ctx: TestContext;
let p: Populated;
let channel: string;

beforeAll(async () => {
  ctx = await messagingContext();
  p = await populatedCommunity(ctx);
  channel = p.generalChannelId;
});
afterAll(() => ctx.close(), 30_000);

describe("thread", () => {
  test("root and replies in seq order; a reply names the same thread; after_seq pages; counts", async () => {
    const root = await send(p.member, channel);
    const other = await send(p.admin, channel); // plain channel message between the replies
    const r1 = await send(p.admin, channel, { thread_root_id: root.id });
    const r2 = await send(p.moderator, channel, { thread_root_id: root.id });
    const r3 = await send(p.member, channel, { thread_root_id: r1.id }); // one level: stored under the root
    expect(r3.thread_root_id).toBe(root.id);
    const all = await expectOk(p.member.call("GET", `/api/messages/${root.id}/thread`));
    expect(all.root).toMatchObject({ id: root.id, thread_reply_count: 3 });
    expect(all.replies.map((m: any) => m.id)).toEqual([r1.id, r2.id, r3.id]);
    expect(all.replies.every((m: any) => m.thread_root_id === root.id)).toBe(true);
    expect(all.has_more).toBe(false);
    const viaReply = await expectOk(p.owner.call("GET", `/api/messages/${r2.id}/thread`));
    expect(viaReply.root.id).toBe(root.id);
    expect(viaReply.replies.length).toBe(3);
    const page = await expectOk(p.member.call("GET", `/api/messages/${root.id}/thread?limit=2`));
    expect([page.replies.map((m: any) => m.id), page.has_more]).toEqual([[r1.id, r2.id], true]);
    const rest = await expectOk(p.member.call("GET", `/api/messages/${root.id}/thread?after_seq=${r2.seq}&limit=2`));
    expect([rest.root.id, rest.replies.map((m: any) => m.id), rest.has_more]).toEqual([root.id, [r3.id], false]);
    // A message without replies is a thread of one.
    const alone = await expectOk(p.member.call("GET", `/api/messages/${other.id}/thread`));
    expect([alone.root.id, alone.replies]).toEqual([other.id, []]);
    // A deleted reply stays as a placeholder (every seq), and no longer counts.
    expect((await p.moderator.call("DELETE", `/api/messages/${r2.id}`)).status).toBe(204);
    const after = await expectOk(p.member.call("GET", `/api/messages/${root.id}/thread`));
    expect(after.root.thread_reply_count).toBe(2);
    expect(after.replies.find((m: any) => m.id === r2.id)).toMatchObject({ ciphertext: null });
  });

  test("unread counts leave thread replies out (the timeline does not show them); the root counts", async () => {
    const id = (await expectOk(p.owner.call("POST", `/api/groups/${p.groupId}/channels`, { name: "unread-threads" }), 201)).id;
    const unread = async () => (await expectOk(p.admin.call("GET", "/api/channels/unread"))).channels.find((c: any) => c.channel_id === id);
    const root = await send(p.member, id);
    await send(p.member, id, { thread_root_id: root.id });
    await send(p.moderator, id, { thread_root_id: root.id });
    const plain = await send(p.moderator, id);
    expect(await unread()).toMatchObject({ channel_id: id, unread: 2, mentions: 0, last_seq: plain.seq, read_seq: 0 });
    // Reading up to the root: a reply after it still does not count, a later root does.
    await expectOk(p.admin.call("PUT", `/api/channels/${id}/read`, { seq: root.seq }), 204);
    await send(p.member, id, { thread_root_id: root.id });
    expect((await unread()).unread).toBe(1);
  });

  test("bad cursors are 400 with a stable code", async () => {
    const root = await send(p.member, channel);
    for (const [q, code] of [["limit=0", "INVALID_LIMIT"], ["limit=101", "INVALID_LIMIT"], ["after_seq=-1", "INVALID_AFTER_SEQ"], ["after_seq=x", "INVALID_AFTER_SEQ"]]) {
      const r = await p.member.call("GET", `/api/messages/${root.id}/thread?${q}`);
      expect([q, r.status, r.body.error.code]).toEqual([q, 400, code]);
    }
  });

  test("outsiders and unknown ids get 404, malformed ids 400; a private channel's thread too", async () => {
    const root = await send(p.member, channel);
    for (const id of [root.id, crypto.randomUUID()]) {
      const r = await p.outsider.call("GET", `/api/messages/${id}/thread`);
      expect([id, r.status, r.body.error.code]).toEqual([id, 404, "MESSAGE_NOT_FOUND"]);
    }
    expect((await p.outsider.call("GET", "/api/messages/not-a-uuid/thread")).status).toBe(400);
    const priv = (await expectOk(p.owner.call("POST", `/api/groups/${p.groupId}/channels`, { name: "secret", is_private: true }), 201)).id;
    const hidden = await send(p.owner, priv);
    expect((await p.member.call("GET", `/api/messages/${hidden.id}/thread`)).status).toBe(404);
  });
});

describe("pins list", () => {
  test("can_pin tells the UI who may pin and unpin", async () => {
    const m = await send(p.member, channel);
    expect((await p.moderator.call("PUT", `/api/channels/${channel}/pins/${m.id}`)).status).toBe(204);
    const asMember = await expectOk(p.member.call("GET", `/api/channels/${channel}/pins`));
    expect([asMember.messages.map((x: any) => x.id), asMember.can_pin]).toEqual([[m.id], false]);
    expect((await expectOk(p.moderator.call("GET", `/api/channels/${channel}/pins`))).can_pin).toBe(true);
    expect((await p.outsider.call("GET", `/api/channels/${channel}/pins`)).status).toBe(404);
  });
});

describe("read receipts listing", () => {
  test("a DM lists the other participant's cursor; an opted-out user is left out; never oneself", async () => {
    const dm = (await expectOk(p.member.call("POST", "/api/dms", { user_id: p.admin.user.id }))).channel_id as string;
    const url = `/api/channels/${dm}/read-receipts`;
    expect(await expectOk(p.member.call("GET", url))).toEqual({ receipts: [] });
    const m1 = await send(p.member, dm, {}, "pw");
    const m2 = await send(p.member, dm, {}, "pw");
    await expectOk(p.admin.call("PUT", `/api/channels/${dm}/read`, { seq: m1.seq }), 204);
    await expectOk(p.member.call("PUT", `/api/channels/${dm}/read`, { seq: m2.seq }), 204);
    expect(await expectOk(p.member.call("GET", url))).toEqual({ receipts: [{ user_id: p.admin.user.id, seq: m1.seq }] });
    expect(await expectOk(p.admin.call("GET", url))).toEqual({ receipts: [{ user_id: p.member.user.id, seq: m2.seq }] });
    // Opting out hides the cursor from the listing, as it stops the live event.
    await expectOk(p.admin.call("PUT", "/api/account/preferences", { read_receipts: false }));
    expect(await expectOk(p.member.call("GET", url))).toEqual({ receipts: [] });
    await expectOk(p.admin.call("PUT", "/api/account/preferences", { read_receipts: true }));
    expect((await expectOk(p.member.call("GET", url))).receipts).toEqual([{ user_id: p.admin.user.id, seq: m1.seq }]);
  });

  test("a group DM lists every other participant who read", async () => {
    const g = (await expectOk(p.member.call("POST", "/api/dms", { user_ids: [p.admin.user.id, p.moderator.user.id] }))).channel_id as string;
    const m = await send(p.member, g, {}, "pw");
    await expectOk(p.admin.call("PUT", `/api/channels/${g}/read`, { seq: m.seq }), 204);
    await expectOk(p.moderator.call("PUT", `/api/channels/${g}/read`, { seq: m.seq }), 204);
    const got = await expectOk(p.member.call("GET", `/api/channels/${g}/read-receipts`));
    expect(got.receipts.map((r: any) => r.user_id).sort()).toEqual([p.admin.user.id, p.moderator.user.id].sort());
  });

  test("community channels: 400 NOT_A_DM; outsiders and unknown ids: 404; malformed ids: 400", async () => {
    const r = await p.member.call("GET", `/api/channels/${channel}/read-receipts`);
    expect([r.status, r.body.error.code]).toEqual([400, "NOT_A_DM"]);
    const dm = (await expectOk(p.member.call("POST", "/api/dms", { user_id: p.admin.user.id }))).channel_id as string;
    for (const id of [dm, channel, crypto.randomUUID()]) {
      expect([id, (await p.outsider.call("GET", `/api/channels/${id}/read-receipts`)).status]).toEqual([id, 404]);
    }
    expect((await p.outsider.call("GET", "/api/channels/nope/read-receipts")).status).toBe(400);
    // A third community member is an outsider of the member–admin DM.
    expect((await p.moderator.call("GET", `/api/channels/${dm}/read-receipts`)).status).toBe(404);
  });
});
