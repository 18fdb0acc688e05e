// Every route the docs name exists, and every route the router serves is documented. Docs name
// routes as `METHOD /path` (several methods: `GET/POST /path`; parameters as {name}); a line that
// names a route of a planned feature says "(planned)" and is not checked against the router.
// Scanned: README.md, SECURITY.md and docs/*.md. Not scanned: docs/decisions/, dated records of
// why something was decided, which keep the routes of their time.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { createTestContext, type TestContext } from "../helpers/app.ts";
import { readRepoFile, repoRoot } from "./helpers.ts";

const DOCS = ["README.md", "SECURITY.md", ...readdirSync(`${repoRoot}/docs`).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];
const METHODS = "GET|POST|PUT|PATCH|DELETE";
const MENTION = new RegExp(`\\b((?:${METHODS})(?:/(?:${METHODS}))*) (/[A-Za-z0-9_{}:.*\\-/]*)`, "g");

/** One spelling for a path: no query, no trailing slash, every parameter (`{id}`, `:id`) as ":". */
function normalise(path: string): string {
  return path.replace(/\?.*$/, "").replace(/\{[^}]+\}|:[A-Za-z_]\w*/g, ":").replace(/(.)\/+$/, "$1");
}

/** Elysia's optional parameters (`/a/:b?/:c?`) stand for several paths: /a, /a/:b, /a/:b/:c. */
function expand(path: string): string[] {
  const segments = path.split("/");
  const firstOptional = segments.findIndex((s) => s.endsWith("?"));
  if (firstOptional < 0) return [normalise(path)];
  const out: string[] = [];
  for (let end = firstOptional; end <= segments.length; end++) out.push(normalise(segments.slice(0, end).map((s) => s.replace(/\?$/, "")).join("/") || "/"));
  return out;
}

type Mention = { route: string; where: string };

function mentions(): Mention[] {
  const found: Mention[] = [];
  for (const doc of DOCS) {
    readRepoFile(doc).split("\n").forEach((line, i) => {
      if (line.includes("(planned)")) return;
      for (const m of line.matchAll(MENTION)) for (const method of m[1]!.split("/")) found.push({ route: `${method} ${normalise(m[2]!)}`, where: `${doc}:${i + 1}` });
    });
  }
  return found;
}

let ctx: TestContext;
let routes: { route: string; variants: string[] }[];
beforeAll(async () => {
  ctx = await createTestContext();
  const seen = new Set<string>();
  routes = [];
  for (const r of (ctx.app as unknown as { routes: { method: string; path: string }[] }).routes) {
    const key = `${r.method} ${r.path}`;
    if (seen.has(key)) continue;
    seen.add(key);
    routes.push({ route: key, variants: expand(r.path).map((p) => `${r.method} ${p}`) });
  }
});
afterAll(() => ctx?.close());

describe("routes and docs", () => {
  test("the router and the docs both name routes (the scan works)", () => {
    expect(routes.length).toBeGreaterThan(100);
    expect(mentions().length).toBeGreaterThan(100);
  });

  test("every `METHOD /path` in the docs is served by the router", () => {
    const served = new Set(routes.flatMap((r) => r.variants));
    expect(mentions().filter((m) => !served.has(m.route)).map((m) => `${m.where}: ${m.route}`)).toEqual([]);
  });

  test("every route the router serves is documented as `METHOD /path`", () => {
    const documented = new Set(mentions().map((m) => m.route));
    expect(routes.filter((r) => !r.variants.some((v) => documented.has(v))).map((r) => r.route)).toEqual([]);
  });
});
