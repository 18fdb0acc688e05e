// The one encrypt-and-send path (main composer and thread composer): encrypt for the channel
// (Sender Keys or pairwise envelope), POST with the client id, archive the message key under the
// server id, and return the stored message. Pending/failed display stays with the caller.

import { ApiError, callApi } from "./api.ts";
import type { ChatEngine } from "./engine.ts";
import { normaliseMessage, type ChatMessage, type Scheme } from "./types.ts";

export interface SendTarget {
  channelId: string;
  scheme: Scheme;
  selfId: string;
  participants: string[];
  names: Map<string, string>;
}

export interface OutgoingText {
  clientId: string;
  text: string;
  replyToId?: string;
  threadRootId?: string;
}

/** Ids of the people named as `@Name` in the text (the server learns mentions: docs/crypto.md). */
export function mentionedIds(target: SendTarget, text: string): string[] {
  const ids: string[] = [];
  for (const [id, name] of target.names) if (id !== target.selfId && text.includes(`@${name}`)) ids.push(id);
  return ids.slice(0, 50);
}

export async function encryptAndSend(engine: ChatEngine, target: SendTarget, item: OutgoingText): Promise<ChatMessage> {
  const { ciphertext, remember } = await engine.encrypt(target.scheme, target.channelId, target.participants, item.text);
  const mentions = mentionedIds(target, item.text);
  const answer = await callApi<{ message: unknown }>("POST", `/api/channels/${target.channelId}/messages`, {
    client_id: item.clientId,
    scheme: target.scheme,
    ciphertext,
    sender_device_id: engine.deviceId,
    ...(item.replyToId ? { reply_to_id: item.replyToId } : {}),
    ...(item.threadRootId ? { thread_root_id: item.threadRootId } : {}),
    ...(mentions.length ? { mentions } : {}),
  });
  const message = normaliseMessage(answer.message);
  if (!message) throw new ApiError(500, "BAD_ANSWER", "The server's answer was not a message.");
  await remember(message.id);
  return message;
}
