import { describe, expect, test } from "bun:test";
import {
  decodeUtf8,
  decryptRatchetMessage,
  decryptRatchetMessageWithKey,
  E2eeError,
  encodeRatchetMessage,
  encodeUtf8,
  encryptRatchetMessage,
  MAX_SKIP,
  MAX_SKIPPED_KEYS_TOTAL,
  parseRatchetMessage,
  restoreRatchetState,
  serialiseRatchetState,
  type RatchetMessage,
  type RatchetState,
} from "../../../src/client/e2ee/index.ts";
import { createDevice, createSeededRandom, establishSessions } from "./test-helpers.ts";

function snapshot(state: RatchetState): string {
  return JSON.stringify(serialiseRatchetState(state));
}

function roundTrip(state: RatchetState): RatchetState {
  return restoreRatchetState(JSON.parse(JSON.stringify(serialiseRatchetState(state))));
}

function expectRefusedWithoutStateChange(state: RatchetState, message: RatchetMessage): string {
  const before = snapshot(state);
  let code: string | undefined;
  try {
    decryptRatchetMessage(state, message);
  } catch (error) {
    expect(error).toBeInstanceOf(E2eeError);
    code = (error as E2eeError).code;
  }
  expect(code).toBeDefined();
  expect(snapshot(state)).toBe(before);
  return code!;
}

function flipBit(message: RatchetMessage, random: () => number): RatchetMessage {
  // Flip one bit anywhere in the authenticated parts: ciphertext/tag, or a header field.
  const copy = parseRatchetMessage(JSON.stringify(encodeRatchetMessage(message)));
  const where = random();
  if (where < 0.6) {
    const i = Math.floor(random() * copy.ciphertext.length);
    copy.ciphertext[i]! ^= 1 << Math.floor(random() * 8);
  } else if (where < 0.8) {
    const i = Math.floor(random() * 32);
    copy.header.dh[i]! ^= 1 << Math.floor(random() * 8);
  } else if (where < 0.9) {
    copy.header.n ^= 1 << Math.floor(random() * 4);
  } else {
    copy.header.pn ^= 1 << Math.floor(random() * 4);
  }
  return copy;
}

interface InFlight {
  message: RatchetMessage;
  text: string;
}

describe("Double Ratchet properties", () => {
  test("1000 messages, random order, drops, ratchet turns, replays, bit flips, truncation, serialise/restore", () => {
    const random = createSeededRandom(0x5eed1234);
    const { aliceSession, bobSession } = establishSessions(createDevice("alice", "a1"), createDevice("bob", "b1"));
    // Index 0 = Alice, 1 = Bob. toDeliver[i] holds messages addressed to party i.
    const states: [RatchetState, RatchetState] = [aliceSession.ratchet, bobSession.ratchet];
    const toDeliver: [InFlight[], InFlight[]] = [[], []];
    const delivered: Array<[number, InFlight]> = [];
    let sent = 0;
    let received = 0;
    let dropped = 0;
    let refusedTampers = 0;
    let refusedReplays = 0;
    let turns = 0;
    let lastSender = -1;

    function deliver(to: 0 | 1, index: number): void {
      const [item] = toDeliver[to].splice(index, 1);
      const { plaintext } = decryptRatchetMessage(states[to], item!.message);
      expect(decodeUtf8(plaintext)).toBe(item!.text);
      delivered.push([to, item!]);
      received++;
    }

    for (let step = 0; step < 20_000 && sent < 1000; step++) {
      const action = random();
      if (action < 0.45) {
        // Bursty senders: keep the same sender 70% of the time so chains get long.
        const from = (lastSender >= 0 && random() < 0.7 ? lastSender : random() < 0.5 ? 0 : 1) as 0 | 1;
        if (from !== lastSender) turns++;
        lastSender = from;
        const text = `message ${sent} from ${from === 0 ? "alice" : "bob"} ${"x".repeat(Math.floor(random() * 40))}`;
        try {
          const { message } = encryptRatchetMessage(states[from], encodeUtf8(text));
          toDeliver[from === 0 ? 1 : 0].push({ message, text });
          sent++;
        } catch (error) {
          // Bob cannot send before he has received anything: that is the protocol, not a bug.
          expect((error as E2eeError).code).toBe("NO_SESSION");
        }
      } else if (action < 0.85) {
        const to = (random() < 0.5 ? 0 : 1) as 0 | 1;
        if (toDeliver[to].length > 0) deliver(to, Math.floor(random() * toDeliver[to].length));
      } else if (action < 0.89) {
        const to = (random() < 0.5 ? 0 : 1) as 0 | 1;
        if (toDeliver[to].length > 0) {
          toDeliver[to].splice(Math.floor(random() * toDeliver[to].length), 1);
          dropped++;
        }
      } else if (action < 0.94) {
        const to = (random() < 0.5 ? 0 : 1) as 0 | 1;
        const pending = toDeliver[to];
        if (pending.length > 0) {
          const target = pending[Math.floor(random() * pending.length)]!;
          expectRefusedWithoutStateChange(states[to], flipBit(target.message, random));
          // Truncation: drop the tag's last byte, or everything but a few bytes.
          const cut = { ...target.message, ciphertext: target.message.ciphertext.subarray(0, random() < 0.5 ? target.message.ciphertext.length - 1 : 3) };
          expectRefusedWithoutStateChange(states[to], cut);
          refusedTampers += 2;
        }
      } else if (action < 0.97) {
        if (delivered.length > 0) {
          const [to, item] = delivered[Math.floor(random() * delivered.length)]!;
          expectRefusedWithoutStateChange(states[to as 0 | 1], item.message);
          refusedReplays++;
        }
      } else {
        const who = random() < 0.5 ? 0 : 1;
        states[who] = roundTrip(states[who]);
      }
    }
    // Deliver the rest in random order.
    for (const to of [0, 1] as const) while (toDeliver[to].length > 0) deliver(to, Math.floor(random() * toDeliver[to].length));

    expect(sent).toBe(1000);
    expect(received + dropped).toBe(1000);
    expect(dropped).toBeGreaterThan(10);
    expect(refusedTampers).toBeGreaterThan(50);
    expect(refusedReplays).toBeGreaterThan(20);
    expect(turns).toBeGreaterThan(50);
    for (const s of states) expect(s.skipped.size).toBeLessThanOrEqual(MAX_SKIPPED_KEYS_TOTAL);
    console.log(`ratchet property: sent ${sent}, received ${received}, dropped ${dropped}, tampers refused ${refusedTampers}, replays refused ${refusedReplays}, turns ${turns}`);
  });

  test("a replayed message fails: the message key was deleted after first use", () => {
    const { aliceSession, bobSession } = establishSessions(createDevice("alice", "a1"), createDevice("bob", "b1"));
    const m1 = encryptRatchetMessage(aliceSession.ratchet, encodeUtf8("one"));
    const m2 = encryptRatchetMessage(aliceSession.ratchet, encodeUtf8("two"));
    decryptRatchetMessage(bobSession.ratchet, m2.message); // m1's key is now a skipped key
    expect(decodeUtf8(decryptRatchetMessage(bobSession.ratchet, m1.message).plaintext)).toBe("one");
    expect(expectRefusedWithoutStateChange(bobSession.ratchet, m1.message)).toBe("REPLAYED_MESSAGE");
    expect(expectRefusedWithoutStateChange(bobSession.ratchet, m2.message)).toBe("REPLAYED_MESSAGE");
  });

  test(`a message needing more than MAX_SKIP (${MAX_SKIP}) skipped keys is refused`, () => {
    const { aliceSession, bobSession } = establishSessions(createDevice("alice", "a1"), createDevice("bob", "b1"));
    const messages: RatchetMessage[] = [];
    for (let i = 0; i < MAX_SKIP + 3; i++) messages.push(encryptRatchetMessage(aliceSession.ratchet, encodeUtf8(`m${i}`)).message);
    // Bob has read message 0 ("hello" in establishSessions), so his next expected n is 1.
    expect(expectRefusedWithoutStateChange(bobSession.ratchet, messages[MAX_SKIP + 2]!)).toBe("TOO_MANY_SKIPPED");
    // n = MAX_SKIP + 1 skips exactly MAX_SKIP keys (n = 1..MAX_SKIP): allowed.
    expect(decodeUtf8(decryptRatchetMessage(bobSession.ratchet, messages[MAX_SKIP]!).plaintext)).toBe(`m${MAX_SKIP}`);
    expect(bobSession.ratchet.skipped.size).toBe(MAX_SKIP);
    expect(decodeUtf8(decryptRatchetMessage(bobSession.ratchet, messages[0]!).plaintext)).toBe("m0");
  });

  test("a new ratchet key claiming a huge previous chain (PN) is refused", () => {
    const { aliceSession, bobSession } = establishSessions(createDevice("alice", "a1"), createDevice("bob", "b1"));
    const reply = encryptRatchetMessage(bobSession.ratchet, encodeUtf8("turn"));
    decryptRatchetMessage(aliceSession.ratchet, reply.message);
    const next = encryptRatchetMessage(aliceSession.ratchet, encodeUtf8("new chain"));
    const forged = { ...next.message, header: { ...next.message.header, pn: MAX_SKIP + 5 } };
    expect(expectRefusedWithoutStateChange(bobSession.ratchet, forged)).toBe("TOO_MANY_SKIPPED");
    expect(decodeUtf8(decryptRatchetMessage(bobSession.ratchet, next.message).plaintext)).toBe("new chain");
  });

  test("the global cap on stored skipped keys evicts the oldest", () => {
    const { aliceSession, bobSession } = establishSessions(createDevice("alice", "a1"), createDevice("bob", "b1"));
    const firstOfEachChain: RatchetMessage[] = [];
    for (let chain = 0; chain < 3; chain++) {
      const batch: RatchetMessage[] = [];
      for (let i = 0; i < 900; i++) batch.push(encryptRatchetMessage(aliceSession.ratchet, encodeUtf8(`c${chain}m${i}`)).message);
      decryptRatchetMessage(bobSession.ratchet, batch[899]!); // skips up to 899 keys
      firstOfEachChain.push(batch[chain === 0 ? 1 : 0]!);
      // Turn the ratchet so Alice starts a new chain.
      decryptRatchetMessage(aliceSession.ratchet, encryptRatchetMessage(bobSession.ratchet, encodeUtf8("turn")).message);
      expect(bobSession.ratchet.skipped.size).toBeLessThanOrEqual(MAX_SKIPPED_KEYS_TOTAL);
    }
    expect(bobSession.ratchet.skipped.size).toBe(MAX_SKIPPED_KEYS_TOTAL);
    // The oldest chain's keys were evicted; the newest chain's are still there.
    expect(() => decryptRatchetMessage(bobSession.ratchet, firstOfEachChain[0]!)).toThrow(E2eeError);
    expect(decodeUtf8(decryptRatchetMessage(bobSession.ratchet, firstOfEachChain[2]!).plaintext)).toBe("c2m0");
  });

  test("a header reusing the responder's signed prekey as ratchet key is refused, not a crash", () => {
    const { aliceSession, bobSession } = establishSessions(createDevice("alice", "a1"), createDevice("bob", "b1"));
    // Before any reply, Alice's remote ratchet key is Bob's signed prekey and she has no receiving chain.
    const reply = encryptRatchetMessage(bobSession.ratchet, encodeUtf8("reply"));
    const forged = { ...reply.message, header: { ...reply.message.header, dh: aliceSession.ratchet.dhRemote! } };
    expect(expectRefusedWithoutStateChange(aliceSession.ratchet, forged)).toBe("DECRYPT_FAILED");
    expect(decodeUtf8(decryptRatchetMessage(aliceSession.ratchet, reply.message).plaintext)).toBe("reply");
  });

  test("associated data binds both identities: a session with a different AD cannot read", () => {
    const { aliceSession, bobSession } = establishSessions(createDevice("alice", "a1"), createDevice("bob", "b1"));
    const m = encryptRatchetMessage(aliceSession.ratchet, encodeUtf8("bound"));
    const wrongAd = bobSession.ratchet.associatedData.slice();
    wrongAd[0]! ^= 1;
    expect(() => decryptRatchetMessageWithKey(m.messageKey, wrongAd, m.message)).toThrow(E2eeError);
    expect(decodeUtf8(decryptRatchetMessageWithKey(m.messageKey, bobSession.ratchet.associatedData, m.message))).toBe("bound");
  });

  test("serialised state is versioned and rejects corruption", () => {
    const { bobSession } = establishSessions(createDevice("alice", "a1"), createDevice("bob", "b1"));
    const s = serialiseRatchetState(bobSession.ratchet);
    expect(s.v).toBe(1);
    expect(() => restoreRatchetState({ ...s, v: 2 })).toThrow("unsupported state version");
    expect(() => restoreRatchetState({ ...s, rootKey: "AAAA" })).toThrow("wrong length");
    expect(() => restoreRatchetState({ ...s, sendCount: -1 })).toThrow("non-negative");
  });
});
