/**
 * The powers tab (issue 15 §1 "Powers", docs/admin.md): the owner grants and revokes admin and
 * each power; an admin with `roles` changes only powers they hold; nobody acts on the owner or
 * on themselves; a granted power opens its route at the next request, a revoked one closes it;
 * audited with before and after; the page's forms, errors where the admin acted, escaping.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestContext } from "../../helpers/app.ts";
import { cookieSignIn, createUser } from "../../helpers/users.ts";
import { client, communityTestContext, expectOk, type Client } from "../communities/helpers.ts";

let ctx: TestContext;
let owner: Client;
let rolesAdmin: Client;

beforeAll(async () => {
  ctx = await communityTestContext();
  owner = await client(ctx, { isOwner: true });
  rolesAdmin = await client(ctx, { isAdmin: true, adminPowers: ["roles", "users"] });
}, 120_000);
afterAll(async () => {
  await ctx.close();
});

describe("granting and revoking", () => {
  test("the owner grants admin with powers; the power opens its route at once; revoking closes it; audited", async () => {
    const eve = await client(ctx);
    expect((await eve.call("GET", "/api/admin/audit-log")).status).toBe(403);
    const granted = await expectOk(owner.call("PUT", `/api/admin/users/${eve.user.id}/powers`, { is_admin: true, powers: ["audit", "audit"] }));
    expect(granted.powers).toEqual(["audit"]);
    expect((await eve.call("GET", "/api/admin/audit-log")).status).toBe(200);
    const list = await expectOk(owner.call("GET", "/api/admin/powers"));
    expect(list.powers.map((p: any) => p.name)).toContain("storage");
    expect(list.admins.find((a: any) => a.id === eve.user.id).powers).toEqual(["audit"]);
    expect(list.admins[0].is_owner).toBe(true);
    await expectOk(owner.call("PUT", `/api/admin/users/${eve.user.id}/powers`, { is_admin: false, powers: ["audit"] }));
    expect((await eve.call("GET", "/api/admin/audit-log")).status).toBe(403);
    const row = await ctx.database.db.selectFrom("users").select(["is_admin", "admin_powers"]).where("id", "=", eve.user.id).executeTakeFirstOrThrow();
    expect([row.is_admin, row.admin_powers]).toEqual([false, []]);
    const audit = await ctx.database.db.selectFrom("audit_log").select(["actor_id", "metadata"]).where("action", "=", "admin_powers_changed").where("target_id", "=", eve.user.id).orderBy("created_at").execute();
    expect(audit.map((a) => a.metadata)).toEqual([
      { was_admin: false, is_admin: true, before: [], after: ["audit"] },
      { was_admin: true, is_admin: false, before: ["audit"], after: [] },
    ]);
    const unknown = await owner.call("PUT", `/api/admin/users/${eve.user.id}/powers`, { is_admin: true, powers: ["root"] });
    expect([unknown.status, unknown.body.error.code]).toEqual([400, "UNKNOWN_POWER"]);
  });

  test("an admin with roles changes only powers they hold; nobody acts on the owner or themselves", async () => {
    const frank = await client(ctx, { isAdmin: true, adminPowers: ["audit"] });
    const lacking = await rolesAdmin.call("PUT", `/api/admin/users/${frank.user.id}/powers`, { is_admin: true, powers: ["audit", "backups"] });
    expect([lacking.status, lacking.body.error.code]).toEqual([403, "ADMIN_POWER_NOT_HELD"]);
    // Taking away `audit`, which rolesAdmin lacks, is refused too.
    const takeAway = await rolesAdmin.call("PUT", `/api/admin/users/${frank.user.id}/powers`, { is_admin: false, powers: [] });
    expect([takeAway.status, takeAway.body.error.code]).toEqual([403, "ADMIN_POWER_NOT_HELD"]);
    // Adding one they hold, keeping the one they lack untouched: fine.
    const added = await expectOk(rolesAdmin.call("PUT", `/api/admin/users/${frank.user.id}/powers`, { is_admin: true, powers: ["audit", "users"] }));
    expect(added.powers).toEqual(["users", "audit"]);
    for (const [actor, target] of [
      [rolesAdmin, owner.user.id],
      [rolesAdmin, rolesAdmin.user.id],
      [owner, owner.user.id],
    ] as const) {
      const r = await actor.call("PUT", `/api/admin/users/${target}/powers`, { is_admin: true, powers: [] });
      expect([r.status, r.body.error.code]).toEqual([403, "ADMIN_TARGET_FORBIDDEN"]);
    }
    expect((await rolesAdmin.call("PUT", `/api/admin/users/${crypto.randomUUID()}/powers`, { is_admin: true, powers: [] })).status).toBe(404);
  });
});

describe("the page", () => {
  test("lists admins with their forms, disables powers the viewer lacks, grants by username, shows errors, escapes names", async () => {
    const gina = await createUser(ctx, { displayName: "<img src=x onerror=alert(1)>" });
    const cookies = (await cookieSignIn(ctx, rolesAdmin.user)).headers;
    const form = { ...cookies, "content-type": "application/x-www-form-urlencoded" };
    const granted = await ctx.request("/admin/powers/grant", { method: "POST", headers: form, body: `username=${gina.username.toUpperCase()}&powers=users` });
    expect([granted.status, granted.headers.get("location")]).toEqual([303, "/admin/powers?saved=granted"]);
    const html = await (await ctx.request("/admin/powers", { headers: cookies })).text();
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(html).not.toContain("<img src=x");
    expect(html).toContain(`action="/admin/users/${gina.id}/powers"`);
    expect(html).toMatch(/id="grant-backups"[^>]*disabled/);
    expect(html).toContain("The instance owner holds every power");
    const refused = await ctx.request("/admin/powers/grant", { method: "POST", headers: form, body: `username=${gina.username}&powers=backups` });
    expect(refused.status).toBe(422);
    expect(await refused.text()).toContain("you lack: backups");
    const nobody = await ctx.request("/admin/powers/grant", { method: "POST", headers: form, body: "username=nobody-at-all" });
    expect(nobody.status).toBe(422);
    const removed = await ctx.request(`/admin/users/${gina.id}/powers`, { method: "POST", headers: form, body: "is_admin=false" });
    expect([removed.status, removed.headers.get("location")]).toEqual([303, "/admin/powers?saved=removed"]);
    expect((await ctx.database.db.selectFrom("users").select("is_admin").where("id", "=", gina.id).executeTakeFirstOrThrow()).is_admin).toBe(false);
  });
});
