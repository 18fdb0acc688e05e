/**
 * The service worker (served as /sw.js by src/features/notifications/pwa.tsx, scope "/"). Three
 * jobs, nothing else:
 *
 *  1. Offline shell: a page navigation that fails (no network) answers with the cached /offline
 *     page. Navigations are never cached: authenticated pages stay network-only.
 *  2. Static assets: public/build and public/vendor are content-hashed and immutable; they are
 *     served cache-first so the offline shell has its stylesheet and scripts. Nothing else (no
 *     API answer, no file, no page) is ever put in the cache, so no decrypted content or
 *     authenticated data can be read back from it.
 *  3. Notifications: a push shows "who, where, how many" from the payload (it never carries
 *     message text; a DM call's ring shows "Incoming call from …"); an open tab hands over the
 *     server's `notify:message` frame (src/client/live/desktop-notify.ts), shown once per message
 *     whatever the number of tabs, and not while one of them has the focus. A click focuses a
 *     tab and opens the conversation there (or a new window when there is no tab).
 *
 * `self.HEARTH_SW` (version, precache list, offline path) is prepended by the server.
 */
import { describePush, type PushView } from "./describe.ts";

type SwConfig = { version: string; precache: string[]; offline: string };
type ExtendableEvent = Event & { waitUntil(p: Promise<unknown>): void };
type FetchEvent = ExtendableEvent & { request: Request; preloadResponse?: Promise<Response | undefined>; respondWith(r: Response | Promise<Response>): void };
type PushEvent = ExtendableEvent & { data: { json(): unknown } | null };
type NotificationEvent = ExtendableEvent & { notification: Notification & { data: unknown; close(): void } };
type WindowClient = { url: string; focused: boolean; visibilityState: string; focus(): Promise<WindowClient>; navigate(url: string): Promise<WindowClient | null> };
type MessageEvent = ExtendableEvent & { data: unknown };
type Scope = {
  HEARTH_SW: SwConfig;
  location: Location;
  registration: {
    navigationPreload?: { enable(): Promise<void> };
    showNotification(title: string, options: NotificationOptions & { data?: unknown }): Promise<void>;
    getNotifications(filter?: { tag?: string }): Promise<(Notification & { data: unknown })[]>;
  };
  clients: { claim(): Promise<void>; matchAll(o: { type: "window"; includeUncontrolled: boolean }): Promise<WindowClient[]>; openWindow(url: string): Promise<unknown> };
  skipWaiting(): Promise<void>;
  addEventListener(type: string, listener: (event: never) => void): void;
};

const sw = self as unknown as Scope;
const config = sw.HEARTH_SW;
const CACHE = `hearth-static-${config.version}`;
const STATIC = /^\/public\/(build|vendor)\//;

type InstallEvent = ExtendableEvent & { addRoutes?(rules: unknown[]): Promise<void> };

sw.addEventListener("install", (event: InstallEvent) => {
  // Only navigations and static assets need this worker; everything else (API calls, files,
  // the socket) goes straight to the network without waking it (Chromium's static routing;
  // other browsers run the fetch handler, which lets those requests through untouched).
  const routes =
    event.addRoutes && typeof URLPattern === "function"
      ? event
          .addRoutes([
            { condition: { requestMode: "navigate" }, source: "fetch-event" },
            // Static assets run the worker: it fills its cache as they are first fetched (a route
            // straight to the cache would never fill it for the chat bundles, which are not precached).
            { condition: { urlPattern: new URLPattern({ pathname: "/public/*" }) }, source: "fetch-event" },
            { condition: { urlPattern: new URLPattern({ pathname: "/*" }) }, source: "network" },
          ])
          .catch(() => {})
      : Promise.resolve();
  event.waitUntil(
    Promise.all([routes, caches.open(CACHE).then((cache) => cache.addAll(config.precache))]).then(() => sw.skipWaiting()),
  );
});

sw.addEventListener("activate", (event: ExtendableEvent) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("hearth-") && k !== CACHE).map((k) => caches.delete(k))))
      // The page's request starts while the worker boots, instead of after it (navigation preload).
      .then(() => sw.registration.navigationPreload?.enable().catch(() => {}))
      .then(() => sw.clients.claim()),
  );
});

sw.addEventListener("fetch", (event: FetchEvent) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== sw.location.origin) return;
  if (request.mode === "navigate") {
    const preloaded = event.preloadResponse ?? Promise.resolve(undefined);
    event.respondWith(
      preloaded
        .then((r) => r ?? fetch(request))
        .catch(() => caches.match(config.offline).then((r) => r ?? Response.error())),
    );
    return;
  }
  if (!STATIC.test(url.pathname)) return;
  event.respondWith(
    caches.open(CACHE).then(async (cache) => {
      const hit = await cache.match(request);
      if (hit) return hit;
      const response = await fetch(request);
      if (response.ok && response.type === "basic") await cache.put(request, response.clone());
      return response;
    }),
  );
});

/** A same-origin path, or "/" (a payload never sends the user elsewhere). */
const pathOf = (url: unknown): string => (typeof url === "string" && url.startsWith("/") && !url.startsWith("//") ? url : "/");
const ICON = config.precache.find((u) => /icon-192/.test(u));

function show(payload: PushView & { message_id?: string }): Promise<void> {
  const { title, body } = describePush(payload);
  // One notification per conversation (a newer one replaces it, its count says how many), one per ringing call.
  const tag = payload.type === "call" ? `call:${payload.channel_id ?? ""}` : (payload.channel_id ?? "hearth");
  return sw.registration.showNotification(title, { body, tag, icon: ICON, data: { url: pathOf(payload.url), ...(payload.message_id ? { message_id: payload.message_id } : {}) } });
}

// Notifications are shown one at a time, in the order they came (pushes and tabs' frames alike):
// every tab of the user hands over the same frame, and the second must see the first's outcome.
let queue: Promise<unknown> = Promise.resolve();
const enqueue = (work: () => Promise<void>): Promise<unknown> => (queue = queue.then(work).catch(() => {}));

sw.addEventListener("push", (event: PushEvent) => {
  let payload: PushView = {};
  try {
    payload = (event.data?.json() ?? {}) as PushView;
  } catch {
    payload = {};
  }
  event.waitUntil(enqueue(() => show(payload)));
});

const seen: string[] = [];

async function showFromTab(frame: PushView & { message_id?: string }): Promise<void> {
  const id = frame.message_id;
  if (typeof id !== "string" || seen.includes(id)) return;
  seen.push(id);
  if (seen.length > 200) seen.shift();
  const windows = await sw.clients.matchAll({ type: "window", includeUncontrolled: true });
  if (windows.some((w) => w.focused && w.visibilityState === "visible")) return;
  // The worker may have been restarted between two tabs' messages: the shown one carries the id.
  const shown = await sw.registration.getNotifications({ tag: frame.channel_id ?? "hearth" });
  if (shown.some((n) => (n.data as { message_id?: string } | null)?.message_id === id)) return;
  await show(frame);
}

sw.addEventListener("message", (event: MessageEvent) => {
  const data = event.data as { type?: string; frame?: unknown } | null;
  if (data?.type !== "hearth:notify" || typeof data.frame !== "object" || data.frame === null) return;
  const frame = data.frame as PushView & { message_id?: string };
  event.waitUntil(enqueue(() => showFromTab({ ...frame, type: "message" })));
});

sw.addEventListener("notificationclick", (event: NotificationEvent) => {
  event.notification.close();
  const target = new URL(pathOf((event.notification.data as { url?: string } | null)?.url), sw.location.origin).href;
  event.waitUntil(
    sw.clients.matchAll({ type: "window", includeUncontrolled: true }).then(async (windows) => {
      const same = windows.find((w) => w.url === target);
      if (same) return same.focus();
      // The tab the user was in last (matchAll lists the most recently focused first); focus it
      // while the click still allows it, then take it to the conversation.
      const tab = windows.find((w) => w.focused) ?? windows[0];
      if (tab) {
        const focused = await tab.focus().catch(() => tab);
        const moved = await focused.navigate(target).catch(() => null);
        if (moved) return moved;
      }
      return sw.clients.openWindow(target);
    }),
  );
});
