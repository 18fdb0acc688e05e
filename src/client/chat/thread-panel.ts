// The thread panel (docs/messages.md "Threads"): the decrypted root and its replies, loaded with
// GET /api/messages/{id}/thread, kept live by the controller (new replies, edits, deletions), and
// a composer that sends through the same encrypt-and-send path as the main one, with
// thread_root_id. Thread replies are not shown in the main timeline; their roots count them.

import { MAX_MESSAGE_CHARS } from "../../shared/text-limits.ts";
import { ApiError, callApi } from "./api.ts";
import { submitOnEnter } from "./composer.ts";
import type { DecryptOutcome } from "./engine.ts";
import type { OutgoingText } from "./sender.ts";
import { openSidePanel, type SidePanel } from "./side-panel.ts";
import { authorKey, authorName, normaliseMessage, type ChatMessage, type Reaction } from "./types.ts";
import { createMessageElement, renderRows, replyCountLabel, setSendState, showNotice, showText, showWebhook, type Row } from "./view.ts";

const PAGE = 100;
const MAX_PAGES = 50;

export interface ThreadHost {
  selfId: string;
  canSend: boolean;
  nameOf(userId: string): string;
  isKnownUser(name: string): boolean;
  /** Decrypts (or returns the text the main timeline already decrypted). */
  decrypt(message: ChatMessage): Promise<DecryptOutcome>;
  /** Encrypts and sends; the controller takes the stored message in like a live one. */
  send(item: OutgoingText): Promise<ChatMessage>;
  /** The controller's message menu, reactions and "(edited)" on a copy shown here (its actions, not ours). */
  decorate(message: ChatMessage, el: HTMLElement, onlyReactions?: boolean): void;
}

/** A message as shown in the panel: what the controller's actions work on. */
export type PanelCopy = { message: ChatMessage; el: HTMLElement; text?: string };

type Item = { row: Row; message: ChatMessage | null; text?: string };

export class ThreadPanel {
  private readonly panel: SidePanel;
  private readonly items = new Map<string, Item>();
  private readonly rootList: HTMLOListElement;
  private readonly replyList: HTMLOListElement;
  private readonly count: HTMLElement;
  private readonly input: HTMLTextAreaElement | null = null;

  constructor(
    private readonly host: ThreadHost,
    readonly rootId: string,
    opener: HTMLElement | null,
    onClose: () => void,
  ) {
    this.panel = openSidePanel("thread", "Thread", opener, onClose);
    this.rootList = list("Thread root");
    this.count = document.createElement("p");
    this.count.className = "thread-panel__count";
    this.replyList = list("Thread replies");
    this.replyList.setAttribute("aria-live", "polite");
    this.panel.body.append(this.rootList, this.count, this.replyList);
    this.panel.root.setAttribute("aria-busy", "true");
    if (host.canSend) this.input = this.buildComposer();
    else this.panel.footer.append(Object.assign(document.createElement("p"), { className: "thread-panel__note", textContent: "You cannot send messages here." }));
  }

  get closed(): boolean {
    return this.panel.closed;
  }

  close(): void {
    this.panel.close();
  }

  /** Every reply, page by page (after_seq), until has_more is false. */
  async load(): Promise<void> {
    let after = 0;
    try {
      for (let i = 0; i < MAX_PAGES && !this.closed; i++) {
        const page = await callApi<{ root: unknown; replies: unknown[]; has_more: boolean }>("GET", `/api/messages/${this.rootId}/thread?after_seq=${after}&limit=${PAGE}`);
        const root = normaliseMessage(page.root);
        if (root && !this.items.has(root.id)) await this.add(root);
        for (const raw of page.replies) {
          const m = normaliseMessage(raw);
          if (m && !this.items.has(m.id)) await this.add(m);
          if (m) after = Math.max(after, m.seq);
        }
        if (!page.has_more || page.replies.length === 0) break;
      }
    } catch (error) {
      this.panel.body.append(Object.assign(document.createElement("p"), { className: "side-panel__error", role: "alert", textContent: `The thread could not be loaded: ${(error as Error).message}` }));
    }
    this.panel.root.removeAttribute("aria-busy");
    this.render();
    this.input?.focus();
  }

  /** A message of this channel arrived (live, catch-up, or our own answer). */
  async onMessage(message: ChatMessage): Promise<void> {
    if (message.thread_root_id !== this.rootId || this.items.has(message.id)) return;
    const pending = this.items.get(`pending:${message.client_id}`);
    if (pending) {
      this.items.delete(`pending:${message.client_id}`);
      pending.row.key = message.id;
      pending.row.seq = message.seq;
      pending.row.createdAt = new Date(message.created_at);
      pending.row.el.dataset.messageId = message.id;
      setSendState(pending.row.el, "sent");
      this.items.set(message.id, { ...pending, message });
      this.host.decorate(message, pending.row.el);
    } else await this.add(message);
    this.render();
  }

  copy(messageId: string): PanelCopy | null {
    const item = this.items.get(messageId);
    return item?.message ? { message: item.message, el: item.row.el, text: item.text } : null;
  }

  /** `text`: our own edit (no need to decrypt). Reactions stay ours: reaction events keep them. */
  async onEdited(message: ChatMessage, text?: string): Promise<void> {
    const item = this.items.get(message.id);
    if (!item?.message) return;
    const unchanged = item.message.ciphertext === message.ciphertext && item.row.el.dataset.state === "ok";
    item.message = { ...message, reactions: item.message.reactions };
    if (text !== undefined) {
      item.text = text;
      showText(item.row.el, text, { isKnownUser: (n) => this.host.isKnownUser(n) });
      this.host.decorate(item.message, item.row.el);
    } else if (unchanged) this.host.decorate(item.message, item.row.el);
    else await this.fill(item);
  }

  /** `next` computes the new list from this copy's own (each copy knows which are "me"). */
  onReactions(messageId: string, next: (old: Reaction[]) => Reaction[]): void {
    const item = this.items.get(messageId);
    if (!item?.message) return;
    item.message.reactions = next(item.message.reactions);
    this.host.decorate(item.message, item.row.el, true);
  }

  /** Pin state or permission changed: menus again (null: all). */
  redecorate(messageId: string | null): void {
    for (const item of this.items.values()) if (item.message && (messageId === null || item.row.key === messageId)) this.host.decorate(item.message, item.row.el);
  }

  onDeleted(messageId: string): void {
    const item = this.items.get(messageId);
    if (!item?.message) return;
    item.message = { ...item.message, ciphertext: null, deleted_at: new Date().toISOString() };
    showNotice(item.row.el, "deleted", "This message was deleted.");
    this.host.decorate(item.message, item.row.el);
    this.render();
    // Deleted from its own menu here: the button is gone, so the placeholder takes the focus.
    if (!this.closed && document.activeElement === document.body) {
      item.row.el.tabIndex = -1;
      item.row.el.focus({ preventScroll: true });
    }
  }

  private async add(message: ChatMessage): Promise<void> {
    const el = createMessageElement(`thread-${message.id}`, message.id);
    const item: Item = { row: { key: message.id, seq: message.seq, authorId: authorKey(message), authorName: authorName(message), createdAt: new Date(message.created_at), el }, message };
    this.items.set(message.id, item);
    await this.fill(item);
  }

  private async fill(item: Item): Promise<void> {
    const message = item.message!;
    // A webhook's plaintext as in the timeline: text only, no markdown; its group header carries
    // the "Webhook · not E2EE" badge (renderRows, by its webhook: author key).
    if (message.webhook && !message.deleted_at) {
      item.text = message.webhook.content;
      showWebhook(item.row.el, message.webhook.content);
      return this.host.decorate(message, item.row.el);
    }
    if (message.deleted_at || !message.ciphertext) return showNotice(item.row.el, "deleted", "This message was deleted.");
    const outcome = await this.host.decrypt(message);
    if (outcome.status === "ok") {
      item.text = outcome.text;
      showText(item.row.el, outcome.text, { isKnownUser: (n) => this.host.isKnownUser(n) });
    } else showNotice(item.row.el, outcome.status, outcome.reason);
    this.host.decorate(message, item.row.el);
  }

  private render(): void {
    if (this.closed) return;
    const all = [...this.items.values()];
    const root = all.filter((i) => i.row.key === this.rootId).map((i) => i.row);
    const replies = all.filter((i) => i.row.key !== this.rootId).map((i) => i.row).sort((a, b) => a.seq - b.seq || a.createdAt.getTime() - b.createdAt.getTime());
    renderRows(this.rootList, root, null, this.host.selfId);
    renderRows(this.replyList, replies, null, this.host.selfId);
    const live = all.filter((i) => i.row.key !== this.rootId && !i.message?.deleted_at).length;
    this.count.textContent = live === 0 ? "No replies yet." : replyCountLabel(live);
    this.panel.body.scrollTop = this.panel.body.scrollHeight;
  }

  private buildComposer(): HTMLTextAreaElement {
    const form = document.createElement("form");
    form.className = "composer thread-panel__composer";
    const input = document.createElement("textarea");
    input.className = "composer__input";
    input.rows = 1;
    input.maxLength = MAX_MESSAGE_CHARS;
    input.placeholder = "Reply in thread…";
    input.setAttribute("aria-label", "Reply in thread");
    const send = document.createElement("button");
    send.type = "submit";
    send.className = "btn btn--primary btn--sm";
    send.textContent = "Send";
    form.append(input, send);
    const submit = () => {
      const text = input.value.trim();
      if (!text) return;
      input.value = "";
      void this.send(crypto.randomUUID(), text);
    };
    submitOnEnter(form, input, submit);
    this.panel.footer.append(form);
    return input;
  }

  /** Shown at once as pending; sent (the controller's echo or the answer confirms it) or failed with Retry. */
  private async send(clientId: string, text: string): Promise<void> {
    const key = `pending:${clientId}`;
    let item = this.items.get(key);
    if (!item) {
      const el = createMessageElement(key, null);
      showText(el, text);
      item = { row: { key, seq: Infinity, authorId: this.host.selfId, authorName: this.host.nameOf(this.host.selfId), createdAt: new Date(), el }, message: null, text };
      this.items.set(key, item);
      this.render();
    }
    setSendState(item.row.el, "pending");
    try {
      const message = await this.host.send({ clientId, text, threadRootId: this.rootId });
      await this.onMessage(message);
    } catch (error) {
      const err = error instanceof ApiError ? error : new ApiError(0, "ERROR", String(error));
      if (this.items.get(key)) setSendState(item.row.el, "failed", () => void this.send(clientId, text), err.message);
    }
  }
}

function list(label: string): HTMLOListElement {
  const ol = document.createElement("ol");
  ol.className = "messages thread-panel__list";
  ol.setAttribute("aria-label", label);
  return ol;
}
