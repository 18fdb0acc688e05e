// "This device was signed out of encryption": shown where the user writes when the server says
// this device is no longer registered (a send or key distribution answered 400 UNKNOWN_DEVICE, or
// keys:changed names this device as revoked). Sending cannot work until the device is set up
// again, so nothing is resent automatically; the button re-runs device bootstrap through the key
// service as a new device (ChatEngine.resetDevice) and reloads the page to start clean.
// Plain DOM (textContent only), keyboard reachable, wraps at 360 px. Part of the lazy chunk
// (extras-ui.ts): a rare path, so chat.js does not carry it.

import { h as el } from "./ui-kit.ts";

/** Shows the banner once above the composer (or at the top of `host`); idempotent. */
export function showDeviceRevoked(host: HTMLElement, before: Node | null, reset: () => Promise<void>, reload: () => void = () => location.reload()): HTMLElement {
  const existing = host.querySelector<HTMLElement>("[data-device-revoked]");
  if (existing) return existing;
  const banner = el("section", "e2ee-banner e2ee-banner--warning");
  banner.dataset.deviceRevoked = "";
  banner.setAttribute("role", "alert");
  banner.setAttribute("aria-label", "Encryption on this device");
  banner.append(
    el("p", "e2ee-banner__title", "This device was signed out of encryption"),
    el("p", "e2ee-banner__text", "It was removed from your account's devices (from another device or the settings), so messages cannot be sent from it. Set it up again to keep chatting; your other devices are not affected."),
  );
  const row = el("div", "e2ee-banner__form");
  const setUp = el("button", "btn btn--primary btn--sm", "Set up encryption again");
  setUp.type = "button";
  const status = el("p", "e2ee-banner__status");
  status.setAttribute("role", "status");
  setUp.addEventListener("click", async () => {
    setUp.disabled = true;
    status.textContent = "Setting up encryption on this device…";
    try {
      await reset();
      status.textContent = "Done. Reloading…";
      reload();
    } catch (error) {
      status.textContent = `Could not set up encryption: ${(error as Error).message} Try again, or reload the page.`;
      setUp.disabled = false;
      setUp.focus();
    }
  });
  row.append(setUp);
  banner.append(row, status);
  host.insertBefore(banner, before && before.parentNode === host ? before : host.firstChild);
  return banner;
}
