/**
 * Request-body bytes in flight over real sockets (src/http/body-in-flight.ts): capped per client
 * IP (429 TOO_MANY_BODIES_IN_FLIGHT) and per process (503 SERVER_BUSY), both with Retry-After,
 * and given back when a request finishes or its client goes away mid-body. Small caps here; the
 * clients are told apart by X-Forwarded-For (the test's loopback peer is a trusted proxy).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { InFlightBodies } from "../../src/http/body-in-flight.ts";
import { createTestContext, type TestContext } from "../helpers/app.ts";
import { openRawRequest, sendGeneratedBody, type RawRequest } from "../helpers/raw-http.ts";

const KIB = 1024;
const inFlight = new InFlightBodies({ perClient: 100 * KIB, total: 150 * KIB });
let ctx: TestContext;
let base: string;
beforeAll(async () => {
  ctx = await createTestContext({ inFlightBodies: inFlight });
  ctx.app.listen({ hostname: "127.0.0.1", port: 0 });
  base = `http://127.0.0.1:${ctx.app.server!.port}`;
}, 60_000);
afterAll(() => ctx.close());

const held = (client: string) => inFlight.snapshot().byClient[client] ?? 0;

/** Waits (bounded) until the ledger shows what the test expects. */
async function ledgerShows(predicate: () => boolean): Promise<boolean> {
  for (let i = 0; i < 200 && !predicate(); i++) await Bun.sleep(10);
  return predicate();
}

/** A login POST declaring `bytes` of body, of which only the first KiB is sent: it stays in flight. */
async function holdDeclared(client: string, bytes: number): Promise<RawRequest> {
  const request = openRawRequest(base, { path: "/api/auth/login", contentLength: bytes, headers: { "x-forwarded-for": client, "content-type": "application/json" } });
  await request.write(new Uint8Array(KIB).fill(0x20));
  return request;
}

test("a client's bodies in flight are capped (429), the process's too (503), and both come back", async () => {
  const first = await holdDeclared("198.51.100.1", 60 * KIB);
  expect(await ledgerShows(() => held("198.51.100.1") === 60 * KIB)).toBe(true);

  // The same client again: 120 KiB would be over its 100 KiB.
  const second = openRawRequest(base, { path: "/api/auth/login", contentLength: 60 * KIB, headers: { "x-forwarded-for": "198.51.100.1" } });
  const refused = (await second.response)!;
  expect(refused.status).toBe(429);
  expect(refused.headers["retry-after"]).toBe("1");
  expect(JSON.parse(refused.body).error.code).toBe("TOO_MANY_BODIES_IN_FLIGHT");

  // Another client fits under its own cap and the process's 150 KiB...
  const other = await holdDeclared("198.51.100.2", 60 * KIB);
  expect(await ledgerShows(() => held("198.51.100.2") === 60 * KIB)).toBe(true);
  // ...a third does not fit in the process any more.
  const third = openRawRequest(base, { path: "/api/auth/login", contentLength: 60 * KIB, headers: { "x-forwarded-for": "198.51.100.3" } });
  const busy = (await third.response)!;
  expect(busy.status).toBe(503);
  expect(busy.headers["retry-after"]).toBe("1");
  expect(JSON.parse(busy.body).error.code).toBe("SERVER_BUSY");

  // A client that gives up mid-body gives its bytes back.
  first.abort();
  expect(await ledgerShows(() => held("198.51.100.1") === 0)).toBe(true);
  // A request that completes gives them back once answered.
  await other.write(new Uint8Array(59 * KIB).fill(0x20));
  expect((await other.response)!.status).toBe(400);
  expect(await ledgerShows(() => inFlight.snapshot().total === 0)).toBe(true);
  expect(inFlight.snapshot()).toEqual({ total: 0, clients: 0, byClient: {} });
});

test("a chunked body counts as it is read, and is given back when its client goes away", async () => {
  const request = openRawRequest(base, { path: "/api/auth/login", headers: { "x-forwarded-for": "198.51.100.4", "content-type": "application/json" } });
  await request.write(new Uint8Array(40 * KIB).fill(0x20));
  expect(await ledgerShows(() => held("198.51.100.4") === 40 * KIB)).toBe(true);
  request.abort();
  expect(await ledgerShows(() => inFlight.snapshot().total === 0)).toBe(true);
  expect(inFlight.snapshot().clients).toBe(0);
});

test("refused and failed requests leave nothing in flight", async () => {
  const over = await sendGeneratedBody(base, { path: "/api/auth/login", bytes: 70 * KIB, chunked: true, headers: { "x-forwarded-for": "198.51.100.5" } });
  expect(over.response!.status).toBe(413);
  const declaredOver = await sendGeneratedBody(base, { path: "/api/auth/login", bytes: 70 * KIB, chunked: false, headers: { "x-forwarded-for": "198.51.100.5" } });
  expect(declaredOver.response!.status).toBe(413);
  const notFound = await sendGeneratedBody(base, { path: "/api/nothing-here", bytes: 10 * KIB, chunked: false, headers: { "x-forwarded-for": "198.51.100.5" } });
  expect(notFound.response!.status).toBe(404);
  const badJson = await sendGeneratedBody(base, { path: "/api/auth/login", bytes: 10 * KIB, chunked: true, headers: { "x-forwarded-for": "198.51.100.5", "content-type": "application/json" } });
  expect(badJson.response!.status).toBe(400);
  expect(await ledgerShows(() => inFlight.snapshot().total === 0)).toBe(true);
  expect(inFlight.snapshot()).toEqual({ total: 0, clients: 0, byClient: {} });
});

test("a declared body larger than any route takes is refused by Bun itself, unread", async () => {
  const request = openRawRequest(base, { path: "/api/keys/backup", method: "PUT", contentLength: 100 * 1024 * 1024 });
  const res = (await request.response)!;
  request.abort();
  expect(res.status).toBe(413);
});
