// Instance announcements (docs/admin.md "Announcements"), a lazy chunk of live.js loaded on the
// first `announcement:*` frame. `announcement:changed` (instance-wide: published, edited,
// expired) and `announcement:dismissed` (this user closed one on another device) carry no text:
// the tab re-fetches its banner, rendered and escaped by the server for this user, and replaces
// the layout's #announcement-banner region with it. Frames close together cause one fetch.
import type { EventFrame } from "../../shared/protocol.ts";

const REGION_ID = "announcement-banner";
let timer: ReturnType<typeof setTimeout> | undefined;

export function onAnnouncementFrame(frame: EventFrame): void {
  if (frame.type !== "announcement:changed" && frame.type !== "announcement:dismissed") return;
  if (!document.getElementById(REGION_ID)) return;
  clearTimeout(timer);
  timer = setTimeout(() => void refreshBanner(), 100);
}

async function refreshBanner(): Promise<void> {
  const res = await fetch("/announcements/banner", { credentials: "same-origin", headers: { accept: "text/html" } }).catch(() => null);
  if (!res?.ok) return;
  const doc = new DOMParser().parseFromString(await res.text(), "text/html");
  const fresh = doc.getElementById(REGION_ID);
  const current = document.getElementById(REGION_ID);
  if (!fresh || !current) return;
  // Keep the keyboard user inside the banner from being dropped on <body>: focus moves to main.
  const hadFocus = current.contains(document.activeElement);
  const node = document.importNode(fresh, true);
  current.replaceWith(node);
  (window as unknown as { htmx?: { process?(el: Element): void } }).htmx?.process?.(node);
  if (hadFocus) document.getElementById("main")?.focus();
}
