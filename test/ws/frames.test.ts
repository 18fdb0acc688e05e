import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestContext, type TestContext } from "../helpers/app.ts";
import { createUser, signIn } from "../helpers/users.ts";
import { connectWithToken, listen, type TestSocket } from "../helpers/ws.ts";
import { CLOSE, MAX_FRAME_BYTES, MAX_TRANSPORT_FRAME_BYTES, parseClientFrame } from "../../src/shared/protocol.ts";

let ctx: TestContext;
let url: string;
const sockets: TestSocket[] = [];

beforeAll(async () => {
  // A high frame rate: these tests send many hostile frames; the rate-limit test has its own app.
  ctx = await createTestContext({ hub: { frameRate: { burst: 1000, perSec: 1000 } } });
  url = (await listen(ctx)).ws;
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await ctx.close();
});

async function connect(): Promise<TestSocket> {
  const user = await createUser(ctx);
  const socket = await connectWithToken(url, (await signIn(ctx, user)).accessToken);
  sockets.push(socket);
  return socket;
}

async function expectHealthy(socket: TestSocket): Promise<void> {
  socket.send({ type: "ping", ref: "health" });
  expect(await socket.nextFrame()).toMatchObject({ type: "pong", ref: "health" });
  expect(socket.isClosed()).toBe(false);
}

describe("hostile frames get an error frame and the socket stays healthy", () => {
  const cases: [string, string | Uint8Array, string, string?][] = [
    ["malformed JSON", "{not json", "INVALID_JSON"],
    ["a JSON string", '"ping"', "INVALID_FRAME"],
    ["a JSON array", '[{"type":"ping"}]', "INVALID_FRAME"],
    ["null", "null", "INVALID_FRAME"],
    ["a number", "42", "INVALID_FRAME"],
    ["missing type", '{"ref":"x"}', "INVALID_FRAME", "type"],
    ["type of the wrong type", '{"type":7}', "INVALID_FRAME", "type"],
    ["unknown type", '{"type":"message:explode"}', "UNKNOWN_TYPE", "type"],
    ["prototype key as type", '{"type":"__proto__"}', "UNKNOWN_TYPE", "type"],
    ["wrong field type", '{"type":"ping","ts":"soon"}', "INVALID_FRAME", "ts"],
    ["unknown field", '{"type":"ping","admin":true}', "INVALID_FRAME", "admin"],
    ["subscribe with a non-array", '{"type":"subscribe","channelIds":"all"}', "INVALID_FRAME", "channelIds"],
    ["subscribe with a non-uuid", '{"type":"subscribe","channelIds":["../../etc"]}', "INVALID_FRAME", "channelIds"],
    ["subscribe with too many ids", JSON.stringify({ type: "subscribe", channelIds: Array.from({ length: 101 }, () => crypto.randomUUID()) }), "INVALID_FRAME", "channelIds"],
    ["oversized ref", JSON.stringify({ type: "ping", ref: "r".repeat(65) }), "INVALID_FRAME", "ref"],
    ["binary frame", new Uint8Array([1, 2, 3]), "INVALID_FRAME"],
    // The text rule of every HTTP input (src/shared/text.ts), before any field is looked at.
    ["a NUL in a string", '{"type":"ping","ref":"a\\u0000b"}', "INVALID_TEXT", "ref"],
    ["a lone surrogate in a string", '{"type":"typing:start","channelId":"\\ud800"}', "INVALID_TEXT", "channelId"],
  ];
  for (const [name, payload, code, field] of cases) {
    test(name, async () => {
      const socket = await connect();
      socket.sendRaw(payload);
      const frame = await socket.nextFrame();
      expect(frame).toMatchObject({ type: "error", code });
      if (field) expect(frame.field).toBe(field);
      // Never a schema dump: a short message, no JSON schema keywords.
      expect(String(frame.message).length).toBeLessThan(120);
      expect(JSON.stringify(frame)).not.toMatch(/"(schema|anyOf|properties|\$id)"/);
      await expectHealthy(socket);
    });
  }

  test("the ref of an invalid frame is echoed so the client can match the error", async () => {
    const socket = await connect();
    socket.send({ type: "ping", ref: "r1", ts: "x" });
    expect(await socket.nextFrame()).toMatchObject({ type: "error", code: "INVALID_FRAME", ref: "r1" });
  });

  test("a frame above the application limit gets FRAME_TOO_LARGE and the socket stays open", async () => {
    const socket = await connect();
    socket.sendRaw(JSON.stringify({ type: "ping", ref: "x".repeat(MAX_FRAME_BYTES) }));
    expect(await socket.nextFrame()).toMatchObject({ type: "error", code: "FRAME_TOO_LARGE" });
    // Multi-byte characters count as bytes, not characters.
    socket.sendRaw(JSON.stringify({ type: "ping", ref: "é".repeat(MAX_FRAME_BYTES / 2 + 10) }));
    expect(await socket.nextFrame()).toMatchObject({ type: "error", code: "FRAME_TOO_LARGE" });
    await expectHealthy(socket);
  });

  test("a frame above the transport limit closes the socket with 1009", async () => {
    const socket = await connect();
    socket.sendRaw("x".repeat(MAX_TRANSPORT_FRAME_BYTES + 1));
    expect((await socket.closed).code).toBe(CLOSE.TOO_BIG);
  });

  test("subscribing to a channel the permission hook refuses: CHANNEL_NOT_FOUND, nothing subscribed", async () => {
    const socket = await connect();
    const id = crypto.randomUUID();
    socket.send({ type: "subscribe", channelIds: [id], ref: "s" });
    expect(await socket.nextFrame()).toMatchObject({ type: "error", code: "CHANNEL_NOT_FOUND", channelIds: [id], ref: "s" });
    expect(await socket.nextFrame()).toMatchObject({ type: "subscribed", channelIds: [], ref: "s" });
    socket.send({ type: "typing:start", channelId: id });
    expect(await socket.nextFrame()).toMatchObject({ type: "error", code: "CHANNEL_NOT_FOUND" });
    await expectHealthy(socket);
  });
});

describe("per-connection rate limit", () => {
  test("beyond the burst, frames are dropped with RATE_LIMITED and the socket stays", async () => {
    let clock = 1_000_000;
    const limited = await createTestContext({ database: ctx.database, now: () => clock, hub: { frameRate: { burst: 30, perSec: 10 } } });
    try {
      const { ws } = await listen(limited);
      const user = await createUser(limited);
      const socket = await connectWithToken(ws, (await signIn(limited, user)).accessToken);
      sockets.push(socket);
      // The auth frame took one token: 29 pings pass, the 30th and 31st are refused.
      for (let i = 0; i < 31; i++) socket.send({ type: "ping", ref: String(i) });
      const frames = [];
      for (let i = 0; i < 31; i++) frames.push(await socket.nextFrame());
      expect(frames.filter((f) => f.type === "pong")).toHaveLength(29);
      const refused = frames.filter((f) => f.type === "error");
      expect(refused).toHaveLength(2);
      expect(refused[0]).toMatchObject({ code: "RATE_LIMITED", retryAfterMs: 100 });
      // Time passes (injected clock): a token is back, the same socket works.
      clock += 100;
      socket.send({ type: "ping", ref: "later" });
      expect(await socket.nextFrame()).toMatchObject({ type: "pong", ref: "later" });
      expect(socket.isClosed()).toBe(false);
    } finally {
      await limited.hub.stop();
      limited.app.stop(true);
    }
  });
});

describe("protocol validators (shared with the browser)", () => {
  test("valid frames pass unchanged", () => {
    const id = crypto.randomUUID();
    for (const frame of [{ type: "ping" }, { type: "ping", ts: 1, ref: "a" }, { type: "auth", token: "t" }, { type: "subscribe", channelIds: [id] }, { type: "typing:stop", channelId: id }]) {
      expect(parseClientFrame(JSON.stringify(frame))).toEqual({ ok: true, frame } as never);
    }
  });
});
