// The status <select> of the account menu (views/user-menu.tsx): enabled once the socket is open,
// set from GET /api/presence, and sends presence:set. The user's own presence:changed frames
// (self: true, from any of their devices) keep it current.
import type { HubClient } from "../ws.ts";

const STATUSES = ["online", "idle", "dnd", "invisible"];
let installed = false;

function pickers(): HTMLSelectElement[] {
  return [...document.querySelectorAll<HTMLSelectElement>("select[data-presence-picker]")];
}

export function onOwnPresence(status: string): void {
  if (!STATUSES.includes(status)) return;
  for (const select of pickers()) select.value = status;
}

export function installPresencePicker(hub: HubClient, selfId: string): void {
  for (const select of pickers()) select.disabled = false;
  void fetch(`/api/presence?user_ids=${encodeURIComponent(selfId)}`, { credentials: "same-origin" })
    .then((r) => (r.ok ? (r.json() as Promise<{ presence?: Record<string, string> }>) : null))
    .then((body) => {
      const status = body?.presence?.[selfId];
      if (status) onOwnPresence(status === "offline" ? "online" : status);
    })
    .catch(() => {});
  if (installed) return;
  installed = true;
  document.addEventListener("change", (event) => {
    const select = event.target as HTMLSelectElement;
    if (!select.matches?.("select[data-presence-picker]")) return;
    if (STATUSES.includes(select.value)) hub.send({ type: "presence:set", status: select.value as "online" });
  });
  // Boosted navigation brings a new menu: enable it too.
  document.addEventListener("htmx:after:swap", () => {
    for (const select of pickers()) select.disabled = !hub.isOpen;
  });
}
