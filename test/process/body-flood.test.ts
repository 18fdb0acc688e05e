/**
 * Issue 10, finding 2, as the review ran it: a real server process, 50 concurrent ~100 MB request
 * bodies from one client (25 with a declared Content-Length, 25 chunked) over routes that parse
 * bodies, with no credentials. The server must refuse them without reading them: its RSS grows by
 * less than 64 MiB, every flood request is refused (401/413, or Bun's own 413 and close for a
 * declared body above every route's budget), and another client's requests in the same window
 * answer 200. The flood is stopped early if RSS grows by 256 MiB (the test has failed by then), so
 * a regression cannot exhaust the machine. Bodies are generated while sent: the client holds none.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnHearth } from "../helpers/process.ts";
import { createEmptyPostgresDatabase } from "../helpers/db.ts";
import { describeFlood, runBodyFlood } from "../helpers/body-flood.ts";

const MIB = 1024 * 1024;
const dataDir = mkdtempSync(join(tmpdir(), "hearth-flood-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

test("50 concurrent 100 MB bodies from one client: RSS grows < 64 MiB, all refused, other requests answer", async () => {
  const postgres = await createEmptyPostgresDatabase();
  const hearth = spawnHearth({ env: { LISTEN_ADDR: "127.0.0.1:0", DATA_DIR: dataDir, LOG_LEVEL: "info", DATABASE_URL: postgres?.url } });
  try {
    const url = await hearth.ready(120_000);
    const report = await runBodyFlood(url, hearth.proc.pid, { requests: 50, bytes: 100 * 1000 * 1000, stopAtGrowthBytes: 256 * MIB });
    console.log(describeFlood(report));
    expect(report.stoppedEarly).toBe(false);
    expect(report.peakBytes - report.baselineBytes).toBeLessThan(64 * MIB);
    for (const outcome of Object.keys(report.outcomes)) {
      expect(outcome).toMatch(/^(401|413) |^no response declared /);
    }
    expect(Object.values(report.outcomes).reduce((a, b) => a + b, 0)).toBe(50);
    expect(report.legitDuringFlood).toBeGreaterThan(0);
    expect(report.legitStatuses.every((status) => status === 200)).toBe(true);
  } finally {
    await hearth.stop();
    await postgres?.drop();
  }
}, 300_000);
