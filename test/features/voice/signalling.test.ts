/**
 * `rtc:signal` relay (docs/voice.md, docs/protocol.md): only between participants of the same
 * call, each entry to exactly its addressee, in order, bounded in size; non-participants are
 * refused; the relay hook sees (and may rewrite) what is relayed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { MAX_ATTESTATION_CHARS, MAX_CANDIDATES_PER_SIGNAL, MAX_SDP_CHARS, MAX_SIGNALS_PER_FRAME, type RtcSignalEvent } from "../../../src/shared/protocol.ts";
import { setSignalRelayHook } from "../../../src/features/voice/index.ts";
import type { TestContext } from "../../helpers/app.ts";
import type { Frame, TestSocket } from "../../helpers/ws.ts";
import { expectOk, fakeSdp, framesUntilSentinel, join, newMember, nextMatching, nextWithRef, socketOf, voiceContext, voiceWorld, type VoiceWorld } from "./helpers.ts";

let ctx: TestContext & { wsUrl: string };
let w: VoiceWorld;
const open: TestSocket[] = [];

beforeAll(async () => {
  ctx = await voiceContext();
  w = await voiceWorld(ctx);
});
afterAll(async () => {
  for (const s of open) s.close();
  await ctx.close();
});

type Person = { id: string; socket: TestSocket; connId: string };

/** A fresh voice channel with `n` people in its call, plus one member following it who is not in the call. */
async function call(n: number): Promise<{ channelId: string; people: Person[]; watcher: { id: string; socket: TestSocket } }> {
  const channel = await expectOk(w.owner.call("POST", `/api/groups/${w.groupId}/channels`, { name: `Call ${n}`, kind: "voice" }), 201);
  const people: Person[] = [];
  for (let i = 0; i < n; i++) {
    const c = await newMember(ctx, w);
    const socket = await socketOf(ctx, c, [channel.id]);
    open.push(socket);
    const joined = await join(socket, channel.id);
    people.push({ id: c.user.id, socket, connId: joined.connId as string });
  }
  const wc = await newMember(ctx, w);
  const watcher = { id: wc.user.id, socket: await socketOf(ctx, wc, [channel.id]) };
  open.push(watcher.socket);
  return { channelId: channel.id, people, watcher };
}

const rtcOnly = (frames: Frame[]) => frames.filter((f) => f.type.startsWith("rtc:"));

describe("relaying between participants", () => {
  test("each entry reaches exactly its addressee, with who sent it; nobody else gets anything", async () => {
    const { channelId, people, watcher } = await call(3);
    const [a, b, c] = people as [Person, Person, Person];
    const candidate = { candidate: "candidate:1 1 udp 2122260223 192.0.2.10 54321 typ host", sdpMid: "0", sdpMLineIndex: 0, usernameFragment: "abcd" };
    a.socket.send({
      type: "rtc:signal",
      channelId,
      signals: [
        { to: b.connId, description: { type: "offer", sdp: fakeSdp("to-b") }, attestation: "QUJD" },
        { to: c.connId, candidates: [candidate, { candidate: "" }] },
      ],
    });
    expect(await nextMatching(b.socket, (f) => f.type === "rtc:signal")).toEqual({
      type: "rtc:signal", channelId, from: a.connId, fromUserId: a.id, fromDeviceId: "dev1", to: b.connId, description: { type: "offer", sdp: fakeSdp("to-b") }, attestation: "QUJD",
    });
    expect(await nextMatching(c.socket, (f) => f.type === "rtc:signal")).toEqual({ type: "rtc:signal", channelId, from: a.connId, fromUserId: a.id, fromDeviceId: "dev1", to: c.connId, candidates: [candidate, { candidate: "" }] });
    expect(rtcOnly(await framesUntilSentinel(ctx, b.socket, b.id))).toEqual([]);
    expect(rtcOnly(await framesUntilSentinel(ctx, c.socket, c.id))).toEqual([]);
    expect(rtcOnly(await framesUntilSentinel(ctx, a.socket, a.id))).toEqual([]);
    expect(await framesUntilSentinel(ctx, watcher.socket, watcher.id)).toEqual([]);
  });

  test("signals of one socket arrive in the order sent (an answer never overtakes its candidates)", async () => {
    const { channelId, people } = await call(2);
    const [a, b] = people as [Person, Person];
    for (let i = 0; i < 20; i++) a.socket.send({ type: "rtc:signal", channelId, signals: [{ to: b.connId, candidates: [{ candidate: `candidate:${i} 1 udp 1 192.0.2.1 ${1000 + i} typ host` }] }] });
    const got: string[] = [];
    while (got.length < 20) got.push(((await nextMatching(b.socket, (f) => f.type === "rtc:signal")).candidates as { candidate: string }[])[0]!.candidate);
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => `candidate:${i} 1 udp 1 192.0.2.1 ${1000 + i} typ host`));
  });

  test("entries for someone not in this call are dropped and listed in rtc:undelivered; the rest are relayed", async () => {
    const first = await call(2);
    const second = await call(1);
    const [a, b] = first.people as [Person, Person];
    a.socket.send({
      type: "rtc:signal",
      channelId: first.channelId,
      ref: "mixed",
      signals: [
        { to: second.people[0]!.connId, attestation: "QUJD" }, // another call
        { to: crypto.randomUUID(), attestation: "QUJD" }, // nobody
        { to: a.connId, attestation: "QUJD" }, // yourself
        { to: b.connId, attestation: "QkNE" },
      ],
    });
    const answer = await nextWithRef(a.socket, "mixed");
    expect(answer).toEqual({ type: "rtc:undelivered", channelId: first.channelId, ref: "mixed", to: [second.people[0]!.connId, expect.any(String), a.connId] });
    expect((await nextMatching(b.socket, (f) => f.type === "rtc:signal")).attestation).toBe("QkNE");
    expect(rtcOnly(await framesUntilSentinel(ctx, second.people[0]!.socket, second.people[0]!.id))).toEqual([]);
  });
});

describe("refused", () => {
  test("a non-participant's rtc:signal is refused (NOT_IN_CALL) and nothing is relayed, even with a valid connId", async () => {
    const { channelId, people, watcher } = await call(2);
    const [a, b] = people as [Person, Person];
    watcher.socket.send({ type: "rtc:signal", channelId, ref: "w", signals: [{ to: a.connId, description: { type: "offer", sdp: fakeSdp() } }] });
    expect(await nextWithRef(watcher.socket, "w")).toMatchObject({ type: "error", code: "NOT_IN_CALL" });
    // A participant of this call addressing it through another call's id.
    const other = await call(1);
    a.socket.send({ type: "rtc:signal", channelId: other.channelId, ref: "x", signals: [{ to: other.people[0]!.connId, attestation: "QUJD" }] });
    expect(await nextWithRef(a.socket, "x")).toMatchObject({ type: "error", code: "NOT_IN_CALL" });
    // After leaving, the former participant is a non-participant.
    b.socket.send({ type: "voice:leave", channelId, ref: "bye" });
    await nextWithRef(b.socket, "bye");
    b.socket.send({ type: "rtc:signal", channelId, ref: "late", signals: [{ to: a.connId, attestation: "QUJD" }] });
    expect(await nextWithRef(b.socket, "late")).toMatchObject({ type: "error", code: "NOT_IN_CALL" });
    expect(rtcOnly(await framesUntilSentinel(ctx, a.socket, a.id))).toEqual([]);
    expect(rtcOnly(await framesUntilSentinel(ctx, other.people[0]!.socket, other.people[0]!.id))).toEqual([]);
  });

  test("sizes are bounded: oversized SDP, candidates, attestations or too many entries are INVALID_FRAME", async () => {
    const { channelId, people } = await call(2);
    const [a, b] = people as [Person, Person];
    const bad: [string, unknown][] = [
      ["sdp", [{ to: b.connId, description: { type: "offer", sdp: fakeSdp() + "a".repeat(MAX_SDP_CHARS) } }]],
      ["not sdp", [{ to: b.connId, description: { type: "offer", sdp: "hello" } }]],
      ["rollback", [{ to: b.connId, description: { type: "rollback", sdp: fakeSdp() } }]],
      ["candidate", [{ to: b.connId, candidates: [{ candidate: "c".repeat(1025) }] }]],
      ["candidates", [{ to: b.connId, candidates: Array.from({ length: MAX_CANDIDATES_PER_SIGNAL + 1 }, () => ({ candidate: "" })) }]],
      ["attestation", [{ to: b.connId, attestation: "A".repeat(MAX_ATTESTATION_CHARS + 1) }]],
      ["attestation not base64url", [{ to: b.connId, attestation: "a+b/" }]],
      ["empty entry", [{ to: b.connId }]],
      ["unknown key", [{ to: b.connId, attestation: "QUJD", extra: 1 }]],
      ["entries", Array.from({ length: MAX_SIGNALS_PER_FRAME + 1 }, () => ({ to: b.connId, attestation: "QUJD" }))],
    ];
    for (const [name, signals] of bad) {
      a.socket.send({ type: "rtc:signal", channelId, ref: name.slice(0, 20), signals });
      expect({ name, frame: await nextWithRef(a.socket, name.slice(0, 20)) }).toMatchObject({ name, frame: { type: "error", code: "INVALID_FRAME", field: "signals" } });
    }
    expect(rtcOnly(await framesUntilSentinel(ctx, b.socket, b.id))).toEqual([]);
  });
});

describe("the relay hook (test seam for a server that rewrites signals)", () => {
  test("sees every relayed signal and what it returns is what the addressee gets", async () => {
    const { channelId, people } = await call(2);
    const [a, b] = people as [Person, Person];
    const seen: RtcSignalEvent[] = [];
    setSignalRelayHook(ctx.deps, (event) => {
      seen.push(event);
      if (!event.description) return event;
      return { ...event, description: { ...event.description, sdp: event.description.sdp.replace(/a=fingerprint:sha-256 \S+/, "a=fingerprint:sha-256 EV:IL") } };
    });
    try {
      a.socket.send({ type: "rtc:signal", channelId, signals: [{ to: b.connId, description: { type: "offer", sdp: fakeSdp("hooked", "AA:BB") } }] });
      const got = await nextMatching(b.socket, (f) => f.type === "rtc:signal");
      expect((got.description as { sdp: string }).sdp).toContain("a=fingerprint:sha-256 EV:IL");
      expect(seen).toHaveLength(1);
      expect(seen[0]!.description!.sdp).toContain("a=fingerprint:sha-256 AA:BB");
    } finally {
      setSignalRelayHook(ctx.deps, undefined);
    }
  });
});
