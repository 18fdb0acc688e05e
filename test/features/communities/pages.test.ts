/** The htmx pages: render, escape hostile names, 404 for outsiders, forms call the same services. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestContext } from "../../helpers/app.ts";
import { cookieSignIn } from "../../helpers/users.ts";
import { client, communityTestContext, expectOk, populatedCommunity, type Client, type Populated } from "./helpers.ts";

const HOSTILE = `<script>alert(1)</script><img src=x onerror=alert(2)>`;
let ctx: TestContext;
let c: Populated;
const cookies = new Map<string, Record<string, string>>();

async function get(who: Client, path: string, htmx = false) {
  cookies.set(who.user.id, cookies.get(who.user.id) ?? (await cookieSignIn(ctx, who.user)).headers);
  const res = await ctx.request(path, { headers: { ...cookies.get(who.user.id)!, ...(htmx ? { "hx-request": "true" } : {}) } });
  return { status: res.status, html: await res.text(), headers: res.headers };
}

async function post(who: Client, path: string, form: Record<string, string>, htmx = true) {
  cookies.set(who.user.id, cookies.get(who.user.id) ?? (await cookieSignIn(ctx, who.user)).headers);
  const res = await ctx.request(path, { method: "POST", headers: { ...cookies.get(who.user.id)!, "content-type": "application/x-www-form-urlencoded", ...(htmx ? { "hx-request": "true" } : {}) }, body: new URLSearchParams(form).toString() });
  return { status: res.status, html: await res.text(), headers: res.headers };
}

beforeAll(async () => {
  ctx = await communityTestContext();
  c = await populatedCommunity(ctx, HOSTILE.slice(0, 64));
  await expectOk(c.admin.call("POST", `/api/groups/${c.groupId}/channels`, { name: HOSTILE.slice(0, 64), topic: HOSTILE }), 201);
});
afterAll(() => ctx.close());

describe("pages", () => {
  test("picker, create (422 inline on a bad name), redirect into the new community", async () => {
    const picker = await get(c.member, "/communities");
    expect(picker.status).toBe(200);
    expect(picker.html).toContain("Create a community");
    const bad = await post(c.member, "/communities", { name: "   " });
    expect(bad.status).toBe(422);
    expect(bad.html).toContain('aria-invalid="true"');
    const ok = await post(c.member, "/communities", { name: "Made by form" });
    expect(ok.status).toBe(204);
    const location = ok.headers.get("hx-redirect")!;
    expect(location).toMatch(/^\/c\/[0-9a-f-]{36}$/);
    const landing = await get(c.member, location);
    expect(landing.status).toBe(303);
    const chat = await get(c.member, landing.headers.get("location")!);
    expect(chat.status).toBe(200);
    expect(chat.html).toContain("Made by form");
    expect(chat.html).toContain("general");
  });

  test("channel settings set the history visibility (admins); the channel header shows it", async () => {
    const settings = await get(c.owner, `/c/${c.communityId}/settings/channels`);
    expect(settings.html).toContain(`id="ce-history-${c.generalChannelId}"`);
    const form = { name: "general", topic: "", slow_mode_seconds: "0", message_ttl_seconds: "0", history_visibility: "joined" };
    expect((await post(c.moderator, `/c/${c.communityId}/settings/channels/${c.generalChannelId}`, form)).status).toBe(403); // manage_channels
    const saved = await post(c.owner, `/c/${c.communityId}/settings/channels/${c.generalChannelId}`, form);
    expect(saved.status).toBeLessThan(400);
    expect((await expectOk(c.member.call("GET", `/api/channels/${c.generalChannelId}`))).history_visibility).toBe("joined");
    const chat = await get(c.member, `/c/${c.communityId}/ch/${c.generalChannelId}`);
    expect(chat.html).toContain('data-history="joined"');
    expect(chat.html).toContain("History from joining");
    const bad = await post(c.owner, `/c/${c.communityId}/settings/channels/${c.generalChannelId}`, { ...form, history_visibility: "everyone" });
    expect(bad.status).toBeGreaterThanOrEqual(400);
    await post(c.owner, `/c/${c.communityId}/settings/channels/${c.generalChannelId}`, { ...form, history_visibility: "shared" });
    expect((await get(c.member, `/c/${c.communityId}/ch/${c.generalChannelId}`)).html).toContain("History shared");
  });

  test("hostile names render escaped everywhere", async () => {
    const chat = await get(c.member, `/c/${c.communityId}/ch/${c.generalChannelId}`);
    const settings = await get(c.owner, `/c/${c.communityId}/settings/channels`);
    for (const html of [chat.html, settings.html]) {
      expect(html).not.toContain("<script>alert(1)");
      expect(html).not.toContain("<img src=x");
      expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    }
  });

  test("every settings section renders for the owner; members see only what they may", async () => {
    for (const s of ["overview", "channels", "roles", "members", "invites", "bans", "reports", "audit"]) {
      const r = await get(c.owner, `/c/${c.communityId}/settings/${s}`);
      expect([s, r.status]).toEqual([s, 200]);
    }
    expect((await get(c.member, `/c/${c.communityId}/settings/audit`)).status).toBe(403);
    expect((await get(c.member, `/c/${c.communityId}/settings/overview`)).status).toBe(200);
  });

  test("outsiders get 404 on community, channel, settings, invite-less and DM pages", async () => {
    const dm = await expectOk(c.member.call("POST", "/api/dms", { user_id: c.admin.user.id }));
    for (const path of [`/c/${c.communityId}`, `/c/${c.communityId}/ch/${c.generalChannelId}`, `/c/${c.communityId}/settings/overview`, `/dms/${dm.channel_id}`]) {
      expect([path, (await get(c.outsider, path)).status]).toEqual([path, 404]);
    }
    expect((await post(c.outsider, `/c/${c.communityId}/settings/members/${c.member.user.id}/kick`, {})).status).toBe(404);
  });

  test("the composer is drawn with every control disabled (chat.js enables them once it encrypts): nothing can be sent in the clear before the script runs; data-can-send says who may post", async () => {
    const composerOf = (html: string) => html.slice(html.indexOf("<form class=\"composer\""), html.indexOf("</form>", html.indexOf("<form class=\"composer\"")));
    const form = composerOf((await get(c.owner, `/c/${c.communityId}/ch/${c.generalChannelId}`)).html);
    expect(form).toContain("data-can-send");
    for (const control of ["<textarea", 'aria-label="Send"', 'aria-label="Attach a file"', 'aria-label="Insert emoji"', 'aria-label="Record a voice note"']) {
      const tag = form.slice(form.indexOf(control), form.indexOf(">", form.indexOf(control)));
      expect(tag.length).toBeGreaterThan(0);
      expect(tag).toContain("disabled");
    }
  });

  test("moderation forms act through the same service; the timed-out member sees it", async () => {
    const r = await post(c.moderator, `/c/${c.communityId}/settings/members/${c.member.user.id}/timeout`, { duration_seconds: "3600" });
    expect(r.status).toBe(204);
    const chat = await get(c.member, `/c/${c.communityId}/ch/${c.generalChannelId}`);
    expect(chat.html).toContain("You are timed out until");
    expect(chat.html).toContain("data-composer");
    expect(chat.html).not.toContain("data-can-send");
    const members = await get(c.moderator, `/c/${c.communityId}/settings/members`);
    expect(members.html).toContain("timed out");
    const audit = await get(c.owner, `/c/${c.communityId}/settings/audit`);
    expect(audit.html).toContain("member timed out");
  });

  test("invite page shows the community before joining, then joins", async () => {
    const inv = await expectOk(c.owner.call("POST", `/api/communities/${c.communityId}/invites`, {}), 201);
    const page = await get(c.outsider, `/invite/${inv.code}`);
    expect(page.status).toBe(200);
    expect(page.html).toContain("You have been invited to join");
    const joined = await post(c.outsider, `/invite/${inv.code}/accept`, {});
    expect(joined.headers.get("hx-redirect")).toBe(`/c/${c.communityId}`);
    expect((await get(c.outsider, `/invite/nope${inv.code}`)).status).toBe(404);
  });

  test("DM list and picker", async () => {
    const list = await get(c.member, "/dms");
    expect(list.status).toBe(200);
    const picker = await get(c.member, "/dms/new?q=");
    expect(picker.html).toContain(c.admin.user.displayName);
    const started = await post(c.member, "/dms/new", { [`u_${c.moderator.user.id}`]: "on" });
    expect(started.headers.get("hx-redirect")).toMatch(/^\/dms\//);
    const conversation = await get(c.member, started.headers.get("hx-redirect")!);
    expect(conversation.html).toContain(`Block ${c.moderator.user.displayName}`);
    expect((await post(c.member, `/dms/block/${c.moderator.user.id}`, {})).headers.get("hx-redirect")).toBe("/dms/blocked");
    expect((await get(c.member, "/dms/blocked")).html).toContain(c.moderator.user.displayName);
    expect((await c.moderator.call("POST", "/api/dms", { user_id: c.member.user.id })).body.error.code).toBe("BLOCKED");
    expect((await post(c.member, `/dms/blocked/${c.moderator.user.id}/unblock`, {})).status).toBe(204);
  });

  test("settings forms: channel edit, override, custom roles, warnings", async () => {
    const base = `/c/${c.communityId}/settings`;
    const edit = await post(c.owner, `${base}/channels/${c.generalChannelId}`, { name: "general", topic: "Be kind", read_only: "on", slow_mode_seconds: "30", message_ttl_seconds: "0" });
    expect(edit.status).toBe(204);
    const channel = await expectOk(c.owner.call("GET", `/api/channels/${c.generalChannelId}`));
    expect([channel.topic, channel.read_only, channel.slow_mode_seconds]).toEqual(["Be kind", true, 30]);
    const tooSlow = await post(c.owner, `${base}/channels/${c.generalChannelId}`, { name: "general", slow_mode_seconds: "86401", message_ttl_seconds: "0" });
    expect(tooSlow.status).toBe(400);
    expect(tooSlow.html).toContain("Slow mode must be a whole number from 0 to 86400");
    const role = await expectOk(c.owner.call("POST", `/api/communities/${c.communityId}/roles`, { name: "Announcer", permissions: ["pin"] }), 201);
    expect((await post(c.owner, `${base}/overrides`, { channel_id: c.generalChannelId, target: `role:${role.id}`, ov_send_messages: "allow", ov_view_channel: "inherit" })).status).toBe(204);
    const overrides = await expectOk(c.owner.call("GET", `/api/channels/${c.generalChannelId}/overrides`));
    expect(overrides.overrides).toEqual([{ id: expect.any(String), base_role: null, role_id: role.id, allow: ["send_messages"], deny: [] }]);
    expect((await post(c.owner, `${base}/members/${c.member.user.id}/roles`, { [`role_${role.id}`]: "on" })).status).toBe(204);
    // The read-only channel now accepts the member's messages through the override (once the
    // timeout from the test above is lifted).
    await expectOk(c.moderator.call("DELETE", `/api/communities/${c.communityId}/timeouts/${c.member.user.id}`), 204);
    const groups = await expectOk(c.member.call("GET", `/api/communities/${c.communityId}/groups`));
    expect(groups.groups[0].channels.find((x: any) => x.id === c.generalChannelId).can_send).toBe(true);
    expect((await post(c.moderator, `${base}/members/${c.member.user.id}/warn`, { reason: "Mind the topic" })).status).toBe(204);
    const page = await get(c.moderator, `${base}/members`);
    expect(page.html).toContain("Mind the topic");
    const roles = await get(c.owner, `${base}/roles`);
    expect(roles.html).toContain("allow send_messages");
    const overrideId = overrides.overrides[0].id;
    expect((await post(c.member, `${base}/overrides/${c.generalChannelId}/${overrideId}/delete`, {})).status).toBe(403);
    expect((await post(c.owner, `${base}/overrides/${c.generalChannelId}/${overrideId}/delete`, {})).status).toBe(204);
    expect((await expectOk(c.owner.call("GET", `/api/channels/${c.generalChannelId}/overrides`))).overrides).toEqual([]);
  });

  test("the member panel pages through big communities; outsiders get 404", async () => {
    const p = await populatedCommunity(ctx, "Crowd");
    const hash = (await ctx.database.db.selectFrom("users").select("password_hash").where("id", "=", p.owner.user.id).executeTakeFirstOrThrow()).password_hash;
    const ids = Array.from({ length: 146 }, () => Bun.randomUUIDv7());
    await ctx.database.db.insertInto("users").values(ids.map((id, i) => ({ id, username: `crowd${i}_${id.slice(-5)}`, email: `${id}@crowd.test`, password_hash: hash, display_name: `Crowd ${String(i).padStart(3, "0")}` }))).execute();
    await ctx.database.db.insertInto("community_members").values(ids.map((user_id) => ({ community_id: p.communityId, user_id, role: "member", nickname: null }))).execute();
    const chat = await get(p.member, `/c/${p.communityId}/ch/${p.generalChannelId}`);
    expect(chat.html).toContain(`hx-get="/c/${p.communityId}/members?offset=100"`);
    const more = await get(p.member, `/c/${p.communityId}/members?offset=100`, true);
    expect(more.status).toBe(200);
    expect(more.html.match(/class="member"/g)?.length).toBe(50);
    expect(more.html).not.toContain("Show more members");
    expect((await get(p.outsider, `/c/${p.communityId}/members?offset=0`, true)).status).toBe(404);
  });

  test("the instance owner recovers a community from its settings page", async () => {
    const p = await populatedCommunity(ctx, "Orphaned");
    const root = await client(ctx, { isOwner: true });
    const overview = await get(root, `/c/${p.communityId}/settings/overview`);
    expect(overview.html).toContain("Take ownership");
    expect((await post(root, `/c/${p.communityId}/settings/transfer`, { new_owner_id: root.user.id })).status).toBe(204);
    expect((await expectOk(root.call("GET", `/api/communities/${p.communityId}`))).owner_id).toBe(root.user.id);
    expect((await get(p.owner, `/c/${p.communityId}/settings/overview`)).html).not.toContain("Take ownership");
  });
});
