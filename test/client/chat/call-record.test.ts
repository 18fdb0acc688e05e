// Call records (src/client/chat/call-record.ts, docs/voice.md "Call records"): the `call` field of a
// message's plaintext is parsed strictly and drawn in the reader's words; the plaintext codec
// carries it through encryption unchanged and leaves other messages as they were.
import { describe, expect, test } from "bun:test";
import { describeCall, parseCallRecord } from "../../../src/client/chat/call-record.ts";
import { decodeChatContent, encodeChatPlaintext } from "../../../src/client/chat/engine.ts";

describe("call records", () => {
  test("the reader's words for each kind; durations in seconds, minutes, hours", () => {
    expect(describeCall({ event: "started" })).toBe("Started a call");
    expect(describeCall({ event: "missed" })).toBe("Missed call");
    expect(describeCall({ event: "declined" })).toBe("Call declined");
    expect(describeCall({ event: "ended" })).toBe("Call ended");
    expect(describeCall({ event: "ended", seconds: 42 })).toBe("Call ended · 42 s");
    expect(describeCall({ event: "ended", seconds: 12 * 60 + 10 })).toBe("Call ended · 12 min");
    expect(describeCall({ event: "ended", seconds: 3600 + 5 * 60 })).toBe("Call ended · 1 h 5 min");
  });

  test("only a known kind with a sane duration is a record; anything else is none", () => {
    expect(parseCallRecord({ event: "ended", seconds: 30 })).toEqual({ event: "ended", seconds: 30 });
    expect(parseCallRecord({ event: "missed", seconds: -1 })).toEqual({ event: "missed" });
    expect(parseCallRecord({ event: "ended", seconds: 1.5 })).toEqual({ event: "ended" });
    for (const bad of [null, "ended", 3, [], {}, { event: "toString" }, { event: "hacked" }, { event: 1 }]) expect(parseCallRecord(bad)).toBeUndefined();
  });

  test("the message plaintext carries a record next to its text; plain messages are unchanged", () => {
    expect(decodeChatContent(encodeChatPlaintext("Call ended · 42 s", undefined, { event: "ended", seconds: 42 }))).toEqual({ text: "Call ended · 42 s", call: { event: "ended", seconds: 42 } });
    expect(new TextDecoder().decode(encodeChatPlaintext("hi"))).toBe('{"v":1,"text":"hi"}');
    expect(decodeChatContent(encodeChatPlaintext("hi", [{ id: 1 }]))).toEqual({ text: "hi", files: [{ id: 1 }] });
    expect(decodeChatContent(new TextEncoder().encode('{"v":1,"text":"x","call":{"event":"nope"}}'))).toEqual({ text: "x" });
  });
});
