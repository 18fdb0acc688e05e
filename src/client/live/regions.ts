// Server-rendered live regions: elements with data-live-region and an id (the chat frame's rail,
// sidebar and channel header; the home hub's lists). On a change the page is fetched again and
// each region is replaced by its twin from the answer, so what the user sees is exactly what a
// reload would show, rendered (and escaped) by the server. Changes arriving close together
// cause one fetch.
import { leave } from "./notice.ts";

const DEBOUNCE_MS = 150;

export type Place = { communityId: string; channelId: string; dmId: string };

export function currentPlace(): Place {
  const path = location.pathname;
  const community = /^\/c\/([0-9a-f-]{36})(?:\/ch\/([0-9a-f-]{36}))?/.exec(path);
  const dm = /^\/dms\/([0-9a-f-]{36})$/.exec(path);
  return { communityId: community?.[1] ?? "", channelId: community?.[2] ?? "", dmId: dm?.[1] ?? "" };
}

let timer: ReturnType<typeof setTimeout> | undefined;
let running: Promise<void> | null = null;
let again = false;
const swapped = new Set<() => void>();

/** Runs after every refresh that swapped regions (badges are re-applied to the new markup). */
export function afterRefresh(callback: () => void): void {
  swapped.add(callback);
}

/** Schedules one re-fetch of the page's live regions. */
export function refreshRegions(): void {
  if (!document.querySelector("[data-live-region][id]")) return;
  clearTimeout(timer);
  timer = setTimeout(() => {
    if (running) {
      again = true;
      return;
    }
    running = refreshNow().finally(() => {
      running = null;
      if (again) {
        again = false;
        refreshRegions();
      }
    });
  }, DEBOUNCE_MS);
}

type HtmxProcess = { process?(el: Element): void };

async function refreshNow(): Promise<void> {
  const place = currentPlace();
  const res = await fetch(location.href, { credentials: "same-origin", headers: { accept: "text/html" } }).catch(() => null);
  if (!res) return;
  if (res.status === 404 || res.status === 403) return moveOut(place);
  if (!res.ok) return;
  const doc = new DOMParser().parseFromString(await res.text(), "text/html");
  const focused = document.activeElement;
  const focusHref = focused instanceof HTMLAnchorElement ? focused.getAttribute("href") : null;
  let focusLost = false;
  for (const region of document.querySelectorAll<HTMLElement>("[data-live-region][id]")) {
    const twin = doc.getElementById(region.id);
    if (!twin || !twin.hasAttribute("data-live-region")) continue;
    if (focused && region.contains(focused)) focusLost = true;
    const fresh = document.importNode(twin, true);
    region.replaceWith(fresh);
    (window as unknown as { htmx?: HtmxProcess }).htmx?.process?.(fresh);
  }
  if (doc.title) document.title = doc.title;
  // Keep the keyboard user where they were: the same link in the new markup.
  if (focusLost && focusHref) document.querySelector<HTMLElement>(`[data-live-region] a[href="${CSS.escape(focusHref)}"]`)?.focus();
  for (const callback of swapped) callback();
  // The channel on screen is no longer in the sidebar: it was deleted or hidden from this user.
  if (place.channelId && !document.querySelector(`#app-sidebar a[href="/c/${place.communityId}/ch/${place.channelId}"]`)) moveOut(place);
}

function moveOut(place: Place): void {
  if (place.channelId) return leave("That channel is no longer available to you.", `/c/${place.communityId}`);
  if (place.communityId) return leave("That community is no longer available to you.", "/");
  if (place.dmId) return leave("That conversation is no longer available.", "/dms");
}
