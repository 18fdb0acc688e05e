import { describe, expect, test } from "bun:test";
import {
  acceptSessionAsResponder,
  createKeyBackup,
  decodeUtf8,
  decryptGroupMessageWithKey,
  decryptRatchetMessageWithKey,
  E2eeError,
  encodeKeyBackupBlob,
  encodeUtf8,
  encryptGroupMessage,
  encryptRatchetMessage,
  decryptRatchetMessage,
  formatRecoveryKey,
  generateRecoveryKey,
  MessageKeyArchive,
  parseKeyBackupBlob,
  parseRecoveryKey,
  restoreKeyBackup,
  SenderKeyStore,
  startSessionAsInitiator,
  type KeyBackupBlob,
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

describe("recovery key", () => {
  test("56 characters in 14 groups; parses back, forgiving case, spaces and look-alikes", () => {
    const key = generateRecoveryKey();
    const text = formatRecoveryKey(key);
    expect(text).toMatch(/^([0-9A-HJKMNP-TV-Z]{4}-){13}[0-9A-HJKMNP-TV-Z]{4}$/);
    expect(parseRecoveryKey(text)).toEqual(key);
    expect(parseRecoveryKey(text.toLowerCase().replace(/-/g, " "))).toEqual(key);
    expect(parseRecoveryKey(text.replace(/0/g, "O").replace(/1/g, "l"))).toEqual(key);
  });

  test("every single-character typo in a recovery key is detected", () => {
    // A fixed key keeps this deterministic (a random one could, once in ~2^24, hit a checksum collision).
    const text = formatRecoveryKey(Uint8Array.from({ length: 32 }, (_, i) => i * 7)).replace(/-/g, "");
    const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let detected = 0;
    for (let i = 0; i < text.length; i++) {
      const replacement = alphabet[(alphabet.indexOf(text[i]!) + 1 + (i % 31)) % 32]!;
      const typo = text.slice(0, i) + replacement + text.slice(i + 1);
      expect(codeOf(() => parseRecoveryKey(typo))).toBe("INVALID_RECOVERY_KEY");
      detected++;
    }
    expect(detected).toBe(56);
    expect(codeOf(() => parseRecoveryKey(text.slice(1)))).toBe("INVALID_RECOVERY_KEY");
    expect(codeOf(() => parseRecoveryKey(text.slice(0, 55) + "U"))).toBe("INVALID_RECOVERY_KEY");
  });
});

describe("key backup", () => {
  // Device 1 (alice) talks with bob, in a DM and in a channel, archiving message keys as it goes.
  const alice = createDevice("alice", "alice-old-phone");
  const bob = createDevice("bob", "bob-laptop");
  const archive = new MessageKeyArchive();
  const senderKeys = new SenderKeyStore();
  const aliceSession = startSessionAsInitiator(alice, buildPrekeyBundle(bob, true));
  const stored: Array<{ id: string; kind: "dm" | "channel"; text: string; wire: ReturnType<typeof encryptRatchetMessage>["message"] | ReturnType<typeof encryptGroupMessage>["message"] }> = [];

  const first = encryptRatchetMessage(aliceSession.ratchet, encodeUtf8("hi bob, from my old phone"));
  archive.rememberMessageKey("msg-1", first.messageKey); // own sent message
  stored.push({ id: "msg-1", kind: "dm", text: "hi bob, from my old phone", wire: first.message });
  const accepted = acceptSessionAsResponder(bob, { userId: "alice", deviceId: alice.deviceId }, first.message);
  const reply = encryptRatchetMessage(accepted.session.ratchet, encodeUtf8("hello alice"));
  archive.rememberMessageKey("msg-2", decryptRatchetMessage(aliceSession.ratchet, reply.message).messageKey);
  stored.push({ id: "msg-2", kind: "dm", text: "hello alice", wire: reply.message });
  const own = senderKeys.getOrCreateOwnKey("channel-1", NOW).key;
  const groupMessage = encryptGroupMessage(own, alice.deviceId, encodeUtf8("channel history"));
  archive.rememberMessageKey("msg-3", groupMessage.messageKey);
  stored.push({ id: "msg-3", kind: "channel", text: "channel history", wire: groupMessage.message });

  const recoveryKey = generateRecoveryKey();
  const recoveryText = formatRecoveryKey(recoveryKey); // shown to the user once
  const blob = createKeyBackup(recoveryKey, { createdAt: NOW, device: alice, sessions: [aliceSession], senderKeys, archive }, 7);
  const onServer = JSON.stringify(encodeKeyBackupBlob(blob));

  test("a fresh device restores with the recovery key and reads old DM and channel messages", () => {
    const fetched = parseKeyBackupBlob(onServer);
    expect(fetched.version).toBe(7);
    const snapshot = restoreKeyBackup(parseRecoveryKey(recoveryText), fetched);
    expect(snapshot.device.identity.publicKey).toEqual(alice.identity.publicKey);
    expect(snapshot.archive.size).toBe(3);
    const session = snapshot.sessions[0]!;
    for (const item of stored) {
      const key = snapshot.archive.findMessageKey(item.id)!;
      const text =
        item.kind === "dm"
          ? decodeUtf8(decryptRatchetMessageWithKey(key, session.ratchet.associatedData, item.wire as typeof first.message))
          : decodeUtf8(decryptGroupMessageWithKey(key, "channel-1", alice.deviceId, item.wire as typeof groupMessage.message));
      expect(text).toBe(item.text);
    }
    // With the sender key's signing key (kept in the restored store) the signature is checked too.
    const signingKey = snapshot.senderKeys.own.get("channel-1")!.signing.publicKey;
    const channelItem = stored.find((item) => item.kind === "channel")!;
    const channelWire = channelItem.wire as typeof groupMessage.message;
    expect(decodeUtf8(decryptGroupMessageWithKey(snapshot.archive.findMessageKey("msg-3")!, "channel-1", alice.deviceId, channelWire, signingKey))).toBe("channel history");
    const badSignature = { ...channelWire, signature: channelWire.signature.slice() };
    badSignature.signature[0]! ^= 1;
    expect(codeOf(() => decryptGroupMessageWithKey(snapshot.archive.findMessageKey("msg-3")!, "channel-1", alice.deviceId, badSignature, signingKey))).toBe("INVALID_SIGNATURE");
    // The restored sessions and sender keys are live state too.
    expect(snapshot.senderKeys.own.get("channel-1")!.iteration).toBe(1);
  });

  test("wrong recovery key, typo, tampered blob, edited version and rollback are refused", () => {
    const fetched = parseKeyBackupBlob(onServer);
    expect(codeOf(() => restoreKeyBackup(generateRecoveryKey(), fetched))).toBe("DECRYPT_FAILED");
    const typo = recoveryText.slice(0, 10) + (recoveryText[10] === "A" ? "B" : "A") + recoveryText.slice(11);
    expect(codeOf(() => parseRecoveryKey(typo))).toBe("INVALID_RECOVERY_KEY");
    for (const field of ["ciphertext", "salt", "nonce"] as const) {
      const tampered: KeyBackupBlob = { ...fetched, [field]: fetched[field].slice() };
      tampered[field][0]! ^= 1;
      expect(codeOf(() => restoreKeyBackup(recoveryKey, tampered))).toBe("DECRYPT_FAILED");
    }
    // The server cannot relabel an old backup as newer: the version is authenticated.
    expect(codeOf(() => restoreKeyBackup(recoveryKey, { ...fetched, version: 8 }))).toBe("DECRYPT_FAILED");
    // And the client refuses a backup older than one it knew.
    expect(codeOf(() => restoreKeyBackup(recoveryKey, fetched, { lastKnownVersion: 8 }))).toBe("INVALID_STATE");
    expect(restoreKeyBackup(recoveryKey, fetched, { lastKnownVersion: 7 }).archive.size).toBe(3);
  });

  test("each backup uses a fresh salt and nonce", () => {
    const again = createKeyBackup(recoveryKey, { createdAt: NOW, device: alice, sessions: [], senderKeys, archive }, 8);
    expect(again.salt).not.toEqual(blob.salt);
    expect(again.nonce).not.toEqual(blob.nonce);
    expect(codeOf(() => createKeyBackup(recoveryKey, { createdAt: NOW, device: alice, sessions: [], senderKeys, archive }, 0))).toBe("INVALID_STATE");
  });
});
