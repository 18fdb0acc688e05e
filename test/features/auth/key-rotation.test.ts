/**
 * Rotating the JWT key pair signs everyone out (seeds/000; issue 10 §10), in-process: a second
 * app on the same database with a new key pair stands for "the server after rotation". The
 * real-process version (stop, scripts/generate-keys.sh --force, start) is
 * test/process/key-rotation.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { decodeProtectedHeader, importPKCS8, SignJWT } from "jose";
import { createTestContext, type TestContext } from "../../helpers/app.ts";
import { createUser, TEST_PASSWORD } from "../../helpers/users.ts";
import { postJson } from "./helpers.ts";


let before: TestContext;
let after: TestContext;
beforeAll(async () => {
  before = await createTestContext({ sleep: async () => {} });
  // Same database, fresh DATA_DIR: new secrets, so a new JWT key pair.
  after = await createTestContext({ database: before.database, sleep: async () => {} });
}, 60_000);
afterAll(async () => {
  await after.hub.stop();
  rmSync(after.dataDir, { recursive: true, force: true });
  await before.close();
});

const me = (c: TestContext, headers: Record<string, string>) => c.request("/api/account/me", { headers });
const cookiesOf = (res: Response) =>
  res.headers
    .getSetCookie()
    .map((c) => c.split(";")[0]!)
    .filter((c) => !c.endsWith("="))
    .join("; ");

async function signInBefore() {
  const user = await createUser(before);
  const r = await postJson(before, "/api/auth/login", { username: user.username, password: TEST_PASSWORD });
  expect(r.status).toBe(200);
  return { user, access: r.body.access_token as string, refresh: r.body.refresh_token as string };
}

/** A browser's sign-in through the page: the session cookies. */
async function browserSignInBefore(): Promise<string> {
  const user = await createUser(before);
  const res = await before.request("/login", { method: "POST", headers: { origin: "http://localhost", "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ username: user.username, password: TEST_PASSWORD }).toString() });
  expect(res.status).toBe(303);
  return cookiesOf(res);
}

describe("sessions are bound to the signing key", () => {
  test("tokens carry the key id; the session row remembers it", async () => {
    const { access } = await signInBefore();
    expect(before.deps.secrets.jwtKeyId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(after.deps.secrets.jwtKeyId).not.toBe(before.deps.secrets.jwtKeyId);
    expect(decodeProtectedHeader(access).kid).toBe(before.deps.secrets.jwtKeyId);
    const sid = JSON.parse(Buffer.from(access.split(".")[1]!, "base64url").toString()).sid as string;
    const row = await before.database.db.selectFrom("sessions").select("key_id").where("id", "=", sid).executeTakeFirstOrThrow();
    expect(row.key_id).toBe(before.deps.secrets.jwtKeyId);
  });

  test("after rotation: the old access token is rejected, refresh is refused with SESSION_KEY_ROTATED and the session is deleted", async () => {
    const { access, refresh } = await signInBefore();
    expect((await me(before, { authorization: `Bearer ${access}` })).status).toBe(200);

    const old = await me(after, { authorization: `Bearer ${access}` });
    expect(old.status).toBe(401);
    expect(((await old.json()) as { error: { code: string } }).error.code).toBe("TOKEN_INVALID");

    const refused = await postJson(after, "/api/auth/refresh", { refresh_token: refresh });
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe("SESSION_KEY_ROTATED");
    const sid = JSON.parse(Buffer.from(access.split(".")[1]!, "base64url").toString()).sid as string;
    expect(await before.database.db.selectFrom("sessions").select("id").where("id", "=", sid).executeTakeFirst()).toBeUndefined();
    // Gone for good: the same token is now simply unknown, on either key.
    expect((await postJson(after, "/api/auth/refresh", { refresh_token: refresh })).body.error.code).toBe("REFRESH_TOKEN_INVALID");
  });

  test("after rotation: a browser with old cookies is sent to sign in, and the cookie refresh says why", async () => {
    const cookies = await browserSignInBefore();
    const page = await after.request("/settings/security", { headers: { cookie: cookies } });
    expect(page.status).toBe(303);
    expect(page.headers.get("location")).toBe("/login?next=%2Fsettings%2Fsecurity");

    const again = await browserSignInBefore();
    const renew = await postJson(after, "/api/auth/refresh", undefined, { cookie: again, origin: "http://localhost" });
    expect(renew.status).toBe(401);
    expect(renew.body.error.code).toBe("SESSION_KEY_ROTATED");
  });

  test("signing in again on the new key works, and that session is refused by the old key", async () => {
    const user = await createUser(after);
    const r = await postJson(after, "/api/auth/login", { username: user.username, password: TEST_PASSWORD });
    expect(r.status).toBe(200);
    expect(decodeProtectedHeader(r.body.access_token).kid).toBe(after.deps.secrets.jwtKeyId);
    expect((await me(after, { authorization: `Bearer ${r.body.access_token}` })).status).toBe(200);
    expect((await postJson(before, "/api/auth/refresh", { refresh_token: r.body.refresh_token })).body.error.code).toBe("SESSION_KEY_ROTATED");
  });

  test("sessions from before key ids existed (key_id null) are treated as another key's", async () => {
    const { access, refresh } = await signInBefore();
    const sid = JSON.parse(Buffer.from(access.split(".")[1]!, "base64url").toString()).sid as string;
    await before.database.db.updateTable("sessions").set({ key_id: null }).where("id", "=", sid).execute();
    expect((await me(before, { authorization: `Bearer ${access}` })).status).toBe(401);
    expect((await postJson(before, "/api/auth/refresh", { refresh_token: refresh })).body.error.code).toBe("SESSION_KEY_ROTATED");
  });

  test("a token signed with the right key but without the current kid is rejected", async () => {
    const { access } = await signInBefore();
    const claims = JSON.parse(Buffer.from(access.split(".")[1]!, "base64url").toString());
    const key = await importPKCS8(before.deps.secrets.jwtPrivatePem, "EdDSA");
    const noKid = await new SignJWT(claims).setProtectedHeader({ alg: "EdDSA", typ: "JWT" }).sign(key);
    const otherKid = await new SignJWT(claims).setProtectedHeader({ alg: "EdDSA", typ: "JWT", kid: after.deps.secrets.jwtKeyId }).sign(key);
    for (const token of [noKid, otherKid]) expect((await me(before, { authorization: `Bearer ${token}` })).status).toBe(401);
    expect((await me(before, { authorization: `Bearer ${access}` })).status).toBe(200);
  });
});

describe("cookie refresh without a body", () => {
  test("renews the session cookies of a same-origin browser; cross-site and cookie-less requests are refused", async () => {
    const cookies = await browserSignInBefore();
    const ok = await before.request("/api/auth/refresh", { method: "POST", headers: { cookie: cookies, origin: "http://localhost" } });
    expect(ok.status).toBe(204);
    const renewed = ok.headers.getSetCookie().map((c) => c.split("=")[0]);
    expect(renewed).toEqual(["hearth_access", "hearth_refresh"]);
    expect((await before.request("/api/auth/refresh", { method: "POST", headers: { cookie: cookies, origin: "https://evil.example" } })).status).toBe(403);
    const none = await before.request("/api/auth/refresh", { method: "POST" });
    expect(none.status).toBe(401);
  });
});
