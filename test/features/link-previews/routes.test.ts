// POST /api/link-preview and the per-user switch (docs/integrations.md "Link previews"): signed
// in only; refused when the user turned previews off; rate limited per user; the SSRF refusals
// reach the API as 422 LINK_PREVIEW_REFUSED; an admitted page (the loopback test server, through
// an injected resolver and policy) comes back parsed. The settings page says what the server learns.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { LINK_PREVIEW_RATE } from "../../../src/features/link-previews/index.ts";
import type { TestContext } from "../../helpers/app.ts";
import { client, communityTestContext, type Client } from "../communities/helpers.ts";

let ctx: TestContext;
let alice: Client;
let server: ReturnType<typeof Bun.serve>;

beforeAll(async () => {
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: () => new Response(`<html><head><title>Hello &lt;b&gt;</title><meta name="description" content="A loopback page"><meta property="og:image" content="https://img.test/p.png"></head></html>`, { headers: { "content-type": "text/html" } }),
  });
  ctx = await communityTestContext();
  // Only the loopback test server is admitted, by name through the injected resolver.
  ctx.deps.linkPreviewPolicy = { resolve: async (name) => (name === "page.test" ? ["127.0.0.1"] : ["10.0.0.1"]), allowAddress: (ip) => ip === "127.0.0.1", allowPort: () => true };
  alice = await client(ctx);
});
afterAll(async () => {
  server.stop(true);
  await ctx.close();
});

test("signed out: 401", async () => {
  const r = await ctx.request("/api/link-preview", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ url: "http://page.test/" }) });
  expect(r.status).toBe(401);
});

test("a page the policy admits comes back parsed; a private one is 422 LINK_PREVIEW_REFUSED; a non-URL 400", async () => {
  const ok = await alice.call("POST", "/api/link-preview", { url: `http://page.test:${server.port}/x` });
  expect(ok.status).toBe(200);
  expect(ok.body).toEqual({ url: `http://page.test:${server.port}/x`, title: "Hello <b>", description: "A loopback page", site_name: null, image_url: "https://img.test/p.png" });
  const refused = await alice.call("POST", "/api/link-preview", { url: "http://internal.test/" });
  expect(refused.status).toBe(422);
  expect(refused.body.error.code).toBe("LINK_PREVIEW_REFUSED");
  const metadata = await alice.call("POST", "/api/link-preview", { url: "http://169.254.169.254/" });
  expect(metadata.body.error.code).toBe("LINK_PREVIEW_REFUSED");
  const bad = await alice.call("POST", "/api/link-preview", { url: "not a url" });
  expect(bad.status).toBe(400);
  expect(bad.body.error.code).toBe("INVALID_URL");
  const long = await alice.call("POST", "/api/link-preview", { url: `http://page.test/${"a".repeat(3000)}` });
  expect(long.status).toBe(400);
});

test("the switch: off refuses the route (403 LINK_PREVIEWS_OFF), on again allows it; the API and the page agree", async () => {
  const bob = await client(ctx);
  expect((await bob.call("GET", "/api/account/link-previews")).body).toEqual({ enabled: true });
  expect((await bob.call("PUT", "/api/account/link-previews", { enabled: false })).status).toBe(200);
  const off = await bob.call("POST", "/api/link-preview", { url: `http://page.test:${server.port}/` });
  expect(off.status).toBe(403);
  expect(off.body.error.code).toBe("LINK_PREVIEWS_OFF");
  const page = await ctx.request("/settings/link-previews", { headers: bob.headers });
  expect(page.status).toBe(200);
  const html = await page.text();
  expect(html).toContain("the server learns the addresses you preview");
  expect(html).not.toMatch(/id="link-previews-enabled"[^>]*checked/);
  const form = await ctx.request("/settings/link-previews", { method: "POST", headers: { ...bob.headers, "content-type": "application/x-www-form-urlencoded" }, body: "enabled=on" });
  expect(form.status).toBeLessThan(400);
  expect((await bob.call("GET", "/api/account/link-previews")).body).toEqual({ enabled: true });
});

test("rate limited per user: the burst passes, then 429", async () => {
  const carol = await client(ctx);
  const statuses: number[] = [];
  for (let i = 0; i < LINK_PREVIEW_RATE.burst + 1; i++) statuses.push((await carol.call("POST", "/api/link-preview", { url: "http://internal.test/" })).status);
  expect(statuses.slice(0, LINK_PREVIEW_RATE.burst).every((s) => s === 422)).toBe(true);
  expect(statuses.at(-1)).toBe(429);
});
