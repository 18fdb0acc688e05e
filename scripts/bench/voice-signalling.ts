/**
 * The server's signalling cost of ONE person joining a call of N-1 others (N = 2, 4, 8 by
 * default), counted on the wire at the real app (createApp + hub, real sockets):
 *
 *   in    frames and bytes the server receives: voice:join, the newcomer's offers (one rtc:signal
 *         carrying an entry per peer: offer + fingerprint attestation), its trickled candidates
 *         (one batched rtc:signal), and each peer's answer + attestation and candidates
 *   out   frames and bytes the server sends: the voice:joined answer, voice:participant_joined to
 *         every follower of the channel (here: the N participants), and every relayed rtc:signal
 *
 * Sizes are real where they can be: SDP offers/answers (audio, and audio+video) come from the
 * local Chromium (RTCPeerConnection with a generated ECDSA certificate), attestations are real
 * Double Ratchet messages (the first one of a session, with its X3DH header: the largest) of a
 * signed attestation. Candidates: 4 per peer connection (host, host TCP, srflx, relay) in
 * Chromium's format plus end-of-candidates, as a TURN-enabled deployment gathers them. The client
 * follows docs/voice.md ("What a client does"): the newcomer offers, candidates batched per frame.
 *
 *   bun scripts/bench/voice-signalling.ts [--sizes 2,4,8] [--video]
 */
import { launchBrowser } from "../../test/helpers/browser.ts";
import { createTestContext } from "../../test/helpers/app.ts";
import { createUser, signIn } from "../../test/helpers/users.ts";
import { connectWithToken, listen, type TestSocket } from "../../test/helpers/ws.ts";
import { createDeviceIdentity, encryptRatchetMessage } from "../../src/client/e2ee/index.ts";
import { signCallAttestation } from "../../src/client/e2ee/call-attestation.ts";
import { encodeBase64url, encodeRatchetMessage } from "../../src/shared/e2ee/index.ts";
import { MAX_FRAME_BYTES } from "../../src/shared/protocol.ts";
import { establishSessions } from "../../test/client/e2ee/test-helpers.ts";

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
};
const SIZES = arg("sizes", "2,4,8").split(",").map(Number);
const VIDEO = process.argv.includes("--video");

// ---- realistic payloads -----------------------------------------------------------------------
type Sample = { offer: string; answer: string; source: string };

async function sampleSdp(video: boolean): Promise<Sample> {
  const browser = await launchBrowser();
  if (!browser) throw new Error("needs Chromium for real SDP sizes (CHROMIUM_PATH)");
  try {
    const page = await browser.newPage();
    const sdp = await page.evaluate(async (withVideo) => {
      const certificate = await RTCPeerConnection.generateCertificate({ name: "ECDSA", namedCurve: "P-256" } as AlgorithmIdentifier);
      const a = new RTCPeerConnection({ certificates: [certificate] });
      const b = new RTCPeerConnection({ certificates: [certificate] });
      a.addTransceiver("audio", { direction: "sendrecv" });
      if (withVideo) a.addTransceiver("video", { direction: "sendrecv" });
      const offer = await a.createOffer();
      await b.setRemoteDescription(offer);
      b.getTransceivers().forEach((t) => (t.direction = "sendrecv"));
      const answer = await b.createAnswer();
      a.close();
      b.close();
      return { offer: offer.sdp!, answer: answer.sdp! };
    }, video);
    return { ...sdp, source: `Chromium ${browser.version()}` };
  } finally {
    await browser.close();
  }
}

function sampleAttestation(): string {
  const alice = createDeviceIdentity({ userId: crypto.randomUUID(), deviceId: crypto.randomUUID(), now: Date.now() });
  const bob = createDeviceIdentity({ userId: crypto.randomUUID(), deviceId: crypto.randomUUID(), now: Date.now() });
  const { aliceSession } = establishSessions(alice, bob);
  const fingerprint = Array.from(crypto.getRandomValues(new Uint8Array(32)), (b) => b.toString(16).padStart(2, "0").toUpperCase()).join(":");
  const plaintext = signCallAttestation(alice, {
    v: 1, channelId: crypto.randomUUID(), fromUserId: alice.userId, fromDeviceId: alice.deviceId, fromConnId: crypto.randomUUID(),
    toUserId: bob.userId, toDeviceId: bob.deviceId, toConnId: crypto.randomUUID(), fingerprints: [{ algorithm: "sha-256", value: fingerprint }], issuedAt: Date.now(),
  });
  // The session's pending X3DH header rides on every message until the first reply: worst case.
  const { message } = encryptRatchetMessage(aliceSession.ratchet, plaintext);
  return encodeBase64url(new TextEncoder().encode(JSON.stringify(encodeRatchetMessage(message))));
}

function candidates(): { candidate: string; sdpMid: string; sdpMLineIndex: number; usernameFragment: string }[] {
  const ufrag = "Xq3b";
  const lines = [
    `candidate:2573416470 1 udp 2122260223 ${crypto.randomUUID()}.local 54873 typ host generation 0 ufrag ${ufrag} network-id 1`,
    `candidate:3671762466 1 tcp 1518280447 ${crypto.randomUUID()}.local 9 typ host tcptype active generation 0 ufrag ${ufrag} network-id 1`,
    `candidate:842163049 1 udp 1686052607 203.0.113.24 54873 typ srflx raddr 0.0.0.0 rport 0 generation 0 ufrag ${ufrag} network-id 1`,
    `candidate:1955294574 1 udp 41885439 198.51.100.7 49160 typ relay raddr 203.0.113.24 rport 54873 generation 0 ufrag ${ufrag} network-id 1`,
  ];
  return [...lines.map((candidate) => ({ candidate, sdpMid: "0", sdpMLineIndex: 0, usernameFragment: ufrag })), { candidate: "", sdpMid: "0", sdpMLineIndex: 0, usernameFragment: ufrag }];
}

// ---- counting ---------------------------------------------------------------------------------
type Tally = { framesIn: number; bytesIn: number; framesOut: number; bytesOut: number; byType: Map<string, { frames: number; bytes: number }> };
const tally = (): Tally => ({ framesIn: 0, bytesIn: 0, framesOut: 0, bytesOut: 0, byType: new Map() });
const note = (t: Tally, dir: "in" | "out", frame: { type: string }, bytes: number) => {
  if (dir === "in") (t.framesIn++, (t.bytesIn += bytes));
  else (t.framesOut++, (t.bytesOut += bytes));
  const key = `${dir} ${frame.type}`;
  const e = t.byType.get(key) ?? { frames: 0, bytes: 0 };
  e.frames++;
  e.bytes += bytes;
  t.byType.set(key, e);
};

/** A socket whose every sent and received frame is counted while `current` is set. */
function counted(socket: TestSocket, state: { current: Tally | null }) {
  socket.ws.addEventListener("message", (event) => {
    if (!state.current) return;
    const text = String(event.data);
    const frame = JSON.parse(text) as { type: string };
    // Only the call's frames (presence and the like may arrive meanwhile).
    if (frame.type.startsWith("voice:") || frame.type.startsWith("rtc:")) note(state.current, "out", frame, Buffer.byteLength(text));
  });
  return (frame: { type: string }) => {
    const text = JSON.stringify(frame);
    if (state.current) note(state.current, "in", frame, Buffer.byteLength(text));
    socket.sendRaw(text);
  };
}

/** Splits entries into rtc:signal frames under the frame limit (a 25-person audio+video join needs several). */
function packSignals(channelId: string, entries: Record<string, unknown>[]): { type: string; channelId: string; signals: Record<string, unknown>[] }[] {
  const frames: { type: string; channelId: string; signals: Record<string, unknown>[] }[] = [];
  let current: Record<string, unknown>[] = [];
  const size = (list: Record<string, unknown>[]) => Buffer.byteLength(JSON.stringify({ type: "rtc:signal", channelId, signals: list }));
  for (const entry of entries) {
    if (current.length > 0 && size([...current, entry]) > MAX_FRAME_BYTES - 1024) {
      frames.push({ type: "rtc:signal", channelId, signals: current });
      current = [];
    }
    current.push(entry);
  }
  if (current.length > 0) frames.push({ type: "rtc:signal", channelId, signals: current });
  return frames;
}

const RELAYS = 200;
let relayLine = "";
let kickLine = "";

async function main() {
  const sample = await sampleSdp(VIDEO);
  const attestation = sampleAttestation();
  const cands = candidates();
  console.log(`payloads: offer ${sample.offer.length} B, answer ${sample.answer.length} B (${VIDEO ? "audio+video" : "audio"}, ${sample.source}); attestation ${attestation.length} B; ${cands.length} candidates = ${JSON.stringify(cands).length} B per peer connection\n`);

  const ctx = await createTestContext({ env: { COMMUNITY_CREATION_MODE: "anyone" }, hub: { frameRate: { burst: 10_000, perSec: 10_000 } } });
  const { ws } = await listen(ctx);
  const rows: string[] = ["| people in the call after the join | frames in | bytes in | frames out | bytes out | total bytes |", "|---:|---:|---:|---:|---:|---:|"];
  const details: string[] = [];
  try {
    const ownerUser = await createUser(ctx);
    const owner = await signIn(ctx, ownerUser);
    const call = (method: string, path: string, body?: unknown) => ctx.request(path, { method, headers: owner.headers, body: body === undefined ? undefined : JSON.stringify(body) }).then((r) => r.json() as Promise<any>);
    const community = await call("POST", "/api/communities", { name: "Bench" });
    const invite = await call("POST", `/api/communities/${community.id}/invites`, {});
    const group = (await call("GET", `/api/communities/${community.id}/groups`)).groups[0];
    for (const n of SIZES) {
      const channel = await call("POST", `/api/groups/${group.id}/channels`, { name: `Bench ${n}`, kind: "voice" });
      const state: { current: Tally | null } = { current: null };
      const people: { userId: string; socket: TestSocket; send: (f: { type: string }) => void; connId?: string }[] = [];
      for (let i = 0; i < n; i++) {
        const user = await createUser(ctx);
        const { accessToken, headers } = await signIn(ctx, user);
        await ctx.request(`/api/community-invites/${invite.code}/accept`, { method: "POST", headers });
        await ctx.database.db.insertInto("key_devices").values({ user_id: user.id, device_id: "d", signing_key: new Uint8Array(32), identity_key: new Uint8Array(32), signed_prekey_id: 1, signed_prekey: new Uint8Array(32), signed_prekey_signature: new Uint8Array(64), signed_prekey_updated_at: new Date(), created_at: new Date() }).execute();
        const socket = await connectWithToken(ws, accessToken);
        socket.send({ type: "subscribe", channelIds: [channel.id] });
        await socket.nextOfType("subscribed");
        people.push({ userId: user.id, socket, send: counted(socket, state) });
      }
      // The first n-1 are in the call already (not counted).
      for (const p of people.slice(0, -1)) {
        p.socket.send({ type: "voice:join", channelId: channel.id, deviceId: "d" });
        p.connId = (await p.socket.nextOfType("voice:joined")).connId as string;
      }
      // Every socket has seen the n-1 setup joins before counting starts (they are not this join's cost).
      const setupJoins = (p: (typeof people)[number]) => p.socket.received.filter((f) => f.type === "voice:participant_joined").length;
      for (const p of people) while (setupJoins(p) < n - 1) await p.socket.nextFrame(10_000);
      const t = tally();
      state.current = t;
      const joiner = people.at(-1)!;
      const peers = people.slice(0, -1);
      // Each peer answers an offer with its answer + attestation, then its batched candidates.
      const answered = peers.map(async (p) => {
        const offer = await p.socket.nextOfType("rtc:signal", 10_000);
        p.send({ type: "rtc:signal", channelId: channel.id, signals: [{ to: offer.from, description: { type: "answer", sdp: sample.answer }, attestation }] } as never);
        p.send({ type: "rtc:signal", channelId: channel.id, signals: [{ to: offer.from, candidates: cands }] } as never);
        await p.socket.nextOfType("rtc:signal", 10_000); // the newcomer's candidates
      });
      joiner.send({ type: "voice:join", channelId: channel.id, deviceId: "d" } as never);
      const joined = await joiner.socket.nextOfType("voice:joined");
      const others = (joined.participants as { connId: string }[]).filter((x) => x.connId !== joined.connId);
      for (const frame of packSignals(channel.id, others.map((o) => ({ to: o.connId, description: { type: "offer", sdp: sample.offer }, attestation })))) joiner.send(frame);
      for (const frame of packSignals(channel.id, others.map((o) => ({ to: o.connId, candidates: cands })))) joiner.send(frame);
      await Promise.all(answered);
      // The newcomer has every answer and every peer's candidates.
      for (let got = 0; got < 2 * peers.length; ) if ((await joiner.socket.nextFrame(10_000)).type === "rtc:signal") got++;
      // Every participant_joined copy was delivered before the relayed signals that followed it.
      state.current = null;
      if (n === SIZES.at(-1)) {
        // Relay latency: one small signal from the newcomer to a peer, sent when the previous arrived.
        const [peer] = peers;
        const times: number[] = [];
        for (let i = 0; i < RELAYS; i++) {
          const started = performance.now();
          joiner.socket.send({ type: "rtc:signal", channelId: channel.id, signals: [{ to: peer!.connId!, candidates: [cands[0]!] }] });
          await peer!.socket.nextOfType("rtc:signal", 10_000);
          times.push(performance.now() - started);
        }
        times.sort((a, b) => a - b);
        // Enforcement: a kick (HTTP, after COMMIT) until the kicked socket has voice:ended and a peer voice:participant_left.
        const kicked = peers.at(-1)!;
        const started = performance.now();
        await ctx.request(`/api/communities/${community.id}/members/${kicked.userId}`, { method: "DELETE", headers: owner.headers });
        const answered = performance.now();
        await kicked.socket.nextOfType("voice:ended", 10_000);
        const ended = performance.now();
        await joiner.socket.nextOfType("voice:participant_left", 10_000);
        kickLine = `kick → voice:ended on the kicked socket ${(ended - started).toFixed(1)} ms (the HTTP answer after ${(answered - started).toFixed(1)} ms), → voice:participant_left at a peer ${(performance.now() - started).toFixed(1)} ms`;
        relayLine = `relay latency (send → addressee receives, ${RELAYS} sequential, one indexed seat query each, ${process.env.TEST_DATABASE_URL ? "PostgreSQL" : "PGlite"}): p50 ${times[Math.floor(RELAYS / 2)]!.toFixed(2)} ms, p99 ${times[Math.floor(RELAYS * 0.99)]!.toFixed(2)} ms`;
      }
      rows.push(`| ${n} | ${t.framesIn} | ${t.bytesIn.toLocaleString("en")} | ${t.framesOut} | ${t.bytesOut.toLocaleString("en")} | ${(t.bytesIn + t.bytesOut).toLocaleString("en")} |`);
      details.push(`N=${n}: ${[...t.byType].map(([k, v]) => `${k} ×${v.frames} (${v.bytes.toLocaleString("en")} B)`).join(", ")}`);
      for (const p of people) p.socket.close();
    }
  } finally {
    await ctx.close();
  }
  console.log(rows.join("\n"));
  console.log("\n" + details.join("\n"));
  console.log(`\n${relayLine}\n${kickLine}`);
  console.log("\nEach further follower of the channel (a sidebar) costs one voice:participant_joined frame per join.");
}

await main();
