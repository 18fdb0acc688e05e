// A notice that survives the move to another page: "You were removed from X." is stored for this
// tab (sessionStorage) and shown as a toast by the page the user lands on, instead of the user
// meeting a bare "nothing at this address" 404.
import { showToast } from "../toasts.ts";

const KEY = "hearth.notice";

export function leave(message: string, to: string): void {
  try {
    sessionStorage.setItem(KEY, message);
  } catch {
    // storage refused (private mode quota): the move still happens, without the notice
  }
  location.assign(to);
}

export function showPendingNotice(): void {
  let message: string | null = null;
  try {
    message = sessionStorage.getItem(KEY);
    sessionStorage.removeItem(KEY);
  } catch {
    return;
  }
  if (!message) return;
  const toast = showToast(message, "warning");
  // It explains why the user is here: it stays until dismissed.
  if (toast) toast.dataset.sticky = "true";
  toast?.setAttribute("data-testid", "live-notice");
}
