// The plaintext format of chat messages (inside every ciphertext, DM or channel).

import { decodeUtf8, encodeUtf8 } from "../e2ee/library.ts";
import { type CallRecord, parseCallRecord } from "./call-record.ts";

/**
 * The plaintext inside every ciphertext: versioned JSON `{"v":1,"text":…}`; a message with files
 * adds `"files":[…]` (each file's id, key, header, name, type, size: files-ui.ts), which a
 * reader without file support ignores (it shows the caption). Checked by the files chunk.
 */
export type ChatContent = { text: string; files?: unknown[]; call?: CallRecord; preview?: unknown; forwarded?: string };
/** A forwarded message (issue 17 §6) says so inside the ciphertext: `"fwd":{"from":<original author's name>}`; the server learns nothing. */
export const MAX_FORWARDED_NAME = 64;
/** `preview`: a link preview the sender's composer made (link-preview.ts; docs/integrations.md), checked by the reader's renderer. */
export function encodeChatPlaintext(text: string, files?: unknown[], call?: CallRecord, preview?: unknown, forwarded?: string): Uint8Array {
  return encodeUtf8(JSON.stringify({ v: 1, text, ...(files?.length ? { files } : {}), ...(call ? { call } : {}), ...(preview ? { preview } : {}), ...(forwarded !== undefined ? { fwd: { from: forwarded.slice(0, MAX_FORWARDED_NAME) } } : {}) }));
}
export function decodeChatContent(bytes: Uint8Array): ChatContent {
  const parsed = JSON.parse(decodeUtf8(bytes)) as { v?: number; text?: unknown; files?: unknown; call?: unknown; preview?: unknown; fwd?: { from?: unknown } };
  if (parsed.v !== 1 || typeof parsed.text !== "string") throw new Error("unsupported message format");
  const call = parseCallRecord(parsed.call);
  return { text: parsed.text, ...(Array.isArray(parsed.files) && parsed.files.length ? { files: parsed.files } : {}), ...(call ? { call } : {}), ...(parsed.preview && typeof parsed.preview === "object" ? { preview: parsed.preview } : {}), ...(parsed.fwd && typeof parsed.fwd === "object" ? { forwarded: typeof parsed.fwd.from === "string" ? parsed.fwd.from.slice(0, MAX_FORWARDED_NAME) : "" } : {}) };
}
export function decodeChatPlaintext(bytes: Uint8Array): string {
  return decodeChatContent(bytes).text;
}
