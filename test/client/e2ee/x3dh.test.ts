import { describe, expect, test } from "bun:test";
import {
  acceptSessionAsResponder,
  decryptRatchetMessage,
  E2eeError,
  encryptRatchetMessage,
  encodeUtf8,
  decodeUtf8,
  getDeviceIdentityKeyBytes,
  startSessionAsInitiator,
  rotateSignedPrekey,
  shouldRotateSignedPrekey,
  countOneTimePrekeysToGenerate,
  generateOneTimePrekeys,
  exportDevicePublicBundle,
  serialiseDeviceIdentity,
  restoreDeviceIdentity,
  SIGNED_PREKEY_ROTATION_MS,
  verifySignedPrekeySignature,
  concatBytes,
  decryptEnvelopeForDevice,
  encodePairwiseEnvelope,
  encodePrekeyBundleList,
  encryptForDevices,
  parsePairwiseEnvelope,
  parsePrekeyBundleList,
  promoteSession,
  receivePairwiseMessage,
  restorePairwiseSession,
  serialisePairwiseSession,
  type PairwiseSession,
} from "../../../src/client/e2ee/index.ts";
import { buildPrekeyBundle, createDevice, NOW } from "./test-helpers.ts";

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof E2eeError ? error.code : String(error);
  }
  return undefined;
}

describe("X3DH", () => {
  for (const withOneTimePrekey of [true, false]) {
    test(`session start ${withOneTimePrekey ? "with" : "without"} a one-time prekey; both sides talk`, () => {
      const alice = createDevice("alice", "alice-phone");
      const bob = createDevice("bob", "bob-laptop");
      const bundle = buildPrekeyBundle(bob, withOneTimePrekey);
      const aliceSession = startSessionAsInitiator(alice, bundle);
      const first = encryptRatchetMessage(aliceSession.ratchet, encodeUtf8("hi bob"));
      expect(first.message.x3dh?.oneTimePrekeyId).toBe(withOneTimePrekey ? bundle.oneTimePrekey!.id : undefined);
      const prekeysBefore = bob.oneTimePrekeys.size;
      const accepted = acceptSessionAsResponder(bob, { userId: "alice", deviceId: "alice-phone" }, first.message);
      expect(decodeUtf8(accepted.plaintext)).toBe("hi bob");
      expect(bob.oneTimePrekeys.size).toBe(withOneTimePrekey ? prekeysBefore - 1 : prekeysBefore);
      // AD = initiator identity ‖ responder identity, identical on both sides.
      const ad = concatBytes(getDeviceIdentityKeyBytes(alice), getDeviceIdentityKeyBytes(bob));
      expect(aliceSession.ratchet.associatedData).toEqual(ad);
      expect(accepted.session.ratchet.associatedData).toEqual(ad);
      expect(accepted.session.remote.identityKey).toEqual(alice.identity.publicKey);

      const reply = encryptRatchetMessage(accepted.session.ratchet, encodeUtf8("hi alice"));
      expect(reply.message.x3dh).toBeUndefined();
      expect(decodeUtf8(decryptRatchetMessage(aliceSession.ratchet, reply.message).plaintext)).toBe("hi alice");
      // After the reply the initiator stops attaching the X3DH header.
      expect(encryptRatchetMessage(aliceSession.ratchet, encodeUtf8("x")).message.x3dh).toBeUndefined();
    });
  }

  test("a forged signed-prekey signature is refused before any DH", () => {
    const alice = createDevice("alice", "a1");
    const bob = createDevice("bob", "b1");
    const bundle = buildPrekeyBundle(bob, true);
    const forged = { ...bundle, signedPrekey: { ...bundle.signedPrekey, signature: bundle.signedPrekey.signature.slice() } };
    forged.signedPrekey.signature[10]! ^= 0x40;
    expect(codeOf(() => startSessionAsInitiator(alice, forged))).toBe("INVALID_SIGNATURE");
    // A prekey signed by someone else's key (attacker substitutes the signed prekey) also fails.
    const mallory = createDevice("mallory", "m1");
    const swapped = { ...bundle, signedPrekey: buildPrekeyBundle(mallory, false).signedPrekey };
    expect(codeOf(() => startSessionAsInitiator(alice, swapped))).toBe("INVALID_SIGNATURE");
    // The signature binds the identity DH key: swapping it breaks verification too.
    expect(verifySignedPrekeySignature({ ...bundle, identityKey: mallory.identity.publicKey })).toBe(false);
    expect(verifySignedPrekeySignature(bundle)).toBe(true);
  });

  test("a replayed initial message cannot reuse the consumed one-time prekey", () => {
    const alice = createDevice("alice", "a1");
    const bob = createDevice("bob", "b1");
    const session = startSessionAsInitiator(alice, buildPrekeyBundle(bob, true));
    const first = encryptRatchetMessage(session.ratchet, encodeUtf8("once"));
    acceptSessionAsResponder(bob, { userId: "alice", deviceId: "a1" }, first.message);
    expect(codeOf(() => acceptSessionAsResponder(bob, { userId: "alice", deviceId: "a1" }, first.message))).toBe("UNKNOWN_PREKEY");
  });

  test("a tampered initial message fails and does not burn the one-time prekey", () => {
    const alice = createDevice("alice", "a1");
    const bob = createDevice("bob", "b1");
    const session = startSessionAsInitiator(alice, buildPrekeyBundle(bob, true));
    const first = encryptRatchetMessage(session.ratchet, encodeUtf8("once"));
    const tampered = { ...first.message, ciphertext: first.message.ciphertext.slice() };
    tampered.ciphertext[0]! ^= 1;
    const before = bob.oneTimePrekeys.size;
    expect(codeOf(() => acceptSessionAsResponder(bob, { userId: "alice", deviceId: "a1" }, tampered))).toBe("DECRYPT_FAILED");
    expect(bob.oneTimePrekeys.size).toBe(before);
    expect(decodeUtf8(acceptSessionAsResponder(bob, { userId: "alice", deviceId: "a1" }, first.message).plaintext)).toBe("once");
  });

  test("an attacker's identity key in the X3DH header yields a different secret (decrypt fails)", () => {
    const alice = createDevice("alice", "a1");
    const bob = createDevice("bob", "b1");
    const mallory = createDevice("mallory", "m1");
    const session = startSessionAsInitiator(alice, buildPrekeyBundle(bob, false));
    const first = encryptRatchetMessage(session.ratchet, encodeUtf8("secret"));
    const spoofed = { ...first.message, x3dh: { ...first.message.x3dh!, identityKey: mallory.identity.publicKey } };
    expect(codeOf(() => acceptSessionAsResponder(bob, { userId: "alice", deviceId: "a1" }, spoofed))).toBe("DECRYPT_FAILED");
  });
});

describe("receivePairwiseMessage", () => {
  test("initial messages out of order join one session; a re-initiated session is added", () => {
    const alice = createDevice("alice", "a1");
    const bob = createDevice("bob", "b1");
    const sender = { userId: "alice", deviceId: "a1" };
    const session = startSessionAsInitiator(alice, buildPrekeyBundle(bob, true));
    const m0 = encryptRatchetMessage(session.ratchet, encodeUtf8("zero")).message;
    const m1 = encryptRatchetMessage(session.ratchet, encodeUtf8("one")).message;
    const first = receivePairwiseMessage(bob, [], sender, m1); // the second message arrives first
    expect(first.isNewSession).toBe(true);
    expect(decodeUtf8(first.plaintext)).toBe("one");
    let bobSessions = promoteSession([], first.session);
    const second = receivePairwiseMessage(bob, bobSessions, sender, m0); // same X3DH header: same session
    expect(second.isNewSession).toBe(false);
    expect(decodeUtf8(second.plaintext)).toBe("zero");
    expect(codeOf(() => receivePairwiseMessage(bob, bobSessions, sender, m0))).toBe("REPLAYED_MESSAGE");

    // Alice lost her state and starts over: a new ephemeral key means a new session.
    const restart = startSessionAsInitiator(alice, buildPrekeyBundle(bob, false));
    const fresh = receivePairwiseMessage(bob, bobSessions, sender, encryptRatchetMessage(restart.ratchet, encodeUtf8("again")).message);
    expect(fresh.isNewSession).toBe(true);
    expect(decodeUtf8(fresh.plaintext)).toBe("again");
    bobSessions = promoteSession(bobSessions, fresh.session);
    expect(bobSessions.length).toBe(2);
    // Without a session and without an X3DH header there is nothing to decrypt with.
    const reply = encryptRatchetMessage(bobSessions[0]!.ratchet, encodeUtf8("reply")).message;
    expect(codeOf(() => receivePairwiseMessage(alice, [], { userId: "bob", deviceId: "b1" }, reply))).toBe("NO_SESSION");
    const restored = restorePairwiseSession(JSON.parse(JSON.stringify(serialisePairwiseSession(restart))));
    expect(decodeUtf8(receivePairwiseMessage(alice, [session, restored], { userId: "bob", deviceId: "b1" }, reply).plaintext)).toBe("reply");
  });

  test("simultaneous initiation converges: each side finds the session a message belongs to", () => {
    const alice = createDevice("alice", "a1");
    const bob = createDevice("bob", "b1");
    const fromAlice = { userId: "alice", deviceId: "a1" };
    const fromBob = { userId: "bob", deviceId: "b1" };
    // Both start a session at the same time and send before hearing from the other.
    let aliceSessions = [startSessionAsInitiator(alice, buildPrekeyBundle(bob, true))];
    let bobSessions = [startSessionAsInitiator(bob, buildPrekeyBundle(alice, true))];
    const a1 = encryptRatchetMessage(aliceSessions[0]!.ratchet, encodeUtf8("alice first")).message;
    const b1 = encryptRatchetMessage(bobSessions[0]!.ratchet, encodeUtf8("bob first")).message;
    const atBob = receivePairwiseMessage(bob, bobSessions, fromAlice, a1);
    bobSessions = promoteSession(bobSessions, atBob.session);
    const atAlice = receivePairwiseMessage(alice, aliceSessions, fromBob, b1);
    aliceSessions = promoteSession(aliceSessions, atAlice.session);
    expect([decodeUtf8(atBob.plaintext), decodeUtf8(atAlice.plaintext)]).toEqual(["alice first", "bob first"]);
    // Each now sends on its newest session; the other side finds the matching one.
    for (let round = 0; round < 3; round++) {
      const fromA = encryptRatchetMessage(aliceSessions[0]!.ratchet, encodeUtf8(`a${round}`)).message;
      const gotB = receivePairwiseMessage(bob, bobSessions, fromAlice, fromA);
      expect(decodeUtf8(gotB.plaintext)).toBe(`a${round}`);
      bobSessions = promoteSession(bobSessions, gotB.session);
      const fromB = encryptRatchetMessage(bobSessions[0]!.ratchet, encodeUtf8(`b${round}`)).message;
      const gotA = receivePairwiseMessage(alice, aliceSessions, fromBob, fromB);
      expect(decodeUtf8(gotA.plaintext)).toBe(`b${round}`);
      aliceSessions = promoteSession(aliceSessions, gotA.session);
    }
  });
});

describe("multi-device DM through a pairwise envelope", () => {
  test("one message reaches both of Bob's devices and Alice's other device; each reads only its entry", () => {
    const alicePhone = createDevice("alice", "alice-phone");
    const aliceLaptop = createDevice("alice", "alice-laptop");
    const bobPhone = createDevice("bob", "bob-phone");
    const bobLaptop = createDevice("bob", "bob-laptop");
    const targets = [bobPhone, bobLaptop, aliceLaptop];
    const bundles = parsePrekeyBundleList(JSON.stringify(encodePrekeyBundleList(targets.map((d) => buildPrekeyBundle(d, true)))));
    const sessions = bundles.map((bundle) => ({ deviceId: bundle.deviceId, session: startSessionAsInitiator(alicePhone, bundle) }));

    const sendAndRead = (text: string, receivers: Map<string, PairwiseSession>) => {
      const { envelope, messageKeys } = encryptForDevices("alice-phone", sessions, encodeUtf8(text));
      expect(messageKeys.size).toBe(3);
      const relayed = parsePairwiseEnvelope(JSON.stringify(encodePairwiseEnvelope(envelope)));
      for (const device of targets) {
        const existing = receivers.get(device.deviceId);
        if (existing) {
          expect(decodeUtf8(decryptEnvelopeForDevice(relayed, device.deviceId, existing).plaintext)).toBe(text);
        } else {
          const entry = relayed.recipients.find((r) => r.deviceId === device.deviceId)!;
          const accepted = acceptSessionAsResponder(device, { userId: "alice", deviceId: "alice-phone" }, entry.message);
          expect(decodeUtf8(accepted.plaintext)).toBe(text);
          receivers.set(device.deviceId, accepted.session);
        }
      }
      return relayed;
    };
    const receivers = new Map<string, PairwiseSession>();
    sendAndRead("first, with X3DH headers", receivers);
    const second = sendAndRead("second", receivers);
    // An entry is only readable by its own device's session.
    const bobPhoneSession = receivers.get("bob-phone")!;
    const wrongEntry = { ...second, recipients: [{ ...second.recipients.find((r) => r.deviceId === "bob-laptop")!, deviceId: "bob-phone" }] };
    expect(codeOf(() => decryptEnvelopeForDevice(wrongEntry, "bob-phone", bobPhoneSession))).toBe("DECRYPT_FAILED");
    expect(codeOf(() => decryptEnvelopeForDevice(second, "carol-phone", bobPhoneSession))).toBe("NO_SESSION");
    expect(codeOf(() => encryptForDevices("alice-phone", [], encodeUtf8("x")))).toBe("NO_SESSION");
  });
});

describe("device identity", () => {
  test("signed prekey rotates weekly; the previous one still accepts in-flight sessions", () => {
    const alice = createDevice("alice", "a1");
    const bob = createDevice("bob", "b1");
    expect(shouldRotateSignedPrekey(bob, NOW + SIGNED_PREKEY_ROTATION_MS - 1)).toBe(false);
    expect(shouldRotateSignedPrekey(bob, NOW + SIGNED_PREKEY_ROTATION_MS)).toBe(true);
    const oldBundle = buildPrekeyBundle(bob, false);
    const session = startSessionAsInitiator(alice, oldBundle);
    const first = encryptRatchetMessage(session.ratchet, encodeUtf8("sent before rotation"));
    const rotated = rotateSignedPrekey(bob, NOW + SIGNED_PREKEY_ROTATION_MS);
    expect(rotated.id).toBe(oldBundle.signedPrekey.id + 1);
    expect(shouldRotateSignedPrekey(bob, NOW + SIGNED_PREKEY_ROTATION_MS + 1)).toBe(false);
    expect(verifySignedPrekeySignature(buildPrekeyBundle(bob, false))).toBe(true);
    const accepted = acceptSessionAsResponder(bob, { userId: "alice", deviceId: "a1" }, first.message);
    expect(decodeUtf8(accepted.plaintext)).toBe("sent before rotation");
    // Two rotations later the original prekey is gone.
    rotateSignedPrekey(bob, NOW + 2 * SIGNED_PREKEY_ROTATION_MS);
    const late = startSessionAsInitiator(alice, oldBundle);
    const lateMessage = encryptRatchetMessage(late.ratchet, encodeUtf8("too late"));
    expect(codeOf(() => acceptSessionAsResponder(bob, { userId: "alice", deviceId: "a1" }, lateMessage.message))).toBe("UNKNOWN_PREKEY");
  });

  test("one-time prekeys: batch of 100, replenish below 20", () => {
    const bob = createDevice("bob", "b1");
    expect(bob.oneTimePrekeys.size).toBe(100);
    expect(exportDevicePublicBundle(bob).oneTimePrekeys.length).toBe(100);
    expect(countOneTimePrekeysToGenerate(20)).toBe(0);
    expect(countOneTimePrekeysToGenerate(19)).toBe(100);
    expect(countOneTimePrekeysToGenerate(0)).toBe(100);
    const more = generateOneTimePrekeys(bob, countOneTimePrekeysToGenerate(5));
    expect(more.length).toBe(100);
    expect(more[0]!.id).toBe(101); // ids continue, never reused
    expect(bob.oneTimePrekeys.size).toBe(200);
  });

  test("serialise/restore keeps every key", () => {
    const bob = createDevice("bob", "b1");
    rotateSignedPrekey(bob, NOW + SIGNED_PREKEY_ROTATION_MS);
    const restored = restoreDeviceIdentity(JSON.parse(JSON.stringify(serialiseDeviceIdentity(bob))));
    expect(restored).toEqual(bob);
    const alice = createDevice("alice", "a1");
    const session = startSessionAsInitiator(alice, buildPrekeyBundle(restored, true));
    const first = encryptRatchetMessage(session.ratchet, encodeUtf8("to restored"));
    expect(decodeUtf8(acceptSessionAsResponder(restored, { userId: "alice", deviceId: "a1" }, first.message).plaintext)).toBe("to restored");
  });
});
