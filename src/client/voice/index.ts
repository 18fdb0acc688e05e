// Entry of chat-voice.js, the call client (docs/voice.md "What a client does"). chat.js imports it
// when a page offers calls or a ring arrives (chat/voice-hook.ts) and hands it the page's socket
// and E2EE device. The call lives in this module, not in the page: a boosted navigation redraws
// the UI (onPage) while the peer connections and the detached audio elements carry on.
import { isUuid, type ErrorFrame, type EventFrame, type RtcSignalEvent, type VoiceParticipant } from "../../shared/protocol.ts";
import { Call, type IceAnswer } from "./call.ts";
import { listDevices, MicError_, openMicrophone } from "./media.ts";
import { markSpeaking, render, type Ring, type UiActions, type UiState } from "./ui.ts";
import type { VoiceHost } from "./types.ts";
import { findPending } from "./pending-records.ts";
import { RecordKeeper } from "./record-keeper.ts";
import { pttKeyCode, pttKeyLabel, setPttKeyCode } from "./ptt-key.ts";

const JOIN_TIMEOUT_MS = 15_000;
const SAVED = "hearth.voice";

let host: VoiceHost | null = null;
let joinTimer: ReturnType<typeof setTimeout> | undefined;
let joinWhere = "dock";
let ringWhenJoined = false;
/** The conversation's message scheme ("pw" DM, "sk" group DM) for call records; "" in voice channels. */
let joinScheme: "pw" | "sk" | "" = "";
/** The record this tab writes as the caller of the current call (records.ts). */
const records = new RecordKeeper(
  (channelId, scheme, record) => host!.sendRecord(channelId, scheme, record),
  () => {
    state.status = "The call record could not be written into the conversation.";
    update();
  },
);
/** Someone else has sat in this tab's current call (a conversation call then ends when they all left). */
let hadCompany = false;
let communityId = "";
let followed: string[] = [];
const names = new Map<string, string>();
const namesAsked = new Set<string>();

const state: UiState = {
  selfId: "",
  call: null,
  joining: null,
  rosters: new Map(),
  speaking: new Set(),
  rings: [],
  status: "",
  warnings: [],
  errors: new Map(),
  pttKey: "",
  choosingKey: false,
  devices: { inputs: [], outputs: [] },
  name: (id) => names.get(id) ?? document.querySelector(`[data-presence-user="${CSS.escape(id)}"] .member__name`)?.textContent?.trim() ?? "Someone",
  volume: (id) => Call.volumes.get(id) ?? 1,
};

let scheduled = false;
function update(): void {
  if (scheduled) return;
  scheduled = true;
  queueMicrotask(() => {
    scheduled = false;
    render(state, actions);
  });
}

/** Display names of a channel's members (once per channel): the sidebar shows people by name. */
function learnNames(channelId: string): void {
  if (!host || namesAsked.has(channelId)) return;
  namesAsked.add(channelId);
  void host
    .call<{ members: { user_id: string; display_name: string; nickname?: string | null }[] }>("GET", `/api/channels/${channelId}/members`)
    .then((a) => {
      for (const m of a.members) names.set(m.user_id, m.nickname || m.display_name);
      update();
    })
    .catch(() => namesAsked.delete(channelId));
}

const JOIN_ERRORS: Record<string, string> = {
  VOICE_FULL: "This call is full (25 people at most).",
  TIMED_OUT: "You are timed out in this community and cannot join calls.",
  PERMISSION_DENIED: "You do not have permission to join this call.",
  ARCHIVED: "This channel is archived.",
  BLOCKED: "You cannot call this person.",
  CHANNEL_NOT_FOUND: "This call is not available to you.",
  UNKNOWN_DEVICE: "This browser's encryption device is not registered. Reload the page and try again.",
  PERMISSION_DENIED_MIC: "Microphone access was denied. Allow the microphone for this site in the browser, then try again.",
  NO_MICROPHONE: "No microphone was found. Connect one, then try again.",
  MIC_FAILED: "The microphone could not be started.",
  TIMEOUT: "The server did not answer in time. Check your connection and try again.",
  OFFLINE: "Not connected to the server. Try again in a moment.",
};

const END_REASONS: Record<string, string> = {
  LEFT: "You left the call.",
  MOVED: "You joined another call from elsewhere; this one ended here.",
  KICKED: "You were removed from the community; the call ended.",
  BANNED: "You were banned from the community; the call ended.",
  TIMED_OUT: "You were timed out; the call ended.",
  ACCESS_CHANGED: "You can no longer join this call; it ended.",
  SESSION_ENDED: "Your session ended; the call ended.",
  CHANNEL_DELETED: "The channel was deleted; the call ended.",
  DISCONNECTED: "The connection was lost; the call ended.",
};

function upsert(channelId: string, p: VoiceParticipant): void {
  const list = (state.rosters.get(channelId) ?? []).filter((x) => x.userId !== p.userId);
  list.push(p);
  state.rosters.set(channelId, list);
}

function fail(where: string, code: string, message?: string): void {
  clearTimeout(joinTimer);
  records.forget();
  state.call?.end();
  state.call = null;
  state.joining = null;
  state.errors.set(where, JOIN_ERRORS[code] ?? message ?? "The call could not start.");
  update();
}

function endCall(text: string): void {
  const call = state.call;
  if (!call) return;
  records.finish();
  call.end();
  const roster = state.rosters.get(call.channelId);
  if (roster) state.rosters.set(call.channelId, roster.filter((p) => p.userId !== state.selfId));
  state.call = null;
  state.joining = null;
  sessionStorage.removeItem(SAVED);
  state.status = text;
  update();
}

const actions: UiActions = {
  join: (channelId, kind, name, where, scheme) => void join(channelId, kind, name, where, kind === "conversation", scheme),
  leave() {
    const call = state.call;
    if (!call || !host) return;
    host.hub.send({ type: "voice:leave", channelId: call.channelId });
    endCall("");
  },
  mute: () => state.call?.setMuted(!state.call.muted),
  deafen: () => state.call?.setDeafened(!state.call.deafened),
  pushToTalk: (on) => state.call?.setPushToTalk(on),
  choosePttKey: () => {
    state.choosingKey = !state.choosingKey;
    update();
  },
  volume: (userId, value) => state.call?.setVolume(userId, value / 100),
  input: (id) =>
    void state.call?.setInput(id).then(update, (e) => {
      state.errors.set("dock", JOIN_ERRORS[e instanceof MicError_ ? e.code : "MIC_FAILED"]!);
      update();
    }),
  output: (id) => state.call?.setOutput(id),
  accept: (ring) => {
    state.rings = state.rings.filter((r) => r !== ring);
    void join(ring.channelId, "conversation", state.name(ring.callerId), "dock", false);
  },
  decline: (ring) => {
    state.rings = state.rings.filter((r) => r !== ring);
    host?.hub.send({ type: "voice:decline", channelId: ring.channelId });
    update();
  },
  camera: () => void media(() => state.call!.setCamera(!state.call!.camera), "No camera could be started (none found, or permission denied)."),
  screen: () => void media(() => state.call!.setScreen(!state.call!.screen), "Screen sharing did not start."),
  layout: update,
  dismissWarnings: () => {
    state.warnings = [];
    update();
  },
};

async function media(fn: () => Promise<void>, problem: string): Promise<void> {
  if (!state.call) return;
  state.errors.delete("dock");
  try {
    await fn();
  } catch (error) {
    // Cancelling the browser's screen picker is not an error worth a message.
    if ((error as DOMException).name !== "AbortError") state.errors.set("dock", problem);
  }
  update();
}

async function join(channelId: string, kind: "community" | "conversation", name: string, where: string, ring = kind === "conversation", scheme: "pw" | "sk" | "" = ""): Promise<void> {
  if (!host || state.joining || state.call?.channelId === channelId) return;
  const h = host;
  joinScheme = scheme;
  hadCompany = false;
  state.errors.delete(where);
  state.status = "";
  state.joining = channelId;
  joinWhere = where;
  update();
  let mic: MediaStream;
  try {
    // Asked on the click itself (the browser's permission prompt belongs to this gesture).
    mic = await openMicrophone(state.call?.inputId || undefined);
  } catch (error) {
    const code = error instanceof MicError_ ? error.code : "MIC_FAILED";
    return fail(where, code === "PERMISSION_DENIED" ? "PERMISSION_DENIED_MIC" : code);
  }
  if (state.call) actions.leave(); // moving from another call
  try {
    const [ice, cert, crypto] = await Promise.all([
      h.call<IceAnswer>("GET", "/api/account/turn-credentials"),
      RTCPeerConnection.generateCertificate({ name: "ECDSA", namedCurve: "P-256" } as EcKeyGenParams),
      h.crypto(),
    ]);
    state.call = new Call(h, channelId, kind, name, mic, cert, ice, {
      changed: update,
      speaking: (userId, speaking) => {
        if (speaking) state.speaking.add(userId);
        else state.speaking.delete(userId);
        markSpeaking(userId, speaking);
      },
      refused: (userId, why, fingerprint, byPeer) => {
        const who = state.name(userId);
        state.warnings.push(
          byPeer
            ? `${who}'s device refused the connection: the security fingerprint it received for this browser does not match what this device signed. The server may be interfering with this call. (${who}'s device: ${why})`
            : fingerprint
              ? `The connection to ${who} was refused: its security fingerprint does not match what ${who}'s device signed. The server may be interfering with this call. (${why})`
              : `The connection to ${who} was refused: ${why}.`,
        );
        update();
      },
    }, crypto);
  } catch (error) {
    for (const t of mic.getTracks()) t.stop();
    return fail(where, "", (error as Error).message);
  }
  ringWhenJoined = ring;
  if (kind === "community") h.hub.subscribe([channelId]);
  if (!h.hub.send({ type: "voice:join", channelId, deviceId: state.call.crypto.deviceId, ref: "voice-join" })) return fail(where, "OFFLINE");
  clearTimeout(joinTimer);
  joinTimer = setTimeout(() => fail(where, "TIMEOUT"), JOIN_TIMEOUT_MS);
  learnNames(channelId);
  void listDevices().then((d) => {
    state.devices = d;
    update();
  });
}

function onJoined(f: Record<string, unknown>): void {
  const call = state.call;
  if (!call || f.channelId !== call.channelId || typeof f.connId !== "string") return;
  clearTimeout(joinTimer);
  const participants = (f.participants as VoiceParticipant[]) ?? [];
  state.joining = null;
  state.rosters.set(call.channelId, participants);
  call.joinedAs(f.connId, participants);
  if (participants.some((p) => p.userId !== state.selfId)) hadCompany = true;
  if (ringWhenJoined && participants.every((p) => p.userId === state.selfId)) {
    host?.hub.send({ type: "voice:ring", channelId: call.channelId, ref: "voice-ring" });
    if (joinScheme) records.open({ channelId: call.channelId, scheme: joinScheme });
  }
  ringWhenJoined = false;
  sessionStorage.setItem(SAVED, JSON.stringify({ channelId: call.channelId, kind: call.kind, name: call.name, record: records.log?.id ?? null }));
  // A resumed log whose callee left while this tab reloaded: the call is over for the record.
  if (records.log && !participants.some((p) => p.userId !== state.selfId)) records.log.othersLeft();
  update();
}

function onFrame(frame: EventFrame | ErrorFrame): void {
  const f = frame as Record<string, unknown>;
  const channelId = typeof f.channelId === "string" ? f.channelId : "";
  const call = state.call;
  const inThisCall = !!call && call.channelId === channelId;
  switch (frame.type) {
    case "voice:joined":
      return onJoined(f);
    case "voice:participant_joined":
    case "voice:participant_updated": {
      const p = f.participant as VoiceParticipant;
      upsert(channelId, p);
      if (inThisCall) call.participantUpdated(p);
      if (inThisCall && p.userId !== state.selfId) {
        records.log?.answer();
        hadCompany = true;
      }
      learnNames(channelId);
      return update();
    }
    case "voice:participant_left": {
      const list = state.rosters.get(channelId);
      if (list) state.rosters.set(channelId, list.filter((p) => p.userId !== f.userId));
      if (inThisCall && f.userId !== state.selfId) call.participantLeft(String(f.userId), String(f.connId));
      if (inThisCall && [...call.participants.keys()].every((id) => id === state.selfId)) {
        records.log?.othersLeft();
        // A DM or group DM call with nobody else left (and nobody still being rung) is over: the
        // one who stayed is not left sitting alone in it.
        if (call.kind === "conversation" && hadCompany && !records.log?.ringingCount && host) {
          host.hub.send({ type: "voice:leave", channelId: call.channelId });
          return endCall("Everyone else left; the call ended.");
        }
      }
      return update();
    }
    case "voice:speaking":
      if (f.speaking) state.speaking.add(String(f.userId));
      else state.speaking.delete(String(f.userId));
      return markSpeaking(String(f.userId), f.speaking === true);
    case "voice:ended":
      if (call && f.connId === call.connId) endCall(END_REASONS[String(f.reason)] ?? "The call ended.");
      return;
    case "rtc:signal":
      return call?.onSignal(frame as unknown as RtcSignalEvent);
    case "voice:ringing":
      if (inThisCall && Array.isArray(f.userIds)) records.log?.rang(f.userIds.map(String));
      state.status = "Ringing…";
      return update();
    case "voice:ring": {
      if (inThisCall || state.rings.some((r) => r.channelId === channelId)) return;
      state.rings.push({ channelId, callerId: String(f.callerId), expiresAt: String(f.expiresAt) });
      learnNames(channelId);
      return update();
    }
    case "voice:ring_ended": {
      if (f.calleeId === state.selfId) state.rings = state.rings.filter((r) => r.channelId !== channelId);
      else if (f.callerId === state.selfId && inThisCall) {
        records.log?.ringEnded(String(f.calleeId), String(f.reason));
        const who = state.name(String(f.calleeId));
        state.status = f.reason === "DECLINED" ? `${who} declined the call.` : f.reason === "TIMEOUT" ? `${who} did not answer.` : "";
      }
      return update();
    }
    case "subscription:revoked":
      if (call && Array.isArray(f.channelIds) && f.channelIds.includes(call.channelId)) endCall(END_REASONS.ACCESS_CHANGED!);
      return;
    case "error":
      if (f.ref === "voice-join" && state.joining) return fail(joinWhere, String(f.code), String(f.message));
      state.errors.set("dock", String(f.message));
      return update();
  }
}

/** A community page: follow its voice channels (the sidebar's live lists) and fetch who is in them. */
function onPage(): void {
  if (!host) return;
  const nav = document.querySelector<HTMLElement>("[data-voice-community]");
  const nextCommunity = nav?.dataset.voiceCommunity ?? "";
  const ids = [...document.querySelectorAll<HTMLElement>("[data-voice-channel]")].map((a) => a.dataset.voiceChannel!).filter(isUuid);
  const keep = state.call ? [state.call.channelId] : [];
  const drop = followed.filter((id) => !ids.includes(id) && !keep.includes(id));
  if (drop.length) host.hub.unsubscribe(drop);
  if (ids.length) host.hub.subscribe(ids);
  followed = ids;
  // A page with a Join or Call button: open the E2EE device now, so a click does not wait for it.
  const stages = document.querySelectorAll<HTMLElement>("[data-voice-stage], button[data-voice-call]");
  if (stages.length) void host.crypto().then(() => stages.forEach((e) => (e.dataset.voiceReady = "")), () => {});
  if (nextCommunity && isUuid(nextCommunity)) {
    communityId = nextCommunity;
    void host
      .call<{ channels: Record<string, VoiceParticipant[]> }>("GET", `/api/communities/${communityId}/voice`)
      .then((a) => {
        for (const id of ids) state.rosters.set(id, a.channels[id] ?? []);
        for (const id of ids) if (a.channels[id]?.length) learnNames(id);
        update();
      })
      .catch(() => {});
  }
  update();
}

function pttKey(e: KeyboardEvent): boolean {
  const t = e.target as HTMLElement | null;
  return e.code === pttKeyCode() && !!state.call?.pushToTalk && !t?.closest?.("input, textarea, select, button, summary, a, [contenteditable]");
}

/** "Change key" was pressed: the next key (but Escape, which cancels, and Tab) becomes the key. */
function chooseKey(e: KeyboardEvent): boolean {
  if (!state.choosingKey) return false;
  if (e.code === "Tab") return false;
  e.preventDefault();
  state.choosingKey = false;
  if (e.code !== "Escape") setPttKeyCode(e.code);
  state.pttKey = pttKeyLabel();
  update();
  return true;
}

export function start(h: VoiceHost): void {
  host = h;
  state.selfId = h.selfId;
  state.pttKey = pttKeyLabel();
  document.addEventListener("keydown", (e) => {
    if (chooseKey(e) || !pttKey(e)) return;
    e.preventDefault();
    if (!e.repeat) state.call?.talk(true);
  });
  document.addEventListener("keyup", (e) => {
    if (pttKey(e)) state.call?.talk(false);
  });
  addEventListener("blur", () => state.call?.talk(false));
  // Any page of the app keeps the dock (a page without calls of its own, e.g. settings, too).
  document.addEventListener("htmx:after:swap", update);
  // Leaving the page: peers closed at once; the seat waits out the grace (a reload resumes it).
  // The call log notes the moment, for the length a later page records if this tab is gone.
  addEventListener("pagehide", () => {
    records.log?.alive();
    state.call?.end();
  });
  // Rings waiting for us, and a seat to resume after a reload (docs/voice.md, "What a client does" 2).
  void h
    .call<{ call: { channelId: string } | null; rings: Ring[] }>("GET", "/api/account/voice")
    .then((a) => {
      for (const r of a.rings) if (!state.rings.some((x) => x.channelId === r.channelId)) state.rings.push(r);
      const saved = JSON.parse(sessionStorage.getItem(SAVED) ?? "null") as { channelId: string; kind: "community" | "conversation"; name: string; record?: string | null } | null;
      const resume = !!saved && a.call?.channelId === saved.channelId;
      const log = resume && saved?.record ? findPending(saved.record) : undefined;
      if (resume && saved) {
        if (log) records.open(log);
        void join(saved.channelId, saved.kind, saved.name, "dock", false);
      }
      // Logs of calls whose tab went away (closed, crashed): their closing records, written now.
      void records.closeAbandoned(a.call?.channelId ?? null, log?.id ?? null);
      update();
    })
    .catch(() => {});
}

export { onFrame, onPage };

/** The socket came back: a join within the grace re-binds the seat (a new connId; peers offered again). */
export function onReconnected(): void {
  const call = state.call;
  if (call && host) host.hub.send({ type: "voice:join", channelId: call.channelId, deviceId: call.crypto.deviceId, ref: "voice-rejoin" });
}
