// Key service: device registration (signature verified), replenishing, rotation, revocation and
// its event, outsiders, hostile input. Runs on PGlite and, with TEST_DATABASE_URL, PostgreSQL.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { encodeBase64url, encodePrekeyUpload, type DevicePublicBundle } from "../../../src/shared/e2ee/index.ts";
import { generateOneTimePrekeys, rotateSignedPrekey } from "../../../src/client/e2ee/index.ts";
import { MAX_DEVICES, onKeysChanged, type KeysChangedEvent } from "../../../src/features/keys/index.ts";
import { createTestContext, type TestContext } from "../../helpers/app.ts";
import { createUser, signIn } from "../../helpers/users.ts";
import { errorCode, newDevice, registerDevice, registrationBody } from "./helpers.ts";
import { makeContacts } from "../../helpers/contacts.ts";

let ctx: TestContext;
const published: { topic: string; event: unknown }[] = [];
beforeAll(async () => {
  ctx = await createTestContext();
  ctx.deps.events = { publish: (topic, event) => published.push({ topic, event }) };
});
afterAll(() => ctx.close());

async function signedInUser() {
  const user = await createUser(ctx);
  const { headers } = await signIn(ctx, user);
  return { user, headers };
}

const countPrekeys = async (userId: string, deviceId?: string) => {
  let q = ctx.database.db.selectFrom("key_one_time_prekeys").select((eb) => eb.fn.countAll<number>().as("n")).where("user_id", "=", userId);
  if (deviceId) q = q.where("device_id", "=", deviceId);
  return Number((await q.executeTakeFirstOrThrow()).n);
};

describe("device registration", () => {
  test("a device registers with its signed prekey and 100 one-time prekeys", async () => {
    const { user, headers } = await signedInUser();
    const device = newDevice(user.id);
    const res = await registerDevice(ctx, headers, device);
    expect(res.status).toBe(201);
    const body = (await res.json()) as { deviceId: string; oneTimePrekeysRemaining: number; identityKey: string };
    expect(body.deviceId).toBe(device.deviceId);
    expect(body.oneTimePrekeysRemaining).toBe(100);
    expect(body.identityKey).toBe(encodeBase64url(device.identity.publicKey));
    expect(await countPrekeys(user.id)).toBe(100);
    const list = (await (await ctx.request(`/api/keys/users/${user.id}/devices`, { headers })).json()) as { devices: { deviceId: string; oneTimePrekeysRemaining?: number }[] };
    expect(list.devices).toEqual([expect.objectContaining({ deviceId: device.deviceId, oneTimePrekeysRemaining: 100 })]);
  });

  test("a forged signed-prekey signature is refused and nothing is stored", async () => {
    const { user, headers } = await signedInUser();
    const device = newDevice(user.id);
    const body = registrationBody(device) as { signedPrekey: { signature: string; publicKey: string; id: number }; identityKey: string };
    // 1: one flipped bit in the signature.
    const sig = Buffer.from(body.signedPrekey.signature, "base64url");
    sig[5]! ^= 1;
    const flipped = { ...body, signedPrekey: { ...body.signedPrekey, signature: sig.toString("base64url") } };
    // 2: a valid signature, but over a different X25519 identity key (the signature binds it).
    const other = newDevice(user.id);
    const swappedIdentity = { ...body, identityKey: encodeBase64url(other.identity.publicKey) };
    // 3: a valid signed prekey relabelled with another id (the id is signed too).
    const relabelled = { ...body, signedPrekey: { ...body.signedPrekey, id: body.signedPrekey.id + 1 } };
    // 4: an attacker's own signing key with the victim's signed prekey.
    const foreignSigner = { ...body, signingKey: encodeBase64url(other.signing.publicKey) };
    for (const forged of [flipped, swappedIdentity, relabelled, foreignSigner]) {
      const res = await registerDevice(ctx, headers, forged);
      expect(res.status).toBe(400);
      expect(await errorCode(res)).toBe("INVALID_SIGNATURE");
    }
    expect(await countPrekeys(user.id)).toBe(0);
    expect(await ctx.database.db.selectFrom("key_devices").selectAll().where("user_id", "=", user.id).execute()).toEqual([]);
  });

  test("a device id cannot be registered twice; at most MAX_DEVICES devices per user", async () => {
    const { user, headers } = await signedInUser();
    const first = newDevice(user.id, "laptop");
    expect((await registerDevice(ctx, headers, first)).status).toBe(201);
    const again = await registerDevice(ctx, headers, newDevice(user.id, "laptop"));
    expect(again.status).toBe(409);
    expect(await errorCode(again)).toBe("DEVICE_EXISTS");
    for (let i = 1; i < MAX_DEVICES; i++) expect((await registerDevice(ctx, headers, newDevice(user.id))).status).toBe(201);
    const over = await registerDevice(ctx, headers, newDevice(user.id));
    expect(over.status).toBe(409);
    expect(await errorCode(over)).toBe("TOO_MANY_DEVICES");
    // Another user may use the same device id: ids are per user and reveal nothing across users.
    const other = await signedInUser();
    expect((await registerDevice(ctx, other.headers, newDevice(other.user.id, "laptop"))).status).toBe(201);
  });

  test("concurrent registrations cannot exceed the device limit (the user row is locked)", async () => {
    const { user, headers } = await signedInUser();
    const statuses = (await Promise.all(Array.from({ length: MAX_DEVICES + 4 }, () => registerDevice(ctx, headers, newDevice(user.id))))).map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(MAX_DEVICES);
    expect(statuses.filter((s) => s === 409)).toHaveLength(4);
    const stored = await ctx.database.db.selectFrom("key_devices").select("device_id").where("user_id", "=", user.id).execute();
    expect(stored).toHaveLength(MAX_DEVICES);
  });

  test("hostile and oversized input is refused with 400/413 and stable codes", async () => {
    const { user, headers } = await signedInUser();
    const good = registrationBody(newDevice(user.id)) as Record<string, unknown> & { signedPrekey: Record<string, unknown>; oneTimePrekeys: Record<string, unknown>[] };
    const key32 = good["signingKey"] as string;
    const cases: [string, unknown, number, string?][] = [
      ["not JSON", "{nope", 400],
      ["wrong version", { ...good, v: 2 }, 400],
      ["short key", { ...good, signingKey: key32.slice(0, 42) }, 400],
      ["long key", { ...good, identityKey: key32 + "AAAA" }, 400],
      ["non-base64url", { ...good, signingKey: "+".repeat(43) }, 400],
      ["padding", { ...good, signingKey: key32.slice(0, 42) + "=" }, 400],
      ["non-canonical trailing bits", { ...good, signingKey: key32.slice(0, 42) + "B" }, 400, "INVALID_BASE64URL"],
      ["bad device id", { ...good, deviceId: "../../etc" }, 400],
      ["device id too long", { ...good, deviceId: "a".repeat(65) }, 400],
      ["negative prekey id", { ...good, signedPrekey: { ...good.signedPrekey, id: -1 } }, 400],
      ["prekey id above u32", { ...good, signedPrekey: { ...good.signedPrekey, id: 2 ** 32 } }, 400],
      ["101 one-time prekeys", { ...good, oneTimePrekeys: [...good.oneTimePrekeys, { id: 100000, publicKey: key32 }] }, 400],
      ["duplicate one-time prekey id", { ...good, oneTimePrekeys: [good.oneTimePrekeys[0], good.oneTimePrekeys[0]] }, 400, "DUPLICATE_ID"],
      ["missing signed prekey", { ...good, signedPrekey: undefined }, 400],
      ["array instead of object", [good], 400],
    ];
    for (const [name, body, status, code] of cases) {
      const res = await ctx.request("/api/keys/devices", { method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body) });
      expect({ name, status: res.status }).toEqual({ name, status });
      const got = await errorCode(res);
      if (code) expect({ name, code: got }).toEqual({ name, code });
      else expect(got).toMatch(/^[A-Z_]+$/);
    }
    // Content-Length above the key-material limit: refused before the body is read.
    const huge = JSON.stringify({ ...good, padding: "x".repeat(70 * 1024) });
    const res = await ctx.request("/api/keys/devices", { method: "POST", headers: { ...headers, "content-length": String(huge.length) }, body: huge });
    expect(res.status).toBe(413);
    expect(await countPrekeys(user.id)).toBe(0);
    // Not signed in.
    expect((await ctx.request("/api/keys/devices", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(good) })).status).toBe(401);
  });
});

describe("replenishing and rotation", () => {
  test("more one-time prekeys; ids must be new; at most 200 stored", async () => {
    const { user, headers } = await signedInUser();
    const device = newDevice(user.id);
    await registerDevice(ctx, headers, device);
    const upload = (prekeys: DevicePublicBundle["oneTimePrekeys"]) =>
      ctx.request("/api/keys/prekeys", { method: "POST", headers, body: JSON.stringify(encodePrekeyUpload({ deviceId: device.deviceId, oneTimePrekeys: prekeys })) });
    const batch = generateOneTimePrekeys(device, 60);
    const ok = await upload(batch);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { oneTimePrekeysRemaining: number }).oneTimePrekeysRemaining).toBe(160);
    const dup = await upload(batch.slice(0, 1));
    expect(dup.status).toBe(409);
    expect(await errorCode(dup)).toBe("PREKEY_ID_IN_USE");
    const tooMany = await upload(generateOneTimePrekeys(device, 41));
    expect(tooMany.status).toBe(409);
    expect(await errorCode(tooMany)).toBe("TOO_MANY_PREKEYS");
    expect(await countPrekeys(user.id)).toBe(160);
  });

  test("signed prekey rotation is verified against the stored keys", async () => {
    const { user, headers } = await signedInUser();
    const device = newDevice(user.id);
    await registerDevice(ctx, headers, device);
    const rotated = rotateSignedPrekey(device, Date.now());
    const spk = { id: rotated.id, publicKey: rotated.keyPair.publicKey, signature: rotated.signature };
    // Signed by some other device's key: refused.
    const impostor = newDevice(user.id);
    const forged = rotateSignedPrekey(impostor, Date.now());
    const post = (signedPrekey: typeof spk) =>
      ctx.request("/api/keys/prekeys", { method: "POST", headers, body: JSON.stringify(encodePrekeyUpload({ deviceId: device.deviceId, signedPrekey, oneTimePrekeys: [] })) });
    const bad = await post({ id: forged.id, publicKey: forged.keyPair.publicKey, signature: forged.signature });
    expect(bad.status).toBe(400);
    expect(await errorCode(bad)).toBe("INVALID_SIGNATURE");
    const good = await post(spk);
    expect(good.status).toBe(200);
    expect(((await good.json()) as { signedPrekeyId: number }).signedPrekeyId).toBe(2);
    const bundles = (await (await ctx.request(`/api/keys/users/${user.id}/bundles`, { headers })).json()) as { bundles: { signedPrekey: { id: number; publicKey: string } }[] };
    expect(bundles.bundles[0]!.signedPrekey).toMatchObject({ id: 2, publicKey: encodeBase64url(rotated.keyPair.publicKey) });
  });

  test("hostile prekey uploads: too many, bad keys, oversized, not signed in", async () => {
    const { user, headers } = await signedInUser();
    const device = newDevice(user.id);
    await registerDevice(ctx, headers, device);
    const body = (n: number) => encodePrekeyUpload({ deviceId: device.deviceId, oneTimePrekeys: generateOneTimePrekeys(device, n) }) as { oneTimePrekeys: { id: number; publicKey: string }[] };
    const post = (b: unknown, extra: Record<string, string> = {}) => ctx.request("/api/keys/prekeys", { method: "POST", headers: { ...headers, ...extra }, body: typeof b === "string" ? b : JSON.stringify(b) });
    expect((await post(body(101))).status).toBe(400);
    const short = body(1);
    short.oneTimePrekeys[0]!.publicKey = short.oneTimePrekeys[0]!.publicKey.slice(1);
    expect((await post(short)).status).toBe(400);
    const dup = body(1);
    dup.oneTimePrekeys.push(dup.oneTimePrekeys[0]!);
    const dupRes = await post(dup);
    expect(dupRes.status).toBe(400);
    expect(await errorCode(dupRes)).toBe("DUPLICATE_ID");
    const huge = JSON.stringify({ ...body(1), pad: "x".repeat(70 * 1024) });
    expect((await post(huge, { "content-length": String(huge.length) })).status).toBe(413);
    expect((await ctx.request("/api/keys/prekeys", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body(1)) })).status).toBe(401);
    expect(await countPrekeys(user.id)).toBe(100);
  });

  test("another user's device id is 404 for uploads", async () => {
    const a = await signedInUser();
    const b = await signedInUser();
    const device = newDevice(a.user.id);
    await registerDevice(ctx, a.headers, device);
    const res = await ctx.request("/api/keys/prekeys", {
      method: "POST",
      headers: b.headers,
      body: JSON.stringify(encodePrekeyUpload({ deviceId: device.deviceId, oneTimePrekeys: generateOneTimePrekeys(device, 1) })),
    });
    expect(res.status).toBe(404);
    expect(await countPrekeys(a.user.id)).toBe(100);
  });
});

describe("revocation", () => {
  test("revoking a device removes it and its prekeys, and keys:changed is published after COMMIT", async () => {
    const { user, headers } = await signedInUser();
    const keep = newDevice(user.id);
    const lose = newDevice(user.id);
    await registerDevice(ctx, headers, keep);
    await registerDevice(ctx, headers, lose);
    const heard: KeysChangedEvent[] = [];
    const stop = onKeysChanged(ctx.deps, (e) => heard.push(e));
    published.length = 0;
    const res = await ctx.request(`/api/keys/devices/${lose.deviceId}`, { method: "DELETE", headers });
    stop();
    expect(res.status).toBe(204);
    expect(await countPrekeys(user.id, lose.deviceId)).toBe(0);
    expect(await countPrekeys(user.id, keep.deviceId)).toBe(100);
    const event = { type: "keys:changed", userId: user.id, change: "device_revoked", deviceId: lose.deviceId };
    expect(published).toEqual([
      { topic: `user:${user.id}`, event },
      { topic: `keys:${user.id}`, event },
    ]);
    expect(heard).toEqual([event as KeysChangedEvent]);
    const list = (await (await ctx.request(`/api/keys/users/${user.id}/devices`, { headers })).json()) as { devices: { deviceId: string }[] };
    expect(list.devices.map((d) => d.deviceId)).toEqual([keep.deviceId]);
    // Revoking it again: it no longer exists.
    expect((await ctx.request(`/api/keys/devices/${lose.deviceId}`, { method: "DELETE", headers })).status).toBe(404);
  });

  test("registration publishes keys:changed too; a refused registration publishes nothing", async () => {
    const { user, headers } = await signedInUser();
    published.length = 0;
    const device = newDevice(user.id);
    await registerDevice(ctx, headers, device);
    expect(published.map((p) => p.topic)).toEqual([`user:${user.id}`, `keys:${user.id}`]);
    published.length = 0;
    await registerDevice(ctx, headers, device); // 409
    expect(published).toEqual([]);
  });
});

describe("outsiders get 404 on every id route", () => {
  test("device list, bundles, revocation; a contact sees the list without prekey counts", async () => {
    const owner = await signedInUser();
    const outsider = await signedInUser();
    const contact = await signedInUser();
    const device = newDevice(owner.user.id);
    await registerDevice(ctx, owner.headers, device);
    const dm = await makeContacts(ctx, owner.user.id, contact.user.id);
    {
      for (const path of [`/api/keys/users/${owner.user.id}/devices`, `/api/keys/users/${owner.user.id}/bundles`]) {
        const res = await ctx.request(path, { headers: outsider.headers });
        expect({ path, status: res.status }).toEqual({ path, status: 404 });
        expect(await errorCode(res)).toBe("USER_NOT_FOUND");
      }
      // Same answer as for a user that does not exist; an id that is not one is a 400 before any lookup.
      for (const [id, status] of [[crypto.randomUUID(), 404], ["not-a-uuid", 400], ["'; drop table users; --", 400]] as const) {
        for (const path of [`/api/keys/users/${encodeURIComponent(id)}/devices`, `/api/keys/users/${encodeURIComponent(id)}/bundles`]) {
          expect({ path, status: (await ctx.request(path, { headers: outsider.headers })).status }).toEqual({ path, status });
        }
      }
      const del = await ctx.request(`/api/keys/devices/${device.deviceId}`, { method: "DELETE", headers: outsider.headers });
      expect(del.status).toBe(404);
      expect(await errorCode(del)).toBe("DEVICE_NOT_FOUND");
      expect((await ctx.request("/api/keys/devices/nope", { method: "DELETE", headers: outsider.headers })).status).toBe(404);
      for (const id of ["a".repeat(65), "..%2F..%2Fetc"]) {
        expect((await ctx.request(`/api/keys/devices/${id}`, { method: "DELETE", headers: outsider.headers })).status).toBe(400);
      }
      expect(await countPrekeys(owner.user.id)).toBe(100); // the outsider consumed nothing
      const seen = (await (await ctx.request(`/api/keys/users/${owner.user.id}/devices`, { headers: contact.headers })).json()) as { devices: Record<string, unknown>[] };
      expect(seen.devices).toHaveLength(1);
      expect(seen.devices[0]!["oneTimePrekeysRemaining"]).toBeUndefined();
      expect(seen.devices[0]!["identityKey"]).toBe(encodeBase64url(device.identity.publicKey));
    }
    // Once they no longer share a DM or a community, the contact sees nothing either.
    await ctx.database.db.deleteFrom("channels").where("id", "=", dm).execute();
    expect((await ctx.request(`/api/keys/users/${owner.user.id}/devices`, { headers: contact.headers })).status).toBe(404);
  });
});
