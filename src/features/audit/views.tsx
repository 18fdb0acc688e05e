/**
 * /admin/audit-log: filters, the chain's integrity (the current anchor to copy off the server, a
 * "Verify now" check that names the first broken link), exports carrying the filters, and the
 * entries newest first. Every value is text in JSX (escaped); metadata is shown as JSON text.
 */
import type { FC } from "hono/jsx";
import { ErrorBanner, Field } from "../../../views/index.ts";
import { formatTime, type AuditRow } from "../auth/index.ts";
import type { Verification } from "./chain.ts";
import { anchorText } from "./chain.ts";

export type AuditFilterValues = { action?: string; actor?: string; target?: string; since?: string; until?: string };

export function filterParams(f: AuditFilterValues, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) if (v) params.set(k, v);
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  const s = params.toString();
  return s ? `?${s}` : "";
}

const REASONS: Record<NonNullable<Verification["broken"]>["reason"], string> = {
  changed: "its content no longer matches its hash: the entry was edited",
  missing: "no entry holds this place: an entry was deleted",
  link: "it does not follow the entry before it: entries were reordered or replaced",
  checkpoint: "the retention checkpoint's signature is wrong: the checkpoint was altered",
  head: "the chain's head does not match its last entry: entries at the end were removed or altered",
};

export const VerificationResult: FC<{ result: Verification; anchorCheck?: string }> = ({ result, anchorCheck }) => (
  <div role="status" class={result.ok && (!anchorCheck || anchorCheck === "ok") ? "verify-result verify-result--ok" : "verify-result verify-result--broken"} data-verification={result.ok ? "ok" : "broken"}>
    {result.ok ? (
      <p>
        The chain is intact: {result.checked} {result.checked === 1 ? "entry" : "entries"} checked
        {result.checkpoint ? ` from the retention checkpoint at place ${result.checkpoint.pos}` : " from the start"} to place {result.head.pos}.
      </p>
    ) : (
      <p data-broken-pos={String(result.broken!.pos)}>
        The chain is broken at place {result.broken!.pos}
        {result.broken!.id ? ` (entry ${result.broken!.id})` : ""}: {REASONS[result.broken!.reason]}. Entries before it verified ({result.checked}).
      </p>
    )}
    {anchorCheck ? (
      <p data-anchor-check={anchorCheck}>
        {anchorCheck === "ok"
          ? "The anchor you gave matches the log."
          : anchorCheck === "mismatch"
            ? "The anchor you gave does NOT match the log: the log was rewritten after that anchor was taken."
            : anchorCheck === "ahead"
              ? "The anchor you gave names a place the log has not reached: entries were removed, or the anchor is from another instance."
              : anchorCheck === "pruned"
                ? "The anchor's place was pruned by retention; only later anchors can be checked."
                : "That is not an anchor line (hearth-audit-anchor v1 PLACE HASH)."}
      </p>
    ) : null}
  </div>
);

export type AuditPageProps = {
  entries: AuditRow[];
  nextBefore: string | null;
  filters: AuditFilterValues;
  filterError?: string;
  head: { pos: number; hash: string };
  verification?: { result: Verification; anchorCheck?: string; anchor?: string };
};

export const AuditLogPage: FC<AuditPageProps> = (p) => (
  <div class="stack">
    <section class="card stack" aria-labelledby="audit-integrity-h">
      <h2 id="audit-integrity-h">Integrity</h2>
      <p class="muted">
        Every entry is chained to the one before it with a keyed hash: editing, deleting or reordering an entry in the database breaks the chain at that entry. Copy the current anchor somewhere off this server now and then; checking an old anchor later proves the log was not rewritten since.
      </p>
      <p class="break-anywhere">
        Current anchor: <code id="audit-anchor">{anchorText(p.head)}</code>{" "}
        <button type="button" class="btn btn--secondary" data-copy-target="audit-anchor">
          Copy anchor
        </button>
      </p>
      {p.verification ? <VerificationResult result={p.verification.result} anchorCheck={p.verification.anchorCheck} /> : null}
      <form class="form" method="post" action="/admin/audit-log/verify" id="audit-verify-form">
        <Field name="anchor" label="An anchor you copied earlier (optional)" value={p.verification?.anchor} maxLength={120} hint="hearth-audit-anchor v1 PLACE HASH" />
        <div class="form__actions">
          <button type="submit" class="btn btn--primary">
            Verify now
          </button>
        </div>
      </form>
    </section>
    <form class="form card" method="get" action="/admin/audit-log" role="search" aria-label="Filter the audit log">
      {p.filterError ? <ErrorBanner title="Could not filter" message={p.filterError} /> : null}
      <div class="form-grid">
        <Field name="action" label="Action" value={p.filters.action} maxLength={64} hint="For example login_failed or user_suspended." />
        <Field name="actor" label="Actor" value={p.filters.actor} maxLength={64} hint="A username or user id." />
        <Field name="target" label="Target id" value={p.filters.target} maxLength={64} />
        <Field name="since" label="From (UTC)" type="date" value={p.filters.since} />
        <Field name="until" label="To (UTC, inclusive)" type="date" value={p.filters.until} />
      </div>
      <div class="form__actions">
        <button type="submit" class="btn btn--primary">
          Filter
        </button>
        <a class="btn btn--secondary" href="/admin/audit-log">
          Clear
        </a>
        <a class="btn btn--secondary" href={`/api/admin/audit-log/export${filterParams(p.filters, { format: "csv" })}`} download>
          Export CSV
        </a>
        <a class="btn btn--secondary" href={`/api/admin/audit-log/export${filterParams(p.filters, { format: "json" })}`} download>
          Export JSON
        </a>
      </div>
    </form>
    <ul class="session-list card" data-testid="audit-list" aria-label="Audit entries">
      {p.entries.length === 0 ? <li class="session muted">Nothing recorded{Object.values(p.filters).some(Boolean) ? " matches these filters" : " yet"}.</li> : null}
      {p.entries.map((e) => (
        <li class="session" data-audit-id={e.id}>
          <div class="session__main">
            <p class="session__device">
              <code>{e.action}</code> {e.actorUsername ? <span>by {e.actorUsername}</span> : null}
            </p>
            <p class="session__meta muted break-anywhere">
              <time datetime={e.createdAt.toISOString()}>{formatTime(e.createdAt)}</time>
              {e.ip ? ` · IP ${e.ip}` : ""}
              {e.targetType ? ` · ${e.targetType} ${e.targetId ?? ""}` : ""}
              {Object.keys(e.metadata).length > 0 ? ` · ${JSON.stringify(e.metadata)}` : ""}
            </p>
          </div>
        </li>
      ))}
    </ul>
    {p.nextBefore ? (
      <p>
        <a class="btn btn--secondary" href={`/admin/audit-log${filterParams(p.filters, { before: p.nextBefore })}`}>
          Older entries
        </a>
      </p>
    ) : null}
  </div>
);
