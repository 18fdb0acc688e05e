// Edit history (issue 17 §6): the server keeps the previous ciphertexts of an edited message; this
// device reads them with the keys it archived when it read (or wrote) each version. The archive
// keeps one key per message id, and an edit replaces it, so just before an edit is read (or saved)
// the key of the version on screen is copied under a version name of its own, `v:<id>:<tag>`
// (tag: a hash of that version's ciphertext). A version this device never read is tried with the
// live session or sender key (its skipped keys), without asking other devices for it.

import { encodeBase64url, encodeUtf8 } from "../e2ee/library.ts";
import { computeSha512 } from "../e2ee/primitives.ts";
import type { ChatMessage } from "./types.ts";
import type { EngineState } from "./engine-state.ts";
import { decryptNow } from "./engine-read.ts";
import type { ChatContent } from "./plaintext.ts";

export function versionName(messageId: string, ciphertext: string): string {
  return `v:${messageId}:${encodeBase64url(computeSha512(encodeUtf8(ciphertext)).subarray(0, 12))}`;
}

/** Before an edit replaces `oldCiphertext` (on screen, read with the archived key): keep that key for the history. */
export function keepVersionKey(core: EngineState, messageId: string, oldCiphertext: string | null): Promise<void> {
  return core.run(async () => {
    if (!oldCiphertext) return;
    const key = core.archive.findMessageKey(messageId);
    if (!key) return;
    const name = versionName(messageId, oldCiphertext);
    if (core.archive.findMessageKey(name)) return;
    core.archive.rememberMessageKey(name, key);
    const ad = core.state.ads[messageId];
    if (ad) core.state.ads[name] = ad;
    await core.save();
  });
}

/** One previous version's content; null: this device holds no key for it (never asked for); throws when it cannot be decrypted. */
export function decryptVersion(core: EngineState, message: ChatMessage, ciphertext: string): Promise<ChatContent | null> {
  return core.run(async () => {
    const content = decryptNow(core, { ...message, id: versionName(message.id, ciphertext), client_id: "", ciphertext });
    if (content) await core.save();
    return content;
  });
}
