/**
 * Notifications (issue 13 §4, §6, §7; docs/notifications.md):
 *   shouldNotify(deps, userId, event)   the one rule (settings, mutes, do-not-disturb)
 *   notificationApiRoutes(deps)         settings and push subscription API
 *   notificationPages(deps)             /settings/notifications
 *   pwaRoutes(deps)                     /manifest.webmanifest, /sw.js, /offline
 *   installNotifications(deps)          on new messages: a frame to open tabs, web push to the others (VAPID keys set)
 *   notifyRing(deps, ring)              a DM call's ring pushed to callees with no open tab
 *   startPushJobs(deps)                 prunes failing and signed-out subscriptions (main.ts)
 */
import type { AppDeps } from "../../deps.ts";
import { onSessionsRevoked } from "../auth/index.ts";
import { onMessageCreated } from "../messages/index.ts";
import { dispatchMessage, track } from "./dispatch.ts";

export { shouldNotify, usersToNotify, MUTE_FOREVER, type NotifyEvent } from "./settings.ts";
export { notificationApiRoutes } from "./routes.ts";
export { notificationPages } from "./pages.tsx";
export { pwaRoutes } from "./pwa.tsx";
export { prunePushSubscriptions, startPushJobs } from "./jobs.ts";
export { pushSettled, type NotifyFrame, type PushPayload } from "./dispatch.ts";
export { notifyRing, type CallPushPayload } from "./calls.ts";

const installed = new WeakMap<AppDeps, () => void>();

/** Idempotent per deps; createApp calls it. Returns the uninstall function. */
export function installNotifications(deps: AppDeps): () => void {
  const existing = installed.get(deps);
  if (existing) return existing;
  const offs: (() => void)[] = [];
  // Desktop notifications need no VAPID keys: open tabs are told over their socket.
  offs.push(
    onMessageCreated(deps, (message) => {
      track(
        deps,
        dispatchMessage(deps, message).catch((error: unknown) => deps.log.warn("notify.dispatch_failed", { error: error instanceof Error ? error.message : String(error) })),
      );
    }),
  );
  // A signed-out device gets no more pushes (listTargets skips it too; this frees the row).
  offs.push(
    onSessionsRevoked(deps, (userId, sessionIds) => {
      let q = deps.database.db.deleteFrom("push_subscriptions").where("user_id", "=", userId);
      if (sessionIds !== "all") q = q.where("session_id", "in", sessionIds.length > 0 ? sessionIds : ["00000000-0000-0000-0000-000000000000"]);
      track(deps, q.execute().catch(() => {}));
    }),
  );
  const off = () => {
    for (const f of offs) f();
    installed.delete(deps);
  };
  installed.set(deps, off);
  return off;
}
