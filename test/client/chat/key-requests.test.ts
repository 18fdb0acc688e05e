// The pure part of key requests (src/client/chat/key-requests.ts): whom to ask for what and
// when to ask again, the wire format's validation, and the answer rate limit.
import { describe, expect, test } from "bun:test";
import {
  AnswerLimiter,
  ANSWERS_PER_MINUTE,
  askedAgo,
  encodeKeyMessage,
  KEY_RETRY_MS,
  SENDER_FIRST_WAIT_MS,
  MAX_PENDING,
  parseKeyMessage,
  planKeyRequests,
  prunePending,
  REASK_SAME_DEVICE_MS,
  type PendingKey,
} from "../../../src/client/chat/key-requests.ts";
import { encodeUtf8 } from "../../../src/client/e2ee/index.ts";

const C = "0190aaaa-0000-7000-8000-000000000001";
const M1 = "0190aaaa-0000-7000-8000-0000000000a1";
const M2 = "0190aaaa-0000-7000-8000-0000000000a2";
const self = { userId: "me", deviceId: "this" };
const pending = (s: string, d: string): PendingKey => ({ c: C, s, d, at: 0, last: 0, n: 0, next: 0, asked: {} });

describe("planKeyRequests", () => {
  const targets = {
    readers: new Map([["olivia", ["o1"]], ["me", ["this", "mine2"]], ["bob", ["b1"]]]),
    own: [{ userId: "me", deviceId: "mine2" }],
    holders: [{ userId: "bob", deviceId: "b1" }],
    online: new Set<string>(),
  };

  test("each item goes to its sender's device (if still a reader's), my other devices and the holders; never this device", () => {
    const p = { [M1]: pending("olivia", "o1"), [M2]: pending("gone", "g1") };
    const plan = planKeyRequests(p, C, self, targets, 1_000);
    expect(Object.fromEntries([...plan].map(([k, v]) => [k, v.items]))).toEqual({ "olivia/o1": [M1], "me/mine2": [M1, M2], "bob/b1": [M1, M2] });
    expect(p[M1]!.last).toBe(1_000);
    expect(p[M1]!.next).toBe(1_000 + KEY_RETRY_MS[0]);
  });

  test("backoff: not again before the retry time; the same device not again within 10 minutes; Retry forces both", () => {
    const p = { [M1]: pending("olivia", "o1") };
    planKeyRequests(p, C, self, targets, 0);
    expect(planKeyRequests(p, C, self, targets, KEY_RETRY_MS[0] - 1).size).toBe(0);
    // Due again, but every device was asked less than 10 minutes ago: a new holder only.
    const later = planKeyRequests(p, C, self, { ...targets, holders: [{ userId: "carl", deviceId: "c1" }] }, KEY_RETRY_MS[0]);
    expect([...later.keys()]).toEqual(["carl/c1"]);
    expect(p[M1]!.next).toBe(KEY_RETRY_MS[0] + KEY_RETRY_MS[1]);
    const forced = planKeyRequests(p, C, self, targets, KEY_RETRY_MS[0] + 1, true);
    expect([...forced.keys()].sort()).toEqual(["bob/b1", "me/mine2", "olivia/o1"]);
    expect(planKeyRequests(p, C, self, targets, REASK_SAME_DEVICE_MS + 2 * 3_600_000).size).toBe(3);
    // The delay stops growing at its last step.
    for (let i = 0; i < 10; i++) planKeyRequests(p, C, self, targets, 10 ** 9 + i * 10 ** 8);
    expect(p[M1]!.next - p[M1]!.last).toBeLessThanOrEqual(KEY_RETRY_MS[KEY_RETRY_MS.length - 1]!);
  });

  test("the first time, an online sender's device alone (with my own) is asked; holders join from the next round", () => {
    const p = { [M1]: pending("olivia", "o1") };
    const online = { ...targets, online: new Set(["olivia"]) };
    expect([...planKeyRequests(p, C, self, online, 0).keys()].sort()).toEqual(["me/mine2", "olivia/o1"]);
    // Her user is online, maybe not that device (another tab, or revoked since): the others are
    // asked SENDER_FIRST_WAIT_MS later, not after the whole first retry delay (found by the UTD soak).
    expect(p[M1]!.next).toBe(SENDER_FIRST_WAIT_MS);
    expect(planKeyRequests(p, C, self, online, SENDER_FIRST_WAIT_MS - 1).size).toBe(0);
    expect([...planKeyRequests(p, C, self, online, SENDER_FIRST_WAIT_MS).keys()]).toEqual(["bob/b1"]);
  });

  test("refused items and other channels are left alone", () => {
    const p = { [M1]: { ...pending("olivia", "o1"), refused: "BEFORE_JOINED" as const }, [M2]: { ...pending("olivia", "o1"), c: "other" } };
    expect(planKeyRequests(p, C, self, targets, 0).size).toBe(0);
  });
});

describe("wire format", () => {
  test("requests, forwards and cancellations round-trip; a Sender Key distribution is not a key message", () => {
    const kr = { t: "kr" as const, c: C, i: [M1, `poll:${M2}`] };
    expect(parseKeyMessage(encodeKeyMessage(kr))).toEqual(kr);
    const kf = { t: "kf" as const, c: C, k: [[M1, "A".repeat(43)], [M2, "B".repeat(43), "QUQ", "dev-1"]] as [string, string, string?, string?][], n: [[M1, "BEFORE_JOINED"]] as [string, string][] };
    expect(parseKeyMessage(encodeKeyMessage(kf))).toEqual(kf);
    expect(parseKeyMessage(encodeUtf8(JSON.stringify({ v: 1, channelId: C, keyId: 3 })))).toBeNull();
  });

  test("anything malformed is dropped, not half-used", () => {
    const bad = [
      { t: "kr", c: "nope", i: [M1] },
      { t: "kr", c: C, i: ["not-an-id"] },
      { t: "kr", c: C, i: Array.from({ length: 201 }, () => M1) },
      { t: "kf", c: C, k: [[M1, "short"]], n: [] },
      { t: "kf", c: C, k: [[M1, "A".repeat(43), "bad ad!"]], n: [] },
      { t: "kf", c: C, k: [], n: [[M1, "WHATEVER"]] },
      { t: "xx", c: C, i: [M1] },
    ];
    for (const b of bad) expect([b, parseKeyMessage(encodeUtf8(JSON.stringify(b)))]).toEqual([b, null]);
    expect(parseKeyMessage(new Uint8Array([0xff, 0x00]))).toBeNull();
  });
});

describe("bounds and words", () => {
  test("at most MAX_PENDING waiting items: the oldest asked go", () => {
    const p: Record<string, PendingKey> = {};
    for (let i = 0; i < MAX_PENDING + 10; i++) p[`id${i}`] = { ...pending("o", "d"), last: i };
    prunePending(p);
    expect(Object.keys(p).length).toBe(MAX_PENDING);
    expect(p.id0).toBeUndefined();
    expect(p[`id${MAX_PENDING + 9}`]).toBeDefined();
  });

  test("a responder answers one device at most ANSWERS_PER_MINUTE times a minute", () => {
    const limiter = new AnswerLimiter();
    for (let i = 0; i < ANSWERS_PER_MINUTE; i++) expect(limiter.allow("x/1", i)).toBe(true);
    expect(limiter.allow("x/1", 100)).toBe(false);
    expect(limiter.allow("y/1", 100)).toBe(true);
    expect(limiter.allow("x/1", 60_001)).toBe(true);
  });

  test("asked N s ago", () => {
    expect(askedAgo(undefined, 0)).toBe("asking now");
    expect(askedAgo({ ...pending("o", "d"), last: 1_000 }, 13_400)).toBe("asked 12 s ago");
    expect(askedAgo({ ...pending("o", "d"), last: 1_000 }, 1_000 + 5 * 60_000)).toBe("asked 5 min ago");
  });
});
