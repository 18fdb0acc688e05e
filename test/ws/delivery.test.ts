import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestContext, type TestContext } from "../helpers/app.ts";
import { cookieSignIn, createUser, signIn, type TestUser } from "../helpers/users.ts";
import { browserHeaders, connectAuthed, connectWithToken, listen, type TestSocket } from "../helpers/ws.ts";
import { authKernelOf, revokeAllSessions, revokeSession } from "../../src/features/auth/index.ts";
import { runInTransaction } from "../../src/db/tx.ts";
import { CLOSE } from "../../src/shared/protocol.ts";
import { channelTopic, sessionTopic, userTopic } from "../../src/ws/topics.ts";

let ctx: TestContext;
let base: { http: string; ws: string };
const sockets: TestSocket[] = [];
/** Channel memberships the fake permission hook consults (channels arrive with a later feature). */
const members = new Map<string, Set<string>>();

beforeAll(async () => {
  ctx = await createTestContext();
  base = await listen(ctx);
  ctx.hub.setAuthorizeSubscribe((actor, topic) => members.get(topic)?.has(actor.userId) ?? false);
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await ctx.close();
});

async function userWithSocket(): Promise<{ user: TestUser; socket: TestSocket; sessionId: string; accessToken: string }> {
  const user = await createUser(ctx);
  const { accessToken, sessionId } = await signIn(ctx, user);
  const socket = await connectWithToken(base.ws, accessToken);
  sockets.push(socket);
  return { user, socket, sessionId, accessToken };
}

const events = (socket: TestSocket) => socket.received.filter((f) => f.type !== "hello" && f.type !== "pong");
const tx = <T>(fn: Parameters<typeof runInTransaction<T>>[1]) => runInTransaction({ db: ctx.database.db, events: ctx.deps.events }, fn);

describe("recipients", () => {
  test("an event to user:<id> reaches every socket of that user and no one else", async () => {
    const alice = await userWithSocket();
    const aliceBrowser = await connectAuthed(base.ws, browserHeaders(base.http, await cookieSignIn(ctx, alice.user)));
    sockets.push(aliceBrowser);
    const bob = await userWithSocket();
    ctx.hub.publish(userTopic(alice.user.id), { type: "test:hello", n: 1 });
    // The sentinel to Bob arrives after anything published before it (per-socket order).
    ctx.hub.publish(userTopic(bob.user.id), { type: "test:sentinel" });
    expect(await alice.socket.nextFrame()).toEqual({ type: "test:hello", n: 1 });
    expect(await aliceBrowser.nextFrame()).toEqual({ type: "test:hello", n: 1 });
    expect(await bob.socket.nextFrame()).toEqual({ type: "test:sentinel" });
    expect(events(bob.socket)).toEqual([{ type: "test:sentinel" }]);
  });

  test("session:<id> reaches only that session's socket", async () => {
    const alice = await userWithSocket();
    const second = await connectWithToken(base.ws, (await signIn(ctx, alice.user)).accessToken);
    sockets.push(second);
    ctx.hub.publish(sessionTopic(alice.sessionId), { type: "test:only_this_device" });
    ctx.hub.publish(userTopic(alice.user.id), { type: "test:sentinel" });
    expect(await alice.socket.nextFrame()).toEqual({ type: "test:only_this_device" });
    expect(await second.nextFrame()).toEqual({ type: "test:sentinel" });
  });

  test("events go out only after COMMIT: a rolled-back transaction tells nobody", async () => {
    const alice = await userWithSocket();
    await tx(async (_t, outbox) => outbox.push(userTopic(alice.user.id), { type: "test:committed" }));
    await tx(async (_t, outbox) => {
      outbox.push(userTopic(alice.user.id), { type: "test:rolled_back" });
      throw new Error("rollback");
    }).catch(() => {});
    ctx.hub.publish(userTopic(alice.user.id), { type: "test:sentinel" });
    expect(await alice.socket.nextFrame()).toEqual({ type: "test:committed" });
    expect(await alice.socket.nextFrame()).toEqual({ type: "test:sentinel" });
  });

  test("an event without a domain:verb type is refused by publish, not sent", async () => {
    const alice = await userWithSocket();
    ctx.hub.publish(userTopic(alice.user.id), { type: "nocolon" });
    ctx.hub.publish(userTopic(alice.user.id), "a string");
    ctx.hub.publish(userTopic(alice.user.id), { type: "test:sentinel" });
    expect(await alice.socket.nextFrame()).toEqual({ type: "test:sentinel" });
  });
});

describe("channel subscriptions follow permissions live", () => {
  test("only members can subscribe; a kick (unsubscribeUser) stops delivery at once", async () => {
    const channel = crypto.randomUUID();
    const alice = await userWithSocket();
    const mallory = await userWithSocket();
    members.set(channelTopic(channel), new Set([alice.user.id]));
    alice.socket.send({ type: "subscribe", channelIds: [channel] });
    expect(await alice.socket.nextFrame()).toEqual({ type: "subscribed", channelIds: [channel] });
    mallory.socket.send({ type: "subscribe", channelIds: [channel] });
    expect(await mallory.socket.nextFrame()).toMatchObject({ type: "error", code: "CHANNEL_NOT_FOUND" });
    ctx.hub.publish(channelTopic(channel), { type: "test:in_channel", n: 1 });
    expect(await alice.socket.nextFrame()).toEqual({ type: "test:in_channel", n: 1 });

    // Kick: the feature commits the membership change, then tells the hub.
    members.get(channelTopic(channel))!.delete(alice.user.id);
    ctx.hub.unsubscribeUser(alice.user.id, [channelTopic(channel)]);
    ctx.hub.publish(channelTopic(channel), { type: "test:in_channel", n: 2 });
    ctx.hub.publish(userTopic(alice.user.id), { type: "test:sentinel" });
    expect(await alice.socket.nextFrame()).toEqual({ type: "test:sentinel" });
    expect(events(mallory.socket).filter((f) => f.type === "test:in_channel")).toEqual([]);
  });

  test("subscribeUser joins every open socket of the user (a new membership)", async () => {
    const channel = crypto.randomUUID();
    const bob = await userWithSocket();
    ctx.hub.subscribeUser(bob.user.id, [channelTopic(channel)]);
    ctx.hub.publish(channelTopic(channel), { type: "test:welcome" });
    expect(await bob.socket.nextFrame()).toEqual({ type: "test:welcome" });
  });

  test("following a channel is not enough to type in it: typing needs the right to send there (messaging feature)", async () => {
    // The fake subscribe hook lets both follow a channel the database does not have; typing is
    // checked against the send rules (src/features/messages/typing.ts), so it is refused and
    // nothing reaches bob. The relay itself is tested with real channels in
    // test/features/messages/realtime.test.ts and acting-rules.test.ts.
    const channel = crypto.randomUUID();
    const alice = await userWithSocket();
    const bob = await userWithSocket();
    members.set(channelTopic(channel), new Set([alice.user.id, bob.user.id]));
    for (const s of [alice.socket, bob.socket]) {
      s.send({ type: "subscribe", channelIds: [channel] });
      await s.nextOfType("subscribed");
    }
    alice.socket.send({ type: "typing:start", channelId: channel, ref: "t" });
    expect(await alice.socket.nextOfType("error")).toMatchObject({ code: "CHANNEL_NOT_FOUND", ref: "t" });
    ctx.hub.publish(channelTopic(channel), { type: "test:sentinel" });
    expect(await bob.socket.nextFrame()).toEqual({ type: "test:sentinel" });
  });
});

describe("sessions ending while connected", () => {
  test("revoking a session closes its socket at once; the user's other session keeps receiving", async () => {
    const alice = await userWithSocket();
    const other = await connectWithToken(base.ws, (await signIn(ctx, alice.user)).accessToken);
    sockets.push(other);
    const kernel = authKernelOf(ctx.deps);
    await tx((t, outbox) => revokeSession(t, kernel, outbox, alice.user.id, alice.sessionId, "user_revoked"));
    ctx.hub.publish(userTopic(alice.user.id), { type: "test:after_revoke" });
    expect(await other.nextFrame()).toEqual({ type: "test:after_revoke" });
    expect((await alice.socket.closed).code).toBe(CLOSE.SESSION_ENDED);
    expect(events(alice.socket)).toEqual([{ type: "error", code: "SESSION_ENDED", message: expect.any(String) }]);
    // And it cannot come back with the old token.
    await expect(connectWithToken(base.ws, alice.accessToken)).rejects.toThrow();
  });

  test("logout everywhere closes every socket of the user", async () => {
    const alice = await userWithSocket();
    const browser = await connectAuthed(base.ws, browserHeaders(base.http, await cookieSignIn(ctx, alice.user)));
    const bystander = await userWithSocket();
    sockets.push(browser);
    await tx((t, outbox) => revokeAllSessions(t, authKernelOf(ctx.deps), outbox, alice.user.id, "logout_all"));
    ctx.hub.publish(userTopic(alice.user.id), { type: "test:after_logout" });
    ctx.hub.publish(userTopic(bystander.user.id), { type: "test:sentinel" });
    expect(await bystander.socket.nextFrame()).toEqual({ type: "test:sentinel" });
    for (const s of [alice.socket, browser]) {
      expect((await s.closed).code).toBe(CLOSE.SESSION_ENDED);
      expect(events(s).map((f) => f.type)).toEqual(["error"]);
    }
  });

  test("suspension (suspended_at + revoke all, as the admin feature does) closes the sockets", async () => {
    const alice = await userWithSocket();
    await tx(async (t, outbox) => {
      await t.updateTable("users").set({ suspended_at: new Date(), suspended_reason: "test" }).where("id", "=", alice.user.id).execute();
      await revokeAllSessions(t, authKernelOf(ctx.deps), outbox, alice.user.id, "suspended");
    });
    expect((await alice.socket.closed).code).toBe(CLOSE.SESSION_ENDED);
  });

  test("the liveness sweep closes sockets whose session ended without a notification", async () => {
    const expired = await userWithSocket();
    const suspended = await userWithSocket();
    const fine = await userWithSocket();
    // Changes made behind the hub's back (another instance without Redis, a crash before notify).
    await ctx.database.db.updateTable("sessions").set({ expires_at: new Date(Date.now() - 1000) }).where("id", "=", expired.sessionId).execute();
    await ctx.database.db.updateTable("users").set({ suspended_at: new Date() }).where("id", "=", suspended.user.id).execute();
    expect(await ctx.hub.sweepSessions()).toBe(2);
    expect((await expired.socket.closed).code).toBe(CLOSE.SESSION_ENDED);
    expect((await suspended.socket.closed).code).toBe(CLOSE.SESSION_ENDED);
    fine.socket.send({ type: "ping" });
    expect((await fine.socket.nextFrame()).type).toBe("pong");
  });

  test("a revocation that races the auth check still wins (socket refused at registration)", async () => {
    const userId = crypto.randomUUID();
    const fake = (sessionId: string) => {
      const failures: string[] = [];
      return { failures, socket: { actor: { userId, sessionId, isAdmin: false, isOwner: false }, userId, sessionId, topics: () => [], send() {}, subscribe() {}, unsubscribe() {}, close() {}, ping() {}, terminate() {}, fail: (code: string) => void failures.push(code) } };
    };
    const before = Date.now() - 1;
    const revokedSession = crypto.randomUUID();
    ctx.hub.closeUserSockets(userId, [revokedSession]);
    const a = fake(revokedSession);
    expect(await ctx.hub.admit(a.socket, before)).toBe(false);
    expect(a.failures).toEqual(["SESSION_ENDED"]);
    // Logout-all refuses sockets whose auth check started before it, not later sign-ins.
    ctx.hub.closeUserSockets(userId, "all");
    const b = fake(crypto.randomUUID());
    expect(await ctx.hub.admit(b.socket, before)).toBe(false);
    const c = fake(crypto.randomUUID());
    expect(await ctx.hub.admit(c.socket, Date.now() + 1)).toBe(true);
    ctx.hub.release(c.socket);
  });
});

describe("feature frame handlers (hub.handleFrame)", () => {
  test("a feature's handler answers, its AppError becomes an error frame with the same code, a crash INTERNAL_ERROR", async () => {
    const { NotFoundError } = await import("../../src/errors.ts");
    const own = await createTestContext({ database: ctx.database });
    try {
      const { ws } = await listen(own);
      const channel = crypto.randomUUID();
      own.hub.handleFrame("typing:start", ({ actor, frame }) => {
        if (frame.type !== "typing:start") return;
        if (frame.ref === "missing") throw new NotFoundError("No such channel.", "CHANNEL_NOT_FOUND");
        if (frame.ref === "crash") throw new Error("secret internals");
        return { type: "typing:accepted", channelId: frame.channelId, by: actor.userId };
      });
      const user = await createUser(own);
      const socket = await connectWithToken(ws, (await signIn(own, user)).accessToken);
      sockets.push(socket);
      socket.send({ type: "typing:start", channelId: channel, ref: "ok" });
      expect(await socket.nextFrame()).toEqual({ type: "typing:accepted", channelId: channel, by: user.id });
      socket.send({ type: "typing:start", channelId: channel, ref: "missing" });
      expect(await socket.nextFrame()).toEqual({ type: "error", code: "CHANNEL_NOT_FOUND", message: "No such channel.", ref: "missing" });
      socket.send({ type: "typing:start", channelId: channel, ref: "crash" });
      const crash = await socket.nextFrame();
      expect(crash).toMatchObject({ type: "error", code: "INTERNAL_ERROR", ref: "crash" });
      expect(JSON.stringify(crash)).not.toContain("secret internals");
      socket.send({ type: "ping" });
      expect((await socket.nextFrame()).type).toBe("pong");
      expect(() => own.hub.handleFrame("ping", () => {})).toThrow();
      expect(() => own.hub.handleFrame("poll:vote", () => {})).toThrow(/catalogue/);
    } finally {
      await own.hub.stop();
      own.app.stop(true);
    }
  });
});
