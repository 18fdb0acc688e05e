// The call UI, drawn from the call client's state (index.ts) into the page after every change and
// every boosted navigation: who sits in each voice channel (under its sidebar link), a voice
// channel's stage (Join/Leave), the DM call button, and the dock — the call's controls, people,
// per-person volume, devices, push-to-talk, rings and security warnings — at the top of the pane.
// Text goes in through textContent only; state is shown with classes (strict CSP).
import type { VoiceParticipant } from "../../shared/protocol.ts";
import type { Call } from "./call.ts";
import type { Devices } from "./media.ts";
import { STALLED_MS } from "./peer.ts";

export type Ring = { channelId: string; callerId: string; expiresAt: string };

export type UiState = {
  selfId: string;
  call: Call | null;
  joining: string | null;
  rosters: Map<string, VoiceParticipant[]>;
  speaking: Set<string>;
  rings: Ring[];
  status: string;
  warnings: string[];
  /** Errors by where the user acted: "stage:<id>", "call:<id>", "dock". */
  errors: Map<string, string>;
  devices: Devices;
  /** The push-to-talk key's label (ptt-key.ts), and whether the next key press will replace it. */
  pttKey: string;
  choosingKey: boolean;
  name(userId: string): string;
  /** Per-person volume, 0–1. */
  volume(userId: string): number;
};

export type UiActions = {
  /** `scheme`: a conversation's message scheme, for the call record the caller writes. */
  join(channelId: string, kind: "community" | "conversation", name: string, where: string, scheme?: "pw" | "sk"): void;
  leave(): void;
  mute(): void;
  deafen(): void;
  pushToTalk(on: boolean): void;
  /** Start (or cancel) choosing the push-to-talk key. */
  choosePttKey(): void;
  /** 0–100 from the slider. */
  volume(userId: string, value: number): void;
  input(deviceId: string): void;
  output(deviceId: string): void;
  accept(ring: Ring): void;
  decline(ring: Ring): void;
  dismissWarnings(): void;
  /** The tile layout changed (grid or focus): draw again. */
  layout(): void;
  camera(): void;
  screen(): void;
};

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}

function button(text: string, cls: string, action: string, onClick: () => void): HTMLButtonElement {
  const b = el("button", `btn btn--sm ${cls}`, text);
  b.type = "button";
  b.dataset.voiceAction = action;
  b.addEventListener("click", onClick);
  return b;
}

function errorSlot(state: UiState, where: string): HTMLElement {
  const p = el("p", "voice-error", state.errors.get(where) ?? "");
  p.setAttribute("role", "alert");
  p.dataset.voiceError = where;
  p.hidden = !state.errors.has(where);
  return p;
}

function person(state: UiState, p: VoiceParticipant, actions: UiActions | null): HTMLLIElement {
  const li = el("li", "voice-person");
  li.dataset.voiceUser = p.userId;
  li.classList.toggle("voice-person--speaking", state.speaking.has(p.userId) && !p.muted);
  li.classList.toggle("voice-person--away", !p.connected);
  const dot = el("span", "voice-person__dot");
  dot.setAttribute("aria-hidden", "true");
  const name = el("span", "voice-person__name", state.name(p.userId) + (p.userId === state.selfId ? " (you)" : ""));
  li.append(dot, name);
  const flags = [p.deafened ? "deafened" : p.muted ? "muted" : "", p.connected ? "" : "reconnecting…"].filter(Boolean).join(", ");
  if (flags) li.append(el("span", "voice-person__flags", flags));
  const peer = actions && state.call ? [...state.call.peers.values()].find((x) => x.remote.userId === p.userId) : undefined;
  if (peer && peer.state !== "connected") {
    const text = peer.state === "refused" ? (peer.refusedByPeer ? "refused by their device" : "refused") : peer.stalled ? `not connected after ${STALLED_MS / 1000} s: their device may have refused the connection (a security check), or the network blocks calls` : "connecting…";
    const flag = el("span", "voice-person__flags", text);
    flag.dataset.voicePeerState = peer.state === "refused" ? "refused" : peer.stalled ? "stalled" : "connecting";
    li.append(flag);
  }
  if (actions && p.userId !== state.selfId && state.call) {
    const label = el("label", "voice-person__volume");
    const range = el("input");
    range.type = "range";
    range.min = "0";
    range.max = "100";
    range.value = String(Math.round(state.volume(p.userId) * 100));
    range.dataset.voiceAction = `volume:${p.userId}`;
    range.setAttribute("aria-label", `Volume of ${state.name(p.userId)}`);
    range.addEventListener("input", () => actions.volume(p.userId, Number(range.value)));
    label.append(range);
    li.append(label);
  }
  return li;
}

function list(state: UiState, people: VoiceParticipant[], cls: string, actions: UiActions | null, label: string): HTMLUListElement {
  const ul = el("ul", cls);
  ul.setAttribute("aria-label", label);
  for (const p of people) ul.append(person(state, p, actions));
  return ul;
}

/** Keeps keyboard focus on the same control across a redraw. */
function redraw(host: HTMLElement, children: Node[]): void {
  const active = document.activeElement as HTMLElement | null;
  const key = active && host.contains(active) ? active.dataset.voiceAction : undefined;
  host.replaceChildren(...children);
  if (key) host.querySelector<HTMLElement>(`[data-voice-action="${CSS.escape(key)}"]`)?.focus();
}

export function render(state: UiState, actions: UiActions): void {
  const call = state.call;
  const inCall = (id: string) => !!call && call.channelId === id;

  // Sidebar: who is in each voice channel's call, live, for everyone who can see the channel.
  for (const link of document.querySelectorAll<HTMLAnchorElement>("a[data-voice-channel]")) {
    const id = link.dataset.voiceChannel!;
    const li = link.parentElement!;
    let ul = li.querySelector<HTMLUListElement>(":scope > ul.voice-roster");
    const people = state.rosters.get(id) ?? [];
    if (!people.length) {
      ul?.remove();
      continue;
    }
    const fresh = list(state, people, "voice-roster", null, `In the call of ${link.textContent?.trim() ?? "this channel"}`);
    if (ul) ul.replaceWith(fresh);
    else li.append(fresh);
    ul = fresh;
  }

  // A voice channel's page: its call, Join / Leave.
  for (const stage of document.querySelectorAll<HTMLElement>("[data-voice-stage]")) {
    const id = stage.dataset.voiceStage!;
    const name = stage.dataset.voiceName ?? "";
    const people = state.rosters.get(id) ?? [];
    const heading = el("h2", "voice-stage__title", people.length ? `In the call — ${people.length}` : "Nobody is in the call yet");
    const where = `stage:${id}`;
    const act = inCall(id)
      ? button("Leave call", "btn--danger", "leave", () => actions.leave())
      : button(state.joining === id ? "Joining…" : "Join call", "btn--primary", "join", () => actions.join(id, "community", `#${name}`, where));
    act.disabled = state.joining === id;
    redraw(stage, [heading, list(state, people, "voice-stage__people", null, `In the call of #${name}`), act, errorSlot(state, where)]);
  }

  // A conversation's call button.
  for (const b of document.querySelectorAll<HTMLButtonElement>("button[data-voice-call]")) {
    const id = b.dataset.voiceCall!;
    const where = `call:${id}`;
    b.disabled = state.joining === id;
    b.textContent = inCall(id) ? "Hang up" : state.joining === id ? "Calling…" : "Call";
    b.classList.toggle("btn--danger", inCall(id));
    if (!b.dataset.voiceWired) {
      b.dataset.voiceWired = "1";
      b.addEventListener("click", () => (state.call?.channelId === id ? actions.leave() : actions.join(id, "conversation", b.dataset.voiceName ?? "this conversation", where, b.dataset.voiceScheme === "sk" ? "sk" : "pw")));
    }
    let slot = b.parentElement?.querySelector<HTMLElement>(`[data-voice-error="${CSS.escape(where)}"]`);
    const fresh = errorSlot(state, where);
    if (slot) slot.replaceWith(fresh);
    else b.after(fresh);
    slot = fresh;
  }

  renderDock(state, actions);
}

function renderDock(state: UiState, actions: UiActions): void {
  const call = state.call;
  let dock = document.querySelector<HTMLElement>("#voice-dock");
  if (!call && !state.rings.length && !state.warnings.length && !state.status && !state.errors.has("dock")) {
    dock?.remove();
    return;
  }
  if (!dock) {
    dock = el("section", "voice-dock");
    dock.id = "voice-dock";
    dock.setAttribute("aria-label", "Call");
    const header = document.querySelector(".pane-header");
    if (header) header.after(dock);
    else document.body.prepend(dock);
  }
  const parts: Node[] = [];
  for (const w of state.warnings) {
    const warn = el("div", "voice-warning");
    warn.setAttribute("role", "alert");
    warn.dataset.voiceWarning = "";
    warn.append(el("strong", "", "Security warning. "), el("span", "", w));
    parts.push(warn);
  }
  if (state.warnings.length) parts.push(button("Dismiss", "btn--ghost", "dismiss", () => actions.dismissWarnings()));
  for (const ring of state.rings) {
    const box = el("div", "voice-ring");
    box.setAttribute("role", "alert");
    box.dataset.voiceRing = ring.channelId;
    box.append(el("p", "voice-ring__text", `${state.name(ring.callerId)} is calling you`), button("Accept", "btn--primary", `accept:${ring.channelId}`, () => actions.accept(ring)), button("Decline", "btn--danger", `decline:${ring.channelId}`, () => actions.decline(ring)));
    parts.push(box);
  }
  if (state.status) {
    const s = el("p", "voice-dock__status", state.status);
    s.setAttribute("role", "status");
    parts.push(s);
  }
  parts.push(errorSlot(state, "dock"));
  if (call) {
    const connected = [...call.peers.values()].filter((p) => p.state === "connected").length;
    const others = [...call.participants.values()].filter((p) => p.userId !== state.selfId).length;
    const title = el("h2", "voice-dock__title", `${call.joined ? "In a call" : "Joining"}: ${call.name}`);
    const status = el("p", "voice-dock__status", !call.joined ? "Connecting…" : others === 0 ? "Waiting for others to join…" : `${connected} of ${others} connected`);
    status.dataset.voiceConnected = String(connected);
    const people = [...call.participants.values()];
    const controls = el("div", "voice-dock__controls");
    const mute = button(call.muted ? "Unmute" : "Mute", "btn--secondary", "mute", () => actions.mute());
    mute.setAttribute("aria-pressed", String(call.muted));
    const deafen = button(call.deafened ? "Undeafen" : "Deafen", "btn--secondary", "deafen", () => actions.deafen());
    deafen.setAttribute("aria-pressed", String(call.deafened));
    const camera = button(call.camera ? "Camera off" : "Camera on", "btn--secondary", "camera", () => actions.camera());
    camera.setAttribute("aria-pressed", String(!!call.camera));
    controls.append(mute, deafen, camera);
    if (typeof navigator.mediaDevices?.getDisplayMedia === "function") {
      const share = button(call.screen ? "Stop sharing" : "Share screen", "btn--secondary", "screen", () => actions.screen());
      share.setAttribute("aria-pressed", String(!!call.screen));
      controls.append(share);
    }
    controls.append(button("Leave", "btn--danger", "leave-dock", () => actions.leave()));
    const grid = tiles(state, call, actions);
    if (focusedTile)
      controls.append(
        button("Grid view", "btn--secondary", "grid", () => {
          focusedTile = "";
          actions.layout();
        }),
      );
    parts.push(title, status, grid, list(state, people, "voice-dock__people", actions, "People in this call"), controls, settings(state, call, actions));
  }
  redraw(dock, parts);
}

/**
 * Camera and screen tiles: remote videos (kept by the call across redraws) and our own preview.
 * Grid by default; a tile is a button, so a click, Enter or Space shows it large (focus layout:
 * the others become a strip of thumbnails), again or "Grid view" goes back.
 */
const ownPreviews = new Map<MediaStream, HTMLVideoElement>();
let focusedTile = "";
function tiles(state: UiState, call: Call, actions: UiActions): HTMLElement {
  const grid = el("div", "voice-tiles");
  const shown: [key: string, video: HTMLVideoElement, label: string][] = [];
  for (const [stream, label, key] of [[call.camera, "You", "self:camera"], [call.screen, "Your screen", "self:screen"]] as const) {
    if (!stream) continue;
    let v = ownPreviews.get(stream);
    if (!v) {
      v = el("video", "voice-tile__video voice-tile__video--self");
      v.autoplay = v.muted = v.playsInline = true;
      v.srcObject = stream;
      ownPreviews.set(stream, v);
    }
    shown.push([key, v, label]);
  }
  for (const [s] of ownPreviews) if (s !== call.camera && s !== call.screen) ownPreviews.delete(s);
  for (const [key, v] of call.videos) {
    v.el.className = "voice-tile__video";
    v.el.dataset.voiceVideo = v.userId;
    shown.push([key, v.el, state.name(v.userId)]);
  }
  if (!shown.some(([key]) => key === focusedTile)) focusedTile = "";
  grid.classList.toggle("voice-tiles--focus", !!focusedTile);
  for (const [key, video, label] of shown) {
    const focused = key === focusedTile;
    const tile = el("button", focused ? "voice-tile voice-tile--focused" : "voice-tile");
    tile.type = "button";
    tile.dataset.voiceAction = `tile:${key}`;
    tile.setAttribute("aria-pressed", String(focused));
    tile.setAttribute("aria-label", focused ? `${label}, shown large: back to the grid` : `Show ${label} large`);
    tile.addEventListener("click", () => {
      focusedTile = focused ? "" : key;
      actions.layout();
    });
    tile.append(video, el("span", "voice-tile__name", label));
    grid.append(tile);
    // Moving a playing element through the DOM pauses it.
    if (video.paused) void video.play().catch(() => {});
  }
  grid.hidden = shown.length === 0;
  grid.setAttribute("aria-label", focusedTile ? "Video, one shown large" : "Video");
  grid.setAttribute("role", "group");
  return grid;
}

function settings(state: UiState, call: Call, actions: UiActions): HTMLElement {
  const details = el("details", "voice-settings");
  details.open = document.querySelector<HTMLDetailsElement>("#voice-dock details.voice-settings")?.open ?? false;
  const summary = el("summary", "", "Audio settings");
  summary.dataset.voiceAction = "settings";
  details.append(summary);
  const select = (label: string, action: string, devices: MediaDeviceInfo[], current: string, change: (id: string) => void) => {
    const wrap = el("label", "field voice-settings__field");
    wrap.append(el("span", "field__label", label));
    const s = el("select", "input");
    s.dataset.voiceAction = action;
    const def = el("option", "", "System default");
    def.value = "";
    s.append(def);
    devices.forEach((d, i) => {
      const o = el("option", "", d.label || `${label} ${i + 1}`);
      o.value = d.deviceId;
      o.selected = d.deviceId === current;
      s.append(o);
    });
    s.addEventListener("change", () => change(s.value));
    wrap.append(s);
    details.append(wrap);
  };
  select("Microphone", "input", state.devices.inputs.filter((d) => d.deviceId !== "default"), call.inputId, actions.input);
  if (state.devices.outputs.length) select("Speaker", "output", state.devices.outputs.filter((d) => d.deviceId !== "default"), call.sinkId, actions.output);
  const ptt = el("label", "voice-settings__check");
  const box = el("input");
  box.type = "checkbox";
  box.checked = call.pushToTalk;
  box.dataset.voiceAction = "ptt";
  box.addEventListener("change", () => actions.pushToTalk(box.checked));
  ptt.append(box, el("span", "", ` Push to talk (hold ${state.pttKey} while the page has focus, outside text fields)`));
  const key = el("p", "voice-settings__key");
  const current = el("span", "", state.choosingKey ? "Press the key to use for push to talk (Escape cancels)…" : "Push-to-talk key: ");
  current.setAttribute("aria-live", "polite");
  if (!state.choosingKey) current.append(el("kbd", "", state.pttKey));
  const change = button(state.choosingKey ? "Cancel" : "Change key", "btn--ghost", "ptt-key", () => actions.choosePttKey());
  change.setAttribute("aria-pressed", String(state.choosingKey));
  key.append(current, " ", change);
  details.append(ptt, key);
  return details;
}

/** Speaking changes only flip a class: no redraw (a volume slider may be in use). */
export function markSpeaking(userId: string, speaking: boolean): void {
  for (const li of document.querySelectorAll<HTMLElement>(`[data-voice-user="${CSS.escape(userId)}"]`)) li.classList.toggle("voice-person--speaking", speaking);
}
