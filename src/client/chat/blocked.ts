// Messages from people the user blocked (GET /api/users/blocks) are collapsed in channels and
// group DMs behind a "Show" toggle; a 1:1 DM with a blocked user cannot receive new messages.
import { callApi } from "./api.ts";

let cached: Promise<Set<string>> | null = null;

export function loadBlockedUsers(refresh = false): Promise<Set<string>> {
  if (refresh || !cached) {
    cached = callApi<{ blocks: { user_id: string }[] }>("GET", "/api/users/blocks")
      .then((r) => new Set(r.blocks.map((b) => b.user_id)))
      .catch(() => new Set<string>());
  }
  return cached;
}

/** Hides the decrypted text of `msg` behind a toggle (idempotent). */
export function collapseBlocked(msg: HTMLElement): void {
  const text = msg.querySelector<HTMLElement>(".msg__text");
  if (!text || msg.querySelector(".msg__blocked")) return;
  msg.classList.add("msg--blocked");
  text.hidden = true;
  const bar = document.createElement("p");
  bar.className = "msg__blocked";
  const label = document.createElement("span");
  label.textContent = "Message from a blocked user";
  const toggle = document.createElement("button");
  toggle.type = "button";
  toggle.className = "btn btn--ghost btn--sm";
  toggle.textContent = "Show";
  toggle.setAttribute("aria-expanded", "false");
  toggle.addEventListener("click", () => {
    const shown = text.hidden;
    text.hidden = !shown;
    toggle.textContent = shown ? "Hide" : "Show";
    toggle.setAttribute("aria-expanded", String(shown));
  });
  bar.append(label, " — ", toggle);
  text.before(bar);
}
