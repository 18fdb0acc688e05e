// A shown conversation's decryption states (controller.ts): each message's text, or what it
// waits for, and retrying what waits when keys arrive.

import type { DecryptOutcome } from "./engine.ts";
import type { ChatMessage } from "./types.ts";
import { showCallRecord, showNotice, showText, showWebhook } from "./view.ts";
import { loadFilesUi } from "./files-hook.ts";
import { collapseBlocked } from "./blocked.ts";
import { ChannelThreads } from "./channel-threads.ts";
import { noteDecrypted } from "./search-hook.ts";

/** A message's files under its text (the files UI bundle draws them); none: whatever was there goes. */
export function showFiles(msg: HTMLElement, files: unknown[] | undefined): void {
  if (files?.length) void loadFilesUi().then((m) => m.renderAttachments(msg, files), () => {});
  else msg.querySelector(".msg__files")?.remove();
}

export abstract class ChannelDecrypt extends ChannelThreads {
  /** For the panels: the text the timeline already decrypted, else a decryption of their own. */
  protected override async decryptText(message: ChatMessage): Promise<DecryptOutcome> {
    const entry = this.entries.get(message.id);
    if (message.webhook) return { status: "ok", text: message.webhook.content };
    if (entry?.text !== undefined && entry.message?.ciphertext === message.ciphertext) return { status: "ok", text: entry.text };
    return this.engine.decrypt(message);
  }

  protected async decryptInto(message: ChatMessage, msg: HTMLElement): Promise<void> {
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
      noteDecrypted(message, outcome.text, outcome.files);
      // The reader's own mentions are highlighted: their name, and a permitted @everyone / @here.
      const c = this.config;
      if (outcome.preview) void import("./link-preview.ts").then((m) => m.showPreview(msg, outcome.preview));
      if (outcome.call) showCallRecord(msg, outcome.call);
      else showText(msg, outcome.text, { isKnownUser: (n) => this.isKnownUser(n), selfUsername: c.names.get(c.selfId), mentionAll: message.mention_all });
      msg.classList.toggle("msg--mentioned", !outcome.call && message.sender_id !== c.selfId && (message.mentions.includes(c.selfId) || message.mention_all !== null));
      showFiles(msg, outcome.files);
      // Forwarded (issue 17 §6): said inside the ciphertext, shown above the text.
      msg.querySelector(".msg__fwd")?.remove();
      if (outcome.forwarded !== undefined) msg.querySelector(".msg__text")?.before(Object.assign(document.createElement("p"), { className: "msg__fwd", textContent: outcome.forwarded ? `Forwarded from ${outcome.forwarded}` : "Forwarded" }));
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
  protected refreshReplies(): void {
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
  protected ensureRetryTimer(): void {
    this.retryTimer ??= setInterval(() => {
      void this.engine.processToDevice().then(() => this.retryWaiting()).catch(() => {});
    }, 4_000);
  }
}
