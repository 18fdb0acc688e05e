// One shown conversation (controller.ts), the state its parts share: the rows on screen, the send
// queue, the panels and timers; the names the pane knows; rendering, scrolling and the read
// cursor. The parts build on it one sub-feature each: the message menu (channel-menu.ts), threads
// (channel-threads.ts), decryption states (channel-decrypt.ts) and sending (channel-send.ts).

import { callApi } from "./api.ts";
import type { ChatEngine, DecryptOutcome } from "./engine.ts";
import { SendQueue } from "./send-queue.ts";
import { ChannelTimeline } from "./timeline.ts";
import type { ChatMessage, Reaction } from "./types.ts";
import { renderRows, type Row } from "./view.ts";
import type { Attached, SendTarget } from "./sender.ts";
import type { PanelCopy, ThreadPanel } from "./thread-panel.ts";
import { PinsPanel } from "./pins-panel.ts";
import { ComposerBinding } from "./composer.ts";
import { SeenBy } from "./seen-by.ts";
import { ScrollGeometry, TypingLine } from "./pane-bits.ts";
import { AutoResend } from "./resend.ts";
import type { ExtrasApi } from "./extras-types.ts";
import type { TrustApi } from "./trust-ui.ts";

/** What the controller sends to: the same shape as the send path's target (sender.ts). */
export type ChannelConfig = SendTarget;

export type Entry = { row: Row; message: ChatMessage | null; clientId?: string; text?: string; files?: unknown[] };

export abstract class ChannelBase {
  readonly timeline = new ChannelTimeline();
  protected readonly queue = new SendQueue();
  protected readonly entries = new Map<string, Entry>();
  protected readonly waiting = new Set<string>();
  protected hasMoreOlder = true;
  protected loadingOlder = false;
  protected unreadAfter: number | null = null;
  protected catchingUp: Promise<void> | null = null;
  protected renderScheduled = false;
  protected readonly typing: TypingLine;
  protected readonly scroll: ScrollGeometry;
  protected retryTimer: ReturnType<typeof setInterval> | undefined;
  protected readSeqSent = 0;
  /** DMs: "Seen by" (seen-by.ts). */
  protected readonly seen: SeenBy | null;
  protected thread: ThreadPanel | null = null;
  protected readonly composer: ComposerBinding;
  /** Community channels: the pin list and the pinned state behind the menus' Pin/Unpin. */
  protected readonly pins: PinsPanel | null;
  protected readonly resend = new AutoResend((clientId) => void this.retry(clientId, true));
  protected blocked = new Set<string>();
  /** The lazily loaded extras chunk (emoji picker, polls, schedule, bookmarks), set by index.ts. */
  extras: Promise<ExtrasApi> | null = null;
  /** The lazily loaded verification chunk (trust-ui.ts), set by index.ts. */
  trust: Promise<TrustApi> | null = null;

  constructor(
    protected readonly engine: ChatEngine,
    protected readonly config: ChannelConfig,
    protected readonly list: HTMLElement,
    protected readonly scroller: HTMLElement,
    protected readonly ui: { typing: HTMLElement; jump: HTMLButtonElement; jumpUnread: HTMLButtonElement; form: HTMLFormElement | null; input: HTMLTextAreaElement | null; canSend: boolean; reply: HTMLElement; seen?: HTMLElement },
    protected readonly sendTyping: (channelId: string, stop?: boolean) => void,
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

  // ---- provided by the sub-features (channel-*.ts) and controller.ts --------------------
  abstract receive(message: ChatMessage, live: boolean): Promise<void>;
  abstract catchUp(): Promise<void>;
  abstract send(text: string, replyTo?: string | null, files?: Attached): Promise<void>;
  abstract openThread(rootId: string, opener: HTMLElement | null): Promise<void>;
  abstract onReactions(messageId: string, reactions: Reaction[], own?: { emoji: string; me: boolean }): void;
  abstract onDeleted(messageId: string, seq: number): void;
  protected abstract loadOlder(): Promise<void>;
  protected abstract decryptText(message: ChatMessage): Promise<DecryptOutcome>;
  protected abstract jumpTo(messageId: string): boolean;
  protected abstract redecorate(messageId: string | null): void;
  protected abstract retry(clientId: string, automatic?: boolean): Promise<void>;

  /** The timeline's copy of a message, or (inPanel) the thread panel's. */
  protected copyOf(messageId: string, inPanel: boolean): PanelCopy | null {
    if (inPanel) return this.thread?.copy(messageId) ?? null;
    const entry = this.entries.get(messageId);
    return entry?.message ? { message: entry.message, el: entry.row.el, text: entry.text } : null;
  }

  /** A reader's name for typing lines and panels; authors come with their messages (Row.authorName). */
  protected nameOf(userId: string): string {
    return this.config.names.get(userId) ?? "Someone";
  }

  protected isKnownUser(name: string): boolean {
    return [...this.config.names.values()].includes(name);
  }

  // ---- rendering, scrolling, read cursor -----------------------------------------------------

  protected scheduleRender(): void {
    if (this.renderScheduled) return;
    this.renderScheduled = true;
    queueMicrotask(() => {
      this.renderScheduled = false;
      this.renderNow();
    });
  }

  protected renderNow(): void {
    const atBottom = this.scroll.nearBottom();
    // Thread replies live in the thread panel; their roots count them (Slack-style).
    const rows = [...this.entries.values()].filter((e) => !e.message?.thread_root_id).map((e) => e.row).sort((a, b) => a.seq - b.seq || a.createdAt.getTime() - b.createdAt.getTime());
    renderRows(this.list, rows, this.unreadAfter, this.config.selfId);
    if (atBottom) this.scrollToBottom();
    this.showUnreadJump();
  }

  /** "Jump to first unread" while the "New" divider is above the visible part of the log. */
  protected showUnreadJump(): void {
    const sep = this.list.querySelector(".unread-sep");
    this.ui.jumpUnread.hidden = !sep || sep.getBoundingClientRect().bottom > this.scroller.getBoundingClientRect().top;
  }

  scrollToBottom(): void {
    this.scroll.toBottom();
    this.ui.jump.hidden = true;
  }

  protected wireScroll(): void {
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

  protected markRead(): void {
    const seq = this.timeline.lastSeq;
    if (seq <= this.readSeqSent || document.visibilityState === "hidden") return;
    this.readSeqSent = seq;
    void callApi("PUT", `/api/channels/${this.config.channelId}/read`, { seq }).catch(() => {});
  }
}
