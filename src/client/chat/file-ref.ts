// How a message's ciphertext describes one file (plaintext.ts ChatContent `files`): what a reader
// needs to download, decrypt and show it. Written by the sender's tray (files-ui.ts), checked
// here before anything is fetched: a modified client can put anything in a message.
//
//   { id, key, header: { v, chunkSize, noncePrefix }, name, type, size,
//     width?, height?, codecs?, thumb?: { id, key, header, type, width, height } }
//
// `key` is the file's 256-bit key (base64url); `header` the attachment header (attachments.ts);
// `size` the plaintext size in bytes; a thumbnail is a small JPEG uploaded as its own blob (an
// image's, or a video's poster frame); `codecs` the codecs of a WebM video or audio when the
// sender knows them (a recording, or read from the file's track list), which lets the reader
// stream it into a MediaSource (media-view.ts).
import { encodeAttachmentHeader, parseAttachmentHeader } from "../../shared/e2ee/attachment-header.ts";
import { decodeBase64url, encodeBase64url } from "../../shared/e2ee/base64url.ts";
import type { FileRef, UploadState } from "../files/index.ts";

export type SentThumb = FileRef & { type: string; width: number; height: number };
export type SentFile = FileRef & { name: string; type: string; size: number; width?: number; height?: number; codecs?: string; thumb?: SentThumb };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TYPE = /^[a-z0-9.+-]+\/[a-z0-9.+-]+$/i;
const CODECS = /^[a-z0-9.]+(,[a-z0-9.]+)?$/i;
const MAX_NAME = 255;
const MAX_SIDE = 100_000;

function refOf(state: UploadState): Record<string, unknown> {
  return { id: state.id, key: encodeBase64url(state.key), header: encodeAttachmentHeader(state.header) };
}

export function describeFile(state: UploadState, meta: { name: string; type: string; size: number; width?: number; height?: number; codecs?: string }, thumb?: { state: UploadState; width: number; height: number }): Record<string, unknown> {
  const out: Record<string, unknown> = { ...refOf(state), name: meta.name.slice(0, MAX_NAME), type: TYPE.test(meta.type) ? meta.type : "application/octet-stream", size: meta.size };
  if (meta.width && meta.height) Object.assign(out, { width: meta.width, height: meta.height });
  if (meta.codecs && CODECS.test(meta.codecs)) out.codecs = meta.codecs;
  if (thumb) out.thumb = { ...refOf(thumb.state), type: "image/jpeg", width: thumb.width, height: thumb.height };
  return out;
}

function readRef(o: Record<string, unknown>): FileRef | null {
  if (typeof o.id !== "string" || !UUID.test(o.id) || typeof o.key !== "string") return null;
  const key = decodeBase64url(o.key);
  if (key.length !== 32) return null;
  return { id: o.id, key, header: parseAttachmentHeader(o.header) };
}

const side = (n: unknown): number | undefined => (typeof n === "number" && Number.isInteger(n) && n > 0 && n <= MAX_SIDE ? n : undefined);

/** The file a message describes, or null when the description is not one this client wrote. */
export function readSentFile(raw: unknown): SentFile | null {
  try {
    if (typeof raw !== "object" || raw === null) return null;
    const o = raw as Record<string, unknown>;
    const ref = readRef(o);
    if (!ref || typeof o.name !== "string" || typeof o.type !== "string" || !TYPE.test(o.type)) return null;
    if (typeof o.size !== "number" || !Number.isSafeInteger(o.size) || o.size < 0) return null;
    // Names are shown with textContent and offered as a download name: no control characters or paths.
    const name = o.name.replace(/[\u0000-\u001f\u007f/\\]/g, "_").slice(0, MAX_NAME) || "file";
    const file: SentFile = { ...ref, name, type: o.type.toLowerCase(), size: o.size, width: side(o.width), height: side(o.height) };
    if (typeof o.codecs === "string" && CODECS.test(o.codecs)) file.codecs = o.codecs.toLowerCase();
    const t = o.thumb as Record<string, unknown> | undefined;
    if (t && typeof t === "object") {
      const thumb = readRef(t);
      const width = side(t.width);
      const height = side(t.height);
      if (thumb && width && height) file.thumb = { ...thumb, type: "image/jpeg", width, height };
    }
    return file;
  } catch {
    return null;
  }
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB"];
  let n = bytes / 1024;
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n < 10 ? n.toFixed(1) : Math.round(n)} ${units[i]}`;
}
