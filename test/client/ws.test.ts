// The WS client against the real hub: first connect, events, re-subscription after a dropped
// connection, no reconnect loop after the session ended.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { HubClient, type HubClientState } from "../../src/client/ws.ts";
import type { EventFrame } from "../../src/shared/protocol.ts";
import { createTestContext, type TestContext } from "../helpers/app.ts";
import { createUser, signIn } from "../helpers/users.ts";
import { connectWithToken, listen } from "../helpers/ws.ts";
import { CLOSE } from "../../src/shared/protocol.ts";
import { channelTopic, userTopic } from "../../src/ws/topics.ts";

let ctx: TestContext;
let url: string;
const clients: HubClient[] = [];
beforeAll(async () => {
  ctx = await createTestContext();
  url = (await listen(ctx)).ws;
  ctx.hub.setAuthorizeSubscribe(() => true);
});
afterAll(async () => {
  for (const c of clients) c.close();
  await ctx.close();
});

function recorder() {
  const events: EventFrame[] = [];
  const states: HubClientState[] = [];
  let reconnects = 0;
  const waiters: (() => void)[] = [];
  const notify = () => waiters.splice(0).forEach((w) => w());
  const until = async (predicate: () => boolean, timeoutMs = 15_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out; states ${states.join(",")}, events ${JSON.stringify(events)}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  };
  return {
    events,
    states,
    reconnects: () => reconnects,
    until,
    hooks: {
      onEvent: (f: EventFrame) => (events.push(f), notify()),
      onState: (s: HubClientState) => (states.push(s), notify()),
      onReconnected: () => (reconnects++, notify()),
    },
  };
}

describe("HubClient", () => {
  test("connects with a token, receives events, re-subscribes after a drop and reports the reconnect", async () => {
    const user = await createUser(ctx);
    const { accessToken } = await signIn(ctx, user);
    const rec = recorder();
    const channel = crypto.randomUUID();
    const client = new HubClient({ url, token: async () => accessToken, backoffBaseMs: 10, ...rec.hooks });
    clients.push(client);
    client.subscribe([channel]);
    client.connect();
    await rec.until(() => client.isOpen);
    await rec.until(() => ctx.hub.registry.socketsOf(user.id).length === 1);
    // The first subscribe is answered asynchronously: publish until the channel event arrives.
    await rec.until(() => {
      ctx.hub.publish(channelTopic(channel), { type: "test:channel" });
      return rec.events.some((e) => e.type === "test:channel");
    });
    // Drop the connection from the server side (e.g. an instance restart).
    for (const s of ctx.hub.registry.socketsOf(user.id)) {
      s.close(1001, "restart");
      ctx.hub.release(s);
    }
    // onReconnected fires only once the channel is followed again, so nothing published after it is missed.
    await rec.until(() => rec.reconnects() === 1);
    rec.events.length = 0;
    ctx.hub.publish(channelTopic(channel), { type: "test:after_reconnect" });
    ctx.hub.publish(userTopic(user.id), { type: "test:sentinel" });
    await rec.until(() => rec.events.some((e) => e.type === "test:sentinel"));
    expect(rec.events.map((e) => e.type)).toEqual(["test:after_reconnect", "test:sentinel"]);
    expect(rec.states).toContain("reconnecting");
  });

  test("refollow: after subscription:revoked the client follows the channel again (a timeout that ended)", async () => {
    const user = await createUser(ctx);
    const { accessToken } = await signIn(ctx, user);
    const rec = recorder();
    const channel = crypto.randomUUID();
    const client = new HubClient({ url, token: async () => accessToken, backoffBaseMs: 10, ...rec.hooks });
    clients.push(client);
    client.subscribe([channel]);
    client.connect();
    await rec.until(() => ctx.hub.registry.socketsOf(user.id)[0]?.topics().includes(channelTopic(channel)) === true);
    // The server takes it away (as a timeout does) and says so.
    ctx.hub.unsubscribeUser(user.id, [channelTopic(channel)]);
    ctx.hub.publish(userTopic(user.id), { type: "subscription:revoked", reason: "TIMED_OUT", channelIds: [channel], until: new Date().toISOString() });
    await rec.until(() => rec.events.some((e) => e.type === "subscription:revoked"));
    client.refollow([channel, crypto.randomUUID()]); // only channels the client still wants
    await rec.until(() => ctx.hub.registry.socketsOf(user.id)[0]?.topics().includes(channelTopic(channel)) === true);
    expect(ctx.hub.registry.socketsOf(user.id)[0]!.topics().filter((t) => t.startsWith("channel:"))).toEqual([channelTopic(channel)]);
  });

  test("a session that ended is not retried", async () => {
    const user = await createUser(ctx);
    const { accessToken, sessionId } = await signIn(ctx, user);
    const rec = recorder();
    const client = new HubClient({ url, token: async () => accessToken, backoffBaseMs: 10, ...rec.hooks });
    clients.push(client);
    client.connect();
    await rec.until(() => client.isOpen);
    ctx.hub.closeUserSockets(user.id, [sessionId]);
    await rec.until(() => rec.states.at(-1) === "ended");
    expect(rec.states.filter((s) => s === "reconnecting")).toEqual([]);
  });

  test("retryNow: while waiting out a long backoff, the network coming back reconnects at once; connected or closed, it does nothing", async () => {
    const user = await createUser(ctx);
    const { accessToken } = await signIn(ctx, user);
    const rec = recorder();
    const sockets: WebSocket[] = [];
    const client = new HubClient({
      url,
      token: async () => accessToken,
      backoffBaseMs: 600_000, // the next attempt would be 5–10 minutes away
      backoffMaxMs: 600_000,
      createSocket: (u) => {
        const ws = new WebSocket(u);
        sockets.push(ws);
        return ws;
      },
      ...rec.hooks,
    });
    clients.push(client);
    client.connect();
    await rec.until(() => client.isOpen);
    client.retryNow(); // connected: nothing happens
    expect(sockets.length).toBe(1);
    sockets[0]!.close(4000, "test: network cut");
    await rec.until(() => rec.states.at(-1) === "reconnecting");
    expect(sockets.length).toBe(1); // waiting out the backoff
    client.retryNow();
    await rec.until(() => client.isOpen && rec.reconnects() === 1);
    expect(sockets.length).toBe(2);
    client.close();
    client.retryNow();
    expect(sockets.length).toBe(2);
  });

  test("too many sockets (4429) is retried with exponential backoff and jitter, not final; a freed slot lets it in", async () => {
    // A hub whose cap is one socket per user: the blocker holds it (and answers the liveness ping).
    const capped = await createTestContext({ database: ctx.database, hub: { maxSocketsPerUser: 1 } });
    try {
      const cappedUrl = (await listen(capped)).ws;
      const user = await createUser(capped);
      const { accessToken } = await signIn(capped, user);
      const blocker = await connectWithToken(cappedUrl, accessToken);
      const details: { state: HubClientState; code?: number; delayMs?: number }[] = [];
      const rec = recorder();
      const client = new HubClient({
        url: cappedUrl,
        token: async () => accessToken,
        backoffBaseMs: 40,
        backoffMaxMs: 200,
        random: () => 0.5, // jitter factor 0.5 + 0.5/2 = 0.75
        ...rec.hooks,
        onState: (state, detail) => {
          details.push({ state, code: detail?.code, delayMs: detail?.delayMs });
          rec.hooks.onState(state);
        },
      });
      clients.push(client);
      client.connect();
      await rec.until(() => details.filter((d) => d.state === "reconnecting" && d.code === CLOSE.TOO_MANY_SESSIONS).length >= 4, 20_000);
      expect(rec.states).not.toContain("ended");
      const delays = details.filter((d) => d.state === "reconnecting").map((d) => d.delayMs);
      expect(delays.slice(0, 4)).toEqual([30, 60, 120, 150]); // 40·2ⁿ capped at 200, times 0.75
      blocker.close();
      await rec.until(() => client.isOpen, 20_000);
      expect(rec.states.at(-1)).toBe("open");
      client.close();
    } finally {
      // Not capped.close(): the database is shared with the other tests of this file.
      await capped.hub.stop();
      await capped.app.stop(true);
      rmSync(capped.dataDir, { recursive: true, force: true });
    }
  });
});
