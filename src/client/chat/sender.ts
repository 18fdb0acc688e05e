// The one encrypt-and-send path (main composer and thread composer): encrypt for the channel's
// readers as the server lists them now (viewers.ts), POST with the client id and the viewer
// version the ciphertext was made for, archive the message key under the server id, and return
// the stored message. When the readers changed in between (409 VIEWERS_CHANGED, or a device that
// vanished while the key was being distributed), the list is fetched again and the text
// encrypted again with the same client id, without the user noticing. Pending/failed display
// stays with the caller.

import { ApiError } from "./api.ts";
import type { CallRecord } from "./call-record.ts";
import type { ChatEngine } from "./engine.ts";
import { normaliseMessage, type ChatMessage, type Scheme } from "./types.ts";
import { recipientsOf, type Viewers } from "./viewers.ts";

export interface SendTarget {
  channelId: string;
  scheme: Scheme;
  selfId: string;
  /** Who can read the conversation now (never a snapshot from mount). */
  viewers: Viewers;
  /** The readers' names (mentions, typing), kept in step with `viewers` by index.ts. */
  names: Map<string, string>;
  /** The page says @everyone / @here are allowed here (data-chat-mention-all); the server decides. */
  mentionAll?: boolean;
}

export interface OutgoingText {
  clientId: string;
  text: string;
  replyToId?: string;
  threadRootId?: string;
  /** Files carried (files-ui.ts): their descriptions go inside the ciphertext, their ids (and thumbnails') as file_ids. */
  files?: Attached;
  /** A call record (call-record.ts): `text` is then its words. */
  call?: CallRecord;
  /** A forwarded message: the original author's name, inside the ciphertext (plaintext.ts). */
  forwarded?: string;
}

/** `preview`: the composer's link preview (link-preview.ts), carried inside the ciphertext like the files' descriptions. */
export type Attached = { files: unknown[]; ids: string[]; preview?: unknown };

/** Encryptions and sends tried per message when the readers keep changing under it. */
export const MAX_READER_CHANGES = 4;

/** The server says our list of readers is out of date (a send, an edit, or a key distribution). */
export function isStaleReaders(error: unknown): boolean {
  return error instanceof ApiError && (error.code === "VIEWERS_CHANGED" || error.code === "DEVICE_NOT_FOUND" || error.code === "USER_NOT_FOUND");
}

/** Ids of the people named as `@Name` in the text (the server learns mentions: docs/crypto.md). */
export function mentionedIds(target: SendTarget, text: string): string[] {
  const ids: string[] = [];
  for (const [id, name] of target.names) if (id !== target.selfId && text.includes(`@${name}`)) ids.push(id);
  return ids.slice(0, 50);
}

/**
 * Encrypts `text` for the current readers, then runs `deliver` with the ciphertext and the
 * viewer version; a stale list (isStaleReaders) is fetched again and everything repeated.
 */
export async function withCurrentReaders<T>(
  engine: ChatEngine,
  target: Pick<SendTarget, "channelId" | "scheme" | "selfId" | "viewers">,
  text: string,
  deliver: (ciphertext: string, viewerVersion: number, remember: (id: string) => Promise<void>) => Promise<T>,
  maxChars?: number,
  archiveAs?: string,
  files?: unknown[],
  call?: CallRecord,
  preview?: unknown,
  forwarded?: string,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      const list = await target.viewers.current();
      const { ciphertext, remember } = await engine.encrypt(target.scheme, target.channelId, recipientsOf(list, { userId: target.selfId, deviceId: engine.deviceId }), text, maxChars, archiveAs, files, call, preview, forwarded);
      return await deliver(ciphertext, list.version, remember);
    } catch (error) {
      if (attempt >= MAX_READER_CHANGES || !isStaleReaders(error)) throw error;
      target.viewers.invalidate();
    }
  }
}

/** @everyone / @here in the text, when allowed here (else it stays plain text for everyone). */
export function mentionAllOf(target: SendTarget, text: string): "everyone" | "here" | null {
  if (!target.mentionAll) return null;
  return /(?:^|\W)@everyone\b/.test(text) ? "everyone" : /(?:^|\W)@here\b/.test(text) ? "here" : null;
}

export async function encryptAndSend(engine: ChatEngine, target: SendTarget, item: OutgoingText): Promise<ChatMessage> {
  const mentions = mentionedIds(target, item.text);
  const all = mentionAllOf(target, item.text);
  return withCurrentReaders(engine, target, item.text, async (ciphertext, viewerVersion, remember) => {
    const answer = await engine.api.call<{ message: unknown }>("POST", `/api/channels/${target.channelId}/messages`, {
      client_id: item.clientId,
      scheme: target.scheme,
      ciphertext,
      sender_device_id: engine.deviceId,
      viewer_version: viewerVersion,
      ...(item.replyToId ? { reply_to_id: item.replyToId } : {}),
      ...(item.threadRootId ? { thread_root_id: item.threadRootId } : {}),
      ...(mentions.length ? { mentions } : {}),
      ...(all ? { mention_all: all } : {}),
      ...(item.files?.ids.length ? { file_ids: item.files.ids } : {}),
    });
    const message = normaliseMessage(answer.message);
    if (!message) throw new ApiError(500, "BAD_ANSWER", "The server's answer was not a message.");
    await remember(message.id);
    return message;
  }, undefined, `client:${item.clientId}`, item.files?.files, item.call, item.files?.preview, item.forwarded); // the key survives a tab closed before remember (engine.encrypt)
}
