// live.js: the one WebSocket of a signed-in tab (issue 13 §2). app.js imports it on every page
// whose <body> carries data-live-src (views/layout.tsx: signed-in pages); chat.js imports the same
// URL, so both get this module instance and share its socket (`hub`) instead of opening a second.
//
// What it does by itself, on any page: keeps the sidebar, rail, channel header and home lists
// current when the server publishes a change (it re-fetches the page and swaps the
// [data-live-region] elements, regions.ts), badges new conversations, moves the user out of a
// community they were removed from or a channel they can no longer see (with a notice shown on
// the next page), drives the status picker of the account menu, and keeps the unread and mention
// counts (unread.ts) on every link and in the tab title.
import { HubClient, type HubClientState } from "../ws.ts";
import type { ErrorFrame, EventFrame, HelloFrame } from "../../shared/protocol.ts";
import { applyNewDmBadges, forgetNewDm, rememberNewDm } from "./badges.ts";
import { leave, showPendingNotice } from "./notice.ts";
import { afterRefresh, currentPlace, refreshRegions } from "./regions.ts";
import { installPresencePicker, onOwnPresence } from "./presence-picker.ts";
import { onActivity, onRead, onReadAll, reloadUnread, startUnread } from "./unread.ts";
import { installFaces, onProfileChanged } from "./faces.ts";

export type LiveListener = {
  onEvent?(frame: EventFrame): void;
  /** Error frames (a refused call frame answers with one: src/client/voice/). */
  onError?(frame: ErrorFrame): void;
  onState?(state: HubClientState, detail?: { code?: number; hello?: HelloFrame; delayMs?: number }): void;
  onReconnected?(): void;
};

const listeners = new Set<LiveListener>();
let state: HubClientState = "connecting";
let hello: HelloFrame | undefined;

/** The signed-in user's id, once the server said hello. */
export function selfId(): string {
  return hello?.userId ?? "";
}

export const hub = new HubClient({
  onEvent(frame) {
    react(frame);
    for (const l of listeners) l.onEvent?.(frame);
  },
  onError(frame) {
    for (const l of listeners) l.onError?.(frame);
  },
  onState(next, detail) {
    state = next;
    if (next === "open" && detail?.hello) {
      hello = detail.hello;
      installPresencePicker(hub, hello.userId);
    }
    for (const l of listeners) l.onState?.(next, detail);
  },
  onReconnected() {
    // Changes published while the socket was down were missed (delivery is at most once).
    refreshRegions();
    if (document.querySelector("#announcement-banner")) void import("./announcements.ts").then((m) => m.onAnnouncementFrame({ type: "announcement:changed" }));
    reloadUnread();
    for (const l of listeners) l.onReconnected?.();
  },
  async beforeReconnect() {
    const res = await fetch("/api/auth/refresh", { method: "POST", credentials: "same-origin" }).catch(() => null);
    // The session has ended (signed out elsewhere, or the signing keys were replaced): reconnecting
    // cannot work, so go and sign in again, then come back here.
    if (res?.status === 401) location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
  },
});

/** Hears every event and state change; told the current state at once if already connected. */
export function listen(listener: LiveListener): () => void {
  listeners.add(listener);
  if (state === "open" && hello) listener.onState?.("open", { hello });
  return () => listeners.delete(listener);
}

function str(value: unknown): string {
  return typeof value === "string" ? value : "";
}

/** The community's name as the rail shows it (the server no longer tells a removed member). */
function communityName(id: string): string {
  const item = document.querySelector<HTMLElement>(`a.rail-item[href="/c/${CSS.escape(id)}"]`);
  return item?.title || "the community";
}

const REMOVED: Record<string, (name: string) => string> = {
  "member:kicked": (n) => `You were removed from ${n}.`,
  "member:banned": (n) => `You were banned from ${n}.`,
  "member:left": (n) => `You left ${n}.`,
};

function react(frame: EventFrame): void {
  const f = frame as Record<string, unknown>;
  const type = frame.type;
  const here = currentPlace();
  if (type === "channel:activity") return onActivity(str(f.channelId), Number(f.seq));
  if (type === "read:updated") return onRead(str(f.channelId), Number(f.seq));
  if (type === "read:all") return onReadAll(typeof f.communityId === "string" ? f.communityId : null);
  // Someone's avatar or profile changed (docs/profiles.md "Live"): their avatars repaint.
  if (type === "user:profile") return onProfileChanged(str(f.user_id));
  // A nickname is a name in the sidebar, member list and header: as a reload would show it.
  if (type === "member:nickname") return refreshRegions();
  // Desktop notifications and settings changes (a lazy chunk: desktop-notify.ts).
  if (type.startsWith("notify:")) return void import("./desktop-notify.ts").then((m) => m.onNotifyFrame(frame));
  // Instance announcements (a lazy chunk: announcements.ts re-fetches the banner region).
  if (type.startsWith("announcement:")) return void import("./announcements.ts").then((m) => m.onAnnouncementFrame(frame));
  if (type === "presence:changed") {
    if (f.self === true && str(f.userId) === selfId()) onOwnPresence(str(f.status));
    return;
  }
  if (type === "dm:created") {
    rememberNewDm(str(f.channel_id));
    applyNewDmBadges();
    refreshRegions();
    return;
  }
  if (type in REMOVED) {
    if (str(f.user_id) !== selfId()) return refreshRegions(); // someone else: member counts on the hub
    const communityId = str(f.community_id);
    if (here.communityId === communityId) return leave(REMOVED[type]!(communityName(communityId)), "/");
    return refreshRegions();
  }
  if (type === "community:deleted") {
    const communityId = str(f.community_id);
    if (here.communityId === communityId) return leave(`${communityName(communityId)} was deleted.`, "/");
    return refreshRegions();
  }
  if (type === "subscription:revoked") {
    // TIMED_OUT keeps the channel visible (chat.js says until when); the others may hide it.
    if (f.reason !== "TIMED_OUT") refreshRegions();
    return;
  }
  if (type === "member:joined" || type === "member:role_changed") {
    if (str(f.user_id) === selfId()) refreshRegions();
    return;
  }
  if (/^(channel|group|community|role):/.test(type)) refreshRegions();
}

// Start: signed-in pages only (the body names this module); a page without it never imports us.
showPendingNotice();
installFaces();
startUnread();
forgetNewDm(currentPlace().dmId);
applyNewDmBadges();
afterRefresh(applyNewDmBadges);
document.addEventListener("htmx:after:swap", () => {
  forgetNewDm(currentPlace().dmId);
  applyNewDmBadges();
});
document.addEventListener("click", (event) => {
  const trigger = (event.target as Element).closest?.<HTMLElement>("[data-profile-self]");
  const userId = trigger?.dataset.profileSelf;
  if (!trigger || !userId) return;
  trigger.closest("details")?.removeAttribute("open");
  void import("../chat/profile-card.ts").then((m) => m.openProfileCard(userId, trigger));
});
// The quick switcher (switcher.ts, a lazy chunk): Ctrl/Cmd+K anywhere, or the account menu's
// "Jump to…" (rendered hidden: shown once this module runs, so it is never a dead button).
const showSwitcherButtons = () => document.querySelectorAll<HTMLElement>("[data-switcher-open]").forEach((b) => (b.hidden = false));
showSwitcherButtons();
document.addEventListener("htmx:after:swap", showSwitcherButtons);
const openSwitcher = (opener: HTMLElement | null) => void import("./switcher.ts").then((m) => m.openSwitcher(opener));
document.addEventListener("keydown", (event) => {
  if (event.key.toLowerCase() !== "k" || !(event.ctrlKey || event.metaKey) || event.altKey || event.shiftKey) return;
  event.preventDefault();
  openSwitcher(document.activeElement instanceof HTMLElement ? document.activeElement : null);
});
document.addEventListener("click", (event) => {
  const trigger = (event.target as Element).closest?.<HTMLElement>("[data-switcher-open]");
  if (!trigger) return;
  const menu = trigger.closest("details");
  menu?.removeAttribute("open");
  openSwitcher(menu?.querySelector("summary") ?? trigger);
});
hub.connect();
// Back online, or back to the tab: reconnect now rather than at the end of a backoff of up to 30 s.
addEventListener("online", () => hub.retryNow());
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") hub.retryNow();
});
addEventListener("pagehide", (event) => {
  if (!(event as PageTransitionEvent).persisted) hub.close();
});
