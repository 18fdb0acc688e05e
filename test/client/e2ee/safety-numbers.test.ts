import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import {
  acceptServerIdentity,
  checkContactIdentity,
  checkServerIdentity,
  computeSafetyNumber,
  createSafetyQrPayload,
  formatSafetyNumber,
  getContactTrustState,
  getDeviceIdentityKeyBytes,
  markContactVerified,
  MemoryKeyStore,
  verifySafetyQrPayload,
  type FingerprintParty,
} from "../../../src/client/e2ee/index.ts";
import { createDevice } from "./test-helpers.ts";

function partyOf(userId: string, deviceId: string): FingerprintParty {
  return { userId, identityKey: getDeviceIdentityKeyBytes(createDevice(userId, deviceId)) };
}

describe("safety numbers", () => {
  const alice = partyOf("alice", "a1");
  const bob = partyOf("bob", "b1");

  test("60 digits, identical whichever side computes", () => {
    const fromAlice = computeSafetyNumber(alice, bob);
    const fromBob = computeSafetyNumber(bob, alice);
    expect(fromAlice).toMatch(/^\d{60}$/);
    expect(fromBob).toBe(fromAlice);
    expect(formatSafetyNumber(fromAlice)).toMatch(/^(\d{5} ){11}\d{5}$/);
  });

  test("matches an independent computation with node:crypto (Signal's layout)", () => {
    const independentHalf = (party: FingerprintParty): string => {
      let hash = Buffer.concat([Buffer.from([0, 0]), party.identityKey, Buffer.from(party.userId)]);
      for (let i = 0; i < 5200; i++) hash = createHash("sha512").update(hash).update(party.identityKey).digest();
      let digits = "";
      for (let i = 0; i < 30; i += 5) digits += String(Number(hash.readBigUInt64BE(i) >> 24n) % 100000).padStart(5, "0");
      return digits;
    };
    const fixedAlice = { userId: "alice", identityKey: Uint8Array.from({ length: 64 }, (_, i) => i) };
    const fixedBob = { userId: "bob", identityKey: Uint8Array.from({ length: 64 }, (_, i) => 255 - i) };
    const halves = [independentHalf(fixedAlice), independentHalf(fixedBob)].sort();
    expect(computeSafetyNumber(fixedAlice, fixedBob)).toBe(halves.join(""));
  });

  test("changes when either identity key changes (and when a user id changes)", () => {
    const original = computeSafetyNumber(alice, bob);
    const newAlice = partyOf("alice", "a1"); // same ids, new keys
    const newBob = partyOf("bob", "b1");
    expect(computeSafetyNumber(newAlice, bob)).not.toBe(original);
    expect(computeSafetyNumber(alice, newBob)).not.toBe(original);
    // Only one half changes when one key changes: the other 30 digits stay.
    const halves = (n: string) => [n.slice(0, 30), n.slice(30)];
    const changed = halves(computeSafetyNumber(alice, newBob));
    expect(halves(original).filter((h) => changed.includes(h)).length).toBe(1);
    expect(computeSafetyNumber({ ...alice, userId: "mallory" }, bob)).not.toBe(original);
    // Flipping one bit of the Ed25519 half or the X25519 half changes it.
    for (const index of [0, 40]) {
      const key = alice.identityKey.slice();
      key[index]! ^= 1;
      expect(computeSafetyNumber({ ...alice, identityKey: key }, bob)).not.toBe(original);
    }
  });

  test("QR payload verifies on the other device and rejects a different key", () => {
    const shownByBob = createSafetyQrPayload(bob, alice);
    expect(shownByBob[0]).toBe(1);
    expect(shownByBob.length).toBe(65);
    expect(verifySafetyQrPayload(alice, bob, shownByBob)).toBe("verified");
    expect(verifySafetyQrPayload(bob, alice, createSafetyQrPayload(alice, bob))).toBe("verified");
    // Alice sees an attacker's key for Bob: the scan from the real Bob's screen does not match.
    const mitm = partyOf("bob", "b1");
    expect(verifySafetyQrPayload(alice, mitm, shownByBob)).toBe("mismatch");
    // Scanning your own screen is not verification.
    expect(verifySafetyQrPayload(alice, bob, createSafetyQrPayload(alice, bob))).toBe("mismatch");
    const wrongVersion = shownByBob.slice();
    wrongVersion[0] = 9;
    expect(verifySafetyQrPayload(alice, bob, wrongVersion)).toBe("unsupported-version");
    expect(verifySafetyQrPayload(alice, bob, shownByBob.subarray(0, 40))).toBe("mismatch");
  });
});

describe("TOFU contact trust", () => {
  test("first use pins; a changed key stays 'changed' until verified again", async () => {
    const store = new MemoryKeyStore();
    const key1 = partyOf("bob", "b1").identityKey;
    const key2 = partyOf("bob", "b1").identityKey;
    expect(await checkContactIdentity(store, "bob", "b1", key1)).toEqual({ check: "first-use", state: "unverified" });
    expect(await checkContactIdentity(store, "bob", "b1", key1)).toEqual({ check: "match", state: "unverified" });
    await markContactVerified(store, "bob", "b1", key1);
    expect(await checkContactIdentity(store, "bob", "b1", key1)).toEqual({ check: "match", state: "verified" });
    expect(await checkContactIdentity(store, "bob", "b1", key2)).toEqual({ check: "changed", state: "changed" });
    expect(await getContactTrustState(store, "bob", "b1")).toBe("changed");
    // Seeing the new key again does not quietly accept it.
    expect((await checkContactIdentity(store, "bob", "b1", key2)).state).toBe("changed");
    await markContactVerified(store, "bob", "b1", key2);
    expect(await checkContactIdentity(store, "bob", "b1", key2)).toEqual({ check: "match", state: "verified" });
    // Other devices of the same user are tracked separately.
    expect((await checkContactIdentity(store, "bob", "b2", key1)).check).toBe("first-use");
  });
});

describe("server identity pinning (seeds/004)", () => {
  test("first use pins, same matches, different warns and keeps the old pin until accepted", async () => {
    const store = new MemoryKeyStore();
    expect(await checkServerIdentity(store, "ed25519:abc123")).toBe("first-use");
    expect(await checkServerIdentity(store, "ed25519:abc123")).toBe("match");
    expect(await checkServerIdentity(store, "ed25519:evil")).toBe("changed");
    expect(await checkServerIdentity(store, "ed25519:evil")).toBe("changed");
    expect(await checkServerIdentity(store, "ed25519:abc123")).toBe("match");
    await acceptServerIdentity(store, "ed25519:evil");
    expect(await checkServerIdentity(store, "ed25519:evil")).toBe("match");
    // Bytes fingerprints work too, and are not confused with a string of the same content.
    const bytesStore = new MemoryKeyStore();
    expect(await checkServerIdentity(bytesStore, Uint8Array.of(1, 2, 3))).toBe("first-use");
    expect(await checkServerIdentity(bytesStore, Uint8Array.of(1, 2, 3))).toBe("match");
    expect(await checkServerIdentity(bytesStore, "\x01\x02\x03")).toBe("changed");
  });
});
