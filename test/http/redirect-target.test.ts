/**
 * Open redirect after sign-in (security review, issue 10 item 5): `next=/%09/evil.example` passed
 * the old prefix check and Chromium followed it to another host. Every redirect target goes
 * through sameOriginPath; here the hostile list, then the same values through the real routes.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { MAX_REDIRECT_PATH, sameOriginPath } from "../../src/http/redirect-target.ts";
import { createTestContext, type TestContext } from "../helpers/app.ts";
import { cookieSignIn, createUser, TEST_PASSWORD } from "../helpers/users.ts";
import { HOSTILE_NEXT } from "../helpers/hostile-redirects.ts";

const ORIGIN = "https://chat.example.com";


/** Percent-encoded or exotic, but a browser keeps them on the origin: allowed, serialised as parsed. */
const ENCODED_BUT_LOCAL: [string, string][] = [
  ["/%2F%2Fevil.example", "/%2F%2Fevil.example"],
  ["/%2f/evil.example", "/%2f/evil.example"],
  ["/%5C/evil.example", "/%5C/evil.example"],
  ["/%5Cevil.example", "/%5Cevil.example"],
  ["/%09/evil.example", "/%09/evil.example"],
  ["/\uFF0F\uFF0Fevil.example", "/%EF%BC%8F%EF%BC%8Fevil.example"],
  ["/\u2215evil.example", "/%E2%88%95evil.example"],
  ["/caf\u00e9?q=\u00e9#x", "/caf%C3%A9?q=%C3%A9#x"],
];

const LEGITIMATE = ["/", "/settings/security", "/c/0190a0a0-0000-7000-8000-000000000000/ch/x?jump=1#m-5", "/settings/security?saved=totp_setup#two-factor", "/login?next=%2Fsettings"];

/** What a browser at ORIGIN would land on when given `location`. */
const landsOn = (location: string, origin = ORIGIN) => new URL(location, origin).origin;

describe("sameOriginPath", () => {
  test.each(HOSTILE_NEXT.map((v) => [JSON.stringify(v), v]))("refuses %s", (_shown, value) => {
    expect(sameOriginPath(value, ORIGIN)).toBeUndefined();
  });

  test.each(ENCODED_BUT_LOCAL)("keeps %p on the origin as %p", (value, expected) => {
    const path = sameOriginPath(value, ORIGIN)!;
    expect(path).toBe(expected);
    expect(landsOn(path)).toBe(ORIGIN);
    expect(landsOn(path, "http://127.0.0.1:9")).toBe("http://127.0.0.1:9");
  });

  test.each(LEGITIMATE)("accepts %p unchanged", (value) => {
    expect(sameOriginPath(value, ORIGIN)).toBe(value);
  });

  test("refuses non-strings and over-long values instead of truncating them", () => {
    for (const value of [undefined, null, 42, ["/"], { toString: () => "/" }]) expect(sameOriginPath(value, ORIGIN)).toBeUndefined();
    expect(sameOriginPath("/" + "a".repeat(MAX_REDIRECT_PATH - 1), ORIGIN)).toBe("/" + "a".repeat(MAX_REDIRECT_PATH - 1));
    expect(sameOriginPath("/" + "a".repeat(MAX_REDIRECT_PATH), ORIGIN)).toBeUndefined();
  });

  test("every accepted value resolves to the origin on any base (fuzz over slash-like characters)", () => {
    const parts = ["/", "\\", "\t", "\n", ".", "..", "%2F", "%5C", "%09", "\uFF0F", "evil.example", "@", ":", "?", "#", " "];
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      let value = "";
      for (let n = 1 + (i % 6); n > 0; n--) value += parts[Math.floor(Math.random() * parts.length)];
      const path = sameOriginPath(value, ORIGIN);
      if (path === undefined) continue;
      accepted++;
      expect([value, landsOn(path)]).toEqual([value, ORIGIN]);
      expect([value, landsOn(path, "http://127.0.0.1:9")]).toEqual([value, "http://127.0.0.1:9"]);
    }
    expect(accepted).toBeGreaterThan(100);
  });
});

describe("every redirect of the app", () => {
  let ctx: TestContext;
  let cookie: string;
  beforeAll(async () => {
    ctx = await createTestContext({ sleep: async () => {} });
    cookie = (await cookieSignIn(ctx, await createUser(ctx))).headers.cookie!;
  }, 60_000);
  afterAll(() => ctx.close());

  const SAME_ORIGIN = { origin: "http://localhost", "content-type": "application/x-www-form-urlencoded" };
  const stays = (location: string | null) => {
    expect(location).not.toBeNull();
    expect(landsOn(location!, "http://localhost")).toBe("http://localhost");
    expect(landsOn(location!, "http://127.0.0.1:9")).toBe("http://127.0.0.1:9");
  };

  test("a signed-in visit to /login?next=<hostile> redirects home, plain and htmx", async () => {
    for (const next of HOSTILE_NEXT) {
      const url = `/login?next=${encodeURIComponent(next)}`;
      const plain = await ctx.request(url, { headers: { cookie } });
      const htmx = await ctx.request(url, { headers: { cookie, "hx-request": "true" } });
      if (next.includes("\u0000")) {
        // A NUL is refused at the edge, before any route looks at it (INVALID_TEXT): no redirect.
        expect([next, plain.status, plain.headers.get("location")]).toEqual([next, 400, null]);
        expect([next, htmx.status, htmx.headers.get("hx-redirect")]).toEqual([next, 400, null]);
        continue;
      }
      expect([next, plain.status, plain.headers.get("location")]).toEqual([next, 303, "/"]);
      expect([next, htmx.status, htmx.headers.get("hx-redirect")]).toEqual([next, 204, "/"]);
    }
  });

  test("the signed-out login page carries only a safe next into its form and SSO link", async () => {
    const html = await (await ctx.request(`/login?next=${encodeURIComponent("/\t/evil.example")}`)).text();
    expect(html).toContain('name="next" value="/"');
    expect(html).not.toContain("evil.example");
  });

  test("POST /login with a hostile next (plain and htmx) lands on the origin", async () => {
    const user = await createUser(ctx);
    for (const [next, headers] of [["/\t/evil.example", {}], ["/\\evil.example", { "hx-request": "true" }]] as const) {
      const res = await ctx.request("/login", { method: "POST", headers: { ...SAME_ORIGIN, ...headers }, body: new URLSearchParams({ username: user.username, password: TEST_PASSWORD, next }).toString() });
      expect(res.status).toBeOneOf([204, 303]);
      const location = res.headers.get("location") ?? res.headers.get("hx-redirect");
      expect(location).toBe("/");
    }
  });

  test("a signed-out visit to a scheme-relative-looking path is sent to /login without a hostile next", async () => {
    for (const path of ["//evil.example/x", "/.//evil.example", "/%2F%2Fevil.example"]) {
      const res = await ctx.request(path);
      const location = res.headers.get("location");
      if (res.status === 303) {
        stays(location);
        const next = new URL(location!, "http://localhost").searchParams.get("next");
        if (next !== null) stays(next);
      } else expect(res.status).toBe(404);
    }
  });
});
