import { describe, expect, test } from "bun:test";
import {
  decodeUtf8,
  decryptEnvelopeForDevice,
  decryptGroupMessage,
  distributeSenderKey,
  E2eeError,
  encodePairwiseEnvelope,
  encodeSenderKeyMessage,
  encodeUtf8,
  encryptGroupMessage,
  parsePairwiseEnvelope,
  parseSenderKeyMessage,
  restoreSenderKeyStore,
  SenderKeyStore,
  serialiseSenderKeyStore,
  shouldRotateSenderKey,
  type DeviceIdentity,
  type PairwiseSession,
  type SenderKeyMessage,
} from "../../../src/client/e2ee/index.ts";
import { computeHmacSha256, signBytes } from "../../../src/client/e2ee/primitives.ts";
import { sealWithMessageKey } from "../../../src/client/e2ee/message-crypto.ts";
import { encodeGroupMessageContext } from "../../../src/client/e2ee/sender-keys.ts";
import { concatBytes } from "../../../src/client/e2ee/bytes.ts";
import { createDevice, createSeededRandom, establishSessions, NOW } from "./test-helpers.ts";

const CHANNEL = "channel-general";
const DAY = 24 * 60 * 60 * 1000;

interface Member {
  userId: string;
  devices: DeviceIdentity[];
}

/** Full mesh of pairwise sessions between every pair of devices, keyed "from->to". */
function buildMesh(devices: DeviceIdentity[]): Map<string, PairwiseSession> {
  const mesh = new Map<string, PairwiseSession>();
  for (let i = 0; i < devices.length; i++) {
    for (let j = i + 1; j < devices.length; j++) {
      const { aliceSession, bobSession } = establishSessions(devices[i]!, devices[j]!, false);
      mesh.set(`${devices[i]!.deviceId}->${devices[j]!.deviceId}`, aliceSession);
      mesh.set(`${devices[j]!.deviceId}->${devices[i]!.deviceId}`, bobSession);
    }
  }
  return mesh;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof E2eeError ? error.code : String(error);
  }
  return undefined;
}

describe("Sender Keys: 5 members × 2 devices", () => {
  const members: Member[] = ["ana", "ben", "cai", "dee", "eli"].map((userId) => ({
    userId,
    devices: [createDevice(userId, `${userId}-phone`), createDevice(userId, `${userId}-laptop`)],
  }));
  const allDevices = members.flatMap((m) => m.devices);
  const mesh = buildMesh(allDevices);
  const stores = new Map(allDevices.map((d) => [d.deviceId, new SenderKeyStore()]));

  /** The sender distributes its key to `recipients`; each recipient decrypts its envelope entry. */
  function distribute(sender: DeviceIdentity, recipients: DeviceIdentity[]): void {
    const { key } = stores.get(sender.deviceId)!.getOrCreateOwnKey(CHANNEL, NOW);
    const envelope = distributeSenderKey(
      key,
      sender.deviceId,
      recipients.map((r) => ({ deviceId: r.deviceId, session: mesh.get(`${sender.deviceId}->${r.deviceId}`)! })),
    );
    // What the server relays: validated JSON with one ciphertext per device, no chain key in clear.
    const wire = JSON.stringify(encodePairwiseEnvelope(envelope));
    const relayed = parsePairwiseEnvelope(wire);
    expect(relayed.recipients.map((r) => r.deviceId).sort()).toEqual(recipients.map((r) => r.deviceId).sort());
    expect(wire.includes(Buffer.from(key.chainKey).toString("base64url"))).toBe(false);
    for (const r of recipients) {
      const session = mesh.get(`${r.deviceId}->${sender.deviceId}`)!;
      const { plaintext } = decryptEnvelopeForDevice(relayed, r.deviceId, session);
      stores.get(r.deviceId)!.acceptDistribution(session, plaintext);
    }
  }

  function send(sender: DeviceIdentity, text: string): SenderKeyMessage {
    const { key } = stores.get(sender.deviceId)!.getOrCreateOwnKey(CHANNEL, NOW);
    return parseSenderKeyMessage(JSON.stringify(encodeSenderKeyMessage(encryptGroupMessage(key, sender.deviceId, encodeUtf8(text)).message)));
  }

  function read(reader: DeviceIdentity, sender: DeviceIdentity, message: SenderKeyMessage): string {
    const state = stores.get(reader.deviceId)!.findReceivedKey(CHANNEL, sender.deviceId, message.keyId);
    return decodeUtf8(decryptGroupMessage(state, message).plaintext);
  }

  test("every device distributes; every other device decrypts every message", () => {
    for (const sender of allDevices) distribute(sender, allDevices.filter((d) => d !== sender));
    for (const sender of allDevices) {
      const messages = [0, 1, 2].map((i) => send(sender, `${sender.deviceId} says ${i}`));
      for (const reader of allDevices) {
        if (reader === sender) continue;
        // Out of order within a sender's chain works too.
        expect(read(reader, sender, messages[2]!)).toBe(`${sender.deviceId} says 2`);
        expect(read(reader, sender, messages[0]!)).toBe(`${sender.deviceId} says 0`);
        expect(read(reader, sender, messages[1]!)).toBe(`${sender.deviceId} says 1`);
        expect(codeOf(() => read(reader, sender, messages[1]!))).toBe("REPLAYED_MESSAGE");
      }
    }
  });

  test("removing a member rotates the key; the removed member's stored state cannot read new messages", () => {
    const removed = members[4]!; // eli leaves (or is kicked/banned)
    const remainingDevices = allDevices.filter((d) => !removed.devices.includes(d));
    const sender = members[0]!.devices[0]!;
    const ownKey = stores.get(sender.deviceId)!.getOrCreateOwnKey(CHANNEL, NOW).key;
    const oldKeyId = ownKey.keyId;
    expect(shouldRotateSenderKey({ createdAt: ownKey.createdAt, messageCount: ownKey.messageCount, membershipChanged: true }, NOW)).toBe(true);

    // Eli's devices keep whatever they had: a snapshot of their sender key store.
    const eliStates = removed.devices.map((d) => restoreSenderKeyStore(JSON.parse(JSON.stringify(serialiseSenderKeyStore(stores.get(d.deviceId)!)))));
    const oldReceived = eliStates[0]!.findReceivedKey(CHANNEL, sender.deviceId, oldKeyId);
    const oldChainKey = oldReceived.chainKey;

    stores.get(sender.deviceId)!.rotateOwnKey(CHANNEL, NOW + 1);
    distribute(sender, remainingDevices.filter((d) => d !== sender));
    const after = send(sender, "after eli left");
    expect(after.keyId).not.toBe(oldKeyId);

    for (const reader of remainingDevices) if (reader !== sender) expect(read(reader, sender, after)).toBe("after eli left");
    for (const eliStore of eliStates) {
      expect(codeOf(() => eliStore.findReceivedKey(CHANNEL, sender.deviceId, after.keyId))).toBe("UNKNOWN_SENDER_KEY");
      // Even forcing the old chain onto the new message fails: the new chain is independent.
      // (Give Eli the new signing public key too, so the AEAD is what refuses, not the signature.)
      const newSigningKey = stores.get(remainingDevices[1]!.deviceId)!.findReceivedKey(CHANNEL, sender.deviceId, after.keyId).signingKey;
      const forced = {
        ...eliStore.findReceivedKey(CHANNEL, sender.deviceId, oldKeyId),
        keyId: after.keyId,
        iteration: after.iteration,
        signingKey: newSigningKey,
        skipped: new Map<number, Uint8Array>(),
      };
      expect(codeOf(() => decryptGroupMessage(forced, after))).toBe("DECRYPT_FAILED");
    }
    // Brute force every message key the old chain could produce for the next 200 steps.
    const context = encodeGroupMessageContext(CHANNEL, sender.deviceId, after.keyId, after.iteration);
    let chainKey = oldChainKey;
    for (let i = 0; i < 200; i++) {
      const messageKey = computeHmacSha256(chainKey, Uint8Array.of(1));
      expect(sealWithMessageKey(messageKey, encodeUtf8("after eli left"), context)).not.toEqual(after.ciphertext);
      chainKey = computeHmacSha256(chainKey, Uint8Array.of(2));
    }
  });

  test("a member cannot impersonate another: the forged message fails the sender's signature", () => {
    const victim = members[1]!.devices[0]!;
    const forger = members[2]!.devices[0]!;
    const reader = members[3]!.devices[1]!;
    const genuine = send(victim, "genuine");
    expect(read(reader, victim, genuine)).toBe("genuine");

    // The forger holds the victim's chain state (everyone in the channel does), so it can derive
    // the next message key and produce a valid AEAD ciphertext "from" the victim...
    const forgerView = stores.get(forger.deviceId)!.findReceivedKey(CHANNEL, victim.deviceId, genuine.keyId);
    let chainKey = forgerView.chainKey;
    for (let i = forgerView.iteration; i < genuine.iteration + 1; i++) chainKey = computeHmacSha256(chainKey, Uint8Array.of(2));
    const iteration = genuine.iteration + 1;
    const context = encodeGroupMessageContext(CHANNEL, victim.deviceId, genuine.keyId, iteration);
    const ciphertext = sealWithMessageKey(computeHmacSha256(chainKey, Uint8Array.of(1)), encodeUtf8("send me your password"), context);
    // ...but it can only sign with its own key.
    const forgerOwn = stores.get(forger.deviceId)!.getOrCreateOwnKey(CHANNEL, NOW).key;
    const forged: SenderKeyMessage = {
      keyId: genuine.keyId,
      iteration,
      ciphertext,
      signature: signBytes(forgerOwn.signing.privateKey, concatBytes(context, ciphertext)),
    };
    const readerState = stores.get(reader.deviceId)!.findReceivedKey(CHANNEL, victim.deviceId, genuine.keyId);
    const before = JSON.stringify(serialiseSenderKeyStore(stores.get(reader.deviceId)!));
    expect(codeOf(() => decryptGroupMessage(readerState, forged))).toBe("INVALID_SIGNATURE");
    expect(JSON.stringify(serialiseSenderKeyStore(stores.get(reader.deviceId)!))).toBe(before);
    // A genuine message with a flipped ciphertext bit fails too (signature covers the ciphertext).
    const next = send(victim, "next");
    const flipped = { ...next, ciphertext: next.ciphertext.slice() };
    flipped.ciphertext[3]! ^= 1;
    expect(codeOf(() => decryptGroupMessage(readerState, flipped))).toBe("INVALID_SIGNATURE");
    expect(read(reader, victim, next)).toBe("next");
    // A message replayed into another channel does not verify (channel id is bound).
    const otherChannel = { ...readerState, channelId: "channel-random", skipped: new Map(readerState.skipped) };
    expect(codeOf(() => decryptGroupMessage(otherChannel, genuine))).toBe("INVALID_SIGNATURE");
  });

  test("state survives serialise/restore", () => {
    const sender = members[0]!.devices[1]!;
    const reader = members[1]!.devices[1]!;
    const m = send(sender, "persisted");
    const restored = restoreSenderKeyStore(JSON.parse(JSON.stringify(serialiseSenderKeyStore(stores.get(reader.deviceId)!))));
    expect(decodeUtf8(decryptGroupMessage(restored.findReceivedKey(CHANNEL, sender.deviceId, m.keyId), m).plaintext)).toBe("persisted");
  });
});

describe("Sender Keys property", () => {
  test("300 group messages in random order with drops, replays and bit flips", () => {
    const random = createSeededRandom(0xc0ffee);
    const own = new SenderKeyStore().getOrCreateOwnKey(CHANNEL, NOW).key;
    const [a, b] = [createDevice("ana", "a1"), createDevice("ben", "b1")];
    const { aliceSession, bobSession } = establishSessions(a, b);
    const receiver = new SenderKeyStore();
    const envelope = distributeSenderKey(own, "a1", [{ deviceId: "b1", session: aliceSession }]);
    const state = receiver.acceptDistribution(bobSession, decryptEnvelopeForDevice(envelope, "b1", bobSession).plaintext);
    const inFlight: Array<{ message: SenderKeyMessage; text: string }> = [];
    const delivered: SenderKeyMessage[] = [];
    let sent = 0;
    let refused = 0;
    for (let step = 0; step < 5000 && (sent < 300 || inFlight.length > 0); step++) {
      const action = random();
      if (action < 0.4 && sent < 300) {
        const text = `group ${sent++}`;
        inFlight.push({ message: encryptGroupMessage(own, "a1", encodeUtf8(text)).message, text });
      } else if (action < 0.8 && inFlight.length > 0) {
        const [item] = inFlight.splice(Math.floor(random() * inFlight.length), 1);
        expect(decodeUtf8(decryptGroupMessage(state, item!.message).plaintext)).toBe(item!.text);
        delivered.push(item!.message);
      } else if (action < 0.85 && inFlight.length > 0) {
        inFlight.splice(Math.floor(random() * inFlight.length), 1); // dropped
      } else if (action < 0.93 && inFlight.length > 0) {
        const target = inFlight[Math.floor(random() * inFlight.length)]!.message;
        const field = random() < 0.5 ? "ciphertext" : "signature";
        const flipped = { ...target, [field]: target[field].slice() };
        flipped[field][Math.floor(random() * flipped[field].length)]! ^= 1 << Math.floor(random() * 8);
        expect(codeOf(() => decryptGroupMessage(state, flipped))).toBe("INVALID_SIGNATURE");
        refused++;
      } else if (delivered.length > 0) {
        expect(codeOf(() => decryptGroupMessage(state, delivered[Math.floor(random() * delivered.length)]!))).toBe("REPLAYED_MESSAGE");
        refused++;
      }
    }
    expect(sent).toBe(300);
    expect(inFlight.length).toBe(0);
    expect(delivered.length).toBeGreaterThan(200);
    expect(refused).toBeGreaterThan(50);
  });
});

describe("Sender Key rotation rule", () => {
  test("rotates on membership change, after 7 days, or after 1000 messages", () => {
    const base = { createdAt: NOW, messageCount: 0, membershipChanged: false };
    expect(shouldRotateSenderKey(base, NOW + 6 * DAY)).toBe(false);
    expect(shouldRotateSenderKey(base, NOW + 7 * DAY)).toBe(true);
    expect(shouldRotateSenderKey({ ...base, messageCount: 999 }, NOW)).toBe(false);
    expect(shouldRotateSenderKey({ ...base, messageCount: 1000 }, NOW)).toBe(true);
    expect(shouldRotateSenderKey({ ...base, membershipChanged: true }, NOW)).toBe(true);
  });

  test("a message too far ahead of the chain is refused", () => {
    const store = new SenderKeyStore();
    const { key } = store.getOrCreateOwnKey(CHANNEL, NOW);
    const [a, b] = [createDevice("ana", "a1"), createDevice("ben", "b1")];
    const { aliceSession, bobSession } = establishSessions(a, b);
    const envelope = distributeSenderKey(key, "a1", [{ deviceId: "b1", session: aliceSession }]);
    const receiver = new SenderKeyStore();
    receiver.acceptDistribution(bobSession, decryptEnvelopeForDevice(envelope, "b1", bobSession).plaintext);
    let last: SenderKeyMessage | undefined;
    for (let i = 0; i < 1002; i++) last = encryptGroupMessage(key, "a1", encodeUtf8(`m${i}`)).message;
    expect(codeOf(() => decryptGroupMessage(receiver.findReceivedKey(CHANNEL, "a1", key.keyId), last!))).toBe("TOO_MANY_SKIPPED");
  });
});
