/**
 * /admin/communities (power `directory`) and /admin/reports (power `users`): lists, not tables, so
 * they read at 360 px; plain GET filters and POST forms that work without JavaScript. Every text a
 * user wrote (names, reasons, notes, the reporter's quoted text) goes through JSX, escaped.
 */
import type { FC } from "hono/jsx";
import { ErrorBanner, Field } from "../../../views/index.ts";
import { formatTime } from "../auth/index.ts";
import type { EscalatedReport, EscalationFilter } from "../moderation/index.ts";
import type { AdminCommunity } from "./communities.ts";

const bytes = (n: number) => (n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KiB` : n < 1024 ** 3 ? `${(n / 1024 ** 2).toFixed(1)} MiB` : `${(n / 1024 ** 3).toFixed(2)} GiB`);

export type CommunitiesListProps = { communities: AdminCommunity[]; q: string; page: number; hasMore: boolean };

const pageHref = (q: string, page: number) => `/admin/communities?${new URLSearchParams({ ...(q ? { q } : {}), page: String(page) }).toString()}`;

export const CommunitiesList: FC<CommunitiesListProps> = (p) => (
  <div class="stack">
    <form class="form card" method="get" action="/admin/communities" role="search" aria-label="Find communities">
      <Field name="q" label="Search" type="search" value={p.q} maxLength={100} hint="Community name or its owner's username." />
      <div class="form__actions">
        <button type="submit" class="btn btn--primary">
          Search
        </button>
      </div>
    </form>
    <section class="panel" aria-labelledby="communities-h">
      <div class="panel__header">
        <h2 class="panel__title" id="communities-h">
          Communities
        </h2>
      </div>
      <ul class="session-list" data-testid="communities-list">
        {p.communities.length === 0 ? <li class="session muted">No community matches.</li> : null}
        {p.communities.map((c) => (
          <li class="session" data-community-id={c.id}>
            <div class="session__main">
              <p class="session__device">
                <a href={`/c/${c.id}/settings`}>{c.name}</a>{" "}
                <span class="muted">
                  owned by {c.ownerName ? <a href={`/admin/users/${c.ownerId}`}>{c.ownerName}</a> : "a deleted user"}
                  {c.ownerUsername ? ` (@${c.ownerUsername})` : ""}
                </span>
              </p>
              <p class="session__meta muted">
                <span>{c.members} members</span> · <span>{c.channels} channels</span> · <span>{c.messages} messages</span> · <span>{bytes(c.storageBytes)} of files</span> · <span>created {formatTime(c.createdAt)}</span>
              </p>
            </div>
          </li>
        ))}
      </ul>
    </section>
    <p class="muted">
      The name opens the community's settings, where the instance owner can recover it (hand it to a new owner, remove members) as docs/communities.md describes. Counts are metadata: the server cannot read what members write.
    </p>
    <nav class="btn-row" aria-label="Pages">
      {p.page > 1 ? (
        <a class="btn btn--ghost btn--sm" href={pageHref(p.q, p.page - 1)} rel="prev">
          Newer
        </a>
      ) : null}
      {p.hasMore ? (
        <a class="btn btn--ghost btn--sm" href={pageHref(p.q, p.page + 1)} rel="next">
          Older
        </a>
      ) : null}
    </nav>
  </div>
);

const FILTER_LABELS: Record<EscalationFilter, string> = { open: "Open", closed: "Closed", all: "All" };

export const ReportsQueue: FC<{ reports: EscalatedReport[]; filter: EscalationFilter; error?: { id: string; message: string } }> = (p) => (
  <div class="stack">
    {p.error ? <ErrorBanner title="The report was not closed" message={p.error.message} /> : null}
    <p class="muted">
      Reports a community's moderators escalated to the instance's administrators. The reporter's quoted text is their claim: the server cannot read messages to check it.
    </p>
    <nav class="btn-row" aria-label="Show">
      {(Object.keys(FILTER_LABELS) as EscalationFilter[]).map((f) => (
        <a class={f === p.filter ? "btn btn--secondary btn--sm" : "btn btn--ghost btn--sm"} href={`/admin/reports?status=${f}`} aria-current={f === p.filter ? "page" : undefined}>
          {FILTER_LABELS[f]}
        </a>
      ))}
    </nav>
    <ul class="stack" data-testid="reports-queue">
      {p.reports.length === 0 ? <li class="card muted">No escalated reports here.</li> : null}
      {p.reports.map((r) => (
        <li class="card stack" data-report-id={r.id}>
          <p>
            <strong>{r.targetType === "user" ? (r.targetName ?? "a deleted user") : "A message"}</strong> in {r.communityName ?? "a deleted community"}, reported by {r.reporterName ?? "a deleted user"} on {formatTime(r.createdAt)}
            {r.targetType === "user" ? (
              <>
                {" "}· <a href={`/admin/users/${r.targetId}`}>their account</a>
              </>
            ) : null}
          </p>
          <p>{r.reason}</p>
          {r.attachedText ? (
            <blockquote>
              <p class="muted">Text the reporter says they saw (not verifiable by the server):</p>
              {r.attachedText}
            </blockquote>
          ) : null}
          <p class="muted">
            Escalated by {r.escalatedByName ?? "a deleted user"} on {formatTime(r.escalatedAt)}
            {r.escalationNote ? <>: “{r.escalationNote}”.</> : "."} The community marked it {r.communityStatus}.
          </p>
          {r.adminStatus === "open" ? (
            <form method="post" action={`/admin/reports/${r.id}/close`} class="form">
              <Field name="note" id={`note-${r.id}`} label="Note (kept in the audit log)" maxLength={2000} error={p.error?.id === r.id ? p.error.message : undefined} />
              <div class="btn-row">
                <button type="submit" name="outcome" value="resolved" class="btn btn--primary btn--sm">
                  Resolve
                </button>
                <button type="submit" name="outcome" value="dismissed" class="btn btn--ghost btn--sm">
                  Dismiss
                </button>
              </div>
            </form>
          ) : (
            <p data-admin-status={r.adminStatus}>
              {r.adminStatus === "resolved" ? "Resolved" : "Dismissed"} by {r.adminClosedByName ?? "a deleted user"}
              {r.adminClosedAt ? ` on ${formatTime(r.adminClosedAt)}` : ""}
              {r.adminNote ? <>: “{r.adminNote}”.</> : "."}
            </p>
          )}
        </li>
      ))}
    </ul>
  </div>
);
