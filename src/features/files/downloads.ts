/**
 * Downloads (docs/files.md "Downloading"): the ciphertext streamed from the blob store, whole or
 * one byte range (RFC 9110 §14: `bytes=a-b`, `bytes=a-`, `bytes=-n`; several ranges or another
 * unit are ignored and the whole file is sent; a range starting past the end is 416).
 *
 * Who may download: whoever may read the message that carries the file (channel viewers, DM
 * participants), while the message is neither deleted nor expired; a file no message carries
 * yet, only its uploader, once complete. Everyone else gets 404 FILE_NOT_FOUND, the same answer
 * as an unknown id.
 */
import type { AppDeps } from "../../deps.ts";
import { AppError, NotFoundError } from "../../errors.ts";
import { parseBlobId, type BlobStat } from "../../blobs/index.ts";
import type { Executor } from "../../db/tx.ts";
import { isUuid, type ActorRef } from "../permissions/index.ts";
import { dbOf, nowOf } from "../communities/index.ts";
import { accessMessage } from "../messages/index.ts";
import { findFile, listParts, type FileRow } from "./queries.ts";
import { stoppable, trackTransfer } from "./transfers.ts";

function fileNotFound(): NotFoundError {
  return new NotFoundError("No such file.", "FILE_NOT_FOUND");
}

/** The file row when the actor may read it; 404 FILE_NOT_FOUND otherwise. */
export async function accessFile(db: Executor, actor: ActorRef, id: string, now: Date): Promise<FileRow> {
  const row = isUuid(id) ? await findFile(db, id.toLowerCase()) : undefined;
  if (!row || !row.completed_at || row.released_at) throw fileNotFound();
  if (row.message_id) {
    try {
      const access = await accessMessage(db, actor, row.message_id, now);
      if (access.message.deleted_at) throw fileNotFound();
    } catch (error) {
      if (error instanceof AppError && error.status === 404) throw fileNotFound();
      throw error;
    }
    return row;
  }
  if (row.uploader_id !== actor.userId) throw fileNotFound();
  // Unattached uploads expire (the files job removes them); a scheduled message's file stays.
  if (!row.scheduled_message_id && row.expires_at.getTime() <= now.getTime()) throw fileNotFound();
  return row;
}

export type ByteRange = { start: number; end: number };

/** undefined = send the whole file; "unsatisfiable" = 416. `end` is exclusive. */
export function parseRange(header: string | null, size: number): ByteRange | "unsatisfiable" | undefined {
  if (header === null) return undefined;
  const m = /^bytes=(\d{0,16})-(\d{0,16})$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return undefined;
  if (m[1] === "") {
    const suffix = Number(m[2]);
    if (suffix === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix), end: size };
  }
  const start = Number(m[1]);
  if (start >= size) return "unsatisfiable";
  const last = m[2] === "" ? size - 1 : Number(m[2]);
  if (last < start) return undefined; // syntactically invalid: ignored (RFC 9110 §14.1.1)
  return { start, end: Math.min(last + 1, size) };
}

/** The stream stops (errors) when the actor's session is revoked meanwhile (transfers.ts). */
export async function downloadFile(deps: AppDeps, actor: ActorRef & { sessionId?: string }, id: string, request: Request): Promise<Response> {
  const db = dbOf(deps);
  const row = await accessFile(db, actor, id, nowOf(deps));
  const size = Number(row.size);
  const blobId = parseBlobId(row.blob_id);
  const parts = await listParts(db, row.id);
  const stat: BlobStat = { id: blobId, size, parts: parts.map((p) => ({ index: p.part, size: p.size })), modifiedAt: row.completed_at! };
  const headers: Record<string, string> = {
    "content-type": "application/octet-stream",
    "accept-ranges": "bytes",
    "cache-control": "private, no-store",
    "content-disposition": "attachment",
    etag: `"${row.blob_id}"`,
  };
  const range = parseRange(request.headers.get("range"), size);
  if (range === "unsatisfiable") {
    const body = { error: { code: "RANGE_NOT_SATISFIABLE", message: "The requested range is outside the file." } };
    return new Response(JSON.stringify(body), { status: 416, headers: { "content-type": "application/json; charset=utf-8", "content-range": `bytes */${size}`, "cache-control": "no-store" } });
  }
  const { start, end } = range ?? { start: 0, end: size };
  const stream = await deps.blobs!.readBlob(blobId, { start, end, stat });
  const transfer = trackTransfer(deps, actor);
  headers["content-length"] = String(end - start);
  if (range) headers["content-range"] = `bytes ${start}-${end - 1}/${size}`;
  return new Response(stoppable(stream, transfer.signal, transfer.done), { status: range ? 206 : 200, headers });
}
