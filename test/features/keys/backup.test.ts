// Key backup (opaque versioned blob, compare-and-set) and the server identity for pinning.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ed25519 } from "@noble/curves/ed25519.js";
import { createKeyBackup, createDeviceIdentity, generateRecoveryKey, MessageKeyArchive, restoreKeyBackup, SenderKeyStore } from "../../../src/client/e2ee/index.ts";
import { decodeBase64url, encodeBase64url, encodeKeyBackupBlob, parseKeyBackupBlob } from "../../../src/shared/e2ee/index.ts";
import { fingerprintOf, serverIdentitySignedBytes } from "../../../src/features/keys/index.ts";
import { createApp } from "../../../src/app.ts";
import { createTestContext, type TestContext } from "../../helpers/app.ts";
import { createUser, signIn } from "../../helpers/users.ts";
import { errorCode } from "./helpers.ts";

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(() => ctx.close());

function backupBody(version: number, recoveryKey = generateRecoveryKey(), userId = "u") {
  const device = createDeviceIdentity({ userId, deviceId: "d1", now: Date.now() });
  const blob = createKeyBackup(recoveryKey, { createdAt: Date.now(), device, sessions: [], senderKeys: new SenderKeyStore(), archive: new MessageKeyArchive() }, version);
  return encodeKeyBackupBlob(blob);
}

const put = (headers: Record<string, string>, body: unknown) => ctx.request("/api/keys/backup", { method: "PUT", headers, body: JSON.stringify(body) });

describe("key backup", () => {
  test("store, fetch and restore; an older or equal version is refused with 409", async () => {
    const user = await createUser(ctx);
    const { headers } = await signIn(ctx, user);
    const none = await ctx.request("/api/keys/backup", { headers });
    expect(none.status).toBe(404);
    expect(await errorCode(none)).toBe("BACKUP_NOT_FOUND");
    const recoveryKey = generateRecoveryKey();
    const v2 = backupBody(2, recoveryKey, user.id);
    expect((await put(headers, v2)).status).toBe(200);
    for (const version of [2, 1]) {
      const res = await put(headers, backupBody(version));
      expect(res.status).toBe(409);
      expect(await errorCode(res)).toBe("BACKUP_VERSION_CONFLICT");
    }
    const fetched = await ctx.request("/api/keys/backup", { headers });
    expect(fetched.status).toBe(200);
    const text = await fetched.text();
    expect(JSON.parse(text)).toEqual(v2); // byte for byte what was uploaded
    expect(restoreKeyBackup(recoveryKey, parseKeyBackupBlob(text)).device.userId).toBe(user.id);
    expect((await put(headers, backupBody(3))).status).toBe(200);
    expect(((await (await ctx.request("/api/keys/backup", { headers })).json()) as { version: number }).version).toBe(3);
  });

  test("compare-and-set: of 10 concurrent uploads of one version exactly one wins", async () => {
    const user = await createUser(ctx);
    const { headers } = await signIn(ctx, user);
    const bodies = Array.from({ length: 10 }, () => backupBody(5));
    const statuses = (await Promise.all(bodies.map((b) => put(headers, b)))).map((r) => r.status).sort();
    expect(statuses).toEqual([200, ...Array(9).fill(409)]);
    const stored = (await (await ctx.request("/api/keys/backup", { headers })).json()) as { ciphertext: string };
    expect(bodies.filter((b) => b["ciphertext"] === stored.ciphertext)).toHaveLength(1);
  });

  test("backups are per user: one user's PUT/GET never touches another's", async () => {
    const a = await createUser(ctx);
    const b = await createUser(ctx);
    const ha = (await signIn(ctx, a)).headers;
    const hb = (await signIn(ctx, b)).headers;
    const body = backupBody(9);
    expect((await put(ha, body)).status).toBe(200);
    expect((await ctx.request("/api/keys/backup", { headers: hb })).status).toBe(404);
    expect((await put(hb, backupBody(1))).status).toBe(200);
    expect(((await (await ctx.request("/api/keys/backup", { headers: ha })).json()) as { version: number }).version).toBe(9);
  });

  test("hostile input: bad fields 400, oversized body 413, no auth 401", async () => {
    const user = await createUser(ctx);
    const { headers } = await signIn(ctx, user);
    const good = backupBody(1) as Record<string, unknown>;
    for (const bad of [
      { ...good, version: 0 },
      { ...good, version: 1.5 },
      { ...good, version: "two" },
      { ...good, version: 2 ** 53 },
      { ...good, salt: encodeBase64url(new Uint8Array(31)) },
      { ...good, nonce: encodeBase64url(new Uint8Array(12)) },
      { ...good, ciphertext: "" },
      { ...good, ciphertext: "not base64!" },
      { ...good, v: 7 },
    ]) {
      const res = await put(headers, bad);
      expect({ bad: JSON.stringify(bad).slice(0, 60), status: res.status }).toEqual({ bad: JSON.stringify(bad).slice(0, 60), status: 400 });
    }
    const huge = "x".repeat(48 * 1024 * 1024);
    const res = await ctx.request("/api/keys/backup", { method: "PUT", headers: { ...headers, "content-length": String(huge.length) }, body: huge });
    expect(res.status).toBe(413);
    expect((await ctx.request("/api/keys/backup", { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(good) })).status).toBe(401);
    expect((await ctx.request("/api/keys/backup", { headers })).status).toBe(404);
  });
});

describe("server identity", () => {
  test("stable fingerprint of an Ed25519 key stored once; a challenge is signed with it", async () => {
    const first = (await (await ctx.request("/api/keys/server-identity")).json()) as { publicKey: string; fingerprint: string; algorithm: string };
    expect(first.algorithm).toBe("Ed25519");
    expect(first.fingerprint).toBe(fingerprintOf(decodeBase64url(first.publicKey)));
    expect(first.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    // A second application on the same database (a restart, or another instance) has the same identity.
    const other = createApp({ ...ctx.deps });
    const again = (await (await other.handle(new Request("http://localhost/api/keys/server-identity"))).json()) as { fingerprint: string };
    expect(again.fingerprint).toBe(first.fingerprint);
    const challenge = crypto.getRandomValues(new Uint8Array(32));
    const signed = (await (await ctx.request(`/api/keys/server-identity?challenge=${encodeBase64url(challenge)}`)).json()) as { signature: string };
    expect(ed25519.verify(decodeBase64url(signed.signature), serverIdentitySignedBytes(challenge), decodeBase64url(first.publicKey))).toBe(true);
    for (const bad of ["abc", encodeBase64url(new Uint8Array(16)), "%2B%2B%2B%2B"]) {
      expect((await ctx.request(`/api/keys/server-identity?challenge=${bad}`)).status).toBe(400);
    }
    // The private key never leaves the server.
    const text = JSON.stringify(signed);
    const stored = await ctx.database.db.selectFrom("instance_settings").select("value").where("key", "=", "server_identity_key").executeTakeFirstOrThrow();
    expect(text).not.toContain((stored.value as { privateKey: string }).privateKey);
  });
});
