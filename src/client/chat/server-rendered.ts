// Reading back the history page the server rendered (structure + ciphertext, no plaintext).

import { normaliseMessage, type ChatMessage, type Reaction } from "./types.ts";

/**
 * The page arrives with the last messages rendered by the server (structure + ciphertext in
 * data attributes, src/features/messages/views.tsx). Read them back as messages and drop the
 * server's markup: the list is rebuilt around the decrypted rows.
 */
export function adoptServerRendered(list: HTMLElement, channelId: string): ChatMessage[] {
  const out: ChatMessage[] = [];
  for (const node of list.querySelectorAll<HTMLElement>(".msg[data-message-id][data-seq]")) {
    const d = node.dataset;
    let reactions: Reaction[] = [];
    try {
      reactions = d.reactions ? (JSON.parse(d.reactions) as Reaction[]) : [];
    } catch {
      reactions = [];
    }
    const m = normaliseMessage({
      id: d.messageId,
      channel_id: channelId,
      seq: Number(d.seq),
      sender_id: d.senderId ?? "",
      sender_name: d.senderName ?? null,
      sender_device_id: d.senderDeviceId ?? "",
      client_id: d.clientId ?? "",
      reply_to_id: d.replyToId ?? null,
      thread_root_id: d.threadRootId ?? null,
      thread_reply_count: Number(d.threadReplyCount ?? 0),
      scheme: d.scheme,
      ciphertext: d.ciphertext ?? null,
      created_at: d.createdAt,
      edited_at: d.editedAt ?? null,
      deleted_at: d.deletedAt ?? null,
      reactions,
      webhook: d.webhook ? (JSON.parse(d.webhook) as unknown) : null,
    });
    if (m) out.push(m);
  }
  for (const li of list.querySelectorAll(":scope > li.msg-group:not([data-chat-item]), :scope > li.day-sep:not([data-chat-item])")) li.remove(); // thread replies' hidden item too
  return out;
}
