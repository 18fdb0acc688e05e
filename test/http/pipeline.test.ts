import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestContext, type TestContext } from "../helpers/app.ts";
import { SECURITY_HEADERS } from "../../src/http/security-headers.ts";
import { NotFoundError } from "../../src/errors.ts";
import { DEFAULT_RATE_LIMITS } from "../../src/http/rate-limit.ts";

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext({ captureLogs: true });
  ctx.app.get("/test/boom", () => {
    throw new Error("secret internal detail: password=hunter2");
  });
  ctx.app.get("/api/test/missing-thing", () => {
    throw new NotFoundError("No such thing here.");
  });
  ctx.app.get("/api/test/boom", () => {
    throw new Error("secret internal detail");
  });
}, 60_000);
afterAll(() => ctx.close());

function expectSecurityHeaders(res: Response) {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(res.headers.get(name)).toBe(value);
  const csp = res.headers.get("content-security-policy")!;
  expect(csp).toContain("script-src 'self'");
  expect(csp).not.toContain("unsafe-inline");
  expect(csp).not.toContain("unsafe-eval");
  expect(csp).toContain("connect-src 'self' wss:");
  expect(csp.split("; ")).toContain("img-src 'self' data: blob:");
  // No third-party origin anywhere (GIF search, which would add Giphy's hosts, is planned).
  expect(csp).not.toMatch(/https?:\/\//);
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toContain("form-action 'self'");
  expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
}

describe("security headers", () => {
  test("on a page", async () => {
    const res = await ctx.request("/login");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expectSecurityHeaders(res);
  });
  test("on a JSON route", async () => {
    const res = await ctx.request("/api/health");
    expect(res.status).toBe(200);
    expectSecurityHeaders(res);
  });
  test("on a 404 page and a 404 JSON", async () => {
    const page = await ctx.request("/no/such/page");
    expect(page.status).toBe(404);
    expect(await page.text()).toContain("Page not found");
    expectSecurityHeaders(page);
    const api = await ctx.request("/api/no/such/route");
    expect(api.status).toBe(404);
    expect(await api.json()).toEqual({ error: { code: "NOT_FOUND", message: "There is nothing at this address." } });
    // A service's own NotFoundError keeps its message (Elysia hands onError the error's code,
    // which must not turn it into "unknown route").
    const own = await ctx.request("/api/test/missing-thing");
    expect(own.status).toBe(404);
    expect(await own.json()).toEqual({ error: { code: "NOT_FOUND", message: "No such thing here." } });
    expectSecurityHeaders(api);
  });
  test("on a 500: generic message with the request id, details only in the log", async () => {
    const res = await ctx.request("/api/test/boom");
    expect(res.status).toBe(500);
    expectSecurityHeaders(res);
    const body = (await res.json()) as { error: { code: string; message: string; request_id: string } };
    expect(body.error.code).toBe("INTERNAL_ERROR");
    expect(body.error.request_id).toBe(res.headers.get("x-request-id")!);
    expect(JSON.stringify(body)).not.toContain("secret internal detail");
    expect(ctx.logs.some((l) => l.includes("secret internal detail") && l.includes(body.error.request_id))).toBe(true);

    const page = await ctx.request("/test/boom");
    expect(page.status).toBe(500);
    expectSecurityHeaders(page);
    const html = await page.text();
    expect(html).toContain(page.headers.get("x-request-id")!);
    expect(html).not.toContain("hunter2");
  });
  test("on static files, which are immutable when content-hashed", async () => {
    const manifest = (await (await ctx.request("/public/build/manifest.json")).json()) as { files: Record<string, string> };
    const res = await ctx.request(`/public/${manifest.files["app.js"]}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expectSecurityHeaders(res);
    const vendor = await ctx.request(`/public/${manifest.files["htmx.js"]}`);
    expect(vendor.status).toBe(200);
    expect(vendor.headers.get("content-type")).toContain("javascript");
  });
});

describe("htmx errors", () => {
  test("an htmx request gets an error banner fragment, not a page", async () => {
    const res = await ctx.request("/no/such/page", { headers: { "hx-request": "true" } });
    expect(res.status).toBe(404);
    const html = await res.text();
    expect(html).toContain('role="alert"');
    expect(html).not.toContain("<html");
  });
});

describe("static file confinement", () => {
  for (const path of ["/public/../package.json", "/public/%2e%2e/package.json", "/public/build/%00x", "/public/.env"]) {
    test(`refuses ${path}`, async () => {
      const res = await ctx.request(path);
      expect(res.status).toBe(404);
    });
  }
});

describe("request body limit", () => {
  // Per-route budgets in detail: body-limit.test.ts, body-in-flight.test.ts, process/body-flood.test.ts.
  test("a body declared over the route's budget (64 KiB by default) is refused with 413 before it is read", async () => {
    const res = await ctx.request("/api/health", { method: "POST", headers: { "content-length": String(64 * 1024 + 1), "content-type": "application/json" }, body: "{}" });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("PAYLOAD_TOO_LARGE");
  });
});

describe("rate limits (seeds/000 numbers)", () => {
  test("auth endpoints: 429 with Retry-After after a burst of 10", async () => {
    // A frozen clock: at 5/s a slow machine refilled a token mid-loop (seen under load).
    const frozen = Date.now();
    const limited = await createTestContext({ rateLimits: DEFAULT_RATE_LIMITS, database: ctx.database, now: () => frozen });
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await limited.request("/api/auth/login", { method: "POST" })).status);
    expect(statuses.slice(0, 10).every((s) => s !== 429)).toBe(true);
    expect(statuses.slice(10)).toEqual([429, 429]);
    const res = await limited.request("/api/auth/login", { method: "POST" });
    expect(res.headers.get("retry-after")).toMatch(/^[1-9]\d*$/);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("RATE_LIMITED");
    expect(body.error.message.length).toBeGreaterThan(10);
    expectSecurityHeaders(res);
  });
  test("general API: 429 after a burst of 50; the page POSTs of login count as auth", async () => {
    // A frozen clock: no token refills during the loop, however slow the machine is.
    const frozen = Date.now();
    const limited = await createTestContext({ rateLimits: DEFAULT_RATE_LIMITS, database: ctx.database, now: () => frozen });
    let firstLimited = -1;
    for (let i = 0; i < 60 && firstLimited < 0; i++) if ((await limited.request("/api/health")).status === 429) firstLimited = i;
    expect(firstLimited).toBe(50);
  });
  test("the bucket refills at the configured rate", async () => {
    let clock = 1_000_000;
    const limited = await createTestContext({ rateLimits: DEFAULT_RATE_LIMITS, database: ctx.database });
    // A fresh app with an injected clock: drain, advance 1 s, expect exactly 5 more auth requests.
    const { createApp } = await import("../../src/app.ts");
    const app = createApp({ ...limited.deps, now: () => clock });
    const hit = () => app.handle(new Request("http://localhost/api/auth/refresh", { method: "POST" })).then((r) => r.status);
    for (let i = 0; i < 10; i++) expect(await hit()).not.toBe(429);
    expect(await hit()).toBe(429);
    clock += 1000;
    const after: number[] = [];
    for (let i = 0; i < 6; i++) after.push(await hit());
    expect(after.filter((s) => s !== 429)).toHaveLength(5);
  });
});

describe("logger redaction", () => {
  test("secret-looking fields are never written", async () => {
    const { createLogger } = await import("../../src/log.ts");
    const lines: string[] = [];
    const log = createLogger("debug", {}, (l) => lines.push(l)).child({ token: "abc" });
    log.info("x", { password: "hunter2", refresh_token: "r", ciphertext: "c", userId: "u1" });
    expect(lines[0]).not.toContain("hunter2");
    expect(lines[0]).not.toContain('"abc"');
    expect(JSON.parse(lines[0]!).userId).toBe("u1");
  });
});
