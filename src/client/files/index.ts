/**
 * Encrypted files, browser side (docs/files.md "Client library"). Lazily imported by the UI
 * (`await import(...)`): nothing here is in the chat bundle's first load.
 *
 *   uploadFile(api, { channelId, file })   encrypt (attachments.ts) + upload in parts
 *   startUpload(api, { channelId, file })  only the session (key, header, quota reserved)
 *   resumeUpload(api, state, file)         after a dropped connection: only the parts the
 *                                          server has not acknowledged are sent again
 *   downloadFile(api, ref)                 fetch + decrypt, as a stream
 *
 * A part is encrypted from its plaintext slice of the file when it is sent, chunk by chunk with
 * the STREAM nonces of attachments.ts (chunk j's nonce depends only on the prefix and j), so the
 * same key and header reproduce the same ciphertext for any part: a resumed upload never needs
 * the parts before it, and the file is never in memory whole (one part at a time).
 */
export { downloadFile, FileApiError, resumeUpload, startUpload, uploadFile, type FileRef, type FilesApi, type UploadOptions, type UploadState } from "./files.ts";
