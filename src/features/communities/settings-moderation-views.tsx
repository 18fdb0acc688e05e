/** Moderation sections of community settings: members, invites, bans, reports, audit log. */
import type { FC } from "hono/jsx";
import type { CommunityAuditView } from "./audit.ts";
import type { InviteView } from "./invites.ts";
import type { MemberView } from "./queries.ts";
import { Field } from "../../../views/index.ts";
import { ActionButton, Form } from "./settings-views.tsx";
import { isInlineReportImage } from "../moderation/index.ts";

const TIMEOUTS = [
  { value: "60", label: "1 minute" },
  { value: "300", label: "5 minutes" },
  { value: "3600", label: "1 hour" },
  { value: "86400", label: "1 day" },
  { value: "604800", label: "1 week" },
  { value: "2419200", label: "28 days" },
];

export type MemberRowActions = { member: MemberView; canRole: boolean; canKick: boolean; canBan: boolean; canTimeout: boolean; canWarn: boolean; canAssignRoles: boolean };

export type WarningRow = { id: string; displayName: string; reason: string; createdAt: Date; createdByName: string | null };

export const MembersSection: FC<{ base: string; rows: MemberRowActions[]; roles: { id: string; name: string }[]; warnings: WarningRow[] | null }> = (p) => (
  <div class="stack">
  <div class="table-wrap">
    <table class="table table--stack" id="members-table" role="table">
      <thead role="rowgroup">
        <tr role="row">
          <th role="columnheader">Member</th>
          <th role="columnheader">Role</th>
          <th role="columnheader">Actions</th>
        </tr>
      </thead>
      <tbody role="rowgroup">
        {p.rows.map(({ member: m, ...can }) => (
          <tr data-user-id={m.userId} role="row">
            <td role="cell" data-label="Member">
              {m.displayName} <span class="muted">@{m.username}</span> {m.timedOutUntil ? <span class="badge badge--warning">timed out</span> : null}
            </td>
            <td role="cell" data-label="Role">
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
              {can.canAssignRoles && p.roles.length ? (
                <Form action={`${p.base}/members/${m.userId}/roles`} inline>
                  {p.roles.map((r) => (
                    <label class="checkbox">
                      <input type="checkbox" name={`role_${r.id}`} value="on" checked={m.customRoles.some((x) => x.id === r.id)} />
                      <span>{r.name}</span>
                    </label>
                  ))}
                  <button class="btn btn--ghost btn--sm" type="submit">
                    Set roles
                  </button>
                </Form>
              ) : (
                m.customRoles.map((r) => <span class="badge badge--neutral">{r.name}</span>)
              )}
            </td>
            <td role="cell" data-label="Actions">
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
              {can.canWarn ? (
                <Form action={`${p.base}/members/${m.userId}/warn`} inline>
                  <input class="input" name="reason" maxlength={1000} required placeholder="Warning" aria-label={`Warning for ${m.displayName}`} />
                  <button class="btn btn--secondary btn--sm" type="submit">
                    Warn
                  </button>
                </Form>
              ) : null}
              {can.canKick ? (
                <ActionButton
                  action={`${p.base}/members/${m.userId}/kick`}
                  tone="ghost"
                  label="Kick"
                  confirm={{ title: `Kick ${m.displayName}?`, detail: `${m.displayName} is removed from this community now and loses its channels. They can come back with a new invite.`, action: `Kick ${m.displayName}` }}
                />
              ) : null}
              {can.canBan ? (
                <Form
                  action={`${p.base}/members/${m.userId}/ban`}
                  inline
                  confirm={{ title: `Ban ${m.displayName}?`, detail: `${m.displayName} is removed from this community now and cannot rejoin, even with an invite, until a moderator lifts the ban.`, action: `Ban ${m.displayName}` }}
                >
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
  {p.warnings ? (
    <section class="stack" id="warnings">
      <h2>Warnings</h2>
      {p.warnings.length === 0 ? <p class="muted">No warnings yet.</p> : null}
      <ul class="stack">
        {p.warnings.map((w) => (
          <li>
            <strong>{w.displayName}</strong>: {w.reason} <span class="muted">— {w.createdByName ?? "deleted user"}, {w.createdAt.toISOString().slice(0, 16).replace("T", " ")}</span>
          </li>
        ))}
      </ul>
    </section>
  ) : null}
  </div>
);

/** What one invite link lets its holder do, in a sentence (issue 13 §8). */
function inviteAllows(i: InviteView, registrationMode: string): string {
  const uses = i.maxUses ? ` (${Math.max(0, i.maxUses - i.uses)} of ${i.maxUses} uses left)` : "";
  if (i.revokedAt) return "Revoked: this link no longer works.";
  if (registrationMode === "open" || (registrationMode === "invite_only" && i.grantsRegistration)) return `Anyone with this link can join, creating an account on this server first if they have none${uses}.`;
  return `People who already have an account on this server can join with this link${uses}.`;
}

export const InvitesSection: FC<{ base: string; invites: InviteView[]; baseUrl: string; canCreate: boolean; registrationMode: string }> = (p) => (
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
      <table class="table table--stack" id="invites-table" role="table">
        <thead role="rowgroup">
          <tr role="row">
            <th role="columnheader">Link</th>
            <th role="columnheader">Uses</th>
            <th role="columnheader">Expires</th>
            <th role="columnheader">
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody role="rowgroup">
          {p.invites.map((i) => (
            <tr role="row">
              <td role="cell" data-label="Link">
                <div class="invite-link">
                  <code class="invite-link__url" data-secret>{`${p.baseUrl}/invite/${i.code}`}</code>
                  {i.revokedAt ? null : (
                    <button type="button" class="btn btn--secondary btn--sm" data-copy={`${p.baseUrl}/invite/${i.code}`}>
                      Copy link
                    </button>
                  )}
                </div>
                <p class="muted" data-invite-allows>
                  {inviteAllows(i, p.registrationMode)}
                </p>
              </td>
              <td role="cell" data-label="Uses">
                {i.uses}
                {i.maxUses ? ` / ${i.maxUses}` : ""}
              </td>
              <td role="cell" data-label="Expires">{i.revokedAt ? "revoked" : i.expiresAt ? i.expiresAt.toISOString().slice(0, 16).replace("T", " ") : "never"}</td>
              <td role="cell">
                {i.revokedAt ? null : (
                  <ActionButton action={`${p.base}/invites/${i.id}/revoke`} tone="ghost" label="Revoke" />
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
    <table class="table table--stack" role="table">
      <thead role="rowgroup">
        <tr role="row">
          <th role="columnheader">User</th>
          <th role="columnheader">Reason</th>
          <th role="columnheader">
            <span class="visually-hidden">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody role="rowgroup">
        {p.bans.map((b) => (
          <tr role="row">
            <td role="cell" data-label="User">{b.displayName}</td>
            <td role="cell" data-label="Reason">{b.reason ?? "—"}</td>
            <td role="cell">
              <ActionButton action={`${p.base}/bans/${b.userId}/unban`} tone="ghost" label="Unban" />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  </div>
);

type ReportFile = { id: string; name: string; type: string; size: number };

const sizeText = (n: number) => (n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1024 / 1024).toFixed(1)} MB`);

/** Files the reporter decrypted and attached (moderation/report-files.ts): images inline, the rest as downloads. */
const ReportFiles: FC<{ communityId: string; reportId: string; files: ReportFile[] }> = (p) => (
  <div class="stack report-files">
    <p class="muted">Files the reporter attached (decrypted by them; the server cannot check they are the message's):</p>
    <ul class="report-files__list">
      {p.files.map((f) => {
        const href = `/api/communities/${p.communityId}/reports/${p.reportId}/files/${f.id}`;
        return (
          <li class="report-files__item">
            {isInlineReportImage(f.type) ? <img class="report-files__img" src={href} alt={`Attached image ${f.name}`} loading="lazy" /> : null}
            <a class="report-files__link" href={href} download={f.name}>
              Download {f.name} ({sizeText(f.size)})
            </a>
          </li>
        );
      })}
    </ul>
  </div>
);

export const ReportsSection: FC<{ base: string; communityId: string; reports: { id: string; targetType: string; targetName: string | null; targetId: string; reason: string; attachedText: string | null; reporterName: string | null; escalatedAt?: Date | null; files: ReportFile[] }[] }> = (p) => (
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
        {r.files.length ? <ReportFiles communityId={p.communityId} reportId={r.id} files={r.files} /> : null}
        <div class="btn-row">
          <ActionButton action={`${p.base}/reports/${r.id}/resolve`} tone="primary" label="Resolve" />
          <ActionButton action={`${p.base}/reports/${r.id}/dismiss`} tone="ghost" label="Dismiss" />
        </div>
        {r.escalatedAt ? (
          <p class="muted" data-report-escalated>
            Escalated to the instance's administrators on {r.escalatedAt.toISOString().slice(0, 16).replace("T", " ")} UTC.
          </p>
        ) : (
          <Form action={`${p.base}/reports/${r.id}/escalate`} inline>
            <input class="input" name="note" maxlength={2000} placeholder="Why the administrators should look" aria-label={`Note for the administrators about this report`} />
            <button class="btn btn--secondary btn--sm" type="submit">
              Escalate to administrators
            </button>
          </Form>
        )}
      </li>
    ))}
  </ul>
);

export const AuditSection: FC<{ entries: CommunityAuditView[]; olderHref?: string }> = (p) => (
  <div class="stack">
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
  {p.olderHref ? (
    <a class="btn btn--secondary" href={p.olderHref} id="audit-older">
      Older entries
    </a>
  ) : null}
  </div>
);
