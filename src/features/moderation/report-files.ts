/**
 * Files attached to a report (issue 12 §7, docs/communities.md "Files in reports"). The server
 * cannot read a message's files; a reporter who wants the moderators to see one sends it as their
 * browser decrypted it — plaintext disclosed by the reporter's choice, like `attached_text`, and
 * just as unverifiable: it is what the reporter says the message carried.
 *
 *   addReportFile    the reporter, while their message report is open and at most an hour old;
 *                    everyone else 404 REPORT_NOT_FOUND, exactly like an unknown id
 *   readReportFile   the community's moderators (review_reports); outsiders 404, members 403
 *
 * Bounds: REPORT_FILES_MAX_BYTES over all of a report's files (413 REPORT_FILES_TOO_LARGE,
 * before reading when the length is declared, else as soon as the stream passes it) and
 * REPORT_FILES_MAX_COUNT files (409 REPORT_FILES_TOO_MANY). The bytes live in report_files next to
 * the report, and go with it (CASCADE).
 */
import type { AppDeps } from "../../deps.ts";
import { AppError, ConflictError, InvalidInputError, NotFoundError } from "../../errors.ts";
import { accessCommunity, isUuid, requireCan } from "../permissions/index.ts";
import { dbOf, mutate, nowOf, type ActorLike } from "../communities/index.ts";

/** All of one report's files together. */
export const REPORT_FILES_MAX_BYTES = 10 * 1024 * 1024;
export const REPORT_FILES_MAX_COUNT = 10;
/**
 * The upload route's body budget: the bound plus a margin, so that a body over the bound is
 * refused here (REPORT_FILES_TOO_LARGE) before the body guard's generic cut at the budget.
 */
export const REPORT_FILES_BODY_BUDGET = REPORT_FILES_MAX_BYTES + 64 * 1024;
/** A reporter adds files right after sending the report, not later. */
export const REPORT_FILES_WINDOW_MS = 60 * 60 * 1000;
/** Served inline to moderators (as an <img>); every other type is a download. */
const INLINE_IMAGES = new Set(["image/jpeg", "image/png", "image/webp", "image/gif", "image/avif"]);
const TYPE = /^[a-z0-9.+-]+\/[a-z0-9.+-]+$/;

export type ReportFileView = { id: string; name: string; type: string; size: number };

function reportNotFound(): NotFoundError {
  return new NotFoundError("No such report.", "REPORT_NOT_FOUND");
}

function tooLarge(): AppError {
  return new AppError("REPORT_FILES_TOO_LARGE", 413, `A report's files may take ${REPORT_FILES_MAX_BYTES / 1024 / 1024} MB together.`, { maxBytes: REPORT_FILES_MAX_BYTES });
}

/** Reads the body up to `room` bytes; throws 413 as soon as it passes them (the stream is cancelled). */
async function readBounded(request: Request, room: number): Promise<Uint8Array> {
  const length = request.headers.get("content-length");
  if (length !== null && Number(length) > room) throw tooLarge();
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > room) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    parts.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export async function addReportFile(deps: AppDeps, actor: ActorLike, reportId: string, meta: { name: string; type: string }, request: Request): Promise<ReportFileView> {
  const db = dbOf(deps);
  const now = nowOf(deps);
  const name = meta.name.replace(/[\u0000-\u001f\u007f/\\]/g, "_").trim();
  if (!name) throw new InvalidInputError("name is required.", { name: "Give the file's name." });
  const type = meta.type.toLowerCase();
  if (!TYPE.test(type)) throw new InvalidInputError("type must be a MIME type.", { type: "A MIME type such as image/png." });
  const check = async (tx: typeof db) => {
    const report = isUuid(reportId) ? await tx.selectFrom("reports").select(["id", "reporter_id", "target_type", "status", "created_at"]).where("id", "=", reportId.toLowerCase()).executeTakeFirst() : undefined;
    if (!report || report.reporter_id !== actor.userId) throw reportNotFound();
    if (report.target_type !== "message") throw new ConflictError("Files go with reports of a message.", "REPORT_NOT_MESSAGE");
    if (report.status !== "open" || now.getTime() - report.created_at.getTime() > REPORT_FILES_WINDOW_MS) throw new ConflictError("Files can be added to a report only while it is open, within an hour of sending it.", "REPORT_FILES_CLOSED");
    const used = await tx.selectFrom("report_files").select((eb) => [eb.fn.countAll<number>().as("n"), eb.fn.coalesce(eb.fn.sum<number>("size"), eb.lit(0)).as("bytes")]).where("report_id", "=", report.id).executeTakeFirstOrThrow();
    if (Number(used.n) >= REPORT_FILES_MAX_COUNT) throw new ConflictError(`A report carries at most ${REPORT_FILES_MAX_COUNT} files.`, "REPORT_FILES_TOO_MANY");
    return { id: report.id, room: REPORT_FILES_MAX_BYTES - Number(used.bytes) };
  };
  const { room } = await check(db);
  const contentType = (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (contentType !== "application/octet-stream") throw new AppError("UNSUPPORTED_MEDIA_TYPE", 415, "A report's file is sent as application/octet-stream.");
  const data = await readBounded(request, room);
  return mutate(deps, async (tx) => {
    // Again, with the report row locked: two uploads at once cannot pass the bound together.
    await tx.selectFrom("reports").select("id").where("id", "=", reportId.toLowerCase()).forUpdate().execute();
    const again = await check(tx as unknown as typeof db);
    if (data.length > again.room) throw tooLarge();
    const id = Bun.randomUUIDv7();
    await tx.insertInto("report_files").values({ id, report_id: again.id, name: name.slice(0, 255), type, size: data.length, data, created_at: now }).execute();
    return { id, name: name.slice(0, 255), type, size: data.length };
  });
}

/** The files of these reports (for the moderators' queue), without their bytes. */
export async function listReportFiles(deps: AppDeps, reportIds: string[]): Promise<Map<string, ReportFileView[]>> {
  const out = new Map<string, ReportFileView[]>();
  if (!reportIds.length) return out;
  const rows = await dbOf(deps).selectFrom("report_files").select(["id", "report_id", "name", "type", "size"]).where("report_id", "in", reportIds).orderBy("created_at").execute();
  for (const r of rows) {
    const list = out.get(r.report_id) ?? [];
    list.push({ id: r.id, name: r.name, type: r.type, size: r.size });
    out.set(r.report_id, list);
  }
  return out;
}

/** Whether a moderator's page shows the file as an image. */
export function isInlineReportImage(type: string): boolean {
  return INLINE_IMAGES.has(type);
}

/** The file for a moderator of the report's community: an image inline, anything else as a download. */
export async function readReportFile(deps: AppDeps, actor: ActorLike, communityId: string, reportId: string, fileId: string): Promise<Response> {
  const db = dbOf(deps);
  const access = await accessCommunity(db, actor, communityId, nowOf(deps));
  requireCan(access, "review_reports");
  const row = isUuid(reportId) && isUuid(fileId)
    ? await db.selectFrom("report_files as f").innerJoin("reports as r", "r.id", "f.report_id").select(["f.name", "f.type", "f.size", "f.data"]).where("f.id", "=", fileId.toLowerCase()).where("r.id", "=", reportId.toLowerCase()).where("r.community_id", "=", access.community.id).executeTakeFirst()
    : undefined;
  if (!row) throw new NotFoundError("No such file.", "REPORT_FILE_NOT_FOUND");
  const inline = isInlineReportImage(row.type);
  const ascii = row.name.replace(/[^\x20-\x7e]|["\\]/g, "_");
  return new Response(row.data as Uint8Array<ArrayBuffer>, {
    headers: {
      "content-type": inline ? row.type : "application/octet-stream",
      "content-length": String(row.size),
      "content-disposition": `${inline ? "inline" : "attachment"}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(row.name)}`,
      "cache-control": "private, no-store",
      "x-content-type-options": "nosniff",
      // Reporter-supplied bytes: never a document with any power, whatever they hold.
      "content-security-policy": "default-src 'none'; sandbox",
    },
  });
}
