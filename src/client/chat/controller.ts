// One shown conversation: history, live events, catch-up after reconnects, the composer with
// optimistic sends and decryption states. The message menu (message-menu.ts), the thread panel
// (thread-panel.ts) and the pin list (pins-panel.ts) are their own modules; this file loads the
// history and routes messages and events. Its parts, one sub-feature each, build on the shared
// state of channel-base.ts: drawing and the menu's actions (channel-menu.ts), threads
// (channel-threads.ts), decryption states (channel-decrypt.ts) and sending (channel-send.ts).

import { callApi } from "./api.ts";
import { authorKey, authorName, type ChatMessage, normaliseMessage, type Reaction } from "./types.ts";
import { createMessageElement, renderReactions, type Row, showNotice } from "./view.ts";
import { adoptServerRendered } from "./server-rendered.ts";
import { loadBlockedUsers } from "./blocked.ts";
import { ChannelSend } from "./channel-send.ts";

export type { ChannelConfig } from "./channel-base.ts";

const PAGE = 50;

export class ChannelController extends ChannelSend {
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

  // ---- loading -------------------------------------------------------------------------------

  async start(): Promise<void> {
    this.list.setAttribute("aria-busy", "true");
    // Where the "New" divider goes: this channel's cursor (GET /api/channels/:id/unread, not the whole listing).
    const mine = await callApi<{ channel: { read_seq: number } }>("GET", `/api/channels/${this.config.channelId}/unread`).catch(() => null);
    this.unreadAfter = mine ? mine.channel.read_seq : null;
    this.blocked = await loadBlockedUsers(true);
    // A search result opened here (#m-<id>, search/ui.ts): the page around it, not the latest.
    const around = /^#m-([0-9a-f-]{36})$/.exec(location.hash)?.[1];
    if (around) this.list.replaceChildren();
    let messages = adoptServerRendered(this.list, this.config.channelId);
    if (messages.length === 0) {
      const page = await callApi<{ messages: unknown[]; has_more: boolean }>("GET", `/api/channels/${this.config.channelId}/messages?${around ? `around=${around}&` : ""}limit=${PAGE}`);
      messages = page.messages.map(normaliseMessage).filter((m): m is ChatMessage => m !== null);
      this.hasMoreOlder = page.has_more;
    } else this.hasMoreOlder = messages.length >= PAGE;
    messages.sort((a, b) => a.seq - b.seq);
    for (const m of messages) this.timeline.acceptOlder(m);
    this.timeline.startAt(messages.at(-1)?.seq ?? 0);
    await Promise.all(messages.map((m) => this.addMessage(m)));
    this.refreshReplies();
    this.list.removeAttribute("aria-busy");
    this.renderNow();
    this.scrollToBottom();
    if (around) this.jumpTo(around);
    this.wireScroll();
    this.composer.wire();
    this.markRead();
    await Promise.all([this.pins?.mount(this.scroller.parentElement?.querySelector<HTMLElement>(".pane-header") ?? null), this.seen?.load().then(() => this.seen?.render(this.timeline.lastSeq))]);
  }

  /** A search result: the message in context (loaded here, else the page reopens around it). */
  showMessage(id: string, reload = true): void {
    if (!this.jumpTo(id) && reload) (location.hash = `m-${id}`), location.reload();
  }

  /** After a (re)connect: everything after our last seq, until has_more is false. */
  override catchUp(): Promise<void> {
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

  protected override async loadOlder(): Promise<void> {
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

  // ---- receiving -----------------------------------------------------------------------------

  /** message:new (live) or a catch-up item. */
  override async receive(message: ChatMessage, live: boolean): Promise<void> {
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

  protected async addMessage(message: ChatMessage): Promise<void> {
    const msg = createMessageElement(message.id, message.id);
    if (message.ciphertext) msg.dataset.ciphertext = message.ciphertext;
    const row: Row = { key: message.id, seq: message.seq, authorId: authorKey(message), authorName: authorName(message), createdAt: new Date(message.created_at), el: msg };
    this.entries.set(message.id, { row, message });
    this.decorate(message, msg);
    await this.decryptInto(message, msg);
  }

  onEdited(raw: unknown): void {
    const message = normaliseMessage(raw);
    const entry = message && this.entries.get(message.id);
    if (message && !entry) void this.thread?.onEdited(message); // a reply the panel loaded
    if (!message || !entry) return;
    const unchanged = entry.message?.ciphertext === message.ciphertext;
    // Edit history: the key of the version on screen is kept before the new one is read (queued first).
    if (!unchanged) void this.engine.keepVersionKey(message.id, entry.message?.ciphertext ?? null).catch(() => {});
    message.thread_reply_count = entry.message?.thread_reply_count ?? message.thread_reply_count;
    entry.message = message;
    if (unchanged) return this.decorate(message, entry.row.el); // our own edit, already shown
    entry.row.el.dataset.ciphertext = message.ciphertext ?? "";
    this.decorate(message, entry.row.el);
    void this.decryptInto(message, entry.row.el).then(() => this.thread?.onEdited(message));
  }

  override onDeleted(messageId: string, seq: number): void {
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
  override onReactions(messageId: string, reactions: Reaction[], own?: { emoji: string; me: boolean }): void {
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
}
