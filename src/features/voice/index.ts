/**
 * Voice and video calls, the server side (docs/voice.md). Other code uses only this file:
 *   installVoice(deps, hub)     wires the voice:* and rtc:* frames, the socket-close grace, the
 *                               enforcement listeners and the sweep; idempotent; returns stop
 *   stopVoice(deps)             stop before the hub and the database (timers, work in flight)
 *   voiceRoutes(deps)           the JSON API (turn credentials, call state)
 *   setVoiceOptions(deps, o)    tests: shorter grace, ring timeout, sweep period
 *   setSignalRelayHook(deps, h) tests: play a server that rewrites relayed signals
 *   sweepVoice(deps)            tests: run one sweep now
 *   mintTurnCredentials(config, userId, nowMs), turnCredentialFor(secret, userId, expiry)
 */
import type { AppDeps } from "../../deps.ts";
import type { RtcSignalFrame, VoiceDeclineFrame, VoiceJoinFrame, VoiceLeaveFrame, VoiceRingFrame, VoiceStateFrame } from "../../shared/protocol.ts";
import type { Hub } from "../../ws/hub.ts";
import { installEnforcement } from "./enforcement.ts";
import { relaySignals } from "./relay.ts";
import { decline, ring } from "./rings.ts";
import { VoiceRuntime } from "./runtime.ts";
import { joinCall, leaveCall, setCallState, startGrace } from "./seat-frames.ts";
import { startSweep, sweepVoice as sweepOnce } from "./sweep.ts";

export { voiceRoutes, TURN_CREDENTIALS_RATE } from "./routes.ts";
export { mintTurnCredentials, turnCredentialFor, isTurnConfigured, DEFAULT_STUN_URLS, type TurnCredentials } from "./turn.ts";
export { setVoiceOptions, setSignalRelayHook, VOICE_GRACE_MS, RING_TIMEOUT_MS, type SignalRelayHook, type VoiceOptions } from "./runtime.ts";
export { RING_RATE } from "./rings.ts";

const installed = new WeakMap<object, { runtime: VoiceRuntime; stop: () => Promise<void> }>();

export function installVoice(deps: AppDeps, hub: Hub): () => Promise<void> {
  const existing = installed.get(deps);
  if (existing) return existing.stop;
  const rt = new VoiceRuntime(deps, hub);
  hub.handleFrame("voice:join", ({ actor, frame, socket }) => rt.inOrder(socket, () => joinCall(rt, actor, socket, frame as VoiceJoinFrame)));
  hub.handleFrame("voice:leave", ({ actor, frame, socket }) => rt.inOrder(socket, () => leaveCall(rt, actor, frame as VoiceLeaveFrame)));
  hub.handleFrame("voice:state", ({ actor, frame, socket }) => rt.inOrder(socket, () => setCallState(rt, actor, socket, frame as VoiceStateFrame)));
  hub.handleFrame("voice:ring", ({ actor, frame, socket }) => rt.inOrder(socket, () => ring(rt, actor, socket, frame as VoiceRingFrame)));
  hub.handleFrame("voice:decline", ({ actor, frame }) => decline(rt, actor, frame as VoiceDeclineFrame));
  hub.handleFrame("rtc:signal", ({ frame, socket }) => rt.inOrder(socket, () => relaySignals(rt, socket, frame as RtcSignalFrame)));
  hub.onSocketsChanged((_userId, delta, socket) => {
    if (delta !== -1 || rt.stopped) return;
    const binding = rt.bindings.get(socket);
    if (binding) rt.track(startGrace(rt, binding));
  });
  const offEnforcement = installEnforcement(rt);
  startSweep(rt);
  const stop = async () => {
    offEnforcement();
    await rt.stop();
    installed.delete(deps);
  };
  hub.onStop(() => void stop());
  installed.set(deps, { runtime: rt, stop });
  return stop;
}

export async function stopVoice(deps: AppDeps): Promise<void> {
  await installed.get(deps)?.stop();
}

/** Tests: one sweep now (instead of waiting for the period). */
export async function sweepVoice(deps: AppDeps): Promise<void> {
  const entry = installed.get(deps);
  if (entry) await sweepOnce(entry.runtime);
}
