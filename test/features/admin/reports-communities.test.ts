/**
 * Issue 15 §1, the instance report queue and the communities list (docs/admin.md "Reports",
 * "Communities"): a community's moderators escalate a report (once; outsiders and members cannot);
 * administrators with the `users` power see it with the community's name and the moderator's note,
 * close it once with an audited outcome; the community's own status is untouched. The `directory`
 * power lists every community with its owner and counts. Hostile text is escaped on every page.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestContext } from "../../helpers/app.ts";
import { cookieSignIn, createUser, signIn, type TestUser } from "../../helpers/users.ts";
import { communityTestContext, expectOk, populatedCommunity, type Populated } from "../communities/helpers.ts";

const HOSTILE = `<script>alert(1)</script><img src=x onerror=alert(2)>`;
let ctx: TestContext;
let c: Populated;
let operator: TestUser;
let opHeaders: Record<string, string>;
let opCookies: Record<string, string>;
let reportId = "";

const api = (path: string, init: { method?: string; body?: unknown } = {}) =>
  ctx.request(path, { method: init.method ?? "GET", headers: { ...opHeaders, ...(init.body === undefined ? {} : { "content-type": "application/json" }) }, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
const pageOf = async (path: string, form?: Record<string, string>) => {
  const res = await ctx.request(path, form ? { method: "POST", headers: { ...opCookies, "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(form).toString() } : { headers: opCookies });
  return { status: res.status, html: await res.text(), location: res.headers.get("location") };
};

beforeAll(async () => {
  ctx = await communityTestContext();
  c = await populatedCommunity(ctx, `Crew ${HOSTILE}`.slice(0, 64));
  operator = await createUser(ctx, { isAdmin: true, adminPowers: ["users", "directory"] });
  opHeaders = (await signIn(ctx, operator)).headers;
  opCookies = (await cookieSignIn(ctx, operator)).headers;
  reportId = (await expectOk(c.member.call("POST", "/api/reports", { community_id: c.communityId, target_type: "user", target_id: c.admin.user.id, reason: `Harassment ${HOSTILE}` }), 201)).id;
}, 90_000);
afterAll(() => ctx.close());

describe("escalating a report", () => {
  test("outsiders get 404, members 403; unknown report 404; a moderator escalates once (409 after), and the community's log says so", async () => {
    const path = `/api/communities/${c.communityId}/reports/${reportId}/escalate`;
    expect((await c.outsider.call("POST", path, { note: "x" })).status).toBe(404);
    const member = await c.member.call("POST", path, { note: "x" });
    expect(member.status).toBe(403);
    expect((await c.moderator.call("POST", `/api/communities/${c.communityId}/reports/${crypto.randomUUID()}/escalate`, {})).status).toBe(404);
    expect((await c.moderator.call("POST", path, { note: "y".repeat(2001) })).status).toBe(400);
    expect((await c.moderator.call("POST", path, { note: `Across communities ${HOSTILE}` })).status).toBe(204);
    const again = await c.moderator.call("POST", path, {});
    expect([again.status, again.body.error.code]).toEqual([409, "REPORT_ESCALATED"]);
    const listed = await expectOk(c.moderator.call("GET", `/api/communities/${c.communityId}/reports`));
    expect(listed.reports.find((r: { id: string }) => r.id === reportId).escalated_at).toBeString();
    const audit = await ctx.database.db.selectFrom("community_audit_log").select(["action", "actor_id"]).where("community_id", "=", c.communityId).where("action", "=", "report_escalated").execute();
    expect(audit).toEqual([{ action: "report_escalated", actor_id: c.moderator.user.id }]);
  });

  test("the moderators' settings page escalates by form and then says it was escalated", async () => {
    const second = (await expectOk(c.member.call("POST", "/api/reports", { community_id: c.communityId, target_type: "user", target_id: c.owner.user.id, reason: "Spam" }), 201)).id;
    const cookies = (await cookieSignIn(ctx, c.moderator.user)).headers;
    const before = await (await ctx.request(`/c/${c.communityId}/settings/reports`, { headers: cookies })).text();
    expect(before).toContain(`/settings/reports/${second}/escalate`);
    const res = await ctx.request(`/c/${c.communityId}/settings/reports/${second}/escalate`, { method: "POST", headers: { ...cookies, "content-type": "application/x-www-form-urlencoded" }, body: "note=Please+look" });
    expect(res.status).toBeLessThan(400);
    const after = await (await ctx.request(`/c/${c.communityId}/settings/reports`, { headers: cookies })).text();
    expect(after).toContain("data-report-escalated");
    expect(after).not.toContain(`/settings/reports/${second}/escalate`);
  });
});

describe("the instance's queue", () => {
  test("lists escalated reports (not the others) with the community and the note; hostile text is escaped on the page", async () => {
    const never = (await expectOk(c.member.call("POST", "/api/reports", { community_id: c.communityId, target_type: "user", target_id: c.moderator.user.id, reason: "Not escalated" }), 201)).id;
    const listed = await (await api("/api/admin/reports")).json();
    const ids = listed.reports.map((r: { id: string }) => r.id);
    expect(ids).toContain(reportId);
    expect(ids).not.toContain(never);
    const mine = listed.reports.find((r: { id: string }) => r.id === reportId);
    expect(mine).toMatchObject({ community_id: c.communityId, target_type: "user", target_id: c.admin.user.id, admin_status: "open", escalation_note: `Across communities ${HOSTILE}`, community_status: "open" });
    const page = await pageOf("/admin/reports");
    expect(page.status).toBe(200);
    expect(page.html).toContain(`data-report-id="${reportId}"`);
    expect(page.html).not.toContain("<script>alert(1)");
    expect(page.html).not.toContain("<img src=x");
    expect(page.html).toContain("&lt;script&gt;");
  });

  test("an administrator closes it once: audited with the outcome, 409 after, the community's own status untouched; bad outcomes 400", async () => {
    expect((await api(`/api/admin/reports/${reportId}/close`, { method: "POST", body: { outcome: "deleted" } })).status).toBe(400);
    expect((await api(`/api/admin/reports/${crypto.randomUUID()}/close`, { method: "POST", body: { outcome: "resolved" } })).status).toBe(404);
    const closed = await pageOf(`/admin/reports/${reportId}/close`, { outcome: "resolved", note: `Account suspended ${HOSTILE}` });
    expect([closed.status, closed.location]).toEqual([303, "/admin/reports?saved=closed"]);
    const again = await api(`/api/admin/reports/${reportId}/close`, { method: "POST", body: { outcome: "dismissed" } });
    expect([again.status, (await again.json()).error.code]).toEqual([409, "REPORT_CLOSED"]);
    const pageAgain = await pageOf(`/admin/reports/${reportId}/close`, { outcome: "dismissed" });
    expect(pageAgain.status).toBe(409);
    expect(pageAgain.html).toContain("already closed");
    const open = await (await api("/api/admin/reports?status=open")).json();
    expect(open.reports.map((r: { id: string }) => r.id)).not.toContain(reportId);
    const done = (await (await api("/api/admin/reports?status=closed")).json()).reports.find((r: { id: string }) => r.id === reportId);
    expect(done).toMatchObject({ admin_status: "resolved", admin_note: `Account suspended ${HOSTILE}`, admin_closed_by_name: operator.displayName, community_status: "open" });
    const audit = await ctx.database.db.selectFrom("audit_log").select(["actor_id", "target_id"]).where("action", "=", "report_closed_by_admin").execute();
    expect(audit).toEqual([{ actor_id: operator.id, target_id: reportId }]);
    expect((await api("/api/admin/reports?status=everything")).status).toBe(400);
  });
});

describe("the communities list", () => {
  test("every community with its owner and counts; search by name or owner, % literal; hostile names escaped", async () => {
    const other = await expectOk(c.outsider.call("POST", "/api/communities", { name: "Second place" }), 201);
    const all = await (await api("/api/admin/communities")).json();
    const crew = all.communities.find((x: { id: string }) => x.id === c.communityId);
    expect(crew).toMatchObject({ owner: { id: c.owner.user.id }, member_count: 4 });
    expect(crew.channel_count).toBeGreaterThan(0);
    expect(all.communities.map((x: { id: string }) => x.id)).toContain(other.id);
    const found = await (await api(`/api/admin/communities?q=${encodeURIComponent("second")}`)).json();
    expect(found.communities.map((x: { id: string }) => x.id)).toEqual([other.id]);
    const byOwner = await (await api(`/api/admin/communities?q=${encodeURIComponent(c.outsider.user.username)}`)).json();
    expect(byOwner.communities.map((x: { id: string }) => x.id)).toContain(other.id);
    expect((await (await api(`/api/admin/communities?q=${encodeURIComponent("%")}`)).json()).communities).toEqual([]);
    expect((await api(`/api/admin/communities?page=0`)).status).toBe(400);
    const page = await pageOf("/admin/communities");
    expect(page.status).toBe(200);
    expect(page.html).toContain(`href="/c/${c.communityId}/settings"`);
    expect(page.html).not.toContain("<script>alert(1)");
    expect(page.html).toContain("&lt;script&gt;");
  });
});
