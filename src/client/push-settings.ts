// Settings › Notifications: "Desktop notifications" ([data-desktop-notify]) and "Push
// notifications on this device" ([data-push-settings], present only when the server has VAPID
// keys). The browser's permission is asked only when the user presses "Enable desktop
// notifications" or "Turn on", never on page load. The subscription is sent to POST /api/push/subscriptions for this session;
// "Turn off" deletes it there and unsubscribes the browser.
const STORAGE_KEY = "hearth.push.subscription";

function keyBytes(base64url: string): Uint8Array<ArrayBuffer> {
  const raw = atob(base64url.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (base64url.length % 4)) % 4));
  const out = new Uint8Array(new ArrayBuffer(raw.length));
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

async function api(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(path, { method, credentials: "same-origin", headers: body === undefined ? {} : { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
}

async function mount(root: HTMLElement): Promise<void> {
  const status = root.querySelector<HTMLElement>("[data-push-status]");
  const enable = root.querySelector<HTMLButtonElement>("[data-push-enable]");
  const disable = root.querySelector<HTMLButtonElement>("[data-push-disable]");
  const key = root.dataset.pushKey;
  if (!status || !enable || !disable || !key) return;
  const show = (text: string, on: boolean | null) => {
    status.textContent = text;
    enable.hidden = on !== false;
    disable.hidden = on !== true;
  };
  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window) || !window.isSecureContext) {
    show("This browser cannot receive push notifications here (it needs HTTPS and a browser with push support).", null);
    return;
  }
  const registration = await navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(() => navigator.serviceWorker.ready);
  const save = async (subscription: PushSubscription): Promise<boolean> => {
    const res = await api("POST", "/api/push/subscriptions", subscription.toJSON());
    if (!res.ok) return false;
    localStorage.setItem(STORAGE_KEY, ((await res.json()) as { id: string }).id);
    return true;
  };
  const refresh = async () => {
    if (Notification.permission === "denied") return show("Notifications are blocked for this site in your browser's settings.", null);
    const existing = await registration.pushManager.getSubscription();
    // Re-sent on every visit: the server then knows it for this session (after a new sign-in, too).
    if (existing && Notification.permission === "granted" && (await save(existing))) return show("On for this device.", true);
    show("Off on this device.", false);
  };
  enable.addEventListener("click", async () => {
    enable.disabled = true;
    try {
      const permission = await Notification.requestPermission();
      if (permission !== "granted") return show(permission === "denied" ? "Notifications are blocked for this site in your browser's settings." : "Not turned on: the browser's permission was not given.", permission === "denied" ? null : false);
      const subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) });
      show((await save(subscription)) ? "On for this device." : "Could not turn push on. Try again.", true);
    } catch {
      show("Could not turn push on in this browser.", false);
    } finally {
      enable.disabled = false;
    }
  });
  disable.addEventListener("click", async () => {
    disable.disabled = true;
    try {
      const id = localStorage.getItem(STORAGE_KEY);
      if (id) await api("DELETE", `/api/push/subscriptions/${encodeURIComponent(id)}`);
      localStorage.removeItem(STORAGE_KEY);
      await (await registration.pushManager.getSubscription())?.unsubscribe();
      show("Off on this device.", false);
    } finally {
      disable.disabled = false;
    }
  });
  await refresh();
}

/** The desktop switch: only the browser's permission (the server decides what notifies). */
function mountDesktop(root: HTMLElement): void {
  const status = root.querySelector<HTMLElement>("[data-desktop-status]");
  const enable = root.querySelector<HTMLButtonElement>("[data-desktop-enable]");
  if (!status || !enable) return;
  const show = () => {
    const supported = "Notification" in window && "serviceWorker" in navigator && window.isSecureContext;
    const permission = supported ? Notification.permission : "unsupported";
    status.textContent = {
      granted: "On in this browser: a tab you are not looking at shows who wrote and where.",
      denied: "Blocked for this site in your browser's settings.",
      default: "Off in this browser. Your browser will ask you once.",
      unsupported: "This browser cannot show notifications here (it needs HTTPS).",
    }[permission];
    enable.hidden = permission !== "default";
  };
  enable.addEventListener("click", async () => {
    enable.disabled = true;
    try {
      await Notification.requestPermission();
    } finally {
      enable.disabled = false;
      show();
    }
  });
  show();
}

const desktop = document.querySelector<HTMLElement>("[data-desktop-notify]");
if (desktop) mountDesktop(desktop);
const root = document.querySelector<HTMLElement>("[data-push-settings]");
if (root) void mount(root).catch(() => {});
