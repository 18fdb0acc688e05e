/** Bookmarks: visible messages only (404), duplicate 409, opaque ≤ 4 KiB notes, paging, deletion. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestContext } from "../../helpers/app.ts";
import { client, envelope, expectOk, messagingContext, populatedCommunity, send, type Populated } from "../messages/helpers.ts";

let ctx: TestContext;
let p: Populated;
let channel: string;

beforeAll(async () => {
  ctx = await messagingContext();
  p = await populatedCommunity(ctx);
  channel = p.generalChannelId;
});
afterAll(() => ctx.close(), 30_000);

describe("bookmarks", () => {
  test("add with an opaque note, list, duplicate 409, delete", async () => {
    const m = await send(p.member, channel);
    const note = envelope(200);
    const b = await expectOk(p.member.call("POST", "/api/bookmarks", { message_id: m.id, note_ciphertext: note }), 201);
    expect(b.bookmark).toMatchObject({ message_id: m.id, channel_id: channel, note_ciphertext: note });
    expect(b.bookmark.message.ciphertext).toBe(m.ciphertext);
    const dup = await p.member.call("POST", "/api/bookmarks", { message_id: m.id });
    expect([dup.status, dup.body.error.code]).toEqual([409, "BOOKMARK_EXISTS"]);
    const list = await expectOk(p.member.call("GET", "/api/bookmarks"));
    expect(list.bookmarks.map((x: any) => x.id)).toEqual([b.bookmark.id]);
    // Private to the user: others see none and cannot delete it.
    expect((await expectOk(p.admin.call("GET", "/api/bookmarks"))).bookmarks).toEqual([]);
    expect((await p.admin.call("DELETE", `/api/bookmarks/${b.bookmark.id}`)).status).toBe(404);
    expect((await p.member.call("DELETE", `/api/bookmarks/${b.bookmark.id}`)).status).toBe(204);
    expect((await p.member.call("DELETE", `/api/bookmarks/${b.bookmark.id}`)).status).toBe(404);
    expect((await p.member.call("DELETE", "/api/bookmarks/not-a-uuid")).status).toBe(400); // malformed: refused before any lookup
  });

  test("outsider: 404 for a message they cannot see (same as a missing one)", async () => {
    const m = await send(p.member, channel);
    const r = await p.outsider.call("POST", "/api/bookmarks", { message_id: m.id });
    expect([r.status, r.body.error.code]).toEqual([404, "MESSAGE_NOT_FOUND"]);
    const missing = await p.outsider.call("POST", "/api/bookmarks", { message_id: crypto.randomUUID() });
    expect([missing.status, missing.body.error.code]).toEqual([404, "MESSAGE_NOT_FOUND"]);
  });

  test("limits: note ≤ 4 KiB (413 NOTE_TOO_LARGE), base64url only, message_id a UUID, limit ≤ 100", async () => {
    const m = await send(p.member, channel);
    const big = await p.member.call("POST", "/api/bookmarks", { message_id: m.id, note_ciphertext: envelope(4097) });
    expect([big.status, big.body.error.code]).toEqual([413, "NOTE_TOO_LARGE"]);
    const plain = await p.member.call("POST", "/api/bookmarks", { message_id: m.id, note_ciphertext: "remember to reply!" });
    expect([plain.status, plain.body.error.code]).toEqual([400, "INVALID_NOTE_CIPHERTEXT"]);
    const badId = await p.member.call("POST", "/api/bookmarks", { message_id: "x" });
    expect([badId.status, badId.body.error.code]).toEqual([400, "INVALID_MESSAGE_ID"]);
    expect((await p.member.call("GET", "/api/bookmarks?limit=101")).body.error.code).toBe("INVALID_LIMIT");
    await expectOk(p.member.call("POST", "/api/bookmarks", { message_id: m.id, note_ciphertext: envelope(4096) }), 201);
  });

  test("paging with before, newest first; hidden once the user loses access", async () => {
    const c = await client(ctx);
    const invite = await expectOk(p.owner.call("POST", `/api/communities/${p.communityId}/invites`, {}), 201);
    await expectOk(c.call("POST", `/api/community-invites/${invite.code}/accept`));
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const m = await send(p.member, channel);
      ids.push((await expectOk(c.call("POST", "/api/bookmarks", { message_id: m.id }), 201)).bookmark.id);
    }
    const page1 = await expectOk(c.call("GET", "/api/bookmarks?limit=2"));
    expect([page1.bookmarks.map((b: any) => b.id), page1.has_more]).toEqual([[ids[2], ids[1]], true]);
    const page2 = await expectOk(c.call("GET", `/api/bookmarks?limit=2&before=${ids[1]}`));
    expect([page2.bookmarks.map((b: any) => b.id), page2.has_more]).toEqual([[ids[0]], false]);
    expect((await c.call("POST", `/api/communities/${p.communityId}/leave`)).status).toBeLessThan(300);
    expect((await expectOk(c.call("GET", "/api/bookmarks"))).bookmarks).toEqual([]);
  });
});
