// Attachment header stored next to the encrypted blob. It carries what a reader needs to split
// and authenticate the chunk stream; the per-file key is NOT here: it travels inside the
// end-to-end encrypted chat message that references the file.

import { encodeBase64url as b64 } from "./base64url.ts";
import { ATTACHMENT_NONCE_PREFIX_LENGTH, MAX_ATTACHMENT_CHUNK_SIZE, MIN_ATTACHMENT_CHUNK_SIZE, WIRE_VERSION } from "./constants.ts";
import { checkKnownFields, checkVersion, readBytes, readInteger, readRoot, type WireObject } from "./fields.ts";

export interface AttachmentHeader {
  chunkSize: number;
  noncePrefix: Uint8Array;
}

export function parseAttachmentHeader(input: unknown): AttachmentHeader {
  const obj = readRoot(input, 1024);
  checkVersion(obj);
  checkKnownFields(obj, ["v", "chunkSize", "noncePrefix"], "");
  return {
    chunkSize: readInteger(obj, "chunkSize", "", MIN_ATTACHMENT_CHUNK_SIZE, MAX_ATTACHMENT_CHUNK_SIZE),
    noncePrefix: readBytes(obj, "noncePrefix", "", { exact: ATTACHMENT_NONCE_PREFIX_LENGTH }),
  };
}

export function encodeAttachmentHeader(header: AttachmentHeader): WireObject {
  return { v: WIRE_VERSION, chunkSize: header.chunkSize, noncePrefix: b64(header.noncePrefix) };
}

/** Binary form bound into every chunk's associated data (version ‖ chunk size ‖ nonce prefix). */
export function encodeAttachmentHeaderBytes(header: AttachmentHeader): Uint8Array {
  const out = new Uint8Array(1 + 4 + ATTACHMENT_NONCE_PREFIX_LENGTH);
  out[0] = WIRE_VERSION;
  new DataView(out.buffer).setUint32(1, header.chunkSize);
  out.set(header.noncePrefix, 5);
  return out;
}
