// The action bar of one message (hover/focus on desktop, always shown on touch screens). It only
// builds buttons: what each one does is the caller's (channel-menu.ts). Add an action here by
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
  /** Left out in the thread panel (its composer is the reply; threads are one level). */
  reply?(): void;
  replyInThread?(): void;
  react(emoji: string, me: boolean): void;
  /** The emoji picker, anchored to the "React…" button. */
  reactMore(anchor: HTMLElement): void;
  edit(): void;
  setPinned(pinned: boolean): void;
  /** The bookmark dialog, anchored to the "Bookmark" button (focus returns there). */
  bookmark(anchor: HTMLElement): void;
  /** Asks first (a dialog anchored to the "Delete" button). */
  remove(anchor: HTMLElement): void;
  /** Forward the text to another conversation (forward-ui.ts); left out where not offered. */
  forward?(anchor: HTMLElement): void;
  /** The page's report dialog for this message; left out where there is none (DMs). */
  report?(anchor: HTMLElement): void;
}

type Item = { label: string; text: string; run: (button: HTMLElement) => void };

/**
 * The frequent actions are inline; the rest sit behind "More" (a disclosure, not an ARIA menu:
 * plain buttons, Tab order, Escape closes). Eight inline buttons wrapped into a second row at
 * 360 px and covered the message's own controls ("N replies").
 */
export function renderMessageMenu(msg: HTMLElement, message: ChatMessage, state: MenuState, actions: MenuActions): void {
  // A live update (a reaction, an edit, the pin state) redraws the bar: keep an open More… list
  // open and the focused button focused, so the user's place is not lost under them.
  const previous = msg.querySelector<HTMLElement>(":scope > .msg__actions");
  const wasOpen = !!previous?.querySelector(".msg__more:not([hidden])");
  const focusedLabel = previous?.contains(document.activeElement) ? document.activeElement?.getAttribute("aria-label") ?? null : null;
  previous?.remove();
  if (message.deleted_at) return;
  const own = message.sender_id === state.selfId;
  const thumbsMine = !!message.reactions.find((r) => r.emoji === "👍")?.me;
  const inline: (Item | false)[] = [
    !!actions.reply && { label: "Reply to message", text: "Reply", run: actions.reply },
    // Threads are one level: a thread reply (never in the main timeline) starts none.
    !message.thread_root_id && !!actions.replyInThread && { label: "Reply in thread", text: "Thread", run: actions.replyInThread },
    { label: "React with thumbs up", text: "👍", run: () => actions.react("👍", thumbsMine) },
    { label: "Add a reaction", text: "React…", run: actions.reactMore },
  ];
  const more: (Item | false)[] = [
    own && Date.now() - Date.parse(message.created_at) < EDIT_WINDOW_MS && { label: "Edit message", text: "Edit", run: actions.edit },
    state.scheme === "sk" && state.canPin !== false && (state.pinned ? { label: "Unpin message", text: "Unpin", run: () => actions.setPinned(false) } : { label: "Pin message", text: "Pin", run: () => actions.setPinned(true) }),
    { label: "Bookmark message", text: "Bookmark", run: actions.bookmark },
    !!actions.forward && { label: "Forward message", text: "Forward", run: actions.forward },
    own && { label: "Delete message", text: "Delete", run: actions.remove },
    !own && !!actions.report && { label: "Report message", text: "Report", run: actions.report },
  ];
  const bar = document.createElement("div");
  bar.className = "msg__actions";
  bar.setAttribute("role", "group");
  bar.setAttribute("aria-label", "Message actions");
  for (const item of inline) if (item) bar.append(buttonFor(item));

  const toggle = buttonFor({ label: "More actions", text: "More…", run: () => setOpen(list.hidden) });
  toggle.setAttribute("aria-expanded", "false");
  const list = document.createElement("div");
  list.className = "msg__more";
  list.id = `${msg.id}-more`; // the root is shown twice (timeline and thread panel)
  list.setAttribute("role", "group");
  list.setAttribute("aria-label", "More actions");
  list.hidden = true;
  toggle.setAttribute("aria-controls", list.id);
  const setOpen = (open: boolean) => {
    list.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
    if (open) placeList(list);
  };
  for (const item of more) {
    if (!item) continue;
    const b = buttonFor(item);
    // Close first: an action may open a dialog and move focus away.
    b.addEventListener("click", () => setOpen(false), { capture: true });
    list.append(b);
  }
  // Escape on the open list or its toggle closes the list only (not the thread panel around it).
  bar.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || list.hidden) return;
    event.preventDefault();
    event.stopPropagation();
    setOpen(false);
    toggle.focus();
  });
  // Leaving the bar (Tab away, pointer elsewhere) closes the list.
  bar.addEventListener("focusout", (event) => {
    if (!bar.contains(event.relatedTarget as Node | null)) setOpen(false);
  });
  bar.addEventListener("pointerleave", () => {
    if (!bar.contains(document.activeElement)) setOpen(false);
  });
  if (list.childElementCount > 0) bar.append(toggle, list);
  msg.append(bar);
  if (wasOpen && list.childElementCount > 0) setOpen(true);
  if (focusedLabel) bar.querySelector<HTMLElement>(`button[aria-label="${CSS.escape(focusedLabel)}"]`)?.focus();
}

function buttonFor(item: Item): HTMLButtonElement {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "btn btn--ghost btn--sm";
  b.textContent = item.text;
  b.setAttribute("aria-label", item.label);
  b.addEventListener("click", () => item.run(b));
  return b;
}

/** Opens upward when the list would run under the composer (the bottom of the scrolling pane). */
function placeList(list: HTMLElement): void {
  list.classList.remove("msg__more--up");
  const pane = list.closest(".pane-body, .side-panel__body");
  const limit = pane ? pane.getBoundingClientRect().bottom : window.innerHeight;
  if (list.getBoundingClientRect().bottom <= limit) return;
  // The thread panel scrolls to show it instead: opening upward would cover the reply itself.
  if (pane?.classList.contains("side-panel__body")) list.scrollIntoView({ block: "nearest" });
  else list.classList.add("msg__more--up");
}
