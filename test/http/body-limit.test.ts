/**
 * Request-body budgets (src/http/body-guard.ts): every route has one, a body one byte over it is
 * refused with 413 before it is parsed (declared or chunked), large bodies are read only after
 * authentication, and Bun's own server limit is the largest budget, not 110 MB.
 */
import { SCREENSHOT_MAX_BYTES } from "../../src/features/feedback/index.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { BodyBudgetTable, bodyBudgets, DEFAULT_BODY_BUDGET, LARGE_BODY_BYTES } from "../../src/http/body-budget.ts";
import { MAX_BACKUP_JSON_BYTES, MAX_BUNDLE_JSON_BYTES } from "../../src/shared/e2ee/index.ts";
import { MAX_MESSAGE_REQUEST_BYTES, MAX_TO_DEVICE_REQUEST_BYTES } from "../../src/features/messages/schemas.ts";
import { InFlightBodies } from "../../src/http/body-in-flight.ts";
import { MAX_PART_SIZE } from "../../src/features/files/index.ts";
import { REPORT_FILES_BODY_BUDGET } from "../../src/features/moderation/index.ts";
import { createTestContext, type TestContext } from "../helpers/app.ts";
import { createUser, signIn } from "../helpers/users.ts";
import { MAX_IMAGE_UPLOAD_BYTES } from "../../src/features/images/index.ts";

const inFlight = new InFlightBodies();
let ctx: TestContext;
let bearer: Record<string, string>;
let streamedBytes = 0;
beforeAll(async () => {
  ctx = await createTestContext({ inFlightBodies: inFlight });
  bearer = (await signIn(ctx, await createUser(ctx))).headers;
  // A streamed upload route as a future files feature would declare it (test-only).
  ctx.app.use(bodyBudgets).post(
    "/api/test/upload",
    async ({ request }) => {
      streamedBytes = 0;
      const reader = request.body!.getReader();
      for (let next = await reader.read(); !next.done; next = await reader.read()) streamedBytes += next.value.byteLength;
      return { bytes: streamedBytes };
    },
    { bodyLimit: { bytes: 256 * 1024, streamed: true }, parse: "none" },
  );
}, 60_000);
afterAll(() => ctx.close());

type Pulled = { bytes: number };
/** A chunked body of `size` bytes made on demand; `pulled` says how much the server read. */
function generatedBody(size: number, pulled: Pulled = { bytes: 0 }): ReadableStream<Uint8Array> {
  const chunk = new Uint8Array(16 * 1024).fill(0x61);
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled.bytes >= size) return controller.close();
      const n = Math.min(chunk.byteLength, size - pulled.bytes);
      pulled.bytes += n;
      controller.enqueue(n === chunk.byteLength ? chunk : chunk.slice(0, n));
    },
  });
}

/** A concrete path for a route pattern (`:id` -> a UUID, `*` -> a file name, optional parts filled). */
function concretePath(pattern: string): string {
  return pattern.replace(/:[A-Za-z]+\??/g, "0190f0f0-0000-7000-8000-000000000000").replace("*", "x.js");
}

async function errorCode(res: Response): Promise<string | undefined> {
  const text = await res.text();
  try {
    return (JSON.parse(text) as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
}

const DECLARED_ABOVE_DEFAULT: Record<string, number> = {
  // Feedback with its optional screenshot (5 MB) and the multipart framing (docs/integrations.md "Feedback").
  "POST /api/feedback": SCREENSHOT_MAX_BYTES + 64 * 1024,
  "POST /settings/feedback": SCREENSHOT_MAX_BYTES + 64 * 1024,
  "POST /api/channels/:id/messages": MAX_MESSAGE_REQUEST_BYTES,
  "PATCH /api/messages/:id": MAX_MESSAGE_REQUEST_BYTES,
  "POST /api/channels/:id/polls": MAX_MESSAGE_REQUEST_BYTES,
  "POST /api/channels/:id/scheduled": MAX_MESSAGE_REQUEST_BYTES,
  "POST /api/e2ee/to-device": MAX_TO_DEVICE_REQUEST_BYTES,
  "PUT /api/keys/backup": MAX_BACKUP_JSON_BYTES,
  // Streamed into the blob store, never buffered (docs/files.md): the largest part.
  "PUT /api/files/uploads/:id/parts/:part": MAX_PART_SIZE,
  // A report's decrypted files (issue 12 §7): 10 MB per report plus a margin (report-files.ts).
  "POST /api/reports/:id/files": REPORT_FILES_BODY_BUDGET,
  // Public images (docs/profiles.md): the raw file, ≤ 10 MB (seeds/000 icon/banner cap), re-encoded by the server.
  "PUT /api/account/avatar": MAX_IMAGE_UPLOAD_BYTES,
  "PUT /api/communities/:id/icon": MAX_IMAGE_UPLOAD_BYTES,
  "PUT /api/communities/:id/banner": MAX_IMAGE_UPLOAD_BYTES,
  "POST /api/communities/:id/emoji": MAX_IMAGE_UPLOAD_BYTES,
};

describe("every route has a body budget", () => {
  test("budgets: 0 for GET, the 64 KiB default, or a declared maximum; none near the old 110 MB", () => {
    const routes = ctx.app.routes.filter((r) => !r.path.startsWith("/api/test/"));
    expect(routes.length).toBeGreaterThan(150);
    const large: Record<string, number> = {};
    for (const route of routes) {
      const method = route.method === "WS" ? "GET" : route.method;
      const budget = budgetOf(method, route.path);
      expect(budget).toBeGreaterThanOrEqual(0);
      if (method === "GET" || method === "HEAD") expect(budget).toBe(0);
      if (budget > DEFAULT_BODY_BUDGET) large[`${method} ${route.path}`] = budget;
      else if (method !== "GET" && method !== "HEAD") expect([DEFAULT_BODY_BUDGET, MAX_BUNDLE_JSON_BYTES]).toContain(budget);
    }
    // Budgets above the default are deliberate: each names the documented maximum it serves.
    expect(large).toEqual(DECLARED_ABOVE_DEFAULT);
    expect(Math.max(...Object.values(large))).toBeLessThan(64 * 1024 * 1024);
  });

  test("Bun's server-wide limit is the largest route budget", () => {
    expect(ctx.app.config.serve?.maxRequestBodySize).toBe(MAX_BACKUP_JSON_BYTES);
  });

  test("on every route a declared body one byte over the budget is refused with 413 before it is read", async () => {
    for (const route of ctx.app.routes) {
      const method = route.method === "WS" ? "GET" : route.method;
      const path = concretePath(route.path);
      const budget = budgetOf(method, route.path);
      const res = await ctx.request(path, { method, headers: { ...bearer, accept: "application/json", "content-length": String(budget + 1) } });
      expect({ route: `${method} ${route.path}`, status: res.status, code: await errorCode(res) }).toEqual({ route: `${method} ${route.path}`, status: 413, code: "PAYLOAD_TOO_LARGE" });
    }
  }, 120_000);

  test("on every route that takes a body a chunked body one byte over the budget is cut off with 413", async () => {
    for (const route of ctx.app.routes) {
      if (route.method === "GET" || route.method === "WS") continue;
      const budget = budgetOf(route.method, route.path);
      const pulled: Pulled = { bytes: 0 };
      const res = await ctx.request(concretePath(route.path), { method: route.method, headers: { ...bearer, accept: "application/json" }, body: generatedBody(budget + 1, pulled), duplex: "half" } as RequestInit);
      if (new BodyBudgetTable([route]).budgetOf(route.method, concretePath(route.path)).streamed) {
        // A streamed route's handler reads the body itself (the guard only counts it): here it
        // refuses the unknown upload before reading; test/features/files covers the 413s.
        expect({ route: `${route.method} ${route.path}`, status: res.status < 500 && res.status >= 400, code: typeof (await errorCode(res)) }).toEqual({ route: `${route.method} ${route.path}`, status: true, code: "string" });
        expect(pulled.bytes).toBeLessThanOrEqual(budget + 1 + 16 * 1024);
        continue;
      }
      expect({ route: `${route.method} ${route.path}`, status: res.status, code: await errorCode(res) }).toEqual({ route: `${route.method} ${route.path}`, status: 413, code: "PAYLOAD_TOO_LARGE" });
      // Never much more than the budget was read (one 16 KiB chunk of the stream at most).
      expect(pulled.bytes).toBeLessThanOrEqual(budget + 1 + 16 * 1024);
    }
  }, 180_000);
});

describe("bodies within the budget", () => {
  test("a chunked JSON body under the budget reaches the handler intact", async () => {
    const body = new TextEncoder().encode(JSON.stringify({ username: "nobody-here", password: "wrong password 123" }));
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(body.slice(0, 10));
        controller.enqueue(body.slice(10));
        controller.close();
      },
    });
    const res = await ctx.request("/api/auth/login", { method: "POST", headers: { "content-type": "application/json" }, body: stream, duplex: "half" } as RequestInit);
    expect(res.status).toBe(401);
    expect(await errorCode(res)).toBe("INVALID_CREDENTIALS");
  });

  test("a chunked form body under the budget reaches a page handler intact", async () => {
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode("username=nobody-here&password=wrong+password+123"));
        controller.close();
      },
    });
    const res = await ctx.request("/login", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", origin: "http://localhost" }, body: stream, duplex: "half" } as RequestInit);
    expect(res.status).not.toBe(413);
    expect(res.status).toBeLessThan(500);
    expect(await res.text()).toContain("nobody-here");
  });

  test("a declared body at exactly the budget passes the guard", async () => {
    const body = JSON.stringify({ username: "x", password: "y" }).padEnd(DEFAULT_BODY_BUDGET, " ");
    const res = await ctx.request("/api/auth/login", { method: "POST", headers: { "content-type": "application/json", "content-length": String(body.length) }, body });
    expect(res.status).toBe(401);
  });
});

describe("large bodies are read only after authentication", () => {
  test("a declared large body without credentials: 401, not one byte read", async () => {
    const pulled: Pulled = { bytes: 0 };
    const size = 8 * 1024 * 1024;
    const res = await ctx.request("/api/keys/backup", { method: "PUT", headers: { "content-type": "application/json", "content-length": String(size) }, body: generatedBody(size, pulled), duplex: "half" } as RequestInit);
    expect(res.status).toBe(401);
    expect(await errorCode(res)).toBe("UNAUTHENTICATED");
    expect(pulled.bytes).toBeLessThanOrEqual(16 * 1024);
  });

  test("a chunked body on a large-budget route without credentials: 401 before reading", async () => {
    const pulled: Pulled = { bytes: 0 };
    const res = await ctx.request("/api/e2ee/to-device", { method: "POST", headers: { "content-type": "application/json" }, body: generatedBody(2 * 1024 * 1024, pulled), duplex: "half" } as RequestInit);
    expect(res.status).toBe(401);
    expect(pulled.bytes).toBeLessThanOrEqual(16 * 1024);
  });

  test("a bad bearer token is refused before a large body too", async () => {
    const res = await ctx.request("/api/keys/backup", { method: "PUT", headers: { authorization: "Bearer nope", "content-length": String(LARGE_BODY_BYTES + 1) }, body: "x" });
    expect(res.status).toBe(401);
    expect(await errorCode(res)).toBe("TOKEN_INVALID");
  });

  test("signed in, a large body is read and the route's guard reuses the same actor", async () => {
    const res = await ctx.request("/api/e2ee/to-device", { method: "POST", headers: bearer, body: generatedBody(LARGE_BODY_BYTES + 10), duplex: "half" } as RequestInit);
    // Read and parsed (the filler is not JSON): the parser's 400, not a 401 or 413.
    expect(res.status).toBe(400);
  });
});

describe("streamed routes (future uploads)", () => {
  test("no credentials: 401 before the stream is read", async () => {
    const pulled: Pulled = { bytes: 0 };
    const res = await ctx.request("/api/test/upload", { method: "POST", body: generatedBody(200 * 1024, pulled), duplex: "half" } as RequestInit);
    expect(res.status).toBe(401);
    expect(pulled.bytes).toBeLessThanOrEqual(16 * 1024);
  });

  test("signed in: the handler streams the body; past the budget the stream fails with 413", async () => {
    const ok = await ctx.request("/api/test/upload", { method: "POST", headers: { authorization: bearer.authorization! }, body: generatedBody(256 * 1024), duplex: "half" } as RequestInit);
    expect(await ok.json()).toEqual({ bytes: 256 * 1024 });
    const over = await ctx.request("/api/test/upload", { method: "POST", headers: { authorization: bearer.authorization! }, body: generatedBody(256 * 1024 + 1), duplex: "half" } as RequestInit);
    expect(over.status).toBe(413);
    expect(await errorCode(over)).toBe("PAYLOAD_TOO_LARGE");
    expect(streamedBytes).toBeLessThanOrEqual(256 * 1024);
  });
});

/** The budget the guard applies to a request for this route (the same table it builds from app.routes). */
function budgetOf(method: string, pattern: string): number {
  return new BodyBudgetTable(ctx.app.routes).budgetOf(method, concretePath(pattern)).bytes;
}

test("nothing stays in flight once the responses are done", async () => {
  for (let i = 0; i < 50 && inFlight.snapshot().total > 0; i++) await Bun.sleep(20);
  expect(inFlight.snapshot()).toEqual({ total: 0, clients: 0, byClient: {} });
});
