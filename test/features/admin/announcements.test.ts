/**
 * Announcements (issue 15 §1, docs/admin.md "Announcements"): create, edit, expire through the
 * API and the page; the banner on signed-in pages with hostile text escaped; dismissal stored per
 * user and live on the user's other devices; "show again"; the audit entries. The two-instance
 * delivery is test/ws/announcements-instances.test.ts; the power matrix covers who may.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestContext } from "../../helpers/app.ts";
import { cookieSignIn, createUser, signIn } from "../../helpers/users.ts";
import { connectWithToken, listen, type TestSocket } from "../../helpers/ws.ts";
import { client, communityTestContext, expectOk, type Client } from "../communities/helpers.ts";

let ctx: TestContext;
let admin: Client;
let wsUrl: string;
const sockets: TestSocket[] = [];

beforeAll(async () => {
  ctx = await communityTestContext();
  admin = await client(ctx, { isAdmin: true, adminPowers: ["server_settings"] });
  wsUrl = (await listen(ctx)).ws;
}, 120_000);
afterAll(async () => {
  for (const s of sockets) s.close();
  await ctx.close();
});

const HOSTILE = `<script>alert("x")</script> **bold** [click](javascript:alert(1)) <img src=x onerror=alert(2)> [ok](https://example.org/a?b=1&c=2)`;

async function pageOf(headers: Record<string, string>, path = "/settings/account"): Promise<string> {
  const res = await ctx.request(path, { headers });
  expect(res.status).toBe(200);
  return res.text();
}
const bannerOf = (html: string) => /<div id="announcement-banner" class="announcements">([\s\S]*?)<\/div><main/.exec(html)?.[1] ?? "";

async function connect(accessToken: string): Promise<TestSocket> {
  const socket = await connectWithToken(wsUrl, accessToken);
  sockets.push(socket);
  return socket;
}

async function expireAll() {
  const list = await expectOk(admin.call("GET", "/api/admin/announcements"));
  for (const a of list.announcements) if (a.active) await expectOk(admin.call("POST", `/api/admin/announcements/${a.id}/expire`));
}

describe("announcements", () => {
  test("created through the API: on every signed-in page, markdown rendered, hostile text escaped; audited", async () => {
    await expireAll();
    const member = await createUser(ctx);
    const { headers } = await cookieSignIn(ctx, member);
    const created = await expectOk(admin.call("POST", "/api/admin/announcements", { body: HOSTILE }), 201);
    expect(created).toMatchObject({ body: HOSTILE, active: true, expires_at: null });
    for (const path of ["/settings/account", "/", "/communities", "/dms"]) {
      const banner = bannerOf(await pageOf(headers, path));
      expect(banner).toContain(`data-announcement-id="${created.id}"`);
      expect(banner).toContain("<strong>bold</strong>");
      expect(banner).toContain("&lt;script&gt;");
      expect(banner).not.toContain("<script");
      expect(banner).not.toContain("<img");
      expect(banner).not.toContain('href="javascript');
      expect(banner).toContain("[click](javascript:alert(1))"); // not a link: literal text
      expect(banner).toContain('href="https://example.org/a?b=1&amp;c=2"');
    }
    // Signed out: no banner region at all.
    expect(await (await ctx.request("/login")).text()).not.toContain("announcement-banner");
    const audit = await ctx.database.db.selectFrom("audit_log").selectAll().where("action", "=", "announcement_created").where("target_id", "=", created.id).execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]!.actor_id).toBe(admin.user.id);
  });

  test("bad input: empty or too long text, an expiry in the past → 400 with stable codes; unknown id → 404", async () => {
    expect((await admin.call("POST", "/api/admin/announcements", { body: "   " })).body.error.code).toBe("INVALID_ANNOUNCEMENT");
    expect((await admin.call("POST", "/api/admin/announcements", { body: "x".repeat(2001) })).body.error.code).toBe("INVALID_ANNOUNCEMENT");
    const past = await admin.call("POST", "/api/admin/announcements", { body: "late", expires_at: new Date(Date.now() - 60_000).toISOString() });
    expect(past.status).toBe(400);
    expect(past.body.error.code).toBe("INVALID_EXPIRY");
    const unknown = await admin.call("PATCH", `/api/admin/announcements/${crypto.randomUUID()}`, { body: "x" });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("ANNOUNCEMENT_NOT_FOUND");
    // A malformed id is refused by the input guard before any lookup.
    expect((await admin.call("POST", `/api/admin/announcements/not-a-uuid/expire`)).status).toBe(400);
  });

  test("dismissal: stored for the user, live on their other device, kept across sessions; others still see it", async () => {
    await expireAll();
    const ann = await expectOk(admin.call("POST", "/api/admin/announcements", { body: "Maintenance tonight" }), 201);
    const alice = await createUser(ctx);
    const laptop = await cookieSignIn(ctx, alice);
    const phone = await signIn(ctx, alice);
    const phoneSocket = await connect(phone.accessToken);
    const bob = await cookieSignIn(ctx, await createUser(ctx));
    expect(bannerOf(await pageOf(laptop.headers))).toContain("Maintenance tonight");
    // The plain form (no script): back to where it came from.
    const res = await ctx.request(`/announcements/${ann.id}/dismiss`, { method: "POST", headers: { ...laptop.headers, referer: "http://localhost/communities" } });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/communities");
    expect(await phoneSocket.nextOfType("announcement:dismissed")).toEqual({ type: "announcement:dismissed", id: ann.id });
    expect(bannerOf(await pageOf(laptop.headers))).toBe("");
    expect((await ctx.request("/api/announcements", { headers: phone.headers }).then((r) => r.json())).announcements).toEqual([]);
    // A new session of hers (a third device) does not see it either; Bob does.
    const tablet = await cookieSignIn(ctx, alice);
    expect(bannerOf(await pageOf(tablet.headers))).toBe("");
    expect(bannerOf(await pageOf(bob.headers))).toContain("Maintenance tonight");
    // Dismissing again is fine (no second frame), through the API.
    expect((await ctx.request(`/api/announcements/${ann.id}/dismiss`, { method: "POST", headers: phone.headers })).status).toBe(204);
    // htmx: the region comes back, now empty.
    const htmx = await ctx.request(`/announcements/${ann.id}/dismiss`, { method: "POST", headers: { ...laptop.headers, "hx-request": "true" } });
    expect(htmx.status).toBe(200);
    expect(await htmx.text()).toBe('<div id="announcement-banner" class="announcements"></div>');
    await phoneSocket.roundTrip();
    expect(phoneSocket.received.filter((f) => f.type === "announcement:dismissed")).toHaveLength(1);
  });

  test("an edit keeps dismissals unless 'show again'; expire removes it; each change is one frame to every socket", async () => {
    await expireAll();
    const ann = await expectOk(admin.call("POST", "/api/admin/announcements", { body: "Version 1" }), 201);
    const carol = await createUser(ctx);
    const carolWeb = await cookieSignIn(ctx, carol);
    const carolApi = await signIn(ctx, carol);
    const dave = await cookieSignIn(ctx, await createUser(ctx));
    const daveSocket = await connect((await signIn(ctx, await createUser(ctx))).accessToken);
    expect((await ctx.request(`/api/announcements/${ann.id}/dismiss`, { method: "POST", headers: carolApi.headers })).status).toBe(204);

    const edited = await expectOk(admin.call("PATCH", `/api/admin/announcements/${ann.id}`, { body: "Version 2" }));
    expect(edited.body).toBe("Version 2");
    expect(await daveSocket.nextOfType("announcement:changed")).toEqual({ type: "announcement:changed", id: ann.id });
    expect(bannerOf(await pageOf(carolWeb.headers))).toBe("");
    expect(bannerOf(await pageOf(dave.headers))).toContain("Version 2");

    // The page's form: show again.
    const form = await ctx.request(`/admin/announcements/${ann.id}`, { method: "POST", headers: { ...(await cookieSignIn(ctx, admin.user)).headers, "content-type": "application/x-www-form-urlencoded" }, body: "body=Version+3&expires_in=keep&show_again=true" });
    expect(form.status).toBe(303);
    expect(bannerOf(await pageOf(carolWeb.headers))).toContain("Version 3");

    await expectOk(admin.call("POST", `/api/admin/announcements/${ann.id}/expire`));
    expect(bannerOf(await pageOf(dave.headers))).toBe("");
    expect((await ctx.request(`/api/announcements/${ann.id}/dismiss`, { method: "POST", headers: carolApi.headers })).status).toBe(404);
    await daveSocket.roundTrip();
    expect(daveSocket.received.filter((f) => f.type === "announcement:changed" && f.id === ann.id)).toHaveLength(3);
    const actions = await ctx.database.db.selectFrom("audit_log").select(["action", "metadata"]).where("target_id", "=", ann.id).orderBy("created_at").execute();
    expect(actions.map((a) => a.action)).toEqual(["announcement_created", "announcement_updated", "announcement_updated", "announcement_expired"]);
    expect(actions[2]!.metadata).toMatchObject({ show_again: true, dismissals_cleared: 1 });
  });

  test("the admin page: lists them with hostile text escaped, publishes through the form, errors next to the form", async () => {
    const cookies = (await cookieSignIn(ctx, admin.user)).headers;
    const list = await pageOf(cookies, "/admin/announcements");
    expect(list).toContain("New announcement");
    expect(list).not.toContain("<script>alert");
    expect(list).not.toContain("<img src=x");
    const form = (body: string) => ctx.request("/admin/announcements", { method: "POST", headers: { ...cookies, "content-type": "application/x-www-form-urlencoded" }, body });
    const empty = await form("body=%20&expires_in=1d");
    expect(empty.status).toBe(422);
    expect(await empty.text()).toContain("1 to 2000 characters");
    const ok = await form("body=From+the+form&expires_in=1d");
    expect(ok.status).toBe(303);
    const api = await expectOk(admin.call("GET", "/api/admin/announcements"));
    const made = api.announcements.find((a: { body: string }) => a.body === "From the form");
    expect(made.active).toBe(true);
    expect(new Date(made.expires_at).getTime()).toBeGreaterThan(Date.now() + 23 * 3_600_000);
  });
});
