/**
 * The hand-written validators of the voice:* and rtc:* client frames (src/shared/protocol.ts,
 * docs/decisions/0001): every rule, with the field each refusal names.
 */
import { describe, expect, test } from "bun:test";
import { MAX_ATTESTATION_CHARS, MAX_CANDIDATES_PER_SIGNAL, MAX_CANDIDATE_CHARS, MAX_RING_USERS, MAX_SDP_CHARS, MAX_SIGNALS_PER_FRAME, validateClientFrame } from "../../../src/shared/protocol.ts";

const id = () => crypto.randomUUID();
const sdp = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";
const fieldOf = (value: unknown) => {
  const r = validateClientFrame(value);
  return r.ok ? "ok" : `${r.code}:${r.field}`;
};

describe("voice:* frames", () => {
  test("voice:join", () => {
    const base = { type: "voice:join", channelId: id(), deviceId: "dev_1-A" };
    expect(fieldOf(base)).toBe("ok");
    expect(fieldOf({ ...base, muted: true, deafened: false, ref: "r" })).toBe("ok");
    expect(fieldOf({ ...base, channelId: "general" })).toBe("INVALID_FRAME:channelId");
    expect(fieldOf({ ...base, deviceId: "a b" })).toBe("INVALID_FRAME:deviceId");
    expect(fieldOf({ ...base, deviceId: "d".repeat(65) })).toBe("INVALID_FRAME:deviceId");
    expect(fieldOf({ ...base, muted: "yes" })).toBe("INVALID_FRAME:muted");
    expect(fieldOf({ ...base, video: true })).toBe("INVALID_FRAME:video");
    expect(fieldOf({ type: "voice:join", channelId: id() })).toBe("INVALID_FRAME:deviceId");
  });

  test("voice:leave, voice:decline", () => {
    for (const type of ["voice:leave", "voice:decline"]) {
      expect(fieldOf({ type, channelId: id() })).toBe("ok");
      expect(fieldOf({ type })).toBe("INVALID_FRAME:channelId");
      expect(fieldOf({ type, channelId: id(), userId: id() })).toBe("INVALID_FRAME:userId");
    }
  });

  test("voice:state needs at least one flag, all booleans", () => {
    const channelId = id();
    for (const flag of ["muted", "deafened", "video", "screen", "speaking"]) expect(fieldOf({ type: "voice:state", channelId, [flag]: true })).toBe("ok");
    expect(fieldOf({ type: "voice:state", channelId })).toBe("INVALID_FRAME:muted");
    expect(fieldOf({ type: "voice:state", channelId, speaking: 1 })).toBe("INVALID_FRAME:speaking");
    expect(fieldOf({ type: "voice:state", channelId, volume: 3 })).toBe("INVALID_FRAME:volume");
  });

  test("voice:ring", () => {
    const channelId = id();
    expect(fieldOf({ type: "voice:ring", channelId })).toBe("ok");
    expect(fieldOf({ type: "voice:ring", channelId, userIds: [id()] })).toBe("ok");
    expect(fieldOf({ type: "voice:ring", channelId, userIds: [] })).toBe("INVALID_FRAME:userIds");
    expect(fieldOf({ type: "voice:ring", channelId, userIds: ["bob"] })).toBe("INVALID_FRAME:userIds");
    expect(fieldOf({ type: "voice:ring", channelId, userIds: Array.from({ length: MAX_RING_USERS + 1 }, id) })).toBe("INVALID_FRAME:userIds");
  });
});

describe("rtc:signal", () => {
  const frame = (signals: unknown) => ({ type: "rtc:signal", channelId: id(), signals });
  const to = id();

  test("accepts descriptions, candidates (incl. end-of-candidates) and attestations, alone or together", () => {
    expect(fieldOf(frame([{ to, description: { type: "offer", sdp } }]))).toBe("ok");
    expect(fieldOf(frame([{ to, description: { type: "answer", sdp } }]))).toBe("ok");
    expect(fieldOf(frame([{ to, candidates: [{ candidate: "candidate:1 1 udp 1 192.0.2.1 9 typ host", sdpMid: "0", sdpMLineIndex: 0, usernameFragment: "u" }, { candidate: "", sdpMid: null, sdpMLineIndex: null, usernameFragment: null }] }]))).toBe("ok");
    expect(fieldOf(frame([{ to, attestation: "A-_z09" }]))).toBe("ok");
    expect(fieldOf(frame([{ to, description: { type: "offer", sdp }, candidates: [{ candidate: "" }], attestation: "QQ" }]))).toBe("ok");
    expect(fieldOf(frame(Array.from({ length: MAX_SIGNALS_PER_FRAME }, () => ({ to: id(), attestation: "QQ" }))))).toBe("ok");
  });

  test("refuses anything out of shape or bounds (field: signals)", () => {
    const bad: unknown[] = [
      [],
      "offer",
      Array.from({ length: MAX_SIGNALS_PER_FRAME + 1 }, () => ({ to: id(), attestation: "QQ" })),
      [{ attestation: "QQ" }],
      [{ to: "peer", attestation: "QQ" }],
      [{ to }],
      [{ to, extra: 1, attestation: "QQ" }],
      [{ to, description: { type: "pranswer", sdp } }],
      [{ to, description: { type: "rollback", sdp } }],
      [{ to, description: { type: "offer" } }],
      [{ to, description: { type: "offer", sdp: "hello" } }],
      [{ to, description: { type: "offer", sdp: sdp + "a".repeat(MAX_SDP_CHARS) } }],
      [{ to, description: { type: "offer", sdp, extra: 1 } }],
      [{ to, candidates: [] }],
      [{ to, candidates: Array.from({ length: MAX_CANDIDATES_PER_SIGNAL + 1 }, () => ({ candidate: "" })) }],
      [{ to, candidates: [{ candidate: "c".repeat(MAX_CANDIDATE_CHARS + 1) }] }],
      [{ to, candidates: [{ candidate: "", sdpMLineIndex: -1 }] }],
      [{ to, candidates: [{ candidate: "", sdpMLineIndex: 1.5 }] }],
      [{ to, candidates: [{ candidate: "", sdpMid: "m".repeat(65) }] }],
      [{ to, candidates: [{ candidate: "", usernameFragment: "u".repeat(257) }] }],
      [{ to, candidates: [{ candidate: "", foo: 1 }] }],
      [{ to, candidates: [{}] }],
      [{ to, attestation: "" }],
      [{ to, attestation: "a=b" }],
      [{ to, attestation: "A".repeat(MAX_ATTESTATION_CHARS + 1) }],
    ];
    for (const signals of bad) expect({ signals, got: fieldOf(frame(signals)) }).toEqual({ signals, got: "INVALID_FRAME:signals" });
    expect(fieldOf({ type: "rtc:signal", signals: [{ to, attestation: "QQ" }] })).toBe("INVALID_FRAME:channelId");
    expect(fieldOf({ type: "rtc:signal", channelId: id(), signals: [{ to, attestation: "QQ" }], to })).toBe("INVALID_FRAME:to");
  });
});
