/**
 * Files (issue 12, docs/files.md): end-to-end encrypted uploads in the blob store (src/blobs).
 *   fileRoutes(deps)              the /api/files… routes
 *   attachFiles / parseFileIds    a send carrying `file_ids` (messages/send.ts, scheduled.ts)
 *   releaseFilesOf                message deletion and ban purges (messages/edit-delete.ts)
 *   collectFiles / startFileJobs  expiry, released files, orphan blobs (main.ts)
 */
export { fileRoutes } from "./routes.ts";
export { attachFiles, listScheduledFileIds, parseFileIds, releaseFilesOf } from "./attach.ts";
export { collectFiles, startFileJobs, type FileCollection } from "./jobs.ts";
export { usedBytes } from "./uploads.ts";
export { UPLOAD_RATE, UPLOAD_SESSION_TTL_MS, MAX_PART_SIZE, MAX_FILES_PER_MESSAGE, ciphertextSizeOf } from "./limits.ts";
