/**
 * `rtc:signal`: WebRTC signalling relayed between the participants of ONE call, never anyone
 * else. The sender must hold a live seat of that call on this very socket (else NOT_IN_CALL and
 * nothing is relayed); each entry goes to the session of the participant whose connId it names,
 * as `rtc:signal {channelId, from, fromUserId, fromDeviceId, to, description?, candidates?,
 * attestation?}`. Entries for a connId that is not a live seat of the call (left, reconnecting,
 * another call, yourself) are dropped and listed in one `rtc:undelivered {to}` answer.
 *
 * The server reads nothing in them: SDP and candidates pass as they came (bounded in size by the
 * frame validators), and the attestation is an opaque pairwise ciphertext (docs/crypto.md,
 * "Calls"). Checked against the database for every frame, so a seat ended on another instance
 * (a kick) stops relaying at once. Frames of one socket are relayed in the order they arrived.
 */
import type { RtcSignalEvent, RtcSignalFrame } from "../../shared/protocol.ts";
import type { HubSocket } from "../../ws/hub.ts";
import { sessionTopic } from "../../ws/topics.ts";
import type { VoiceRuntime } from "./runtime.ts";
import { notInCall } from "./seat-frames.ts";
import { listSeats } from "./seats.ts";

export type Undelivered = { type: "rtc:undelivered"; channelId: string; to: string[]; ref?: string };

export async function relaySignals(rt: VoiceRuntime, socket: HubSocket, frame: RtcSignalFrame): Promise<Undelivered | void> {
  const channelId = frame.channelId.toLowerCase();
  const binding = rt.bindings.get(socket);
  if (!binding || binding.channelId !== channelId) throw notInCall();
  const live = (await listSeats(rt.deps.database.db, channelId)).filter((s) => s.disconnectedAt === null);
  const me = live.find((s) => s.connId === binding.connId);
  if (!me) {
    rt.forget([binding.connId]);
    throw notInCall();
  }
  const byConn = new Map(live.map((s) => [s.connId, s]));
  const hook = rt.relayHook;
  const undelivered: string[] = [];
  for (const signal of frame.signals) {
    const target = byConn.get(signal.to.toLowerCase());
    if (!target || target.connId === me.connId) {
      undelivered.push(signal.to);
      continue;
    }
    const event: RtcSignalEvent = { type: "rtc:signal", channelId, from: me.connId, fromUserId: me.userId, fromDeviceId: me.deviceId, to: target.connId };
    if (signal.description) event.description = { type: signal.description.type, sdp: signal.description.sdp };
    if (signal.candidates) event.candidates = signal.candidates;
    if (signal.attestation) event.attestation = signal.attestation;
    const sent = hook ? hook(event) : event;
    if (sent) rt.publish(sessionTopic(target.sessionId), sent);
  }
  if (undelivered.length > 0) return { type: "rtc:undelivered", channelId, to: undelivered, ref: frame.ref };
}
