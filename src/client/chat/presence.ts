// Presence in the browser (docs/protocol.md "Presence"): dots on member rows and 1:1 DM links
// ([data-presence-user]), filled from GET /api/presence and kept current by presence:changed;
// the status picker itself is the account menu's (views/user-menu.tsx, driven by src/client/live/).

import { callApi } from "./api.ts";

const DOT_STATUSES = ["online", "idle", "dnd", "offline"];
const LABELS: Record<string, string> = { online: "Online", idle: "Idle", dnd: "Do not disturb", invisible: "Invisible", offline: "Offline" };

export function applyPresence(userId: string, status: string): void {
  if (!DOT_STATUSES.includes(status)) status = "offline";
  for (const node of document.querySelectorAll<HTMLElement>(`[data-presence-user="${CSS.escape(userId)}"]`)) {
    if (node.classList.contains("presence-dot")) {
      node.dataset.presence = status;
      node.title = LABELS[status]!;
      continue;
    }
    node.classList.toggle("member--offline", status === "offline");
    const avatar = node.querySelector<HTMLElement>(".avatar");
    if (!avatar) continue;
    let dot = avatar.querySelector<HTMLElement>(".avatar__status");
    if (!dot) {
      dot = document.createElement("span");
      avatar.append(dot);
    }
    dot.className = `avatar__status avatar__status--${status}`;
    node.title = LABELS[status]!;
  }
}

/** Fetches the presence of every user shown on the page (and ours, for the picker). */
export async function refreshPresence(selfId: string): Promise<void> {
  const ids = new Set<string>([selfId]);
  for (const node of document.querySelectorAll<HTMLElement>("[data-presence-user]")) if (node.dataset.presenceUser) ids.add(node.dataset.presenceUser);
  const all = [...ids];
  for (let i = 0; i < all.length; i += 200) {
    const chunk = all.slice(i, i + 200);
    const { presence } = await callApi<{ presence: Record<string, string> }>("GET", `/api/presence?user_ids=${chunk.join(",")}`);
    for (const [id, status] of Object.entries(presence)) {
      if (id === selfId) setPickerValue(status === "offline" ? "online" : status);
      applyPresence(id, status === "invisible" ? "offline" : status);
    }
  }
}

function setPickerValue(status: string): void {
  const select = document.querySelector<HTMLSelectElement>("select[data-presence-picker]");
  if (select && LABELS[status]) select.value = status;
}

/** A presence:changed frame from the hub. */
export function onPresenceChanged(frame: Record<string, unknown>, selfId: string): void {
  const userId = String(frame.userId);
  const status = String(frame.status);
  if (frame.self === true) {
    setPickerValue(status);
    applyPresence(userId, status === "invisible" ? "offline" : status);
    return;
  }
  if (userId === selfId) return; // others' view of us (invisible reads as offline there)
  applyPresence(userId, status);
}

let watching = false;
let refreshTimer: ReturnType<typeof setTimeout> | undefined;
/** Rows added later (member list "show more", boosted navigation) get their dots too. */
export function watchPresenceRows(selfId: string): void {
  if (watching) return;
  watching = true;
  document.addEventListener("htmx:afterSettle", () => {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => void refreshPresence(selfId).catch(() => {}), 200);
  });
}
