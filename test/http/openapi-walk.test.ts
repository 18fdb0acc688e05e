/**
 * Walks the OpenAPI document (GET /api/openapi.json), not the code: for every operation whose
 * body or query schema the document states, one request violating it (a wrong type for the body's
 * first field with every other field plausible; a malformed uuid, an over-long string or a
 * non-number in a query parameter) must be refused with 400 naming that field, never a 500.
 * The populated world, the sign-in per route and the plausible values are the hostile-inputs
 * walker's (test/helpers/hostile.ts). A field may state the stable code its route answers with
 * (`x-code`, src/http/validation-error.ts); otherwise the code is VALIDATION_ERROR. A loose body
 * (`t.Record`, no properties) states nothing: there must be none (issue 16 point 1).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestContext } from "../helpers/app.ts";
import { messagingContext } from "../features/messages/helpers.ts";
import { buildWorld, headersFor, plausible, realParam, type World } from "../helpers/hostile.ts";

type Schema = { "x-code"?: string; type?: string | string[]; format?: string; maxLength?: number; anyOf?: Schema[]; enum?: unknown[]; properties?: Record<string, Schema>; required?: string[] };
type Operation = { parameters?: { name: string; in: string; schema?: Schema }[]; requestBody?: { content: Record<string, { schema: Schema }> } };
type Document = { paths: Record<string, Record<string, Operation>> };
type Probe = { what: string; field: string; code?: string; method: string; path: string; url: string; body?: string };

let ctx: TestContext;
let world: World;
let doc: Document;

beforeAll(async () => {
  ctx = await messagingContext({ sleep: async () => {} });
  world = await buildWorld(ctx);
  doc = (await (await ctx.request("/api/openapi.json")).json()) as Document;
}, 600_000);
afterAll(async () => {
  await ctx.close();
});

/** The document's path (`{id}`) with real ids from the world, by the walker's rules. */
function fillPath(path: string): string {
  const elysiaPath = path.replace(/\{([^}]+)\}/g, ":$1");
  return elysiaPath
    .split("/")
    .map((segment) => (segment.startsWith(":") ? realParam(world, elysiaPath, segment.slice(1)) : segment))
    .join("/");
}

/** A query value this parameter's schema refuses, if a string can break it. */
function badQueryValue(s: Schema | undefined): string | undefined {
  if (!s) return undefined;
  if (s.format === "uuid") return "not-a-uuid";
  if (s.anyOf?.some((a) => a.type === "integer" || a.type === "number") || s.type === "integer" || s.type === "number") return "not-a-number";
  if (s.type === "boolean") return "not-a-boolean";
  if (s.enum) return "not-one-of-them";
  if (s.maxLength !== undefined) return "x".repeat(s.maxLength + 1);
  return undefined;
}

function probes(): { probes: Probe[]; loose: string[]; unbreakable: string[] } {
  const out: Probe[] = [];
  const loose: string[] = [];
  const unbreakable: string[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [m, op] of Object.entries(item)) {
      const method = m.toUpperCase();
      const url = `http://localhost${fillPath(path)}`;
      const query = (op.parameters ?? []).filter((p) => p.in === "query");
      if (query.length > 0) {
        const target = query.map((p) => ({ p, value: badQueryValue(p.schema) })).find((x) => x.value !== undefined);
        if (target) out.push({ what: "query", field: target.p.name, method, path, url: `${url}?${target.p.name}=${encodeURIComponent(target.value!)}` });
        else unbreakable.push(`${method} ${path}`);
      }
      const schema = op.requestBody?.content["application/json"]?.schema;
      if (!schema) continue;
      const names = Object.keys(schema.properties ?? {});
      if (names.length === 0) {
        loose.push(`${method} ${path}`);
        continue;
      }
      // The first property is checked first once every required one is present: it is the one named.
      const [field, ...rest] = names as [string, ...string[]];
      const wrong = schema.properties![field]!.type === "object" ? 12345 : { unexpected: ["type"] };
      const body = { [field]: wrong, ...Object.fromEntries(rest.map((f) => [f, plausible(world, f)])) };
      out.push({ what: "body", field, code: schema.properties![field]!["x-code"], method, path, url, body: JSON.stringify(body) });
    }
  }
  return { probes: out, loose, unbreakable };
}

/** The API's `error.fields` has the field (or a part of it); a page's error shows it quoted (a bare word could be anywhere in a page). */
function namesField(path: string, text: string, field: string, code = "VALIDATION_ERROR"): boolean {
  if (path.startsWith("/api/")) {
    const error = (JSON.parse(text) as { error?: { code?: string; fields?: Record<string, string> } }).error;
    // An item inside the field ("heirs.0" when an object came where a list belongs) names it too.
    return error?.code === code && Object.keys(error.fields ?? {}).some((k) => k === field || k.startsWith(`${field}.`));
  }
  return new RegExp(`(?:"|&quot;|&#34;)${field}(?:"|&quot;|&#34;)`).test(text);
}

describe("the OpenAPI document's schemas are enforced", () => {
  test("a request violating each stated body or query schema answers 400 naming the field, never 500", async () => {
    const { probes: list, loose, unbreakable } = probes();
    const failures: string[] = [];
    for (const probe of list) {
      const headers = await headersFor(ctx, world, probe.path);
      const init: RequestInit = { method: probe.method, headers: { ...headers, ...(probe.body ? { "content-type": "application/json" } : {}) } };
      if (probe.body !== undefined) init.body = probe.body;
      const res = await ctx.app.handle(new Request(probe.url, init));
      const text = await res.text();
      const label = `${probe.method} ${probe.path} ${probe.what} ${probe.field}`;
      if (res.status !== 400) failures.push(`${label}: ${res.status} ${text.slice(0, 160)}`);
      else if (!namesField(probe.path, text, probe.field, probe.code)) failures.push(`${label}: 400 without the field named: ${text.slice(0, 160)}`);
    }
    console.log(`openapi walk: ${list.length} violating requests (${list.filter((p) => p.what === "body").length} bodies, ${list.filter((p) => p.what === "query").length} queries); ${loose.length} loose bodies with nothing stated to violate: ${loose.join(", ")}; query schemas a string cannot break: ${unbreakable.join(", ") || "none"}`);
    expect(list.length).toBeGreaterThan(40);
    expect(failures).toEqual([]);
    expect(loose).toEqual([]);
  }, 600_000);
});
