// A shown conversation's sends (controller.ts): optimistic rows, encryption and the send path
// (sender.ts), failures with Retry and automatic resends (resend.ts), and the server's copy.

import { ApiError } from "./api.ts";
import { authorName, type ChatMessage } from "./types.ts";
import { createMessageElement, setSendState, showText } from "./view.ts";
import { type Attached, encryptAndSend } from "./sender.ts";
import { composerNotice } from "./composer.ts";
import { ChannelDecrypt, showFiles } from "./channel-decrypt.ts";

export abstract class ChannelSend extends ChannelDecrypt {
  override async send(text: string, replyTo: string | null = null, files?: Attached): Promise<void> {
    // A verified reader's keys changed, or the server's identity did: ask first (trust-ui.ts; a
    // refusal puts the text back in the composer).
    if (this.trust && !(await this.trust.then((t) => t.beforeSend(text)).catch(() => true))) return;
    const item = this.queue.enqueue(this.config.channelId, text, replyTo ?? undefined);
    item.files = files;
    const key = `pending:${item.clientId}`;
    const msg = createMessageElement(key, null);
    showText(msg, text);
    showFiles(msg, files?.files);
    if (files?.preview) void import("./link-preview.ts").then((m) => m.showPreview(msg, files.preview));
    setSendState(msg, "pending");
    this.entries.set(key, { row: { key, seq: Infinity, authorId: this.config.selfId, authorName: this.config.names.get(this.config.selfId) ?? "You", createdAt: new Date(), el: msg }, message: null, clientId: item.clientId, text, files: files?.files });
    this.renderNow();
    this.scrollToBottom();
    await this.attempt(item.clientId);
  }

  protected async attempt(clientId: string): Promise<void> {
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

  protected override async retry(clientId: string, automatic = false): Promise<void> {
    if (!automatic) this.resend.done(clientId);
    const item = this.queue.retry(clientId);
    if (!item) return;
    const entry = this.entries.get(`pending:${clientId}`);
    if (entry) setSendState(entry.row.el, "pending");
    await this.attempt(clientId);
  }

  /** The server copy of our pending send arrived (answer or echo): the row becomes a real message. */
  protected confirmOwn(clientId: string, message: ChatMessage): void {
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
}
