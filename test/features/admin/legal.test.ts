/**
 * The legal pages (issue 15 §1, docs/admin.md "Legal pages"): public defaults naming the instance,
 * linked from registration and the footer of signed-out pages, edited by an admin with
 * `server_settings` (stored, audited, hostile markdown escaped), restored to the default.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { TestContext } from "../../helpers/app.ts";
import { cookieSignIn } from "../../helpers/users.ts";
import { client, communityTestContext, expectOk, type Client } from "../communities/helpers.ts";

let ctx: TestContext;
let admin: Client;

beforeAll(async () => {
  ctx = await communityTestContext({ PUBLIC_URL: "https://chat.example.test", REGISTRATION_MODE: "open" });
  admin = await client(ctx, { isAdmin: true, adminPowers: ["server_settings"] });
}, 120_000);
afterAll(async () => {
  await ctx.close();
});

const publicText = async (path: string) => {
  const res = await ctx.request(path);
  expect(res.status).toBe(200);
  return res.text();
};

test("public defaults name the instance; linked from registration and the footer of signed-out pages", async () => {
  for (const path of ["/terms", "/privacy"]) {
    const html = await publicText(path);
    expect(html).toContain("chat.example.test");
    expect(html).toContain("default text");
  }
  expect(await publicText("/privacy")).toContain("end-to-end encrypted");
  const register = await publicText("/register");
  expect(register).toContain('href="/terms"');
  expect(register).toContain('href="/privacy"');
  const login = await publicText("/login");
  expect(login).toContain('<footer class="site-footer">');
  expect(login).toContain('href="/privacy"');
  // Signed in: no footer (the pages stay reachable by address and from the registration form).
  const signedIn = await ctx.request("/settings/account", { headers: (await cookieSignIn(ctx, admin.user)).headers });
  expect(await signedIn.text()).not.toContain("site-footer");
});

test("edited through the API: stored, shown escaped, audited; DELETE restores the default", async () => {
  const hostile = `# Rules\n<script>alert(1)</script> **be kind** [x](javascript:alert(2)) <iframe src="https://evil.example">`;
  const saved = await expectOk(admin.call("PUT", "/api/admin/legal/terms", { body: hostile }));
  expect(saved).toMatchObject({ page: "terms", body: hostile, is_default: false });
  const html = await publicText("/terms");
  expect(html).toContain("<strong>be kind</strong>");
  expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
  expect(html).not.toContain("<script>alert");
  expect(html).not.toContain("<iframe");
  expect(html).not.toContain('href="javascript');
  expect(html).not.toContain("default text");
  const list = await expectOk(admin.call("GET", "/api/admin/legal"));
  expect(list.pages.map((p: { page: string; is_default: boolean }) => [p.page, p.is_default])).toEqual([["terms", false], ["privacy", true]]);
  // The admin tab shows the text in its textarea, escaped.
  const tab = await (await ctx.request("/admin/legal", { headers: (await cookieSignIn(ctx, admin.user)).headers })).text();
  expect(tab).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
  expect(tab).not.toContain("<script>alert");
  const restored = await expectOk(admin.call("DELETE", "/api/admin/legal/terms"));
  expect(restored.is_default).toBe(true);
  expect(await publicText("/terms")).toContain("default text");
  const audit = await ctx.database.db.selectFrom("audit_log").select(["actor_id", "metadata"]).where("action", "=", "legal_page_updated").orderBy("created_at").execute();
  expect(audit.map((a) => (a.metadata as { restored_default: boolean }).restored_default)).toEqual([false, true]);
  expect(audit.every((a) => a.actor_id === admin.user.id)).toBe(true);
});

test("the admin form: saves, errors next to the form (422), restores", async () => {
  const cookies = { ...(await cookieSignIn(ctx, admin.user)).headers, "content-type": "application/x-www-form-urlencoded" };
  const empty = await ctx.request("/admin/legal/privacy", { method: "POST", headers: cookies, body: "body=%20%20" });
  expect(empty.status).toBe(422);
  expect(await empty.text()).toContain("1 to 20000 characters");
  const ok = await ctx.request("/admin/legal/privacy", { method: "POST", headers: cookies, body: "body=We+keep+little." });
  expect(ok.status).toBe(303);
  expect(await publicText("/privacy")).toContain("We keep little.");
  const back = await ctx.request("/admin/legal/privacy", { method: "POST", headers: cookies, body: "restore=true" });
  expect(back.status).toBe(303);
  expect(await publicText("/privacy")).toContain("default text");
  // Too long for the budget of the field: refused before saving.
  expect((await admin.call("PUT", "/api/admin/legal/privacy", { body: "x".repeat(20_001) })).body.error.code).toBe("INVALID_LEGAL_TEXT");
});
