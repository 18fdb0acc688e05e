/**
 * Server-rendered history (the last 50 messages of a channel or DM): structure only — author,
 * time, day separators, groups, reactions — with each message's ciphertext and routing fields in
 * data attributes. No plaintext exists here (DESIGN rule 7): `.msg__text` stays empty (the
 * stylesheet shows "Decrypting…") until the chat bundle decrypts it and re-renders the list
 * around the same data (src/client/chat/controller.ts `adoptServerRendered`).
 * Thread replies are not part of the main timeline (docs/messages.md "Threads"): their roots show
 * "N replies"; the replies themselves ride along in one hidden item so the client still holds
 * every seq of the page (no false gap, no refetch).
 */
import type { FC } from "hono/jsx";
import { DaySeparator, MessageGroup } from "../../../views/index.ts";
import type { MessageView } from "./queries.ts";

const GROUP_WINDOW_MS = 5 * 60 * 1000;

export const HISTORY_PAGE = 50;

function dayKey(iso: string): string {
  return iso.slice(0, 10);
}

/** What an author whose account was deleted is called (sender_id and sender_name are null). */
export const DELETED_AUTHOR = "Deleted user";

/** Messages oldest first; each author's name comes with its message (`sender_name`), never from a member list. */
export const MessageHistory: FC<{ messages: MessageView[]; hasMore: boolean }> = (props) => {
  const replies = props.messages.filter((m) => m.thread_root_id);
  const p = { ...props, messages: props.messages.filter((m) => !m.thread_root_id) };
  const items: unknown[] = [];
  let i = 0;
  let lastDay = "";
  while (i < p.messages.length) {
    const first = p.messages[i]!;
    if (dayKey(first.created_at) !== lastDay) {
      lastDay = dayKey(first.created_at);
      items.push(<DaySeparator label={lastDay} date={lastDay} />);
    }
    const group: MessageView[] = [first];
    while (i + group.length < p.messages.length) {
      const next = p.messages[i + group.length]!;
      const prev = group[group.length - 1]!;
      if (authorKey(next) !== authorKey(first) || dayKey(next.created_at) !== lastDay || Date.parse(next.created_at) - Date.parse(prev.created_at) > GROUP_WINDOW_MS) break;
      group.push(next);
    }
    i += group.length;
    const authorId = authorKey(first);
    items.push(
      <MessageGroup author={{ id: authorId, name: first.sender_name ?? DELETED_AUTHOR }} time={first.created_at} timeLabel={first.created_at.slice(11, 16)}>
        {group.map((m) => <MessageRowView m={m} />)}
      </MessageGroup>,
    );
  }
  if (replies.length > 0) {
    items.push(
      <li class="msg-group msg-group--thread-replies" hidden>
        {replies.map((m) => <MessageRowView m={m} />)}
      </li>,
    );
  }
  return <>{items.map((item) => item)}</>;
};

/** Who a group is by: the sender, or for a webhook's messages the webhook name they show. */
function authorKey(m: MessageView): string {
  return m.scheme === "wh" ? `webhook:${m.sender_name ?? ""}` : (m.sender_id ?? "deleted");
}

/** seeds/000: the badge every client shows on a webhook's (plaintext) message. */
export const WEBHOOK_BADGE = "Webhook · not E2EE";

const MessageRowView: FC<{ m: MessageView }> = ({ m }) => (
  <div
    class="msg"
    id={`m-${m.id}`}
    data-message-id={m.id}
    data-ciphertext={m.ciphertext ?? undefined}
    data-seq={String(m.seq)}
    data-sender-id={m.sender_id ?? ""}
    data-sender-name={m.sender_name ?? undefined}
    data-sender-device-id={m.sender_device_id}
    data-client-id={m.client_id}
    data-reply-to-id={m.reply_to_id ?? undefined}
    data-thread-root-id={m.thread_root_id ?? undefined}
    data-thread-reply-count={m.thread_reply_count ? String(m.thread_reply_count) : undefined}
    data-scheme={m.scheme}
    data-created-at={m.created_at}
    data-edited-at={m.edited_at ?? undefined}
    data-deleted-at={m.deleted_at ?? undefined}
    data-reactions={m.reactions.length ? JSON.stringify(m.reactions) : undefined}
    data-webhook={m.webhook ? JSON.stringify(m.webhook) : undefined}
  >
    {m.webhook ? <span class="badge badge--warning msg__webhook-badge">{WEBHOOK_BADGE}</span> : null}
    {m.webhook ? (
      <div class="msg__text msg__text--webhook">{m.webhook.content}</div>
    ) : (
      <div class="msg__text">{m.deleted_at ? <p class="msg__notice msg__notice--deleted">This message was deleted.</p> : null}</div>
    )}
    {m.edited_at ? <span class="msg__edited">(edited)</span> : null}
    {m.thread_reply_count > 0 ? <p class="msg__thread-count">{m.thread_reply_count === 1 ? "1 reply" : `${m.thread_reply_count} replies`}</p> : null}
  </div>
);
