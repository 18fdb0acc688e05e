/**
 * The generic input checks (src/http/input-guard.ts, src/shared/text.ts) with their exact answers:
 * which code, which field. The route walker (hostile-inputs.test.ts) asserts the absence of 5xx on
 * every route; this file pins down what a client is told.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { findInvalidText } from "../../src/shared/text.ts";
import { validateClientFrame } from "../../src/shared/protocol.ts";
import type { TestContext } from "../helpers/app.ts";
import { communityTestContext, client, expectOk, type Client } from "../features/communities/helpers.ts";
import { cookieSignIn } from "../helpers/users.ts";

describe("findInvalidText", () => {
  test("finds NUL and unpaired surrogates in strings and keys, at any depth; pairs and emoji are fine", () => {
    expect(findInvalidText({ name: "Café 😀 ok", list: ["a", { b: "c" }] })).toBeNull();
    expect(findInvalidText({ name: "a\u0000b" })).toBe("name");
    expect(findInvalidText({ list: ["ok", { deep: "x\ud800" }] })).toBe("list.1.deep");
    expect(findInvalidText({ x: "\udc00 low first" })).toBe("x");
    expect(findInvalidText({ x: "high at the end \ud83d" })).toBe("x");
    expect(findInvalidText({ ["k\u0000"]: 1 })).toBe("k\ufffd");
    expect(findInvalidText("plain")).toBeNull();
    // Deep nesting is walked without recursion.
    let deep: unknown = "\u0000";
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(findInvalidText(deep)).toStartWith("0.0.0");
  });
});

describe("WebSocket frames", () => {
  test("a NUL or lone surrogate anywhere in a frame is INVALID_TEXT naming the field", () => {
    const id = crypto.randomUUID();
    expect(validateClientFrame({ type: "auth", token: "abc\u0000" })).toMatchObject({ ok: false, code: "INVALID_TEXT", field: "token" });
    expect(validateClientFrame({ type: "subscribe", channelIds: [id], ref: "r\ud800" })).toMatchObject({ ok: false, code: "INVALID_TEXT", field: "ref", ref: undefined });
    expect(validateClientFrame({ type: "ping", ref: "fine" })).toMatchObject({ ok: true });
  });
});

describe("HTTP", () => {
  let ctx: TestContext;
  let owner: Client;
  let communityId: string;

  beforeAll(async () => {
    ctx = await communityTestContext();
    owner = await client(ctx);
    communityId = (await expectOk(owner.call("POST", "/api/communities", { name: "Guarded" }), 201)).id;
  });
  afterAll(() => ctx.close());

  test("JSON bodies: NUL, and a \\ud800 escape (a lone surrogate once parsed), are 400 INVALID_TEXT naming the field; nothing is stored", async () => {
    for (const raw of ['{"name":"a\\u0000b"}', '{"name":"a\\ud800b"}', '{"name":"ok","description":"x\\udfff"}']) {
      const res = await ctx.request("/api/communities", { method: "POST", headers: owner.headers, body: raw });
      const body = (await res.json()) as { error: { code: string; fields: Record<string, string> } };
      expect({ raw, status: res.status, code: body.error.code }).toEqual({ raw, status: 400, code: "INVALID_TEXT" });
      expect(Object.keys(body.error.fields)).toEqual([raw.includes("description") ? "description" : "name"]);
    }
    const update = await ctx.request(`/api/communities/${communityId}`, { method: "PATCH", headers: owner.headers, body: '{"description":"a\\ud800b"}' });
    expect(update.status).toBe(400);
    expect((await expectOk(owner.call("GET", `/api/communities/${communityId}`))).description).toBeNull();
  });

  test("query strings and forms: an encoded NUL is 400 INVALID_TEXT", async () => {
    const query = await owner.call("GET", `/api/communities/${communityId}/members?offset=%00`);
    expect([query.status, query.body.error.code, query.body.error.fields]).toEqual([400, "INVALID_TEXT", { offset: expect.any(String) }]);
    const { headers } = await cookieSignIn(ctx, owner.user);
    const form = await ctx.request("/communities", { method: "POST", headers: { ...headers, "content-type": "application/x-www-form-urlencoded", "hx-request": "true" }, body: "name=a%00b" });
    expect(form.status).toBe(400);
  });

  test("ids and numbers in the query: 1e20, -1, 1.5, NaN, Infinity are 400 VALIDATION_ERROR naming the parameter", async () => {
    for (const value of ["1e20", "-1", "1.5", "NaN", "Infinity", "x".repeat(100)]) {
      for (const name of ["offset", "limit"]) {
        const r = await owner.call("GET", `/api/communities/${communityId}/members?${name}=${value}`);
        expect({ name, value: value.slice(0, 10), status: r.status, code: r.body.error.code, fields: Object.keys(r.body.error.fields ?? {}) }).toEqual({ name, value: value.slice(0, 10), status: 400, code: "VALIDATION_ERROR", fields: [name] });
      }
    }
    const audit = await owner.call("GET", `/api/communities/${communityId}/audit-log?before=not-a-uuid`);
    expect([audit.status, audit.body.error.code, Object.keys(audit.body.error.fields)]).toEqual([400, "VALIDATION_ERROR", ["before"]]);
    expect((await owner.call("GET", `/api/communities/${communityId}/members?offset=0&limit=500`)).status).toBe(200);
  });

  test("path params: a malformed id, or bytes that are not UTF-8, are 400 VALIDATION_ERROR naming the param", async () => {
    for (const raw of ["not-a-uuid", "%ED%A0%80", "1e20", `${communityId}x`]) {
      const r = await owner.call("GET", `/api/communities/${raw}`);
      expect({ raw, status: r.status, code: r.body.error.code, fields: Object.keys(r.body.error.fields) }).toEqual({ raw, status: 400, code: "VALIDATION_ERROR", fields: ["id"] });
    }
    const member = await owner.call("PUT", `/api/communities/${communityId}/members/nope/role`, { role: "member" });
    expect([member.status, Object.keys(member.body.error.fields)]).toEqual([400, ["userId"]]);
    // Upper-case UUIDs are still UUIDs.
    expect((await owner.call("GET", `/api/communities/${communityId.toUpperCase()}`)).status).toBe(200);
  });
});
