import { buildChunkNonce, decryptAttachmentStream, encryptChunkWithAesGcm, generateAttachmentKey, importAttachmentKey } from "../e2ee/attachments.ts";
import { encodeAttachmentHeaderBytes, type AttachmentHeader } from "../../shared/e2ee/attachment-header.ts";
import { AEAD_TAG_LENGTH, ATTACHMENT_CHUNK_SIZE, ATTACHMENT_NONCE_PREFIX_LENGTH } from "../../shared/e2ee/constants.ts";
import { randomBytes } from "../e2ee/bytes.ts";

/** Where the server is and how to authenticate: the page uses its cookies (base ""), tests a Bearer header. */
export type FilesApi = { base?: string; headers?: Record<string, string>; fetch?: typeof fetch };

/** What a resume needs, and (id, key, header) what the message carries for readers. */
export type UploadState = {
  id: string;
  key: Uint8Array;
  header: AttachmentHeader;
  plaintextSize: number;
  size: number;
  partSize: number;
  partCount: number;
};

export type FileRef = { id: string; key: Uint8Array; header: AttachmentHeader };

export type UploadOptions = {
  signal?: AbortSignal;
  /** After each acknowledged part: bytes of ciphertext the server holds, of `total`. */
  onProgress?: (acknowledged: number, total: number) => void;
  /**
   * Plaintext chunks per part (default 64: 4 MiB + 1 KiB of ciphertext per request). Smaller parts
   * lose less on a dropped connection and kept the server's RSS lower in scripts/bench/files.ts;
   * larger ones make fewer requests against the per-IP rate limit (20/s).
   */
  chunksPerPart?: number;
  chunkSize?: number;
  /** uploadFile: the session exists — keep this state (e.g. in IndexedDB) to resume after a failure. */
  onStart?: (state: UploadState) => void;
};

export class FileApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
    this.name = "FileApiError";
  }
}

async function call(api: FilesApi, method: string, path: string, init: { json?: unknown; body?: BodyInit; headers?: Record<string, string>; signal?: AbortSignal } = {}): Promise<Response> {
  const headers: Record<string, string> = { ...api.headers, ...init.headers };
  let body = init.body;
  if (init.json !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(init.json);
  }
  const res = await (api.fetch ?? fetch)(`${api.base ?? ""}${path}`, { method, headers, body, signal: init.signal, credentials: "same-origin" });
  if (!res.ok && res.status !== 206) {
    const error = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
    throw new FileApiError(res.status, error?.error?.code ?? "HTTP_" + res.status, error?.error?.message ?? res.statusText);
  }
  return res;
}

function chunkCountOf(plaintextSize: number, chunkSize: number): number {
  return Math.max(1, Math.ceil(plaintextSize / chunkSize));
}

/** Starts a session and sends every part; on failure, resume with the state `onStart` was given. */
export async function uploadFile(api: FilesApi, input: { channelId: string; file: Blob }, opts: UploadOptions = {}): Promise<UploadState> {
  const state = await startUpload(api, input, opts);
  opts.onStart?.(state);
  await sendParts(api, state, input.file, new Set(), opts);
  return state;
}

/** A fresh key and header, and a session for the file's ciphertext size (the quota is reserved here). */
export async function startUpload(api: FilesApi, input: { channelId: string; file: Blob }, opts: UploadOptions = {}): Promise<UploadState> {
  const chunkSize = opts.chunkSize ?? ATTACHMENT_CHUNK_SIZE;
  const chunksPerPart = opts.chunksPerPart ?? 64;
  const plaintextSize = input.file.size;
  const size = plaintextSize + chunkCountOf(plaintextSize, chunkSize) * AEAD_TAG_LENGTH;
  const partSize = chunksPerPart * (chunkSize + AEAD_TAG_LENGTH);
  const res = await call(api, "POST", "/api/files/uploads", { json: { channel_id: input.channelId, size, part_size: partSize, chunk_size: chunkSize }, signal: opts.signal });
  const { upload } = (await res.json()) as { upload: { id: string; part_count: number } };
  const state: UploadState = {
    id: upload.id,
    key: generateAttachmentKey(),
    header: { chunkSize, noncePrefix: randomBytes(ATTACHMENT_NONCE_PREFIX_LENGTH) },
    plaintextSize,
    size,
    partSize,
    partCount: upload.part_count,
  };
  return state;
}

/** Sends the parts the server has not acknowledged (after a dropped connection, a reload…). */
export async function resumeUpload(api: FilesApi, state: UploadState, file: Blob, opts: UploadOptions = {}): Promise<UploadState> {
  const res = await call(api, "GET", `/api/files/uploads/${state.id}`, { signal: opts.signal });
  const { upload } = (await res.json()) as { upload: { parts: { part: number }[]; complete: boolean } };
  if (!upload.complete) await sendParts(api, state, file, new Set(upload.parts.map((p) => p.part)), opts);
  return state;
}

async function sendParts(api: FilesApi, state: UploadState, file: Blob, acknowledged: Set<number>, opts: UploadOptions): Promise<void> {
  const key = await importAttachmentKey(state.key);
  const ad = encodeAttachmentHeaderBytes(state.header);
  const chunkSize = state.header.chunkSize;
  const chunksPerPart = state.partSize / (chunkSize + AEAD_TAG_LENGTH);
  const chunks = chunkCountOf(state.plaintextSize, chunkSize);
  let done = [...acknowledged].reduce((sum, p) => sum + partBytes(state, p), 0);
  for (let part = 0; part < state.partCount; part++) {
    if (acknowledged.has(part)) continue;
    opts.signal?.throwIfAborted();
    const sealed: Uint8Array[] = [];
    for (let j = part * chunksPerPart; j < Math.min(chunks, (part + 1) * chunksPerPart); j++) {
      const plain = new Uint8Array(await file.slice(j * chunkSize, (j + 1) * chunkSize).arrayBuffer());
      sealed.push(await encryptChunkWithAesGcm(key, buildChunkNonce(state.header.noncePrefix, j, j === chunks - 1), ad, plain));
    }
    await call(api, "PUT", `/api/files/uploads/${state.id}/parts/${part}`, { body: new Blob(sealed as BlobPart[]), headers: { "content-type": "application/octet-stream" }, signal: opts.signal });
    done += partBytes(state, part);
    opts.onProgress?.(done, state.size);
  }
}

function partBytes(state: UploadState, part: number): number {
  return part < state.partCount - 1 ? state.partSize : state.size - (state.partCount - 1) * state.partSize;
}

/** The decrypted file as a stream; it errors (E2eeError) on a damaged or truncated blob, never yields unauthenticated bytes. */
export async function downloadFile(api: FilesApi, ref: FileRef, opts: { signal?: AbortSignal } = {}): Promise<ReadableStream<Uint8Array>> {
  const res = await call(api, "GET", `/api/files/${ref.id}`, { signal: opts.signal });
  return decryptAttachmentStream(ref.key, ref.header, res.body!);
}
