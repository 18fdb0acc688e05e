/**
 * Two real Hearth processes (main.ts wiring: REDIS_URL selects the Redis fan-out and the Redis
 * rate-limit store) on one PostgreSQL database and one Redis. The test process joins as a third
 * instance of the same deployment and publishes; sockets on both processes receive exactly once.
 * Needs TEST_DATABASE_URL (processes cannot share an embedded database) and REDIS_URL.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../../src/log.ts";
import { RedisFanout } from "../../src/ws/fanout-redis.ts";
import { userTopic } from "../../src/ws/topics.ts";
import { createTestContext, type TestContext } from "../helpers/app.ts";
import { createTestDatabase, TEST_DATABASE_URL, type TestDatabase } from "../helpers/db.ts";
import { spawnHearth, type HearthProcess } from "../helpers/process.ts";
import { createUser, signIn } from "../helpers/users.ts";
import { connectWithToken, openSocket, type TestSocket } from "../helpers/ws.ts";
import { CLOSE, MAX_SOCKETS_PER_USER } from "../../src/shared/protocol.ts";

const REDIS_URL = process.env.REDIS_URL?.trim() || undefined;
const ready = Boolean(REDIS_URL && TEST_DATABASE_URL);
if (!ready) console.log("test/ws/processes.test.ts: skipped: needs both TEST_DATABASE_URL and REDIS_URL (two real processes share PostgreSQL and Redis)");

describe.skipIf(!ready)("two Hearth processes with REDIS_URL", () => {
  let database: TestDatabase;
  let dataDir: string;
  let ctx: TestContext;
  const processes: HearthProcess[] = [];
  const urls: string[] = [];
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), "hearth-scale-"));
    const env = { LISTEN_ADDR: "127.0.0.1:0", LOG_LEVEL: "info", DATABASE_URL: database.url, DATA_DIR: dataDir, REDIS_URL };
    // One after the other: the first generates the shared secrets into DATA_DIR.
    for (let i = 0; i < 2; i++) {
      const proc = spawnHearth({ env });
      processes.push(proc);
      urls.push(await proc.ready());
    }
    // This test process: a third instance (same secrets, same database, same Redis channel).
    ctx = await createTestContext({ database, env: { DATA_DIR: dataDir }, hub: { fanout: new RedisFanout(REDIS_URL!, "test-process", silentLogger) } });
  }, 120_000);
  afterAll(async () => {
    for (const s of sockets) s.close();
    await ctx?.hub.stop();
    for (const p of processes) await p.stop();
    await ctx?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("both processes use the Redis fan-out", () => {
    for (const p of processes) expect(p.output()).toMatch(/"msg":"server\.listening".*"fanout":"redis"/);
  });

  test("an event reaches the user's sockets on both processes exactly once", async () => {
    const user = await createUser(ctx);
    const { accessToken } = await signIn(ctx, user);
    for (const url of urls) sockets.push(await connectWithToken(`${url.replace("http", "ws")}/ws`, accessToken));
    const [onA, onB] = sockets.slice(-2) as [TestSocket, TestSocket];
    ctx.hub.publish(userTopic(user.id), { type: "test:cross_process", n: 1 });
    ctx.hub.publish(userTopic(user.id), { type: "test:sentinel" });
    for (const socket of [onA, onB]) {
      expect(await socket.nextFrame(5_000)).toEqual({ type: "test:cross_process", n: 1 });
      expect(await socket.nextFrame(5_000)).toEqual({ type: "test:sentinel" });
    }
  });

  test("a revocation published by one instance closes the socket on the others", async () => {
    const user = await createUser(ctx);
    const { accessToken, sessionId } = await signIn(ctx, user);
    const socket = await connectWithToken(`${urls[1]!.replace("http", "ws")}/ws`, accessToken);
    sockets.push(socket);
    ctx.hub.closeUserSockets(user.id, [sessionId], "test");
    expect((await socket.closed).code).toBe(4409);
  });

  test("the per-user socket cap (8) counts sockets on both processes: the 9th is refused on either, a freed slot is reusable", async () => {
    const user = await createUser(ctx);
    const { accessToken } = await signIn(ctx, user);
    const wsUrl = (i: number) => `${urls[i % 2]!.replace("http", "ws")}/ws`;
    const mine: TestSocket[] = [];
    for (let i = 0; i < MAX_SOCKETS_PER_USER; i++) mine.push(await connectWithToken(wsUrl(i), accessToken));
    sockets.push(...mine);
    for (const i of [0, 1]) {
      const ninth = openSocket(wsUrl(i));
      sockets.push(ninth);
      await ninth.opened;
      ninth.send({ type: "auth", token: accessToken });
      // Refused only after the user's sockets on both processes answered a liveness ping (~3 s: hub.ts).
      expect(await ninth.nextFrame(10_000)).toMatchObject({ type: "error", code: "TOO_MANY_SESSIONS" });
      expect((await ninth.closed).code).toBe(CLOSE.TOO_MANY_SESSIONS);
    }
    // Closing one on process A frees a slot for process B (once A has recorded the release).
    mine[0]!.close();
    await mine[0]!.closed;
    let admitted: TestSocket | undefined;
    for (let attempt = 0; attempt < 50 && !admitted; attempt++) {
      const again = openSocket(wsUrl(1));
      sockets.push(again);
      await again.opened;
      again.send({ type: "auth", token: accessToken });
      const first = await again.nextFrame(10_000);
      if (first.type === "hello") admitted = again;
      else await Bun.sleep(20);
    }
    expect(admitted).toBeDefined();
  });

  test("HTTP rate-limit buckets are shared: a client that used up its burst on one process is limited on the other", async () => {
    // Burst 50, refill 20/s. Requests go in concurrent volleys, not one by one: on a loaded machine
    // sequential requests can be slower than the refill and never empty a bucket. A client address
    // of our own (loopback is a trusted proxy by default) keeps other runs' buckets apart.
    const client = `2001:db8::${Math.floor(Math.random() * 0xffff).toString(16)}:${process.pid.toString(16)}`;
    const volley = (url: string, n: number) => Promise.all(Array.from({ length: n }, () => fetch(`${url}/health`, { headers: { "x-forwarded-for": client } }).then((r) => r.status)));
    // Process A: volleys until it refuses (bounded), so the shared bucket is empty.
    let onA: number[] = [];
    for (let i = 0; i < 5 && !onA.includes(429); i++) onA = await volley(urls[0]!, 80);
    expect(onA).toContain(429);
    // Process B at once: 30 requests are well within its own burst of 50, so with per-process
    // buckets all would pass; with the shared bucket (empty but for ~1.5 s of refill) some are refused.
    const onB = await volley(urls[1]!, 30);
    expect(onB).toContain(429);
    expect(onB.every((s) => s === 200 || s === 429)).toBe(true);
  });

  test("SIGTERM with open sockets: jobs, activity badges and the hub stop before the database closes; exit 0", async () => {
    const user = await createUser(ctx);
    const { accessToken } = await signIn(ctx, user);
    const socket = await connectWithToken(`${urls[1]!.replace("http", "ws")}/ws`, accessToken);
    sockets.push(socket);
    const last = processes[1]!;
    const code = await last.stop(); // SIGKILL after 10 s would give a non-zero code
    expect(code).toBe(0);
    expect((await socket.closed).code).toBe(CLOSE.GOING_AWAY);
    expect(last.output()).toMatch(/"msg":"server\.stopping"/);
  });
});
