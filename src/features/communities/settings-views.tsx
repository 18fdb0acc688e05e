/** Community settings sections inside SettingsShell. Each form posts to /c/:id/settings/… */
import type { Child, FC } from "hono/jsx";
import { CheckboxField, ErrorSlot, Field, SelectField, SettingsShell } from "../../../views/index.ts";
import { ROLE_PERMISSIONS } from "../permissions/model.ts";
import type { CommunityAuditView } from "./audit.ts";
import type { InviteView } from "./invites.ts";
import type { MemberView } from "./queries.ts";
import type { RoleView } from "./roles.ts";

export const SECTIONS = [
  ["overview", "Overview"],
  ["channels", "Channels"],
  ["roles", "Roles & permissions"],
  ["members", "Members"],
  ["invites", "Invites"],
  ["bans", "Bans"],
  ["reports", "Reports"],
  ["audit", "Audit log"],
] as const;
export type Section = (typeof SECTIONS)[number][0];

export const SettingsFrame: FC<{ communityId: string; name: string; section: Section; visible: Section[]; children?: Child }> = (p) => (
  <SettingsShell
    title={SECTIONS.find(([k]) => k === p.section)![1]}
    description={p.name}
    navLabel="Community settings"
    nav={[
      { items: [{ href: `/c/${p.communityId}`, label: "← Back to chat" }] },
      { title: p.name, items: SECTIONS.filter(([k]) => p.visible.includes(k)).map(([k, label]) => ({ href: `/c/${p.communityId}/settings/${k}`, label, current: k === p.section })) },
    ]}
  >
    {p.children}
  </SettingsShell>
);

const Form: FC<{ action: string; children?: Child; inline?: boolean; id?: string }> = (p) => (
  <form method="post" action={p.action} hx-post={p.action} hx-target="this" hx-swap="outerHTML" class={p.inline ? "btn-row" : "form"} id={p.id}>
    <ErrorSlot />
    {p.children}
  </form>
);

const POLICY_OPTIONS = [
  { value: "everyone", label: "Everyone" },
  { value: "moderator", label: "Moderators and above" },
  { value: "admin", label: "Admins and owner" },
];

export const OverviewSection: FC<{ base: string; c: { name: string; description: string | null; whoCanCreateGroups: string; whoCanInvite: string; discoverable: boolean }; canEdit: boolean; isOwner: boolean; members: MemberView[] }> = (p) => (
  <div class="stack">
    {p.canEdit ? (
      <Form action={`${p.base}/overview`}>
        <Field name="name" label="Name" required maxLength={64} value={p.c.name} />
        <Field name="description" label="Description" type="textarea" rows={3} maxLength={2048} value={p.c.description ?? ""} />
        <SelectField name="who_can_create_groups" label="Who may create groups" options={POLICY_OPTIONS} value={p.c.whoCanCreateGroups} />
        <SelectField name="who_can_invite" label="Who may invite" options={POLICY_OPTIONS} value={p.c.whoCanInvite} />
        <CheckboxField name="discoverable" label="Discoverable" checked={p.c.discoverable} hint="Listed in the server's community directory." />
        <div class="form__actions">
          <button class="btn btn--primary" type="submit">
            Save
          </button>
        </div>
      </Form>
    ) : (
      <p>{p.c.description}</p>
    )}
    {p.isOwner ? (
      <>
        <Form action={`${p.base}/transfer`}>
          <h2>Transfer ownership</h2>
          <SelectField name="new_owner_id" label="New owner" options={p.members.filter((m) => m.role !== "owner").map((m) => ({ value: m.userId, label: m.displayName }))} />
          <div class="form__actions">
            <button class="btn btn--secondary" type="submit">
              Transfer
            </button>
          </div>
        </Form>
        <div x-data="dialog">
          <button type="button" class="btn btn--danger" x-on:click="show">
            Delete community…
          </button>
          <dialog class="dialog" x-ref="dialog" aria-labelledby="delete-title">
            <Form action={`${p.base}/delete`}>
              <div class="dialog__header">
                <h2 class="dialog__title" id="delete-title">
                  Delete {p.c.name}?
                </h2>
              </div>
              <div class="dialog__body">
                <p>Every group, channel, role, invite and ban goes with it. This cannot be undone.</p>
                <Field name="confirm_name" label="Type the community's name to confirm" required />
              </div>
              <div class="dialog__footer">
                <button type="button" class="btn btn--ghost" x-on:click="close">
                  Cancel
                </button>
                <button type="submit" class="btn btn--danger">
                  Delete forever
                </button>
              </div>
            </Form>
          </dialog>
        </div>
      </>
    ) : null}
  </div>
);

export const ChannelsSection: FC<{ base: string; groups: { id: string; name: string; channels: { id: string; name: string | null; kind: string; isPrivate: boolean; readOnly: boolean; archived: boolean; slowModeSeconds: number }[] }[] }> = (p) => (
  <div class="stack">
    <Form action={`${p.base}/groups`} inline>
      <Field name="name" id="new-group-name" label="New group" required maxLength={64} />
      <button class="btn btn--secondary" type="submit">
        Create group
      </button>
    </Form>
    {p.groups.map((g) => (
      <section class="panel">
        <header class="panel__header">
          <h2 class="panel__title">{g.name}</h2>
        </header>
        <div class="panel__body stack">
          <ul>
            {g.channels.map((c) => (
              <li>
                #{c.name} <span class="badge badge--neutral">{c.kind}</span> {c.isPrivate ? <span class="badge">private</span> : null} {c.readOnly ? <span class="badge">read-only</span> : null}{" "}
                {c.archived ? <span class="badge">archived</span> : null} {c.slowModeSeconds ? <span class="badge">slow {c.slowModeSeconds}s</span> : null}
              </li>
            ))}
          </ul>
          <Form action={`${p.base}/groups/${g.id}/channels`} inline>
            <Field name="name" id={`ch-name-${g.id}`} label="Channel name" required maxLength={64} />
            <SelectField name="kind" id={`ch-kind-${g.id}`} label="Kind" options={[{ value: "text", label: "Text" }, { value: "voice", label: "Voice" }, { value: "announcement", label: "Announcement" }]} />
            <CheckboxField name="is_private" id={`ch-private-${g.id}`} label="Private" />
            <button class="btn btn--secondary" type="submit">
              Add channel
            </button>
          </Form>
        </div>
      </section>
    ))}
  </div>
);

export const RolesSection: FC<{ base: string; roles: RoleView[] }> = (p) => (
  <div class="stack">
    <p class="muted">Rank: owner › admin › moderator › member. Custom roles add permissions and order members within one rank (higher position first). Nobody acts on someone of equal or higher rank.</p>
    <div class="table-wrap">
      <table class="table">
        <thead>
          <tr>
            <th>Role</th>
            <th>Position</th>
            <th>Permissions</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {p.roles.map((r) => (
            <tr>
              <td>{r.name}</td>
              <td>{r.position}</td>
              <td>{r.permissions.join(", ") || "—"}</td>
              <td>
                <Form action={`${p.base}/roles/${r.id}/delete`} inline>
                  <button class="btn btn--ghost btn--sm" type="submit">
                    Delete
                  </button>
                </Form>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
    <Form action={`${p.base}/roles`}>
      <h2>New role</h2>
      <Field name="name" id="role-name" label="Name" required maxLength={64} />
      <Field name="position" id="role-position" label="Position (1–999)" type="number" min={1} max={999} value="1" required />
      <fieldset class="stack">
        <legend>Permissions</legend>
        {ROLE_PERMISSIONS.map((perm) => (
          <CheckboxField name={`perm_${perm}`} label={perm.replace(/_/g, " ")} />
        ))}
      </fieldset>
      <div class="form__actions">
        <button class="btn btn--primary" type="submit">
          Create role
        </button>
      </div>
    </Form>
  </div>
);

const TIMEOUTS = [
  { value: "60", label: "1 minute" },
  { value: "300", label: "5 minutes" },
  { value: "3600", label: "1 hour" },
  { value: "86400", label: "1 day" },
  { value: "604800", label: "1 week" },
  { value: "2419200", label: "28 days" },
];

export type MemberRowActions = { member: MemberView; canRole: boolean; canKick: boolean; canBan: boolean; canTimeout: boolean };

export const MembersSection: FC<{ base: string; rows: MemberRowActions[] }> = (p) => (
  <div class="table-wrap">
    <table class="table" id="members-table">
      <thead>
        <tr>
          <th>Member</th>
          <th>Role</th>
          <th>Actions</th>
        </tr>
      </thead>
      <tbody>
        {p.rows.map(({ member: m, ...can }) => (
          <tr data-user-id={m.userId}>
            <td>
              {m.displayName} <span class="muted">@{m.username}</span> {m.timedOutUntil ? <span class="badge badge--warning">timed out</span> : null}
            </td>
            <td>
              {can.canRole ? (
                <Form action={`${p.base}/members/${m.userId}/role`} inline>
                  <select class="select" name="role" aria-label={`Role of ${m.displayName}`}>
                    {["admin", "moderator", "member"].map((r) => (
                      <option value={r} selected={r === m.role}>
                        {r}
                      </option>
                    ))}
                  </select>
                  <button class="btn btn--ghost btn--sm" type="submit">
                    Set
                  </button>
                </Form>
              ) : (
                m.role
              )}
            </td>
            <td>
              <div class="btn-row">
              {can.canTimeout ? (
                <Form action={`${p.base}/members/${m.userId}/timeout`} inline>
                  <select class="select" name="duration_seconds" aria-label={`Timeout length for ${m.displayName}`}>
                    {TIMEOUTS.map((o) => (
                      <option value={o.value}>{o.label}</option>
                    ))}
                  </select>
                  <button class="btn btn--secondary btn--sm" type="submit">
                    Time out
                  </button>
                </Form>
              ) : null}
              {can.canKick ? (
                <Form action={`${p.base}/members/${m.userId}/kick`} inline>
                  <button class="btn btn--ghost btn--sm" type="submit">
                    Kick
                  </button>
                </Form>
              ) : null}
              {can.canBan ? (
                <Form action={`${p.base}/members/${m.userId}/ban`} inline>
                  <input class="input" name="reason" maxlength={500} placeholder="Reason" aria-label={`Ban reason for ${m.displayName}`} />
                  <button class="btn btn--danger btn--sm" type="submit">
                    Ban
                  </button>
                </Form>
              ) : null}
              </div>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  </div>
);

export const InvitesSection: FC<{ base: string; invites: InviteView[]; baseUrl: string; canCreate: boolean }> = (p) => (
  <div class="stack">
    {p.canCreate ? (
      <Form action={`${p.base}/invites`} id="create-invite">
        <Field name="max_uses" label="Max uses" type="number" min={1} hint="Empty = unlimited" />
        <Field name="expires_in_hours" label="Expires after (hours, 1–8760)" type="number" min={1} max={8760} hint="Empty = never" />
        <div class="form__actions">
          <button class="btn btn--primary" type="submit">
            Create invite link
          </button>
        </div>
      </Form>
    ) : null}
    <div class="table-wrap">
      <table class="table" id="invites-table">
        <thead>
          <tr>
            <th>Link</th>
            <th>Uses</th>
            <th>Expires</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {p.invites.map((i) => (
            <tr>
              <td>
                <code class="invite-link">{`${p.baseUrl}/invite/${i.code}`}</code>
              </td>
              <td>
                {i.uses}
                {i.maxUses ? ` / ${i.maxUses}` : ""}
              </td>
              <td>{i.revokedAt ? "revoked" : i.expiresAt ? i.expiresAt.toISOString().slice(0, 16).replace("T", " ") : "never"}</td>
              <td>
                {i.revokedAt ? null : (
                  <Form action={`${p.base}/invites/${i.id}/revoke`} inline>
                    <button class="btn btn--ghost btn--sm" type="submit">
                      Revoke
                    </button>
                  </Form>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  </div>
);

export const BansSection: FC<{ base: string; bans: { userId: string; displayName: string; reason: string | null; createdAt: Date }[] }> = (p) => (
  <div class="table-wrap">
    <table class="table">
      <thead>
        <tr>
          <th>User</th>
          <th>Reason</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {p.bans.map((b) => (
          <tr>
            <td>{b.displayName}</td>
            <td>{b.reason ?? "—"}</td>
            <td>
              <Form action={`${p.base}/bans/${b.userId}/unban`} inline>
                <button class="btn btn--ghost btn--sm" type="submit">
                  Unban
                </button>
              </Form>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  </div>
);

export const ReportsSection: FC<{ base: string; reports: { id: string; targetType: string; targetName: string | null; targetId: string; reason: string; attachedText: string | null; reporterName: string | null }[] }> = (p) => (
  <ul class="stack">
    {p.reports.length === 0 ? <p class="muted">No open reports.</p> : null}
    {p.reports.map((r) => (
      <li class="card stack">
        <p>
          <strong>{r.targetType === "user" ? (r.targetName ?? r.targetId) : `Message ${r.targetId}`}</strong> reported by {r.reporterName ?? "a deleted user"}
        </p>
        <p>{r.reason}</p>
        {r.attachedText ? (
          <blockquote>
            <p class="muted">Text the reporter says they saw (not verifiable by the server):</p>
            {r.attachedText}
          </blockquote>
        ) : null}
        <div class="btn-row">
          <Form action={`${p.base}/reports/${r.id}/resolve`} inline>
            <button class="btn btn--primary btn--sm" type="submit">
              Resolve
            </button>
          </Form>
          <Form action={`${p.base}/reports/${r.id}/dismiss`} inline>
            <button class="btn btn--ghost btn--sm" type="submit">
              Dismiss
            </button>
          </Form>
        </div>
      </li>
    ))}
  </ul>
);

export const AuditSection: FC<{ entries: CommunityAuditView[] }> = (p) => (
  <div class="table-wrap">
    <table class="table" id="audit-table">
      <thead>
        <tr>
          <th>When (UTC)</th>
          <th>Who</th>
          <th>Action</th>
          <th>Target</th>
          <th>Reason</th>
        </tr>
      </thead>
      <tbody>
        {p.entries.map((e) => (
          <tr>
            <td>{e.createdAt.toISOString().slice(0, 19).replace("T", " ")}</td>
            <td>{e.actorName ?? "—"}</td>
            <td>{e.action.replace(/_/g, " ")}</td>
            <td>{e.targetName ?? e.targetType ?? "—"}</td>
            <td>{e.reason ?? ""}</td>
          </tr>
        ))}
      </tbody>
    </table>
  </div>
);
