// GET /api/openapi.json: the OpenAPI 3.1 document generated from the routes' schemas names every
// route the router serves and no other; auth and the main errors are stated; the WebSocket
// protocol is linked. GET /help/api: the browsable page, server-rendered without inline script.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestContext, type TestContext } from "../../helpers/app.ts";
import { openApiPath } from "../../../src/features/api-docs/index.ts";

type Operation = { security?: Record<string, unknown>[]; parameters?: { name: string; in: string }[]; requestBody?: unknown; responses?: Record<string, unknown> };
type Document = { openapi: string; info: { description: string; version: string }; externalDocs?: { url: string }; components: { securitySchemes: Record<string, unknown> }; paths: Record<string, Record<string, Operation>> };

const METHODS = new Set(["get", "post", "put", "patch", "delete"]);

/** The paths Elysia serves for one route: an optional param (`/a/:b?/:c?`) stands for /a, /a/{b}, /a/{b}/{c}. */
function servedPaths(path: string): string[] {
  const segments = path.split("/");
  const first = segments.findIndex((s) => s.endsWith("?"));
  if (first < 0) return [openApiPath(path)];
  return Array.from({ length: segments.length - first + 1 }, (_, i) => openApiPath(segments.slice(0, first + i).map((s) => s.replace(/\?$/, "")).join("/") || "/"));
}

let ctx: TestContext;
let doc: Document;
let routerOps: Set<string>;
beforeAll(async () => {
  ctx = await createTestContext();
  const res = await ctx.request("/api/openapi.json");
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("application/json");
  doc = (await res.json()) as Document;
  routerOps = new Set(ctx.app.routes.flatMap((r) => servedPaths(r.path).map((p) => `${r.method} ${p}`)));
}, 60_000);
afterAll(() => ctx?.close());

function documentOps(): string[] {
  return Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).filter((m) => METHODS.has(m)).map((m) => `${m.toUpperCase()} ${path}`));
}

describe("the OpenAPI document", () => {
  test("is OpenAPI 3.1 with both sides of the comparison populated (the scan works)", () => {
    expect(doc.openapi).toMatch(/^3\.1\./);
    expect(ctx.app.routes.length).toBeGreaterThan(100);
    expect(documentOps().length).toBeGreaterThan(100);
  });

  test("every route the router serves is in the document", () => {
    const documented = new Set(documentOps());
    expect([...routerOps].filter((r) => !documented.has(r))).toEqual([]);
  });

  test("the document names no route the router lacks", () => {
    expect(documentOps().filter((o) => !routerOps.has(o))).toEqual([]);
  });

  test("a route's body and query schemas are the router's own (TypeBox, not re-written)", () => {
    const login = doc.paths["/api/auth/login"]!.post!;
    const route = ctx.app.routes.find((r) => r.method === "POST" && r.path === "/api/auth/login")!;
    const body = (login.requestBody as { content: Record<string, { schema: { properties: Record<string, unknown> } }> }).content["application/json"]!.schema;
    expect(Object.keys(body.properties).sort()).toEqual(Object.keys((route.hooks as { body: { properties: Record<string, unknown> } }).body.properties).sort());
  });

  test("auth and the main errors are stated per route", () => {
    const me = doc.paths["/api/account/me"]!.get!;
    expect(me.security).toEqual([{ bearer: [] }, { cookie: [] }]);
    expect(Object.keys(me.responses!)).toContain("401");
    const config = doc.paths["/api/auth/config"]!.get!;
    expect(config.security).toEqual([]);
    expect(Object.keys(config.responses!)).not.toContain("401");
    const adminInvites = doc.paths["/api/admin/invites"]!.get!;
    expect(Object.keys(adminInvites.responses!)).toEqual(expect.arrayContaining(["401", "403"]));
    const session = doc.paths["/api/account/sessions/{id}"]!.delete!;
    expect(Object.keys(session.responses!)).toEqual(expect.arrayContaining(["401", "404"]));
    expect(session.parameters?.map((p) => `${p.in}:${p.name}`)).toEqual(["path:id"]);
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(["bearer", "cookie"]);
    // Every operation answers 429 at least, in the one error envelope.
    const withoutErrors = Object.entries(doc.paths).flatMap(([p, item]) => Object.entries(item).filter(([, op]) => !op.responses?.["429"]).map(([m]) => `${m} ${p}`));
    expect(withoutErrors).toEqual([]);
  });

  test("the WebSocket protocol is linked from the description and from GET /ws", () => {
    expect(doc.info.description).toContain("docs/protocol.md");
    expect(doc.externalDocs?.url).toBe("docs/protocol.md");
    expect(JSON.stringify(doc.paths["/ws"]!.get)).toContain("docs/protocol.md");
  });
});

describe("GET /help/api", () => {
  test("lists every operation, public, with no inline script", async () => {
    const res = await ctx.request("/help/api");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
    const html = await res.text();
    // Scripts only by src (the page's bundle), never inline.
    const scripts = [...html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)];
    expect(scripts.filter((m) => !/\bsrc=/.test(m[0]) || m[1]!.trim() !== "").map((m) => m[0].slice(0, 80))).toEqual([]);
    expect(html).not.toMatch(/\son[a-z]+=/);
    expect(html).toContain('href="/api/openapi.json"');
    const missing = documentOps().filter((op) => !html.includes(`${op.split(" ")[0]} ${op.split(" ")[1]}`));
    expect(missing).toEqual([]);
  });
});
