// A run drops its template when it ends; a killed or crashed run cannot, so the next run drops
// what it left, but only databases whose run is gone: several runs share one PostgreSQL and a
// live run's must survive.
import { afterAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { dropStaleTestDatabases, TEST_DATABASE_URL } from "../helpers/db.ts";
import { REPO_ROOT } from "../helpers/process.ts";

if (!TEST_DATABASE_URL) console.log("[skip] stale test databases: needs TEST_DATABASE_URL (PostgreSQL)");

describe.skipIf(!TEST_DATABASE_URL)("dropStaleTestDatabases", () => {
  const live = Bun.spawn(["sleep", "600"]);
  const created: string[] = [];
  const admin = TEST_DATABASE_URL ? postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} }) : undefined;
  afterAll(async () => {
    live.kill();
    for (const name of created) await admin!.unsafe(`drop database if exists ${name} with (force)`);
    await admin?.end();
  });

  test("drops the templates and file databases of dead runs, keeps a live run's", async () => {
    const dead = Bun.spawn(["true"]);
    await dead.exited;
    const tag = Date.now().toString(36);
    const names = {
      deadTemplate: `hearth_tpl_${dead.pid}_${tag}`,
      deadFile: `hearth_t_${dead.pid}_${tag}_abc123`,
      deadEmpty: `hearth_e_${dead.pid}_${tag}_abc123`,
      deadOps: `hearth_ops_backup_${dead.pid}_${Date.now()}`,
      liveTemplate: `hearth_tpl_${live.pid}_${tag}`,
      liveFile: `hearth_t_${live.pid}_${tag}_abc123`,
      notOurs: `hearth_bench_${dead.pid}`,
    };
    for (const name of Object.values(names)) {
      await admin!.unsafe(`create database ${name}`);
      created.push(name);
    }
    const dropped = await dropStaleTestDatabases(TEST_DATABASE_URL!);
    expect(dropped).toEqual(expect.arrayContaining([names.deadTemplate, names.deadFile, names.deadEmpty, names.deadOps]));
    const left = new Set((await admin!<{ datname: string }[]>`select datname from pg_database`).map((r) => r.datname));
    expect(Object.values(names).filter((n) => left.has(n)).sort()).toEqual([names.liveFile, names.liveTemplate, names.notOurs].sort());
  });

  test("a finished run leaves no database of its own behind", async () => {
    // A small real run of one file that uses a database (the preload's hooks included).
    const child = Bun.spawn(["bun", "test", "--timeout", "60000", "test/db/json.test.ts"], { cwd: REPO_ROOT, env: { ...process.env }, stdout: "pipe", stderr: "pipe" });
    const [code, err] = await Promise.all([child.exited, new Response(child.stderr).text()]);
    expect({ code, err: code === 0 ? "" : err }).toEqual({ code: 0, err: "" });
    const left = await admin!<{ datname: string }[]>`select datname from pg_database where datname like ${`hearth\\_%\\_${child.pid}\\_%`}`;
    expect(left.map((r) => r.datname)).toEqual([]);
  });
});
