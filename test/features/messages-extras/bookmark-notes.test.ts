/** PATCH /api/bookmarks/{id}: the owner replaces or clears the opaque note; everyone else gets 404. */
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

async function bookmark(note?: string): Promise<any> {
  const m = await send(p.member, channel);
  return (await expectOk(p.member.call("POST", "/api/bookmarks", { message_id: m.id, ...(note ? { note_ciphertext: note } : {}) }), 201)).bookmark;
}

describe("PATCH /api/bookmarks/{id}", () => {
  test("the owner edits the note, then clears it; the list shows each state", async () => {
    const b = await bookmark(envelope(100));
    const next = envelope(300);
    const edited = await expectOk(p.member.call("PATCH", `/api/bookmarks/${b.id}`, { note_ciphertext: next }));
    expect(edited.bookmark).toMatchObject({ id: b.id, message_id: b.message_id, channel_id: channel, note_ciphertext: next });
    expect(edited.bookmark.message.id).toBe(b.message_id);
    let listed = (await expectOk(p.member.call("GET", "/api/bookmarks"))).bookmarks.find((x: any) => x.id === b.id);
    expect(listed.note_ciphertext).toBe(next);
    const cleared = await expectOk(p.member.call("PATCH", `/api/bookmarks/${b.id}`, { note_ciphertext: null }));
    expect(cleared.bookmark.note_ciphertext).toBeNull();
    listed = (await expectOk(p.member.call("GET", "/api/bookmarks"))).bookmarks.find((x: any) => x.id === b.id);
    expect(listed.note_ciphertext).toBeNull();
    // A bookmark without a note gains one.
    const again = await expectOk(p.member.call("PATCH", `/api/bookmarks/${b.id}`, { note_ciphertext: next }));
    expect(again.bookmark.note_ciphertext).toBe(next);
  });

  test("outsiders and other members: 404 BOOKMARK_NOT_FOUND, the note unchanged; unknown ids too, malformed ones 400", async () => {
    const note = envelope(64);
    const b = await bookmark(note);
    for (const who of [p.outsider, p.admin, p.owner]) {
      const r = await who.call("PATCH", `/api/bookmarks/${b.id}`, { note_ciphertext: envelope(64) });
      expect([r.status, r.body.error.code]).toEqual([404, "BOOKMARK_NOT_FOUND"]);
      const clear = await who.call("PATCH", `/api/bookmarks/${b.id}`, { note_ciphertext: null });
      expect([clear.status, clear.body.error.code]).toEqual([404, "BOOKMARK_NOT_FOUND"]);
    }
    const unknown = await p.member.call("PATCH", `/api/bookmarks/${crypto.randomUUID()}`, { note_ciphertext: envelope(64) });
    expect([unknown.status, unknown.body.error.code]).toEqual([404, "BOOKMARK_NOT_FOUND"]);
    const malformed = await p.member.call("PATCH", "/api/bookmarks/not-a-uuid", { note_ciphertext: envelope(64) });
    expect([malformed.status, malformed.body.error.code]).toEqual([400, "VALIDATION_ERROR"]);
    const listed = (await expectOk(p.member.call("GET", "/api/bookmarks"))).bookmarks.find((x: any) => x.id === b.id);
    expect(listed.note_ciphertext).toBe(note);
  });

  test("bad input: plaintext / missing / wrong type → 400 INVALID_NOTE_CIPHERTEXT, > 4 KiB → 413 NOTE_TOO_LARGE", async () => {
    const note = envelope(64);
    const b = await bookmark(note);
    for (const body of [{ note_ciphertext: "remember to reply!" }, {}, { note_ciphertext: 42 }, { note_ciphertext: "" }]) {
      const r = await p.member.call("PATCH", `/api/bookmarks/${b.id}`, body);
      expect([r.status, r.body.error.code]).toEqual([400, "INVALID_NOTE_CIPHERTEXT"]);
    }
    const big = await p.member.call("PATCH", `/api/bookmarks/${b.id}`, { note_ciphertext: envelope(4097) });
    expect([big.status, big.body.error.code]).toEqual([413, "NOTE_TOO_LARGE"]);
    const listed = (await expectOk(p.member.call("GET", "/api/bookmarks"))).bookmarks.find((x: any) => x.id === b.id);
    expect(listed.note_ciphertext).toBe(note);
    await expectOk(p.member.call("PATCH", `/api/bookmarks/${b.id}`, { note_ciphertext: envelope(4096) }));
  });

  test("a bookmark whose message the user can no longer see: 404 BOOKMARK_NOT_FOUND (hidden like in the list)", async () => {
    const c = await client(ctx);
    const invite = await expectOk(p.owner.call("POST", `/api/communities/${p.communityId}/invites`, {}), 201);
    await expectOk(c.call("POST", `/api/community-invites/${invite.code}/accept`));
    const m = await send(p.member, channel);
    const b = (await expectOk(c.call("POST", "/api/bookmarks", { message_id: m.id }), 201)).bookmark;
    await expectOk(c.call("PATCH", `/api/bookmarks/${b.id}`, { note_ciphertext: envelope(32) }));
    expect((await c.call("POST", `/api/communities/${p.communityId}/leave`)).status).toBeLessThan(300);
    const r = await c.call("PATCH", `/api/bookmarks/${b.id}`, { note_ciphertext: envelope(32) });
    expect([r.status, r.body.error.code]).toEqual([404, "BOOKMARK_NOT_FOUND"]);
  });
});
