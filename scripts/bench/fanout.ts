/**
 * WebSocket fan-out (issue 6 "Measure"): raw Bun pub/sub vs the hub's publish path, same run,
 * same client process, same machine.
 *
 *   raw  Bun.serve; a sender's frame is server.publish()ed verbatim to a topic.
 *   hub  the real app (createApp + Hub, PGlite): receivers authenticate with first-frame tokens
 *        and follow a channel through the real `subscribe` frame and permission hook; the sender's
 *        frame is JSON-parsed and handed to hub.publish(channel:<id>, event) — the call a service
 *        makes after COMMIT (event validation, one serialisation, fan-out, Bun topic publish).
 *
 *   full the whole messaging stack: the sender is an authenticated member socket sending real
 *        `message:send` frames (1 KiB ciphertext); each goes through frame validation, access
 *        check (accessChannel: channel, community, membership, channel facts), the channel rules,
 *        the self-committing statement that bumps the channel's seq and inserts the message
 *        (several per statement when they queue: group commit, send-batcher.ts), then
 *        hub.publish(message:new) to the 200 receivers, who are real community
 *        members subscribed through the real permission hook. Run it on PostgreSQL
 *        (DATABASE_URL) for the figures; after the run, p50/p99 of the history endpoint
 *        (GET /api/channels/{id}/messages?limit=50, JSON, 200 sequential requests).
 *
 * For each: idle memory per socket (RSS delta / N after a forced GC, N sockets authenticated and
 * subscribed), p50/p99 send-to-receive latency at a fixed publish rate, deliveries/s at
 * saturation (window of 25 messages in flight) and the server's CPU per delivery. The server runs
 * in a child process so the client's work does not count against it.
 *
 * Memory per idle socket is printed three ways: RSS delta / N from the baseline (the issue's
 * definition, as in reference/stack-spike.md), the marginal RSS of the second half of the
 * sockets, and the JS heap delta / N. With --warm the baseline is taken after every socket
 * connected and closed once. RSS includes what the 2,000 authentications leave behind (JSC heap
 * capacity is not returned to the OS at once); the JS heap figure is the stable one. With PGlite
 * its ~440 MB arena makes the hub's RSS deltas meaningless: use DATABASE_URL for memory. The runs alternate raw/hub and the
 * medians are reported: this box is shared and single runs are noisy.
 *
 *   bun scripts/bench/fanout.ts [--runs 3] [--warm] [--receivers 200] [--idle 2000] [--rate 1000] [--seconds 4] [--payload 1024] [--modes raw,hub,full]
 *   (DATABASE_URL=postgres://… runs the hub on PostgreSQL instead of in-memory PGlite;
 *    BENCH_CPU_PROF_DIR=dir makes each server write a markdown CPU profile into dir when stopped)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const RECEIVERS = arg("receivers", 200);
const IDLE = Math.max(arg("idle", 2000), RECEIVERS);
const RATE = arg("rate", 1000);
const SECONDS = arg("seconds", 4);
const PAYLOAD = arg("payload", 1024);
const RUNS = arg("runs", 3);
const WARM = process.argv.includes("--warm");
const WINDOW = 25;
const MODES = (process.argv.includes("--modes") ? process.argv[process.argv.indexOf("--modes") + 1]! : "raw,hub,full").split(",") as Mode[];
type Mode = "raw" | "hub" | "full";
const CHANNEL_ID = "0195f0a0-0000-7000-8000-000000000001";
const IDLE_CHANNEL_ID = "0195f0a0-0000-7000-8000-000000000002";

/** Run by the bench server when the parent stops it (SIGTERM). */
const cleanups: (() => Promise<void>)[] = [];

type Ready = { port: number; tokens?: string[]; senderToken?: string };
type Stats = { rss: number; heap: number; cpuUserUs: number; cpuSystemUs: number; sockets: number };

// ====================================================================== server side (child)

async function serveRaw(): Promise<void> {
  let open = 0;
  type Data = { sender: boolean; receiver: boolean };
  const server: Bun.Server<Data> = Bun.serve<Data>({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req, srv): Response | undefined {
      const url = new URL(req.url);
      if (url.pathname === "/stats") return Response.json(stats(open));
      if (srv.upgrade(req, { data: { sender: url.pathname === "/send", receiver: url.searchParams.get("r") === "1" } })) return undefined;
      return new Response("no", { status: 400 });
    },
    websocket: {
      open(ws) {
        if (ws.data.sender) return;
        open++;
        // Receivers follow the bench topic, the rest an idle one (as in the hub run).
        ws.subscribe(ws.data.receiver ? "room" : "idle");
      },
      close(ws) {
        if (!ws.data.sender) open--;
      },
      message(ws, message) {
        if (ws.data.sender) server.publish("room", message);
      },
    },
  });
  process.stdout.write(`READY ${JSON.stringify({ port: server.port! } satisfies Ready)}\n`);
}

function stats(sockets: number): Stats {
  Bun.gc(true);
  const cpu = process.cpuUsage();
  return { rss: process.memoryUsage().rss, heap: process.memoryUsage().heapUsed, cpuUserUs: cpu.user, cpuSystemUs: cpu.system, sockets };
}

async function serveHub(full = false): Promise<void> {
  const { Elysia } = await import("elysia");
  const { PGlite } = await import("@electric-sql/pglite");
  const { createApp } = await import("../../src/app.ts");
  const { loadConfig } = await import("../../src/config.ts");
  const { wrapPglite } = await import("../../src/db/open.ts");
  const { migrate } = await import("../../src/db/migrate.ts");
  const { loadSecrets } = await import("../../src/secrets.ts");
  const { loadAssets } = await import("../../src/http/assets.ts");
  const { silentLogger } = await import("../../src/log.ts");
  const { runInTransaction } = await import("../../src/db/tx.ts");
  const { authKernelOf, createSession } = await import("../../src/features/auth/index.ts");
  const { Hub } = await import("../../src/ws/hub.ts");
  const { channelTopic } = await import("../../src/ws/topics.ts");
  const dataDir = mkdtempSync(join(tmpdir(), "hearth-bench-fanout-"));
  cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
  process.on("SIGTERM", () => {
    setTimeout(() => process.exit(1), 10_000); // a cleanup stuck behind queued queries must not keep the server alive
    void Promise.all(cleanups.map((c) => c().catch(() => {}))).then(() => process.exit(0));
  });
  const config = loadConfig({ DATA_DIR: dataDir, NODE_ENV: "test", LOG_LEVEL: "error", STATIC_FILES_PATH: join(import.meta.dir, "../../public") });
  const { openPostgres } = await import("../../src/db/open.ts");
  const pgUrl = process.env.DATABASE_URL?.trim();
  const database = pgUrl ? await freshPostgres(pgUrl, openPostgres) : wrapPglite(await PGlite.create());
  await migrate(database.db);
  const secrets = loadSecrets(config, silentLogger);
  const hub = new Hub({ log: silentLogger, version: config.version, frameRate: { burst: 1e9, perSec: 1e9 } });
  await hub.start();
  if (!full) hub.setAuthorizeSubscribe(() => true); // hub mode: the hub's own cost only
  const unlimited = { general: { ratePerSec: 1e9, burst: 1e9 }, auth: { ratePerSec: 1e9, burst: 1e9 } };
  const deps = { config, database, log: silentLogger, secrets, events: hub, hub, assets: loadAssets(config.staticDir), rateLimits: unlimited };
  const topic = channelTopic(CHANNEL_ID);
  const app = createApp(deps) // installs messaging on the hub (real subscribe check, message:send)
    .get("/stats", () => stats(hub.localSocketCount))
    .use(
      new Elysia().ws("/bench-send", {
        // Stands in for message:send until it exists: parse the client's frame, publish the event.
        message(_ws, message) {
          const frame = message as { id: number; pad: string };
          hub.publish(topic, { type: "bench:message", id: frame.id, pad: frame.pad });
        },
      }),
    );
  // After createApp (which installs the real permission hooks): the bench channel does not exist
  // in the database, and the permission check's own cost belongs to the message:send measurement.
  hub.setAuthorizeSubscribe(() => true);
  // One user per socket (the cap is 8 per user), real sessions and access tokens.
  const kernel = authKernelOf(deps);
  const tokens: string[] = [];
  const userIds: string[] = [];
  let senderToken = "";
  await runInTransaction({ db: database.db, events: hub }, async (tx) => {
    for (let i = 0; i <= IDLE; i++) {
      const id = Bun.randomUUIDv7();
      userIds.push(id);
      await tx.insertInto("users").values({ id, username: `bench${i}`, email: `bench${i}@example.test`, password_hash: null, display_name: `Bench ${i}`, is_owner: false, is_admin: false, admin_powers: [] }).execute();
      const token = (await createSession(tx, kernel, id, { ip: "127.0.0.1", userAgent: "bench" })).accessToken;
      if (i === IDLE) senderToken = token; // the extra user sends
      else tokens.push(token);
    }
    // One community: every user a member; the bench channel and the idle channel are public text
    // channels of it, so the real permission hook admits every receiver.
    const communityId = Bun.randomUUIDv7();
    const groupId = Bun.randomUUIDv7();
    const owner = userIds[IDLE]!;
    await tx.insertInto("communities").values({ id: communityId, name: "Bench", owner_id: owner } as never).execute();
    for (let i = 0; i < userIds.length; i += 500) {
      await tx.insertInto("community_members").values(userIds.slice(i, i + 500).map((u) => ({ community_id: communityId, user_id: u, role: u === owner ? "owner" : "member" })) as never).execute();
    }
    await tx.insertInto("groups").values({ id: groupId, community_id: communityId, name: "Bench" } as never).execute();
    for (const [id, name] of [[CHANNEL_ID, "bench"], [IDLE_CHANNEL_ID, "idle"]] as const) {
      await tx.insertInto("channels").values({ id, kind: "text", community_id: communityId, group_id: groupId, name, topic: null, created_by: owner }).execute();
    }
    // The sender's E2EE device: message:send only accepts a registered device of the sender.
    // (Public keys are opaque to the send path; zero bytes of the right lengths will do here.)
    const key = new Uint8Array(32);
    await tx.insertInto("key_devices").values({ user_id: owner, device_id: "bench", signing_key: key, identity_key: key, signed_prekey_id: 1, signed_prekey: key, signed_prekey_signature: new Uint8Array(64), signed_prekey_updated_at: new Date(), created_at: new Date() }).execute();
  });
  app.listen({ hostname: "127.0.0.1", port: 0 });
  const file = join(dataDir, "tokens.json");
  await Bun.write(file, JSON.stringify(tokens));
  process.stdout.write(`READY ${JSON.stringify({ port: app.server!.port as number, tokens: [file], senderToken } satisfies Ready)}\n`);
}

/** A throwaway database on the server at `url`, dropped when the bench server exits. */
async function freshPostgres(url: string, openPostgres: (url: string) => Promise<import("../../src/db/open.ts").Database>) {
  const { default: postgres } = await import("postgres");
  const name = `hearth_bench_${process.pid}`;
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const target = new URL(url);
  target.pathname = `/${name}`;
  const database = await openPostgres(target.toString());
  const drop = async () => {
    await database.close().catch(() => {});
    const again = postgres(url, { max: 1, onnotice: () => {} });
    await again.unsafe(`drop database if exists ${name} with (force)`).catch(() => {});
    await again.end();
  };
  cleanups.push(drop);
  return database;
}

// ====================================================================== client side (parent)

type Server = { mode: Mode; port: number; tokens: string[]; senderToken: string; stop(): void };

async function startServer(mode: Mode): Promise<Server> {
  // BENCH_CPU_PROF_DIR=/some/dir: the server writes a CPU profile (markdown) there when stopped.
  const prof = process.env.BENCH_CPU_PROF_DIR ? ["--cpu-prof-md", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR}`] : [];
  const proc = Bun.spawn(["bun", ...prof, import.meta.path, "--serve", mode, "--receivers", String(RECEIVERS), "--idle", String(IDLE)], { stdout: "pipe", stderr: "inherit" });
  const reader = proc.stdout.getReader();
  let out = "";
  const deadline = Date.now() + 120_000;
  while (!out.includes("\n") && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${mode} server exited: ${out}`);
    out += new TextDecoder().decode(value);
  }
  const ready = JSON.parse(out.slice(out.indexOf("READY ") + 6, out.indexOf("\n"))) as Ready;
  const tokens = ready.tokens ? ((await Bun.file(ready.tokens[0]!).json()) as string[]) : [];
  return { mode, port: ready.port, tokens, senderToken: ready.senderToken ?? "", stop: () => proc.kill() };
}

const getStats = async (s: Server) => (await (await fetch(`http://127.0.0.1:${s.port}/stats`)).json()) as Stats;

/** Connects N sockets; hub sockets authenticate and subscribe (receivers to the bench channel). */
async function connectAll(s: Server, n: number, offset: number, onMessage: (index: number, data: string) => void): Promise<WebSocket[]> {
  const sockets: WebSocket[] = new Array(n);
  const BATCH = 100;
  for (let start = 0; start < n; start += BATCH) {
    await Promise.all(
      Array.from({ length: Math.min(BATCH, n - start) }, (_, k) => {
        const i = offset + start + k;
        return new Promise<void>((resolve, reject) => {
          const ws = new WebSocket(`ws://127.0.0.1:${s.port}/ws?r=${i < RECEIVERS ? 1 : 0}`);
          sockets[i - offset] = ws;
          const timer = setTimeout(() => reject(new Error(`socket ${i} not ready`)), 30_000);
          let ready = s.mode === "raw";
          ws.onopen = () => {
            if (s.mode === "raw") {
              clearTimeout(timer);
              resolve();
            } else ws.send(JSON.stringify({ type: "auth", token: s.tokens[i] }));
          };
          ws.onmessage = (event) => {
            const data = String(event.data);
            if (ready) return onMessage(i, data);
            if (data.startsWith('{"type":"hello"')) ws.send(JSON.stringify({ type: "subscribe", channelIds: [i < RECEIVERS ? CHANNEL_ID : IDLE_CHANNEL_ID] }));
            else if (data.startsWith('{"type":"subscribed"')) {
              ready = true;
              clearTimeout(timer);
              resolve();
            } else if (data.startsWith('{"type":"error"')) reject(new Error(`socket ${i}: ${data}`));
            // Anything else before `subscribed` (presence:changed of the community…) is not ours.
          };
          ws.onerror = () => reject(new Error(`socket ${i} error`));
        });
      }),
    );
  }
  return sockets;
}

function percentile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

type RunResult = { historyP50: number; historyP99: number; perSocketKiB: number; perSocketAllKiB: number; heapPerSocketKiB: number; rssBaseMB: number; rssHalfMB: number; rssMB: number; p50: number; p99: number; fixedDeliveries: number; satDeliveries: number; satP50: number; serverCpuUsPerDelivery: number };

async function run_(mode: Mode): Promise<RunResult> {
  const server = await startServer(mode);
  try {
    if (WARM) {
      // Connect and close every socket once, so one-time growth (JIT, allocator and connection
      // pools, the first authentications) is already in the baseline. Off by default: Bun's
      // allocator then reuses the freed socket memory and raw RSS/socket reads ~0.5 KiB.
      for (const ws of await connectAll(server, IDLE, 0, () => {})) ws.close();
      await waitForAsync(async () => (await getStats(server)).sockets === 0, 30_000);
    }
    const base = await getStats(server);
    const MAX = 2_000_000;
    const sentAt = new Float64Array(MAX);
    const receivedCount = new Uint16Array(MAX);
    // Preallocated: pushing millions of numbers into a JS array makes the client GC mid-run.
    const latencies = new Float64Array(8_000_000);
    let deliveries = 0;
    let completed = 0;
    let onComplete: () => void = () => {};
    // full: the bench number travels in the client id's last 12 hex digits.
    const idOf =
      mode === "full"
        ? (data: string) => {
            const at = data.indexOf('"clientId":"') + 12 + 24;
            return Number.parseInt(data.slice(at, at + 12), 16);
          }
        : (data: string) => {
            const at = data.indexOf('"id":') + 5;
            return Number.parseInt(data.slice(at, at + 12), 10);
          };
    const benchPrefix = mode === "full" ? '{"type":"message:new"' : mode === "hub" ? '{"type":"bench:message"' : "";
    let lastOtherFrameAt = 0;
    const onMessage = (index: number, data: string) => {
      if (!data.startsWith(benchPrefix)) {
        lastOtherFrameAt = performance.now(); // presence:changed, channel:activity…
        return;
      }
      if (index >= RECEIVERS) return;
      const id = idOf(data);
      latencies[deliveries++] = performance.now() - sentAt[id]!;
      if (++receivedCount[id]! === RECEIVERS) {
        completed++;
        onComplete();
      }
    };
    const half = Math.floor(IDLE / 2);
    const sockets = await connectAll(server, half, 0, onMessage);
    const afterHalf = await getStats(server);
    sockets.push(...(await connectAll(server, IDLE - half, half, onMessage)));
    const afterIdle = await getStats(server);
    const perSocketKiB = (afterIdle.rss - afterHalf.rss) / (IDLE - half) / 1024;
    const perSocketAllKiB = (afterIdle.rss - base.rss) / IDLE / 1024;
    const heapPerSocketKiB = (afterIdle.heap - base.heap) / IDLE / 1024;

    const sender = new WebSocket(`ws://127.0.0.1:${server.port}/${mode === "raw" ? "send" : mode === "hub" ? "bench-send" : "ws"}`);
    await new Promise((resolve) => (sender.onopen = resolve));
    if (mode === "full") {
      sender.send(JSON.stringify({ type: "auth", token: server.senderToken }));
      await new Promise<void>((resolve) => (sender.onmessage = () => resolve()));
      sender.onmessage = (event) => {
        const data = String(event.data);
        if (data.startsWith('{"type":"error"')) throw new Error(`full: send refused: ${data.slice(0, 300)}`);
      };
    }
    // Let the connect-time traffic settle before measuring: presence batches each second's
    // changes into presence:changed to the whole community (2,000 users × 2,000 sockets).
    const quietFrom = performance.now();
    await waitFor(() => performance.now() - Math.max(lastOtherFrameAt, quietFrom) > 2_000, 120_000);
    const pad = "x".repeat(PAYLOAD);
    const ciphertext = Buffer.from(crypto.getRandomValues(new Uint8Array(PAYLOAD))).toString("base64url");
    let nextId = 0;
    const send = () => {
      const id = nextId++;
      sentAt[id] = performance.now();
      if (mode === "full") {
        const clientId = `00000000-0000-4000-8000-${id.toString(16).padStart(12, "0")}`;
        sender.send(`{"type":"message:send","channelId":"${CHANNEL_ID}","clientId":"${clientId}","scheme":"sk","ciphertext":"${ciphertext}","senderDeviceId":"bench"}`);
      } else sender.send(`{"id":${id},"pad":"${pad}"}`);
    };

    // Warm-up (JIT, buffers): a burst, then the fixed rate proper.
    for (let i = 0; i < 500; i++) send();
    await waitFor(() => completed >= 500, 60_000);
    deliveries = 0;
    const fixedStart = performance.now();
    const fixedTotal = RATE * SECONDS;
    const fixedFirst = nextId;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const due = Math.min(fixedTotal, Math.floor(((performance.now() - fixedStart) * RATE) / 1000));
        while (nextId - fixedFirst < due) send();
        if (nextId - fixedFirst >= fixedTotal) {
          clearInterval(timer);
          resolve();
        }
      }, 1);
    });
    await waitFor(() => completed >= nextId, 120_000); // an unsustainable rate still reports its queueing
    const fixedElapsed = (performance.now() - fixedStart) / 1000;
    const fixedLat = latencies.slice(0, deliveries).sort();
    const fixedDeliveries = deliveries / fixedElapsed;

    // Saturation: keep WINDOW messages in flight (a message completes when all receivers have it).
    deliveries = 0;
    const cpu0 = await getStats(server);
    const satStart = performance.now();
    const satEnd = satStart + SECONDS * 1000;
    await new Promise<void>((resolve) => {
      onComplete = () => {
        if (performance.now() >= satEnd) {
          if (completed >= nextId) resolve();
          return;
        }
        while (nextId - completed < WINDOW) send();
      };
      while (nextId - completed < WINDOW) send();
    });
    const satElapsed = (performance.now() - satStart) / 1000;
    const satDeliveries = deliveries / satElapsed;
    const cpu1 = await getStats(server);
    const satLat = latencies.slice(0, deliveries).sort();
    const serverCpuUs = cpu1.cpuUserUs + cpu1.cpuSystemUs - cpu0.cpuUserUs - cpu0.cpuSystemUs;
    for (let id = 0; id < nextId; id++) if (receivedCount[id] !== RECEIVERS) throw new Error(`${mode}: message ${id} reached ${receivedCount[id]} receivers, expected ${RECEIVERS}`);
    sender.close();
    for (const ws of sockets) ws.close();
    // History page of 50 through HTTP (auth, access check, 3 queries, JSON), sequential.
    let historyP50 = NaN;
    let historyP99 = NaN;
    if (mode === "full") {
      const times = new Float64Array(200);
      for (let i = 0; i < times.length; i++) {
        const t0 = performance.now();
        const res = await fetch(`http://127.0.0.1:${server.port}/api/channels/${CHANNEL_ID}/messages?limit=50`, { headers: { authorization: `Bearer ${server.tokens[0]}` } });
        const body = (await res.json()) as { messages: unknown[] };
        times[i] = performance.now() - t0;
        if (body.messages.length !== 50) throw new Error(`history page: ${body.messages.length} messages`);
      }
      times.sort();
      historyP50 = percentile(times, 0.5);
      historyP99 = percentile(times, 0.99);
    }
    return {
      historyP50,
      historyP99,
      perSocketKiB,
      perSocketAllKiB,
      heapPerSocketKiB,
      rssBaseMB: base.rss / 1e6,
      rssHalfMB: afterHalf.rss / 1e6,
      rssMB: afterIdle.rss / 1e6,
      p50: percentile(fixedLat, 0.5),
      p99: percentile(fixedLat, 0.99),
      fixedDeliveries,
      satDeliveries,
      satP50: percentile(satLat, 0.5),
      serverCpuUsPerDelivery: serverCpuUs / deliveries,
    };
  } finally {
    server.stop();
  }
}

async function waitForAsync(predicate: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error("benchmark stalled");
    await Bun.sleep(50);
  }
}

async function waitFor(predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error("benchmark stalled");
    await Bun.sleep(5);
  }
}

// ====================================================================== main

const serveIndex = process.argv.indexOf("--serve");
if (serveIndex > 0) {
  const mode = process.argv[serveIndex + 1];
  await (mode === "raw" ? serveRaw() : serveHub(mode === "full"));
} else {
  // The hub servers render pages from the client build: build it first (a fresh clone has none).
  const { ensureClientBuild } = await import("../build.ts");
  await ensureClientBuild();
  console.log(`fan-out: ${RECEIVERS} receivers in one topic, ${PAYLOAD} B payload, ${IDLE} sockets connected; fixed rate ${RATE} msg/s and saturation (window ${WINDOW}), ${SECONDS} s each; ${RUNS} runs of ${MODES.join(", ")}; hub/full on ${process.env.DATABASE_URL ? "PostgreSQL" : "PGlite"}`);
  const all: Record<Mode, RunResult[]> = { raw: [], hub: [], full: [] };
  const line = (mode: string, r: RunResult) =>
    `${mode.padEnd(10)} idle RSS/socket ${r.perSocketAllKiB.toFixed(1)} KiB (0->N), ${r.perSocketKiB.toFixed(1)} KiB (N/2->N), JS heap ${r.heapPerSocketKiB.toFixed(1)} KiB (RSS ${r.rssBaseMB.toFixed(0)} -> ${r.rssHalfMB.toFixed(0)} -> ${r.rssMB.toFixed(0)} MB) | ` +
    `@${RATE}/s: ${Math.round(r.fixedDeliveries)} deliveries/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms | ` +
    `saturation: ${Math.round(r.satDeliveries)} deliveries/s (p50 ${r.satP50.toFixed(1)} ms), server ${(1 / r.serverCpuUsPerDelivery).toFixed(2)} M deliveries/CPU-s` +
    (Number.isNaN(r.historyP50) ? "" : ` | history page of 50: p50 ${r.historyP50.toFixed(2)} ms, p99 ${r.historyP99.toFixed(2)} ms`);
  for (let run = 1; run <= RUNS; run++) {
    for (const mode of MODES) {
      const r = await run_(mode);
      all[mode].push(r);
      console.log(line(`${mode} #${run}`, r));
    }
  }
  const median = (rs: RunResult[]): RunResult => {
    const pick = (key: keyof RunResult) => {
      const v = rs.map((r) => r[key]).sort((a, b) => a - b);
      return v[Math.floor(v.length / 2)]!;
    };
    return Object.fromEntries(Object.keys(rs[0]!).map((k) => [k, pick(k as keyof RunResult)])) as RunResult;
  };
  const med = Object.fromEntries(MODES.map((m) => [m, median(all[m])])) as Record<Mode, RunResult>;
  for (const m of MODES) console.log(line(`${m} median`, med[m]));
  const raw = med.raw;
  for (const m of MODES.filter((x) => x !== "raw" && all.raw.length > 0)) {
    const r = med[m];
    console.log(
      `ratios ${m}/raw (medians): saturation throughput ${(r.satDeliveries / raw.satDeliveries).toFixed(3)}, server CPU per delivery ${(r.serverCpuUsPerDelivery / raw.serverCpuUsPerDelivery).toFixed(2)}, ` +
        `p50 @${RATE}/s ${(r.p50 / raw.p50).toFixed(2)}, p99 ${(r.p99 / raw.p99).toFixed(2)}, RSS per idle socket ${(r.perSocketAllKiB / raw.perSocketAllKiB).toFixed(2)}`,
    );
  }
  process.exit(0);
}
