// One shown conversation: history, live events, catch-up after reconnects, the composer with
// optimistic sends, decryption states and the reaction/delete menu.

import { ApiError, callApi } from "./api.ts";
import type { ChatEngine } from "./engine.ts";
import { SendQueue } from "./send-queue.ts";
import { ChannelTimeline } from "./timeline.ts";
import { normaliseMessage, type ChatMessage, type Reaction, type Scheme } from "./types.ts";
import { createMessageElement, renderReactions, renderRows, setSendState, showNotice, showText, type Row } from "./view.ts";
import { AutoResend } from "./resend.ts";
import { collapseBlocked, loadBlockedUsers } from "./blocked.ts";
import type { ExtrasApi } from "./extras-types.ts";

const PAGE = 50;
const TYPING_THROTTLE_MS = 3_000;
const TYPING_SHOWN_MS = 10_000;

export interface ChannelConfig {
  channelId: string;
  scheme: Scheme;
  selfId: string;
  /** pw: the DM's participants; sk: filled from the community member list. */
  participants: string[];
  names: Map<string, string>;
}

type Entry = { row: Row; message: ChatMessage | null; clientId?: string; text?: string };

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
  private lastTypingSent = 0;
  private readonly typers = new Map<string, ReturnType<typeof setTimeout>>();
  private retryTimer: ReturnType<typeof setInterval> | undefined;
  private readSeqSent = 0;
  private replyTo: string | null = null;
  /** DMs: how far each other participant has read (read:receipt events). */
  private readonly seenUpTo = new Map<string, number>();
  private readonly resend = new AutoResend((clientId) => void this.retry(clientId, true));
  private blocked = new Set<string>();
  /** The lazily loaded extras chunk (emoji picker, polls, schedule, bookmarks), set by index.ts. */
  extras: Promise<ExtrasApi> | null = null;

  constructor(
    private readonly engine: ChatEngine,
    private readonly config: ChannelConfig,
    private readonly list: HTMLElement,
    private readonly scroller: HTMLElement,
    private readonly ui: { typing: HTMLElement; jump: HTMLButtonElement; form: HTMLFormElement | null; input: HTMLTextAreaElement | null; canSend: boolean; reply: HTMLElement; seen?: HTMLElement },
    private readonly sendTyping: (channelId: string, stop?: boolean) => void,
  ) {}

  /** Another conversation replaced this one (boosted navigation): stop timers. */
  dispose(): void {
    clearInterval(this.retryTimer);
    this.retryTimer = undefined;
    this.resend.dispose();
    void this.extras?.then((x) => x.dispose());
    for (const t of this.typers.values()) clearTimeout(t);
    this.typers.clear();
  }

  // ---- loading ---------------------------------------------------------------------------

  async start(): Promise<void> {
    this.list.setAttribute("aria-busy", "true");
    const unread = await callApi<{ channels: { channel_id: string; read_seq: number }[] }>("GET", "/api/channels/unread").catch(() => null);
    const mine = unread?.channels.find((c) => c.channel_id === this.config.channelId);
    this.unreadAfter = mine ? mine.read_seq : null;
    this.blocked = await loadBlockedUsers(true);
    let messages = this.adoptServerRendered();
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
    this.wireComposer();
    this.markRead();
  }

  /**
   * The page arrives with the last messages rendered by the server (structure + ciphertext in
   * data attributes, src/features/messages/views.tsx). Read them back as messages and drop the
   * server's markup: the list is rebuilt around the decrypted rows.
   */
  private adoptServerRendered(): ChatMessage[] {
    const out: ChatMessage[] = [];
    for (const node of this.list.querySelectorAll<HTMLElement>(".msg[data-message-id][data-seq]")) {
      const d = node.dataset;
      let reactions: Reaction[] = [];
      try {
        reactions = d.reactions ? (JSON.parse(d.reactions) as Reaction[]) : [];
      } catch {
        reactions = [];
      }
      const m = normaliseMessage({
        id: d.messageId,
        channel_id: this.config.channelId,
        seq: Number(d.seq),
        sender_id: d.senderId ?? "",
        sender_device_id: d.senderDeviceId ?? "",
        client_id: d.clientId ?? "",
        reply_to_id: d.replyToId ?? null,
        scheme: d.scheme,
        ciphertext: d.ciphertext ?? null,
        created_at: d.createdAt,
        edited_at: d.editedAt ?? null,
        deleted_at: d.deletedAt ?? null,
        reactions,
      });
      if (m) out.push(m);
    }
    for (const li of this.list.querySelectorAll(":scope > li.msg-group:not([data-chat-item]), :scope > li.day-sep:not([data-chat-item])")) li.remove();
    return out;
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
      const fromBottom = this.distanceFromBottom();
      await Promise.all(fresh.map((m) => this.addMessage(m)));
      this.refreshReplies();
      this.renderNow();
      // Keep the reader's place (a column-reverse pane keeps it by itself).
      if (!this.reversed()) this.scroller.scrollTop = this.scroller.scrollHeight - this.scroller.clientHeight - fromBottom;
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
      this.scheduleRender();
    }
    if (live && result.gapAfter !== null) void this.catchUp();
    if (live) this.markRead();
    this.renderSeen();
  }

  /** A read:receipt in this conversation: "Seen by …" under the last message (DMs only). */
  onReadReceipt(userId: string, seq: number): void {
    if (this.config.scheme !== "pw" || userId === this.config.selfId) return;
    if (seq <= (this.seenUpTo.get(userId) ?? 0)) return;
    this.seenUpTo.set(userId, seq);
    this.renderSeen();
  }

  private renderSeen(): void {
    if (!this.ui.seen) return;
    const last = this.timeline.lastSeq;
    const names = [...this.seenUpTo].filter(([, seq]) => seq >= last).map(([id]) => this.config.names.get(id) ?? "Someone");
    this.ui.seen.textContent = names.length === 0 ? "" : `Seen by ${names.join(", ")}`;
  }

  private async addMessage(message: ChatMessage): Promise<void> {
    const msg = createMessageElement(message.id, message.id);
    if (message.ciphertext) msg.dataset.ciphertext = message.ciphertext;
    const row: Row = { key: message.id, seq: message.seq, authorId: message.sender_id, createdAt: new Date(message.created_at), el: msg };
    this.entries.set(message.id, { row, message });
    this.decorate(message, msg);
    await this.decryptInto(message, msg);
  }

  private decorate(message: ChatMessage, msg: HTMLElement): void {
    msg.querySelector(".msg__edited")?.remove();
    msg.querySelector(".msg__reply")?.remove();
    if (message.reply_to_id) {
      const target = this.entries.get(message.reply_to_id);
      const who = target ? this.config.names.get(target.row.authorId) ?? "Unknown" : "";
      const snippet = target?.text ? target.text.replace(/\s+/g, " ").slice(0, 80) : "an earlier message";
      const line = document.createElement("p");
      line.className = "msg__reply";
      line.textContent = who ? `↪ Replying to ${who}: ${snippet}` : `↪ Replying to ${snippet}`;
      msg.prepend(line);
    }
    if (message.edited_at) msg.append(Object.assign(document.createElement("span"), { className: "msg__edited", textContent: "(edited)" }));
    renderReactions(msg, message.reactions, (emoji, me) => void this.react(message.id, emoji, me));
    this.addMenu(message, msg);
  }

  private async decryptInto(message: ChatMessage, msg: HTMLElement): Promise<void> {
    if (message.deleted_at || !message.ciphertext) {
      showNotice(msg, "deleted", "This message was deleted.");
      this.waiting.delete(message.id);
      return;
    }
    const outcome = await this.engine.decrypt(message);
    if (outcome.status === "ok") {
      const entry = this.entries.get(message.id);
      if (entry) entry.text = outcome.text;
      showText(msg, outcome.text, { isKnownUser: (n) => [...this.config.names.values()].includes(n) });
      this.waiting.delete(message.id);
    } else if (outcome.status === "waiting") {
      showNotice(msg, "waiting", outcome.reason);
      this.waiting.add(message.id);
      this.ensureRetryTimer();
    } else {
      showNotice(msg, "failed", outcome.reason);
      this.waiting.delete(message.id);
    }
    // Blocked users' messages are collapsed in channels and group DMs (1:1 DMs refuse them).
    if (this.blocked.has(message.sender_id) && (this.config.scheme === "sk" || this.config.participants.length > 2)) collapseBlocked(msg);
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
    if (!message || !entry) return;
    const unchanged = entry.message?.ciphertext === message.ciphertext;
    entry.message = message;
    if (unchanged) return this.decorate(message, entry.row.el); // our own edit, already shown
    entry.row.el.dataset.ciphertext = message.ciphertext ?? "";
    this.decorate(message, entry.row.el);
    void this.decryptInto(message, entry.row.el);
  }

  onDeleted(messageId: string, seq: number): void {
    this.timeline.markSeen(seq);
    const entry = this.entries.get(messageId);
    if (!entry?.message) return;
    entry.message = { ...entry.message, ciphertext: null, deleted_at: new Date().toISOString() };
    delete entry.row.el.dataset.ciphertext;
    showNotice(entry.row.el, "deleted", "This message was deleted.");
  }

  onReactions(messageId: string, reactions: Reaction[]): void {
    const entry = this.entries.get(messageId);
    if (!entry?.message) return;
    // `me` is ours to compute: keep what we knew for emojis still present.
    const mine = new Set(entry.message.reactions.filter((r) => r.me).map((r) => r.emoji));
    entry.message.reactions = reactions.map((r) => ({ ...r, me: mine.has(r.emoji) }));
    renderReactions(entry.row.el, entry.message.reactions, (emoji, me) => void this.react(messageId, emoji, me));
  }

  onTyping(userId: string, stopped: boolean): void {
    if (userId === this.config.selfId) return;
    clearTimeout(this.typers.get(userId));
    if (stopped) this.typers.delete(userId);
    else this.typers.set(userId, setTimeout(() => { this.typers.delete(userId); this.renderTyping(); }, TYPING_SHOWN_MS));
    this.renderTyping();
  }

  private renderTyping(): void {
    const names = [...this.typers.keys()].map((id) => this.config.names.get(id) ?? "Someone");
    this.ui.typing.textContent = names.length === 0 ? "" : names.length === 1 ? `${names[0]} is typing…` : names.length <= 3 ? `${names.join(", ")} are typing…` : "Several people are typing…";
  }

  // ---- sending ---------------------------------------------------------------------------

  async send(text: string): Promise<void> {
    const item = this.queue.enqueue(this.config.channelId, text, this.replyTo ?? undefined);
    this.setReply(null);
    const key = `pending:${item.clientId}`;
    const msg = createMessageElement(key, null);
    showText(msg, text);
    setSendState(msg, "pending");
    this.entries.set(key, { row: { key, seq: Infinity, authorId: this.config.selfId, createdAt: new Date(), el: msg }, message: null, clientId: item.clientId, text });
    this.renderNow();
    this.scrollToBottom();
    await this.attempt(item.clientId);
  }

  private async attempt(clientId: string): Promise<void> {
    const item = this.queue.get(clientId);
    if (!item) return;
    try {
      const { ciphertext, remember } = await this.engine.encrypt(this.config.scheme, this.config.channelId, this.config.participants, item.text);
      const mentions = this.mentionedIds(item.text);
      const answer = await callApi<{ message: unknown }>("POST", `/api/channels/${this.config.channelId}/messages`, {
        client_id: clientId,
        scheme: this.config.scheme,
        ciphertext,
        sender_device_id: this.engine.deviceId,
        ...(item.replyToId ? { reply_to_id: item.replyToId } : {}),
        ...(mentions.length ? { mentions } : {}),
      });
      const message = normaliseMessage(answer.message);
      if (!message) throw new ApiError(500, "BAD_ANSWER", "The server's answer was not a message.");
      await remember(message.id);
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
    entry.row.createdAt = new Date(message.created_at);
    this.entries.set(message.id, { row: entry.row, message, text: entry.text });
    this.decorate(message, el);
    this.scheduleRender();
  }

  private mentionedIds(text: string): string[] {
    const ids: string[] = [];
    for (const [id, name] of this.config.names) if (id !== this.config.selfId && text.includes(`@${name}`)) ids.push(id);
    return ids.slice(0, 50);
  }

  // ---- message menu ----------------------------------------------------------------------

  private addMenu(message: ChatMessage, msg: HTMLElement): void {
    msg.querySelector(".msg__actions")?.remove();
    if (message.deleted_at) return;
    const bar = document.createElement("div");
    bar.className = "msg__actions";
    bar.setAttribute("role", "group");
    bar.setAttribute("aria-label", "Message actions");
    const button = (label: string, text: string, fn: () => void) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "btn btn--ghost btn--sm";
      b.textContent = text;
      b.setAttribute("aria-label", label);
      b.addEventListener("click", fn);
      bar.append(b);
    };
    button("Reply to message", "Reply", () => this.setReply(message.id));
    button("React with thumbs up", "👍", () => void this.react(message.id, "👍", !!message.reactions.find((r) => r.emoji === "👍")?.me));
    button("Add a reaction", "React…", () => void this.extras?.then((x) => x.openReactionPicker(bar.querySelector<HTMLElement>("[data-react-more]")!, (emoji) => this.react(message.id, emoji, !!message.reactions.find((r) => r.emoji === emoji)?.me, true))));
    bar.lastElementChild!.setAttribute("data-react-more", "");
    const own = message.sender_id === this.config.selfId;
    if (own && Date.now() - Date.parse(message.created_at) < 15 * 60 * 1000) button("Edit message", "Edit", () => this.startEdit(message.id));
    if (this.config.scheme === "sk") button("Pin message", "Pin", () => void this.pin(message.id));
    button("Bookmark message", "Bookmark", () => void this.extras?.then((x) => x.openBookmarkDialog(message.id, bar.querySelector<HTMLElement>("[data-bookmark]")!)));
    bar.lastElementChild!.setAttribute("data-bookmark", "");
    if (own) button("Delete message", "Delete", () => void this.remove(message.id));
    msg.append(bar);
  }

  /** `rethrow`: the emoji picker shows the server's refusal (e.g. TOO_MANY_REACTIONS) itself. */
  private async react(messageId: string, emoji: string, me: boolean, rethrow = false): Promise<void> {
    const entry = this.entries.get(messageId);
    try {
      const answer = await callApi<{ reactions: Reaction[] }>(me ? "DELETE" : "PUT", `/api/messages/${messageId}/reactions/${encodeURIComponent(emoji)}`);
      if (entry?.message) {
        entry.message.reactions = answer.reactions.map((r) => ({ ...r, me: r.emoji === emoji ? !me : !!entry.message!.reactions.find((x) => x.emoji === r.emoji)?.me }));
        renderReactions(entry.row.el, entry.message.reactions, (e, m) => void this.react(messageId, e, m));
      }
    } catch (error) {
      if (rethrow) throw error;
      document.dispatchEvent(new CustomEvent("chat:error", { detail: (error as Error).message }));
    }
  }

  /** The "Replying to …" line above the composer; Escape in the composer cancels it. */
  private setReply(messageId: string | null): void {
    this.replyTo = messageId;
    const bar = this.ui.reply;
    bar.replaceChildren();
    bar.hidden = messageId === null;
    if (!messageId) return;
    const target = this.entries.get(messageId);
    const label = document.createElement("span");
    label.textContent = `Replying to ${target ? this.config.names.get(target.row.authorId) ?? "Unknown" : "a message"}`;
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "btn btn--ghost btn--sm";
    cancel.textContent = "Cancel reply";
    cancel.addEventListener("click", () => {
      this.setReply(null);
      this.ui.input?.focus();
    });
    bar.append(label, cancel);
    this.ui.input?.focus();
  }

  /** Inline editor: Enter saves (re-encrypted like a new message), Escape cancels. */
  private startEdit(messageId: string): void {
    const entry = this.entries.get(messageId);
    const text = entry?.text;
    if (!entry?.message || text === undefined) return;
    const box = entry.row.el.querySelector<HTMLElement>(".msg__text")!;
    const saved = [...box.childNodes];
    const editor = document.createElement("textarea");
    editor.className = "composer__input msg__editor";
    editor.setAttribute("aria-label", "Edit message");
    editor.value = text;
    box.replaceChildren(editor);
    editor.focus();
    const cancel = () => box.replaceChildren(...saved);
    editor.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        cancel();
      } else if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        const next = editor.value.trim();
        if (!next || next === text) return cancel();
        void this.saveEdit(messageId, next).catch((error) => {
          cancel();
          document.dispatchEvent(new CustomEvent("chat:error", { detail: (error as Error).message }));
        });
      }
    });
  }

  private async saveEdit(messageId: string, text: string): Promise<void> {
    const entry = this.entries.get(messageId);
    if (!entry?.message) return;
    const { ciphertext, remember } = await this.engine.encrypt(this.config.scheme, this.config.channelId, this.config.participants, text);
    const answer = await callApi<{ message: unknown }>("PATCH", `/api/messages/${messageId}`, { ciphertext });
    await remember(messageId);
    const message = normaliseMessage(answer.message);
    if (message) {
      entry.message = message;
      entry.text = text;
      entry.row.el.dataset.ciphertext = message.ciphertext ?? "";
      showText(entry.row.el, text);
      this.decorate(message, entry.row.el);
    }
  }

  private async pin(messageId: string): Promise<void> {
    try {
      await callApi("PUT", `/api/channels/${this.config.channelId}/pins/${messageId}`);
      document.dispatchEvent(new CustomEvent("chat:notice", { detail: "Pinned." }));
    } catch (error) {
      document.dispatchEvent(new CustomEvent("chat:error", { detail: (error as Error).message }));
    }
  }

  private async remove(messageId: string): Promise<void> {
    try {
      await callApi("DELETE", `/api/messages/${messageId}`);
      const entry = this.entries.get(messageId);
      if (entry?.message) this.onDeleted(messageId, entry.message.seq);
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
    const atBottom = this.isNearBottom();
    const rows = [...this.entries.values()].map((e) => e.row).sort((a, b) => a.seq - b.seq || a.createdAt.getTime() - b.createdAt.getTime());
    renderRows(this.list, rows, (id) => this.config.names.get(id) ?? "Unknown", this.unreadAfter, this.config.selfId);
    if (atBottom) this.scrollToBottom();
  }

  /** .pane-body is flex column-reverse (pinned to the newest message): scrollTop is 0 at the bottom. */
  private reversed(): boolean {
    return getComputedStyle(this.scroller).flexDirection === "column-reverse";
  }

  private distanceFromBottom(): number {
    const s = this.scroller;
    return this.reversed() ? Math.abs(s.scrollTop) : s.scrollHeight - s.scrollTop - s.clientHeight;
  }

  private distanceFromTop(): number {
    const s = this.scroller;
    return s.scrollHeight - s.clientHeight - this.distanceFromBottom();
  }

  private isNearBottom(): boolean {
    return this.distanceFromBottom() < 120;
  }

  scrollToBottom(): void {
    this.scroller.scrollTop = this.reversed() ? 0 : this.scroller.scrollHeight;
    this.ui.jump.hidden = true;
  }

  private wireScroll(): void {
    this.scroller.addEventListener("scroll", () => {
      if (this.distanceFromTop() < 150) void this.loadOlder();
      this.ui.jump.hidden = this.isNearBottom();
      if (this.isNearBottom()) this.markRead();
    }, { passive: true });
    this.ui.jump.addEventListener("click", () => this.scrollToBottom());
  }

  private markRead(): void {
    const seq = this.timeline.lastSeq;
    if (seq <= this.readSeqSent || document.visibilityState === "hidden") return;
    this.readSeqSent = seq;
    void callApi("PUT", `/api/channels/${this.config.channelId}/read`, { seq }).catch(() => {});
  }

  private draftKey(): string {
    return `hearth.draft.${this.config.channelId}`;
  }

  private wireComposer(): void {
    const { form, input } = this.ui;
    if (!form || !input || !this.ui.canSend) return;
    // Drafts stay in this tab (sessionStorage), never on the server (docs/crypto.md).
    input.value = sessionStorage.getItem(this.draftKey()) ?? "";
    input.disabled = false;
    form.querySelector<HTMLButtonElement>(".composer__send")!.disabled = false;
    const submit = () => {
      const text = input.value.trim();
      if (!text) return;
      input.value = "";
      sessionStorage.removeItem(this.draftKey());
      if (this.lastTypingSent) this.sendTyping(this.config.channelId, true);
      this.lastTypingSent = 0;
      void this.send(text);
    };
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      submit();
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.replyTo) {
        event.preventDefault();
        this.setReply(null);
      } else if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        submit();
      }
    });
    input.addEventListener("input", () => {
      if (input.value) sessionStorage.setItem(this.draftKey(), input.value);
      else sessionStorage.removeItem(this.draftKey());
      const now = Date.now();
      if (input.value && now - this.lastTypingSent > TYPING_THROTTLE_MS) {
        this.lastTypingSent = now;
        this.sendTyping(this.config.channelId);
      }
    });
  }
}
