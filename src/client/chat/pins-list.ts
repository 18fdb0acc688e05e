// The pin list's panel (opened by pins-panel.ts): each pinned message decrypted,
// with "Jump to message" and, for people allowed to pin, "Unpin".

import type { DecryptOutcome } from "./engine.ts";
import { openSidePanel, type SidePanel } from "./side-panel.ts";
import { authorName, type ChatMessage } from "./types.ts";
import { createMessageElement, showNotice, showText } from "./view.ts";

export interface PinListHost {
  fetch(): Promise<ChatMessage[]>;
  canPin(): boolean;
  unpin(messageId: string): Promise<void>;
  nameOf(userId: string): string;
  isKnownUser(name: string): boolean;
  decrypt(message: ChatMessage): Promise<DecryptOutcome>;
  jumpTo(messageId: string): boolean;
}

export class PinList {
  private readonly panel: SidePanel;
  private loads = 0;

  constructor(
    private readonly host: PinListHost,
    opener: HTMLElement | null,
    onClose: () => void,
  ) {
    this.panel = openSidePanel("pins", "Pinned messages", opener, onClose);
  }

  get closed(): boolean {
    return this.panel.closed;
  }

  close(): void {
    this.panel.close();
  }

  /** (Re)fills the list: at open and on every pin:changed while open. */
  async refresh(): Promise<void> {
    const panel = this.panel;
    if (panel.closed) return;
    const load = ++this.loads;
    panel.root.setAttribute("aria-busy", "true");
    let messages: ChatMessage[];
    try {
      messages = await this.host.fetch();
    } catch (error) {
      panel.body.replaceChildren(Object.assign(document.createElement("p"), { className: "side-panel__error", role: "alert", textContent: `The pins could not be loaded: ${(error as Error).message}` }));
      panel.root.removeAttribute("aria-busy");
      return;
    }
    const items = await Promise.all(messages.map((m) => this.item(m)));
    if (load !== this.loads || panel.closed) return; // a newer refresh is on its way
    const ul = document.createElement("ul");
    ul.className = "pin-list";
    ul.append(...items);
    panel.body.replaceChildren(messages.length === 0 ? Object.assign(document.createElement("p"), { className: "pin-list__empty", textContent: "Nothing is pinned in this channel yet." }) : ul);
    panel.root.removeAttribute("aria-busy");
  }

  private async item(message: ChatMessage): Promise<HTMLLIElement> {
    const li = document.createElement("li");
    li.className = "pin-list__item";
    li.dataset.messageId = message.id;
    const meta = document.createElement("p");
    meta.className = "msg-group__meta";
    const author = Object.assign(document.createElement("span"), { className: "msg-group__author", textContent: authorName(message) });
    const time = Object.assign(document.createElement("time"), { className: "msg-group__time", textContent: new Date(message.created_at).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) });
    time.dateTime = message.created_at;
    meta.append(author, time);
    const msg = createMessageElement(`pin-${message.id}`, message.id);
    if (message.deleted_at || !message.ciphertext) showNotice(msg, "deleted", "This message was deleted.");
    else {
      const outcome = await this.host.decrypt(message);
      if (outcome.status === "ok") showText(msg, outcome.text, { isKnownUser: (n) => this.host.isKnownUser(n) });
      else showNotice(msg, outcome.status, outcome.reason);
    }
    const actions = document.createElement("div");
    actions.className = "pin-list__actions";
    const note = Object.assign(document.createElement("p"), { className: "pin-list__note" });
    note.setAttribute("role", "status");
    const jump = button("Jump to message", () => {
      if (this.host.jumpTo(message.id)) this.panel.close(false);
      else note.textContent = "This message is older than the history loaded here: scroll up in the channel to load it.";
    });
    actions.append(jump);
    if (this.host.canPin()) actions.append(button("Unpin", () => void this.host.unpin(message.id)));
    li.append(meta, msg, actions, note);
    return li;
  }
}

function button(text: string, run: () => void): HTMLButtonElement {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "btn btn--secondary btn--sm";
  b.textContent = text;
  b.addEventListener("click", run);
  return b;
}
