/**
 * Bearer secrets in URLs never reach the logs (issue 10 §8): invite codes in /invite/<code> and
 * /api/community-invites/<code>, setup and reset tokens in /setup/<token> or ?setup_token=, in
 * the request log, the rate-limit line and error logs. Logs are captured from the real pipeline.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestContext, type TestContext } from "../helpers/app.ts";
import { createLogger, redactUrlSecrets } from "../../src/log.ts";

const SECRET = "K7QX-M2PA-ZZ9R";

let ctx: TestContext;
let limited: TestContext;
beforeAll(async () => {
  ctx = await createTestContext({ captureLogs: true });
  // A handler that fails with the URL in its message, as library errors often do.
  // (":code": every path param name has a registered type, src/http/input-guard.ts)
  ctx.app.get("/setup/:code/explode", ({ request }) => {
    throw new Error(`could not handle ${request.url}`);
  });
  limited = await createTestContext({ captureLogs: true, database: ctx.database, rateLimits: { general: { ratePerSec: 0.001, burst: 1 }, auth: { ratePerSec: 0.001, burst: 1 } } });
}, 60_000);
afterAll(async () => {
  await limited.hub.stop();
  await ctx.close();
});

const logged = (c: TestContext) => c.logs.join("\n");
const requestPaths = (c: TestContext): string[] => c.logs.map((l) => JSON.parse(l)).filter((l) => l.msg === "http.request").map((l) => l.path);

/** The request line is written after the response is handed back: wait for it (bounded). */
async function waitForRequestLines(c: TestContext, count: number): Promise<void> {
  for (let i = 0; i < 200 && requestPaths(c).length < count; i++) await Bun.sleep(10);
}

describe("request paths in logs", () => {
  test("invite codes in page and API paths are redacted; the route shape stays readable", async () => {
    await ctx.request(`/invite/${SECRET}`);
    await ctx.request(`/invite/${SECRET}/accept`, { method: "POST", headers: { origin: "http://localhost" } });
    await ctx.request(`/api/community-invites/${SECRET}`);
    await ctx.request(`/api/community-invites/${encodeURIComponent(SECRET)}/accept`, { method: "POST" });
    await waitForRequestLines(ctx, 4);
    expect(logged(ctx)).not.toContain(SECRET);
    const paths = requestPaths(ctx);
    expect(paths).toContain("/invite/[redacted]");
    expect(paths).toContain("/invite/[redacted]/accept");
    expect(paths).toContain("/api/community-invites/[redacted]");
    expect(paths).toContain("/api/community-invites/[redacted]/accept");
  });

  test("the rate-limit line redacts the path too", async () => {
    await limited.request(`/invite/${SECRET}`);
    const second = await limited.request(`/invite/${SECRET}`);
    expect(second.status).toBe(429);
    const lines = limited.logs.map((l) => JSON.parse(l)).filter((l) => l.msg === "http.rate_limited");
    expect(lines.length).toBeGreaterThan(0);
    expect(lines[0].path).toBe("/invite/[redacted]");
    expect(logged(limited)).not.toContain(SECRET);
  });

  test("an unhandled error whose message carries the URL is logged without the token", async () => {
    const res = await ctx.request(`/setup/${SECRET}/explode?setup_token=${SECRET}`);
    expect(res.status).toBe(500);
    const error = ctx.logs.map((l) => JSON.parse(l)).find((l) => l.msg === "http.unhandled_error");
    expect(error).toBeDefined();
    expect(error.error.message).toContain("/setup/[redacted]/explode?setup_token=[redacted]");
    expect(logged(ctx)).not.toContain(SECRET);
  });
});

describe("the rule list", () => {
  test("path segments and query parameters that carry bearer secrets", () => {
    expect(redactUrlSecrets(`/invite/${SECRET}`)).toBe("/invite/[redacted]");
    expect(redactUrlSecrets(`https://chat.example/invite/${SECRET}/accept?x=1`)).toBe("https://chat.example/invite/[redacted]/accept?x=1");
    expect(redactUrlSecrets(`/register?invite=${SECRET}&setup_token=abc`)).toBe("/register?invite=[redacted]&setup_token=[redacted]");
    expect(redactUrlSecrets("/auth/oidc/callback?code=abc&state=def")).toBe("/auth/oidc/callback?code=[redacted]&state=[redacted]");
    expect(redactUrlSecrets("/reset-password/tok123")).toBe("/reset-password/[redacted]");
    // Ordinary ids and routes are left alone.
    expect(redactUrlSecrets("/admin/invites/0190a0b1-0000-7000-8000-000000000000/delete")).toBe("/admin/invites/0190a0b1-0000-7000-8000-000000000000/delete");
    expect(redactUrlSecrets("/api/totp/verify")).toBe("/api/totp/verify");
  });

  test("the logger applies it to URL-like fields and errors, whoever logs them", () => {
    const lines: string[] = [];
    const log = createLogger("debug", {}, (l) => lines.push(l));
    log.info("x", { url: `http://h/invite/${SECRET}`, next: `/invite/${SECRET}`, error: new Error(`GET /api/community-invites/${SECRET} failed`) });
    log.child({ path: `/setup/${SECRET}` }).warn("y");
    expect(lines.join("\n")).not.toContain(SECRET);
  });
});
