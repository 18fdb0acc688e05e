/**
 * Lockout survives a real restart: two processes, one after the other, on one DATA_DIR.
 * The progressive delay runs for real here (100–700 ms over the ten failures).
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnHearth } from "../../helpers/process.ts";
import { createEmptyPostgresDatabase } from "../../helpers/db.ts";

const dataDir = mkdtempSync(join(tmpdir(), "hearth-lockout-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

// On PostgreSQL runs (TEST_DATABASE_URL) both processes use one fresh database; else embedded PGlite.
const pg = await createEmptyPostgresDatabase();
afterAll(() => pg?.drop());
const ENV = {
  ...(pg ? { DATABASE_URL: pg.url } : {}), LISTEN_ADDR: "127.0.0.1:0", LOG_LEVEL: "info", DATA_DIR: dataDir, SETUP_TOKEN: "restart-test-setup-token", REGISTRATION_MODE: "invite_only" };
const PASSWORD = "restart test passphrase 1";

/** POST JSON; on the auth rate limit (429) wait Retry-After and try again (bounded). */
async function post(url: string, body: unknown): Promise<{ status: number; body: { error?: { code: string } } & Record<string, unknown> }> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body), signal: AbortSignal.timeout(15_000) });
    if (res.status === 429) {
      await Bun.sleep(Number(res.headers.get("retry-after") ?? 1) * 1000);
      continue;
    }
    return { status: res.status, body: (await res.json()) as never };
  }
  throw new Error("rate limited for too long");
}

test("10 failures lock the account, and the lock is still there after a restart", async () => {
  const first = spawnHearth({ env: ENV });
  try {
    const url = await first.ready();
    expect(first.output()).toContain("setup.waiting_for_owner");
    const reg = await post(`${url}/api/auth/register`, { username: "restarter", email: "restarter@example.test", password: PASSWORD, setup_token: "restart-test-setup-token" });
    expect(reg.status).toBe(201);
    for (let i = 0; i < 9; i++) expect((await post(`${url}/api/auth/login`, { username: "restarter", password: `wrong ${i} password` })).status).toBe(401);
    expect((await post(`${url}/api/auth/login`, { username: "restarter", password: "wrong 10 password" })).status).toBe(423);
  } finally {
    const code = await first.stop();
    if (code !== 0) console.log(first.output());
    expect(code).toBe(0);
  }
  const second = spawnHearth({ env: ENV });
  try {
    const url = await second.ready();
    expect(second.output()).not.toContain("setup.waiting_for_owner");
    const locked = await post(`${url}/api/auth/login`, { username: "restarter", password: PASSWORD });
    expect(locked.status).toBe(423);
    expect(locked.body.error!.code).toBe("ACCOUNT_LOCKED");
  } finally {
    expect(await second.stop()).toBe(0);
  }
}, 120_000);
