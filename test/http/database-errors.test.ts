/**
 * Database errors that are not bugs are never a 500 (src/db/error-kinds.ts, toAppError): an
 * unreachable database is 503 DATABASE_UNAVAILABLE with Retry-After on every face of the app
 * (checked here with the database closed under the running app, on PGlite or PostgreSQL; the real
 * outage, a PostgreSQL server stopped and frozen under a running process, is
 * test/process/db-outage.test.ts), and a unique violation a service did not pre-empt is 409.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { isDatabaseUnavailable, isUniqueViolation } from "../../src/db/error-kinds.ts";
import { toAppError } from "../../src/http/error-response.tsx";
import { silentLogger } from "../../src/log.ts";
import { createTestContext, type TestContext } from "../helpers/app.ts";
import { cookieSignIn, createUser, signIn } from "../helpers/users.ts";

describe("which errors mean the database is unreachable", () => {
  test("socket, driver and server-shutdown errors do; query errors do not", () => {
    const withCode = (code: string, message = "x") => Object.assign(new Error(message), { code });
    for (const code of ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "CONNECT_TIMEOUT", "CONNECTION_CLOSED", "CONNECTION_DESTROYED", "57P01", "57P03", "08006", "53300"]) {
      expect({ code, unavailable: isDatabaseUnavailable(withCode(code)) }).toEqual({ code, unavailable: true });
    }
    expect(isDatabaseUnavailable(new Error("wrapped", { cause: withCode("ECONNREFUSED") }))).toBe(true);
    expect(isDatabaseUnavailable(new Error("PGlite is closed"))).toBe(true);
    for (const code of ["23505", "22P02", "22021", "08P01", "42601"]) {
      expect({ code, unavailable: isDatabaseUnavailable(withCode(code)) }).toEqual({ code, unavailable: false });
    }
    expect(isDatabaseUnavailable(new Error("boom"))).toBe(false);
    expect(isDatabaseUnavailable(undefined)).toBe(false);
    expect(isUniqueViolation(withCode("23505"))).toBe(true);
    expect(isUniqueViolation(withCode("23503"))).toBe(false);
  });

  test("the renderer's mapping: unreachable -> 503 with Retry-After, unique violation -> 409, anything else -> 500", () => {
    const withCode = (code: string) => Object.assign(new Error("x"), { code });
    expect(toAppError(withCode("ECONNREFUSED"), "r", silentLogger)).toMatchObject({ status: 503, code: "DATABASE_UNAVAILABLE", details: { retryAfterSecs: 5 } });
    expect(toAppError(withCode("23505"), "r", silentLogger)).toMatchObject({ status: 409, code: "CONCURRENT_CHANGE" });
    expect(toAppError(withCode("22P02"), "r", silentLogger)).toMatchObject({ status: 500, code: "INTERNAL_ERROR" });
  });
});

describe("with the database closed under the running app", () => {
  let ctx: TestContext;
  let bearer: Record<string, string>;
  let cookies: Record<string, string>;

  beforeAll(async () => {
    ctx = await createTestContext();
    const user = await createUser(ctx);
    bearer = (await signIn(ctx, user)).headers;
    cookies = (await cookieSignIn(ctx, user)).headers;
    expect((await ctx.request("/api/account/me", { headers: bearer })).status).toBe(200);
    await ctx.database.close();
  });
  afterAll(() => ctx.close());

  test("the JSON API: 503 DATABASE_UNAVAILABLE, Retry-After 5, the request id", async () => {
    for (const [path, init] of [
      ["/api/account/me", { headers: bearer }],
      ["/api/auth/login", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "someone", password: "some password 1" }) }],
    ] as const) {
      const res = await ctx.request(path, init);
      expect({ path, status: res.status, retryAfter: res.headers.get("retry-after") }).toEqual({ path, status: 503, retryAfter: "5" });
      const body = (await res.json()) as { error: { code: string; retry_after_secs: number; request_id: string } };
      expect(body.error).toMatchObject({ code: "DATABASE_UNAVAILABLE", retry_after_secs: 5 });
      expect(body.error.request_id).toBe(res.headers.get("x-request-id")!);
    }
  });

  test("a page: the 503 error page; an htmx request: the error fragment", async () => {
    const page = await ctx.request("/", { headers: cookies });
    expect(page.status).toBe(503);
    expect(page.headers.get("retry-after")).toBe("5");
    const html = await page.text();
    expect(html).toContain("Temporarily unavailable");
    expect(html).toContain("The database cannot be reached right now");
    const fragment = await ctx.request("/", { headers: { ...cookies, "hx-request": "true" } });
    expect(fragment.status).toBe(503);
    expect(fragment.headers.get("retry-after")).toBe("5");
    const text = await fragment.text();
    expect(text).toContain("The database cannot be reached right now");
    expect(text).not.toContain("<html");
  });

  test("health reports degraded, as before", async () => {
    const res = await ctx.request("/health");
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: "degraded", db_healthy: false });
  });
});
