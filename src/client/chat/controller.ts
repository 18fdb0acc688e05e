// One shown conversation: history, live events, catch-up after reconnects, the composer with
// optimistic sends and decryption states. The message menu (message-menu.ts), the thread panel
// (thread-panel.ts) and the pin list (pins-panel.ts) are their own modules; this file routes
// messages and events to them.

import { ApiError, callApi } from "./api.ts";
import type { ChatEngine, DecryptOutcome } from "./engine.ts";
import { SendQueue } from "./send-queue.ts";
import { ChannelTimeline } from "./timeline.ts";
import { authorKey, authorName, normaliseMessage, type ChatMessage, type Reaction, type Scheme } from "./types.ts";
import { createMessageElement, renderReactions, renderRows, replyCountLabel, setSendState, showCallRecord, showNotice, showText, showWebhook, type Row } from "./view.ts";
import { renderMessageMenu } from "./message-menu.ts";
import { openInlineEditor } from "./inline-editor.ts";
import { encryptAndSend, withCurrentReaders, type Attached, type SendTarget } from "./sender.ts";
import { loadFilesUi } from "./files-hook.ts";
import { ThreadPanel, type PanelCopy } from "./thread-panel.ts";
import { PinsPanel } from "./pins-panel.ts";
import { ComposerBinding, composerNotice } from "./composer.ts";
import { adoptServerRendered } from "./server-rendered.ts";
import { SeenBy } from "./seen-by.ts";
import { ScrollGeometry, TypingLine } from "./pane-bits.ts";
import { AutoResend } from "./resend.ts";
import { collapseBlocked, loadBlockedUsers } from "./blocked.ts";
import type { ExtrasApi } from "./extras-types.ts";
import type { TrustApi } from "./trust-ui.ts";

const PAGE = 50;

/** What the controller sends to: the same shape as the send path's target (sender.ts). */
export type ChannelConfig = SendTarget;

type Entry = { row: Row; message: ChatMessage | null; clientId?: string; text?: string; files?: unknown[] };

/** A message's files under its text (the files UI bundle draws them); none: whatever was there goes. */
function showFiles(msg: HTMLElement, files: unknown[] | undefined): void {
  if (files?.length) void loadFilesUi().then((m) => m.renderAttachments(msg, files), () => {});
  else msg.querySelector(".msg__files")?.remove();
}

export class ChannelController {
  readonly timeline = new ChannelTimeline();
  private readonly queue = new SendQueue();
  private readonly entries = new Map<string, Entry>();
  private readonly waiting = new Set<string>();
  private hasMoreOlder = true;
  private loadingOlder = false;
  private unreadAfter: number | null = null;
  private catchingUp: Promise<void> | null = null;
  private renderScheduled = false;
  private readonly typing: TypingLine;
  private readonly scroll: ScrollGeometry;
  private retryTimer: ReturnType<typeof setInterval> | undefined;
  private readSeqSent = 0;
  /** DMs: "Seen by" (seen-by.ts). */
  private readonly seen: SeenBy | null;
  private thread: ThreadPanel | null = null;
  private readonly composer: ComposerBinding;
  /** Community channels: the pin list and the pinned state behind the menus' Pin/Unpin. */
  private readonly pins: PinsPanel | null;
  private readonly resend = new AutoResend((clientId) => void this.retry(clientId, true));
  private blocked = new Set<string>();
  /** The lazily loaded extras chunk (emoji picker, polls, schedule, bookmarks), set by index.ts. */
  extras: Promise<ExtrasApi> | null = null;
  /** The lazily loaded verification chunk (trust-ui.ts), set by index.ts. */
  trust: Promise<TrustApi> | null = null;

  constructor(
    private readonly engine: ChatEngine,
    private readonly config: ChannelConfig,
    private readonly list: HTMLElement,
    private readonly scroller: HTMLElement,
    private readonly ui: { typing: HTMLElement; jump: HTMLButtonElement; jumpUnread: HTMLButtonElement; form: HTMLFormElement | null; input: HTMLTextAreaElement | null; canSend: boolean; reply: HTMLElement; seen?: HTMLElement },
    private readonly sendTyping: (channelId: string, stop?: boolean) => void,
  ) {
    this.pins = config.scheme === "sk"
      ? new PinsPanel({
          channelId: config.channelId,
          nameOf: (id) => this.nameOf(id),
          isKnownUser: (n) => this.isKnownUser(n),
          decrypt: (m) => this.decryptText(m),
          jumpTo: (id) => this.jumpTo(id),
          pinsChanged: (id) => this.redecorate(id),
        })
      : null;
    this.typing = new TypingLine(ui.typing, (id) => config.names.get(id) ?? "Someone");
    this.scroll = new ScrollGeometry(scroller);
    this.seen = config.scheme === "pw" && ui.seen ? new SeenBy(config.channelId, config.selfId, ui.seen, (id) => config.names.get(id) ?? "Someone") : null;
    this.composer = new ComposerBinding(ui, config.channelId, sendTyping, (text, replyTo, files) => void this.send(text, replyTo, files));
  }

  /** Another conversation replaced this one (boosted navigation): stop timers, close panels. */
  dispose(): void {
    this.thread?.close();
    this.pins?.dispose();
    clearInterval(this.retryTimer);
    this.retryTimer = undefined;
    this.resend.dispose();
    this.composer.dispose();
    void this.extras?.then((x) => x.dispose());
    void this.trust?.then((t) => t.dispose());
    this.typing.clear();
  }

  // ---- loading ---------------------------------------------------------------------------

  async start(): Promise<void> {
    this.list.setAttribute("aria-busy", "true");
    // Where the "New" divider goes: this channel's cursor (GET /api/channels/:id/unread, not the whole listing).
    const mine = await callApi<{ channel: { read_seq: number } }>("GET", `/api/channels/${this.config.channelId}/unread`).catch(() => null);
    this.unreadAfter = mine ? mine.channel.read_seq : null;
    this.blocked = await loadBlockedUsers(true);
    let messages = adoptServerRendered(this.list, this.config.channelId);
    if (messages.length === 0) {
      const page = await callApi<{ messages: unknown[]; has_more: boolean }>("GET", `/api/channels/${this.config.channelId}/messages?limit=${PAGE}`);
      messages = page.messages.map(normaliseMessage).filter((m): m is ChatMessage => m !== null);
      this.hasMoreOlder = page.has_more;
    } else this.hasMoreOlder = messages.length >= PAGE;
    messages.sort((a, b) => a.seq - b.seq);
    for (const m of messages) this.timeline.acceptOlder(m);
    await Promise.all(messages.map((m) => this.addMessage(m)));
    this.refreshReplies();
    this.list.removeAttribute("aria-busy");
    this.renderNow();
    this.scrollToBottom();
    this.wireScroll();
    this.composer.wire();
    this.markRead();
    await Promise.all([this.pins?.mount(this.scroller.parentElement?.querySelector<HTMLElement>(".pane-header") ?? null), this.seen?.load().then(() => this.seen?.render(this.timeline.lastSeq))]);
  }

  /** After a (re)connect: everything after our last seq, until has_more is false. */
  catchUp(): Promise<void> {
    this.catchingUp ??= (async () => {
      try {
        for (;;) {
          const page = await callApi<{ messages: unknown[]; has_more: boolean }>("GET", `/api/channels/${this.config.channelId}/messages?after_seq=${this.timeline.lastSeq}&limit=100`);
          const messages = page.messages.map(normaliseMessage).filter((m): m is ChatMessage => m !== null).sort((a, b) => a.seq - b.seq);
          for (const m of messages) await this.receive(m, false);
          if (!page.has_more || messages.length === 0) break;
        }
      } finally {
        this.catchingUp = null;
      }
    })();
    return this.catchingUp;
  }

  private async loadOlder(): Promise<void> {
    const oldest = this.timeline.oldestSeq;
    if (this.loadingOlder || !this.hasMoreOlder || oldest === null || oldest <= 1) return;
    this.loadingOlder = true;
    try {
      const page = await callApi<{ messages: unknown[]; has_more: boolean }>("GET", `/api/channels/${this.config.channelId}/messages?before_seq=${oldest}&limit=${PAGE}`);
      this.hasMoreOlder = page.has_more;
      const fresh = page.messages.map(normaliseMessage).filter((m): m is ChatMessage => m !== null && this.timeline.acceptOlder(m));
      const fromBottom = this.scroll.fromBottom();
      await Promise.all(fresh.map((m) => this.addMessage(m)));
      this.refreshReplies();
      this.renderNow();
      // Keep the reader's place (a column-reverse pane keeps it by itself).
      if (!this.scroll.reversed()) this.scroller.scrollTop = this.scroller.scrollHeight - this.scroller.clientHeight - fromBottom;
    } finally {
      this.loadingOlder = false;
    }
  }

  // ---- receiving -------------------------------------------------------------------------

  /** message:new (live) or a catch-up item. */
  async receive(message: ChatMessage, live: boolean): Promise<void> {
    if (message.channel_id !== this.config.channelId) return;
    const result = this.timeline.accept(message);
    if (result.kind === "duplicate") return;
    const own = message.client_id ? this.queue.get(message.client_id) : undefined;
    if (own) {
      this.confirmOwn(own.clientId, message);
    } else {
      await this.addMessage(message);
      if (message.thread_root_id) this.countReply(message.thread_root_id, 1);
      this.scheduleRender();
      if (message.thread_root_id && this.thread?.rootId === message.thread_root_id) await this.thread.onMessage(message);
    }
    if (live && result.gapAfter !== null) void this.catchUp();
    if (live) this.markRead();
    this.seen?.render(this.timeline.lastSeq);
  }

  /** pin:changed in this channel: the pin list and the menus' Pin/Unpin follow. */
  onPinChanged(messageId: string, pinned: boolean): void {
    this.pins?.onPinChanged(messageId, pinned);
  }

  /** A read:receipt in this conversation: "Seen by …" under the last message (DMs only). */
  onReadReceipt(userId: string, seq: number): void {
    if (this.seen?.note(userId, seq)) this.seen.render(this.timeline.lastSeq);
  }

  private async addMessage(message: ChatMessage): Promise<void> {
    const msg = createMessageElement(message.id, message.id);
    if (message.ciphertext) msg.dataset.ciphertext = message.ciphertext;
    const row: Row = { key: message.id, seq: message.seq, authorId: authorKey(message), authorName: authorName(message), createdAt: new Date(message.created_at), el: msg };
    this.entries.set(message.id, { row, message });
    this.decorate(message, msg);
    await this.decryptInto(message, msg);
  }

  private decorate(message: ChatMessage, msg: HTMLElement): void {
    msg.querySelector(".msg__edited")?.remove();
    msg.querySelector(".msg__reply")?.remove();
    if (message.reply_to_id) {
      const target = this.entries.get(message.reply_to_id);
      const who = target ? target.row.authorName : "";
      const snippet = target?.text ? target.text.replace(/\s+/g, " ").slice(0, 80) : "an earlier message";
      const line = document.createElement("p");
      line.className = "msg__reply";
      line.textContent = who ? `↪ Replying to ${who}: ${snippet}` : `↪ Replying to ${snippet}`;
      msg.prepend(line);
    }
    if (message.edited_at) msg.append(Object.assign(document.createElement("span"), { className: "msg__edited", textContent: "(edited)" }));
    renderReactions(msg, message.reactions, (emoji, me) => void this.react(message.id, emoji, me));
    this.renderThreadButton(message, msg);
    this.addMenu(message, msg);
  }

  /** "N replies" on a thread root; updated in place, so it stays the thread panel's opener (focus returns to it). */
  private renderThreadButton(message: ChatMessage, msg: HTMLElement): void {
    let open = msg.querySelector<HTMLButtonElement>(":scope > .msg__thread");
    if (message.thread_root_id || message.thread_reply_count <= 0) return open?.remove();
    if (!open) {
      open = document.createElement("button");
      open.type = "button";
      open.className = "btn btn--ghost btn--sm msg__thread";
      const button = open;
      open.addEventListener("click", () => void this.openThread(message.id, button));
      msg.append(open);
    }
    open.textContent = replyCountLabel(message.thread_reply_count);
    open.setAttribute("aria-label", `${replyCountLabel(message.thread_reply_count)}: open thread`);
  }

  /** Menus follow the pin state; null: every message (can_pin became known). */
  private redecorate(messageId: string | null): void {
    const entries = messageId === null ? [...this.entries.values()] : [this.entries.get(messageId)];
    for (const entry of entries) if (entry?.message) this.decorate(entry.message, entry.row.el);
    this.thread?.redecorate(messageId);
  }

  /** The thread panel's copies: the same reactions and menu (no Reply/Thread), the same actions. */
  private decorateCopy(message: ChatMessage, el: HTMLElement, onlyReactions = false): void {
    if (!onlyReactions) {
      el.querySelector(".msg__edited")?.remove();
      if (message.edited_at) el.append(Object.assign(document.createElement("span"), { className: "msg__edited", textContent: "(edited)" }));
    }
    renderReactions(el, message.reactions, (emoji, me) => void this.react(message.id, emoji, me));
    if (!onlyReactions) this.addMenu(message, el, true);
  }

  /** The timeline's copy of a message, or (inPanel) the thread panel's. */
  private copyOf(messageId: string, inPanel: boolean): PanelCopy | null {
    if (inPanel) return this.thread?.copy(messageId) ?? null;
    const entry = this.entries.get(messageId);
    return entry?.message ? { message: entry.message, el: entry.row.el, text: entry.text } : null;
  }

  /** A reader's name for typing lines and panels; authors come with their messages (Row.authorName). */
  private nameOf(userId: string): string {
    return this.config.names.get(userId) ?? "Someone";
  }

  private isKnownUser(name: string): boolean {
    return [...this.config.names.values()].includes(name);
  }

  /** For the panels: the text the timeline already decrypted, else a decryption of their own. */
  private async decryptText(message: ChatMessage): Promise<DecryptOutcome> {
    const entry = this.entries.get(message.id);
    if (message.webhook) return { status: "ok", text: message.webhook.content };
    if (entry?.text !== undefined && entry.message?.ciphertext === message.ciphertext) return { status: "ok", text: entry.text };
    return this.engine.decrypt(message);
  }

  // ---- threads (thread-panel.ts) -----------------------------------------------------------

  /** A root's "N replies" follows live replies and deletions (the server's count at load is the start). */
  private countReply(rootId: string, delta: number): void {
    const root = this.entries.get(rootId);
    if (!root?.message) return;
    root.message.thread_reply_count = Math.max(0, root.message.thread_reply_count + delta);
    this.decorate(root.message, root.row.el);
  }

  /** Opens the thread panel (thread-panel.ts) for a root. */
  async openThread(rootId: string, opener: HTMLElement | null): Promise<void> {
    this.thread?.close();
    const panel = new ThreadPanel(
      {
        selfId: this.config.selfId,
        canSend: this.ui.canSend,
        nameOf: (id) => this.nameOf(id),
        isKnownUser: (n) => this.isKnownUser(n),
        decrypt: (m) => this.decryptText(m),
        send: async (item) => {
          const message = await encryptAndSend(this.engine, this.config, item);
          await this.receive(message, false);
          return message;
        },
        decorate: (m, el, onlyReactions) => this.decorateCopy(m, el, onlyReactions),
      },
      rootId,
      opener,
      () => {
        if (this.thread === panel) this.thread = null;
        // The menu button that opened it may have been redrawn since: focus the root instead.
        if (!opener?.isConnected) this.focusMessage(rootId);
      },
    );
    this.thread = panel;
    await panel.load();
  }

  /** After the thread panel closed: its root's "N replies" button, else the root itself. */
  private focusMessage(messageId: string): void {
    const el = this.entries.get(messageId)?.row.el;
    if (!el?.isConnected) return;
    const target = el.querySelector<HTMLElement>(":scope > .msg__thread") ?? el;
    if (target === el) el.tabIndex = -1;
    target.focus({ preventScroll: true });
  }

  /** Pins "Jump to message": scroll to a loaded message and highlight it. */
  private jumpTo(messageId: string): boolean {
    const entry = this.entries.get(messageId);
    if (!entry?.message) return false;
    if (entry.message.thread_root_id) {
      void this.openThread(entry.message.thread_root_id, null);
      return true;
    }
    const el = entry.row.el;
    el.tabIndex = -1;
    el.scrollIntoView({ block: "center" });
    el.focus({ preventScroll: true });
    el.classList.remove("msg--highlight");
    void el.offsetWidth; // restart the highlight animation
    el.classList.add("msg--highlight");
    el.addEventListener("animationend", () => el.classList.remove("msg--highlight"), { once: true });
    return true;
  }

  private async decryptInto(message: ChatMessage, msg: HTMLElement): Promise<void> {
    if (message.webhook) return showWebhook(msg, message.webhook.content); // plaintext: nothing to decrypt
    if (message.deleted_at || !message.ciphertext) {
      showNotice(msg, "deleted", "This message was deleted.");
      this.waiting.delete(message.id);
      return;
    }
    const outcome = await this.engine.decrypt(message);
    if (outcome.status === "ok") {
      const entry = this.entries.get(message.id);
      if (entry) {
        entry.text = outcome.text;
        entry.files = outcome.files;
      }
      // The reader's own mentions are highlighted: their name, and a permitted @everyone / @here.
      const c = this.config;
      if (outcome.preview) void import("./link-preview.ts").then((m) => m.showPreview(msg, outcome.preview));
      if (outcome.call) showCallRecord(msg, outcome.call);
      else showText(msg, outcome.text, { isKnownUser: (n) => this.isKnownUser(n), selfUsername: c.names.get(c.selfId), mentionAll: message.mention_all });
      msg.classList.toggle("msg--mentioned", !outcome.call && message.sender_id !== c.selfId && (message.mentions.includes(c.selfId) || message.mention_all !== null));
      showFiles(msg, outcome.files);
      this.waiting.delete(message.id);
    } else if (outcome.status === "waiting") {
      showNotice(msg, "waiting", outcome.reason);
      this.waiting.add(message.id);
      this.ensureRetryTimer();
    } else {
      showNotice(msg, outcome.status, outcome.reason);
      this.waiting.delete(message.id);
    }
    // Blocked users' messages are collapsed in channels and group DMs (1:1 DMs refuse them).
    if (this.blocked.has(message.sender_id) && (this.config.scheme === "sk" || (this.config.viewers.known?.devicesByUser.size ?? 0) > 2)) collapseBlocked(msg);
  }

  /** Reply lines quote their target's text, known only once the target is decrypted. */
  private refreshReplies(): void {
    for (const entry of this.entries.values()) if (entry.message?.reply_to_id) this.decorate(entry.message, entry.row.el);
  }

  /** Keys arrived (to-device) or a backup was restored: try every waiting message again. */
  async retryWaiting(): Promise<void> {
    for (const id of [...this.waiting]) {
      const entry = this.entries.get(id);
      if (entry?.message) await this.decryptInto(entry.message, entry.row.el);
      if (entry?.message && !this.waiting.has(id)) void this.thread?.onEdited(entry.message); // an open panel showed "waiting" too
    }
    if (this.waiting.size === 0 && this.retryTimer) {
      clearInterval(this.retryTimer);
      this.retryTimer = undefined;
    }
  }

  /** Retries all rendered messages (after a backup restore: old history may open now). */
  async retryAll(): Promise<void> {
    for (const entry of this.entries.values()) {
      if (entry.message && entry.row.el.dataset.state !== "ok") await this.decryptInto(entry.message, entry.row.el);
    }
  }

  /** While something waits, poll the to-device queue now and then (covers a missed device:message). */
  private ensureRetryTimer(): void {
    this.retryTimer ??= setInterval(() => {
      void this.engine.processToDevice().then(() => this.retryWaiting()).catch(() => {});
    }, 4_000);
  }

  onEdited(raw: unknown): void {
    const message = normaliseMessage(raw);
    const entry = message && this.entries.get(message.id);
    if (message && !entry) void this.thread?.onEdited(message); // a reply the panel loaded
    if (!message || !entry) return;
    const unchanged = entry.message?.ciphertext === message.ciphertext;
    message.thread_reply_count = entry.message?.thread_reply_count ?? message.thread_reply_count;
    entry.message = message;
    if (unchanged) return this.decorate(message, entry.row.el); // our own edit, already shown
    entry.row.el.dataset.ciphertext = message.ciphertext ?? "";
    this.decorate(message, entry.row.el);
    void this.decryptInto(message, entry.row.el).then(() => this.thread?.onEdited(message));
  }

  onDeleted(messageId: string, seq: number): void {
    this.timeline.markSeen(seq);
    const entry = this.entries.get(messageId);
    // A reply the panel loaded may be in no page of the timeline.
    const was = entry?.message ?? this.thread?.copy(messageId)?.message;
    if (!was) return;
    if (entry?.message) {
      entry.message = { ...was, ciphertext: null, deleted_at: new Date().toISOString() };
      delete entry.row.el.dataset.ciphertext;
      showNotice(entry.row.el, "deleted", "This message was deleted.");
      this.decorate(entry.message, entry.row.el);
    }
    if (was.thread_root_id && !was.deleted_at) this.countReply(was.thread_root_id, -1);
    this.thread?.onDeleted(messageId);
  }

  /** reaction:changed, or our own reaction's answer (`own`: its emoji and whether it is now ours). */
  onReactions(messageId: string, reactions: Reaction[], own?: { emoji: string; me: boolean }): void {
    // `me` is ours to compute: keep what each copy knew for emojis still present.
    const next = (old: Reaction[]) => reactions.map((r) => ({ ...r, me: r.emoji === own?.emoji ? own.me : !!old.find((x) => x.emoji === r.emoji)?.me }));
    this.thread?.onReactions(messageId, next);
    const entry = this.entries.get(messageId);
    if (!entry?.message) return;
    entry.message.reactions = next(entry.message.reactions);
    renderReactions(entry.row.el, entry.message.reactions, (emoji, me) => void this.react(messageId, emoji, me));
  }

  onTyping(userId: string, stopped: boolean): void {
    if (userId !== this.config.selfId) this.typing.onTyping(userId, stopped);
  }

  // ---- sending ---------------------------------------------------------------------------

  async send(text: string, replyTo: string | null = null, files?: Attached): Promise<void> {
    // A verified reader's keys changed, or the server's identity did: ask first (trust-ui.ts; a
    // refusal puts the text back in the composer).
    if (this.trust && !(await this.trust.then((t) => t.beforeSend(text)).catch(() => true))) return;
    const item = this.queue.enqueue(this.config.channelId, text, replyTo ?? undefined);
    item.files = files;
    const key = `pending:${item.clientId}`;
    const msg = createMessageElement(key, null);
    showText(msg, text);
    showFiles(msg, files?.files);
    setSendState(msg, "pending");
    this.entries.set(key, { row: { key, seq: Infinity, authorId: this.config.selfId, authorName: this.config.names.get(this.config.selfId) ?? "You", createdAt: new Date(), el: msg }, message: null, clientId: item.clientId, text, files: files?.files });
    this.renderNow();
    this.scrollToBottom();
    await this.attempt(item.clientId);
  }

  private async attempt(clientId: string): Promise<void> {
    const item = this.queue.get(clientId);
    if (!item) return;
    try {
      const message = await encryptAndSend(this.engine, this.config, { clientId, text: item.text, replyToId: item.replyToId, files: item.files });
      const result = this.timeline.accept(message);
      if (result.kind === "new" || !this.entries.has(message.id)) this.confirmOwn(clientId, message);
      if (result.kind === "new" && result.gapAfter !== null) void this.catchUp();
      this.resend.done(clientId);
    } catch (error) {
      const err = error instanceof ApiError ? error : new ApiError(0, "ERROR", String(error));
      this.queue.markFailed(clientId, err.message);
      // Network errors, 5xx and 429 are resent automatically (backoff, and on reconnect); the
      // row shows the failure meanwhile. Refusals wait for the user's Retry.
      const auto = this.resend.schedule(clientId, err);
      // @everyone / @here refused (the permission changed since the page loaded): said at the composer too.
      if (err.code === "MENTION_EVERYONE_DENIED" && this.ui.form) composerNotice(this.ui.form, err.message);
      const entry = this.entries.get(`pending:${clientId}`);
      if (entry) setSendState(entry.row.el, "failed", () => void this.retry(clientId), auto ? `${err.message} Retrying automatically…` : err.message);
    }
  }

  /** The socket is back: failed sends waiting for an automatic resend go now. */
  onReconnected(): void {
    this.resend.flush();
  }

  private async retry(clientId: string, automatic = false): Promise<void> {
    if (!automatic) this.resend.done(clientId);
    const item = this.queue.retry(clientId);
    if (!item) return;
    const entry = this.entries.get(`pending:${clientId}`);
    if (entry) setSendState(entry.row.el, "pending");
    await this.attempt(clientId);
  }

  /** The server copy of our pending send arrived (answer or echo): the row becomes a real message. */
  private confirmOwn(clientId: string, message: ChatMessage): void {
    const key = `pending:${clientId}`;
    const entry = this.entries.get(key);
    this.queue.markSent(clientId, message);
    if (!entry) return;
    this.entries.delete(key);
    const el = entry.row.el;
    el.id = `m-${message.id}`;
    el.dataset.messageId = message.id;
    if (message.ciphertext) el.dataset.ciphertext = message.ciphertext;
    setSendState(el, "sent");
    entry.row.key = message.id;
    entry.row.seq = message.seq;
    entry.row.authorName = authorName(message);
    entry.row.createdAt = new Date(message.created_at);
    this.entries.set(message.id, { row: entry.row, message, text: entry.text, files: entry.files });
    this.decorate(message, el);
    this.scheduleRender();
  }

  // ---- message menu ----------------------------------------------------------------------

  /** inPanel: the thread panel's copy (thread-panel.ts): no Reply or Thread, the same actions. */
  private addMenu(message: ChatMessage, msg: HTMLElement, inPanel = false): void {
    const mine = (emoji: string) => !!this.copyOf(message.id, inPanel)?.message.reactions.find((r) => r.emoji === emoji)?.me;
    renderMessageMenu(msg, message, { selfId: this.config.selfId, scheme: this.config.scheme, pinned: !!this.pins?.isPinned(message.id), canPin: this.pins?.canPin ?? null }, {
      reply: inPanel ? undefined : () => this.setReply(message.id),
      replyInThread: inPanel ? undefined : () => void this.openThread(message.id, msg.querySelector<HTMLElement>(".msg__actions button[aria-label='Reply in thread']")),
      react: (emoji) => void this.react(message.id, emoji, mine(emoji)),
      reactMore: (anchor) => void this.extras?.then((x) => x.openReactionPicker(anchor, (emoji) => this.react(message.id, emoji, mine(emoji), true))),
      edit: () => this.startEdit(message.id, inPanel),
      setPinned: (pinned) => void this.pins?.setPinned(message.id, pinned),
      bookmark: (anchor) => void this.extras?.then((x) => x.openBookmarkDialog(message.id, anchor)),
      remove: (anchor) => void this.extras?.then((x) => x.confirmDeleteMessage(anchor)).then((yes) => (yes ? this.remove(message.id) : undefined)),
      report: document.querySelector("dialog[data-report-dialog]")
        ? (anchor) => void this.extras?.then((x) => x.openReportMessage(message.id, this.entries.get(message.id)?.row.authorName ?? "someone", this.copyOf(message.id, inPanel)?.text, anchor, this.entries.get(message.id)?.files, loadFilesUi))
        : undefined,
    });
  }

  /** `rethrow`: the emoji picker shows the server's refusal (e.g. TOO_MANY_REACTIONS) itself. */
  private async react(messageId: string, emoji: string, me: boolean, rethrow = false): Promise<void> {
    try {
      const answer = await callApi<{ reactions: Reaction[] }>(me ? "DELETE" : "PUT", `/api/messages/${messageId}/reactions/${encodeURIComponent(emoji)}`);
      this.onReactions(messageId, answer.reactions, { emoji, me: !me });
    } catch (error) {
      if (rethrow) throw error;
      document.dispatchEvent(new CustomEvent("chat:error", { detail: (error as Error).message }));
    }
  }

  private setReply(messageId: string): void {
    const target = this.entries.get(messageId);
    this.composer.setReply(messageId, target?.row.authorName);
  }

  /** Inline editor (inline-editor.ts): Enter saves, re-encrypted like a new message. */
  private startEdit(messageId: string, inPanel = false): void {
    const copy = this.copyOf(messageId, inPanel);
    if (copy?.text === undefined) return;
    openInlineEditor(copy.el, copy.text, (next) => this.saveEdit(messageId, next));
  }

  /** Both copies follow: the timeline's and an open thread panel's. */
  private async saveEdit(messageId: string, text: string): Promise<void> {
    const entry = this.entries.get(messageId);
    if (!entry?.message && !this.thread?.copy(messageId)) return;
    // Re-encrypted like a new message, for the readers of now (sender.ts), with their version.
    const answer = await withCurrentReaders(this.engine, this.config, text, async (ciphertext, viewerVersion, remember) => {
      const result = await callApi<{ message: unknown }>("PATCH", `/api/messages/${messageId}`, { ciphertext, viewer_version: viewerVersion });
      await remember(messageId);
      return result;
    }, undefined, undefined, entry?.files);
    const message = normaliseMessage(answer.message);
    if (message) void this.thread?.onEdited(message, text);
    if (message && entry) {
      entry.message = message;
      entry.text = text;
      entry.row.el.dataset.ciphertext = message.ciphertext ?? "";
      showText(entry.row.el, text);
      this.decorate(message, entry.row.el);
    }
  }

  private async remove(messageId: string): Promise<void> {
    try {
      await callApi("DELETE", `/api/messages/${messageId}`);
      const copy = this.copyOf(messageId, false) ?? this.copyOf(messageId, true);
      if (copy) this.onDeleted(messageId, copy.message.seq);
    } catch (error) {
      document.dispatchEvent(new CustomEvent("chat:error", { detail: (error as Error).message }));
    }
  }

  // ---- rendering, scrolling, composer ----------------------------------------------------

  private scheduleRender(): void {
    if (this.renderScheduled) return;
    this.renderScheduled = true;
    queueMicrotask(() => {
      this.renderScheduled = false;
      this.renderNow();
    });
  }

  private renderNow(): void {
    const atBottom = this.scroll.nearBottom();
    // Thread replies live in the thread panel; their roots count them (Slack-style).
    const rows = [...this.entries.values()].filter((e) => !e.message?.thread_root_id).map((e) => e.row).sort((a, b) => a.seq - b.seq || a.createdAt.getTime() - b.createdAt.getTime());
    renderRows(this.list, rows, this.unreadAfter, this.config.selfId);
    if (atBottom) this.scrollToBottom();
    this.showUnreadJump();
  }

  /** "Jump to first unread" while the "New" divider is above the visible part of the log. */
  private showUnreadJump(): void {
    const sep = this.list.querySelector(".unread-sep");
    this.ui.jumpUnread.hidden = !sep || sep.getBoundingClientRect().bottom > this.scroller.getBoundingClientRect().top;
  }

  scrollToBottom(): void {
    this.scroll.toBottom();
    this.ui.jump.hidden = true;
  }

  private wireScroll(): void {
    this.scroller.addEventListener("scroll", () => {
      if (this.scroll.fromTop() < 150) void this.loadOlder();
      this.ui.jump.hidden = this.scroll.nearBottom();
      this.showUnreadJump();
      if (this.scroll.nearBottom()) this.markRead();
    }, { passive: true });
    this.ui.jump.addEventListener("click", () => this.scrollToBottom());
    this.ui.jumpUnread.addEventListener("click", () => {
      this.list.querySelector(".unread-sep")?.scrollIntoView({ block: "start" });
      this.ui.jumpUnread.hidden = true;
    });
  }

  private markRead(): void {
    const seq = this.timeline.lastSeq;
    if (seq <= this.readSeqSent || document.visibilityState === "hidden") return;
    this.readSeqSent = seq;
    void callApi("PUT", `/api/channels/${this.config.channelId}/read`, { seq }).catch(() => {});
  }
}
