// Building blocks for the AppFrame slots. Feature views compose these; they only carry
// structure. Message text is never rendered here for E2EE messages: the server renders the
// ciphertext into a data attribute and the client decrypts into .msg__text with textContent.
import type { Child, FC, PropsWithChildren } from "hono/jsx";
import { Avatar } from "./avatar.tsx";
import { Icon } from "./icons.tsx";
import { MAX_MESSAGE_CHARS } from "../src/shared/text-limits.ts";

export type RailItemProps = {
  href: string;
  name: string;
  /** Community id; drives the fallback colour. */
  id: string;
  iconUrl?: string | null;
  current?: boolean;
  unread?: boolean;
  mentions?: number;
};

export const RailItem: FC<RailItemProps> = (p) => (
  <a class="rail-item" href={p.href} aria-current={p.current ? "page" : undefined} title={p.name} data-unread={p.unread ? "true" : undefined}>
    <span class="rail-item__pill" aria-hidden="true" />
    <Avatar userId={p.id} name={p.name} imageUrl={p.iconUrl} size="lg" decorative />
    <span class="visually-hidden">
      {p.name}
      {p.mentions ? `, ${p.mentions} mentions` : p.unread ? ", unread" : ""}
    </span>
    {p.mentions ? (
      <span class="badge badge--count rail-item__badge" aria-hidden="true">
        {p.mentions > 99 ? "99+" : p.mentions}
      </span>
    ) : null}
  </a>
);

/**
 * Unread and mention counts on a link (the home hub renders them; live.js paints the same markup
 * everywhere else and keeps it current: src/client/live/unread.ts setBadges). The mention badge
 * is its own colour and says "@".
 */
export const UnreadBadges: FC<{ unread?: number; mentions?: number }> = ({ unread = 0, mentions = 0 }) =>
  unread || mentions ? (
    <span class="unread-badges" data-unread-badge={`${unread}:${mentions}`}>
      {mentions ? (
        <span class="badge badge--mention">
          @{mentions > 99 ? "99+" : mentions}
          <span class="visually-hidden">{mentions === 1 ? " mention" : " mentions"}</span>
        </span>
      ) : null}
      {unread ? (
        <span class="badge badge--unread">
          {unread > 99 ? "99+" : unread}
          <span class="visually-hidden"> unread</span>
        </span>
      ) : null}
    </span>
  ) : null;

export const RailSeparator: FC = () => <hr class="rail-sep" />;

export const RailButton: FC<{ label: string; href: string; icon: "plus" | "search" | "settings" }> = (p) => (
  <a class="rail-item rail-item--action" href={p.href} title={p.label}>
    <span class="rail-item__pill" aria-hidden="true" />
    <span class="rail-item__action">
      <Icon name={p.icon} />
    </span>
    <span class="visually-hidden">{p.label}</span>
  </a>
);

export const SidebarHeader: FC<PropsWithChildren<{ title: string; subtitle?: string }>> = (p) => (
  <div class="sidebar-header">
    <div class="sidebar-header__text">
      <h2 class="sidebar-header__title">{p.title}</h2>
      {p.subtitle ? <p class="sidebar-header__subtitle">{p.subtitle}</p> : null}
    </div>
    {p.children}
  </div>
);

/** A channel group as a folder: <details> collapses without JS and is keyboard-accessible. */
export const ChannelGroup: FC<PropsWithChildren<{ name: string; open?: boolean }>> = (p) => (
  <details class="channel-group" open={p.open ?? true}>
    <summary class="channel-group__summary">
      <Icon name="chevron" class="channel-group__chevron" />
      <span>{p.name}</span>
    </summary>
    <ul class="channel-list">{p.children}</ul>
  </details>
);

export type ChannelKind = "text" | "voice" | "private";

export type ChannelLinkProps = {
  href: string;
  name: string;
  kind?: ChannelKind;
  current?: boolean;
  unread?: number;
  mentions?: number;
  muted?: boolean;
  /** A voice channel's id: the call client lists who is in its call under the link. */
  voiceId?: string;
};

export const ChannelLink: FC<ChannelLinkProps> = (p) => {
  const icon = p.kind === "voice" ? "speaker" : p.kind === "private" ? "lock" : "hash";
  const cls = ["channel", p.unread ? "channel--unread" : "", p.muted ? "channel--muted" : ""].filter(Boolean).join(" ");
  return (
    <li>
      <a class={cls} href={p.href} aria-current={p.current ? "page" : undefined} data-voice-channel={p.voiceId}>
        <Icon name={icon} class="channel__icon" />
        <span class="channel__name">{p.name}</span>
        {p.mentions ? (
          <span class="badge badge--count" aria-label={`${p.mentions} mentions`}>
            {p.mentions > 99 ? "99+" : p.mentions}
          </span>
        ) : p.unread ? (
          <span class="channel__dot" aria-label="unread" />
        ) : null}
      </a>
    </li>
  );
};

/** `history`: the channel's history setting (docs/crypto.md "Shared history"), shown so nobody has to guess. */
export const ChannelHeader: FC<{ name: string; topic?: string; kind?: ChannelKind; encrypted?: boolean; history?: "shared" | "joined" }> = (p) => (
  <div class="channel-header" id="channel-header" data-live-region>
    <Icon name={p.kind === "private" ? "lock" : p.kind === "voice" ? "speaker" : "hash"} class="channel-header__icon" />
    <h1 class="channel-header__name">{p.name}</h1>
    {p.encrypted ? (
      <span class="badge badge--success channel-header__e2ee" title="Messages are end-to-end encrypted">
        <Icon name="shield" /> E2EE
      </span>
    ) : null}
    {p.history ? (
      <span
        class="badge badge--neutral channel-header__history"
        data-history={p.history}
        title={p.history === "shared" ? "New members can read messages sent before they joined (members' devices pass them the keys)." : "New members can read only messages sent after they joined."}
      >
        {p.history === "shared" ? "History shared" : "History from joining"}
      </span>
    ) : null}
    {p.topic ? <p class="channel-header__topic">{p.topic}</p> : null}
  </div>
);

/**
 * What the chat bundle needs to run a conversation: the channel, its encryption scheme (Sender
 * Keys for community channels, pairwise for DMs), the reader, and the chat bundle's URL (app.js
 * imports it when it finds `data-chat-src`, also after boosted navigation). No message content.
 */
/** `moderate`: the viewer may manage messages here (the client offers e.g. closing others' polls; the server decides). */
/** `mentionAll`: the viewer may mention @everyone / @here here (the composer offers them; the server decides). */
export type ChatMount = { channelId: string; scheme: "sk" | "pw"; selfId: string; communityId?: string; src: string; moderate?: boolean; mentionAll?: boolean; gifs?: boolean };

/** The scrolling message log. role=log + aria-live announces new messages politely. */
// The live region (role="log") wraps the list instead of replacing its role: an <ol role="log">
// is no list, so its <li> rows were list items outside a list (axe-core "listitem", serious).
export const MessageList: FC<PropsWithChildren<{ id?: string; label?: string; chat?: ChatMount }>> = (p) => (
  <div class="messages-log" role="log" aria-live="polite" aria-label={p.label ?? "Messages"}>
  <ol
    class="messages"
    id={p.id ?? "messages"}
    data-chat-channel={p.chat?.channelId}
    data-chat-scheme={p.chat?.scheme}
    data-chat-self={p.chat?.selfId}
    data-chat-community={p.chat?.communityId}
    data-chat-src={p.chat?.src}
    data-chat-moderate={p.chat?.moderate ? "" : undefined}
    data-chat-mention-all={p.chat?.mentionAll ? "" : undefined}
  >
    {p.children}
  </ol>
  </div>
);

export const DaySeparator: FC<{ label: string; date?: string }> = (p) => (
  <li class="day-sep">
    <time datetime={p.date}>{p.label}</time>
  </li>
);

export const UnreadDivider: FC<{ label?: string }> = (p) => (
  <li class="unread-sep">
    <span>
      {p.label ?? "New"}
      {p.label ? null : <span class="visually-hidden"> messages</span>}
    </span>
  </li>
);

export type MessageAuthor = { id: string; name: string; avatarUrl?: string | null; badge?: string };

/** Consecutive messages by one author within a few minutes: one avatar, one name. */
export const MessageGroup: FC<PropsWithChildren<{ author: MessageAuthor; time: string; timeLabel: string }>> = (p) => (
  <li class="msg-group">
    <Avatar userId={p.author.id} name={p.author.name} imageUrl={p.author.avatarUrl} size="md" person />
    <div class="msg-group__content">
      <p class="msg-group__meta">
        <button type="button" class="msg-group__author" data-profile-user={p.author.id}>
          {p.author.name}
        </button>
        {p.author.badge ? <span class="badge badge--neutral">{p.author.badge}</span> : null}
        <time class="msg-group__time" datetime={p.time}>
          {p.timeLabel}
        </time>
      </p>
      {p.children}
    </div>
  </li>
);

export type MessageProps = PropsWithChildren<{
  id: string;
  /** Ciphertext envelope for the client to decrypt; when set, children are the placeholder. */
  ciphertext?: string;
  edited?: boolean;
  /** Webhook posts are the one plaintext path (DESIGN rule 7). */
  webhook?: boolean;
  pending?: boolean;
}>;

export const Message: FC<MessageProps> = (p) => (
  <div class={p.pending ? "msg msg--pending" : "msg"} id={`m-${p.id}`} data-message-id={p.id} data-ciphertext={p.ciphertext}>
    <div class="msg__text">{p.children}</div>
    {p.edited ? <span class="msg__edited">(edited)</span> : null}
    {p.webhook ? <span class="badge badge--warning">Webhook · not E2EE</span> : null}
  </div>
);

// Every control starts disabled: chat.js enables them once the device's encryption is ready and
// the form is wired to encrypt (src/client/chat/composer.ts). A form nothing has wired yet (a slow
// phone still loading the script) must not be able to send text to the server in the clear.
// `data-can-send` says whether this person may post here at all (read-only, archived, timed out).
// `gifs`: GIF search is configured (GIPHY_API_KEY; docs/integrations.md): the GIF button, wired by chat.js (gif-hook.ts).
export const Composer: FC<{ action: string; channelName: string; disabled?: boolean; extra?: Child; gifs?: boolean }> = (p) => (
  <form class="composer" method="post" action={p.action} data-composer data-can-send={p.disabled ? undefined : ""}>
    <button type="button" class="icon-btn composer__attach" aria-label="Attach a file" disabled>
      <Icon name="paperclip" />
    </button>
    {/* Shown by chat.js where MediaRecorder and a microphone API exist (files-hook.ts). */}
    <button type="button" class="icon-btn composer__record" aria-label="Record a voice note" hidden disabled>
      <Icon name="mic" />
    </button>
    <label class="visually-hidden" for="composer-input">
      Message #{p.channelName}
    </label>
    <textarea id="composer-input" class="composer__input" name="text" rows={1} placeholder={`Message #${p.channelName}`} maxlength={MAX_MESSAGE_CHARS} disabled />
    {p.extra}
    {p.gifs ? (
      <button type="button" class="icon-btn composer__gif" aria-label="Insert a GIF" aria-haspopup="dialog" aria-expanded="false" disabled>
        <span class="composer__gif-label" aria-hidden="true">GIF</span>
      </button>
    ) : null}
    <button type="button" class="icon-btn composer__emoji" aria-label="Insert emoji" disabled>
      <Icon name="smile" />
    </button>
    <button type="submit" class="btn btn--primary btn--icon composer__send" aria-label="Send" disabled>
      <Icon name="send" />
    </button>
  </form>
);

export const MemberGroup: FC<PropsWithChildren<{ label: string; count: number }>> = (p) => (
  <section class="member-group">
    <h3 class="member-group__title">
      {p.label} — {p.count}
    </h3>
    <ul class="member-list">{p.children}</ul>
  </section>
);

export const MemberRow: FC<{ id: string; name: string; avatarUrl?: string | null; status?: "online" | "idle" | "dnd" | "offline"; role?: string }> = (p) => (
  <li class={p.status === "offline" ? "member member--offline" : "member"} data-presence-user={p.id}>
    {/* Opens the member's profile card (src/client/chat/profile-card.ts). */}
    <button type="button" class="member__open" data-profile-user={p.id}>
      <Avatar userId={p.id} name={p.name} imageUrl={p.avatarUrl} size="sm" status={p.status} person />
      <span class="member__name">{p.name}</span>
    </button>
    {p.role ? <span class="badge badge--neutral member__role">{p.role}</span> : null}
  </li>
);

/** Empty state: for an empty channel, no search results, no communities yet. */
export const EmptyState: FC<PropsWithChildren<{ title: string; message?: string; icon?: "inbox" | "search" | "hash" }>> = (p) => (
  <div class="empty-state">
    <span class="empty-state__icon">
      <Icon name={p.icon ?? "inbox"} />
    </span>
    <p class="empty-state__title">{p.title}</p>
    {p.message ? <p class="empty-state__message">{p.message}</p> : null}
    {p.children ? <div class="empty-state__actions">{p.children}</div> : null}
  </div>
);

/** First item of a channel's history ("This is the start of #general"). */
export const ChannelIntro: FC<{ name: string; topic?: string; kind?: ChannelKind }> = (p) => (
  <li class="channel-intro">
    <span class="channel-intro__icon">
      <Icon name={p.kind === "private" ? "lock" : "hash"} />
    </span>
    <h2 class="channel-intro__title">Welcome to #{p.name}</h2>
    <p class="channel-intro__text">
      This is the start of the #{p.name} channel.{p.topic ? ` ${p.topic}` : ""}
    </p>
  </li>
);
