// The pin list of a community channel: a "Pins" button in the channel header opens a side panel
// with the pinned messages (GET /api/channels/{id}/pins), decrypted, each with "Jump to message"
// and, for people allowed to pin, "Unpin". pin:changed events keep it (and the message menus'
// Pin/Unpin) current.

import { callApi } from "./api.ts";
import type { DecryptOutcome } from "./engine.ts";
import { openSidePanel, type SidePanel } from "./side-panel.ts";
import { normaliseMessage, type ChatMessage } from "./types.ts";
import { createMessageElement, showNotice, showText } from "./view.ts";

export interface PinsHost {
  channelId: string;
  nameOf(userId: string): string;
  isKnownUser(name: string): boolean;
  decrypt(message: ChatMessage): Promise<DecryptOutcome>;
  /** Scrolls to and highlights a loaded message; false when it is not loaded (older). */
  jumpTo(messageId: string): boolean;
  /** The pinned state of a message changed (null: of every message, can_pin is known now): redraw menus. */
  pinsChanged(messageId: string | null): void;
}

export class PinsPanel {
  private readonly pinned = new Set<string>();
  /** null until the first list arrives. */
  canPin: boolean | null = null;
  private panel: SidePanel | null = null;
  private button: HTMLButtonElement | null = null;
  private loads = 0;

  constructor(private readonly host: PinsHost) {}

  isPinned(messageId: string): boolean {
    return this.pinned.has(messageId);
  }

  /** The header button; fetches the list once for the menus' Pin/Unpin. */
  async mount(header: HTMLElement | null): Promise<void> {
    if (header && !header.querySelector("[data-pins-toggle]")) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "btn btn--ghost btn--sm pane-header__pins";
      b.dataset.pinsToggle = "";
      b.textContent = "Pins";
      b.setAttribute("aria-haspopup", "dialog");
      b.addEventListener("click", () => void this.open(b));
      const before = header.querySelector(".pane-header__members-toggle");
      header.insertBefore(b, before);
      this.button = b;
    }
    await this.fetch().catch(() => []);
  }

  dispose(): void {
    this.panel?.close();
    this.button?.remove();
  }

  async setPinned(messageId: string, pinned: boolean): Promise<void> {
    try {
      await callApi(pinned ? "PUT" : "DELETE", `/api/channels/${this.host.channelId}/pins/${messageId}`);
      this.onPinChanged(messageId, pinned);
      document.dispatchEvent(new CustomEvent("chat:notice", { detail: pinned ? "Pinned." : "Unpinned." }));
    } catch (error) {
      document.dispatchEvent(new CustomEvent("chat:error", { detail: (error as Error).message }));
    }
  }

  /** pin:changed (or our own answer). */
  onPinChanged(messageId: string, pinned: boolean): void {
    const had = this.pinned.has(messageId);
    if (pinned) this.pinned.add(messageId);
    else this.pinned.delete(messageId);
    if (had !== pinned) this.host.pinsChanged(messageId);
    if (this.panel && !this.panel.closed) void this.fill();
  }

  private async fetch(): Promise<ChatMessage[]> {
    const answer = await callApi<{ messages: unknown[]; can_pin?: boolean }>("GET", `/api/channels/${this.host.channelId}/pins`);
    const messages = answer.messages.map(normaliseMessage).filter((m): m is ChatMessage => m !== null);
    const before = new Set(this.pinned);
    this.pinned.clear();
    for (const m of messages) this.pinned.add(m.id);
    const canPinChanged = this.canPin !== (answer.can_pin ?? null);
    this.canPin = answer.can_pin ?? null;
    if (canPinChanged) this.host.pinsChanged(null);
    else for (const id of new Set([...before, ...this.pinned])) if (before.has(id) !== this.pinned.has(id)) this.host.pinsChanged(id);
    return messages;
  }

  async open(opener: HTMLElement | null): Promise<void> {
    this.panel = openSidePanel("pins", "Pinned messages", opener, () => {
      this.panel = null;
    });
    await this.fill();
  }

  private async fill(): Promise<void> {
    const panel = this.panel;
    if (!panel) return;
    const load = ++this.loads;
    panel.root.setAttribute("aria-busy", "true");
    let messages: ChatMessage[];
    try {
      messages = await this.fetch();
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
    const author = Object.assign(document.createElement("span"), { className: "msg-group__author", textContent: this.host.nameOf(message.sender_id) });
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
      if (this.host.jumpTo(message.id)) this.panel?.close(false);
      else note.textContent = "This message is older than the history loaded here: scroll up in the channel to load it.";
    });
    actions.append(jump);
    if (this.canPin) actions.append(button("Unpin", () => void this.setPinned(message.id, false)));
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
