import { describe, expect, test } from "bun:test";
import { deviceKey, planSenderKey, selectRecipientDevices } from "../../../src/client/chat/recipients.ts";
import { normaliseMessage } from "../../../src/client/chat/types.ts";
import { decodeChatPlaintext, encodeChatPlaintext } from "../../../src/client/chat/engine.ts";
import {
  createDeviceIdentity,
  decodeUtf8,
  encodePairwiseEnvelope,
  encryptForDevices,
  exportDevicePublicBundle,
  parsePairwiseEnvelope,
  receivePairwiseMessage,
  startSessionAsInitiator,
  type DeviceIdentity,
  type PrekeyBundle,
} from "../../../src/client/e2ee/index.ts";

const DAY = 86_400_000;

describe("choosing recipient devices", () => {
  test("every device of every participant, the sender's other devices included, never this device", () => {
    const devices = new Map([
      ["alice", ["a-phone", "a-laptop"]],
      ["bob", ["b-1", "b-2"]],
      ["carol", []],
    ]);
    const out = selectRecipientDevices(devices, ["alice", "bob", "carol"], { userId: "alice", deviceId: "a-phone" });
    expect(out.map(deviceKey).sort()).toEqual(["alice/a-laptop", "bob/b-1", "bob/b-2"]);
  });

  test("the sender is included even when not listed as a participant, and devices appear once", () => {
    const devices = new Map([["alice", ["a1", "a2"]], ["bob", ["b1"]]]);
    const out = selectRecipientDevices(devices, ["bob", "bob"], { userId: "alice", deviceId: "a1" });
    expect(out.map(deviceKey).sort()).toEqual(["alice/a2", "bob/b1"]);
  });
});

describe("sender key rotation decision (planSenderKey)", () => {
  const now = 1_000 * DAY;
  const devs = (...keys: string[]) => keys.map((k) => ({ userId: k.split("/")[0]!, deviceId: k.split("/")[1]! }));

  test("no own key yet: create and distribute to every member device", () => {
    expect(planSenderKey(undefined, new Set(), devs("b/1", "c/1"), now)).toEqual({ action: "create", reason: "no-key", distributeTo: devs("b/1", "c/1") });
  });

  test("a device that held the key is gone (member left, kicked, banned, device revoked): rotate, only to who remains", () => {
    const plan = planSenderKey({ createdAt: now - DAY, messageCount: 3 }, new Set(["b/1", "c/1"]), devs("b/1"), now);
    expect(plan).toEqual({ action: "rotate", reason: "membership-shrank", distributeTo: devs("b/1") });
  });

  test("7 days or 1000 messages: rotate", () => {
    expect(planSenderKey({ createdAt: now - 7 * DAY, messageCount: 1 }, new Set(["b/1"]), devs("b/1"), now).action).toBe("rotate");
    expect(planSenderKey({ createdAt: now, messageCount: 1000 }, new Set(["b/1"]), devs("b/1"), now).action).toBe("rotate");
  });

  test("a new member or device just receives the current key", () => {
    const plan = planSenderKey({ createdAt: now - DAY, messageCount: 5 }, new Set(["b/1"]), devs("b/1", "b/2", "d/1"), now);
    expect(plan).toEqual({ action: "keep", distributeTo: devs("b/2", "d/1") });
  });

  test("nothing changed: keep, distribute to nobody", () => {
    expect(planSenderKey({ createdAt: now - DAY, messageCount: 5 }, new Set(["b/1"]), devs("b/1"), now)).toEqual({ action: "keep", distributeTo: [] });
  });
});

describe("pairwise envelope building", () => {
  function bundleOf(device: DeviceIdentity): PrekeyBundle {
    const pub = exportDevicePublicBundle(device);
    const [id, keyPair] = [...device.oneTimePrekeys][0]!;
    return { userId: device.userId, deviceId: device.deviceId, signingKey: pub.signingKey, identityKey: pub.identityKey, signedPrekey: pub.signedPrekey, oneTimePrekey: { id, publicKey: keyPair.publicKey } };
  }

  test("one ciphertext per recipient device; each device (Bob's two, Alice's other) reads the same text", () => {
    const now = Date.now();
    const alicePhone = createDeviceIdentity({ userId: "alice", deviceId: "a-phone", now });
    const others = [createDeviceIdentity({ userId: "alice", deviceId: "a-laptop", now }), createDeviceIdentity({ userId: "bob", deviceId: "b-1", now }), createDeviceIdentity({ userId: "bob", deviceId: "b-2", now })];
    const devicesByUser = new Map([["alice", ["a-phone", "a-laptop"]], ["bob", ["b-1", "b-2"]]]);
    const targets = selectRecipientDevices(devicesByUser, ["alice", "bob"], { userId: "alice", deviceId: "a-phone" });
    const byId = new Map(others.map((d) => [d.deviceId, d]));
    const recipients = targets.map((t) => ({ deviceId: t.deviceId, session: startSessionAsInitiator(alicePhone, bundleOf(byId.get(t.deviceId)!)) }));
    const { envelope } = encryptForDevices("a-phone", recipients, encodeChatPlaintext("hello *all*"));
    const wire = JSON.stringify(encodePairwiseEnvelope(envelope));
    expect(wire).not.toContain("hello");
    const parsed = parsePairwiseEnvelope(wire);
    expect(parsed.recipients.map((r) => r.deviceId).sort()).toEqual(["a-laptop", "b-1", "b-2"]);
    for (const device of others) {
      const entry = parsed.recipients.find((r) => r.deviceId === device.deviceId)!;
      const { plaintext } = receivePairwiseMessage(device, [], { userId: "alice", deviceId: "a-phone" }, entry.message);
      expect(decodeChatPlaintext(plaintext)).toBe("hello *all*");
    }
  });

  test("the plaintext format is versioned JSON and refuses anything else", () => {
    expect(decodeUtf8(encodeChatPlaintext("hi"))).toBe('{"v":1,"text":"hi"}');
    expect(() => decodeChatPlaintext(new TextEncoder().encode('{"v":2,"text":"x"}'))).toThrow();
  });
});

describe("message JSON from HTTP (snake_case) and WebSocket (camelCase)", () => {
  test("both shapes normalise to the same message", () => {
    const http = { id: "m1", channel_id: "c1", seq: 3, sender_id: "u1", sender_device_id: "d1", client_id: "k", scheme: "sk", ciphertext: "abc", created_at: "2026-11-24T00:00:00.000Z" };
    const ws = { id: "m1", channelId: "c1", seq: 3, senderId: "u1", senderDeviceId: "d1", clientId: "k", scheme: "sk", ciphertext: "abc", createdAt: "2026-11-24T00:00:00.000Z" };
    expect(normaliseMessage(ws)).toEqual(normaliseMessage(http));
    expect(normaliseMessage({ ...http, scheme: "plain" })).toBeNull();
    expect(normaliseMessage(null)).toBeNull();
  });
});
