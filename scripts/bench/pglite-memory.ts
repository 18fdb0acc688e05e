/**
 * RSS of the embedded-database path after 20k inserts (1 KiB bytea rows, one per statement, as a
 * chat server writes them), with Hearth's periodic Bun.gc(false) (the server's setting) and, for
 * comparison, without it. Each variant runs in its own child process so RSS is not shared.
 *
 *   bun scripts/bench/pglite-memory.ts [--rows 20000]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const rowsArg = process.argv.indexOf("--rows");
const ROWS = rowsArg > 0 ? Number(process.argv[rowsArg + 1]) : 20_000;

if (process.env.HEARTH_BENCH_CHILD) {
  const { openPglite } = await import("../../src/db/open.ts");
  const { migrate } = await import("../../src/db/migrate.ts");
  const { sql } = await import("kysely");
  const dir = process.env.HEARTH_BENCH_CHILD;
  let database: { db: import("kysely").Kysely<any>; close(): Promise<void> }; // eslint-disable-line @typescript-eslint/no-explicit-any
  if (process.env.HEARTH_BENCH_NO_GC) {
    // Baseline: the same engine through Kysely without Hearth's GC plugin and timer.
    const { PGlite } = await import("@electric-sql/pglite");
    const { Kysely, PGliteDialect } = await import("kysely");
    const pglite = await PGlite.create(join(dir, "db"));
    const db = new Kysely({ dialect: new PGliteDialect({ pglite }) });
    database = { db, close: () => db.destroy() };
  } else {
    database = await openPglite(dir);
  }
  if (process.env.HEARTH_BENCH_PREPARE) {
    await migrate(database.db);
    await database.close();
    process.exit(0);
  }
  await migrate(database.db);
  await sql`create table bench_rows (id bigint generated always as identity primary key, room int not null, body bytea not null)`.execute(database.db);
  const body = new Uint8Array(1024).fill(7);
  const rssAfterOpen = process.memoryUsage().rss;
  let peak = rssAfterOpen;
  const t0 = performance.now();
  for (let i = 0; i < ROWS; i++) {
    await sql`insert into bench_rows (room, body) values (${i % 50}, ${body})`.execute(database.db);
    if (i % 1000 === 0) peak = Math.max(peak, process.memoryUsage().rss);
  }
  const seconds = (performance.now() - t0) / 1000;
  const rssEnd = process.memoryUsage().rss;
  await database.close();
  console.log(JSON.stringify({ rssAfterOpenMB: rssAfterOpen / 1e6, peakMB: peak / 1e6, rssEndMB: rssEnd / 1e6, insertsPerSec: ROWS / seconds }));
  process.exit(0);
}

async function run(label: string, env: Record<string, string>, script: string[], reopen = false) {
  const dir = mkdtempSync(join(tmpdir(), "hearth-bench-mem-"));
  try {
    if (reopen) {
      // First process initialises the directory; the measured one reopens it (a server's restart).
      const prep = Bun.spawn(script, { env: { ...process.env, HEARTH_BENCH_CHILD: dir, HEARTH_BENCH_PREPARE: "1" }, stdout: "ignore", stderr: "inherit" });
      await prep.exited;
    }
    const p = Bun.spawn(script, { env: { ...process.env, ...env, HEARTH_BENCH_CHILD: dir }, stdout: "pipe", stderr: "inherit" });
    const out = await new Response(p.stdout).text();
    await p.exited;
    const r = JSON.parse(out.trim().split("\n").at(-1)!);
    console.log(`${label.padEnd(34)} RSS after open ${r.rssAfterOpenMB.toFixed(0)} MB, peak ${r.peakMB.toFixed(0)} MB, after ${ROWS} inserts ${r.rssEndMB.toFixed(0)} MB, ${r.insertsPerSec.toFixed(0)} inserts/s`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const cmd = ["bun", import.meta.path, "--rows", String(ROWS)];
await run("fresh dir, Hearth (GC every 500 q)", {}, cmd);
await run("reopened dir, Hearth (GC every 500 q)", {}, cmd, true);
await run("reopened dir, no GC (baseline)", { HEARTH_BENCH_NO_GC: "1" }, cmd, true);
