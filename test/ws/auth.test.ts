import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestContext, type TestContext } from "../helpers/app.ts";
import { cookieSignIn, createUser, signIn } from "../helpers/users.ts";
import { browserHeaders, connectAuthed, connectWithToken, listen, openSocket, type TestSocket } from "../helpers/ws.ts";
import { CLOSE } from "../../src/shared/protocol.ts";

let ctx: TestContext;
let base: { http: string; ws: string };
const sockets: TestSocket[] = [];
const track = (s: TestSocket) => (sockets.push(s), s);

beforeAll(async () => {
  // The production auth deadline (5 s): a socket that is slow to send its auth frame on a loaded
  // machine must not be cut off. The deadline test shortens it for its own socket only.
  ctx = await createTestContext();
  base = await listen(ctx);
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await ctx.close();
});

const upgradeHeaders = { upgrade: "websocket", connection: "Upgrade", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "13" };

describe("upgrade with the session cookie", () => {
  test("same-origin browser socket is admitted and greeted with hello", async () => {
    const user = await createUser(ctx);
    const tokens = await cookieSignIn(ctx, user);
    const socket = track(openSocket(base.ws, browserHeaders(base.http, tokens)));
    const hello = await socket.nextFrame();
    expect(hello).toEqual({ type: "hello", userId: user.id, sessionId: tokens.sessionId, serverVersion: ctx.config.version, heartbeatIntervalMs: 25_000 });
    socket.send({ type: "ping", ref: "p1", ts: 7 });
    expect(await socket.nextFrame()).toMatchObject({ type: "pong", ref: "p1", ts: 7 });
  });

  test("PUBLIC_URL's origin is accepted too", async () => {
    const other = await createTestContext({ env: { PUBLIC_URL: "https://chat.example.test" }, database: ctx.database });
    try {
      const { ws } = await listen(other);
      const user = await createUser(other);
      const tokens = await cookieSignIn(other, user);
      const socket = track(await connectAuthed(ws, { ...browserHeaders("x", tokens), origin: "https://chat.example.test" }));
      expect(socket.received[0]).toMatchObject({ type: "hello", userId: user.id });
      socket.close();
    } finally {
      await other.hub.stop();
      other.app.stop(true);
    }
  });

  test("a cross-site origin is refused with 403 before any upgrade", async () => {
    const user = await createUser(ctx);
    const tokens = await cookieSignIn(ctx, user);
    const res = await fetch(`${base.http}/ws`, { headers: { ...browserHeaders("https://evil.example", tokens), ...upgradeHeaders } });
    expect(res.status).toBe(403);
    const body = await res.text();
    expect(body).toContain("ORIGIN_REJECTED");
    const socket = track(openSocket(base.ws, browserHeaders("https://evil.example", tokens)));
    expect(await socket.opened).toBe(false);
  });

  test("a cookie without Origin (not a browser) is refused", async () => {
    const user = await createUser(ctx);
    const tokens = await cookieSignIn(ctx, user);
    const res = await fetch(`${base.http}/ws`, { headers: { cookie: browserHeaders("", tokens).cookie!, ...upgradeHeaders } });
    expect(res.status).toBe(403);
  });

  test("an expired or revoked access cookie is refused with 401, without rotating the refresh token", async () => {
    const user = await createUser(ctx);
    const tokens = await cookieSignIn(ctx, user);
    const res = await fetch(`${base.http}/ws`, { headers: { cookie: `hearth_access=garbage; hearth_refresh=${tokens.refreshToken}`, origin: base.http, ...upgradeHeaders } });
    expect(res.status).toBe(401);
    expect(res.headers.get("set-cookie")).toBeNull();
    const row = await ctx.database.db.selectFrom("refresh_tokens").select("rotated_at").where("session_id", "=", tokens.sessionId).executeTakeFirstOrThrow();
    expect(row.rotated_at).toBeNull();
  });
});

describe("first-frame auth for API clients", () => {
  test("a Bearer token in the first frame authenticates", async () => {
    const user = await createUser(ctx);
    const { accessToken, sessionId } = await signIn(ctx, user);
    const socket = openSocket(base.ws);
    track(socket);
    await socket.opened;
    socket.send({ type: "auth", token: accessToken, ref: "a" });
    expect(await socket.nextFrame()).toMatchObject({ type: "hello", userId: user.id, sessionId });
    socket.send({ type: "auth", token: accessToken });
    expect(await socket.nextFrame()).toMatchObject({ type: "error", code: "ALREADY_AUTHENTICATED" });
  });

  test("no credentials: a frame other than auth is refused and the socket closed", async () => {
    const socket = track(openSocket(base.ws));
    await socket.opened;
    socket.send({ type: "ping" });
    expect(await socket.nextFrame()).toMatchObject({ type: "error", code: "AUTH_REQUIRED" });
    expect((await socket.closed).code).toBe(CLOSE.AUTH_REQUIRED);
  });

  test("no auth frame within the deadline: AUTH_TIMEOUT and close", async () => {
    // Read when a socket opens, so only this test's socket gets the short deadline.
    ctx.hub.options.authDeadlineMs = 400;
    try {
      const socket = track(openSocket(base.ws));
      await socket.opened;
      expect(await socket.nextFrame()).toMatchObject({ type: "error", code: "AUTH_TIMEOUT" });
      expect((await socket.closed).code).toBe(CLOSE.AUTH_TIMEOUT);
    } finally {
      ctx.hub.options.authDeadlineMs = undefined;
    }
  });

  test("an invalid token, or one of a revoked session, is refused", async () => {
    for (const token of ["not-a-jwt", await revokedToken()]) {
      const socket = track(openSocket(base.ws));
      await socket.opened;
      socket.send({ type: "auth", token });
      expect(await socket.nextFrame()).toMatchObject({ type: "error", code: "UNAUTHENTICATED" });
      expect((await socket.closed).code).toBe(CLOSE.UNAUTHENTICATED);
    }
  });

  test("a suspended user's token is refused", async () => {
    const user = await createUser(ctx, { suspended: true });
    const { accessToken } = await signIn(ctx, user);
    const socket = track(openSocket(base.ws));
    await socket.opened;
    socket.send({ type: "auth", token: accessToken });
    expect(await socket.nextFrame()).toMatchObject({ type: "error", code: "UNAUTHENTICATED" });
  });
});

describe("socket cap", () => {
  test("the 9th socket of a user gets TOO_MANY_SESSIONS and is closed; the 8 stay healthy", async () => {
    const user = await createUser(ctx);
    const { accessToken } = await signIn(ctx, user);
    const eight: TestSocket[] = [];
    for (let i = 0; i < 8; i++) eight.push(track(await connectWithToken(base.ws, accessToken)));
    const ninth = track(openSocket(base.ws));
    await ninth.opened;
    ninth.send({ type: "auth", token: accessToken });
    expect(await ninth.nextFrame()).toMatchObject({ type: "error", code: "TOO_MANY_SESSIONS" });
    expect((await ninth.closed).code).toBe(CLOSE.TOO_MANY_SESSIONS);
    eight[7]!.send({ type: "ping" });
    expect((await eight[7]!.nextFrame()).type).toBe("pong");
    // Closing one frees a slot.
    eight[0]!.close();
    await eight[0]!.closed;
    await waitUntil(() => ctx.hub.registry.countFor(user.id) === 7);
    track(await connectWithToken(base.ws, accessToken));
  });
});

async function revokedToken(): Promise<string> {
  const user = await createUser(ctx);
  const { accessToken, sessionId } = await signIn(ctx, user);
  await ctx.database.db.updateTable("sessions").set({ revoked_at: new Date(), revoked_reason: "test" }).where("id", "=", sessionId).execute();
  return accessToken;
}

async function waitUntil(predicate: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await Bun.sleep(10);
  }
}
