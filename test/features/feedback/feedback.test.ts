// Feedback to a GitHub issue (docs/integrations.md "Feedback") against a loopback stand-in for
// GitHub's REST API (its base URL injected through deps, never env): one submission opens exactly
// one issue with the category's label, a screenshot is committed to the repository and linked
// from the issue; bad screenshots and over-long text are refused before GitHub is asked; the rate
// limit holds; the token is in no response and no log line; with the variables unset the routes
// are 404 and the settings have no link.
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { createTestContext, type TestContext } from "../../helpers/app.ts";
import { client, communityTestContext, type Client } from "../communities/helpers.ts";

setDefaultTimeout(120_000);
const TOKEN = `ghp_${crypto.randomUUID().replace(/-/g, "")}`;
const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]);

type Seen = { method: string; path: string; auth: string | null; body: any };
const seen: Seen[] = [];
let server: ReturnType<typeof Bun.serve>;
let ctx: TestContext;
let off: TestContext;
let alice: Client;
const texts: string[] = [];

beforeAll(async () => {
  let next = 41;
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const url = new URL(request.url);
      const body = await request.json().catch(() => null);
      seen.push({ method: request.method, path: url.pathname, auth: request.headers.get("authorization"), body });
      if (request.method === "POST" && url.pathname === "/repos/hearth-org/feedback/issues") {
        next++;
        return Response.json({ number: next, html_url: `https://github.com/hearth-org/feedback/issues/${next}` }, { status: 201 });
      }
      if (request.method === "PUT" && url.pathname.startsWith("/repos/hearth-org/feedback/contents/feedback-screenshots/")) {
        return Response.json({ content: { html_url: `https://github.com/hearth-org/feedback/blob/main${url.pathname.slice("/repos/hearth-org/feedback/contents".length)}` } }, { status: 201 });
      }
      return Response.json({ message: "Not Found" }, { status: 404 });
    },
  });
  ctx = await createTestContext({ env: { GITHUB_API_TOKEN: TOKEN, GITHUB_REPO_OWNER: "hearth-org", GITHUB_REPO_NAME: "feedback" }, captureLogs: true });
  ctx.deps.github = { apiBaseUrl: `http://127.0.0.1:${server.port}` };
  alice = await client(ctx);
  off = await communityTestContext();
});
afterAll(async () => {
  server.stop(true);
  await ctx.close();
  await off.close();
});

async function send(c: Client, fields: Record<string, string | Blob>, path = "/api/feedback"): Promise<{ status: number; text: string }> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  const headers = { ...c.headers };
  delete (headers as Record<string, string>)["content-type"];
  const r = await ctx.request(path, { method: "POST", headers, body: form });
  const text = await r.text();
  texts.push(text, JSON.stringify([...r.headers]));
  return { status: r.status, text };
}

const issues = () => seen.filter((s) => s.method === "POST" && s.path.endsWith("/issues"));

test("one submission opens exactly one issue with the category's label; the user gets its link", async () => {
  const r = await send(alice, { category: "idea", text: "Dark mode for the login page\nIt is bright at night." });
  expect(r.status).toBe(201);
  const body = JSON.parse(r.text);
  expect(body).toEqual({ issue_url: "https://github.com/hearth-org/feedback/issues/42", issue_number: 42, screenshot_url: null });
  expect(issues()).toHaveLength(1);
  const issue = issues()[0]!;
  expect(issue.auth).toBe(`Bearer ${TOKEN}`);
  expect(issue.body.labels).toEqual(["enhancement"]);
  expect(issue.body.title).toBe("[idea] Dark mode for the login page");
  expect(issue.body.body).toContain("It is bright at night.");
  expect(issue.body.body).not.toContain(alice.user.username);
});

test("a screenshot is committed to the repository and linked from the issue", async () => {
  const before = seen.length;
  const r = await send(alice, { category: "bug", text: "The send button overlaps", screenshot: new File([PNG], "shot.png", { type: "image/png" }) });
  expect(r.status).toBe(201);
  const body = JSON.parse(r.text);
  const calls = seen.slice(before);
  expect(calls.map((c) => c.method)).toEqual(["PUT", "POST"]);
  expect(calls[0]!.path).toMatch(/^\/repos\/hearth-org\/feedback\/contents\/feedback-screenshots\/[0-9a-f-]{36}\.png$/);
  expect(Buffer.from(calls[0]!.body.content, "base64")).toEqual(Buffer.from(PNG));
  expect(calls[1]!.body.labels).toEqual(["bug"]);
  expect(calls[1]!.body.body).toContain(body.screenshot_url);
  expect(body.screenshot_url).toMatch(/^https:\/\/github\.com\/hearth-org\/feedback\/blob\/main\/feedback-screenshots\//);
});

test("refused before GitHub is asked: not an image, too large, empty or over-long text, an unknown category", async () => {
  const before = seen.length;
  expect((await send(alice, { category: "bug", text: "x", screenshot: new File([new TextEncoder().encode("<svg/>")], "x.png", { type: "image/png" }) })).status).toBe(400);
  const big = await send(alice, { category: "bug", text: "x", screenshot: new File([new Uint8Array(5 * 1024 * 1024 + 10)], "x.png", { type: "image/png" }) });
  expect([400, 413]).toContain(big.status);
  expect((await send(alice, { category: "bug", text: "" })).status).toBe(400);
  expect((await send(alice, { category: "bug", text: "a".repeat(5001) })).status).toBe(400);
  expect((await send(alice, { category: "spam", text: "x" })).status).toBe(400);
  expect(seen.length).toBe(before);
});

test("the page: the form says where feedback goes; its POST shows the issue link; the settings link it", async () => {
  const bob = await client(ctx);
  const page = await (await ctx.request("/settings/feedback", { headers: bob.headers })).text();
  expect(page).toContain("hearth-org/feedback");
  expect(page).toContain('enctype="multipart/form-data"');
  const account = await (await ctx.request("/settings/account", { headers: bob.headers })).text();
  expect(account).toContain('href="/settings/feedback"');
  const r = await send(bob, { category: "question", text: "How do I verify a device?" }, "/settings/feedback");
  expect(r.status).toBe(201);
  expect(r.text).toMatch(/href="https:\/\/github\.com\/hearth-org\/feedback\/issues\/\d+"/);
  expect(issues().at(-1)!.body.labels).toEqual(["question"]);
});

test("rate limited per user: the fourth in a row is 429 and opens no issue", async () => {
  const carol = await client(ctx);
  for (let i = 0; i < 3; i++) expect((await send(carol, { category: "other", text: `note ${i}` })).status).toBe(201);
  const count = issues().length;
  const limited = await send(carol, { category: "other", text: "one more" });
  expect(limited.status).toBe(429);
  expect(JSON.parse(limited.text).error.code).toBe("FEEDBACK_RATE_LIMITED");
  expect(issues().length).toBe(count);
});

test("the token is in no response and no log line", () => {
  expect(texts.length).toBeGreaterThan(5);
  for (const text of texts) expect(text).not.toContain(TOKEN);
  expect(ctx.logs.some((l) => l.includes("feedback.issue_created"))).toBe(true);
  for (const line of ctx.logs) expect(line).not.toContain(TOKEN);
});

test("unset: the routes are 404 and the settings have no link", async () => {
  const dave = await client(off);
  const form = new FormData();
  form.append("category", "bug");
  form.append("text", "x");
  const headers = { ...dave.headers } as Record<string, string>;
  delete headers["content-type"];
  expect((await off.request("/api/feedback", { method: "POST", headers, body: form })).status).toBe(404);
  expect((await off.request("/settings/feedback", { headers: dave.headers })).status).toBe(404);
  const account = await (await off.request("/settings/account", { headers: dave.headers })).text();
  expect(account).not.toContain("/settings/feedback");
});
