/**
 * /admin/users and /admin/users/{id}: the users tab of the admin area. Plain GET search and POST
 * forms (they work without JavaScript); destructive forms carry a confirmation that names what
 * happens. Lists, not tables, so they stay readable at 360 px.
 */
import type { FC } from "hono/jsx";
import { ErrorBanner, ErrorSlot, Field } from "../../../views/index.ts";
import { formatTime, HISTORY_NOTICE, RESET_LINK_HOURS } from "../auth/index.ts";
import { USER_FILTERS, type UserDetail, type UserFilter, type UserListItem } from "./users.ts";
import type { DeletionPlan } from "./delete.ts";

const FILTER_LABELS: Record<UserFilter, string> = { all: "Everyone", suspended: "Suspended", admins: "Administrators", never_signed_in: "Never signed in" };

const Badges: FC<{ u: UserListItem }> = ({ u }) => (
  <>
    {u.isOwner ? <span class="badge badge--accent">Owner</span> : u.isAdmin ? <span class="badge badge--accent">Admin</span> : null}
    {u.suspendedAt ? <span class="badge badge--danger">Suspended</span> : null}
  </>
);

export type UsersListProps = { users: UserListItem[]; q: string; filter: UserFilter; page: number; hasMore: boolean; canEndAll: boolean };

function pageHref(p: UsersListProps, page: number): string {
  const params = new URLSearchParams();
  if (p.q) params.set("q", p.q);
  if (p.filter !== "all") params.set("filter", p.filter);
  params.set("page", String(page));
  return `/admin/users?${params.toString()}`;
}

export const UsersList: FC<UsersListProps> = (p) => (
  <div class="stack">
    <form class="form card" method="get" action="/admin/users" role="search" aria-label="Find users">
      <Field name="q" label="Search" type="search" value={p.q} maxLength={100} hint="Username, display name or email." />
      <div class="field">
        <label class="field__label" for="f-filter">
          Show
        </label>
        <select class="select" id="f-filter" name="filter">
          {USER_FILTERS.map((f) => (
            <option value={f} selected={f === p.filter}>
              {FILTER_LABELS[f]}
            </option>
          ))}
        </select>
      </div>
      <div class="form__actions">
        <button type="submit" class="btn btn--primary">
          Search
        </button>
      </div>
    </form>
    <section class="panel" aria-labelledby="users-h">
      <div class="panel__header">
        <h2 class="panel__title" id="users-h">
          Users
        </h2>
        {p.canEndAll ? (
          <form
            method="post"
            action="/admin/sessions/end-all"
            class="inline-form"
            data-confirm="Sign everyone out?"
            data-confirm-detail="Every session on this instance ends, API tokens included, except yours. Everyone must sign in again; open tabs go to the sign-in page."
            data-confirm-action="Sign everyone out"
          >
            <button type="submit" class="btn btn--secondary btn--sm">
              Sign everyone out
            </button>
          </form>
        ) : null}
      </div>
      <ul class="session-list" data-testid="users-list">
        {p.users.length === 0 ? <li class="session muted">Nobody matches.</li> : null}
        {p.users.map((u) => (
          <li class="session" data-user-id={u.id}>
            <div class="session__main">
              <p class="session__device">
                <a href={`/admin/users/${u.id}`}>{u.displayName}</a> <span class="muted">@{u.username}</span> <Badges u={u} />
              </p>
              <p class="session__meta muted">
                <span>{u.email || "no email"}</span> · <span>joined {formatTime(u.createdAt)}</span> · <span>last seen {formatTime(u.lastSeenAt)}</span>
              </p>
            </div>
          </li>
        ))}
      </ul>
    </section>
    <nav class="btn-row" aria-label="Pages">
      {p.page > 1 ? (
        <a class="btn btn--ghost btn--sm" href={pageHref(p, p.page - 1)} rel="prev">
          Newer
        </a>
      ) : null}
      {p.hasMore ? (
        <a class="btn btn--ghost btn--sm" href={pageHref(p, p.page + 1)} rel="next">
          Older
        </a>
      ) : null}
    </nav>
  </div>
);

export type UserDetailProps = { user: UserDetail; mayAct: boolean; /** The viewer holds `privacy`: link to the data page (export, wipe). */ privacy?: boolean; whyNot?: string; error?: string; reason?: string; plan?: DeletionPlan; heirs?: Record<string, string>; deleteError?: string; resetLink?: { url: string; expiresAt: Date } };

/**
 * Reset password: a one-time link for the admin to hand over, shown once with a copy button (the
 * page then holds a secret: data-secret keeps it uncompressed). Says what it does not do.
 */
const ResetLinkSection: FC<{ u: UserDetail; link?: { url: string; expiresAt: Date } }> = ({ u, link }) => (
  <section class="card stack" aria-labelledby="reset-h">
    <h2 id="reset-h">Reset password</h2>
    <p>
      A link that lets {u.displayName} choose a new password: it works once, for {RESET_LINK_HOURS} hours, and using it signs them out everywhere. Hand it over yourself, through a channel you trust. A new link replaces the last.
    </p>
    <p class="signin-notice" data-testid="reset-history-notice">
      {HISTORY_NOTICE}
    </p>
    {link ? (
      <div class="stack" role="status">
        <p>Here is the link. It is shown only now:</p>
        <div class="invite-link">
          <code class="invite-link__url" id="reset-link" data-secret data-testid="reset-link">
            {link.url}
          </code>
          <button type="button" class="btn btn--secondary btn--sm" data-copy-target="reset-link" data-copied-text="Copied">
            Copy link
          </button>
        </div>
        <p class="muted">Valid until {formatTime(link.expiresAt)}.</p>
      </div>
    ) : (
      <form method="post" action={`/admin/users/${u.id}/reset-link`} class="inline-form" data-confirm={`Make a password-reset link for ${u.displayName}?`} data-confirm-detail={`Anyone holding the link can set a new password for @${u.username} within ${RESET_LINK_HOURS} hours, once; their sessions then end. Any earlier link stops working. Their encrypted history stays readable only with their recovery key.`} data-confirm-action="Make the link">
        <button type="submit" class="btn btn--secondary">
          Make a reset link
        </button>
      </form>
    )}
  </section>
);

/**
 * Delete: one select per community they own (valued "<community id>:<heir id>") (the heir, among its members); the confirmation
 * names what happens. Without a candidate for some community the form says so and is not offered.
 */
const DeleteForm: FC<{ u: UserDetail; plan: DeletionPlan; heirs: Record<string, string>; error?: string }> = ({ u, plan, heirs, error }) => {
  const orphan = plan.communities.filter((c) => c.candidates.length === 0);
  const owned = plan.communities.length;
  const detail =
    `Their account ends now: every session and API token, their encryption devices and open tabs on every instance. ` +
    (owned ? `${owned === 1 ? "The community they own goes" : `The ${owned} communities they own go`} to the heir${owned === 1 ? "" : "s"} you chose. ` : "") +
    `Their messages stay, shown as “Deleted user”. This cannot be undone.`;
  return (
    <section class="card stack" aria-labelledby="delete-h">
      <h2 id="delete-h">Delete account</h2>
      <ErrorSlot>{error ? <ErrorBanner title="Not deleted" message={error} /> : null}</ErrorSlot>
      {orphan.length > 0 ? (
        <p data-testid="delete-blocked">
          Cannot be deleted yet: nobody else can inherit {orphan.map((c, i) => (
            <>
              {i > 0 ? ", " : ""}“{c.name}”
            </>
          ))}{" "}
          (no other active member). Its owner must invite someone, or the instance owner can take it over.
        </p>
      ) : (
        <form method="post" action={`/admin/users/${u.id}/delete`} class="form" id="delete-form" data-confirm={`Delete ${u.displayName} (@${u.username})?`} data-confirm-detail={detail} data-confirm-action="Delete account">
          {plan.communities.length > 0 ? <p>They own {owned === 1 ? "a community" : `${owned} communities`}. Choose who takes over each one:</p> : <p class="muted">They own no community.</p>}
          {plan.communities.map((c) => (
            <div class="field">
              <label class="field__label" for={`heir-${c.id}`}>
                Heir of “{c.name}” ({c.memberCount} members)
              </label>
              <select class="select" id={`heir-${c.id}`} name="heirs" required>
                <option value="">Choose a member…</option>
                {c.candidates.map((m) => (
                  <option value={`${c.id}:${m.userId}`} selected={heirs[c.id] === m.userId}>
                    {m.displayName} (@{m.username}, {m.role})
                  </option>
                ))}
              </select>
            </div>
          ))}
          <p class="muted">Their messages stay, shown as “Deleted user”. Sessions, devices and open tabs end now.</p>
          <div class="form__actions">
            <button type="submit" class="btn btn--danger">
              Delete account
            </button>
          </div>
        </form>
      )}
    </section>
  );
};

export const UserDetailView: FC<UserDetailProps> = ({ user: u, mayAct, privacy, whyNot, error, reason, plan, heirs, deleteError, resetLink }) => (
  <div class="stack">
    <p>
      <a href="/admin/users">← All users</a>
    </p>
    <section class="card stack" aria-labelledby="user-h">
      <h2 id="user-h">
        {u.displayName} <span class="muted">@{u.username}</span> <Badges u={u} />
      </h2>
      <ul class="plain-list">
        <li>Email: {u.email || "none"}</li>
        <li>Joined {formatTime(u.createdAt)} · last seen {formatTime(u.lastSeenAt)}</li>
        <li>
          Two-factor: {u.totpEnabled ? "on" : "off"} · single sign-on: {u.sso ? "yes" : "no"}
        </li>
        {u.isAdmin ? <li>Admin powers: {u.adminPowers.join(", ") || "none"}</li> : null}
        {u.suspendedAt ? (
          <li>
            Suspended {formatTime(u.suspendedAt)}: “{u.suspendedReason}”
          </li>
        ) : null}
      </ul>
    </section>
    <section class="card stack" aria-labelledby="actions-h">
      <h2 id="actions-h">Actions</h2>
      {mayAct ? (
        <>
          <ErrorSlot>{error ? <ErrorBanner title="That did not work" message={error} /> : null}</ErrorSlot>
          {u.suspendedAt ? (
            <form method="post" action={`/admin/users/${u.id}/unsuspend`} class="form" data-confirm={`Lift the suspension of ${u.displayName}?`} data-confirm-detail="They can sign in again at once." data-confirm-action="Unsuspend">
              <button type="submit" class="btn btn--primary">
                Unsuspend
              </button>
            </form>
          ) : (
            <form
              method="post"
              action={`/admin/users/${u.id}/suspend`}
              class="form"
              id="suspend-form"
              data-confirm={`Suspend ${u.displayName}?`}
              data-confirm-detail="Every session and API token of theirs ends now, their open tabs close within a second on every instance, and sign-in answers that the account is suspended, with your reason. Their messages stay."
              data-confirm-action="Suspend"
            >
              <Field name="reason" id="suspend-reason" label="Reason" type="textarea" rows={2} required maxLength={500} value={reason} hint="Shown to them when they try to sign in, and in the audit log." />
              <div class="form__actions">
                <button type="submit" class="btn btn--danger">
                  Suspend
                </button>
              </div>
            </form>
          )}
          <form
            method="post"
            action={`/admin/users/${u.id}/end-sessions`}
            class="inline-form"
            data-confirm={`Sign ${u.displayName} out everywhere?`}
            data-confirm-detail="Every session and API token of theirs ends; they can sign in again."
            data-confirm-action="Sign out everywhere"
          >
            <button type="submit" class="btn btn--secondary">
              Sign out everywhere
            </button>
          </form>
        </>
      ) : (
        <p class="muted">{whyNot}</p>
      )}
    </section>
    {mayAct ? <ResetLinkSection u={u} link={resetLink} /> : null}
    {mayAct && privacy ? (
      <section class="card stack" aria-labelledby="data-h">
        <h2 id="data-h">Their data</h2>
        <p>
          An encrypted export of their data, or a wipe of every row of theirs (messages included). Both ask for your password again.{" "}
          <a href={`/admin/users/${u.id}/data`} data-testid="user-data-link">
            Export or wipe
          </a>
        </p>
      </section>
    ) : null}
    {mayAct && plan ? <DeleteForm u={u} plan={plan} heirs={heirs ?? {}} error={deleteError} /> : null}
    <section class="panel" aria-labelledby="communities-h">
      <div class="panel__header">
        <h2 class="panel__title" id="communities-h">
          Communities ({u.communities.length})
        </h2>
      </div>
      <ul class="session-list">
        {u.communities.length === 0 ? <li class="session muted">None.</li> : null}
        {u.communities.map((c) => (
          <li class="session">
            {c.name} <span class="muted">{c.owner ? "owner" : c.role}</span>
          </li>
        ))}
      </ul>
    </section>
    <section class="panel" aria-labelledby="sessions-h">
      <div class="panel__header">
        <h2 class="panel__title" id="sessions-h">
          Sessions ({u.sessions.length})
        </h2>
      </div>
      <ul class="session-list" data-testid="user-sessions">
        {u.sessions.length === 0 ? <li class="session muted">Not signed in anywhere.</li> : null}
        {u.sessions.map((s) => (
          <li class="session">
            <div class="session__main">
              <p class="session__device">{s.deviceName}</p>
              <p class="session__meta muted">
                IP {s.ip} · signed in {formatTime(s.createdAt)} · last used {formatTime(s.lastUsedAt)}
              </p>
            </div>
          </li>
        ))}
      </ul>
    </section>
    <section class="panel" aria-labelledby="devices-h">
      <div class="panel__header">
        <h2 class="panel__title" id="devices-h">
          Encryption devices ({u.devices.length})
        </h2>
      </div>
      <ul class="session-list">
        {u.devices.length === 0 ? <li class="session muted">None.</li> : null}
        {u.devices.map((d) => (
          <li class="session">
            <code>{d.deviceId}</code> <span class="muted">added {formatTime(d.createdAt)}</span>
          </li>
        ))}
      </ul>
    </section>
    <section class="panel" aria-labelledby="audit-h">
      <div class="panel__header">
        <h2 class="panel__title" id="audit-h">
          Recent audit entries
        </h2>
      </div>
      <ul class="session-list">
        {u.audit.length === 0 ? <li class="session muted">None.</li> : null}
        {u.audit.map((a) => (
          <li class="session">
            <code>{a.action}</code> <span class="muted">
              {a.actorUsername ? `by ${a.actorUsername} · ` : ""}
              {formatTime(a.createdAt)}
              {a.ip ? ` · IP ${a.ip}` : ""}
            </span>
          </li>
        ))}
      </ul>
    </section>
  </div>
);
