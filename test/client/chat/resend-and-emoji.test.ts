// Pure parts of the chat extras: the automatic resend policy (which failures, how long to wait,
// how many times) and the emoji filter of the picker.
import { describe, expect, test } from "bun:test";
import { AutoResend, isAutoRetryable, RESEND_CAP_MS, RESEND_MAX_AUTOMATIC, resendDelay } from "../../../src/client/chat/resend.ts";
import { EMOJI, filterEmoji } from "../../../src/client/chat/emoji-data.ts";

describe("automatic resend", () => {
  test("network errors, 5xx and 429 are retried; refusals (4xx) and 'no devices' are not", () => {
    for (const status of [0, 429, 500, 502, 503]) expect(isAutoRetryable({ status, code: "X" })).toBe(true);
    for (const status of [400, 403, 404, 409, 413]) expect(isAutoRetryable({ status, code: "X" })).toBe(false);
    expect(isAutoRetryable({ status: 0, code: "NO_DEVICES" })).toBe(false);
    // A revoked device: no resend can succeed until it is set up again (device-revoked.ts).
    expect(isAutoRetryable({ status: 400, code: "UNKNOWN_DEVICE" })).toBe(false);
    expect(isAutoRetryable({ status: 0, code: "UNKNOWN_DEVICE" })).toBe(false);
  });

  test("backoff doubles from 1 s, is capped at 30 s, jitters ±50 %, and never beats Retry-After", () => {
    expect(resendDelay(1, undefined, () => 0.5)).toBe(1_000);
    expect(resendDelay(2, undefined, () => 0.5)).toBe(2_000);
    expect(resendDelay(4, undefined, () => 0.5)).toBe(8_000);
    expect(resendDelay(20, undefined, () => 0.5)).toBe(RESEND_CAP_MS);
    expect(resendDelay(1, undefined, () => 0)).toBe(500);
    expect(resendDelay(1, undefined, () => 0.999)).toBeLessThan(1_500);
    expect(resendDelay(1, 12, () => 0)).toBe(12_000);
  });

  test("a refusal is not scheduled; retryable failures stop after the automatic limit; flush sends at once", () => {
    const retried: string[] = [];
    const resend = new AutoResend((id) => retried.push(id));
    expect(resend.schedule("a", { status: 403, code: "TIMED_OUT" })).toBe(false);
    for (let i = 0; i < RESEND_MAX_AUTOMATIC; i++) expect(resend.schedule("b", { status: 503, code: "X" })).toBe(true);
    expect(resend.schedule("b", { status: 503, code: "X" })).toBe(false); // the user's Retry now
    expect(resend.schedule("c", { status: 0, code: "NETWORK" })).toBe(true);
    resend.flush(); // the socket reconnected
    expect(retried).toEqual(["c"]);
    resend.done("b");
    expect(resend.schedule("b", { status: 503, code: "X" })).toBe(true); // a manual retry resets the count
    resend.dispose();
  });
});

describe("emoji filter", () => {
  test("every entry has an emoji and a name; names are unique", () => {
    expect(EMOJI.length).toBeGreaterThan(100);
    for (const e of EMOJI) expect(e.emoji.length > 0 && e.name.length > 0).toBe(true);
    expect(new Set(EMOJI.map((e) => e.name)).size).toBe(EMOJI.length);
  });

  test("matches word prefixes in any order, case-insensitively; empty query lists all", () => {
    expect(filterEmoji("part").map((e) => e.emoji)).toEqual(["🎉", "🥳"]);
    expect(filterEmoji("UP thumbs").map((e) => e.emoji)).toEqual(["👍"]);
    expect(filterEmoji("zzzz-nothing")).toEqual([]);
    expect(filterEmoji("  ").length).toBe(EMOJI.length);
    expect(filterEmoji("🚀").map((e) => e.name)).toEqual(["rocket"]);
  });
});
