// Entry of chat.js, loaded on demand by app.js when a page has a chat ([data-chat-src], also after
// boosted navigation). Creates this browser's E2EE device on first use, connects the hub once,
// and mounts one ChannelController for the conversation on screen.

import type { HubClient } from "../ws.ts";
import { CLOSE, isSubscriptionRevokedFrame, isViewersChangedFrame, type EventFrame } from "../../shared/protocol.ts";
import { callApi } from "./api.ts";
import { ChannelController } from "./controller.ts";
import { IndexedDbKeyStore } from "../e2ee/indexeddb-key-store.ts";
import { ChatEngine } from "./engine.ts";
import { DEVICE_REVOKED_EVENT, type Scheme } from "./types.ts";
import { normaliseMessage, type Reaction } from "./types.ts";
import { recipientsOf, Viewers } from "./viewers.ts";
import { describeCall, type CallRecord } from "./call-record.ts";
import { encryptAndSend, withCurrentReaders } from "./sender.ts";
import { RETRY_KEYS_EVENT } from "./view.ts";
import { onPresenceChanged, refreshPresence, watchPresenceRows } from "./presence.ts";
import { el } from "./dom.ts";
import * as textLimits from "../../shared/text-limits.ts";
import { isVoiceFrame, loadVoice, voiceLoaded } from "./voice-hook.ts";
import { loadSearch, searchFrame } from "./search-hook.ts";
import { openSidePanel } from "./side-panel.ts";

/** The QR encoder bundle's file name, beside chat.js (scripts/build.ts defines it; src/client/qr.ts). */
declare const __HEARTH_QR_SRC__: string;
// A run-time URL, so the bundler leaves the import alone instead of resolving it.
const loadQr = () => import(/* @vite-ignore */ new URL(__HEARTH_QR_SRC__, import.meta.url).href) as Promise<typeof import("../qr.ts")>;

let engine: Promise<ChatEngine> | null = null;
let engineUser = "";
let hub: HubClient | null = null;
let hubReady: Promise<HubClient> | null = null;
/** The shared socket, listened to once: mountChat and the call client may both ask first. */
const ensureHub = () => (hubReady ??= connectHub().then((h) => (hub = h)));
let current: ChannelController | null = null;
let currentChannel = "";
let currentCommunity = "";
let selfUserId = "";
/** Who can read the conversation on screen (viewers.ts); re-fetched whenever that may have changed. */
let viewers: Viewers | null = null;

function setStatus(text: string): void {
  const status = document.querySelector<HTMLElement>("[data-chat-status]");
  if (status) {
    status.textContent = text;
    status.hidden = text === "";
  }
}

/**
 * The readers changed (viewers:changed, a reader's device list, a reconnect): the list is stale,
 * so the next send fetches it. A tab that has sent here (it holds our sender key for the
 * channel) fetches it now — spread over up to 2 s, so a join in a large community does not make
 * every open tab ask at once — and its onChange gives our key to new devices before our next
 * send. Other tabs (readers who never sent here, DMs) wait: nothing of theirs needs sharing.
 */
function refreshViewers(): void {
  const v = viewers;
  if (!v) return;
  v.invalidate();
  void engine?.then((e) => {
    if (e.hasOwnSenderKey(v.channelId)) setTimeout(() => void v.current().catch(() => {}), Math.random() * 2_000);
  });
}

/** A timeout cut the live feed of a community's channels: when (and where) to follow again. */
let timeout: { communityId: string; until: number; timer: ReturnType<typeof setTimeout> } | null = null;

function endTimeout(): void {
  if (!timeout) return;
  clearTimeout(timeout.timer);
  timeout = null;
  setStatus("");
  if (currentChannel) hub?.refollow([currentChannel]);
  void current?.catchUp();
}

function startTimeout(communityId: string, until: number): void {
  if (timeout) clearTimeout(timeout.timer);
  // setTimeout holds at most ~24.8 days; a 28-day timeout re-arms once.
  const arm = (): ReturnType<typeof setTimeout> => setTimeout(() => (Date.now() >= until ? endTimeout() : timeout && (timeout.timer = arm())), Math.min(Math.max(0, until - Date.now()) + 500, 2 ** 31 - 1));
  timeout = { communityId, until, timer: arm() };
  setStatus(`You are timed out until ${new Date(until).toLocaleString()}. New messages appear here after that; history stays readable.`);
}

function onEvent(frame: EventFrame): void {
  const f = frame as Record<string, unknown>;
  const c = current;
  searchFrame(frame);
  if (isVoiceFrame(frame.type)) return void (frame.type === "voice:ring" ? loadVoice(voiceHost) : voiceLoaded())?.then((m) => m.onFrame(frame));
  if (frame.type === "subscription:revoked") void voiceLoaded()?.then((m) => m.onFrame(frame));
  switch (frame.type) {
    case "message:new": {
      const m = normaliseMessage(f.message);
      // Other channels' badges: live.js counts them (src/client/live/unread.ts).
      if (m && c && m.channel_id === currentChannel) void c.receive(m, true);
      return;
    }
    case "message:edited":
      return c?.onEdited(f.message);
    case "message:deleted":
      if (f.channelId === currentChannel) c?.onDeleted(String(f.messageId), Number(f.seq));
      return;
    case "reaction:changed":
      if (f.channelId === currentChannel) c?.onReactions(String(f.messageId), (f.reactions as Reaction[]) ?? []);
      return;
    case "pin:changed":
      if (f.channelId === currentChannel) c?.onPinChanged(String(f.messageId), f.pinned === true);
      return;
    case "viewers:changed":
      if (isViewersChangedFrame(frame) && (frame.communityId === currentCommunity || frame.channelIds?.includes(currentChannel))) {
        refreshViewers();
        void c?.trust?.then((t) => t.onViewersChanged());
      }
      return;
    case "device:message":
      void engine?.then(async (e) => {
        if (f.deviceId !== e.deviceId) return;
        await e.processToDevice();
        await current?.retryWaiting();
        await current?.extras?.then((x) => x.retryWaiting());
      });
      return;
    case "poll:updated":
      if (f.channelId === currentChannel) void c?.extras?.then((x) => x.onPollUpdated(f));
      return;
    case "read:receipt":
      if (f.channelId === currentChannel) c?.onReadReceipt(String(f.userId), Number(f.seq));
      return;
    case "presence:changed":
      onPresenceChanged(f, selfUserId);
      // A reader came online: they may hold keys this page waits for (shared history, key requests).
      if (f.status !== "offline" && typeof f.userId === "string" && f.userId !== selfUserId && viewers?.known?.devicesByUser.has(f.userId)) void engine?.then((e) => e.nudgeKeyRequests(currentChannel));
      return;
    case "keys:changed":
      if (typeof f.userId === "string" && viewers?.known?.devicesByUser.has(f.userId)) refreshViewers();
      void engine?.then((e) => {
        if (f.userId === selfUserId && f.change === "device_revoked" && f.deviceId === e.deviceId) onDeviceRevoked();
      });
      return;
    case "subscription:revoked": {
      if (!isSubscriptionRevokedFrame(frame) || !frame.channelIds.includes(currentChannel)) return;
      if (frame.reason === "TIMED_OUT" && frame.until && frame.communityId) startTimeout(frame.communityId, Date.parse(frame.until));
      else setStatus(frame.reason === "CHANNEL_DELETED" ? "This channel was deleted." : "You can no longer see this channel.");
      return;
    }
    case "member:timeout_removed":
      if (timeout && f.community_id === timeout.communityId && f.user_id === selfUserId) endTimeout();
      return;
    case "keys:low":
      void engine?.then((e) => (f.deviceId === e.deviceId ? e.maintainPrekeys() : undefined)).catch(() => {});
      return;
    default:
      if (frame.type.startsWith("typing:") && f.channelId === currentChannel && typeof f.userId === "string") {
        c?.onTyping(f.userId, frame.type === "typing:stop" || frame.type === "typing:stopped");
      }
  }
}

type LiveModule = typeof import("../live/index.ts");

/**
 * The tab's one socket lives in live.js (src/client/live/), which app.js already imported from
 * the URL on <body data-live-src>: importing the same URL gives the same module, so chat.js
 * listens on that socket rather than opening a second one.
 */
async function connectHub(): Promise<HubClient> {
  const src = document.body.dataset.liveSrc;
  if (!src || !src.startsWith("/")) throw new Error("the live connection module is missing on this page");
  const live = (await import(/* @vite-ignore */ src)) as LiveModule;
  live.listen({
    onEvent,
    onError: (f) => void (isVoiceFrame(f.type, f.ref) && voiceLoaded()?.then((m) => m.onFrame(f))),
    onState: (state, detail) => {
      if (state === "open" && selfUserId) void refreshPresence(selfUserId).catch(() => {});
      const reconnecting = detail?.code === CLOSE.TOO_MANY_SESSIONS ? "Too many open tabs or devices. Close one; retrying…" : "Reconnecting…";
      setStatus(state === "open" ? "" : state === "ended" ? "Disconnected. Reload the page to reconnect." : state === "reconnecting" ? reconnecting : "");
    },
    onReconnected: () => {
      void voiceLoaded()?.then((m) => m.onReconnected());
      refreshViewers(); // viewers:changed events may have been missed while disconnected
      void engine?.then((e) => e.processToDevice()).then(() => current?.retryWaiting()).catch(() => {});
      void current?.catchUp();
      current?.onReconnected();
    },
  });
  return live.hub;
}

let noticeTimer: ReturnType<typeof setTimeout> | undefined;
function flash(text: string): void {
  setStatus(text);
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => setStatus(""), 5000);
}
/** This device is no longer registered (UNKNOWN_DEVICE, or revoked live): the banner where the user writes. */
function onDeviceRevoked(): void {
  const composer = document.querySelector<HTMLElement>(".pane-composer");
  const host = composer ?? document.querySelector<HTMLElement>("main") ?? document.body;
  // The banner lives in the lazy chunk (a rare path); the chunk is usually loaded already.
  void import("./extras-ui.ts").then(({ showDeviceRevoked }) =>
    showDeviceRevoked(host, host.firstChild, async () => {
      const e = await engine;
      if (!e) throw new Error("Encryption is not running on this page.");
      await e.resetDevice();
    }),
  );
}
document.addEventListener(DEVICE_REVOKED_EVENT, onDeviceRevoked);
document.addEventListener("chat:error", (e) => flash(String((e as CustomEvent).detail)));
document.addEventListener(RETRY_KEYS_EVENT, () => void engine?.then((e) => e.retryKeyRequest(currentChannel)));
// Names and avatars with data-profile-user open the profile card: live.js (live/faces.ts).
document.addEventListener("chat:notice", (e) => flash(String((e as CustomEvent).detail)));
document.addEventListener("chat:identity-changed", () => flash("A contact's security key changed. Compare safety numbers before sharing anything sensitive."));

/** Settings › Security: this account's encryption devices (trust-ui.ts, in the lazy chunk). */
export async function mountOwnDevices(root: HTMLElement): Promise<void> {
  (await import("./trust-ui.ts")).mountOwnDevices(root, callApi, IndexedDbKeyStore);
}

function openEngine(selfId: string): Promise<ChatEngine> {
  if (!engine || engineUser !== selfId) {
    engineUser = selfId;
    engine = ChatEngine.open(selfId);
  }
  return engine;
}
const voiceHost = async () => ({
  selfId: selfUserId,
  hub: await ensureHub(),
  crypto: () => openEngine(selfUserId),
  call: callApi,
  // A call record: the ordinary encrypted send path (sender.ts), from whatever page the call is on.
  sendRecord: async (channelId: string, scheme: Scheme, call: CallRecord) =>
    void (await encryptAndSend(await openEngine(selfUserId), { channelId, scheme, selfId: selfUserId, viewers: new Viewers(channelId), names: new Map() }, { clientId: crypto.randomUUID(), text: describeCall(call), call })),
});

/** Pages that offer calls ([data-voice-self]: a community's sidebar, a DM's call button): the call client. */
export async function mountVoice(root: HTMLElement): Promise<void> {
  selfUserId ||= root.dataset.voiceSelf!;
  (await loadVoice(voiceHost)).onPage();
}

export async function mountChat(root: HTMLElement): Promise<void> {
  if (root.dataset.chatMounted) return;
  root.dataset.chatMounted = "1";
  const selfId = root.dataset.chatSelf!;
  const channelId = root.dataset.chatChannel!;
  const scheme = root.dataset.chatScheme === "pw" ? "pw" : "sk";
  const scroller = (root.closest(".pane-body") as HTMLElement | null) ?? root.parentElement!;
  const pane = scroller.parentElement!;
  let status = pane.querySelector<HTMLElement>("[data-chat-status]");
  if (!status) {
    status = el("p", "chat-status");
    status.dataset.chatStatus = "";
    status.setAttribute("role", "status");
    status.hidden = true;
    pane.insertBefore(status, scroller);
  }
  const jump = el("button", "btn btn--secondary btn--sm chat-jump", "Jump to latest ↓");
  jump.type = "button";
  jump.hidden = true;
  pane.insertBefore(jump, scroller.nextSibling);
  const jumpUnread = el("button", "btn btn--secondary btn--sm chat-jump chat-jump--unread", "Jump to first unread ↑");
  jumpUnread.type = "button";
  jumpUnread.hidden = true;
  pane.insertBefore(jumpUnread, scroller);
  const composerPane = pane.querySelector<HTMLElement>(".pane-composer");
  const typing = el("p", "chat-typing");
  typing.setAttribute("aria-live", "polite");
  const reply = el("p", "chat-reply");
  reply.hidden = true;
  const seen = el("p", "chat-seen");
  seen.setAttribute("aria-live", "polite");
  composerPane?.prepend(seen, typing, reply);
  const form = composerPane?.querySelector<HTMLFormElement>("form[data-composer]") ?? null;
  const input = form?.querySelector<HTMLTextAreaElement>("textarea") ?? null;
  // Until the device is ready the composer stays disabled (the server draws it so): nothing can
  // leave unencrypted. One the server marks as not for this person (read-only, archived, timed
  // out: no data-can-send) stays disabled.
  const canSend = !!input && form?.dataset.canSend !== undefined;
  if (input) input.disabled = true;

  try {
    if (!engine || engineUser !== selfId) setStatus("Setting up encryption on this device…");
    const e = await openEngine(selfId);
    setStatus("");
    void e.maintainPrekeys().catch(() => {});
    await e.processToDevice().catch(() => 0);
    // The readers as the server lists them now; kept current (refreshViewers), never a snapshot.
    const channelViewers = new Viewers(channelId);
    const names = new Map<string, string>();
    channelViewers.onChange((list) => {
      names.clear();
      for (const [id, name] of list.names) names.set(id, name);
      e.setChannelContext(channelId, list);
      // Live key distribution: devices that can newly read get our sender key before our next send.
      if (scheme === "sk") void e.shareSenderKey(channelId, recipientsOf(list, { userId: selfId, deviceId: e.deviceId })).catch(() => {});
    });
    await channelViewers.current();
    viewers = channelViewers;
    currentCommunity = root.dataset.chatCommunity ?? "";
    selfUserId = selfId;
    hub = await ensureHub();
    void refreshPresence(selfId).catch(() => {});
    watchPresenceRows(selfId);
    if (currentChannel && currentChannel !== channelId) hub.unsubscribe([currentChannel]);
    currentChannel = channelId;
    const mentionAll = root.dataset.chatMentionAll !== undefined;
    const controller = new ChannelController(e, { channelId, scheme, selfId, viewers: channelViewers, names, mentionAll }, root, scroller, { typing, jump, jumpUnread, form, input, canSend, reply, seen }, (id, stop) => {
      hub?.send({ type: stop ? "typing:stop" : "typing:start", channelId: id });
    });
    current?.dispose();
    current = controller;
    hub.subscribe([channelId]);
    await controller.start();
    // The window between the history fetch and the subscription: catch up once.
    await controller.catchUp();
    const hit = /^#m-(.{36})$/.exec(location.hash)?.[1];
    if (hit) controller.showMessage(hit, false);
    // Search (docs/search.md): the local encrypted index, its backfill and panel (chat-search.js).
    void loadSearch({ selfId, call: callApi, decrypt: (m) => e.decryptQuiet(m), normalise: normaliseMessage, openPanel: openSidePanel, channelId: () => currentChannel, show: (ch, id, url) => (ch === currentChannel && current ? current.showMessage(id) : location.assign(`${url}#m-${id}`)) }).catch(() => {});
    // Mention and `:emoji:` autocomplete (a lazy chunk): "@" opens the readers' names.
    if (canSend && form && input) void import("./mention-complete.ts").then((m) => m.attachMentionComplete(form, input, names, selfId, mentionAll, () => Promise.all([import("./custom-emoji.ts"), import("./extras-ui.ts")])), () => {});
    // Emoji picker, polls, scheduling and bookmarks: a lazy chunk, off the messages' critical path.
    // The key-backup banner comes with it.
    controller.extras = import("./extras-ui.ts").then((m) => {
      void m.mountBanner(pane.querySelector<HTMLElement>(".pane-body__inner") ?? pane, e, () => void controller.retryAll());
      const encryptForReaders = (text: string, maxChars?: number) =>
        withCurrentReaders(e, { channelId, scheme, selfId, viewers: channelViewers }, text, async (ciphertext, _version, remember) => ({ ciphertext, remember }), maxChars);
      const forwardTo = async (target: string, s: Scheme, text: string, from: string) => {
        await encryptAndSend(e, { channelId: target, scheme: s, selfId, viewers: new Viewers(target), names: new Map() }, { clientId: crypto.randomUUID(), text, forwarded: from });
      };
      return m.mountExtras({ engine: e, channelId, scheme, selfId, encryptForReaders, forwardTo, names, call: callApi, normalise: normaliseMessage, limits: textLimits, pane, scroller, form, input, canSend, moderate: root.dataset.chatModerate !== undefined, notify: flash });
    });
    controller.extras.catch((error) => setStatus(`Some chat features could not load: ${(error as Error).message}`));
    // Verification (trust-ui.ts): badges, Verify panels, the key-change stop, the server's identity.
    controller.trust = import("./trust-ui.ts").then((m) =>
      m.mountTrust({ engine: e, call: callApi, loadQr, selfId, scheme, viewers: channelViewers, names, pane, input: canSend ? input : null, notify: flash }),
    );
    controller.trust.catch((error) => setStatus(`Verification could not load: ${(error as Error).message}`));
    root.dataset.chatReady = "1";
  } catch (error) {
    setStatus(`Encrypted chat could not start: ${(error as Error).message}`);
    root.dataset.chatError = (error as Error).message;
  }
}
