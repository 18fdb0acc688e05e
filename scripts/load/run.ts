/**
 * The load harness (issue 19 §1, scripts/load/README.md): the real server (`bun src/main.ts`, as
 * `bun run serve` starts it) on a fresh database, N seeded users ramped up in steps, simulated
 * by client.ts in separate processes, and per step: p50/p95/p99 per action, errors (5xx share),
 * server CPU and RSS, database CPU, the harness's own CPU share, and the verdicts.
 *
 *   bun scripts/load/run.ts [--users 200] [--step 100] [--step-seconds 60] [--think 5]
 *                           [--workers 1] [--db pglite|postgres] [--pg-url postgres://postgres@127.0.0.1:5432/postgres]
 *                           [--join-seconds 10] [--seed 19] [--json out.json] [--smoke]
 *
 *   --smoke   N = 50 in one step of 30 s (the CI guard, test/scripts/load.test.ts)
 *   --db postgres  creates a throwaway database on --pg-url's server and drops it at the end.
 *
 * Healthy, per step: Mattermost's definition (5xx < 0.025 % of requests, mean request < 100 ms,
 * p99 < 2 s, over every HTTP request of the step) and ours (p95 of every request < 100 ms).
 * Everything it starts runs in its own process group and is stopped at the end (or on Ctrl-C);
 * the data directory and the database are removed.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createServer } from "node:net";
import { LOAD_PASSWORD, seed, seedSessions, type Topology } from "./seed.ts";
import { cpuSeconds, emptyStats, merge, quantile, rssBytes, type ActionStats } from "./stats.ts";
import type { Plan, StepResult } from "./client.ts";

const ROOT = resolve(import.meta.dir, "../..");
const argv = process.argv.slice(2);
const has = (name: string) => argv.includes(`--${name}`);
const opt = (name: string, fallback: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : fallback;
};
const SMOKE = has("smoke");
const USERS = Number(opt("users", SMOKE ? "50" : "200"));
const STEP = Number(opt("step", SMOKE ? "50" : "100"));
const STEP_SECONDS = Number(opt("step-seconds", SMOKE ? "20" : "60"));
const THINK_SECONDS = Number(opt("think", SMOKE ? "2" : "5"));
const WORKERS = Math.max(1, Number(opt("workers", "1")));
const DB = opt("db", "pglite") as "pglite" | "postgres";
const PG_URL = opt("pg-url", "postgres://postgres@127.0.0.1:5432/postgres");
const JOIN_SECONDS = Number(opt("join-seconds", String(Math.min(10, STEP_SECONDS / 3))));
const SEED = Number(opt("seed", "19"));
const JSON_OUT = opt("json", "");
const LOGIN_SHARE = Number(opt("login-share", "0.1"));
if (![USERS, STEP, STEP_SECONDS, THINK_SECONDS].every((x) => Number.isFinite(x) && x > 0) || (DB !== "pglite" && DB !== "postgres")) {
  console.error("usage: bun scripts/load/run.ts [--users N] [--step N] [--step-seconds S] [--think S] [--workers K] [--db pglite|postgres] [--pg-url URL] [--smoke]");
  process.exit(2);
}
const stepsN: number[] = [];
for (let n = Math.min(STEP, USERS); ; n = Math.min(USERS, n + STEP)) {
  stepsN.push(n);
  if (n >= USERS) break;
}

const children: ChildProcess[] = [];
const cleanups: (() => Promise<void> | void)[] = [];
let cleaned = false;
async function cleanup(): Promise<void> {
  if (cleaned) return;
  cleaned = true;
  for (const child of children) await stopGroup(child);
  for (const c of cleanups.reverse()) await Promise.resolve(c()).catch((e) => console.error(`cleanup: ${e}`));
}
for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => void cleanup().then(() => process.exit(130)));

/** SIGTERM to the child's process group, SIGKILL after 10 s. */
async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {}
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {}
  }, 10_000);
  await exited;
  clearTimeout(timer);
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

async function main(): Promise<void> {
  process.chdir(ROOT); // the server and the fixture resolve ./secrets and ./public alike
  const { ensureClientBuild } = await import("../build.ts");
  await ensureClientBuild(); // the server renders pages from the client build
  const dataDir = mkdtempSync(join(tmpdir(), "hearth-load-"));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const { openDatabase } = await import("../../src/db/open.ts");
  const { migrate } = await import("../../src/db/migrate.ts");
  const { default: postgres } = await import("postgres");
  let databaseUrl: string | undefined;
  let dbName = "";
  const admin = DB === "postgres" ? postgres(PG_URL, { max: 1, onnotice: () => {} }) : null;
  if (admin) {
    dbName = `hearth_load_${process.pid}_${Date.now()}`;
    await admin.unsafe(`create database ${dbName}`);
    cleanups.push(async () => {
      await admin.unsafe(`drop database if exists ${dbName} with (force)`);
      await admin.end();
    });
    const u = new URL(PG_URL);
    u.pathname = `/${dbName}`;
    databaseUrl = u.toString();
  }
  const port = await freePort();
  const serverEnv: Record<string, string> = {
    ...(process.env as Record<string, string>),
    LISTEN_ADDR: `127.0.0.1:${port}`,
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    DATA_DIR: join(dataDir, "data"),
    LOG_LEVEL: "warn",
    NODE_ENV: "development",
    REGISTRATION_MODE: "closed",
  };
  delete serverEnv.DATABASE_URL;
  delete serverEnv.REDIS_URL;
  delete serverEnv.METRICS_ADDR;
  if (databaseUrl) serverEnv.DATABASE_URL = databaseUrl;
  const t0seed = performance.now();
  const database = await openDatabase({ databaseUrl, dataDir: join(dataDir, "data") });
  let topology: Topology;
  let sessions: { access: string; refresh: string }[];
  try {
    await migrate(database.db);
    topology = await seed(database, USERS, SEED);
    sessions = await seedSessions(database, topology, serverEnv);
  } finally {
    await database.close();
  }
  const sizes = topology.communities.map((c) => c.members).sort((a, b) => b - a);
  const channelCount = topology.communities.reduce((a, c) => a + c.channels.length, 0);
  console.log(`seeded ${USERS} users, ${topology.communities.length} communities (members: largest ${sizes.slice(0, 3).join(", ")}, median ${sizes[Math.floor(sizes.length / 2)]}, smallest ${sizes.at(-1)}), ${channelCount} channels in ${((performance.now() - t0seed) / 1000).toFixed(1)} s`);

  // ------------------------------------------------------------------ the server
  const server = spawn("bun", [join(ROOT, "src/main.ts")], { cwd: ROOT, env: serverEnv, detached: true, stdio: ["ignore", "ignore", "pipe"] });
  children.push(server);
  let serverErr = "";
  server.stderr!.on("data", (d) => (serverErr = (serverErr + String(d)).slice(-4000)));
  const readyBy = Date.now() + 120_000;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`server exited: ${serverErr}`);
    if (Date.now() > readyBy) throw new Error(`server not ready in 120 s: ${serverErr}`);
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
    if (ok) break;
    await Bun.sleep(200);
  }
  const serverPid = server.pid!;
  console.log(`server pid ${serverPid} on 127.0.0.1:${port}, ${DB === "postgres" ? `PostgreSQL database ${dbName}` : "embedded PGlite (in the server process)"}`);

  // ------------------------------------------------------------------ the clients
  const stepMs = STEP_SECONDS * 1000;
  const t0 = Date.now() + 3000;
  const workers: { child: ChildProcess; out: Promise<string> }[] = [];
  for (let w = 0; w < WORKERS; w++) {
    const users = topology.users
      .map((u, index) => ({ index, ...u, session: index % Math.round(1 / Math.max(LOGIN_SHARE, 1e-9)) === 0 ? null : sessions[index]!, communities: topology.membership[index]!.map((c) => ({ id: topology.communities[c]!.id, channels: topology.communities[c]!.channels })) }))
      .filter((u) => u.index % WORKERS === w);
    const plan: Plan = { port, serverPid, t0, stepMs, steps: stepsN, joinSpreadMs: JOIN_SECONDS * 1000, thinkMs: THINK_SECONDS * 1000, cover: SMOKE || has("cover"), password: LOAD_PASSWORD, seed: SEED * 1000 + w, users };
    const file = join(dataDir, `plan-${w}.json`);
    writeFileSync(file, JSON.stringify(plan));
    const child = spawn("bun", [join(import.meta.dir, "client.ts"), file], { cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "inherit"] });
    children.push(child);
    let out = "";
    child.stdout!.on("data", (d) => (out += String(d)));
    workers.push({ child, out: new Promise((r) => child.once("exit", () => r(out))) });
  }

  // ------------------------------------------------------------------ sampling at step boundaries
  const pgPids = async (): Promise<number[]> => (admin ? (await admin.unsafe(`select pid from pg_stat_activity where datname = '${dbName}'`)).map((r) => Number(r.pid)) : []);
  type Sample = { server: number; rss: number; db: Map<number, number>; workers: number[]; at: number };
  const sample = async (): Promise<Sample> => ({
    server: cpuSeconds(serverPid),
    rss: rssBytes(serverPid),
    db: new Map((await pgPids()).map((p) => [p, cpuSeconds(p)])),
    workers: workers.map((w) => cpuSeconds(w.child.pid!)),
    at: Date.now(),
  });
  const samples: Sample[] = [];
  await Bun.sleep(Math.max(0, t0 - Date.now()));
  samples.push(await sample());
  const cores = availableParallelism();
  for (let s = 0; s < stepsN.length; s++) {
    await Bun.sleep(Math.max(0, t0 + (s + 1) * stepMs - Date.now()));
    const cur = await sample();
    samples.push(cur);
    const dead = workers.find((w) => w.child.exitCode !== null && w.child.exitCode !== 0);
    if (dead) throw new Error(`a client process exited with code ${dead.child.exitCode}`);
    if (server.exitCode !== null) throw new Error(`the server exited: ${serverErr}`);
    const prev = samples[s]!;
    const secs = (cur.at - prev.at) / 1000;
    const srv = (cur.server - prev.server) / secs;
    const harness = cur.workers.reduce((a, c, i) => a + c - prev.workers[i]!, 0) / secs;
    console.log(`step ${s + 1}/${stepsN.length} N=${stepsN[s]} done: server CPU ${(srv * 100).toFixed(0)} % of a core, RSS ${(cur.rss / 1e6).toFixed(0)} MB, harness ${(harness * 100).toFixed(0)} % of a core`);
  }
  const outputs = await Promise.race([Promise.all(workers.map((w) => w.out)), Bun.sleep(120_000).then(() => null)]);
  if (!outputs) throw new Error("the client processes did not finish within 120 s of the end");
  const results = outputs.map((o) => {
    const line = o.split("\n").find((l) => l.startsWith("RESULT "));
    if (!line) throw new Error(`a client process printed no result: ${o.slice(-500)}`);
    return JSON.parse(line.slice(7)) as StepResult[];
  });

  // ------------------------------------------------------------------ report
  const report = stepsN.map((n, s) => {
    const actions: Record<string, ActionStats> = {};
    const http = emptyStats();
    const wsErrors: Record<string, number> = {};
    let delivered = 0;
    let sent = 0;
    let active = 0;
    for (const r of results) {
      const step = r[s]!;
      for (const [name, st] of Object.entries(step.actions)) merge((actions[name] ??= emptyStats()), st);
      merge(http, step.http);
      for (const [c, k] of Object.entries(step.wsErrors)) wsErrors[c] = (wsErrors[c] ?? 0) + k;
      delivered += step.delivered;
      sent += step.sent;
      active += step.activeUsers;
    }
    const a = samples[s]!;
    const b = samples[s + 1]!;
    const secs = (b.at - a.at) / 1000;
    let dbCpu = 0;
    for (const [pid, c] of b.db) if (Number.isFinite(c)) dbCpu += c - (a.db.get(pid) ?? 0);
    const harnessCpu = b.workers.reduce((x, c, i) => x + c - a.workers[i]!, 0);
    const mean = http.count ? http.sumMs / http.count : NaN;
    const share5xx = http.count ? http.status5xx / http.count : 0;
    const p95 = quantile(http, 0.95);
    const p99 = quantile(http, 0.99);
    const mattermost = share5xx < 0.00025 && mean < 100 && p99 < 2000;
    const ours = mattermost && p95 < 100;
    return {
      users: n,
      activeUsers: active,
      seconds: secs,
      requests: http.count,
      requestsPerSec: http.count / secs,
      meanMs: mean,
      p50: quantile(http, 0.5),
      p95,
      p99,
      errors: http.errors,
      share5xx,
      errorCodes: http.codes,
      wsErrors,
      postsSent: sent,
      deliveries: delivered,
      serverCpuShare: (b.server - a.server) / secs / cores,
      serverRssMB: b.rss / 1e6,
      dbCpuShare: admin ? dbCpu / secs / cores : null,
      harnessCpuShare: harnessCpu / secs / cores,
      mattermostHealthy: mattermost,
      oursHealthy: ours,
      actions: Object.fromEntries(
        Object.entries(actions)
          .sort(([x], [y]) => x.localeCompare(y))
          .map(([name, st]) => [name, { count: st.count, errors: st.errors, p50: quantile(st, 0.5), p95: quantile(st, 0.95), p99: quantile(st, 0.99), meanMs: st.count ? st.sumMs / st.count : NaN }]),
      ),
    };
  });
  const f = (x: number) => (Number.isFinite(x) ? (x < 10 ? x.toFixed(1) : x.toFixed(0)) : "-");
  const pct = (x: number | null) => (x === null ? "n/a" : `${(x * 100).toFixed(1)} %`);
  console.log(`\nload: ${DB}, ${cores} cores, steps of ${STEP_SECONDS} s, think ${THINK_SECONDS} s, ${WORKERS} client process(es); CPU shares are of the whole box`);
  for (const r of report) {
    console.log(`\n== N=${r.users} (${r.activeUsers} joined): ${r.requests} requests (${f(r.requestsPerSec)}/s), mean ${f(r.meanMs)} ms, p50 ${f(r.p50)} p95 ${f(r.p95)} p99 ${f(r.p99)} ms, errors ${r.errors}, 5xx ${(r.share5xx * 100).toFixed(3)} %, posts ${r.postsSent}, deliveries ${r.deliveries}`);
    console.log(`   server CPU ${pct(r.serverCpuShare)}, RSS ${f(r.serverRssMB)} MB | database CPU ${r.dbCpuShare === null ? "in the server process (PGlite)" : pct(r.dbCpuShare)} | harness CPU ${pct(r.harnessCpuShare)}`);
    console.log(`   healthy: Mattermost ${r.mattermostHealthy ? "yes" : "no"}, ours (p95 < 100 ms) ${r.oursHealthy ? "yes" : "no"}`);
    console.log(`   ${"action".padEnd(16)} ${"count".padStart(7)} ${"err".padStart(5)} ${"p50".padStart(7)} ${"p95".padStart(7)} ${"p99".padStart(7)} ms`);
    for (const [name, a] of Object.entries(r.actions)) console.log(`   ${name.padEnd(16)} ${String(a.count).padStart(7)} ${String(a.errors).padStart(5)} ${f(a.p50).padStart(7)} ${f(a.p95).padStart(7)} ${f(a.p99).padStart(7)}`);
    if (r.errors) console.log(`   error codes: ${JSON.stringify(r.errorCodes)}`);
    if (Object.keys(r.wsErrors).length) console.log(`   socket errors: ${JSON.stringify(r.wsErrors)}`);
  }
  const largest = (key: "mattermostHealthy" | "oursHealthy") => {
    let best = 0;
    for (const r of report) {
      if (!r[key]) break;
      best = r.users;
    }
    return best;
  };
  console.log(`\nlargest healthy N: ${largest("mattermostHealthy")} by Mattermost's definition, ${largest("oursHealthy")} by ours (of ${USERS} tried)`);
  if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify({ db: DB, cores, stepSeconds: STEP_SECONDS, thinkSeconds: THINK_SECONDS, workers: WORKERS, report, largestHealthy: { mattermost: largest("mattermostHealthy"), ours: largest("oursHealthy") } }, null, 2));
}

let code = 0;
try {
  await main();
} catch (error) {
  console.error(`load: ${error instanceof Error ? error.stack : String(error)}`);
  code = 1;
}
await cleanup();
process.exit(code);
