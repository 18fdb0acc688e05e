/**
 * Moderation through the API. The person-directed matrix is generated: every actor rank × every
 * target rank × kick/ban/timeout/warn/role change, and the HTTP status must agree with can() (the
 * one function); after each allowed action the target is restored. Then events: who hears a
 * membership change and who must not.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestContext } from "../../helpers/app.ts";
import { client, communityTestContext, expectOk, populatedCommunity, type Client, type Populated } from "./helpers.ts";
import { can, type Membership } from "../../../src/features/permissions/index.ts";
import { onMembershipChanged, type MembershipChange } from "../../../src/features/communities/index.ts";
import { isTimedOut, pendingMessagePurges } from "../../../src/features/moderation/index.ts";
import { registerTestDevice, sendBody } from "../messages/helpers.ts";

let ctx: TestContext;
let c: Populated;
let helper: Client;
let helperRoleId: string;
beforeAll(async () => {
  ctx = await communityTestContext();
  c = await populatedCommunity(ctx);
  helper = await client(ctx);
  const invite = await expectOk(c.owner.call("POST", `/api/communities/${c.communityId}/invites`, {}), 201);
  await expectOk(helper.call("POST", `/api/community-invites/${invite.code}/accept`));
  const role = await expectOk(c.owner.call("POST", `/api/communities/${c.communityId}/roles`, { name: "Helper", permissions: ["kick", "timeout"], position: 10 }), 201);
  helperRoleId = role.id;
  await expectOk(c.owner.call("PUT", `/api/communities/${c.communityId}/members/${helper.user.id}/roles`, { role_ids: [role.id] }), 204);
});
afterAll(() => ctx.close());

type Who = { name: string; client: () => Client; base: Membership["role"]; helper?: boolean };
const people = (): Who[] => [
  { name: "owner", client: () => c.owner, base: "owner" },
  { name: "admin", client: () => c.admin, base: "admin" },
  { name: "moderator", client: () => c.moderator, base: "moderator" },
  { name: "helper", client: () => helper, base: "member", helper: true },
  { name: "member", client: () => c.member, base: "member" },
];

async function restore(who: Who) {
  const db = ctx.database.db;
  const id = who.client().user.id;
  await db.deleteFrom("community_bans").where("user_id", "=", id).execute();
  await db.deleteFrom("community_timeouts").where("user_id", "=", id).execute();
  await db.insertInto("community_members").values({ community_id: c.communityId, user_id: id, role: who.base, nickname: null }).onConflict((oc) => oc.columns(["community_id", "user_id"]).doUpdateSet({ role: who.base })).execute();
  if (who.helper) await db.insertInto("community_member_roles").values({ community_id: c.communityId, user_id: id, role_id: helperRoleId }).onConflict((oc) => oc.doNothing()).execute();
}

const ACTIONS = [
  { action: "kick_member", call: (a: Client, t: string) => a.call("DELETE", `/api/communities/${c.communityId}/members/${t}`, { reason: "x" }), ok: 204 },
  { action: "ban_member", call: (a: Client, t: string) => a.call("PUT", `/api/communities/${c.communityId}/bans/${t}`, { reason: "x" }), ok: 204 },
  { action: "timeout_member", call: (a: Client, t: string) => a.call("PUT", `/api/communities/${c.communityId}/timeouts/${t}`, { duration_seconds: 60 }), ok: 200 },
  { action: "warn_member", call: (a: Client, t: string) => a.call("POST", `/api/communities/${c.communityId}/warnings`, { user_id: t, reason: "x" }), ok: 201 },
  { action: "change_member_role", call: (a: Client, t: string) => a.call("PUT", `/api/communities/${c.communityId}/members/${t}/role`, { role: "member" }), ok: 204 },
] as const;

describe("moderation matrix through the API (generated)", () => {
  test("status agrees with can() for every actor × target × action", async () => {
    const wrong: string[] = [];
    let cells = 0;
    for (const actor of people()) for (const target of people()) for (const a of ACTIONS) {
      cells++;
      const mem = (w: Who): Membership => ({ role: w.base, customRoles: w.helper ? [{ id: helperRoleId, permissions: ["kick", "timeout"], position: 10 }] : [], timedOutUntil: null });
      const expected = can({ userId: actor.client().user.id, isInstanceOwner: false, member: mem(actor) }, a.action, {
        community: { ownerId: c.owner.user.id, whoCanCreateGroups: "admin", whoCanInvite: "everyone" },
        target: { userId: target.client().user.id, member: mem(target) },
        now: new Date(),
      });
      const r = await a.call(actor.client(), target.client().user.id);
      const want = expected ? a.ok : 403;
      if (r.status !== want) wrong.push(`${actor.name} ${a.action} ${target.name}: ${r.status}, want ${want} ${JSON.stringify(r.body)}`);
      await restore(target);
    }
    expect(wrong).toEqual([]);
    expect(cells).toBe(125);
  });

  test("limits: timeout 1 min – 28 days, ban reason ≤ 500, delete days 0–7", async () => {
    const t = c.member.user.id;
    for (const seconds of [59, 28 * 86400 + 1]) {
      const r = await c.moderator.call("PUT", `/api/communities/${c.communityId}/timeouts/${t}`, { duration_seconds: seconds });
      expect([r.status, r.body.error.code]).toEqual([400, "INVALID_DURATION_SECONDS"]);
    }
    expect((await c.moderator.call("PUT", `/api/communities/${c.communityId}/bans/${t}`, { reason: "x".repeat(501) })).status).toBe(400);
    expect((await c.moderator.call("PUT", `/api/communities/${c.communityId}/bans/${t}`, { delete_message_days: 8 })).status).toBe(400);
    expect((await c.moderator.call("POST", `/api/communities/${c.communityId}/warnings`, { user_id: t, reason: "" })).status).toBe(400);
  });

  test("ban records a purge request, blocks rejoining; unban lets them back", async () => {
    const victim = await client(ctx);
    const invite = await expectOk(c.owner.call("POST", `/api/communities/${c.communityId}/invites`, {}), 201);
    await expectOk(victim.call("POST", `/api/community-invites/${invite.code}/accept`));
    await expectOk(c.moderator.call("PUT", `/api/communities/${c.communityId}/bans/${victim.user.id}`, { reason: "spam", delete_message_days: 3 }), 204);
    expect((await victim.call("GET", `/api/communities/${c.communityId}`)).status).toBe(404);
    const again = await victim.call("POST", `/api/community-invites/${invite.code}/accept`);
    expect([again.status, again.body.error.code]).toEqual([403, "BANNED"]);
    const purges = await pendingMessagePurges(ctx.database.db);
    expect(purges.some((p) => p.user_id === victim.user.id && p.days === 3)).toBe(true);
    const bans = await expectOk(c.moderator.call("GET", `/api/communities/${c.communityId}/bans`));
    expect(bans.bans.map((b: any) => b.user_id)).toContain(victim.user.id);
    await expectOk(c.moderator.call("DELETE", `/api/communities/${c.communityId}/bans/${victim.user.id}`), 204);
    await expectOk(victim.call("POST", `/api/community-invites/${invite.code}/accept`));
  });

  test("timeout: isTimedOut, can() refuses sending, members list shows it, removal ends it", async () => {
    const t = c.member.user.id;
    await expectOk(c.moderator.call("PUT", `/api/communities/${c.communityId}/timeouts/${t}`, { duration_seconds: 600, reason: "cool off" }));
    expect(await isTimedOut(ctx.database.db, t, c.communityId)).toBe(true);
    const groups = await expectOk(c.member.call("GET", `/api/communities/${c.communityId}/groups`));
    expect(groups.groups[0].channels[0].can_send).toBe(false);
    const members = await expectOk(c.member.call("GET", `/api/communities/${c.communityId}/members`));
    expect(members.members.find((m: any) => m.user_id === t).timed_out_until).not.toBeNull();
    await expectOk(c.moderator.call("DELETE", `/api/communities/${c.communityId}/timeouts/${t}`), 204);
    expect(await isTimedOut(ctx.database.db, t, c.communityId)).toBe(false);
  });

  test("warnings history; reports queue with resolve/dismiss; audit log visible to moderators only", async () => {
    const t = c.member.user.id;
    const w = await expectOk(c.moderator.call("POST", `/api/communities/${c.communityId}/warnings`, { user_id: t, reason: "be nice" }), 201);
    expect(w.warning_count).toBeGreaterThanOrEqual(1);
    const own = await expectOk(c.member.call("GET", `/api/communities/${c.communityId}/warnings?user_id=${t}`));
    expect(own.warnings.some((x: any) => x.reason === "be nice")).toBe(true);
    expect((await c.member.call("GET", `/api/communities/${c.communityId}/warnings?user_id=${c.admin.user.id}`)).status).toBe(403);
    // A message the reporter can read (reports of anything else are 404: stranger-privacy.test.ts).
    await registerTestDevice(ctx, c.admin.user.id);
    const msgId = (await expectOk(c.admin.call("POST", `/api/channels/${c.generalChannelId}/messages`, sendBody()), 201)).message.id;
    const rep = await expectOk(c.member.call("POST", "/api/reports", { community_id: c.communityId, target_type: "message", target_id: msgId, reason: "abuse", attached_text: "what I saw" }), 201);
    const rep2 = await expectOk(c.member.call("POST", "/api/reports", { community_id: c.communityId, target_type: "user", target_id: c.admin.user.id, reason: "meh" }), 201);
    expect((await c.member.call("GET", `/api/communities/${c.communityId}/reports`)).status).toBe(403);
    const queue = await expectOk(c.moderator.call("GET", `/api/communities/${c.communityId}/reports`));
    expect(queue.reports.find((r: any) => r.id === rep.id).attached_text).toBe("what I saw");
    await expectOk(c.moderator.call("POST", `/api/communities/${c.communityId}/reports/${rep.id}/resolve`, { note: "handled" }), 204);
    await expectOk(c.moderator.call("POST", `/api/communities/${c.communityId}/reports/${rep2.id}/dismiss`), 204);
    expect((await c.moderator.call("POST", `/api/communities/${c.communityId}/reports/${rep.id}/dismiss`)).status).toBe(409);
    const open = await expectOk(c.moderator.call("GET", `/api/communities/${c.communityId}/reports`));
    expect(open.reports.map((r: any) => r.id)).not.toContain(rep.id);
    expect((await c.member.call("GET", `/api/communities/${c.communityId}/audit-log`)).status).toBe(403);
    const log = await expectOk(c.moderator.call("GET", `/api/communities/${c.communityId}/audit-log?limit=200`));
    const actions = new Set(log.entries.map((e: any) => e.action));
    for (const a of ["member_kicked", "member_banned", "member_unbanned", "member_timed_out", "timeout_removed", "member_warned", "member_role_changed", "report_resolved", "report_dismissed"]) expect([a, actions.has(a)]).toEqual([a, true]);
  });
});

describe("membership-change events", () => {
  test("a kick: listener first, then the user's and the community's topics; nobody else; nothing on failure", async () => {
    const published: { topic: string; event: any }[] = [];
    const order: string[] = [];
    const original = ctx.deps.events;
    (ctx.deps as { events: typeof original }).events = { publish: (topic, event) => (published.push({ topic, event }), order.push(`publish ${topic}`)) };
    const heard: MembershipChange[] = [];
    const stop = onMembershipChanged(ctx.deps, (change) => (heard.push(change), order.push("listener")));
    try {
      const victim = await client(ctx);
      const invite = await expectOk(c.owner.call("POST", `/api/communities/${c.communityId}/invites`, {}), 201);
      await expectOk(victim.call("POST", `/api/community-invites/${invite.code}/accept`));
      expect(heard.map((h) => [h.userId, h.kind])).toEqual([[victim.user.id, "joined"]]);
      heard.length = 0;
      published.length = 0;
      order.length = 0;
      // A refused action (a member kicking a moderator) tells nobody.
      expect((await c.member.call("DELETE", `/api/communities/${c.communityId}/members/${c.moderator.user.id}`)).status).toBe(403);
      expect([heard, published]).toEqual([[], []]);
      await expectOk(c.moderator.call("DELETE", `/api/communities/${c.communityId}/members/${victim.user.id}`, { reason: "secret reason" }), 204);
      expect(heard).toHaveLength(1);
      expect(heard[0]).toMatchObject({ userId: victim.user.id, communityId: c.communityId, kind: "kicked" });
      expect(heard[0]!.channelIds).toContain(c.generalChannelId);
      // Then the readers' hint that who can read the community's channels changed (issue 11).
      expect(order).toEqual(["listener", `publish user:${victim.user.id}`, `publish community:${c.communityId}`, `publish community:${c.communityId}`]);
      expect(published.map((p) => [p.topic, p.event.type])).toEqual([
        [`user:${victim.user.id}`, "member:kicked"],
        [`community:${c.communityId}`, "member:kicked"],
        [`community:${c.communityId}`, "viewers:changed"],
      ]);
      expect(JSON.stringify(published)).not.toContain("secret reason");
      expect(published.some((p) => [c.member, c.admin, c.owner].some((x) => p.topic === `user:${x.user.id}`))).toBe(false);
      // Timeouts and role changes reach the hub too.
      heard.length = 0;
      await expectOk(c.moderator.call("PUT", `/api/communities/${c.communityId}/timeouts/${c.member.user.id}`, { duration_seconds: 60 }));
      await expectOk(c.owner.call("PUT", `/api/communities/${c.communityId}/members/${c.member.user.id}/role`, { role: "member" }), 204);
      expect(heard.map((h) => h.kind)).toEqual(["timed_out", "role_changed"]);
      expect(heard[0]!.until).toBeString();
    } finally {
      stop();
      (ctx.deps as { events: typeof original }).events = original;
      await ctx.database.db.deleteFrom("community_timeouts").execute();
    }
  });

  test("a warning is told only to the warned user", async () => {
    const published: { topic: string; event: any }[] = [];
    const original = ctx.deps.events;
    (ctx.deps as { events: typeof original }).events = { publish: (topic, event) => void published.push({ topic, event }) };
    try {
      await expectOk(c.moderator.call("POST", `/api/communities/${c.communityId}/warnings`, { user_id: c.member.user.id, reason: "private words" }), 201);
      expect(published.map((p) => p.topic)).toEqual([`user:${c.member.user.id}`]);
    } finally {
      (ctx.deps as { events: typeof original }).events = original;
    }
  });
});
