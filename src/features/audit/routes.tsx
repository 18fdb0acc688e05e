/**
 * The admin area's audit-log tab (docs/admin.md "Audit log"), guarded by the `audit` power: the
 * JSON API under /api/admin/audit-log (list with filters, export as CSV or JSON, verify) and the
 * page /admin/audit-log, both on the same services (chain.ts, listAuditEntries). Exports and
 * verifications are themselves audited.
 */
import { announcementBanner } from "../announcements/index.ts";
import { Elysia, t } from "elysia";
import type { AppDeps } from "../../deps.ts";
import { InvalidInputError } from "../../errors.ts";
import { page } from "../../http/render.ts";
import { int, queryOf, text, Uuid } from "../../http/input-schemas.ts";
import { AccountShell, authGuard, authKernelOf, insertAuditEntry, shellUserOf, listAuditEntries, requestMeta, type Actor, type AuditFilter, type AuditRow } from "../auth/index.ts";
import { checkAnchor, parseAnchor, sealAuditLog, verifyAuditLog, type Verification } from "./chain.ts";
import { AuditLogPage, type AuditFilterValues, type AuditPageProps } from "./views.tsx";

/** YYYY-MM-DD or a full ISO time (UTC). */
const DATE_PATTERN = "^\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,3})?)?Z)?$";
const Time = t.String({ pattern: DATE_PATTERN, maxLength: 24, description: "A day (YYYY-MM-DD, UTC) or an ISO time ending in Z." });
const FILTERS = { action: text(64), actor: text(64), target: text(64), since: Time, until: Time };
const ListQuery = queryOf({ limit: int(1, 200), before: Uuid, ...FILTERS });
const ExportQuery = queryOf({ format: t.Union([t.Literal("csv"), t.Literal("json")]), ...FILTERS });
const PageQuery = queryOf({ before: Uuid, ...FILTERS });
const VerifyBody = t.Object({ anchor: t.Optional(t.String({ maxLength: 120, description: "An anchor line copied earlier: hearth-audit-anchor v1 PLACE HASH." })) });

/** Rows per export, newest first: enough for years of a busy instance, bounded for memory and time. */
export const EXPORT_MAX_ROWS = 100_000;
const EXPORT_PAGE = 1000;

/** A day alone means: from its start (since) or through its end (until). */
function toFilter(q: AuditFilterValues): AuditFilter {
  const at = (v: string | undefined, endOfDay: boolean) => {
    if (!v) return undefined;
    const d = new Date(v.length === 10 ? `${v}T00:00:00Z` : v);
    if (Number.isNaN(d.getTime())) throw new InvalidInputError(`Not a date: ${v}.`, {}, "INVALID_DATE");
    return v.length === 10 && endOfDay ? new Date(d.getTime() + 86_400_000) : d;
  };
  const since = at(q.since, false);
  const until = at(q.until, true);
  if (since && until && since >= until) throw new InvalidInputError('"From" must be before "To".', { until: "Must be after From." }, "INVALID_RANGE");
  return { action: q.action || undefined, actor: q.actor || undefined, target: q.target || undefined, since, until };
}

function entryJson(r: AuditRow) {
  return {
    id: r.id,
    actor_id: r.actorId,
    actor_username: r.actorUsername,
    action: r.action,
    target_type: r.targetType,
    target_id: r.targetId,
    ip: r.ip,
    user_agent: r.userAgent,
    metadata: r.metadata,
    created_at: r.createdAt.toISOString(),
  };
}

const CSV_COLUMNS = ["id", "created_at", "action", "actor_id", "actor_username", "target_type", "target_id", "ip", "user_agent", "metadata"] as const;

/**
 * One CSV field. Quoted always; a value a spreadsheet would run as a formula (a username or user
 * agent starting with = + - @, tab or CR chosen by whoever triggered the entry) gets a leading
 * apostrophe (OWASP "CSV injection").
 */
function csvField(value: unknown): string {
  let s = value === null || value === undefined ? "" : typeof value === "string" ? value : JSON.stringify(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return `"${s.replace(/"/g, '""')}"`;
}

function verificationJson(v: Verification, anchorCheck?: string) {
  return {
    ok: v.ok && (!anchorCheck || anchorCheck === "ok"),
    chain_ok: v.ok,
    checked: v.checked,
    head: v.head,
    checkpoint: v.checkpoint ? { pos: v.checkpoint.pos, hash: v.checkpoint.hash, pruned_rows: v.checkpoint.prunedRows, created_at: v.checkpoint.createdAt.toISOString() } : null,
    broken: v.broken,
    ...(anchorCheck ? { anchor: anchorCheck } : {}),
  };
}

export function auditRoutes(deps: AppDeps) {
  const db = deps.database.db;
  const kernel = authKernelOf(deps);
  const key = deps.secrets.auditKey;
  const now = () => new Date(kernel.now());

  /** Seals, verifies, checks the anchor if one was given, and records that it was done. */
  const verify = async (actor: Actor, anchor: string | undefined, request: Request) => {
    await sealAuditLog(db, key);
    const result = await verifyAuditLog(db, key);
    let anchorCheck: string | undefined;
    if (anchor?.trim()) {
      const parsed = parseAnchor(anchor);
      anchorCheck = parsed ? await checkAnchor(db, parsed) : "invalid";
    }
    await insertAuditEntry(db, { actorId: actor.userId, action: "audit_log_verified", metadata: { ok: result.ok, checked: result.checked, broken_pos: result.broken?.pos ?? null, anchor: anchorCheck ?? null }, at: now(), meta: requestMeta(request) });
    return { result, anchorCheck };
  };

  const auditPage = async (actor: Actor, q: AuditFilterValues & { before?: string }, verification?: AuditPageProps["verification"], status = 200) => {
    const filters: AuditFilterValues = { action: q.action, actor: q.actor, target: q.target, since: q.since, until: q.until };
    let filterError: string | undefined;
    let filter: AuditFilter = {};
    try {
      filter = toFilter(filters);
    } catch (error) {
      if (!(error instanceof InvalidInputError)) throw error;
      filterError = error.publicMessage;
    }
    const limit = 50;
    const entries = filterError ? [] : await listAuditEntries(db, { limit, before: q.before, ...filter });
    const { head } = await sealAuditLog(db, key);
    const body = <AuditLogPage entries={entries} nextBefore={entries.length === limit ? entries[entries.length - 1]!.id : null} filters={filters} filterError={filterError} head={head} verification={verification} />;
    return page(
      <AccountShell
        assets={deps.assets.page()}
        user={shellUserOf(actor)}
        title="Audit log"
        current="audit"
        description="Security and administrative actions, newest first."
        banner={await announcementBanner(deps, actor.userId)}
      >
        {body}
      </AccountShell>,
      { status },
    );
  };

  return new Elysia({ name: "audit-log" })
    .use(authGuard(deps))
    .get(
      "/api/admin/audit-log",
      async ({ query }) => {
        const limit = query.limit ?? 50;
        const rows = await listAuditEntries(db, { limit, before: query.before, ...toFilter(query) });
        return { entries: rows.map(entryJson), next_before: rows.length === limit ? rows[rows.length - 1]!.id : null };
      },
      { admin: "audit", query: ListQuery },
    )
    .get(
      "/api/admin/audit-log/export",
      async ({ actor, query, request }) => {
        const filter = toFilter(query);
        const format = query.format ?? "json";
        await insertAuditEntry(db, { actorId: actor.userId, action: "audit_log_exported", metadata: { format, filter: { ...query, format: undefined } }, at: now(), meta: requestMeta(request) });
        const encoder = new TextEncoder();
        let before: string | undefined;
        let sent = 0;
        let started = false;
        // Streamed page by page (keyset), so memory stays flat however long the log is.
        const stream = new ReadableStream<Uint8Array>({
          async pull(controller) {
            if (!started) {
              started = true;
              controller.enqueue(encoder.encode(format === "csv" ? `${CSV_COLUMNS.join(",")}\r\n` : '{"entries":['));
            }
            const rows = sent >= EXPORT_MAX_ROWS ? [] : await listAuditEntries(db, { limit: Math.min(EXPORT_PAGE, EXPORT_MAX_ROWS - sent), before, ...filter });
            if (rows.length === 0) {
              controller.enqueue(encoder.encode(format === "csv" ? "" : `],"truncated":${sent >= EXPORT_MAX_ROWS}}\n`));
              controller.close();
              return;
            }
            const chunk =
              format === "csv"
                ? rows.map((r) => { const j = entryJson(r); return CSV_COLUMNS.map((c) => csvField(j[c])).join(",") + "\r\n"; }).join("")
                : rows.map((r, i) => (sent + i > 0 ? "," : "") + JSON.stringify(entryJson(r))).join("");
            sent += rows.length;
            before = rows[rows.length - 1]!.id;
            controller.enqueue(encoder.encode(chunk));
          },
        });
        const stamp = now().toISOString().slice(0, 19).replace(/[:T]/g, "-");
        return new Response(stream, {
          headers: {
            "content-type": format === "csv" ? "text/csv; charset=utf-8" : "application/json; charset=utf-8",
            "content-disposition": `attachment; filename="hearth-audit-${stamp}.${format}"`,
            "cache-control": "no-store",
          },
        });
      },
      { admin: "audit", query: ExportQuery },
    )
    .post(
      "/api/admin/audit-log/verify",
      async ({ actor, body, request }) => {
        const { result, anchorCheck } = await verify(actor, body?.anchor, request);
        return verificationJson(result, anchorCheck);
      },
      { admin: "audit", body: VerifyBody },
    )
    .get("/admin/audit-log", ({ actor, query }) => auditPage(actor, query), { admin: "audit", query: PageQuery })
    .post(
      "/admin/audit-log/verify",
      async ({ actor, body, request }) => {
        const anchor = body?.anchor ?? "";
        const v = await verify(actor, anchor, request);
        return auditPage(actor, {}, { ...v, anchor }, v.result.ok && (!v.anchorCheck || v.anchorCheck === "ok") ? 200 : 409);
      },
      { admin: "audit", body: VerifyBody },
    );
}
