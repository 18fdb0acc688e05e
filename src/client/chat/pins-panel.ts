// The pin list of a community channel: a "Pins" button in the channel header opens a side panel
// with the pinned messages (GET /api/channels/{id}/pins), decrypted, each with "Jump to message"
// and, for people allowed to pin, "Unpin". pin:changed events keep it (and the message menus'
// Pin/Unpin) current.

import { callApi } from "./api.ts";
import type { DecryptOutcome } from "./engine.ts";
import { normaliseMessage, type ChatMessage } from "./types.ts";

import { PinList } from "./pins-list.ts";

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
  private list: PinList | null = null;
  private button: HTMLButtonElement | null = null;

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
    this.list?.close();
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
    if (this.list && !this.list.closed) void this.list.refresh();
  }

  async fetch(): Promise<ChatMessage[]> {
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

  /** The list itself is pins-list.ts. */
  async open(opener: HTMLElement | null): Promise<void> {
    this.list?.close();
    const list = new PinList(
      {
        fetch: () => this.fetch(),
        canPin: () => this.canPin === true,
        unpin: (id) => this.setPinned(id, false),
        nameOf: this.host.nameOf,
        isKnownUser: this.host.isKnownUser,
        decrypt: this.host.decrypt,
        jumpTo: this.host.jumpTo,
      },
      opener,
      () => {
        if (this.list === list) this.list = null;
      },
    );
    this.list = list;
    await list.refresh();
  }
}
