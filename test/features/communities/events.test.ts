/**
 * "Effects are immediate": a stand-in for the WebSocket hub (messaging issue) built only on what
 * this feature exports: topics published after COMMIT and onMembershipChanged. A kicked, banned
 * or departed user's socket stops receiving the community's events at once; the others keep them.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestContext } from "../../helpers/app.ts";
import { client, communityTestContext, expectOk, populatedCommunity, type Populated } from "./helpers.ts";
import { onMembershipChanged, userOwnsCommunity } from "../../../src/features/communities/index.ts";

/** Minimal hub: sockets subscribe to topics; membership changes unsubscribe removed users. */
class FakeHub {
  sockets = new Map<string, { topics: Set<string>; frames: { topic: string; event: any }[] }>();
  connect(userId: string, topics: string[]) {
    this.sockets.set(userId, { topics: new Set([`user:${userId}`, ...topics]), frames: [] });
  }
  publish(topic: string, event: unknown) {
    for (const s of this.sockets.values()) if (s.topics.has(topic)) s.frames.push({ topic, event });
  }
  frames(userId: string) {
    return this.sockets.get(userId)!.frames;
  }
}

let ctx: TestContext;
let c: Populated;
let hub: FakeHub;
beforeAll(async () => {
  ctx = await communityTestContext();
  c = await populatedCommunity(ctx);
  hub = new FakeHub();
  (ctx.deps as { events: typeof ctx.deps.events }).events = hub;
  onMembershipChanged(ctx.deps, (change) => {
    if (change.kind === "kicked" || change.kind === "banned" || change.kind === "left") {
      const socket = hub.sockets.get(change.userId);
      socket?.topics.delete(`community:${change.communityId}`);
      for (const id of change.channelIds ?? []) socket?.topics.delete(`channel:${id}`);
    }
  });
});
afterAll(() => ctx.close());

describe("membership changes reach the hub after commit", () => {
  test("kick, ban and leave cut a socket off the community at once; others keep hearing", async () => {
    const topics = [`community:${c.communityId}`, `channel:${c.generalChannelId}`];
    const [kicked, banned, leaver] = await Promise.all([client(ctx), client(ctx), client(ctx)]);
    const invite = await expectOk(c.owner.call("POST", `/api/communities/${c.communityId}/invites`, {}), 201);
    for (const u of [kicked, banned, leaver]) await expectOk(u.call("POST", `/api/community-invites/${invite.code}/accept`));
    for (const u of [kicked, banned, leaver, c.member, c.admin]) hub.connect(u.user.id, topics);

    await expectOk(c.moderator.call("DELETE", `/api/communities/${c.communityId}/members/${kicked.user.id}`), 204);
    await expectOk(c.moderator.call("PUT", `/api/communities/${c.communityId}/bans/${banned.user.id}`, { reason: "r" }), 204);
    await expectOk(leaver.call("POST", `/api/communities/${c.communityId}/leave`), 204);
    // Each removed user got exactly their own notice on their user topic, and nothing from the
    // community topic about their own removal or after it.
    expect(hub.frames(kicked.user.id).map((f) => [f.topic, f.event.type])).toEqual([[`user:${kicked.user.id}`, "member:kicked"]]);
    // (Each earlier removal is followed by the readers' hint viewers:changed, issue 11.)
    expect(hub.frames(banned.user.id).filter((f) => f.topic !== `user:${banned.user.id}`).map((f) => f.event.type)).toEqual(["member:kicked", "viewers:changed"]);
    expect(hub.frames(leaver.user.id).filter((f) => f.topic !== `user:${leaver.user.id}`).map((f) => f.event.type)).toEqual(["member:kicked", "viewers:changed", "member:banned", "viewers:changed"]);
    // Later community activity reaches the remaining members only.
    await expectOk(c.admin.call("PATCH", `/api/channels/${c.generalChannelId}`, { topic: "after" }));
    for (const gone of [kicked, banned, leaver]) expect(hub.frames(gone.user.id).some((f) => f.event.type === "channel:updated")).toBe(false);
    for (const stays of [c.member, c.admin]) {
      const types = hub.frames(stays.user.id).map((f) => f.event.type);
      expect(types).toEqual(["member:kicked", "viewers:changed", "member:banned", "viewers:changed", "member:left", "viewers:changed", "channel:updated", "channel:updated"]);
    }
  });
});

describe("ownership and account deletion", () => {
  test("a user who owns a community cannot be deleted (RESTRICT) until ownership moves", async () => {
    const p = await populatedCommunity(ctx, "Owned");
    expect(await userOwnsCommunity(ctx.database.db, p.owner.user.id)).toBe(true);
    await expect(ctx.database.db.deleteFrom("users").where("id", "=", p.owner.user.id).execute()).rejects.toThrow();
    await expectOk(p.owner.call("POST", `/api/communities/${p.communityId}/transfer-ownership`, { new_owner_id: p.admin.user.id }));
    expect(await userOwnsCommunity(ctx.database.db, p.owner.user.id)).toBe(false);
    // Everything else about the user cascades or is set null cleanly.
    await ctx.database.db.deleteFrom("sessions").where("user_id", "=", p.owner.user.id).execute();
    await ctx.database.db.deleteFrom("users").where("id", "=", p.owner.user.id).execute();
    const log = await expectOk(p.admin.call("GET", `/api/communities/${p.communityId}/audit-log`));
    expect(log.entries.some((e: any) => e.action === "ownership_transferred" && e.actor_id === null)).toBe(true);
  });
});

describe("role permission changes tell open pages (issue 13 §2)", () => {
  test("editing a role's permissions publishes role:updated, deleting it role:deleted, on the community topic", async () => {
    const p = await populatedCommunity(ctx, "Roles live");
    hub.connect(p.member.user.id, [`community:${p.communityId}`]);
    const role = await expectOk(p.owner.call("POST", `/api/communities/${p.communityId}/roles`, { name: "Pinners", permissions: ["pin"] }), 201);
    await expectOk(p.owner.call("PATCH", `/api/communities/${p.communityId}/roles/${role.id}`, { name: "Renamed only" }), 204);
    await expectOk(p.owner.call("PATCH", `/api/communities/${p.communityId}/roles/${role.id}`, { permissions: [] }), 204);
    await expectOk(p.owner.call("DELETE", `/api/communities/${p.communityId}/roles/${role.id}`), 204);
    const roleFrames = hub.frames(p.member.user.id).filter((f) => f.event.type.startsWith("role:"));
    // A rename alone changes nobody's view: no frame for it.
    expect(roleFrames.map((f) => [f.topic, f.event.type, f.event.role_id, f.event.community_id])).toEqual([
      [`community:${p.communityId}`, "role:updated", role.id, p.communityId],
      [`community:${p.communityId}`, "role:deleted", role.id, p.communityId],
    ]);
  });
});

describe("a new conversation is announced (issue 13 §2)", () => {
  test("opening a first 1:1 DM publishes dm:created to the other person only; opening it again publishes nothing", async () => {
    const p = await populatedCommunity(ctx, "DM live");
    hub.connect(p.owner.user.id, []);
    hub.connect(p.member.user.id, []);
    const dm = await expectOk(p.owner.call("POST", "/api/dms", { user_id: p.member.user.id }));
    await expectOk(p.owner.call("POST", "/api/dms", { user_id: p.member.user.id }));
    await expectOk(p.member.call("POST", "/api/dms", { user_id: p.owner.user.id }));
    const created = (userId: string) => hub.frames(userId).filter((f) => f.event.type === "dm:created").map((f) => [f.topic, f.event.channel_id]);
    expect(created(p.member.user.id)).toEqual([[`user:${p.member.user.id}`, dm.channel_id]]);
    expect(created(p.owner.user.id)).toEqual([]);
  });
});
