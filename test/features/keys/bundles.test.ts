// Prekey bundles: each one-time prekey handed out exactly once under concurrency, drain
// protection (per-pair and per-viewer rate limits, per-device one-time-prekey budget), keys:low,
// and that a fetched bundle really starts an X3DH session.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { parsePrekeyBundleList, validateSignedPrekeySignature } from "../../../src/shared/e2ee/index.ts";
import { acceptSessionAsResponder, decodeUtf8, encodeUtf8, encryptRatchetMessage, startSessionAsInitiator } from "../../../src/client/e2ee/index.ts";
import { DEFAULT_KEY_FETCH_LIMITS, setKeyFetchLimits } from "../../../src/features/keys/index.ts";
import { makeContacts } from "../../helpers/contacts.ts";
import { createTestContext, type TestContext } from "../../helpers/app.ts";
import { createUser, signIn } from "../../helpers/users.ts";
import { errorCode, newDevice, registerDevice } from "./helpers.ts";

let ctx: TestContext;
const published: { topic: string; event: unknown }[] = [];
const UNLIMITED = { ratePerSec: 1e9, burst: 1e9 };

beforeAll(async () => {
  ctx = await createTestContext();
  ctx.deps.events = { publish: (topic, event) => published.push({ topic, event }) };
});
afterAll(async () => {
  await ctx.close();
});

async function signedInUser() {
  const user = await createUser(ctx);
  const { headers } = await signIn(ctx, user);
  return { user, headers };
}

const remaining = async (userId: string, deviceId: string) =>
  Number(
    (await ctx.database.db.selectFrom("key_one_time_prekeys").select((eb) => eb.fn.countAll<number>().as("n")).where("user_id", "=", userId).where("device_id", "=", deviceId).executeTakeFirstOrThrow()).n,
  );

describe("bundles", () => {
  test("each one-time prekey is handed out exactly once under 50 concurrent fetches", async () => {
    setKeyFetchLimits(ctx.deps, DEFAULT_KEY_FETCH_LIMITS); // the real limits: 5 viewers x 10 fit them
    const owner = await signedInUser();
    const phone = newDevice(owner.user.id);
    const laptop = newDevice(owner.user.id);
    await registerDevice(ctx, owner.headers, phone);
    await registerDevice(ctx, owner.headers, laptop);
    const viewers = await Promise.all(Array.from({ length: 5 }, () => signedInUser()));
    for (const v of viewers) await makeContacts(ctx, owner.user.id, v.user.id);
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) => ctx.request(`/api/keys/users/${owner.user.id}/bundles`, { headers: viewers[i % 5]!.headers })),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(200));
    const handedOut = new Map<string, number[]>([[phone.deviceId, []], [laptop.deviceId, []]]);
    for (const res of responses) {
      const bundles = parsePrekeyBundleList(await res.text());
      expect(bundles.map((b) => b.deviceId).sort()).toEqual([phone.deviceId, laptop.deviceId].sort());
      for (const bundle of bundles) {
        validateSignedPrekeySignature(bundle);
        expect(bundle.oneTimePrekey).toBeDefined();
        handedOut.get(bundle.deviceId)!.push(bundle.oneTimePrekey!.id);
      }
    }
    for (const [deviceId, ids] of handedOut) {
      expect(ids).toHaveLength(50);
      expect(new Set(ids).size).toBe(50); // no prekey twice
      expect(await remaining(owner.user.id, deviceId)).toBe(50); // and each one handed out is gone
    }
  });

  test("a fetched bundle starts a working X3DH session with the device", async () => {
    setKeyFetchLimits(ctx.deps, DEFAULT_KEY_FETCH_LIMITS);
    const bob = await signedInUser();
    const alice = await signedInUser();
    await makeContacts(ctx, bob.user.id, alice.user.id);
    const bobDevice = newDevice(bob.user.id);
    await registerDevice(ctx, bob.headers, bobDevice);
    const aliceDevice = newDevice(alice.user.id);
    const [bundle] = parsePrekeyBundleList(await (await ctx.request(`/api/keys/users/${bob.user.id}/bundles`, { headers: alice.headers })).text());
    const session = startSessionAsInitiator(aliceDevice, bundle!);
    const first = encryptRatchetMessage(session.ratchet, encodeUtf8("hello through the key service"));
    const accepted = acceptSessionAsResponder(bobDevice, { userId: alice.user.id, deviceId: aliceDevice.deviceId }, first.message);
    expect(decodeUtf8(accepted.plaintext)).toBe("hello through the key service");
  });
});

describe("drain protection", () => {
  test("per-pair limit: the 11th fetch in a minute is 429; a refused or unpermitted fetch consumes nothing", async () => {
    setKeyFetchLimits(ctx.deps, { ...DEFAULT_KEY_FETCH_LIMITS, oneTimePrekeysPerDevice: UNLIMITED });
    const owner = await signedInUser();
    const device = newDevice(owner.user.id);
    await registerDevice(ctx, owner.headers, device);
    const greedy = await signedInUser();
    const stranger = await signedInUser();
    await makeContacts(ctx, owner.user.id, greedy.user.id);
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await ctx.request(`/api/keys/users/${owner.user.id}/bundles`, { headers: greedy.headers })).status);
    expect(statuses).toEqual([...Array(10).fill(200), 429, 429]);
    const limited = await ctx.request(`/api/keys/users/${owner.user.id}/bundles`, { headers: greedy.headers });
    expect(await errorCode(limited)).toBe("KEY_FETCH_RATE_LIMITED");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await remaining(owner.user.id, device.deviceId)).toBe(90);
    for (let i = 0; i < 20; i++) expect((await ctx.request(`/api/keys/users/${owner.user.id}/bundles`, { headers: stranger.headers })).status).toBe(404);
    expect(await remaining(owner.user.id, device.deviceId)).toBe(90);
  });

  test("per-viewer cap across owners", async () => {
    setKeyFetchLimits(ctx.deps, { perPair: UNLIMITED, perViewer: { ratePerSec: 1 / 60, burst: 3 }, oneTimePrekeysPerDevice: UNLIMITED });
    const sweeper = await signedInUser();
    const owners = await Promise.all(Array.from({ length: 4 }, () => signedInUser()));
    for (const o of owners) await makeContacts(ctx, o.user.id, sweeper.user.id);
    const statuses = [];
    for (const o of owners) statuses.push((await ctx.request(`/api/keys/users/${o.user.id}/bundles`, { headers: sweeper.headers })).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
  });

  test("many colluding contacts cannot empty a device: past the per-device budget bundles come without a one-time prekey", async () => {
    setKeyFetchLimits(ctx.deps, { perPair: UNLIMITED, perViewer: UNLIMITED, oneTimePrekeysPerDevice: { ratePerSec: 1 / 3600, burst: 5 } });
    const owner = await signedInUser();
    const device = newDevice(owner.user.id);
    await registerDevice(ctx, owner.headers, device);
    const crowd = await Promise.all(Array.from({ length: 8 }, () => signedInUser()));
    for (const c of crowd) await makeContacts(ctx, owner.user.id, c.user.id);
    const withPrekey: boolean[] = [];
    for (const c of crowd) {
      const [bundle] = parsePrekeyBundleList(await (await ctx.request(`/api/keys/users/${owner.user.id}/bundles`, { headers: c.headers })).text());
      withPrekey.push(bundle!.oneTimePrekey !== undefined);
    }
    expect(withPrekey).toEqual([true, true, true, true, true, false, false, false]);
    expect(await remaining(owner.user.id, device.deviceId)).toBe(95);
  });
});

describe("keys:low", () => {
  test("the owner is told when a device holds fewer than 20 one-time prekeys", async () => {
    setKeyFetchLimits(ctx.deps, { perPair: UNLIMITED, perViewer: UNLIMITED, oneTimePrekeysPerDevice: UNLIMITED });
    const owner = await signedInUser();
    const device = newDevice(owner.user.id);
    await registerDevice(ctx, owner.headers, device);
    const viewer = await signedInUser();
    await makeContacts(ctx, owner.user.id, viewer.user.id);
    published.length = 0;
    for (let i = 0; i < 81; i++) await ctx.request(`/api/keys/users/${owner.user.id}/bundles`, { headers: viewer.headers });
    const low = published.filter((p) => (p.event as { type: string }).type === "keys:low");
    expect(low).toHaveLength(1);
    expect(low[0]).toEqual({ topic: `user:${owner.user.id}`, event: { type: "keys:low", userId: owner.user.id, deviceId: device.deviceId, remaining: 19 } });
    // Nobody but the owner hears it.
    expect(published.every((p) => p.topic === `user:${owner.user.id}`)).toBe(true);
    // Past the pool: bundles still work, without a one-time prekey.
    for (let i = 0; i < 19; i++) await ctx.request(`/api/keys/users/${owner.user.id}/bundles`, { headers: viewer.headers });
    const [bundle] = parsePrekeyBundleList(await (await ctx.request(`/api/keys/users/${owner.user.id}/bundles`, { headers: viewer.headers })).text());
    expect(bundle!.oneTimePrekey).toBeUndefined();
  });
});
