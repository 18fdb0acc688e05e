// Incoming webhooks (issue 18 §1, docs/integrations.md): who may create, list and revoke; the
// token shown once and stored only as its SHA-256; POST /webhook/{token} in our shape and Slack's;
// 404 for unknown and revoked tokens, 413 above 4,000 characters or the body budget, 429 per
// token (shared through Redis when REDIS_URL is set); live delivery through the channel fan-out;
// hostile content returned as data and escaped in the server-rendered page.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RedisClient } from "bun";
import { sql } from "kysely";
import { RedisRateLimitStore } from "../../../src/http/rate-limit-redis.ts";
import { silentLogger } from "../../../src/log.ts";
import { hashWebhookToken, WEBHOOK_RATE } from "../../../src/features/webhooks/index.ts";
import type { TestContext } from "../../helpers/app.ts";
import { listen } from "../../helpers/ws.ts";
import { nextMessage, socketFor, subscribe } from "../messages/helpers.ts";
import { client, communityTestContext, expectOk, populatedCommunity, type Populated } from "../communities/helpers.ts";

const REDIS_URL = process.env.REDIS_URL;
const HOSTILE = `<img src=x onerror=alert(1)><script>alert(2)</script> **bold** [link](javascript:alert(3)) @everyone`;

let ctx: TestContext;
let c: Populated;

beforeAll(async () => {
  ctx = await communityTestContext();
  c = await populatedCommunity(ctx);
});
afterAll(() => ctx.close());

const post = (token: string, body: unknown, raw?: string) =>
  ctx.request(`/webhook/${token}`, { method: "POST", headers: { "content-type": "application/json" }, body: raw ?? JSON.stringify(body) });

async function createHook(name = "CI"): Promise<{ id: string; token: string; url: string }> {
  return expectOk(c.admin.call("POST", `/api/channels/${c.generalChannelId}/webhooks`, { name }), 201);
}

describe("creating, listing, revoking", () => {
  test("owners and admins create; the token is in the answer only, the database holds its SHA-256", async () => {
    const created = await createHook("Deploys");
    expect(created.token).toMatch(/^hwh_[A-Za-z0-9_-]{43}$/);
    expect(created.url).toEndWith(`/webhook/${created.token}`);
    const row = await ctx.database.db.selectFrom("webhooks").selectAll().where("id", "=", created.id).executeTakeFirstOrThrow();
    expect(Buffer.from(row.token_hash).equals(Buffer.from(hashWebhookToken(created.token)))).toBe(true);
    expect(Buffer.from(row.token_hash).equals(Buffer.from(new Bun.CryptoHasher("sha256").update(created.token).digest()))).toBe(true);
    // Nowhere as text: no table row of the database contains the token.
    const { rows } = await sql<{ hit: number }>`select count(*)::int as hit from webhooks w where w::text like ${"%" + created.token + "%"}`.execute(ctx.database.db);
    expect(rows[0]!.hit).toBe(0);
    const listed = await expectOk(c.owner.call("GET", `/api/channels/${c.generalChannelId}/webhooks`));
    const mine = listed.webhooks.find((w: { id: string }) => w.id === created.id);
    expect(mine.name).toBe("Deploys");
    expect(JSON.stringify(listed)).not.toContain(created.token);
    expect(JSON.stringify(listed)).not.toContain("token");
  });

  test("members and moderators get 403; outsiders and DMs 404; an empty name 400", async () => {
    for (const who of [c.member, c.moderator]) {
      expect((await who.call("POST", `/api/channels/${c.generalChannelId}/webhooks`, { name: "x" })).status).toBe(403);
      expect((await who.call("GET", `/api/channels/${c.generalChannelId}/webhooks`)).status).toBe(403);
    }
    expect((await c.outsider.call("POST", `/api/channels/${c.generalChannelId}/webhooks`, { name: "x" })).status).toBe(404);
    expect((await c.outsider.call("GET", `/api/channels/${c.generalChannelId}/webhooks`)).status).toBe(404);
    expect((await c.admin.call("POST", `/api/channels/${crypto.randomUUID()}/webhooks`, { name: "x" })).status).toBe(404);
    const dm = await expectOk(c.member.call("POST", "/api/dms", { user_id: c.admin.user.id }));
    expect((await c.admin.call("POST", `/api/channels/${dm.channel_id}/webhooks`, { name: "x" })).status).toBe(404);
    const empty = await c.admin.call("POST", `/api/channels/${c.generalChannelId}/webhooks`, { name: "  " });
    expect(empty.status).toBe(400);
    expect(empty.body.error.code).toBe("INVALID_NAME");
  });

  test("a channel override grants manage_webhooks to members of one channel", async () => {
    const ch = await expectOk(c.owner.call("POST", `/api/groups/${c.groupId}/channels`, { name: "alerts" }), 201);
    expect((await c.member.call("POST", `/api/channels/${ch.id}/webhooks`, { name: "x" })).status).toBe(403);
    expect((await c.owner.call("PUT", `/api/channels/${ch.id}/overrides`, { base_role: "member", allow: ["manage_webhooks"], deny: [] })).status).toBeLessThan(300);
    const made = await expectOk(c.member.call("POST", `/api/channels/${ch.id}/webhooks`, { name: "x" }), 201);
    expect(made.channel_id).toBe(ch.id);
    expect((await c.member.call("POST", `/api/channels/${c.generalChannelId}/webhooks`, { name: "x" })).status).toBe(403);
  });

  test("revoking: 204, then the token is a 404; others cannot revoke (403 member, 404 outsider)", async () => {
    const hook = await createHook();
    expect((await post(hook.token, { content: "before" })).status).toBe(201);
    expect((await c.member.call("DELETE", `/api/webhooks/${hook.id}`)).status).toBe(403);
    expect((await c.outsider.call("DELETE", `/api/webhooks/${hook.id}`)).status).toBe(404);
    expect((await c.outsider.call("DELETE", `/api/webhooks/${crypto.randomUUID()}`)).status).toBe(404);
    expect((await c.owner.call("DELETE", `/api/webhooks/${hook.id}`)).status).toBe(204);
    expect((await c.owner.call("DELETE", `/api/webhooks/${hook.id}`)).status).toBe(204); // idempotent
    const after = await post(hook.token, { content: "after" });
    expect(after.status).toBe(404);
    expect(((await after.json()) as { error: { code: string } }).error.code).toBe("WEBHOOK_NOT_FOUND");
    const audit = await ctx.database.db.selectFrom("community_audit_log").select("action").where("target_id", "=", hook.id).execute();
    expect(audit.map((a) => a.action).sort()).toEqual(["webhook_created", "webhook_revoked"]);
  });
});

describe("POST /webhook/{token}", () => {
  test("our shape and Slack's post plaintext messages (scheme wh, no ciphertext), live to the channel's sockets", async () => {
    const hook = await createHook("CI");
    const { ws } = await listen(ctx);
    const socket = await socketFor(ctx, c.member, ws);
    try {
      await subscribe(socket, [c.generalChannelId]);
      const res = await post(hook.token, { content: HOSTILE, username: "Build bot", avatar_url: "https://example.invalid/a.png" });
      expect(res.status).toBe(201);
      const posted = (await res.json()) as { id: string; seq: number };
      const live = (await nextMessage(socket)) as { scheme: string; ciphertext: unknown; senderName: string; webhook: { content: string; username: string } };
      expect((live as unknown as { id: string }).id).toBe(posted.id);
      expect(live.scheme).toBe("wh");
      expect(live.ciphertext).toBeNull();
      expect(live.senderName).toBe("Build bot");
      expect(live.webhook.content).toBe(HOSTILE);
    } finally {
      socket.close();
    }
    const slack = await post(hook.token, { text: "from slack", channel: "#ignored", icon_emoji: ":x:" });
    expect(slack.status).toBe(201);
    const history = await expectOk(c.member.call("GET", `/api/channels/${c.generalChannelId}/messages`));
    const mine = history.messages.filter((m: { scheme: string }) => m.scheme === "wh");
    const slackMessage = mine.find((m: { webhook: { content: string } }) => m.webhook.content === "from slack");
    expect(slackMessage.sender_name).toBe("CI"); // the webhook's name when no username is given
    expect(slackMessage.sender_id).toBeNull();
    expect(slackMessage.ciphertext).toBeNull();
    const row = await ctx.database.db.selectFrom("messages").select(["plaintext", "ciphertext", "webhook_id"]).where("id", "=", slackMessage.id).executeTakeFirstOrThrow();
    expect(row.ciphertext).toBeNull();
    expect(row.webhook_id).toBe(hook.id);
    expect((row.plaintext as { content: string }).content).toBe("from slack");
  });

  test("the server-rendered channel page escapes hostile content (data attribute and text)", async () => {
    const hook = await createHook();
    expect((await post(hook.token, { content: HOSTILE })).status).toBe(201);
    const res = await ctx.request(`/c/${c.communityId}/ch/${c.generalChannelId}`, { headers: c.member.headers });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).not.toContain("<img src=x");
    expect(html).not.toContain("<script>alert(2)");
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(html).toContain("Webhook · not E2EE");
  });

  test("unknown and malformed tokens are 404; over 4,000 characters and over the body budget are 413; empty is 400", async () => {
    const hook = await createHook();
    expect((await post(`hwh_${"A".repeat(43)}`, { content: "x" })).status).toBe(404);
    expect((await post("nothwh", { content: "x" })).status).toBe(404);
    expect((await post(hook.token, { content: "é".repeat(4000) })).status).toBe(201);
    const long = await post(hook.token, { content: "x".repeat(4001) });
    expect(long.status).toBe(413);
    expect(((await long.json()) as { error: { code: string } }).error.code).toBe("WEBHOOK_CONTENT_TOO_LONG");
    const huge = await post(hook.token, undefined, JSON.stringify({ content: "x".repeat(70_000) }));
    expect(huge.status).toBe(413);
    const empty = await post(hook.token, { content: "  " });
    expect(empty.status).toBe(400);
    expect((await post(hook.token, { content: "x", avatar_url: "javascript:alert(1)" })).status).toBe(400);
  });

  test("rate limited per token: the burst passes, the next is 429 with Retry-After; another token is unaffected", async () => {
    const a = await createHook("A");
    const b = await createHook("B");
    let okCount = 0;
    let limited: Response | undefined;
    for (let i = 0; i < WEBHOOK_RATE.burst + 2 && !limited; i++) {
      const r = await post(a.token, { content: `burst ${i}` });
      if (r.status === 429) limited = r;
      else if (r.status === 201) okCount++;
    }
    expect(okCount).toBeGreaterThanOrEqual(WEBHOOK_RATE.burst);
    expect(limited?.status).toBe(429);
    expect(Number(limited?.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect((await post(b.token, { content: "other token" })).status).toBe(201);
  });

  test.skipIf(!REDIS_URL)("the per-token limit is shared through Redis by two instances", async () => {
    const prefix = `test:webhooks:${crypto.randomUUID()}:`;
    const storeA = new RedisRateLimitStore(new RedisClient(REDIS_URL!), silentLogger, prefix);
    const storeB = new RedisRateLimitStore(new RedisClient(REDIS_URL!), silentLogger, prefix);
    try {
      // This instance takes through store A; a second instance's client (store B) sees the same bucket.
      ctx.deps.rateLimitStore = storeA;
      const hook = await createHook("shared");
      for (let i = 0; i < WEBHOOK_RATE.burst; i++) expect((await post(hook.token, { content: `a ${i}` })).status).toBe(201);
      // The same key taken through a second store (a second instance's client) is refused.
      const id = hook.id;
      const taken = await storeB.take(`webhook:${id}`, WEBHOOK_RATE, Date.now());
      expect(taken.allowed).toBe(false);
    } finally {
      ctx.deps.rateLimitStore = undefined;
    }
  });
});

if (!REDIS_URL) console.log("skip: the Redis-shared webhook rate limit needs REDIS_URL");

test("a moderator (no manage_webhooks) can manage no channel's webhooks; an admin can, and the page creates one showing the URL once", async () => {
  const denied = await ctx.request(`/c/${c.communityId}/settings/webhooks`, { headers: c.moderator.headers });
  expect(denied.status).toBe(200);
  expect(await denied.text()).toContain("You cannot manage webhooks in any channel");
  const outsider = await ctx.request(`/c/${c.communityId}/settings/webhooks`, { headers: c.outsider.headers });
  expect(outsider.status).toBe(404);
  const page = await ctx.request(`/c/${c.communityId}/settings/webhooks`, { headers: c.admin.headers });
  expect(page.status).toBe(200);
  const html = await page.text();
  expect(html).toContain("NOT end-to-end encrypted");
  const created = await ctx.request(`/c/${c.communityId}/settings/webhooks`, {
    method: "POST",
    headers: { ...c.admin.headers, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ channel_id: c.generalChannelId, name: "From the page" }).toString(),
  });
  expect(created.status).toBe(201);
  const shown = await created.text();
  const url = /\/webhook\/(hwh_[A-Za-z0-9_-]{43})/.exec(shown);
  expect(url).not.toBeNull();
  expect((await post(url![1]!, { content: "via page token" })).status).toBe(201);
  const again = await (await ctx.request(`/c/${c.communityId}/settings/webhooks`, { headers: c.admin.headers })).text();
  expect(again).toContain("From the page");
  expect(again).not.toContain(url![1]!);
  // Revoke from the list: the form posts, the page comes back, the URL stops working.
  const id = /data-webhook-id="([0-9a-f-]{36})"><td role="cell" data-label="Name">From the page</.exec(again)?.[1];
  expect(id).toBeDefined();
  const revoked = await ctx.request(`/c/${c.communityId}/settings/webhooks/${id}/revoke`, { method: "POST", headers: { ...c.admin.headers, "content-type": "application/x-www-form-urlencoded" }, body: "" });
  expect(revoked.status).toBe(303);
  expect(revoked.headers.get("location")).toBe(`/c/${c.communityId}/settings/webhooks?revoked=1`);
  expect((await post(url![1]!, { content: "after revoke" })).status).toBe(404);
});

test("a non-member posting the create form gets 404", async () => {
  const stranger = await client(ctx);
  const r = await ctx.request(`/c/${c.communityId}/settings/webhooks`, {
    method: "POST",
    headers: { ...stranger.headers, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ channel_id: c.generalChannelId, name: "x" }).toString(),
  });
  expect(r.status).toBe(404);
});
