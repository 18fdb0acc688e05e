// Unread and mention counts on every signed-in page (issue 13 §3, docs/messages.md "Unread and
// mentions"): on the sidebar's channels, the DM list and the rail's Messages entry, the rail's
// communities, the home hub, and the tab title.
//
// The counts are state here, not markup: fetched once on load (GET /api/channels/unread, one
// statement on the server), kept live from the user topic (channel:activity → that channel's
// counts again; read:updated and read:all clear), and painted onto whatever links the page holds
// now. Painting runs after every DOM change (a MutationObserver), so a sidebar or rail swapped by
// htmx, re-fetched by regions.ts or rebuilt by chat.js gets its badges back: the class of bug
// where a refreshed region dropped them cannot come back link by link.

import { countBadge, formatCount } from "./badges.ts";

type Entry = { unread: number; mentions: number; community: string | null; last: number };
type Wire = { channel_id: string; community_id: string | null; unread: number; mentions: number; last_seq: number; read_seq: number };

const state = new Map<string, Entry>();
const pendingChannels = new Map<string, ReturnType<typeof setTimeout>>();
let loadTimer: ReturnType<typeof setTimeout> | undefined;
let painting = false;

const TITLE_PREFIX = /^\((?:@\d+\+? · )?\d+\+?\) /;
const ID = "[0-9a-f-]{36}";
const CHANNEL_HREF = new RegExp(`^/c/(${ID})/ch/(${ID})$`);
const COMMUNITY_HREF = new RegExp(`^/c/(${ID})$`);
const DM_HREF = new RegExp(`^/dms/(${ID})$`);

function entryOf(w: Wire): Entry {
  return { unread: w.unread, mentions: w.mentions, community: w.community_id, last: w.last_seq };
}

async function getJson<T>(path: string): Promise<T | null> {
  const res = await fetch(path, { credentials: "same-origin", headers: { accept: "application/json" } }).catch(() => null);
  return res?.ok ? ((await res.json().catch(() => null)) as T | null) : null;
}

/** The whole listing again (load, reconnect, after a mark-all-read); calls close together make one fetch. */
export function reloadUnread(delayMs = 0): void {
  clearTimeout(loadTimer);
  loadTimer = setTimeout(async () => {
    const body = await getJson<{ channels: Wire[] }>("/api/channels/unread");
    if (!body) return;
    state.clear();
    for (const c of body.channels) state.set(c.channel_id, entryOf(c));
    paint();
  }, delayMs);
}

/** One channel's counts again, a moment after its activity (a burst of frames makes one fetch). */
function reloadChannel(channelId: string): void {
  if (pendingChannels.has(channelId)) return;
  pendingChannels.set(
    channelId,
    setTimeout(async () => {
      pendingChannels.delete(channelId);
      const body = await getJson<{ channel: Wire }>(`/api/channels/${encodeURIComponent(channelId)}/unread`);
      if (body) state.set(channelId, entryOf(body.channel));
      paint();
    }, 150 + Math.random() * 250),
  );
}

/** channel:activity (user topic): something new at `seq` that we may not have counted. */
export function onActivity(channelId: string, seq: number): void {
  const known = state.get(channelId);
  if (known && seq <= known.last) return;
  reloadChannel(channelId);
}

/** read:updated: this user read `channelId` up to `seq` on some device (this one included). */
export function onRead(channelId: string, seq: number): void {
  const known = state.get(channelId);
  if (!known) return;
  if (seq >= known.last) {
    state.set(channelId, { ...known, unread: 0, mentions: 0 });
    paint();
  } else reloadChannel(channelId);
}

/** read:all: everything (communityId null) or one community was marked read on some device. */
export function onReadAll(communityId: string | null): void {
  for (const [id, e] of state) if (communityId === null || e.community === communityId) state.set(id, { ...e, unread: 0, mentions: 0 });
  paint();
  // Anything that arrived after the server's cursors moved is counted again.
  reloadUnread(500);
}

const format = formatCount;
const badge = (cls: string, text: string, hidden: string) => countBadge(`badge ${cls}`, text, hidden);

/** Same markup as views/chat-parts.tsx UnreadBadges (the home hub renders it on the server). */
function setBadges(link: HTMLElement, unread: number, mentions: number): void {
  const key = `${unread}:${mentions}`;
  const existing = link.querySelector<HTMLElement>(":scope > [data-unread-badge]");
  if (link.classList.contains("channel") && link.classList.contains("channel--unread") !== unread > 0) link.classList.toggle("channel--unread", unread > 0);
  if (link.classList.contains("rail-item") && link.hasAttribute("data-unread") !== unread > 0) link.toggleAttribute("data-unread", unread > 0);
  if ((existing?.dataset.unreadBadge ?? "0:0") === key) return;
  existing?.remove();
  if (!unread && !mentions) return;
  const wrap = document.createElement("span");
  wrap.className = "unread-badges";
  wrap.dataset.unreadBadge = key;
  if (mentions) wrap.append(badge("badge--mention", `@${format(mentions)}`, mentions === 1 ? " mention" : " mentions"));
  if (unread) wrap.append(badge("badge--unread", format(unread), " unread"));
  link.append(wrap);
}

function paint(): void {
  if (painting) return;
  painting = true;
  try {
    const byCommunity = new Map<string, { unread: number; mentions: number }>();
    const dms = { unread: 0, mentions: 0 };
    const all = { unread: 0, mentions: 0 };
    for (const e of state.values()) {
      const sum = e.community ? (byCommunity.get(e.community) ?? byCommunity.set(e.community, { unread: 0, mentions: 0 }).get(e.community)!) : dms;
      sum.unread += e.unread;
      sum.mentions += e.mentions;
      all.unread += e.unread;
      all.mentions += e.mentions;
    }
    for (const link of document.querySelectorAll<HTMLAnchorElement>("a.channel, a.rail-item, a.home-hub__item, a[data-live-dms]")) {
      const href = link.getAttribute("href") ?? "";
      let m: RegExpExecArray | null;
      let counts: { unread: number; mentions: number } | undefined;
      if (link.hasAttribute("data-live-dms")) counts = dms;
      else if ((m = CHANNEL_HREF.exec(href))) counts = state.get(m[2]!);
      else if ((m = DM_HREF.exec(href))) counts = state.get(m[1]!);
      else if ((m = COMMUNITY_HREF.exec(href))) counts = byCommunity.get(m[1]!);
      else continue;
      setBadges(link, counts?.unread ?? 0, counts?.mentions ?? 0);
    }
    // On a phone the sidebars hide behind this button: it carries the totals (named by its own text, so they join its name).
    for (const toggle of document.querySelectorAll<HTMLElement>(".pane-header__nav-toggle")) setBadges(toggle, all.unread, all.mentions);
    const base = document.title.replace(TITLE_PREFIX, "");
    const title = all.unread || all.mentions ? `(${all.mentions ? `@${format(all.mentions)} · ` : ""}${format(all.unread)}) ${base}` : base;
    if (document.title !== title) document.title = title;
  } finally {
    painting = false;
  }
}

let frame = 0;
/** Paints after the DOM changed (coalesced to one paint per frame; a paint that changes nothing stops there). */
function schedulePaint(): void {
  if (frame) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    paint();
  });
}

export function startUnread(): void {
  new MutationObserver(schedulePaint).observe(document.body, { childList: true, subtree: true });
  reloadUnread();
}
