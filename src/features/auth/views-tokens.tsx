/**
 * /settings/tokens: personal access tokens (docs/auth.md "API tokens"). A new token's secret is
 * rendered once, in the answer that created it, with a copy button; the list never shows it.
 */
import type { FC } from "hono/jsx";
import { ErrorBanner, ErrorSlot, Field } from "../../../views/index.ts";
import { TOKEN_EXPIRY_DAYS, type AccessTokenView } from "./access-tokens.ts";
import { formatTime } from "./page-helpers.tsx";
import type { FormState } from "./views-auth.tsx";

export type TokensPageProps = { tokens: AccessTokenView[]; created?: { token: string; name: string }; state?: FormState; publicUrl: string };

const SCOPE_TEXT = { read: "Read: may only read (history, channels, members, files).", write: "Write: may also send, react, upload and change what your account can change through the API." } as const;

export const TokensSettings: FC<TokensPageProps> = (p) => (
  <div class="stack">
    <p class="muted">
      A token lets a script or bot use the API as you, without a browser. It can never change your password, two-factor settings, sessions or tokens, delete
      your account or act as an administrator. Messages stay end-to-end encrypted: a script must hold an encryption device of its own to read or write them.
      Signing out everywhere or changing your password revokes every token.
    </p>
    {p.created ? (
      <section class="card stack" aria-labelledby="new-token-shown-h" data-testid="new-token">
        <h2 id="new-token-shown-h">Your new token “{p.created.name}”</h2>
        <p>Copy it now: it is not shown again. Anyone who has it can use the API as you, within its scope.</p>
        <p class="secret-code" data-secret data-testid="token-secret" id="token-secret">
          {p.created.token}
        </p>
        <div class="btn-row">
          <button type="button" class="btn btn--secondary btn--sm" data-copy-target="token-secret" data-copied-text="Copied">
            Copy token
          </button>
        </div>
        <p class="muted">
          Try it: <code>curl -H "Authorization: Bearer $HEARTH_TOKEN" {p.publicUrl}/api/account/me</code>
        </p>
      </section>
    ) : null}
    <section class="card stack" aria-labelledby="create-token-h">
      <h2 id="create-token-h">New token</h2>
      <form class="form" method="post" action="/settings/tokens" id="token-form">
        <ErrorSlot>{p.state?.message ? <ErrorBanner title="Could not create the token" message={p.state.message} /> : null}</ErrorSlot>
        <Field name="name" label="Name" required maxLength={64} value={p.state?.values?.name} error={p.state?.fields?.name} hint="What it is for, e.g. “deploy bot”." />
        <fieldset class="field">
          <legend class="field__label">Scope</legend>
          {(["read", "write"] as const).map((scope) => (
            <label class="checkbox">
              <input type="radio" name="scope" value={scope} checked={(p.state?.values?.scope ?? "read") === scope} />
              <span>{SCOPE_TEXT[scope]}</span>
            </label>
          ))}
        </fieldset>
        <div class="field">
          <label class="field__label" for="f-expires">
            Expires
          </label>
          <select class="select" id="f-expires" name="expires_in_days">
            {TOKEN_EXPIRY_DAYS.map((d) => (
              <option value={String(d)} selected={(p.state?.values?.expires_in_days ?? "30") === String(d)}>
                after {d} days
              </option>
            ))}
            <option value="never" selected={p.state?.values?.expires_in_days === "never"}>
              never
            </option>
          </select>
        </div>
        <div class="form__actions">
          <button type="submit" class="btn btn--primary">
            Create token
          </button>
        </div>
      </form>
    </section>
    <section class="panel" aria-labelledby="tokens-h">
      <div class="panel__header">
        <h2 class="panel__title" id="tokens-h">
          Your tokens
        </h2>
      </div>
      <ul class="session-list" data-testid="tokens-list">
        {p.tokens.length === 0 ? <li class="session muted">No tokens.</li> : null}
        {p.tokens.map((tk) => (
          <li class="session" data-token-id={tk.id}>
            <div class="session__main">
              <p class="session__device">
                {tk.name} <span class={tk.scope === "write" ? "badge badge--accent" : "badge badge--neutral"}>{tk.scope}</span>
              </p>
              <p class="session__meta muted">
                <span>created {formatTime(tk.createdAt)}</span> · <span>last used {formatTime(tk.lastUsedAt)}</span> ·{" "}
                <span>{tk.expiresAt ? `expires ${formatTime(tk.expiresAt)}` : "never expires"}</span>
              </p>
            </div>
            <form
              method="post"
              action={`/settings/tokens/${tk.id}/revoke`}
              class="inline-form"
              data-confirm={`Revoke the token “${tk.name}”?`}
              data-confirm-detail="Scripts using it stop working at once. This cannot be undone."
              data-confirm-action="Revoke token"
            >
              <button type="submit" class="btn btn--secondary btn--sm" aria-label={`Revoke token ${tk.name}`}>
                Revoke
              </button>
            </form>
          </li>
        ))}
      </ul>
    </section>
  </div>
);
