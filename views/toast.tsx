// Toasts live in the Layout's #toasts region (aria-live). The server can send one as an
// out-of-band fragment: <Toast oob ... /> appends it there; the client auto-dismisses it.
import type { FC } from "hono/jsx";

export type ToastTone = "info" | "success" | "warning" | "error";

export type ToastProps = {
  message: string;
  title?: string;
  tone?: ToastTone;
  /** Wrap for an htmx out-of-band append into #toasts. */
  oob?: boolean;
  /** Errors stay until dismissed; the rest fade after a few seconds. */
  sticky?: boolean;
};

export const TOAST_REGION_ID = "toasts";

export const Toast: FC<ToastProps> = ({ message, title, tone = "info", oob = false, sticky }) => {
  const keep = sticky ?? tone === "error";
  const toast = (
    <div class={`toast toast--${tone}`} role={tone === "error" ? "alert" : "status"} data-toast data-sticky={keep ? "true" : undefined}>
      <span class="toast__mark" aria-hidden="true" />
      <div class="toast__body">
        {title ? <p class="toast__title">{title}</p> : null}
        <p class="toast__message">{message}</p>
      </div>
      <button type="button" class="icon-btn icon-btn--sm toast__close" data-dismiss aria-label="Dismiss notification">
        <svg viewBox="0 0 20 20" aria-hidden="true" focusable="false">
          <path d="M5.3 5.3a1 1 0 0 1 1.4 0L10 8.6l3.3-3.3a1 1 0 1 1 1.4 1.4L11.4 10l3.3 3.3a1 1 0 0 1-1.4 1.4L10 11.4l-3.3 3.3a1 1 0 0 1-1.4-1.4L8.6 10 5.3 6.7a1 1 0 0 1 0-1.4Z" />
        </svg>
      </button>
    </div>
  );
  return oob ? (
    <div hx-swap-oob={`beforeend:#${TOAST_REGION_ID}`}>{toast}</div>
  ) : (
    toast
  );
};
