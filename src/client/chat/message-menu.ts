// The action bar of one message (hover/focus on desktop, always shown on touch screens). It only
// builds buttons: what each one does is the caller's (controller.ts). Add an action here by
// adding an entry to `items`.

import type { ChatMessage, Scheme } from "./types.ts";

const EDIT_WINDOW_MS = 15 * 60 * 1000;

export interface MenuState {
  selfId: string;
  scheme: Scheme;
  /** The message is in the channel's pin list. */
  pinned: boolean;
  /** May this user pin here? null while unknown (the button is offered; the server decides). */
  canPin: boolean | null;
}

export interface MenuActions {
  reply(): void;
  replyInThread(): void;
  react(emoji: string, me: boolean): void;
  edit(): void;
  setPinned(pinned: boolean): void;
  bookmark(): void;
  remove(): void;
}

type Item = { label: string; text: string; run: () => void };

export function renderMessageMenu(msg: HTMLElement, message: ChatMessage, state: MenuState, actions: MenuActions): void {
  msg.querySelector(":scope > .msg__actions")?.remove();
  if (message.deleted_at) return;
  const own = message.sender_id === state.selfId;
  const thumbsMine = !!message.reactions.find((r) => r.emoji === "👍")?.me;
  const items: (Item | false)[] = [
    { label: "Reply to message", text: "Reply", run: actions.reply },
    // Threads are one level: a thread reply (never in the main timeline) starts none.
    !message.thread_root_id && { label: "Reply in thread", text: "Thread", run: actions.replyInThread },
    { label: "React with thumbs up", text: "👍", run: () => actions.react("👍", thumbsMine) },
    own && Date.now() - Date.parse(message.created_at) < EDIT_WINDOW_MS && { label: "Edit message", text: "Edit", run: actions.edit },
    state.scheme === "sk" && state.canPin !== false && (state.pinned ? { label: "Unpin message", text: "Unpin", run: () => actions.setPinned(false) } : { label: "Pin message", text: "Pin", run: () => actions.setPinned(true) }),
    { label: "Bookmark message", text: "Bookmark", run: actions.bookmark },
    own && { label: "Delete message", text: "Delete", run: actions.remove },
  ];
  const bar = document.createElement("div");
  bar.className = "msg__actions";
  bar.setAttribute("role", "group");
  bar.setAttribute("aria-label", "Message actions");
  for (const item of items) {
    if (!item) continue;
    const b = document.createElement("button");
    b.type = "button";
    b.className = "btn btn--ghost btn--sm";
    b.textContent = item.text;
    b.setAttribute("aria-label", item.label);
    b.addEventListener("click", item.run);
    bar.append(b);
  }
  msg.append(bar);
}
