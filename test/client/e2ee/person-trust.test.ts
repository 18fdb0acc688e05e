// Verification of people (issue 11 §5; docs/crypto.md "Trust"): a person verified with their
// devices turns "changed" when a device they did not have appears (a new or re-registered device,
// or a different key), stays so until acknowledged or verified again; the server's identity proof
// is checked before the pin; the import-free safety-number core gives the library's numbers.
import { describe, expect, test } from "bun:test";
import { ed25519 } from "@noble/curves/ed25519.js";
import {
  acceptServerIdentity,
  acknowledgePersonChange,
  checkPersonDevices,
  checkServerIdentityProof,
  computeSafetyNumber,
  createSafetyQrPayload,
  getContactTrustState,
  getDeviceIdentityKeyBytes,
  markPersonVerified,
  MemoryKeyStore,
} from "../../../src/client/e2ee/index.ts";
import { computeSha512 } from "../../../src/client/e2ee/primitives.ts";
import { createSafetyNumbers } from "../../../src/client/e2ee/safety-numbers-core.ts";
import { createDevice } from "./test-helpers.ts";

const keyOf = (userId: string, deviceId: string) => getDeviceIdentityKeyBytes(createDevice(userId, deviceId));

describe("people: verified, changed, acknowledged", () => {
  test("a new device of a verified person makes them 'changed' until acknowledged; a removed one does not", async () => {
    const store = new MemoryKeyStore();
    const phone = { deviceId: "phone", identityKey: keyOf("bob", "phone") };
    const laptop = { deviceId: "laptop", identityKey: keyOf("bob", "laptop") };
    expect(await checkPersonDevices(store, "bob", [phone])).toBeUndefined(); // never verified

    await markPersonVerified(store, "bob", [phone, laptop]);
    expect(await getContactTrustState(store, "bob", "phone")).toBe("verified"); // per device too
    expect(await checkPersonDevices(store, "bob", [phone, laptop])).toBe("verified");
    expect(await checkPersonDevices(store, "bob", [{ deviceId: "phone" }])).toBe("verified"); // laptop removed: nothing new can read

    // Set up again: a new id (the key service never replaces a device in place).
    expect(await checkPersonDevices(store, "bob", [{ deviceId: "phone" }, { deviceId: "phone-2" }])).toBe("changed");
    // Sticky: the new device going away again does not clear it.
    expect(await checkPersonDevices(store, "bob", [{ deviceId: "phone" }])).toBe("changed");

    await acknowledgePersonChange(store, "bob");
    expect(await checkPersonDevices(store, "bob", [{ deviceId: "phone" }, { deviceId: "phone-2" }])).toBeUndefined();
    await markPersonVerified(store, "bob", [phone, { deviceId: "phone-2", identityKey: keyOf("bob", "phone-2") }]);
    expect(await checkPersonDevices(store, "bob", [{ deviceId: "phone" }, { deviceId: "phone-2" }])).toBe("verified");
  });

  test("a different key under a known device id also counts as a change", async () => {
    const store = new MemoryKeyStore();
    const d1 = keyOf("carol", "d1"); // fresh random keys per call
    await markPersonVerified(store, "carol", [{ deviceId: "d1", identityKey: d1 }]);
    expect(await checkPersonDevices(store, "carol", [{ deviceId: "d1", identityKey: d1 }])).toBe("verified");
    expect(await checkPersonDevices(store, "carol", [{ deviceId: "d1", identityKey: keyOf("mallory", "d1") }])).toBe("changed");
  });
});

describe("server identity proof", () => {
  const CONTEXT = new TextEncoder().encode("Hearth server identity v1\0");
  const signed = (challenge: Uint8Array) => new Uint8Array([...CONTEXT, ...challenge]);

  test("a valid proof pins on first use and matches after; another key is 'changed'; a bad signature is 'invalid'", async () => {
    const store = new MemoryKeyStore();
    const server = ed25519.keygen();
    const challenge = crypto.getRandomValues(new Uint8Array(32));
    const proof = ed25519.sign(signed(challenge), server.secretKey);
    expect(await checkServerIdentityProof(store, server.publicKey, challenge, proof)).toBe("first-use");
    const again = crypto.getRandomValues(new Uint8Array(32));
    expect(await checkServerIdentityProof(store, server.publicKey, again, ed25519.sign(signed(again), server.secretKey))).toBe("match");
    // Someone who copied the public key but cannot sign the fresh challenge.
    expect(await checkServerIdentityProof(store, server.publicKey, again, proof)).toBe("invalid");

    const other = ed25519.keygen();
    expect(await checkServerIdentityProof(store, other.publicKey, again, ed25519.sign(signed(again), other.secretKey))).toBe("changed");
    expect(await checkServerIdentityProof(store, server.publicKey, again, ed25519.sign(signed(again), server.secretKey))).toBe("match"); // the old pin stays
    await acceptServerIdentity(store, other.publicKey);
    expect(await checkServerIdentityProof(store, other.publicKey, again, ed25519.sign(signed(again), other.secretKey))).toBe("match");
  });
});

describe("safety-number core (the lazy Verify chunk's copy of the algorithm)", () => {
  test("gives the library's numbers and QR payloads", () => {
    const alice = { userId: "alice", identityKey: keyOf("alice", "a1") };
    const bob = { userId: "bob", identityKey: keyOf("bob", "b1") };
    const core = createSafetyNumbers(computeSha512);
    expect(core.computeSafetyNumber(alice, bob)).toBe(computeSafetyNumber(alice, bob));
    expect(core.computeSafetyNumber(bob, alice)).toBe(computeSafetyNumber(alice, bob));
    expect(core.createSafetyQrPayload(alice, bob)).toEqual(createSafetyQrPayload(alice, bob));
  });
});
