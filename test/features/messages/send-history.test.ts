/** Sending and history over HTTP: the contract of docs/messages.md, idempotency, limits, rules. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestContext } from "../../helpers/app.ts";
import { client, countMessages, envelope, expectOk, messagingContext, populatedCommunity, registerTestDevice, send, sendBody, type Populated } from "./helpers.ts";

let ctx: TestContext;
let p: Populated;
let channel: string;

beforeAll(async () => {
  ctx = await messagingContext();
  p = await populatedCommunity(ctx);
  channel = p.generalChannelId;
});
afterAll(() => ctx.close(), 30_000);

describe("send", () => {
  test("201 with the message; seq increments; shape as documented", async () => {
    const body = sendBody({ mentions: [p.member.user.id] });
    const r = await p.owner.call("POST", `/api/channels/${channel}/messages`, body);
    expect(r.status).toBe(201);
    const m = r.body.message;
    expect(Object.keys(m).sort()).toEqual(
      ["id", "channel_id", "seq", "sender_id", "sender_name", "sender_device_id", "client_id", "scheme", "ciphertext", "reply_to_id", "thread_root_id", "mentions", "mention_all", "reactions", "thread_reply_count", "created_at", "edited_at", "deleted_at", "expires_at", "webhook"].sort(),
    );
    expect(m).toMatchObject({ channel_id: channel, sender_id: p.owner.user.id, sender_device_id: "dev1", client_id: body.client_id, scheme: "sk", ciphertext: body.ciphertext, mentions: [p.member.user.id], mention_all: null, webhook: null, reactions: [], thread_reply_count: 0, deleted_at: null });
    const next = await send(p.member, channel);
    expect(next.seq).toBe(m.seq + 1);
  });

  test("the same client_id again returns the first message (200), one row", async () => {
    const body = sendBody();
    const first = await expectOk(p.member.call("POST", `/api/channels/${channel}/messages`, body), 201);
    const before = await countMessages(ctx);
    const again = await p.member.call("POST", `/api/channels/${channel}/messages`, { ...body, ciphertext: envelope() });
    expect(again.status).toBe(200);
    expect(again.body.message.id).toBe(first.message.id);
    expect(again.body.message.ciphertext).toBe(body.ciphertext);
    expect(await countMessages(ctx)).toBe(before);
  });

  test("concurrent duplicates converge on one message and no seq gap", async () => {
    const body = sendBody();
    const results = await Promise.all(Array.from({ length: 8 }, () => p.admin.call("POST", `/api/channels/${channel}/messages`, body)));
    const ids = new Set(results.map((r) => r.body.message?.id));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 200)).toHaveLength(7);
    const rows = await ctx.database.db.selectFrom("messages").select("seq").where("channel_id", "=", channel).orderBy("seq").execute();
    expect(rows.map((r) => Number(r.seq))).toEqual(rows.map((_, i) => i + 1));
  });

  test("concurrent distinct sends get distinct consecutive seqs", async () => {
    const results = await Promise.all(Array.from({ length: 10 }, () => send(p.member, channel)));
    const seqs = results.map((m) => m.seq).sort((a, b) => a - b);
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0] + i));
  });

  test("a client_id reused in another channel is refused", async () => {
    const body = sendBody();
    await expectOk(p.member.call("POST", `/api/channels/${channel}/messages`, body), 201);
    const dm = await expectOk(p.member.call("POST", "/api/dms", { user_id: p.owner.user.id }));
    const r = await p.member.call("POST", `/api/channels/${dm.channel_id}/messages`, { ...body, scheme: "pw" });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe("CLIENT_ID_REUSED");
  });

  test("input limits: size, base64url, scheme, device id, mentions", async () => {
    const post = (b: Record<string, unknown>) => p.member.call("POST", `/api/channels/${channel}/messages`, b);
    const before = await countMessages(ctx);
    expect((await post(sendBody({ ciphertext: envelope(65_536) }))).status).toBe(201);
    const big = await post(sendBody({ ciphertext: envelope(65_537) }));
    expect([big.status, big.body.error.code]).toEqual([413, "MESSAGE_TOO_LARGE"]);
    expect((await post(sendBody({ ciphertext: "not base64!" }))).body.error.code).toBe("INVALID_CIPHERTEXT");
    expect((await post(sendBody({ ciphertext: "" }))).body.error.code).toBe("INVALID_CIPHERTEXT");
    expect((await post(sendBody({ scheme: "pw" }))).body.error.code).toBe("INVALID_SCHEME");
    expect((await post(sendBody({ scheme: "plain" }))).body.error.code).toBe("INVALID_SCHEME");
    expect((await post(sendBody({ sender_device_id: "a b" }))).body.error.code).toBe("INVALID_DEVICE_ID");
    expect((await post(sendBody({ client_id: "x" }))).body.error.code).toBe("INVALID_CLIENT_ID");
    const many = Array.from({ length: 51 }, () => crypto.randomUUID());
    expect((await post(sendBody({ mentions: many }))).body.error.code).toBe("TOO_MANY_MENTIONS");
    expect(await countMessages(ctx)).toBe(before + 1);
  });

  test("sender_device_id must be one of the sender's registered, non-revoked devices (400 UNKNOWN_DEVICE)", async () => {
    const post = (b: Record<string, unknown>, path = `/api/channels/${channel}/messages`) => p.member.call("POST", path, b);
    const last = await send(p.member, channel);
    const before = await countMessages(ctx);
    const never = await post(sendBody({ sender_device_id: "never-registered" }));
    expect([never.status, never.body.error.code, never.body.error.fields]).toEqual([400, "UNKNOWN_DEVICE", { sender_device_id: "Not one of your registered devices." }]);
    expect(never.body.error.message).toContain("device is not registered");
    // Another user's device id is not the sender's.
    await registerTestDevice(ctx, p.admin.user.id, "admins-laptop");
    expect((await post(sendBody({ sender_device_id: "admins-laptop" }))).body.error.code).toBe("UNKNOWN_DEVICE");
    // DMs too.
    const dm = await expectOk(p.member.call("POST", "/api/dms", { user_id: p.admin.user.id }));
    expect((await post(sendBody({ sender_device_id: "never-registered" }, "pw"), `/api/channels/${dm.channel_id}/messages`)).body.error.code).toBe("UNKNOWN_DEVICE");
    expect(await countMessages(ctx)).toBe(before);
    // Refusals use no seq: the next message follows the last one.
    expect((await send(p.member, channel)).seq).toBe(last.seq + 1);

    // A revoked device (DELETE /api/keys/devices/{id}) is refused from then on; a retry of a
    // message it sent before the revocation still returns that message.
    await registerTestDevice(ctx, p.member.user.id, "old-phone");
    const body = sendBody({ sender_device_id: "old-phone" });
    const sent = await expectOk(post(body), 201);
    await expectOk(p.member.call("DELETE", "/api/keys/devices/old-phone"), 204);
    expect((await post(sendBody({ sender_device_id: "old-phone" }))).body.error.code).toBe("UNKNOWN_DEVICE");
    const retry = await post(body);
    expect([retry.status, retry.body.message.id]).toEqual([200, sent.message.id]);
  });

  test("mentions of non-members are dropped", async () => {
    const m = await send(p.member, channel, { mentions: [p.admin.user.id, p.outsider.user.id, crypto.randomUUID()] });
    expect(m.mentions).toEqual([p.admin.user.id]);
  });

  test("reply and thread targets must be in the same channel; threads are one level", async () => {
    const root = await send(p.member, channel);
    const reply = await send(p.admin, channel, { thread_root_id: root.id });
    expect(reply.thread_root_id).toBe(root.id);
    const nested = await send(p.owner, channel, { thread_root_id: reply.id, reply_to_id: reply.id });
    expect(nested.thread_root_id).toBe(root.id);
    expect(nested.reply_to_id).toBe(reply.id);
    const dm = await expectOk(p.member.call("POST", "/api/dms", { user_id: p.admin.user.id }));
    const dmMsg = await send(p.member, dm.channel_id, {}, "pw");
    const cross = await p.member.call("POST", `/api/channels/${channel}/messages`, sendBody({ reply_to_id: dmMsg.id }));
    expect([cross.status, cross.body.error.code]).toEqual([400, "INVALID_REPLY_TO_ID"]);
    const got = await expectOk(p.member.call("GET", `/api/channels/${channel}/messages/${root.id}`));
    expect(got.message.thread_reply_count).toBe(2);
  });
});

describe("channel rules", () => {
  async function newChannel(settings: Record<string, unknown>) {
    const c = await expectOk(p.owner.call("POST", `/api/groups/${p.groupId}/channels`, { name: `c${Math.random().toString(36).slice(2, 8)}`, ...settings }), 201);
    return c.id as string;
  }

  test("archived, read-only and announcement channels", async () => {
    const archived = await newChannel({ archived: true });
    const r1 = await p.owner.call("POST", `/api/channels/${archived}/messages`, sendBody());
    expect([r1.status, r1.body.error.code]).toEqual([403, "CHANNEL_ARCHIVED"]);
    for (const settings of [{ read_only: true }, { kind: "announcement" }]) {
      const id = await newChannel(settings);
      const r = await p.member.call("POST", `/api/channels/${id}/messages`, sendBody());
      expect([r.status, r.body.error.code]).toEqual([403, "CHANNEL_READ_ONLY"]);
      await send(p.moderator, id);
    }
  });

  test("slow mode per user per channel, moderators exempt, retry_after_secs", async () => {
    const id = await newChannel({ slow_mode_seconds: 60 });
    await send(p.member, id);
    const r = await p.member.call("POST", `/api/channels/${id}/messages`, sendBody());
    expect([r.status, r.body.error.code]).toEqual([429, "SLOW_MODE"]);
    expect(r.body.error.retry_after_secs).toBeGreaterThan(0);
    await send(p.admin, id); // another user is not slowed by the first
    await send(p.moderator, id);
    await send(p.moderator, id); // manage_messages: exempt
  });

  test("message TTL sets expires_at", async () => {
    const id = await newChannel({ message_ttl_seconds: 3600 });
    const m = await send(p.member, id);
    expect(new Date(m.expires_at).getTime() - new Date(m.created_at).getTime()).toBe(3_600_000);
  });

  test("timed out: cannot send (TIMED_OUT), can still read", async () => {
    const victim = await client(ctx);
    const invite = await expectOk(p.owner.call("POST", `/api/communities/${p.communityId}/invites`, {}), 201);
    await expectOk(victim.call("POST", `/api/community-invites/${invite.code}/accept`));
    await expectOk(p.moderator.call("PUT", `/api/communities/${p.communityId}/timeouts/${victim.user.id}`, { duration_seconds: 600 }));
    const r = await victim.call("POST", `/api/channels/${channel}/messages`, sendBody());
    expect([r.status, r.body.error.code]).toEqual([403, "TIMED_OUT"]);
    await expectOk(victim.call("GET", `/api/channels/${channel}/messages`));
  });

  test("DM blocks either way: BLOCKED", async () => {
    const [a, b] = [await client(ctx), await client(ctx)];
    const { makeContacts } = await import("../../helpers/contacts.ts");
    const dm = await makeContacts(ctx, a.user.id, b.user.id);
    await send(a, dm, {}, "pw");
    await expectOk(b.call("POST", "/api/users/blocks", { user_id: a.user.id }), 204);
    for (const who of [a, b]) {
      const r = await who.call("POST", `/api/channels/${dm}/messages`, sendBody({}, "pw"));
      expect([r.status, r.body.error.code]).toEqual([403, "BLOCKED"]);
    }
  });
});

describe("history", () => {
  test("newest first with before_seq paging; after_seq oldest first; has_more", async () => {
    const id = (await expectOk(p.owner.call("POST", `/api/groups/${p.groupId}/channels`, { name: "history" }), 201)).id;
    const sent = [];
    for (let i = 0; i < 7; i++) sent.push(await send(p.member, id));
    const page1 = await expectOk(p.member.call("GET", `/api/channels/${id}/messages?limit=3`));
    expect(page1.messages.map((m: any) => m.seq)).toEqual([7, 6, 5]);
    expect(page1.has_more).toBe(true);
    const page2 = await expectOk(p.member.call("GET", `/api/channels/${id}/messages?limit=3&before_seq=5`));
    expect(page2.messages.map((m: any) => m.seq)).toEqual([4, 3, 2]);
    const page3 = await expectOk(p.member.call("GET", `/api/channels/${id}/messages?limit=3&before_seq=2`));
    expect([page3.messages.map((m: any) => m.seq), page3.has_more]).toEqual([[1], false]);
    const after = await expectOk(p.member.call("GET", `/api/channels/${id}/messages?after_seq=4&limit=2`));
    expect([after.messages.map((m: any) => m.seq), after.has_more]).toEqual([[5, 6], true]);
    const tail = await expectOk(p.member.call("GET", `/api/channels/${id}/messages?after_seq=6`));
    expect([tail.messages.map((m: any) => m.id), tail.has_more]).toEqual([[sent[6].id], false]);
    const def = await expectOk(p.member.call("GET", `/api/channels/${id}/messages`));
    expect(def.messages).toHaveLength(7);
    for (const bad of ["limit=0", "limit=101", "limit=x", "before_seq=-1", "after_seq=1&before_seq=3"]) {
      expect((await p.member.call("GET", `/api/channels/${id}/messages?${bad}`)).status).toBe(400);
    }
  });

  test("around a message: oldest first, the message in the middle, has_more and has_newer", async () => {
    const id = (await expectOk(p.owner.call("POST", `/api/groups/${p.groupId}/channels`, { name: "around" }), 201)).id;
    const sent = [];
    for (let i = 0; i < 9; i++) sent.push(await send(p.member, id));
    const mid = await expectOk(p.member.call("GET", `/api/channels/${id}/messages?around=${sent[4].id}&limit=5`));
    expect([mid.messages.map((m: any) => m.seq), mid.has_more, mid.has_newer]).toEqual([[3, 4, 5, 6, 7], true, true]);
    const first = await expectOk(p.member.call("GET", `/api/channels/${id}/messages?around=${sent[0].id}&limit=5`));
    expect([first.messages.map((m: any) => m.seq), first.has_more, first.has_newer]).toEqual([[1, 2, 3], false, true]);
    const last = await expectOk(p.member.call("GET", `/api/channels/${id}/messages?around=${sent[8].id.toUpperCase()}&limit=4`));
    expect([last.messages.map((m: any) => m.seq), last.has_more, last.has_newer]).toEqual([[8, 9], true, false]);
    // Another channel's message, an unknown id: 404; malformed or combined with a cursor: 400.
    const elsewhere = await send(p.member, channel);
    expect((await p.member.call("GET", `/api/channels/${id}/messages?around=${elsewhere.id}`)).status).toBe(404);
    expect((await p.member.call("GET", `/api/channels/${id}/messages?around=${crypto.randomUUID()}`)).status).toBe(404);
    for (const bad of ["around=nope", `around=${sent[1].id}&before_seq=3`, `around=${sent[1].id}&after_seq=1`]) {
      expect([bad, (await p.member.call("GET", `/api/channels/${id}/messages?${bad}`)).status]).toEqual([bad, 400]);
    }
  });
});

describe("outsiders get 404 on every id route", () => {
  test("channel and message routes", async () => {
    const m = await send(p.member, channel);
    const o = p.outsider;
    const routes: [string, string, unknown?][] = [
      ["POST", `/api/channels/${channel}/messages`, sendBody()],
      ["GET", `/api/channels/${channel}/messages`],
      ["GET", `/api/channels/${channel}/messages/${m.id}`],
      ["GET", `/api/channels/${channel}/messages?around=${m.id}`],
      ["GET", `/api/channels/${crypto.randomUUID()}/messages`],
    ];
    for (const [method, path, body] of routes) {
      const r = await o.call(method, path, body);
      expect([path, r.status]).toEqual([path, 404]);
    }
    // Malformed ids are refused before any lookup (src/http/input-guard.ts).
    for (const path of [`/api/channels/not-a-uuid/messages`, `/api/channels/${channel}/messages/not-a-uuid`]) {
      expect([path, (await o.call("GET", path)).status]).toEqual([path, 400]);
    }
    const unauth = await ctx.request(`/api/channels/${channel}/messages`);
    expect(unauth.status).toBe(401);
  });

  test("a message id through another channel's path is 404", async () => {
    const m = await send(p.member, channel);
    const dm = await expectOk(p.member.call("POST", "/api/dms", { user_id: p.moderator.user.id }));
    expect((await p.member.call("GET", `/api/channels/${dm.channel_id}/messages/${m.id}`)).status).toBe(404);
  });
});
