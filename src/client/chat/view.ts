// DOM for the message list: groups of consecutive messages by one author, day separators, the
// unread divider, and each message's state (decrypting, waiting for keys, failed, pending).
// Text reaches the page only through textContent and the markdown renderer (no innerHTML).

import { parseMarkdown } from "../messages/markdown.ts";
import { renderBlocks, type RenderOptions } from "../messages/render-dom.ts";
import { el } from "./dom.ts";
import { describeCall, type CallRecord } from "./call-record.ts";

const GROUP_WINDOW_MS = 5 * 60 * 1000;

export interface Row {
  key: string; // message id, or "pending:<client id>"
  seq: number; // Infinity while pending
  authorId: string;
  /** From the server's data for the message (never a member list): see authorName in types.ts. */
  authorName: string;
  createdAt: Date;
  el: HTMLElement; // the .msg element, reused across re-renders
}

function colourIndex(userId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < userId.length; i++) {
    hash ^= userId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % 8;
}

function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  const a = words[0]?.[0] ?? "?";
  const b = words.length > 1 ? words[words.length - 1]![0] : "";
  return (a + (b ?? "")).toUpperCase();
}

export function createMessageElement(key: string, messageId: string | null): HTMLElement {
  const msg = el("div", "msg");
  msg.id = `m-${key.replace(/[^A-Za-z0-9_-]/g, "-")}`;
  if (messageId) msg.dataset.messageId = messageId;
  msg.append(el("div", "msg__text"));
  return msg;
}

/** Fills .msg__text with the rendered markdown of the decrypted text. */
export function showText(msg: HTMLElement, text: string, opts: RenderOptions = {}): void {
  const box = msg.querySelector<HTMLElement>(".msg__text")!;
  box.replaceChildren(renderBlocks(document, parseMarkdown(text), opts));
  customEmoji(box, text);
  msg.classList.remove("msg--call");
  msg.dataset.state = "ok";
  msg.removeAttribute("aria-busy");
}

/** A webhook's plaintext (docs/integrations.md): as text, escaped by construction, no markdown. */
export function showWebhook(msg: HTMLElement, text: string): void {
  const box = msg.querySelector<HTMLElement>(".msg__text")!;
  box.textContent = text;
  box.classList.add("msg__text--webhook");
  msg.dataset.state = "ok";
  msg.removeAttribute("aria-busy");
}

/** A call record (call-record.ts): a compact row in the reader's words, never the sender's text. */
export function showCallRecord(msg: HTMLElement, record: CallRecord): void {
  msg.querySelector<HTMLElement>(".msg__text")!.textContent = describeCall(record);
  msg.classList.add("msg--call");
  msg.dataset.callRecord = record.event;
  msg.dataset.state = "ok";
  msg.removeAttribute("aria-busy");
}

/** Fired (bubbling) by a waiting message's Retry: index.ts asks for its key again at once. */
export const RETRY_KEYS_EVENT = "chat:retry-keys";
/** Where "can't be decrypted" points for an explanation (src/features/home help page). */
export const DECRYPT_HELP = "/help/encryption#cannot-decrypt";

/**
 * The one state a message that is not shown as text is in (engine.ts DecryptOutcome), readable,
 * never a silent blank: waiting for its key (with Retry), sent before the reader joined, can't be
 * decrypted (with a link to what that means), or deleted.
 */
export function showNotice(msg: HTMLElement, state: "waiting" | "unavailable" | "failed" | "deleted", text: string): void {
  const box = msg.querySelector<HTMLElement>(".msg__text")!;
  const note = el("p", `msg__notice msg__notice--${state}`, text);
  if (state === "waiting") {
    const retry = el("button", "btn btn--ghost btn--sm msg__retry-keys", "Retry");
    retry.type = "button";
    retry.addEventListener("click", () => retry.dispatchEvent(new CustomEvent(RETRY_KEYS_EVENT, { bubbles: true })));
    note.append(" ", retry);
  } else if (state === "failed") {
    const help = el("a", "msg__help", "What does this mean?");
    help.setAttribute("href", DECRYPT_HELP);
    note.append(" ", help);
  }
  box.replaceChildren(note);
  msg.dataset.state = state;
}

export function setSendState(msg: HTMLElement, state: "pending" | "sent" | "failed", onRetry?: () => void, error?: string): void {
  msg.classList.toggle("msg--pending", state === "pending");
  msg.classList.toggle("msg--failed", state === "failed");
  msg.querySelector(".msg__status")?.remove();
  if (state === "pending") {
    msg.append(el("span", "msg__status", "Sending…"));
  } else if (state === "failed") {
    const status = el("span", "msg__status msg__status--failed");
    status.append(el("span", undefined, error ? `Not sent: ${error} ` : "Not sent. "));
    const retry = el("button", "btn btn--sm btn--secondary", "Retry");
    retry.type = "button";
    retry.addEventListener("click", () => onRetry?.());
    status.append(retry);
    msg.append(status);
  }
}

function dayLabel(d: Date): string {
  const today = new Date();
  const yesterday = new Date(Date.now() - 86_400_000);
  if (d.toDateString() === today.toDateString()) return "Today";
  if (d.toDateString() === yesterday.toDateString()) return "Yesterday";
  return d.toLocaleDateString(undefined, { weekday: "long", year: "numeric", month: "long", day: "numeric" });
}

function timeLabel(d: Date): string {
  return d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

/**
 * Rebuilds the list's structure (separators and groups) around the existing .msg elements, in
 * seq order. Items of the list that are not ours (the channel intro) stay first.
 */
export function renderRows(list: HTMLElement, rows: readonly Row[], unreadAfterSeq: number | null, selfId: string): void {
  for (const child of [...list.children]) if (child.hasAttribute("data-chat-item")) child.remove();
  let lastDay = "";
  let group: HTMLElement | null = null;
  let groupAuthor = "";
  let groupTime = 0;
  let unreadPlaced = false;
  const frag = document.createDocumentFragment();
  for (const row of rows) {
    const day = row.createdAt.toDateString();
    if (day !== lastDay) {
      // Plain list items (a role="separator" <li> is not allowed in a list: axe "list").
      const sep = el("li", "day-sep");
      sep.dataset.chatItem = "";
      const t = el("time", undefined, dayLabel(row.createdAt));
      t.dateTime = row.createdAt.toISOString().slice(0, 10);
      sep.append(t);
      frag.append(sep);
      lastDay = day;
      group = null;
    }
    if (!unreadPlaced && unreadAfterSeq !== null && row.seq > unreadAfterSeq && row.seq !== Infinity && row.authorId !== selfId) {
      const sep = el("li", "unread-sep");
      sep.dataset.chatItem = "";
      const badge = el("span", undefined, "New");
      badge.append(el("span", "visually-hidden", " messages"));
      sep.append(badge);
      frag.append(sep);
      unreadPlaced = true;
      group = null;
    }
    const time = row.createdAt.getTime();
    if (!group || groupAuthor !== row.authorId || time - groupTime > GROUP_WINDOW_MS) {
      const li = el("li", "msg-group");
      li.dataset.chatItem = "";
      const name = row.authorName;
      const avatar = el("span", `avatar avatar--md avatar--c${colourIndex(row.authorId)}`);
      avatar.setAttribute("aria-hidden", "true");
      // live.js (live/faces.ts) puts the uploaded avatar in and repaints it on user:profile.
      if (!row.authorId.startsWith("webhook:")) avatar.dataset.avatarUser = row.authorId;
      avatar.append(el("span", "avatar__initials", initials(name)));
      const content = el("div", "msg-group__content");
      const meta = el("p", "msg-group__meta");
      // A button: it opens the author's profile card (profile-card.ts, via chat index.ts). A
      // webhook has no profile: its name, and the badge of its plaintext messages (seeds/000).
      if (row.authorId.startsWith("webhook:")) meta.append(el("span", "msg-group__author", name), el("span", "badge badge--warning", "Webhook · not E2EE"));
      else {
        const author = el("button", "msg-group__author", name);
        author.type = "button";
        author.dataset.profileUser = row.authorId;
        meta.append(author);
      }
      const t = el("time", "msg-group__time", timeLabel(row.createdAt));
      t.dateTime = row.createdAt.toISOString();
      meta.append(t);
      content.append(meta);
      li.append(avatar, content);
      frag.append(li);
      group = content;
      groupAuthor = row.authorId;
    }
    groupTime = time;
    group.append(row.el);
  }
  list.append(frag);
}

export function renderReactions(msg: HTMLElement, reactions: { emoji: string; count: number; me?: boolean }[], onToggle: (emoji: string, me: boolean) => void): void {
  msg.querySelector(".msg__reactions")?.remove();
  if (reactions.length === 0) return;
  const box = el("div", "msg__reactions");
  for (const r of reactions) {
    const b = el("button", r.me ? "reaction reaction--me" : "reaction", `${r.emoji} ${r.count}`);
    b.type = "button";
    b.setAttribute("aria-pressed", r.me ? "true" : "false");
    b.setAttribute("aria-label", `${r.emoji} ${r.count} reaction${r.count === 1 ? "" : "s"}${r.me ? ", including yours" : ""}`);
    b.addEventListener("click", () => onToggle(r.emoji, !!r.me));
    box.append(b);
  }
  msg.append(box);
  customEmoji(box, reactions.map((r) => r.emoji).join(" "));
}

/** `:shortcode:` custom emoji (docs/profiles.md): a lazy chunk, loaded only when the text has one. */
function customEmoji(box: HTMLElement, text: string): void {
  if (/:\w{2,32}:/.test(text)) void import("./custom-emoji.ts").then((m) => m.decorateCustomEmoji(box));
}

export function replyCountLabel(n: number): string {
  return n === 1 ? "1 reply" : `${n} replies`;
}
