/**
 * The route walker: every route the app registers (app.routes, so a new route is walked without
 * editing this file) gets hostile values in each path param, each query parameter its schema
 * declares, and its body: NUL, lone surrogates, 1e20, -1, 1.5, NaN, huge strings, malformed ids,
 * invalid UTF-8 in the URL, arrays and objects where strings belong, invalid and deeply nested
 * JSON. No answer may be a 5xx, and every 4xx of the JSON API carries a stable error code.
 * Signed in as the instance owner who owns a populated community, so checks deep in the services
 * are reached, not just the authentication guard.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sucrose } from "elysia/sucrose";
import { assertPathParamsKnown } from "../../src/http/input-guard.ts";
import type { TestContext } from "../helpers/app.ts";
import { messagingContext } from "../features/messages/helpers.ts";
import { bodyFieldsOf, buildWorld, headersFor, HOSTILE_JSON_VALUES, HOSTILE_RAW_BODIES, HOSTILE_RAW_SEGMENTS, HOSTILE_STRINGS, plausible, realParam, schemaFields, TYPE_CONFUSION, type World } from "../helpers/hostile.ts";

type Route = TestContext["app"]["routes"][number];
type Probe = { label: string; method: string; url: string; body?: string; contentType?: string };

const CODE = /^[A-Z][A-Z0-9_]*$/;

let ctx: TestContext;
let world: World;

beforeAll(async () => {
  // The progressive login delay would sleep for real after each failed password: skip the waits.
  ctx = await messagingContext({ sleep: async () => {} });
  world = await buildWorld(ctx);
}, 60_000);
afterAll(async () => {
  await ctx.close();
});

/** Reads first, writes next, deletions last: a deletion that succeeds cannot hide another route's rows. */
function walkOrder(routes: readonly Route[]): Route[] {
  const rank = (m: string) => (m === "GET" ? 0 : m === "DELETE" ? 2 : 1);
  return [...routes].sort((a, b) => rank(a.method) - rank(b.method));
}

function encode(value: string): string | undefined {
  try {
    return encodeURIComponent(value);
  } catch {
    return undefined; // a lone surrogate: HOSTILE_RAW_SEGMENTS sends its UTF-8 bytes instead
  }
}

/** The route's path with real ids, and `override` (raw, already encoded) in one param. */
function fillPath(path: string, override?: { name: string; raw: string }): string {
  const parts: string[] = [];
  for (const segment of path.split("/")) {
    const m = /^:([A-Za-z0-9_]+)(\?)?$/.exec(segment);
    const name = segment === "*" ? "*" : m?.[1];
    if (!name) parts.push(segment);
    else if (override?.name === name) parts.push(override.raw);
    else if (!m?.[2]) parts.push(realParam(world, path, name));
  }
  return parts.join("/");
}

function paramNames(path: string): string[] {
  return [...path.matchAll(/:([A-Za-z0-9_]+)\??|\*/g)].map((m) => m[1] ?? "*");
}

function probesFor(route: Route): Probe[] {
  const { method, path } = route;
  const probes: Probe[] = [];
  const base = `http://localhost${fillPath(path)}`;
  for (const name of paramNames(path)) {
    const raws = [...HOSTILE_STRINGS.map(encode).filter((v): v is string => v !== undefined), ...HOSTILE_RAW_SEGMENTS];
    for (const raw of raws) probes.push({ label: `param ${name}=${raw.slice(0, 40)}`, method, url: `http://localhost${fillPath(path, { name, raw })}` });
  }
  const hooks = route.hooks as { query?: unknown; body?: unknown };
  for (const name of schemaFields(hooks.query)) {
    const raws = [...HOSTILE_STRINGS.map(encode).filter((v): v is string => v !== undefined), "%ED%A0%80", "%00", `1&${name}=2`];
    for (const raw of raws) probes.push({ label: `query ${name}=${raw.slice(0, 40)}`, method, url: `${base}?${name}=${raw}` });
    probes.push({ label: `query ${name}[]`, method, url: `${base}?${name}[]=1&${name}[a]=2` });
  }
  // A parameter the route does not declare is dropped (Elysia's normalisation) or refused (text).
  for (const raw of ["%00", "1e20"]) probes.push({ label: `query undeclared=${raw}`, method, url: `${base}?undeclared=${raw}` });
  if (method === "GET" || method === "HEAD") return probes;
  for (const raw of HOSTILE_RAW_BODIES) probes.push({ label: `body ${raw.type} ${raw.body.slice(0, 30)}`, method, url: base, body: raw.body, contentType: raw.type });
  const fields = bodyFieldsOf(route);
  const plausibleBody = Object.fromEntries(fields.map((f) => [f, plausible(world, f)]));
  const json = (label: string, value: unknown) => probes.push({ label, method, url: base, body: JSON.stringify(value), contentType: "application/json" });
  if (fields.length === 0) return probes;
  for (const value of HOSTILE_JSON_VALUES) json(`body every field=${JSON.stringify(value).slice(0, 30)}`, Object.fromEntries(fields.map((f) => [f, value])));
  for (const field of fields) {
    for (const value of TYPE_CONFUSION) json(`body ${field}=${JSON.stringify(value).slice(0, 30)}`, { ...plausibleBody, [field]: value });
  }
  return probes;
}

async function check(probe: Probe, headers: Record<string, string>, failures: string[]): Promise<number> {
  const init: RequestInit = { method: probe.method, headers: { ...headers, ...(probe.contentType ? { "content-type": probe.contentType } : {}) } };
  if (probe.body !== undefined) init.body = probe.body;
  const res = await ctx.app.handle(new Request(probe.url, init));
  const text = await res.text();
  const path = new URL(probe.url).pathname;
  if (res.status >= 500) failures.push(`${res.status} ${probe.method} ${path.slice(0, 80)} ${probe.label}: ${text.slice(0, 200)}`);
  else if (res.status >= 400 && path.startsWith("/api/")) {
    let code: unknown;
    try {
      code = (JSON.parse(text) as { error?: { code?: unknown } }).error?.code;
    } catch {
      code = undefined;
    }
    if (typeof code !== "string" || !CODE.test(code)) failures.push(`${res.status} without an error code: ${probe.method} ${path.slice(0, 80)} ${probe.label}: ${text.slice(0, 200)}`);
  }
  return res.status;
}

describe("hostile inputs on every route", () => {
  test("every route that reads its query string declares a query schema (so its values are typed)", () => {
    const untyped = ctx.app.routes.filter((r) => {
      const hooks = r.hooks as { query?: unknown };
      return typeof r.handler === "function" && sucrose({ handler: r.handler as never }).query && !hooks.query;
    });
    expect(untyped.map((r) => `${r.method} ${r.path}`)).toEqual([]);
  });

  test("a path param without a registered type stops the app at startup", () => {
    expect(() => assertPathParamsKnown([{ method: "GET", path: "/api/things/:thingId" }])).toThrow(/thingId/);
    expect(() => assertPathParamsKnown(ctx.app.routes)).not.toThrow();
  });

  test("no 5xx, and a JSON error code on every 4xx of the API", async () => {
    const failures: string[] = [];
    const statuses: number[] = [];
    for (const route of walkOrder(ctx.app.routes)) {
      const headers = await headersFor(ctx, world, route.path);
      const probes = probesFor(route);
      for (let i = 0; i < probes.length; i += 8) statuses.push(...(await Promise.all(probes.slice(i, i + 8).map((p) => check(p, headers, failures)))));
    }
    const unauthenticated = statuses.filter((s) => s === 401).length;
    console.log(`hostile walk: ${statuses.length} requests over ${ctx.app.routes.length} routes, ${unauthenticated} answered 401`);
    expect(failures).toEqual([]);
    // The walk reached the services, not just the sign-in check (a few probes log themselves out).
    expect(unauthenticated).toBeLessThan(statuses.length / 20);
  }, 600_000);
});
