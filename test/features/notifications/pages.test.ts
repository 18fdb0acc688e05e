/**
 * Settings › Notifications without a browser (docs/notifications.md): the page and its forms,
 * per-community settings (404 to non-members), CSRF, and push off and hidden when the server has
 * no VAPID keys (the API says so too). The installable app's routes answer as documented.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestContext } from "../../helpers/app.ts";
import { cookieSignIn } from "../../helpers/users.ts";
import { expectOk, messagingContext, populatedCommunity, type Populated } from "../messages/helpers.ts";
import { shouldNotify } from "../../../src/features/notifications/index.ts";

let ctx: TestContext;
let p: Populated;

beforeAll(async () => {
  ctx = await messagingContext();
  p = await populatedCommunity(ctx);
}, 120_000);
afterAll(() => ctx?.close());

const FORM = { origin: "http://localhost", "content-type": "application/x-www-form-urlencoded" };

async function post(headers: Record<string, string>, path: string, form: Record<string, string>, extra: Record<string, string> = {}) {
  return ctx.request(path, { method: "POST", headers: { ...headers, ...FORM, ...extra }, body: new URLSearchParams(form).toString(), redirect: "manual" });
}

describe("Settings › Notifications", () => {
  test("renders the defaults, the user's communities and the desktop section; no push section while VAPID keys are unset", async () => {
    const { headers } = await cookieSignIn(ctx, p.member.user);
    const res = await ctx.request("/settings/notifications", { headers });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('action="/settings/notifications"');
    expect(html).toContain(`action="/settings/notifications/communities/${p.communityId}"`);
    expect(html).toContain('<option value="mentions" selected="">Only mentions</option>');
    expect(html).not.toContain("data-push-settings");
    // Desktop notifications need no VAPID keys: their section and its script are there.
    expect(html).toContain("data-desktop-notify");
    expect(html).toMatch(/src="\/public\/build\/push-settings-[a-z0-9]+\.js"/);
    expect(html).toContain('href="/settings/notifications"');
    const api = await expectOk(p.member.call("GET", "/api/notifications/settings"));
    expect(api).toEqual({ level: "mentions", dm_level: "all", dnd: false, muted_until: null, push: { enabled: false, public_key: null } });
    const sub = await p.member.call("POST", "/api/push/subscriptions", { endpoint: "https://push.example.com/x", keys: { p256dh: "B".repeat(87), auth: "A".repeat(22) } });
    expect([sub.status, sub.body.error.code]).toEqual([404, "PUSH_DISABLED"]);
  });

  test("the forms save (post/redirect/get), the same settings the API and shouldNotify read", async () => {
    const { headers } = await cookieSignIn(ctx, p.member.user);
    const saved = await post(headers, "/settings/notifications", { level: "none", dm_level: "mentions", mute: "24h", dnd: "on" });
    expect([saved.status, saved.headers.get("location")]).toEqual([303, "/settings/notifications?saved=saved"]);
    const api = await expectOk(p.member.call("GET", "/api/notifications/settings"));
    expect(api).toMatchObject({ level: "none", dm_level: "mentions", dnd: true });
    expect(Date.parse(api.muted_until) - Date.now()).toBeGreaterThan(23 * 3_600_000);
    const page = await (await ctx.request("/settings/notifications?saved=saved", { headers })).text();
    expect(page).toContain("Notification settings saved.");
    expect(page).toContain('<option value="keep" selected="">');
    // "keep" leaves the mute alone; an unchecked box turns DND off.
    await post(headers, "/settings/notifications", { level: "all", dm_level: "all", mute: "keep" });
    const kept = await expectOk(p.member.call("GET", "/api/notifications/settings"));
    expect([kept.level, kept.dnd, kept.muted_until]).toEqual(["all", false, api.muted_until]);
    await post(headers, "/settings/notifications", { level: "all", dm_level: "all", mute: "off" });
    const event = { kind: "message", channelId: p.generalChannelId, communityId: p.communityId, dm: false, mentioned: false } as const;
    expect(await shouldNotify(ctx.deps, p.member.user.id, event)).toBe(true);

    const community = await post(headers, `/settings/notifications/communities/${p.communityId}`, { level: "none", mute: "off" });
    expect([community.status, community.headers.get("location")]).toEqual([303, "/settings/notifications?saved=community"]);
    expect(await expectOk(p.member.call("GET", `/api/communities/${p.communityId}/notifications`))).toEqual({ level: "none", muted_until: null });
    expect(await shouldNotify(ctx.deps, p.member.user.id, event)).toBe(false);
    // The channel's own level wins over the community's.
    await expectOk(p.member.call("PUT", `/api/channels/${p.generalChannelId}/notifications`, { level: "all" }));
    expect(await shouldNotify(ctx.deps, p.member.user.id, event)).toBe(true);
    await post(headers, `/settings/notifications/communities/${p.communityId}`, { level: "inherit", mute: "off" });
    expect(await expectOk(p.member.call("GET", `/api/communities/${p.communityId}/notifications`))).toEqual({ level: "inherit", muted_until: null });
  });

  test("a non-member's community form is 404 like an unknown id; bad values are refused; a cross-site post is refused", async () => {
    const { headers } = await cookieSignIn(ctx, p.outsider.user);
    const theirs = await post(headers, `/settings/notifications/communities/${p.communityId}`, { level: "all" });
    const unknown = await post(headers, `/settings/notifications/communities/${crypto.randomUUID()}`, { level: "all" });
    expect([theirs.status, unknown.status]).toEqual([404, 404]);
    const bad = await post(headers, "/settings/notifications", { level: "loud" });
    expect(bad.status).toBe(400);
    const api = await p.outsider.call("PUT", "/api/notifications/settings", { level: "loud" });
    expect(api.status).toBe(400);
    const csrf = await post(headers, "/settings/notifications", { level: "all" }, { origin: "https://evil.example", "sec-fetch-site": "cross-site" });
    expect(csrf.status).toBe(403);
    expect((await expectOk(p.outsider.call("GET", "/api/notifications/settings"))).level).toBe("mentions");
  });

  test("the installable app: manifest, service worker and offline page are served", async () => {
    const manifest = await ctx.request("/manifest.webmanifest");
    expect(manifest.headers.get("content-type")).toContain("application/manifest+json");
    const body = (await manifest.json()) as { icons: { src: string }[]; display: string };
    expect(body.display).toBe("standalone");
    expect(body.icons.every((i) => i.src.startsWith("/public/build/icon-"))).toBe(true);
    const sw = await ctx.request("/sw.js");
    expect([sw.status, sw.headers.get("cache-control")]).toEqual([200, "no-cache"]);
    const text = await sw.text();
    expect(text.startsWith("self.HEARTH_SW=")).toBe(true);
    expect(text).not.toContain("sourceMappingURL");
    const precache = JSON.parse(text.slice("self.HEARTH_SW=".length, text.indexOf(";\n"))).precache as string[];
    expect(precache.filter((u) => u !== "/offline" && !u.startsWith("/public/"))).toEqual([]);
    const offline = await ctx.request("/offline");
    expect(offline.status).toBe(200);
    expect(await offline.text()).toContain("You are offline");
  });
});
