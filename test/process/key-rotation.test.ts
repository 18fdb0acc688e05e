/**
 * JWT key rotation as an operator does it (docs/operations.md "Rotating secrets"): a real server
 * process on a DATA_DIR with key pair A; a user signs in (API client and browser); the server is
 * stopped; scripts/generate-keys.sh --force writes key pair B over A; the server starts again.
 * Everyone is signed out: the old access token is rejected, refresh is refused with
 * SESSION_KEY_ROTATED (and the session is gone), the browser is sent to the sign-in page, and
 * signing in again works.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT, spawnHearth } from "../helpers/process.ts";
import { createEmptyPostgresDatabase } from "../helpers/db.ts";

const dataDir = mkdtempSync(join(tmpdir(), "hearth-rotation-"));
const keysDir = join(dataDir, "keys");
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

// On PostgreSQL runs (TEST_DATABASE_URL) both processes use one fresh database; else embedded PGlite.
const pg = await createEmptyPostgresDatabase();
afterAll(() => pg?.drop());

const SETUP_TOKEN = "rotation-test-setup-token-0123456789";
const ENV = {
  ...(pg ? { DATABASE_URL: pg.url } : {}),
  LISTEN_ADDR: "127.0.0.1:0",
  LOG_LEVEL: "info",
  DATA_DIR: dataDir,
  SETUP_TOKEN,
  JWT_PRIVATE_KEY_PATH: join(keysDir, "jwt_private.pem"),
  JWT_PUBLIC_KEY_PATH: join(keysDir, "jwt_public.pem"),
};
const PASSWORD = "rotation test passphrase 1";

function generateKeys(force: boolean): void {
  const run = Bun.spawnSync(["bash", join(REPO_ROOT, "scripts/generate-keys.sh"), "--out-dir", keysDir, ...(force ? ["--force"] : [])]);
  if (run.exitCode !== 0) throw new Error(`generate-keys.sh failed: ${run.stderr.toString()}`);
}

async function call(url: string, init: RequestInit = {}): Promise<{ status: number; body: any; res: Response }> {
  const res = await fetch(url, { redirect: "manual", signal: AbortSignal.timeout(15_000), ...init });
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  return { status: res.status, body, res };
}
const postJson = (url: string, body: unknown) => call(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
const cookiesOf = (res: Response) =>
  res.headers
    .getSetCookie()
    .map((c) => c.split(";")[0]!)
    .filter((c) => !c.endsWith("="))
    .join("; ");

test("after a restart on a new key pair, every session is refused and everyone signs in again", async () => {
  generateKeys(false);
  const keyA = readFileSync(join(keysDir, "jwt_private.pem"), "utf8");

  let api: { access: string; refresh: string };
  let browserCookies: string;
  const first = spawnHearth({ env: ENV });
  try {
    const url = await first.ready();
    const reg = await postJson(`${url}/api/auth/register`, { username: "rotator", email: "rotator@example.test", password: PASSWORD, setup_token: SETUP_TOKEN });
    expect(reg.status).toBe(201);
    api = { access: reg.body.access_token, refresh: reg.body.refresh_token };
    expect((await call(`${url}/api/account/me`, { headers: { authorization: `Bearer ${api.access}` } })).status).toBe(200);
    // A refresh works while the key is unchanged (and gives the token we keep).
    const refreshed = await postJson(`${url}/api/auth/refresh`, { refresh_token: api.refresh });
    expect(refreshed.status).toBe(200);
    api = { access: refreshed.body.access_token, refresh: refreshed.body.refresh_token };
    const page = await call(`${url}/login`, {
      method: "POST",
      headers: { origin: url, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ username: "rotator", password: PASSWORD, next: "/settings/security" }).toString(),
    });
    expect(page.status).toBe(303);
    browserCookies = cookiesOf(page.res);
    expect((await call(`${url}/settings/security`, { headers: { cookie: browserCookies } })).status).toBe(200);
  } finally {
    const code = await first.stop();
    if (code !== 0) console.log(first.output());
    expect(code).toBe(0);
  }

  generateKeys(true);
  expect(readFileSync(join(keysDir, "jwt_private.pem"), "utf8")).not.toBe(keyA);

  const second = spawnHearth({ env: ENV });
  try {
    const url = await second.ready();
    const old = await call(`${url}/api/account/me`, { headers: { authorization: `Bearer ${api.access}` } });
    expect(old.status).toBe(401);
    expect(old.body.error.code).toBe("TOKEN_INVALID");

    const refused = await postJson(`${url}/api/auth/refresh`, { refresh_token: api.refresh });
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe("SESSION_KEY_ROTATED");
    // The session was deleted: the same token is now unknown.
    expect((await postJson(`${url}/api/auth/refresh`, { refresh_token: api.refresh })).body.error.code).toBe("REFRESH_TOKEN_INVALID");

    // The browser's next page load goes to the sign-in page.
    const page = await call(`${url}/settings/security`, { headers: { cookie: browserCookies } });
    expect(page.status).toBe(303);
    expect(page.res.headers.get("location")).toBe("/login?next=%2Fsettings%2Fsecurity");

    const again = await postJson(`${url}/api/auth/login`, { username: "rotator", password: PASSWORD });
    expect(again.status).toBe(200);
    expect((await call(`${url}/api/account/me`, { headers: { authorization: `Bearer ${again.body.access_token}` } })).status).toBe(200);
    expect(second.output()).not.toContain('"level":"error"');
  } finally {
    const code = await second.stop();
    if (code !== 0) console.log(second.output());
    expect(code).toBe(0);
  }
}, 180_000);
