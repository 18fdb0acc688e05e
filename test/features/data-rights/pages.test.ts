/**
 * The admin's data page of a user (/admin/users/{id}/data) and its forms (docs/admin.md "Data
 * rights"): hostile names escaped, a refusal shown beside the form where the admin acted, the
 * re-authentication form, the export form's download, the wipe form; outsiders get 404 (an
 * unknown or malformed id) or 403 (a member without the power: the power matrix has the rest).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { unzipSync } from "fflate";
import type { TestContext } from "../../helpers/app.ts";
import { cookieSignIn, createUser, type TestUser } from "../../helpers/users.ts";
import { communityTestContext } from "../communities/helpers.ts";
import { openSealed } from "../../../src/features/data-rights/index.ts";

const HOSTILE = `<img src=x onerror=alert(1)> "Mallory" & <script>alert(2)</script>`;
let ctx: TestContext;
let admin: TestUser;
let usersAndPrivacy: TestUser;
let target: TestUser;
let member: TestUser;

const form = (headers: Record<string, string>, body: Record<string, string>) => ({ method: "POST", headers: { ...headers, "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(body).toString() });

beforeAll(async () => {
  ctx = await communityTestContext();
  admin = await createUser(ctx, { isAdmin: true, adminPowers: ["privacy"] });
  usersAndPrivacy = await createUser(ctx, { isAdmin: true, adminPowers: ["users", "privacy"] });
  target = await createUser(ctx, { displayName: HOSTILE.slice(0, 64) });
  member = await createUser(ctx);
}, 120_000);
afterAll(async () => {
  await ctx.close();
});

test("the page escapes hostile names; without a fresh re-authentication its buttons are disabled and a forced POST is refused beside the form", async () => {
  const cookies = (await cookieSignIn(ctx, admin)).headers;
  const res = await ctx.request(`/admin/users/${target.id}/data`, { headers: cookies });
  expect(res.status).toBe(200);
  const html = await res.text();
  expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;");
  expect(html).not.toContain("<img src=x");
  expect(html).not.toContain("<script>alert(2)");
  expect(html).toContain(`action="/admin/users/${target.id}/data/reauth"`);
  expect(html).toMatch(/disabled="">\s*Download encrypted export/);
  expect(html).toMatch(/disabled="">\s*Wipe everything/);
  const refused = await ctx.request(`/admin/users/${target.id}/data/export`, form(cookies, { passphrase: "a long enough passphrase" }));
  expect(refused.status).toBe(403);
  expect(await refused.text()).toContain("Confirm your password");
  const wrong = await ctx.request(`/admin/users/${target.id}/data/reauth`, form(cookies, { password: "wrong password here" }));
  expect(wrong.status).toBe(422);
  expect(await wrong.text()).toContain("The password is wrong");
});

test("re-authenticate by the form, then the export form downloads the sealed archive and the wipe form asks for the username", async () => {
  const cookies = (await cookieSignIn(ctx, admin)).headers;
  const ok = await ctx.request(`/admin/users/${target.id}/data/reauth`, form(cookies, { password: admin.password }));
  expect(ok.status).toBe(200);
  expect(await ok.text()).toContain('data-testid="reauth-fresh"');
  const short = await ctx.request(`/admin/users/${target.id}/data/export`, form(cookies, { passphrase: "short" }));
  expect(short.status).toBe(422);
  expect(await short.text()).toContain("at least 12 characters");
  const download = await ctx.request(`/admin/users/${target.id}/data/export`, form(cookies, { passphrase: "a long enough passphrase" }));
  expect(download.status).toBe(200);
  expect(download.headers.get("content-disposition")).toContain("attachment");
  const zip = unzipSync(await openSealed(new Uint8Array(await download.arrayBuffer()), "a long enough passphrase"));
  expect(Object.keys(zip)).toContain("messages.jsonl");
  const mismatch = await ctx.request(`/admin/users/${target.id}/data/wipe`, form(cookies, { confirm_username: "nobody" }));
  expect(mismatch.status).toBe(422);
  expect(await mismatch.text()).toContain("Type the user");
  const wiped = await ctx.request(`/admin/users/${target.id}/data/wipe`, form(cookies, { confirm_username: target.username }));
  expect(wiped.status).toBe(200);
  expect(await wiped.text()).toContain('data-testid="wiped"');
  expect(await ctx.database.db.selectFrom("users").select("id").where("id", "=", target.id).executeTakeFirst()).toBeUndefined();
});

test("outsiders: an unknown or malformed id → 404; a member → 403; oneself → refused; the user page links the data page only for privacy", async () => {
  const cookies = (await cookieSignIn(ctx, admin)).headers;
  expect((await ctx.request(`/admin/users/${crypto.randomUUID()}/data`, { headers: cookies })).status).toBe(404);
  expect((await ctx.request(`/admin/users/not-a-uuid/data`, { headers: cookies })).status).toBeOneOf([400, 404]);
  const memberCookies = (await cookieSignIn(ctx, member)).headers;
  expect((await ctx.request(`/admin/users/${member.id}/data`, { headers: memberCookies })).status).toBe(403);
  expect((await ctx.request(`/admin/users/${admin.id}/data`, { headers: cookies })).status).toBe(403);
  const other = await createUser(ctx);
  const both = (await cookieSignIn(ctx, usersAndPrivacy)).headers;
  expect(await (await ctx.request(`/admin/users/${other.id}`, { headers: both })).text()).toContain(`href="/admin/users/${other.id}/data"`);
  const usersOnly = await createUser(ctx, { isAdmin: true, adminPowers: ["users"] });
  expect(await (await ctx.request(`/admin/users/${other.id}`, { headers: (await cookieSignIn(ctx, usersOnly)).headers })).text()).not.toContain(`/admin/users/${other.id}/data`);
});
