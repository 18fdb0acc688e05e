/**
 * The Usage tab (issue 15 §1, docs/admin.md "Usage"), power `analytics`: users (total, active in
 * 7/30 days), messages per day from metadata, open sockets of this instance, stored file bytes,
 * the database size; the page renders them.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { TestContext } from "../../helpers/app.ts";
import { cookieSignIn, createUser, signIn } from "../../helpers/users.ts";
import { connectWithToken, listen, type TestSocket } from "../../helpers/ws.ts";
import { client, communityTestContext, expectOk, type Client } from "../communities/helpers.ts";

let ctx: TestContext;
let analyst: Client;
const sockets: TestSocket[] = [];

beforeAll(async () => {
  ctx = await communityTestContext();
  analyst = await client(ctx, { isAdmin: true, adminPowers: ["analytics"] });
}, 120_000);
afterAll(async () => {
  for (const s of sockets) s.close();
  await ctx.close();
});

test("figures: accounts and activity, messages per UTC day, sockets here, files, database size; the page shows them", async () => {
  const before = await expectOk(analyst.call("GET", "/api/admin/usage"));
  expect(before.messages_per_day).toHaveLength(30);
  // An account never signed in (not active), one signed in (active).
  await createUser(ctx);
  const active = await createUser(ctx);
  const activeSession = await signIn(ctx, active);
  const wsUrl = (await listen(ctx)).ws;
  sockets.push(await connectWithToken(wsUrl, activeSession.accessToken));
  // Messages: two today and one 3 days ago, written as rows (metadata is what is counted).
  const community = await expectOk(analyst.call("POST", "/api/communities", { name: "Usage" }), 201);
  const channel = (await ctx.database.db.selectFrom("channels").select("id").where("community_id", "=", community.id).executeTakeFirstOrThrow()).id;
  const insert = async (at: Date, i: number) => {
    await ctx.database.db
      .insertInto("messages")
      .values({ id: crypto.randomUUID(), channel_id: channel, sender_id: analyst.user.id, client_id: crypto.randomUUID(), scheme: "sk", ciphertext: Buffer.from(`x${i}`), sender_device_id: "dev", seq: 1000 + i, created_at: at } as never)
      .execute();
  };
  const now = new Date();
  await insert(now, 1);
  await insert(now, 2);
  await insert(new Date(now.getTime() - 3 * 86_400_000), 3);
  const usage = await expectOk(analyst.call("GET", "/api/admin/usage"));
  expect(usage.users.total).toBe(before.users.total + 2);
  expect(usage.users.active_7d).toBe(before.users.active_7d + 1);
  expect(usage.users.active_30d).toBeGreaterThanOrEqual(usage.users.active_7d);
  const today = now.toISOString().slice(0, 10);
  const threeAgo = new Date(now.getTime() - 3 * 86_400_000).toISOString().slice(0, 10);
  const byDay = Object.fromEntries(usage.messages_per_day.map((d: { day: string; count: number }) => [d.day, d.count]));
  expect(usage.messages_per_day.at(-1).day).toBe(today);
  expect(byDay[today]).toBe((before.messages_per_day.at(-1).count as number) + 2);
  expect(byDay[threeAgo]).toBeGreaterThanOrEqual(1);
  expect(usage.sockets).toEqual({ this_instance: 1, scope: "this_instance" });
  expect(usage.files).toEqual({ count: 0, bytes: 0 });
  expect(usage.database.kind).toBe(ctx.database.kind);
  expect(usage.database.bytes).toBeGreaterThan(0);
  const html = await (await ctx.request("/admin/usage", { headers: (await cookieSignIn(ctx, analyst.user)).headers })).text();
  expect(html).toContain("Messages per day, last 30 days");
  expect(html).toContain(today);
  expect(html).toContain("this instance only");
});
