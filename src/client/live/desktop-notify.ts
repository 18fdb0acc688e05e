// Desktop notifications while a tab is open (issue 13 §5; docs/notifications.md). The server
// decides who is notified (the same rule as push: levels, mutes, do-not-disturb) and sends each
// such user one `notify:message` frame: who, where, how many, no text. Every open tab of the user
// gets it; a tab that is looked at (visible and focused) drops it, the others hand it to the
// service worker, which shows it once (one per message however many tabs, and none while any of
// the user's tabs has the focus) and opens the conversation on click, like a push.
//
// `notify:settings` says the user's notification settings changed on some device: the settings
// page's forms are live regions and are re-read.
//
// A lazy chunk of live.js: loaded on the first such frame.
import type { EventFrame } from "../../shared/protocol.ts";
import { refreshRegions } from "./regions.ts";

export function onNotifyFrame(frame: EventFrame): void {
  if (frame.type === "notify:settings") return refreshRegions();
  if (frame.type !== "notify:message") return;
  if (!("Notification" in window) || Notification.permission !== "granted" || !("serviceWorker" in navigator)) return;
  if (document.visibilityState === "visible" && document.hasFocus()) return;
  const f = frame as Record<string, unknown>;
  // The service worker renders pushes; the same fields, in the push payload's spelling.
  const payload = {
    message_id: f.messageId,
    channel_id: f.channelId,
    community_id: f.communityId,
    kind: f.kind,
    sender_id: f.senderId,
    sender_name: f.senderName,
    channel_name: f.channelName,
    community_name: f.communityName,
    mention: f.mention,
    count: f.count,
    url: f.url,
  };
  void navigator.serviceWorker.ready.then((registration) => registration.active?.postMessage({ type: "hearth:notify", frame: payload })).catch(() => {});
}
