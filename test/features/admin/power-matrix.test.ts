/**
 * The generated power matrix of the admin area (issue 15 "Bad input and security", docs/admin.md):
 * every admin route the router serves (/admin…, /api/admin…) × the owner, an admin with exactly
 * that route's power, an admin with every other power, a member, a suspended admin holding every
 * power → the documented status. ROUTES documents each route's one power and what an allowed
 * request answers; a route the router serves and ROUTES lacks (or the reverse) fails the test,
 * so a new admin route cannot skip the matrix. Each request gets fresh sessions and a fresh
 * target, so actions that sign people out or delete them do not disturb the next.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { ADMIN_POWERS, type AdminPower } from "../../../src/features/auth/index.ts";
import type { TestContext } from "../../helpers/app.ts";
import { cookieSignIn, createUser, signIn, type TestUser } from "../../helpers/users.ts";
import { communityTestContext } from "../communities/helpers.ts";

/** `:id`: a fresh plain user, an unknown id, or a fresh active announcement. */
type Target = "user" | "unknown" | "announcement";
/** `refused`: what those without the power get (403, or 404 where the route hides what exists). */
/** `reauth`: the acting session holds a fresh re-authentication (the data-rights routes need one; without it they answer 403 REAUTH_REQUIRED: test/features/data-rights/). */
type Spec = { power: AdminPower; allowed: number; refused?: number; body?: (victim: TestUser, actor: TestUser) => unknown; target?: Target; reauth?: boolean };

/** Each admin route: its power, the status an allowed request gets (with a fresh plain user as `:id`, or an unknown id). */
const ROUTES: Record<string, Spec> = {
  "GET /api/admin/users": { power: "users", allowed: 200 },
  "GET /api/admin/users/:id": { power: "users", allowed: 200 },
  "POST /api/admin/users/:id/suspend": { power: "users", allowed: 204, body: () => ({ reason: "matrix" }) },
  "POST /api/admin/users/:id/unsuspend": { power: "users", allowed: 204 },
  "POST /api/admin/users/:id/end-sessions": { power: "users", allowed: 200 },
  "GET /api/admin/users/:id/deletion-plan": { power: "users", allowed: 200 },
  "DELETE /api/admin/users/:id": { power: "users", allowed: 204, body: () => ({}) },
  "POST /api/admin/users/:id/reset-link": { power: "users", allowed: 201 },
  "POST /api/admin/sessions/end-all": { power: "users", allowed: 200 },
  "GET /admin/users": { power: "users", allowed: 200 },
  "GET /admin/users/:id": { power: "users", allowed: 200 },
  "POST /admin/users/:id/suspend": { power: "users", allowed: 303, body: () => ({ reason: "matrix" }) },
  "POST /admin/users/:id/unsuspend": { power: "users", allowed: 303 },
  "POST /admin/users/:id/end-sessions": { power: "users", allowed: 303 },
  "POST /admin/users/:id/delete": { power: "users", allowed: 303, body: () => ({}) },
  "POST /admin/users/:id/reset-link": { power: "users", allowed: 200 },
  "POST /admin/sessions/end-all": { power: "users", allowed: 303 },
  "GET /api/admin/invites": { power: "invites", allowed: 200 },
  "POST /api/admin/invites": { power: "invites", allowed: 201, body: () => ({}) },
  "DELETE /api/admin/invites/:id": { power: "invites", allowed: 404, refused: 404, target: "unknown" },
  "GET /admin/invites": { power: "invites", allowed: 200 },
  "POST /admin/invites": { power: "invites", allowed: 200, body: () => ({}) },
  "POST /admin/invites/:id/delete": { power: "invites", allowed: 404, refused: 404, target: "unknown" },
  "GET /api/admin/audit-log": { power: "audit", allowed: 200 },
  "GET /admin/audit-log": { power: "audit", allowed: 200 },
  "GET /api/admin/audit-log/export": { power: "audit", allowed: 200 },
  "POST /api/admin/audit-log/verify": { power: "audit", allowed: 200, body: () => ({}) },
  "POST /admin/audit-log/verify": { power: "audit", allowed: 200, body: () => ({}) },
  "GET /api/admin/powers": { power: "roles", allowed: 200 },
  "PUT /api/admin/users/:id/powers": { power: "roles", allowed: 200, body: () => ({ is_admin: false, powers: [] }) },
  "GET /admin/powers": { power: "roles", allowed: 200 },
  "POST /admin/users/:id/powers": { power: "roles", allowed: 303, body: () => ({ is_admin: "false" }) },
  "POST /admin/powers/grant": { power: "roles", allowed: 303, body: (victim) => ({ username: victim.username }) },
  "GET /api/admin/communities": { power: "directory", allowed: 200 },
  "GET /admin/communities": { power: "directory", allowed: 200 },
  "GET /api/admin/reports": { power: "users", allowed: 200 },
  "GET /admin/reports": { power: "users", allowed: 200 },
  "POST /api/admin/reports/:id/close": { power: "users", allowed: 404, target: "unknown", body: () => ({ outcome: "resolved" }) },
  "POST /admin/reports/:id/close": { power: "users", allowed: 404, target: "unknown", body: () => ({ outcome: "resolved" }) },
  "POST /api/admin/reauth": { power: "privacy", allowed: 200, body: (_victim, actor) => ({ password: actor.password }) },
  "POST /api/admin/users/:id/export": { power: "privacy", allowed: 200, body: () => ({ passphrase: "matrix passphrase 1" }), reauth: true },
  "POST /api/admin/users/:id/wipe": { power: "privacy", allowed: 200, body: (victim) => ({ confirm_username: victim.username }), reauth: true },
  "GET /admin/users/:id/data": { power: "privacy", allowed: 200 },
  "POST /admin/users/:id/data/reauth": { power: "privacy", allowed: 200, body: (_victim, actor) => ({ password: actor.password }) },
  "POST /admin/users/:id/data/export": { power: "privacy", allowed: 200, body: () => ({ passphrase: "matrix passphrase 1" }), reauth: true },
  "POST /admin/users/:id/data/wipe": { power: "privacy", allowed: 200, body: (victim) => ({ confirm_username: victim.username }), reauth: true },
  "GET /api/admin/announcements": { power: "server_settings", allowed: 200 },
  "POST /api/admin/announcements": { power: "server_settings", allowed: 201, body: () => ({ body: "matrix" }) },
  "PATCH /api/admin/announcements/:id": { power: "server_settings", allowed: 200, body: () => ({ body: "matrix edit" }), target: "announcement" },
  "POST /api/admin/announcements/:id/expire": { power: "server_settings", allowed: 200, target: "announcement" },
  "GET /admin/announcements": { power: "server_settings", allowed: 200 },
  "POST /admin/announcements": { power: "server_settings", allowed: 303, body: () => ({ body: "matrix", expires_in: "1h" }) },
  "POST /admin/announcements/:id": { power: "server_settings", allowed: 303, body: () => ({ body: "matrix edit", expires_in: "keep" }), target: "announcement" },
  "POST /admin/announcements/:id/expire": { power: "server_settings", allowed: 303, target: "announcement" },
  "GET /api/admin/legal": { power: "server_settings", allowed: 200 },
  "PUT /api/admin/legal/terms": { power: "server_settings", allowed: 200, body: () => ({ body: "matrix terms" }) },
  "DELETE /api/admin/legal/terms": { power: "server_settings", allowed: 200 },
  "PUT /api/admin/legal/privacy": { power: "server_settings", allowed: 200, body: () => ({ body: "matrix privacy" }) },
  "DELETE /api/admin/legal/privacy": { power: "server_settings", allowed: 200 },
  "GET /admin/legal": { power: "server_settings", allowed: 200 },
  "POST /admin/legal/terms": { power: "server_settings", allowed: 303, body: () => ({ body: "matrix terms" }) },
  "POST /admin/legal/privacy": { power: "server_settings", allowed: 303, body: () => ({ restore: "true" }) },
  "GET /api/admin/settings": { power: "server_settings", allowed: 200 },
  "PUT /api/admin/settings": { power: "server_settings", allowed: 200, body: () => ({}) },
  "GET /admin/settings": { power: "server_settings", allowed: 200 },
  "POST /admin/settings": { power: "server_settings", allowed: 303, body: () => ({}) },
  "GET /api/admin/usage": { power: "analytics", allowed: 200 },
  "GET /admin/usage": { power: "analytics", allowed: 200 },
  // Incoming webhooks, read-only (docs/integrations.md): their posts are plaintext, a privacy matter.
  "GET /api/admin/webhooks": { power: "privacy", allowed: 200 },
  "GET /admin/webhooks": { power: "privacy", allowed: 200 },
};
/** Not a power's route: GET /admin sends any signed-in user to the first tab they may open (their settings if none). */
const UNGUARDED = new Set(["GET /admin"]);

let ctx: TestContext;
let owner: TestUser;
let member: TestUser;
let suspendedAdmin: TestUser;
const exact = new Map<AdminPower, TestUser>();
const allBut = new Map<AdminPower, TestUser>();

beforeAll(async () => {
  ctx = await communityTestContext();
  owner = await createUser(ctx, { isOwner: true });
  member = await createUser(ctx);
  suspendedAdmin = await createUser(ctx, { isAdmin: true, adminPowers: [...ADMIN_POWERS] });
  await ctx.database.db.updateTable("users").set({ suspended_at: new Date(), suspended_reason: "matrix" }).where("id", "=", suspendedAdmin.id).execute();
  for (const power of new Set(Object.values(ROUTES).map((s) => s.power))) {
    exact.set(power, await createUser(ctx, { isAdmin: true, adminPowers: [power] }));
    allBut.set(power, await createUser(ctx, { isAdmin: true, adminPowers: ADMIN_POWERS.filter((p) => p !== power) }));
  }
}, 120_000);
afterAll(async () => {
  await ctx.close();
});

async function freshAnnouncement(): Promise<string> {
  const id = crypto.randomUUID();
  const at = new Date();
  await ctx.database.db.insertInto("announcements").values({ id, body: "matrix", created_by: owner.id, created_at: at, updated_at: at, expires_at: null }).execute();
  return id;
}

const adminRoutesOfRouter = () => [...new Set(ctx.app.routes.filter((r) => r.path === "/admin" || r.path.startsWith("/admin/") || r.path.startsWith("/api/admin/")).map((r) => `${r.method} ${r.path}`))];

test("ROUTES names exactly the admin routes the router serves", () => {
  const served = adminRoutesOfRouter();
  expect(served.length).toBeGreaterThan(20);
  expect(served.filter((r) => !ROUTES[r] && !UNGUARDED.has(r))).toEqual([]);
  expect(Object.keys(ROUTES).filter((r) => !served.includes(r))).toEqual([]);
});

test("every admin route × owner, exact power, every other power, member, suspended admin → the documented status", async () => {
  // A suspended user's session is refused; sessions are made directly (signing in would be refused).
  const failures: string[] = [];
  let requests = 0;
  for (const [route, spec] of Object.entries(ROUTES)) {
    const [method, path] = route.split(" ") as [string, string];
    const actors: [string, TestUser, (status: number) => boolean][] = [
      ["owner", owner, (s) => s === spec.allowed],
      [`admin with exactly ${spec.power}`, exact.get(spec.power)!, (s) => s === spec.allowed],
      [`admin with every power but ${spec.power}`, allBut.get(spec.power)!, (s) => s === (spec.refused ?? 403)],
      ["member", member, (s) => s === (spec.refused ?? 403)],
      // The API answers 401; a page sends the browser to sign in (a redirect) or answers 401.
      ["suspended admin", suspendedAdmin, (s) => s === 401 || (!path.startsWith("/api/") && s >= 300 && s < 400)],
    ];
    for (const [who, user, ok] of actors) {
      const victim = await createUser(ctx);
      const url = path.replace(":id", spec.target === "unknown" ? crypto.randomUUID() : spec.target === "announcement" ? await freshAnnouncement() : victim.id);
      const session = path.startsWith("/api/") ? await signIn(ctx, user) : await cookieSignIn(ctx, user);
      if (spec.reauth) await ctx.database.db.updateTable("sessions").set({ reauthenticated_at: new Date() }).where("id", "=", session.sessionId).execute();
      const body = spec.body?.(victim, user);
      const res = await ctx.request(url, { method, headers: { ...session.headers, ...(body === undefined ? {} : { "content-type": "application/json" }) }, body: body === undefined ? undefined : JSON.stringify(body) });
      requests++;
      const text = Buffer.from(await res.arrayBuffer()).toString("latin1");
      if (!ok(res.status)) failures.push(`${who}: ${method} ${url} → ${res.status} ${text.slice(0, 100)}`);
      else if (res.status === 403 && path.startsWith("/api/") && !text.includes("ADMIN_POWER_REQUIRED")) failures.push(`${who}: ${method} ${url} → 403 without ADMIN_POWER_REQUIRED`);
    }
  }
  expect(requests).toBe(Object.keys(ROUTES).length * 5);
  expect(failures).toEqual([]);
}, 300_000);

test("GET /admin: any signed-in user goes to the first tab they may open", async () => {
  for (const [user, where] of [
    [owner, "/admin/users"],
    [exact.get("roles")!, "/admin/powers"],
    [exact.get("audit")!, "/admin/audit-log"],
    [member, "/settings/account"],
  ] as const) {
    const res = await ctx.request("/admin", { headers: (await cookieSignIn(ctx, user)).headers });
    expect([res.status, res.headers.get("location")]).toEqual([303, where]);
  }
});
