/** Rows of files and file_parts (migrations/0013_files.sql). */
import type { Selectable } from "kysely";
import type { Executor } from "../../db/tx.ts";
import type { FilesTable } from "../../db/schema.ts";

export type FileRow = Selectable<FilesTable>;

export async function findFile(db: Executor, id: string): Promise<FileRow | undefined> {
  const row = await db.selectFrom("files").selectAll().where("id", "=", id).executeTakeFirst();
  return row ? normalise(row) : undefined;
}

/** Acknowledged parts in order. */
export async function listParts(db: Executor, fileId: string): Promise<{ part: number; size: number }[]> {
  return db.selectFrom("file_parts").select(["part", "size"]).where("file_id", "=", fileId).orderBy("part").execute();
}

function normalise(row: FileRow): FileRow {
  const date = (d: Date | string | null) => (d === null ? null : new Date(d));
  return { ...row, created_at: date(row.created_at)!, expires_at: date(row.expires_at)!, completed_at: date(row.completed_at), released_at: date(row.released_at) };
}
