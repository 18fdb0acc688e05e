/**
 * Unread and mention counts (issue 13 §3, docs/messages.md "Unread and mentions"): the listing's
 * mention counts (named, @everyone, @here), the mention_everyone gate, one channel's counts, mark
 * all read per community and everywhere with its read:all frame to the user's other devices, and
 * outsiders' 404s on the id-addressed routes.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestContext } from "../../helpers/app.ts";
import type { TestSocket } from "../../helpers/ws.ts";
import { client, expectOk, messagingContext, populatedCommunity, send, sendBody, socketFor, withSockets, type Client, type Populated } from "./helpers.ts";
import { presenceOf } from "../../../src/features/presence/index.ts";
import { mentionedAmong } from "../../../src/features/notifications/dispatch.ts";

let ctx: TestContext;
let p: Populated;
let ws: string;
const sockets: TestSocket[] = [];

beforeAll(async () => {
  ctx = await messagingContext();
  p = await populatedCommunity(ctx);
  ws = (await withSockets(ctx)).ws;
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await ctx.close();
});

async function newChannel(name: string): Promise<string> {
  return (await expectOk(p.owner.call("POST", `/api/groups/${p.groupId}/channels`, { name }), 201)).id;
}

async function entry(c: Client, channelId: string) {
  return (await expectOk(c.call("GET", "/api/channels/unread"))).channels.find((x: any) => x.channel_id === channelId);
}

async function online(userId: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (((await presenceOf(ctx.deps)!.store.counts([userId])).get(userId) ?? 0) > 0) return;
    await Bun.sleep(25);
  }
  throw new Error("never online");
}

describe("counts", () => {
  test("unread and mention counts per channel, with the community id, after a fresh listing", async () => {
    const id = await newChannel("mentions");
    await send(p.admin, id);
    await send(p.admin, id, { mentions: [p.member.user.id] });
    await send(p.admin, id, { mentions: [p.moderator.user.id] });
    const everyone = await send(p.moderator, id, { mention_all: "everyone" });
    expect(everyone.mention_all).toBe("everyone");
    expect(await entry(p.member, id)).toEqual({ channel_id: id, community_id: p.communityId, unread: 4, mentions: 2, last_seq: 4, read_seq: 0 });
    // The moderator's own @everyone is not unread for them; the named mention is.
    expect(await entry(p.moderator, id)).toMatchObject({ unread: 3, mentions: 1 });
    // One channel's counts: the same numbers.
    expect((await expectOk(p.member.call("GET", `/api/channels/${id}/unread`))).channel).toEqual({ channel_id: id, community_id: p.communityId, unread: 4, mentions: 2, last_seq: 4, read_seq: 0 });
    // Reading past the mentions clears them; a deleted mention stops counting.
    await expectOk(p.member.call("PUT", `/api/channels/${id}/read`, { seq: 2 }), 204);
    expect(await entry(p.member, id)).toMatchObject({ unread: 2, mentions: 1 });
    await expectOk(p.moderator.call("DELETE", `/api/messages/${everyone.id}`), 204);
    expect(await entry(p.member, id)).toMatchObject({ unread: 1, mentions: 0 });
  });

  test("DM mentions and @everyone in a DM (no permission needed there)", async () => {
    const dm = await expectOk(p.member.call("POST", "/api/dms", { user_id: p.admin.user.id }));
    await send(p.member, dm.channel_id, { mention_all: "everyone" }, "pw");
    expect(await entry(p.admin, dm.channel_id)).toMatchObject({ community_id: null, unread: 1, mentions: 1 });
  });

  test("@here mentions those online at send time, not the others; the ids stay private", async () => {
    const id = await newChannel("here");
    const s = await socketFor(ctx, p.member, ws);
    sockets.push(s);
    await online(p.member.user.id);
    const m = await send(p.moderator, id, { mention_all: "here" });
    expect(Object.keys(m)).not.toContain("here_ids");
    expect(await entry(p.member, id)).toMatchObject({ unread: 1, mentions: 1 });
    expect(await entry(p.admin, id)).toMatchObject({ unread: 1, mentions: 0 });
    const got = await expectOk(p.admin.call("GET", `/api/channels/${id}/messages/${m.id}`));
    expect(got.message.mention_all).toBe("here");
    expect(JSON.stringify(got)).not.toContain(p.member.user.id);
  });
});

describe("@everyone / @here gate", () => {
  test("a member without mention_everyone is refused with 403 MENTION_EVERYONE_DENIED and nothing is stored", async () => {
    const id = await newChannel("gate");
    for (const all of ["everyone", "here"]) {
      const r = await p.member.call("POST", `/api/channels/${id}/messages`, sendBody({ mention_all: all }));
      expect([r.status, r.body.error.code]).toEqual([403, "MENTION_EVERYONE_DENIED"]);
      expect(r.body.error.message).toContain("@everyone");
    }
    const bad = await p.moderator.call("POST", `/api/channels/${id}/messages`, sendBody({ mention_all: "all" }));
    expect(bad.status).toBe(400);
    expect((await entry(p.admin, id)).last_seq).toBe(0);
    // A plain message from the same member still goes.
    await send(p.member, id);
    // Scheduling one is gated the same way, and a permitted one keeps it until delivery.
    const refused = await p.member.call("POST", `/api/channels/${id}/scheduled`, { ...sendBody({ mention_all: "everyone" }), send_at: Date.now() + 60_000 });
    expect([refused.status, refused.body.error.code]).toEqual([403, "MENTION_EVERYONE_DENIED"]);
    const scheduled = await expectOk(p.moderator.call("POST", `/api/channels/${id}/scheduled`, { ...sendBody({ mention_all: "here" }), send_at: Date.now() + 60_000 }), 201);
    expect(scheduled.scheduled.mention_all).toBe("here");
  });

  test("notification dispatch treats @everyone and @here as mentions", () => {
    const base = { mentions: ["a"], hereIds: ["b"] };
    expect(mentionedAmong({ ...base, mentionAll: null }, ["a", "b", "c"])).toEqual(["a"]);
    expect(mentionedAmong({ ...base, mentionAll: "here" }, ["a", "b", "c"])).toEqual(["a", "b"]);
    expect(mentionedAmong({ ...base, mentionAll: "everyone" }, ["a", "b", "c"])).toEqual(["a", "b", "c"]);
  });
});

describe("mark all read", () => {
  test("per community: its channels only; the user's other device gets one read:all", async () => {
    const a = await newChannel("all-a");
    const b = await newChannel("all-b");
    await send(p.admin, a);
    await send(p.admin, b, { mentions: [p.member.user.id] });
    const dm = await expectOk(p.admin.call("POST", "/api/dms", { user_id: p.member.user.id }));
    await send(p.admin, dm.channel_id, {}, "pw");
    const other = await socketFor(ctx, p.member, ws);
    sockets.push(other);
    const r = await expectOk(p.member.call("POST", `/api/communities/${p.communityId}/read-all`));
    expect(r.channels).toBeGreaterThanOrEqual(2);
    expect(await other.nextOfType("read:all")).toMatchObject({ type: "read:all", communityId: p.communityId });
    expect(await entry(p.member, a)).toMatchObject({ unread: 0, mentions: 0 });
    expect(await entry(p.member, b)).toMatchObject({ unread: 0, mentions: 0 });
    expect((await entry(p.member, dm.channel_id)).unread).toBe(1);
    // Everywhere: the DM too.
    await expectOk(p.member.call("POST", "/api/channels/read-all"));
    expect(await other.nextOfType("read:all")).toMatchObject({ communityId: null });
    const all = (await expectOk(p.member.call("GET", "/api/channels/unread"))).channels;
    expect(all.filter((c: any) => c.unread > 0)).toEqual([]);
  });

  test("the page faces: plain POST forms redirect back to a same-origin path", async () => {
    const a = await newChannel("form");
    await send(p.admin, a);
    const post = (c: Client, path: string, next: string) =>
      ctx.request(path, { method: "POST", redirect: "manual", headers: { ...c.headers, "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ next }).toString() });
    const r = await post(p.member, `/c/${p.communityId}/read-all`, `/c/${p.communityId}`);
    expect([r.status, r.headers.get("location")]).toEqual([303, `/c/${p.communityId}`]);
    expect((await entry(p.member, a)).unread).toBe(0);
    await send(p.admin, a);
    const evil = await post(p.member, "/read-all", "//evil.example/");
    expect(evil.status).toBe(303);
    expect(evil.headers.get("location")).not.toContain("evil");
    expect((await entry(p.member, a)).unread).toBe(0);
    // Someone outside the community: 404, nothing marked.
    const stranger = await client(ctx);
    expect((await post(stranger, `/c/${p.communityId}/read-all`, "/")).status).toBe(404);
  });

  test("outsiders: 404 on every id-addressed route", async () => {
    const a = await newChannel("outside");
    const dm = await expectOk(p.admin.call("POST", "/api/dms", { user_id: p.member.user.id }));
    const o = p.outsider;
    for (const [method, path] of [
      ["GET", `/api/channels/${a}/unread`],
      ["GET", `/api/channels/${dm.channel_id}/unread`],
      ["GET", `/api/channels/${crypto.randomUUID()}/unread`],
      ["POST", `/api/communities/${p.communityId}/read-all`],
      ["POST", `/api/communities/${crypto.randomUUID()}/read-all`],
    ] as const) {
      const r = await o.call(method, path);
      expect([method, path, r.status]).toEqual([method, path, 404]);
    }
    expect((await o.call("GET", "/api/channels/not-a-uuid/unread")).status).toBe(400);
  });
});
