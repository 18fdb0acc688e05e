/**
 * The message send path without WebSockets: where does a send's time go, and what bounds one
 * channel? Calls the real `sendMessage` (access check, rules, seq + INSERT, COMMIT, activity)
 * against PostgreSQL and reports:
 *
 *   statements   every statement postgres.js sends per send (BEGIN/COMMIT included), by kind
 *   sequential   one sender, one send at a time: latency p50/p99, CPU per send (this process:
 *                JS, Kysely, postgres.js), and the "lock window" — from
 *                sending the statement that takes the channel row lock (the one touching
 *                last_seq) until the send returns (COMMIT done): what other senders of the
 *                channel wait for
 *   one channel  C concurrent senders into ONE channel (C = pool size): messages/s, p50/p99, and
 *                messages per seq statement (group commit, send-batcher.ts)
 *   C channels   C concurrent senders, each into its own channel: messages/s (no shared lock)
 *
 *   DATABASE_URL=postgres://… bun scripts/bench/send-path.ts [--seconds 4] [--concurrency 16] [--count 500]
 *
 * A throwaway database is created on that server and dropped at the end.
 */
import postgres from "postgres";
import { sql } from "kysely";
import type { AppDeps } from "../../src/app.ts";
import { openPostgres, type Database } from "../../src/db/open.ts";
import { migrate } from "../../src/db/migrate.ts";
import { silentLogger } from "../../src/log.ts";
import { sendMessage } from "../../src/features/messages/send.ts";
import { stopActivity } from "../../src/features/messages/realtime.ts";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const SECONDS = arg("seconds", 4);
const CONCURRENCY = arg("concurrency", 16);
const COUNT = arg("count", 500);
const url = process.env.DATABASE_URL?.trim();
if (!url) throw new Error("set DATABASE_URL=postgres://… (the send path's figures are PostgreSQL's)");

const name = `hearth_bench_send_${process.pid}`;
const admin = postgres(url, { max: 1, onnotice: () => {} });
await admin.unsafe(`create database ${name}`);
const target = new URL(url);
target.pathname = `/${name}`;

// Every statement sent, with the time it was sent (performance.now()).
const sent: { sql: string; at: number }[] = [];
let recording = false;
const database: Database = await openPostgres(target.toString(), undefined, 16, (sql) => {
  if (recording) sent.push({ sql, at: performance.now() });
});
try {
  await migrate(database.db);
  const db = database.db;
  // One per sender plus the owner, and at least users[2] and users[3] for the two mentions below
  // (a low --concurrency crashed on an undefined mention).
  const users = Array.from({ length: Math.max(CONCURRENCY + 1, 4) }, () => Bun.randomUUIDv7());
  const communityId = Bun.randomUUIDv7();
  const groupId = Bun.randomUUIDv7();
  const channels = Array.from({ length: CONCURRENCY + 1 }, () => Bun.randomUUIDv7());
  const key = new Uint8Array(32);
  await db.transaction().execute(async (tx) => {
    for (const [i, id] of users.entries()) {
      await tx.insertInto("users").values({ id, username: `send${i}`, email: `send${i}@example.test`, password_hash: null, display_name: `Send ${i}`, is_owner: false, is_admin: false, admin_powers: [] }).execute();
      await tx.insertInto("key_devices").values({ user_id: id, device_id: "d", signing_key: key, identity_key: key, signed_prekey_id: 1, signed_prekey: key, signed_prekey_signature: new Uint8Array(64), signed_prekey_updated_at: new Date(), created_at: new Date() }).execute();
    }
    await tx.insertInto("communities").values({ id: communityId, name: "Send", owner_id: users[0]! } as never).execute();
    await tx.insertInto("community_members").values(users.map((u, i) => ({ community_id: communityId, user_id: u, role: i === 0 ? "owner" : "member" })) as never).execute();
    await tx.insertInto("groups").values({ id: groupId, community_id: communityId, name: "Send" } as never).execute();
    for (const [i, id] of channels.entries()) await tx.insertInto("channels").values({ id, kind: "text", community_id: communityId, group_id: groupId, name: `c${i}`, topic: null, created_by: users[0]! }).execute();
  });

  let published = 0;
  const deps = { database, log: silentLogger, events: { publish: () => void published++ } } as unknown as AppDeps;
  const ciphertext = Buffer.from(crypto.getRandomValues(new Uint8Array(1024))).toString("base64url");
  const sendOne = (userIndex: number, channelId: string, extra: Record<string, unknown> = {}) =>
    sendMessage(deps, { userId: users[userIndex]!, isOwner: false }, channelId, { client_id: crypto.randomUUID(), scheme: "sk", ciphertext, sender_device_id: "d", ...extra });
  const pct = (xs: number[], q: number) => {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  };
  const kindOf = (sql: string) => {
    const s = sql.trim().toLowerCase();
    if (s === "begin" || s === "commit" || s === "rollback") return s.toUpperCase();
    const table = /(?:from|into|update)\s+"?([a-z_]+)"?/.exec(s)?.[1] ?? "?";
    return `${s.split(/\s+/)[0]!.toUpperCase()} ${table}`;
  };

  // Warm-up (prepared statements, JIT).
  for (let i = 0; i < 100; i++) await sendOne(1, channels[0]!);

  // Sequential: statements per send and the lock window.
  const latencies: number[] = [];
  const lockWindows: number[] = [];
  const kinds = new Map<string, number>();
  let statements = 0;
  const seqCpu0 = process.cpuUsage();
  for (let i = 0; i < COUNT; i++) {
    sent.length = 0;
    recording = true;
    const t0 = performance.now();
    await sendOne(1, channels[0]!);
    const t1 = performance.now();
    recording = false;
    latencies.push(t1 - t0);
    statements += sent.length;
    for (const s of sent) kinds.set(kindOf(s.sql), (kinds.get(kindOf(s.sql)) ?? 0) + 1);
    const lock = sent.find((s) => s.sql.includes("last_seq"));
    if (lock) lockWindows.push(t1 - lock.at);
  }
  const seqCpu = process.cpuUsage(seqCpu0);
  // With a reply, a thread root and mentions (the optional lookups).
  const root = (await sendOne(1, channels[0]!)).message;
  sent.length = 0;
  recording = true;
  await sendOne(1, channels[0]!, { reply_to_id: root.id, thread_root_id: root.id, mentions: [users[2], users[3]] });
  recording = false;
  const withLinks = sent.length;

  console.log(`send path on PostgreSQL (${new URL(url).host}), 1 KiB ciphertext, ${users.length} members`);
  console.log(`statements per send: ${(statements / COUNT).toFixed(1)} (${[...kinds].map(([k, n]) => `${k} ×${(n / COUNT).toFixed(1)}`).join(", ")}); with reply + thread + 2 mentions: ${withLinks}`);
  console.log(`sequential (${COUNT} sends): p50 ${pct(latencies, 0.5).toFixed(2)} ms, p99 ${pct(latencies, 0.99).toFixed(2)} ms; lock window p50 ${pct(lockWindows, 0.5).toFixed(2)} ms, p99 ${pct(lockWindows, 0.99).toFixed(2)} ms; this process's CPU ${((seqCpu.user + seqCpu.system) / COUNT).toFixed(0)} µs per send`);

  // What a commit costs now: a one-row write that commits (WAL flush) vs a read, each a round
  // trip. The difference is the WAL flush every send waits for while holding its channel's lock.
  const roundTrips = async (write: boolean) => {
    const t: number[] = [];
    for (let i = 0; i < 300; i++) {
      const s0 = performance.now();
      if (write) await db.updateTable("channels").set({ last_seq: sql`last_seq` }).where("id", "=", channels[CONCURRENCY]!).execute();
      else await db.selectFrom("channels").select("last_seq").where("id", "=", channels[CONCURRENCY]!).executeTakeFirst();
      t.push(performance.now() - s0);
    }
    return t;
  };
  const reads = await roundTrips(false);
  const writes = await roundTrips(true);
  console.log(`round trip: read p50 ${pct(reads, 0.5).toFixed(2)} ms; committing write p50 ${pct(writes, 0.5).toFixed(2)} ms, p99 ${pct(writes, 0.99).toFixed(2)} ms (the WAL flush is the difference)`);

  // Concurrent senders for SECONDS: into one channel, then each into its own.
  const concurrent = async (channelOf: (k: number) => string) => {
    const lat: number[] = [];
    sent.length = 0;
    recording = true;
    const end = performance.now() + SECONDS * 1000;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async (_, k) => {
        while (performance.now() < end) {
          const s = performance.now();
          await sendOne(k + 1, channelOf(k));
          lat.push(performance.now() - s);
        }
      }),
    );
    const elapsed = (performance.now() - t0) / 1000;
    recording = false;
    // Group commit (send-batcher.ts): how many messages each seq statement carried on average.
    const seqStatements = sent.filter((s) => s.sql.includes("last_seq")).length;
    return `${Math.round(lat.length / elapsed)} msg/s, p50 ${pct(lat, 0.5).toFixed(2)} ms, p99 ${pct(lat, 0.99).toFixed(2)} ms; ${(lat.length / Math.max(1, seqStatements)).toFixed(1)} messages per seq statement`;
  };
  const cpu0 = process.cpuUsage();
  console.log(`${CONCURRENCY} senders, one channel: ${await concurrent(() => channels[0]!)}`);
  console.log(`${CONCURRENCY} senders, ${CONCURRENCY} channels: ${await concurrent((k) => channels[k + 1]!)}`);
  const cpu = process.cpuUsage(cpu0);
  console.log(`(this process: ${((cpu.user + cpu.system) / 1e6).toFixed(1)} CPU-s over the two concurrent runs; ${published} events published)`);
  const gaps = await db
    .selectFrom("channels as c")
    .select((eb) => ["c.id", "c.last_seq", eb.selectFrom("messages as m").whereRef("m.channel_id", "=", "c.id").select((e) => e.fn.countAll<number>().as("n")).as("n")])
    .execute();
  for (const g of gaps) if (Number(g.last_seq) !== Number(g.n)) throw new Error(`seq gap in ${g.id}: last_seq ${g.last_seq}, ${g.n} messages`);
  await stopActivity(deps);
} finally {
  await database.close().catch(() => {});
  await admin.unsafe(`drop database if exists ${name} with (force)`).catch(() => {});
  await admin.end();
}
process.exit(0);
