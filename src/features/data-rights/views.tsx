/**
 * Settings › Your data (export, decrypt my export) and the admin's data page of a user
 * (/admin/users/{id}/data: re-authenticate, encrypted export, wipe). Plain forms: everything but
 * the decryption (which needs this device's keys, in the browser) works without JavaScript.
 */
import type { FC } from "hono/jsx";
import { ErrorBanner, ErrorSlot, Field } from "../../../views/index.ts";
import { formatTime } from "../auth/index.ts";
import { MIN_PASSPHRASE } from "./sealed.ts";

export const SelfDataView: FC<{ error?: string }> = ({ error }) => (
  <div class="stack">
    <section class="card stack" aria-labelledby="export-h" data-export-self>
      <h2 id="export-h">Download your data</h2>
      <p>
        One zip file: your account, sessions, memberships, blocks, bookmarks, your security log entries, your encrypted key backup and every message you sent. The messages are in it as <strong>ciphertext</strong>: the server never had their text.
        To read them, open the file below with <a href="/settings/data/decrypt">Decrypt my export</a> on a device that can read your history.
      </p>
      <ErrorSlot>{error ? <ErrorBanner title="Not exported" message={error} /> : null}</ErrorSlot>
      <div class="form__actions">
        <a class="btn btn--primary" href="/api/account/export" download data-export-download data-testid="export-download">
          Download my data
        </a>
      </div>
      <p class="muted" role="status" aria-live="polite" data-export-status data-testid="export-status">
        A few exports an hour at most. Each one is recorded in your security log.
      </p>
    </section>
  </div>
);

export const DecryptView: FC<{ userId: string }> = ({ userId }) => (
  <div class="stack">
    <section class="card stack" aria-labelledby="decrypt-h" data-export-decrypt data-user-id={userId}>
      <h2 id="decrypt-h">Decrypt my export</h2>
      <p>
        Choose the zip you downloaded from <a href="/settings/data">Your data</a>. This browser opens your messages with the keys it holds for you and makes a readable archive that you save. Nothing you read here is sent anywhere: the decryption happens on this device.
      </p>
      <p class="muted">Messages this device has no key for are listed as such (a device that joined later may lack old keys; restoring your key backup in the chat first helps).</p>
      <div class="field">
        <label class="field__label" for="f-export-file">
          Export file (.zip)
        </label>
        <input class="input" id="f-export-file" type="file" accept=".zip,application/zip" data-export-file data-testid="export-file" />
      </div>
      <p role="status" aria-live="polite" data-decrypt-status data-testid="decrypt-status">
        Needs JavaScript: the keys live in this browser.
      </p>
      <div class="form__actions">
        <a class="btn btn--primary" hidden data-decrypt-save data-testid="decrypt-save">
          Save the readable archive
        </a>
      </div>
    </section>
  </div>
);

export type AdminDataProps = {
  user: { id: string; username: string; displayName: string };
  reauthUntil: Date | null;
  totp: boolean;
  error?: string;
  reauthError?: string;
  wipeError?: string;
  plan: { id: string; name: string; memberCount: number; candidates: { userId: string; username: string; displayName: string; role: string }[] }[];
};

export const AdminDataView: FC<AdminDataProps> = (p) => {
  const orphan = p.plan.filter((c) => c.candidates.length === 0);
  return (
    <div class="stack">
      <p>
        <a href={`/admin/users/${p.user.id}`}>← @{p.user.username}</a>
      </p>
      <section class="card stack" aria-labelledby="reauth-h">
        <h2 id="reauth-h">Confirm it is you</h2>
        {p.reauthUntil ? (
          <p data-testid="reauth-fresh">Confirmed on this session until {formatTime(p.reauthUntil)}. After that, confirm again.</p>
        ) : (
          <>
            <p>Exporting or wiping someone's data needs your password{p.totp ? " and a code from your authenticator app" : ""}, entered within the last 5 minutes on this session.</p>
            <ErrorSlot>{p.reauthError ? <ErrorBanner title="Not confirmed" message={p.reauthError} /> : null}</ErrorSlot>
            <form method="post" action={`/admin/users/${p.user.id}/data/reauth`} class="form">
              <Field name="password" label="Your password" type="password" autocomplete="current-password" required />
              {p.totp ? <Field name="totp_code" label="Authenticator code" autocomplete="one-time-code" inputmode="numeric" required maxLength={6} /> : null}
              <div class="form__actions">
                <button type="submit" class="btn btn--primary">
                  Confirm
                </button>
              </div>
            </form>
          </>
        )}
      </section>
      <section class="card stack" aria-labelledby="admin-export-h">
        <h2 id="admin-export-h">Export their data</h2>
        <p>
          An archive of {p.user.displayName}'s data (account, sessions, memberships, their own security log entries, key backup, messages as ciphertext) with nothing of anyone else, encrypted to a passphrase you choose ({MIN_PASSPHRASE} characters or more). Open it with <code>bun run hearthctl export decrypt FILE</code> (docs/admin.md). The export is recorded in the audit log.
        </p>
        <ErrorSlot>{p.error ? <ErrorBanner title="Not exported" message={p.error} /> : null}</ErrorSlot>
        <form method="post" action={`/admin/users/${p.user.id}/data/export`} class="form">
          <Field name="passphrase" label="Passphrase" type="password" autocomplete="new-password" required minLength={MIN_PASSPHRASE} maxLength={1024} hint="Give it to the person who receives the file through another channel." />
          <div class="form__actions">
            <button type="submit" class="btn btn--secondary" disabled={!p.reauthUntil}>
              Download encrypted export
            </button>
          </div>
        </form>
      </section>
      <section class="card stack" aria-labelledby="wipe-h">
        <h2 id="wipe-h">Wipe</h2>
        <p>
          Removes every row of {p.user.displayName} (@{p.user.username}): the account, sessions, devices and keys, memberships, blocks, bookmarks, their messages (unlike deletion, which keeps them as “Deleted user”), polls, reports by or about them, and the files they uploaded. The instance audit log keeps its past entries (it is tamper-evident) and records the wipe without their name. This cannot be undone.
        </p>
        <ErrorSlot>{p.wipeError ? <ErrorBanner title="Not wiped" message={p.wipeError} /> : null}</ErrorSlot>
        {orphan.length > 0 ? (
          <p data-testid="wipe-blocked">
            Cannot be wiped yet: nobody else can inherit {orphan.map((c, i) => (
              <>
                {i > 0 ? ", " : ""}“{c.name}”
              </>
            ))}
            .
          </p>
        ) : (
          <form method="post" action={`/admin/users/${p.user.id}/data/wipe`} class="form" data-confirm={`Wipe ${p.user.displayName} (@${p.user.username})?`} data-confirm-detail="Every row of theirs and their files go now, their messages included. This cannot be undone." data-confirm-action="Wipe">
            {p.plan.map((c) => (
              <div class="field">
                <label class="field__label" for={`wipe-heir-${c.id}`}>
                  Heir of “{c.name}” ({c.memberCount} members)
                </label>
                <select class="select" id={`wipe-heir-${c.id}`} name="heirs" required>
                  <option value="">Choose a member…</option>
                  {c.candidates.map((m) => (
                    <option value={`${c.id}:${m.userId}`}>
                      {m.displayName} (@{m.username}, {m.role})
                    </option>
                  ))}
                </select>
              </div>
            ))}
            <Field name="confirm_username" id="f-wipe-confirm" label={`Type their username (${p.user.username}) to confirm`} required maxLength={64} autocomplete="off" />
            <div class="form__actions">
              <button type="submit" class="btn btn--danger" disabled={!p.reauthUntil}>
                Wipe everything
              </button>
            </div>
          </form>
        )}
      </section>
    </div>
  );
};

export const WipedView: FC<{ counts: Record<string, number> }> = ({ counts }) => (
  <section class="card stack" aria-labelledby="wiped-h">
    <h2 id="wiped-h">Wiped</h2>
    <p role="status" data-testid="wiped">
      The account and every row of it are gone: {counts.messages ?? 0} messages, {counts.files ?? 0} files. The audit log records the wipe.
    </p>
    <p>
      <a href="/admin">Back to the admin area</a>
    </p>
  </section>
);
