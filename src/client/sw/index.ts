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
 *  3. Push: shows "who, where, how many" from the payload (it never carries message text) and
 *     opens the conversation on click.
 *
 * `self.HEARTH_SW` (version, precache list, offline path) is prepended by the server.
 */
import { describePush, type PushView } from "./describe.ts";

type SwConfig = { version: string; precache: string[]; offline: string };
type ExtendableEvent = Event & { waitUntil(p: Promise<unknown>): void };
type FetchEvent = ExtendableEvent & { request: Request; respondWith(r: Response | Promise<Response>): void };
type PushEvent = ExtendableEvent & { data: { json(): unknown } | null };
type NotificationEvent = ExtendableEvent & { notification: Notification & { data: unknown; close(): void } };
type WindowClient = { url: string; focus(): Promise<unknown>; navigate(url: string): Promise<unknown> };
type Scope = {
  HEARTH_SW: SwConfig;
  location: Location;
  registration: { showNotification(title: string, options: NotificationOptions & { data?: unknown }): Promise<void> };
  clients: { claim(): Promise<void>; matchAll(o: { type: "window"; includeUncontrolled: boolean }): Promise<WindowClient[]>; openWindow(url: string): Promise<unknown> };
  skipWaiting(): Promise<void>;
  addEventListener(type: string, listener: (event: never) => void): void;
};

const sw = self as unknown as Scope;
const config = sw.HEARTH_SW;
const CACHE = `hearth-static-${config.version}`;
const STATIC = /^\/public\/(build|vendor)\//;

sw.addEventListener("install", (event: ExtendableEvent) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(config.precache))
      .then(() => sw.skipWaiting()),
  );
});

sw.addEventListener("activate", (event: ExtendableEvent) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("hearth-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => sw.clients.claim()),
  );
});

sw.addEventListener("fetch", (event: FetchEvent) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== sw.location.origin) return;
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(() => caches.match(config.offline).then((r) => r ?? Response.error())));
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

sw.addEventListener("push", (event: PushEvent) => {
  let payload: PushView = {};
  try {
    payload = (event.data?.json() ?? {}) as PushView;
  } catch {
    payload = {};
  }
  const { title, body } = describePush(payload);
  const url = typeof payload.url === "string" && payload.url.startsWith("/") && !payload.url.startsWith("//") ? payload.url : "/";
  const icon = config.precache.find((u) => /icon-192/.test(u));
  event.waitUntil(sw.registration.showNotification(title, { body, tag: payload.channel_id ?? "hearth", icon, data: { url } }));
});

sw.addEventListener("notificationclick", (event: NotificationEvent) => {
  event.notification.close();
  const data = event.notification.data as { url?: string } | null;
  const target = new URL(data?.url ?? "/", sw.location.origin).href;
  event.waitUntil(
    sw.clients.matchAll({ type: "window", includeUncontrolled: true }).then(async (windows) => {
      const same = windows.find((w) => w.url === target);
      if (same) return same.focus();
      const any = windows[0];
      if (any) return any.navigate(target).then(() => any.focus());
      return sw.clients.openWindow(target);
    }),
  );
});
