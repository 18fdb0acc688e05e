// A shown conversation's threads (controller.ts): the thread panel (thread-panel.ts), the
// roots' reply counts, and jumping to a message from the pin list.

import { encryptAndSend } from "./sender.ts";
import { ThreadPanel } from "./thread-panel.ts";
import { ChannelMenu } from "./channel-menu.ts";

export abstract class ChannelThreads extends ChannelMenu {
  /** A root's "N replies" follows live replies and deletions (the server's count at load is the start). */
  protected countReply(rootId: string, delta: number): void {
    const root = this.entries.get(rootId);
    if (!root?.message) return;
    root.message.thread_reply_count = Math.max(0, root.message.thread_reply_count + delta);
    this.decorate(root.message, root.row.el);
  }

  /** Opens the thread panel (thread-panel.ts) for a root. */
  override async openThread(rootId: string, opener: HTMLElement | null): Promise<void> {
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
  protected focusMessage(messageId: string): void {
    const el = this.entries.get(messageId)?.row.el;
    if (!el?.isConnected) return;
    const target = el.querySelector<HTMLElement>(":scope > .msg__thread") ?? el;
    if (target === el) el.tabIndex = -1;
    target.focus({ preventScroll: true });
  }

  /** Pins "Jump to message": scroll to a loaded message and highlight it. */
  protected override jumpTo(messageId: string): boolean {
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
}
