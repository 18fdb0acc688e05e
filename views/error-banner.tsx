// Form-level error banner, and the slot it lives in. The client glue retargets non-422
// error fragments into the nearest [data-error-slot] of the submitting form (see
// src/client/htmx-errors.ts), so every htmx form should render an ErrorSlot.
import type { FC, PropsWithChildren } from "hono/jsx";

export type ErrorBannerProps = {
  /** Short headline, e.g. "Could not sign in". */
  title?: string;
  /** The public message (AppError.publicMessage). Never internal details. */
  message: string;
  /** Shown small under the message for 5xx so users can quote it to the admin. */
  requestId?: string;
  id?: string;
};

export const ErrorBanner: FC<ErrorBannerProps> = ({ title, message, requestId, id }) => (
  // tabindex=-1 lets the client move focus here when there is no invalid field to focus.
  <div class="error-banner" role="alert" tabindex={-1} id={id} data-error-banner>
    <svg class="error-banner__icon" viewBox="0 0 20 20" aria-hidden="true" focusable="false">
      <path d="M10 2a8 8 0 1 0 0 16 8 8 0 0 0 0-16Zm-.9 4h1.8v5.2H9.1V6Zm0 6.8h1.8v1.8H9.1v-1.8Z" />
    </svg>
    <div class="error-banner__body">
      {title ? <p class="error-banner__title">{title}</p> : null}
      <p class="error-banner__message">{message}</p>
      {requestId ? (
        <p class="error-banner__meta">
          Request ID: <code>{requestId}</code>
        </p>
      ) : null}
    </div>
  </div>
);

export type ErrorSlotProps = PropsWithChildren<{ id?: string }>;

/** Where form-level errors go. Empty until an error fragment arrives (or the server renders one). */
export const ErrorSlot: FC<ErrorSlotProps> = ({ id, children }) => (
  <div class="error-slot" id={id} data-error-slot>
    {children}
  </div>
);
