// A shown conversation's messages as drawn (controller.ts): reply lines, reactions, the thread
// button and the message menu (message-menu.ts) with its actions: react, reply, edit, delete.

import { callApi } from "./api.ts";
import { type ChatMessage, normaliseMessage, type Reaction } from "./types.ts";
import { renderReactions, replyCountLabel, showText } from "./view.ts";
import { renderMessageMenu } from "./message-menu.ts";
import { openInlineEditor } from "./inline-editor.ts";
import { withCurrentReaders } from "./sender.ts";
import { loadFilesUi } from "./files-hook.ts";
import { ChannelBase } from "./channel-base.ts";

export abstract class ChannelMenu extends ChannelBase {
  protected decorate(message: ChatMessage, msg: HTMLElement): void {
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
    if (message.edited_at) msg.append(this.editedMark(message));
    renderReactions(msg, message.reactions, (emoji, me) => void this.react(message.id, emoji, me));
    this.renderThreadButton(message, msg);
    this.addMenu(message, msg);
  }

  /** "(edited)": a button opening the edit history (history-ui.ts in the extras chunk). */
  protected editedMark(message: ChatMessage): HTMLButtonElement {
    const b = Object.assign(document.createElement("button"), { type: "button", className: "btn btn--ghost btn--sm msg__edited", textContent: "(edited)" });
    b.setAttribute("aria-label", "Edited: show the edit history");
    b.addEventListener("click", () => void this.extras?.then((x) => x.openEditHistory(message, this.entries.get(message.id), b)));
    return b;
  }

  /** "N replies" on a thread root; updated in place, so it stays the thread panel's opener (focus returns to it). */
  protected renderThreadButton(message: ChatMessage, msg: HTMLElement): void {
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
  protected override redecorate(messageId: string | null): void {
    const entries = messageId === null ? [...this.entries.values()] : [this.entries.get(messageId)];
    for (const entry of entries) if (entry?.message) this.decorate(entry.message, entry.row.el);
    this.thread?.redecorate(messageId);
  }

  /** The thread panel's copies: the same reactions and menu (no Reply/Thread), the same actions. */
  protected decorateCopy(message: ChatMessage, el: HTMLElement, onlyReactions = false): void {
    if (!onlyReactions) {
      el.querySelector(".msg__edited")?.remove();
      if (message.edited_at) el.append(this.editedMark(message));
    }
    renderReactions(el, message.reactions, (emoji, me) => void this.react(message.id, emoji, me));
    if (!onlyReactions) this.addMenu(message, el, true);
  }

  // ---- message menu --------------------------------------------------------------------------

  /** inPanel: the thread panel's copy (thread-panel.ts): no Reply or Thread, the same actions. */
  protected addMenu(message: ChatMessage, msg: HTMLElement, inPanel = false): void {
    const mine = (emoji: string) => !!this.copyOf(message.id, inPanel)?.message.reactions.find((r) => r.emoji === emoji)?.me;
    renderMessageMenu(msg, message, { selfId: this.config.selfId, scheme: this.config.scheme, pinned: !!this.pins?.isPinned(message.id), canPin: this.pins?.canPin ?? null }, {
      reply: inPanel ? undefined : () => this.setReply(message.id),
      replyInThread: inPanel ? undefined : () => void this.openThread(message.id, msg.querySelector<HTMLElement>(".msg__actions button[aria-label='Reply in thread']")),
      react: (emoji) => void this.react(message.id, emoji, mine(emoji)),
      reactMore: (anchor) => void this.extras?.then((x) => x.openReactionPicker(anchor, (emoji) => this.react(message.id, emoji, mine(emoji), true))),
      edit: () => this.startEdit(message.id, inPanel),
      setPinned: (pinned) => void this.pins?.setPinned(message.id, pinned),
      bookmark: (anchor) => void this.extras?.then((x) => x.openBookmarkDialog(message.id, anchor)),
      forward: (anchor) => void this.extras?.then((x) => x.openForward(this.copyOf(message.id, inPanel)?.text, this.entries.get(message.id), anchor)),
      remove: (anchor) => void this.extras?.then((x) => x.confirmDeleteMessage(anchor)).then((yes) => (yes ? this.remove(message.id) : undefined)),
      report: document.querySelector("dialog[data-report-dialog]")
        ? (anchor) => void this.extras?.then((x) => x.openReportMessage(message.id, this.entries.get(message.id)?.row.authorName ?? "someone", this.copyOf(message.id, inPanel)?.text, anchor, this.entries.get(message.id)?.files, loadFilesUi))
        : undefined,
    });
  }

  /** `rethrow`: the emoji picker shows the server's refusal (e.g. TOO_MANY_REACTIONS) itself. */
  protected async react(messageId: string, emoji: string, me: boolean, rethrow = false): Promise<void> {
    try {
      const answer = await callApi<{ reactions: Reaction[] }>(me ? "DELETE" : "PUT", `/api/messages/${messageId}/reactions/${encodeURIComponent(emoji)}`);
      this.onReactions(messageId, answer.reactions, { emoji, me: !me });
    } catch (error) {
      if (rethrow) throw error;
      document.dispatchEvent(new CustomEvent("chat:error", { detail: (error as Error).message }));
    }
  }

  protected setReply(messageId: string): void {
    const target = this.entries.get(messageId);
    this.composer.setReply(messageId, target?.row.authorName);
  }

  /** Inline editor (inline-editor.ts): Enter saves, re-encrypted like a new message. */
  protected startEdit(messageId: string, inPanel = false): void {
    const copy = this.copyOf(messageId, inPanel);
    if (copy?.text === undefined) return;
    openInlineEditor(copy.el, copy.text, (next) => this.saveEdit(messageId, next));
  }

  /** Both copies follow: the timeline's and an open thread panel's. */
  protected async saveEdit(messageId: string, text: string): Promise<void> {
    const entry = this.entries.get(messageId);
    if (!entry?.message && !this.thread?.copy(messageId)) return;
    // The version on screen now, taken before the PATCH: our own message:edited echo can arrive
    // before its answer and replace entry.message, and the key kept must be named after the old
    // version, not the new one (else the history cannot read the old version).
    const previous = entry?.message?.ciphertext ?? this.thread?.copy(messageId)?.message.ciphertext ?? null;
    // Re-encrypted like a new message, for the readers of now (sender.ts), with their version.
    const answer = await withCurrentReaders(this.engine, this.config, text, async (ciphertext, viewerVersion, remember) => {
      const result = await callApi<{ message: unknown }>("PATCH", `/api/messages/${messageId}`, { ciphertext, viewer_version: viewerVersion, sender_device_id: this.engine.deviceId });
      await this.engine.keepVersionKey(messageId, previous);
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

  protected async remove(messageId: string): Promise<void> {
    try {
      await callApi("DELETE", `/api/messages/${messageId}`);
      const copy = this.copyOf(messageId, false) ?? this.copyOf(messageId, true);
      if (copy) this.onDeleted(messageId, copy.message.seq);
    } catch (error) {
      document.dispatchEvent(new CustomEvent("chat:error", { detail: (error as Error).message }));
    }
  }
}
