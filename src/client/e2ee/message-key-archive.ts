// Message keys kept for reading history. A Double Ratchet deletes each message key after use
// (that is what makes replays fail), so a device cannot re-decrypt an old message from the
// server's store, and a sender can never decrypt its own ratchet ciphertext. To read history on
// this device after a reload, and on a new device after a backup restore, the app archives the
// key of every message it sent or read, by server message id, and decrypts stored history with
// `decryptRatchetMessageWithKey` / `decryptGroupMessageWithKey`. The archive only ever leaves the
// device inside the encrypted key backup. Cost: keys of past messages are retained, which trades
// forward secrecy of history for readable history (docs/crypto.md, "limits we accept").

import { checkStateVersion, fromB64, readStateArray, readStateObject, readStateString, toB64 } from "./codec.ts";

const STATE_VERSION = 1;

export class MessageKeyArchive {
  private readonly keys = new Map<string, Uint8Array>();
  /** The keys as stored, kept alongside: the engine saves its state after every batch it reads,
   * and encoding 10,000 keys again on each save made a search backfill quadratic. */
  private readonly encoded = new Map<string, string>();

  rememberMessageKey(messageId: string, messageKey: Uint8Array): void {
    this.encoded.set(messageId, toB64(messageKey));
    this.keys.set(messageId, messageKey);
  }
  findMessageKey(messageId: string): Uint8Array | undefined {
    return this.keys.get(messageId);
  }
  /** E.g. when the message is deleted for everyone, or the user clears a conversation. */
  forgetMessageKey(messageId: string): void {
    this.keys.delete(messageId);
    this.encoded.delete(messageId);
  }
  get size(): number {
    return this.keys.size;
  }

  serialise(): Record<string, unknown> {
    return { v: STATE_VERSION, keys: [...this.encoded] };
  }

  static restore(value: unknown): MessageKeyArchive {
    const o = readStateObject(value, "archive");
    checkStateVersion(o, STATE_VERSION, "archive");
    const archive = new MessageKeyArchive();
    for (const entry of readStateArray(o["keys"], "archive.keys")) {
      const e = readStateArray(entry, "archive.keys[]");
      const id = readStateString(e[0], "archive.id");
      archive.keys.set(id, fromB64(e[1], 32, "archive.key"));
      archive.encoded.set(id, e[1] as string);
    }
    return archive;
  }
}
