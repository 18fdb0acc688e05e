// The load harness's short version (issue 19 §6; scripts/load/README.md): `run.ts --smoke` starts
// the real server on a fresh database, 50 simulated users sign in, open /ws and each do a
// different action of the mix first. The run must complete and clean up, every action must
// appear in the report, messages must be sent and delivered, and no request may answer 5xx.
// Latency is not asserted (a loaded box is slow, not wrong): the figures are printed to the log.
// About 35 s on a quiet 2-core box; the timeout is generous because a shared CI box is not quiet
// (seeding a file-backed PGlite took 130 s at a load average of 20).
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ACTIONS } from "../../scripts/load/client.ts";
import { TEST_DATABASE_URL } from "../helpers/db.ts";

const RUN = resolve(import.meta.dir, "../../scripts/load/run.ts");

type Report = {
  report: { users: number; requests: number; share5xx: number; postsSent: number; deliveries: number; serverCpuShare: number; harnessCpuShare: number; dbCpuShare: number | null; actions: Record<string, { count: number; p95: number }>; errorCodes: Record<string, number> }[];
};

describe("scripts/load/run.ts --smoke", () => {
  test(`a short run on ${TEST_DATABASE_URL ? "PostgreSQL" : "PGlite"} completes, exercises every action, delivers messages, no 5xx`, () => {
    const dir = mkdtempSync(join(tmpdir(), "hearth-load-test-"));
    try {
      const out = join(dir, "report.json");
      const db = TEST_DATABASE_URL ? ["--db", "postgres", "--pg-url", TEST_DATABASE_URL] : [];
      const r = Bun.spawnSync(["bun", RUN, "--smoke", "--json", out, ...db], { stdout: "pipe", stderr: "pipe", env: { ...process.env, DATABASE_URL: "" } });
      const stdout = r.stdout.toString();
      console.log(`[load-smoke] ${stdout.trim().split("\n").join("\n[load-smoke] ")}`);
      expect({ code: r.exitCode, err: r.exitCode === 0 ? "" : r.stderr.toString().slice(-2000) }).toEqual({ code: 0, err: "" });
      const { report } = JSON.parse(readFileSync(out, "utf8")) as Report;
      expect(report.length).toBe(1);
      const step = report[0]!;
      expect(step.users).toBe(50);
      expect(Object.keys(step.actions).sort()).toEqual(expect.arrayContaining([...ACTIONS, "Join", "Delivery", "WsConnect", "Subscribe"].sort()));
      for (const name of ACTIONS) expect({ name, count: step.actions[name]!.count > 0 }).toEqual({ name, count: true });
      expect(step.requests).toBeGreaterThan(0);
      expect(step.postsSent).toBeGreaterThan(0);
      expect(step.deliveries).toBeGreaterThan(0);
      expect(step.share5xx).toBe(0);
      expect(step.harnessCpuShare).toBeGreaterThan(0);
      if (TEST_DATABASE_URL) expect(step.dbCpuShare).not.toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
