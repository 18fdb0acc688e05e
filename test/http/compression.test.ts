/**
 * Responses are compressed (issue 10; docs/decisions/0004-compression.md): static assets are
 * served from build-time brotli/gzip variants by Accept-Encoding with Vary; HTML and JSON over
 * 1 KiB are compressed on the way out; a response that shows a secret (marked `data-secret` in
 * HTML, a secret field name in JSON) is never compressed (BREACH).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { carriesSecret, pickEncoding } from "../../src/http/compression.ts";
import { createTestContext, STATIC_DIR, type TestContext } from "../helpers/app.ts";
import { cookieSignIn, createUser, signIn, TEST_PASSWORD } from "../helpers/users.ts";

let ctx: TestContext;
let files: Record<string, string>;
const BOTH = { "accept-encoding": "gzip, deflate, br, zstd" };

beforeAll(async () => {
  ctx = await createTestContext({ env: { COMMUNITY_CREATION_MODE: "anyone" } });
  files = (JSON.parse(readFileSync(join(STATIC_DIR, "build", "manifest.json"), "utf8")) as { files: Record<string, string> }).files;
});
afterAll(async () => {
  await ctx?.close();
});

const decode = (encoding: string | null, bytes: Uint8Array): string =>
  new TextDecoder().decode(encoding === "br" ? brotliDecompressSync(bytes) : encoding === "gzip" ? gunzipSync(bytes) : bytes);

describe("static assets: precompressed at build time", () => {
  for (const name of ["chat.js", "e2ee.js", "app.js", "app.css", "htmx.js", "alpine.js"]) {
    test(`${name}: brotli when accepted, gzip otherwise, plain without; Vary and immutable caching either way`, async () => {
      const original = readFileSync(join(STATIC_DIR, files[name]!));
      const cases: [Record<string, string>, string | null][] = [
        [BOTH, "br"],
        [{ "accept-encoding": "gzip" }, "gzip"],
        [{ "accept-encoding": "br;q=0, gzip;q=0.5" }, "gzip"],
        [{ "accept-encoding": "identity" }, null],
        [{}, null],
        [{ ...BOTH, range: "bytes=0-99" }, null], // a range of the plain file, never of a variant
      ];
      for (const [headers, expected] of cases) {
        const res = await ctx.request(`/public/${files[name]}`, { headers });
        const body = new Uint8Array(await res.arrayBuffer());
        expect({ headers, encoding: res.headers.get("content-encoding") }).toEqual({ headers, encoding: expected });
        expect(res.headers.get("vary")).toContain("Accept-Encoding");
        expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
        expect(res.headers.get("content-type")).toMatch(name.endsWith(".css") ? /^text\/css/ : /^text\/javascript/);
        if (headers.range) continue;
        if (expected) {
          expect(Number(res.headers.get("content-length"))).toBe(body.length);
          expect(body.length).toBeLessThan(original.length / 2);
        }
        expect(decode(expected, body)).toBe(original.toString("utf8"));
      }
    });
  }

  test("HEAD answers with the headers a GET would have", async () => {
    const get = await ctx.request(`/public/${files["chat.js"]}`, { headers: BOTH });
    const head = await ctx.request(`/public/${files["chat.js"]}`, { method: "HEAD", headers: BOTH });
    for (const h of ["content-encoding", "content-length", "vary", "content-type"]) expect(head.headers.get(h)).toBe(get.headers.get(h));
  });
});

describe("dynamic HTML and JSON", () => {
  test("a large JSON list is compressed (br or gzip by Accept-Encoding) with Vary; a small one is not", async () => {
    const user = await createUser(ctx);
    const { headers } = await signIn(ctx, user);
    const small = await ctx.request("/api/communities", { headers: { ...headers, ...BOTH } });
    expect(small.headers.get("content-encoding")).toBeNull();
    for (let i = 0; i < 12; i++) {
      await ctx.request("/api/communities", { method: "POST", headers, body: JSON.stringify({ name: `Community number ${i}`, description: "x".repeat(80) }) });
    }
    const plain = await (await ctx.request("/api/communities", { headers })).text();
    expect(plain.length).toBeGreaterThan(1024);
    for (const [accept, expected] of [["br, gzip", "br"], ["gzip", "gzip"], ["", null]] as const) {
      const res = await ctx.request("/api/communities", { headers: { ...headers, "accept-encoding": accept } });
      const body = new Uint8Array(await res.arrayBuffer());
      expect({ accept, encoding: res.headers.get("content-encoding") }).toEqual({ accept, encoding: expected });
      expect(res.headers.get("vary")).toContain("Accept-Encoding");
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      expect(JSON.parse(decode(expected, body))).toEqual(JSON.parse(plain));
      if (expected) expect(body.length).toBeLessThan(plain.length / 2);
    }
  });

  test("a page without a secret is compressed; security headers stay", async () => {
    const user = await createUser(ctx);
    const { headers } = await cookieSignIn(ctx, user);
    const res = await ctx.request("/", { headers: { ...headers, ...BOTH } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-encoding")).toBe("br");
    expect(res.headers.get("vary")).toBe("HX-Request, Accept-Encoding");
    expect(res.headers.get("content-security-policy")).toBeTruthy();
    expect(decode("br", new Uint8Array(await res.arrayBuffer()))).toContain("<!doctype html>");
  });
});

describe("BREACH: responses that show a secret are never compressed", () => {
  test("the community invites page (invite links) and the invites JSON (codes)", async () => {
    const owner = await createUser(ctx);
    const api = await signIn(ctx, owner);
    const community = (await (await ctx.request("/api/communities", { method: "POST", headers: api.headers, body: JSON.stringify({ name: "Secrets inside" }) })).json()) as { id: string };
    for (let i = 0; i < 8; i++) await ctx.request(`/api/communities/${community.id}/invites`, { method: "POST", headers: api.headers, body: "{}" });
    const json = await ctx.request(`/api/communities/${community.id}/invites`, { headers: { ...api.headers, ...BOTH } });
    const jsonText = await json.text();
    expect(jsonText.length).toBeGreaterThan(1024);
    expect(json.headers.get("content-encoding")).toBeNull();

    const { headers } = await cookieSignIn(ctx, owner);
    const page = await ctx.request(`/c/${community.id}/settings/invites`, { headers: { ...headers, ...BOTH } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("/invite/");
    expect(html.length).toBeGreaterThan(1024);
    expect(page.headers.get("content-encoding")).toBeNull();
  });

  test("a sign-in answer (tokens) is recognised as secret and not compressed", async () => {
    const user = await createUser(ctx, { displayName: "D".repeat(60) });
    const res = await ctx.request("/api/auth/login", { method: "POST", headers: { "content-type": "application/json", origin: "http://localhost", ...BOTH }, body: JSON.stringify({ username: user.username, password: TEST_PASSWORD }) });
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(body).toContain("refresh_token");
    expect(carriesSecret("application/json", body)).toBe(true); // whatever its size
    expect(res.headers.get("content-encoding")).toBeNull();
  });

  test("the TOTP setup page (key and QR code) is not compressed", async () => {
    const user = await createUser(ctx);
    const { headers } = await cookieSignIn(ctx, user);
    const start = await ctx.request("/settings/security/totp/setup", { method: "POST", headers: { ...headers, "content-type": "application/x-www-form-urlencoded" }, body: "" });
    expect(start.status).toBe(303);
    const res = await ctx.request(start.headers.get("location")!, { headers: { ...headers, ...BOTH } });
    const html = await res.text();
    expect(html.length).toBeGreaterThan(1024);
    expect(html).toContain('data-testid="totp-secret"');
    expect(res.headers.get("content-encoding")).toBeNull();
  });

  test("the markers: any data-secret in HTML, any secret field in JSON; injected marker text only switches compression off", () => {
    expect(carriesSecret("text/html; charset=utf-8", '<p class="secret-code" data-secret="">ABCD</p>')).toBe(true);
    expect(carriesSecret("text/html; charset=utf-8", "<p>a display name: data-secret</p>")).toBe(true);
    expect(carriesSecret("text/html; charset=utf-8", "<p>nothing to hide</p>")).toBe(false);
    expect(carriesSecret("application/json", '{"access_token":"x"}')).toBe(true);
    expect(carriesSecret("application/json", '{"communities":[{"name":"\\"access_token\\":"}]}')).toBe(false);
    expect(carriesSecret("application/json", '{"communities":[]}')).toBe(false);
  });
});

test("Accept-Encoding negotiation honours q-values and *", () => {
  expect(pickEncoding("gzip, deflate, br", ["br", "gzip"])).toBe("br");
  expect(pickEncoding("gzip;q=1, br;q=0.5", ["br", "gzip"])).toBe("gzip");
  expect(pickEncoding("br;q=0", ["br", "gzip"])).toBeNull();
  expect(pickEncoding("*", ["br", "gzip"])).toBe("br");
  expect(pickEncoding("*;q=0, gzip", ["br", "gzip"])).toBe("gzip");
  expect(pickEncoding("identity", ["br", "gzip"])).toBeNull();
  expect(pickEncoding(null, ["br", "gzip"])).toBeNull();
  expect(pickEncoding("br", ["gzip"])).toBeNull();
});
