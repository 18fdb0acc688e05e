// Body of a full-page error (wrap in Layout). 5xx pages show the request id so a user can
// quote it to the admin; the message is always the public one, never internals.
import type { FC } from "hono/jsx";

export type ErrorPageProps = {
  status: number;
  title: string;
  message: string;
  requestId?: string;
  /** Where "Go back" leads; default "/". */
  homeHref?: string;
};

export const ErrorPage: FC<ErrorPageProps> = (p) => (
  <div class="error-page">
    <div class="card error-page__card">
      <p class="error-page__status">Error {p.status}</p>
      <h1 class="error-page__title">{p.title}</h1>
      <p class="error-page__message">{p.message}</p>
      {p.status >= 500 && p.requestId ? (
        <p class="error-page__meta">
          Request ID: <code>{p.requestId}</code>
        </p>
      ) : null}
      <p class="error-page__actions">
        <a class="btn btn--primary" href={p.homeHref ?? "/"}>
          Go to Hearth
        </a>
      </p>
    </div>
  </div>
);
