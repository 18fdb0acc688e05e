/**
 * /settings/account and /settings/security. Plain POST forms (they work without JavaScript);
 * a failed form re-renders the page with the errors next to the fields (422). One-time secrets
 * (backup codes, a new recovery code) are rendered in the response that created them, never stored.
 */
import type { Child, FC } from "hono/jsx";
import { CheckboxField, ErrorBanner, ErrorSlot, Field, ImageUpload, Layout, SettingsShell, Toast, type PageAssets } from "../../../views/index.ts";
import { formatTime } from "./page-helpers.tsx";
import type { SessionView } from "./sessions.ts";
import type { TotpSetup } from "./totp.ts";
import type { FormState } from "./views-auth.tsx";

import { hasAdminPower } from "./admin-powers.ts";

export type ShellUser = { id: string; displayName: string; canManageInvites: boolean; canReadAudit: boolean; canManageUsers?: boolean; canManageRoles?: boolean; canSeeCommunities?: boolean; canManageServer?: boolean; canSeeUsage?: boolean; canSeeWebhooks?: boolean; feedback?: boolean };

/** The settings frame's user: which Administration tabs this actor's powers open. */
export function shellUserOf(actor: { userId: string; displayName: string; isOwner: boolean; isAdmin: boolean; adminPowers: readonly string[] }): ShellUser {
  return {
    id: actor.userId,
    displayName: actor.displayName,
    canManageUsers: hasAdminPower(actor, "users"),
    canManageInvites: hasAdminPower(actor, "invites"),
    canReadAudit: hasAdminPower(actor, "audit"),
    canManageRoles: hasAdminPower(actor, "roles"),
    canSeeCommunities: hasAdminPower(actor, "directory"),
    canManageServer: hasAdminPower(actor, "server_settings"),
    canSeeUsage: hasAdminPower(actor, "analytics"),
    canSeeWebhooks: hasAdminPower(actor, "privacy"),
  };
}

/** `banner`: the instance announcements for this user (src/features/announcements, announcementBanner). */
export const AccountShell: FC<{ assets: PageAssets; user: ShellUser; title: string; description?: string; current: string; flash?: string; banner?: Child; children: Child }> = (p) => (
  <Layout
    title={p.title}
    assets={p.assets}
    topBar
    user={{ id: p.user.id, displayName: p.user.displayName }}
    toasts={p.flash ? <Toast message={p.flash} tone="success" /> : undefined}
    banner={p.banner}
  >
    <SettingsShell
      title={p.title}
      description={p.description}
      nav={[
        {
          title: "Account",
          items: [
            { href: "/settings/account", label: "Profile", current: p.current === "account" },
            { href: "/settings/security", label: "Security", current: p.current === "security" },
            { href: "/settings/notifications", label: "Notifications", current: p.current === "notifications" },
            { href: "/settings/tokens", label: "API tokens", current: p.current === "tokens" },
            { href: "/settings/link-previews", label: "Link previews", current: p.current === "link-previews" },
            { href: "/settings/data", label: "Your data", current: p.current === "data" },
            // Only when feedback to GitHub is configured (docs/integrations.md "Feedback").
            ...(p.user.feedback ? [{ href: "/settings/feedback", label: "Send feedback", current: p.current === "feedback" }] : []),
          ],
        },
        ...(p.user.canManageInvites || p.user.canReadAudit || p.user.canManageUsers || p.user.canManageRoles || p.user.canSeeCommunities || p.user.canManageServer || p.user.canSeeUsage || p.user.canSeeWebhooks
          ? [
              {
                title: "Administration",
                items: [
                  ...(p.user.canManageUsers ? [{ href: "/admin/users", label: "Users", current: p.current === "users" }] : []),
                  ...(p.user.canManageUsers ? [{ href: "/admin/reports", label: "Reports", current: p.current === "admin-reports" }] : []),
                  ...(p.user.canSeeCommunities ? [{ href: "/admin/communities", label: "Communities", current: p.current === "admin-communities" }] : []),
                  ...(p.user.canManageInvites ? [{ href: "/admin/invites", label: "Invites", current: p.current === "invites" }] : []),
                  ...(p.user.canReadAudit ? [{ href: "/admin/audit-log", label: "Audit log", current: p.current === "audit" }] : []),
                  ...(p.user.canManageRoles ? [{ href: "/admin/powers", label: "Powers", current: p.current === "powers" }] : []),
                  ...(p.user.canManageServer ? [{ href: "/admin/announcements", label: "Announcements", current: p.current === "announcements" }] : []),
                  ...(p.user.canManageServer ? [{ href: "/admin/legal", label: "Legal pages", current: p.current === "legal" }] : []),
                  ...(p.user.canManageServer ? [{ href: "/admin/settings", label: "Settings", current: p.current === "settings" }] : []),
                  ...(p.user.canSeeUsage ? [{ href: "/admin/usage", label: "Usage", current: p.current === "usage" }] : []),
                  ...(p.user.canSeeWebhooks ? [{ href: "/admin/webhooks", label: "Webhooks", current: p.current === "webhooks" }] : []),
                ],
              },
            ]
          : []),
      ]}
    >
      {p.children}
    </SettingsShell>
  </Layout>
);

const Slot: FC<{ state?: FormState; title: string }> = ({ state, title }) => <ErrorSlot>{state?.message ? <ErrorBanner title={title} message={state.message} /> : null}</ErrorSlot>;

export type AccountPageProps = {
  profile: { displayName: string; customStatus: string | null; bio: string | null; pronouns: string | null; allowDmsFromAnyone: boolean; username: string; email: string | null };
  profileState?: FormState;
  deleteState?: FormState;
  hasPassword: boolean;
  /** Files (docs/files.md): bytes stored or reserved by the user, the quota (0 = unlimited), the largest file. */
  storage?: { usedBytes: number; quotaBytes: number; maxFileBytes: number };
  /** The avatar control (docs/profiles.md): the user's id and the images-ui.js bundle's URL. */
  avatar?: { userId: string; imagesSrc: string };
  /** The address for meeting invitations and whether it is confirmed (docs/meetings.md). */
  email?: { email: string | null; verified: boolean; mailEnabled: boolean };
  emailFormState?: FormState;
};

/** The email address: change or remove it, its confirmed state, and a resend button while unconfirmed. */
const EmailSection: FC<{ email: NonNullable<AccountPageProps["email"]>; state?: FormState }> = ({ email, state }) => (
  <section class="card stack" aria-labelledby="email-h" id="email-settings">
    <h2 id="email-h">Email</h2>
    {email.email ? (
      <p data-email-state={email.verified ? "verified" : "unverified"}>
        {email.email} · {email.verified ? <strong>Confirmed</strong> : <strong>Not confirmed</strong>}
      </p>
    ) : (
      <p class="muted">No email address.</p>
    )}
    <p class="muted">
      {email.mailEnabled
        ? "Used only for meeting invitations, and only after you confirm it through the link we mail to it. Invitations are ordinary (not end-to-end encrypted) email."
        : "This server sends no email. The address can still link single sign-on."}
    </p>
    <form class="form" method="post" action="/settings/account/email" id="email-form">
      <Slot state={state} title="Could not save the email address" />
      <Field name="email" label="Email address" type="email" autocomplete="email" maxLength={254} value={state?.values?.email ?? email.email ?? ""} error={state?.fields?.email} hint="Leave empty to remove it." />
      <div class="form__actions">
        <button type="submit" class="btn btn--primary">
          Save email
        </button>
      </div>
    </form>
    {email.email && !email.verified && email.mailEnabled ? (
      <form method="post" action="/settings/account/email/resend" id="email-resend-form">
        <button type="submit" class="btn btn--secondary">
          Send a new confirmation link
        </button>
      </form>
    ) : null}
  </section>
);

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let n = bytes / 1024;
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n < 10 ? n.toFixed(1) : Math.round(n)} ${units[i]}`;
}

/** Used and remaining upload quota (GET /api/files/quota says the same). */
const StorageSection: FC<{ storage: NonNullable<AccountPageProps["storage"]> }> = ({ storage }) => {
  const { usedBytes, quotaBytes, maxFileBytes } = storage;
  const left = Math.max(0, quotaBytes - usedBytes);
  return (
    <section class="card stack" aria-labelledby="storage-h">
      <h2 id="storage-h">Files</h2>
      {quotaBytes > 0 ? (
        <>
          <p data-quota-used={String(usedBytes)} data-quota-left={String(left)}>
            <strong>{formatBytes(usedBytes)}</strong> used of {formatBytes(quotaBytes)} · <strong>{formatBytes(left)}</strong> left
          </p>
          <progress class="quota-bar" max={quotaBytes} value={Math.min(usedBytes, quotaBytes)} aria-label="Upload quota used" />
        </>
      ) : (
        <p data-quota-used={String(usedBytes)}>
          <strong>{formatBytes(usedBytes)}</strong> used · no upload quota on this server
        </p>
      )}
      <p class="muted">
        Counts the files you sent that still exist and uploads in progress; deleting a message gives its files' space back. Largest file: {formatBytes(maxFileBytes)}. Files are end-to-end encrypted: the server
        stores only their encrypted bytes.
      </p>
    </section>
  );
};

export const AccountSettings: FC<AccountPageProps> = ({ profile, profileState, deleteState, hasPassword, storage, avatar, email, emailFormState }) => {
  const v = profileState?.values;
  const f = profileState?.fields ?? {};
  return (
    <div class="stack">
      <section class="card stack" aria-labelledby="profile-h">
        <h2 id="profile-h">Profile</h2>
        <p class="muted">
          Signed in as <strong>{profile.username}</strong>{profile.email ? ` (${profile.email})` : ""}
        </p>
        <form class="form" method="post" action="/settings/account/profile" id="profile-form">
          <Slot state={profileState} title="Could not save" />
          <Field name="display_name" label="Display name" required maxLength={64} value={v?.display_name ?? profile.displayName} error={f.display_name} />
          <Field name="custom_status" label="Status" maxLength={128} value={v?.custom_status ?? profile.customStatus ?? ""} error={f.custom_status} />
          <Field name="pronouns" label="Pronouns" maxLength={50} value={v?.pronouns ?? profile.pronouns ?? ""} error={f.pronouns} />
          <Field name="bio" label="About me" type="textarea" rows={4} maxLength={500} value={v?.bio ?? profile.bio ?? ""} error={f.bio} />
          <CheckboxField name="allow_dms_from_anyone" label="Allow direct messages from anyone" hint="Otherwise only people who share a community with you." checked={profile.allowDmsFromAnyone} />
          <div class="form__actions">
            <button type="submit" class="btn btn--primary">
              Save profile
            </button>
          </div>
        </form>
      </section>
      {avatar ? (
        <section class="card stack" aria-labelledby="avatar-h" data-images-src={avatar.imagesSrc}>
          <h2 id="avatar-h">Avatar</h2>
          <ImageUpload id="avatar" label="Avatar" endpoint="/api/account/avatar" squareCrop removable currentSrc={`/api/users/${avatar.userId}`} currentField="avatar_url" audience="everyone who shares a community or a conversation with you" />
        </section>
      ) : null}
      {email ? <EmailSection email={email} state={emailFormState} /> : null}
      {storage ? <StorageSection storage={storage} /> : null}
      <section class="card stack" aria-labelledby="delete-h">
        <h2 id="delete-h">Delete account</h2>
        <p class="muted">This removes your account and signs out every device. It cannot be undone.</p>
        <form
          class="form"
          method="post"
          action="/settings/account/delete"
          id="delete-form"
          data-confirm="Delete your account?"
          data-confirm-detail="Your account and profile are removed, you leave every community, and every device is signed out. This cannot be undone."
          data-confirm-action="Delete my account"
        >
          <Slot state={deleteState} title="Could not delete the account" />
          {hasPassword ? <Field name="password" label="Your password" type="password" autocomplete="current-password" required error={deleteState?.fields?.password} /> : null}
          <div class="form__actions">
            <button type="submit" class="btn btn--danger">
              Delete my account
            </button>
          </div>
        </form>
      </section>
    </div>
  );
};

export type SecurityPageProps = {
  sessions: SessionView[];
  /** The account (its encryption devices are listed by the client bundle at this URL). */
  userId: string;
  chatSrc: string;
  totpEnabled: boolean;
  backupCodesLeft: number;
  pendingSetup: TotpSetup | null;
  hasPassword: boolean;
  shownBackupCodes?: string[];
  shownRecoveryCode?: string;
  passwordState?: FormState;
  totpState?: FormState;
  recoveryState?: FormState;
};

const SessionsTable: FC<{ sessions: SessionView[] }> = ({ sessions }) => (
  <section class="panel" aria-labelledby="sessions-h" id="sessions">
    <div class="panel__header">
      <h2 class="panel__title" id="sessions-h">
        Signed-in devices
      </h2>
      <form
        method="post"
        action="/settings/security/logout-all"
        class="inline-form"
        data-confirm="Sign out everywhere?"
        data-confirm-detail="Every device signed in to your account, this one included, is signed out and must sign in again."
        data-confirm-action="Sign out everywhere"
      >
        <button type="submit" class="btn btn--secondary btn--sm">
          Sign out everywhere
        </button>
      </form>
    </div>
    {/* A list, not a table: it stays readable at 360 px. */}
    <ul class="session-list" data-testid="sessions-list">
      {sessions.map((s) => (
        <li class="session" data-session-id={s.id}>
          <div class="session__main">
            <p class="session__device">
              {s.deviceName} {s.current ? <span class="badge badge--success">This device</span> : null}
            </p>
            <p class="session__meta muted">
              <span>IP {s.ip}</span> · <span>
                signed in <time datetime={s.createdAt.toISOString()}>{formatTime(s.createdAt)}</time>
              </span>{" "}
              · <span>
                last used <time datetime={s.lastUsedAt.toISOString()}>{formatTime(s.lastUsedAt)}</time>
              </span>
            </p>
          </div>
          <form method="post" action={`/settings/security/sessions/${s.id}/revoke`} class="inline-form">
            <button type="submit" class="btn btn--secondary btn--sm" aria-label={`Sign out ${s.deviceName}${s.current ? " (this device)" : ""}`}>
              Sign out
            </button>
          </form>
        </li>
      ))}
    </ul>
  </section>
);

/**
 * The account's encryption devices (keys in a browser), listed and removed by the client bundle
 * (src/client/chat/trust-ui.ts) through the key service's own routes: only the browser knows
 * which device is itself, and removal is DELETE /api/keys/devices/{id}.
 */
const EncryptionDevices: FC<{ userId: string; chatSrc: string }> = (p) => (
  <section class="panel" aria-labelledby="e2ee-devices-h" id="encryption-devices" data-e2ee-devices={p.userId} data-e2ee-devices-src={p.chatSrc}>
    <div class="panel__header">
      <h2 class="panel__title" id="e2ee-devices-h">
        Encryption devices
      </h2>
    </div>
    <p class="muted panel__body">Each browser where you opened a chat has its own encryption keys. Remove one you no longer use or do not recognise: it stops receiving new messages at once.</p>
    <ul class="session-list" data-e2ee-device-list data-testid="e2ee-devices-list"></ul>
    <p class="muted panel__body" data-e2ee-device-status role="status">
      Loading your devices…
    </p>
  </section>
);

const CodeField: FC<{ state?: FormState; id: string }> = ({ state, id }) => (
  <Field name="code" id={id} label="Code from your authenticator app" autocomplete="one-time-code" inputmode="numeric" required maxLength={6} pattern="[0-9]{6}" error={state?.fields?.code} />
);

const TwoFactor: FC<SecurityPageProps> = (p) => (
  <section class="card stack" aria-labelledby="totp-h" id="two-factor">
    <h2 id="totp-h">Two-factor authentication</h2>
    {p.shownBackupCodes ? (
      <div class="stack">
        <p>
          <strong>Your backup codes.</strong> Each works once when you cannot use your app. Save them now: they are not shown again.
        </p>
        <ul class="code-list" data-secret data-testid="backup-codes">
          {p.shownBackupCodes.map((c) => (
            <li>{c}</li>
          ))}
        </ul>
      </div>
    ) : null}
    {p.totpEnabled ? (
      <>
        <p>
          <span class="badge badge--success">On</span> Signing in asks for a code from your app. {p.backupCodesLeft} backup code{p.backupCodesLeft === 1 ? "" : "s"} left.
        </p>
        <form class="form" method="post" action="/settings/security/totp/backup-codes" id="backup-codes-form">
          <Slot state={p.totpState} title="That did not work" />
          <CodeField state={p.totpState} id="f-code-backup" />
          <div class="btn-row">
            <button type="submit" class="btn btn--secondary">
              New backup codes
            </button>
            <button type="submit" class="btn btn--danger" formaction="/settings/security/totp/disable">
              Turn off two-factor
            </button>
          </div>
        </form>
      </>
    ) : p.pendingSetup ? (
      <div class="stack">
        <p>Scan this code with your authenticator app (or type the key), then enter the 6-digit code it shows.</p>
        <img class="qr" data-secret src={p.pendingSetup.qrDataUrl} alt="QR code for your authenticator app" width="200" height="200" />
        <p>
          Key: <code class="secret-code" data-secret data-testid="totp-secret">{p.pendingSetup.secret}</code>
        </p>
        <form class="form" method="post" action="/settings/security/totp/verify" id="totp-verify-form">
          <Slot state={p.totpState} title="That did not work" />
          <CodeField state={p.totpState} id="f-code-verify" />
          <div class="form__actions">
            <button type="submit" class="btn btn--primary" data-testid="totp-verify">
              Turn on two-factor
            </button>
          </div>
        </form>
      </div>
    ) : (
      <form method="post" action="/settings/security/totp/setup" class="stack">
        <p>
          <span class="badge badge--neutral">Off</span> Add a second step to signing in with an authenticator app.
        </p>
        <div>
          <button type="submit" class="btn btn--primary" data-testid="totp-setup">
            Set up two-factor
          </button>
        </div>
      </form>
    )}
  </section>
);

export const SecuritySettings: FC<SecurityPageProps> = (p) => (
  <div class="stack">
    <SessionsTable sessions={p.sessions} />
    <EncryptionDevices userId={p.userId} chatSrc={p.chatSrc} />
    <TwoFactor {...p} />
    {p.hasPassword ? (
      <section class="card stack" aria-labelledby="password-h">
        <h2 id="password-h">Password</h2>
        <p class="muted">Changing it signs out your other devices.</p>
        <form class="form" method="post" action="/settings/security/password" id="password-form">
          <Slot state={p.passwordState} title="Could not change the password" />
          <Field name="current_password" label="Current password" type="password" autocomplete="current-password" required error={p.passwordState?.fields?.current_password} />
          <Field name="new_password" label="New password" type="password" autocomplete="new-password" required minLength={8} maxLength={128} error={p.passwordState?.fields?.new_password} />
          <div class="form__actions">
            <button type="submit" class="btn btn--primary">
              Change password
            </button>
          </div>
        </form>
      </section>
    ) : null}
    <section class="card stack" aria-labelledby="recovery-h">
      <h2 id="recovery-h">Recovery code</h2>
      {p.shownRecoveryCode ? (
        <div class="stack">
          <p>Your new recovery code (the old one no longer works). Save it now: it is not shown again.</p>
          <p class="secret-code" data-secret data-testid="recovery-code">
            {p.shownRecoveryCode}
          </p>
        </div>
      ) : (
        <p class="muted">It resets your password if you forget it. Make a new one if the old one is lost or seen by someone else.</p>
      )}
      <form class="form" method="post" action="/settings/security/recovery-code" id="recovery-form">
        <Slot state={p.recoveryState} title="Could not make a new code" />
        {p.hasPassword ? <Field name="password" id="f-recovery-password" label="Your password" type="password" autocomplete="current-password" required error={p.recoveryState?.fields?.password} /> : null}
        <div class="form__actions">
          <button type="submit" class="btn btn--secondary">
            New recovery code
          </button>
        </div>
      </form>
    </section>
  </div>
);
