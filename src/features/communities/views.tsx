/**
 * Community pages: picker / create / join, the invite page, and the chat frame (rail, sidebar
 * with groups and channels, channel header, member panel). Plain props in, markup out; hono/jsx
 * escapes every name (hostile HTML in a community or channel name renders as text).
 */
import type { Child, FC } from "hono/jsx";
import {
  AppFrame,
  ChannelGroup,
  ChannelHeader,
  ChannelIntro,
  ChannelLink,
  Composer,
  EmptyState,
  ErrorSlot,
  Field,
  Icon,
  MemberGroup,
  MemberRow,
  MessageList,
  RailButton,
  RailItem,
  RailSeparator,
  SidebarHeader,
} from "../../../views/index.ts";
import type { CommunitySummary, MemberView } from "./queries.ts";
import type { SidebarGroup } from "../channels/index.ts";
import type { ChatMount } from "../../../views/index.ts";
import type { ChannelRecord } from "../permissions/index.ts";

export const Rail: FC<{ communities: CommunitySummary[]; currentId?: string; dmsCurrent?: boolean }> = (p) => (
  <>
    <a class="rail-item rail-item--action" href="/" title="Home">
      <span class="rail-item__pill" aria-hidden="true" />
      <span class="rail-item__action">
        <Icon name="home" />
      </span>
      <span class="visually-hidden">Home</span>
    </a>
    {/* data-live-dms: the live socket module puts the count of new conversations here. */}
    <a class="rail-item rail-item--action" href="/dms" title="Direct messages" aria-current={p.dmsCurrent ? "page" : undefined} data-live-dms>
      <span class="rail-item__pill" aria-hidden="true" />
      <span class="rail-item__action">
        <Icon name="inbox" />
      </span>
      <span class="visually-hidden">Direct messages</span>
    </a>
    <RailSeparator />
    {p.communities.map((c) => (
      <RailItem href={`/c/${c.id}`} name={c.name} id={c.id} iconUrl={c.iconUrl} current={c.id === p.currentId} />
    ))}
    <RailButton label="Create or join a community" href="/communities" icon="plus" />
  </>
);

export const CreateCommunityForm: FC<{ name?: string; description?: string; error?: string; fieldErrors?: Record<string, string> }> = (p) => (
  <form class="form card" method="post" action="/communities" hx-post="/communities" hx-target="this" hx-swap="outerHTML" id="create-community">
    <h2>Create a community</h2>
    <ErrorSlot />
    <Field name="name" label="Name" required maxLength={64} value={p.name} error={p.fieldErrors?.name} />
    <Field name="description" label="Description" type="textarea" rows={2} maxLength={2048} value={p.description} error={p.fieldErrors?.description} />
    <div class="form__actions">
      <button type="submit" class="btn btn--primary">
        Create
      </button>
    </div>
  </form>
);

export const CommunityPicker: FC<{ communities: CommunitySummary[]; canCreate: boolean; discoverable: { id: string; name: string; description: string | null; memberCount: number }[]; join?: { code: string; error: string } }> = (p) => (
  <div class="stack community-picker page-narrow">
    <h1>Your communities</h1>
    {p.communities.length === 0 ? (
      <EmptyState title="You are not in any community yet" message="Create one, or paste an invite link below." />
    ) : (
      <ul class="stack" id="community-list">
        {p.communities.map((c) => (
          <li class="card">
            <a href={`/c/${c.id}`}>
              <strong>{c.name}</strong>
            </a>
            <p class="muted">
              {c.memberCount} {c.memberCount === 1 ? "member" : "members"} · {c.role}
            </p>
          </li>
        ))}
      </ul>
    )}
    {p.discoverable.length ? (
      <section class="stack" id="discover">
        <h2>Discover</h2>
        <ul class="stack">
          {p.discoverable.map((c) => (
            <li class="card btn-row">
              <span>
                <strong>{c.name}</strong> <span class="muted">· {c.memberCount} {c.memberCount === 1 ? "member" : "members"}</span>
                {c.description ? <p class="muted">{c.description}</p> : null}
              </span>
              <form method="post" action={`/communities/${c.id}/join`} hx-post={`/communities/${c.id}/join`} hx-target="this" hx-swap="outerHTML">
                <ErrorSlot />
                <button class="btn btn--secondary btn--sm" type="submit">
                  Join
                </button>
              </form>
            </li>
          ))}
        </ul>
      </section>
    ) : null}
    {p.canCreate ? <CreateCommunityForm /> : <p class="muted">On this server only administrators create communities.</p>}
    <JoinInviteForm code={p.join?.code} error={p.join?.error} />
  </div>
);

/** An unknown, expired or malformed invite is answered here, at the field (422), not with a 404 page. */
export const JoinInviteForm: FC<{ code?: string; error?: string }> = (p) => (
  <form class="form card" method="post" action="/communities/join" hx-post="/communities/join" hx-target="this" hx-swap="outerHTML" id="join-invite">
    <h2>Join with an invite</h2>
    <ErrorSlot />
    <Field name="code" label="Invite link or code" required maxLength={300} value={p.code} error={p.error} />
    <div class="form__actions">
      <button type="submit" class="btn btn--secondary">
        Continue
      </button>
    </div>
  </form>
);

export const InviteCard: FC<{ code: string; name: string; description: string | null; welcomeMessage?: string | null; memberCount: number; alreadyMember: boolean; banned: boolean; communityId: string }> = (p) => (
  <div class="page-narrow">
  <section class="card stack invite-card">
    <p class="muted">You have been invited to join</p>
    <h1 id="invite-community-name">{p.name}</h1>
    {p.description ? <p>{p.description}</p> : null}
    {p.welcomeMessage ? (
      <section class="invite-card__welcome" aria-labelledby="invite-welcome-h">
        <h2 id="invite-welcome-h" class="profile-card__label">
          Welcome message
        </h2>
        <p>{p.welcomeMessage}</p>
      </section>
    ) : null}
    <p class="muted">
      {p.memberCount} {p.memberCount === 1 ? "member" : "members"}
    </p>
    {p.banned ? (
      <p class="error-banner">You are banned from this community.</p>
    ) : p.alreadyMember ? (
      <a class="btn btn--primary" href={`/c/${p.communityId}`}>
        Open community
      </a>
    ) : (
      <form method="post" action={`/invite/${p.code}/accept`} hx-post={`/invite/${p.code}/accept`} hx-target="this" hx-swap="outerHTML">
        <ErrorSlot />
        <button type="submit" class="btn btn--primary" id="accept-invite">
          Join {p.name}
        </button>
      </form>
    )}
  </section>
  </div>
);

const ROLE_LABELS: Record<string, string> = { owner: "Owner", admin: "Admins", moderator: "Moderators", member: "Members" };

export const MEMBER_PAGE = 100;

/** One page of the member list; a "show more" button fetches the next page in place. */
export const MemberPage: FC<{ members: MemberView[]; communityId: string; offset: number }> = (p) => {
  const byRole = ["owner", "admin", "moderator", "member"].map((role) => ({ role, list: p.members.filter((m) => m.role === role) })).filter((g) => g.list.length);
  return (
    <>
      {byRole.map((g) => (
        <MemberGroup label={ROLE_LABELS[g.role]!} count={g.list.length}>
          {g.list.map((m) => (
            <MemberRow id={m.userId} name={m.nickname ?? m.displayName} avatarUrl={m.avatarUrl} role={m.timedOutUntil ? "timed out" : m.customRoles[0]?.name} />
          ))}
        </MemberGroup>
      ))}
      {p.members.length === MEMBER_PAGE ? (
        <button
          type="button"
          class="btn btn--ghost btn--sm"
          hx-get={`/c/${p.communityId}/members?offset=${p.offset + MEMBER_PAGE}`}
          hx-target="this"
          hx-swap="outerHTML"
        >
          Show more members
        </button>
      ) : null}
    </>
  );
};

export const MemberPanel: FC<{ members: MemberView[]; communityId: string }> = (p) => (
  <div class="member-panel" id="member-panel">
    <MemberPage members={p.members} communityId={p.communityId} offset={0} />
  </div>
);

export type ChatFrameProps = {
  communities: CommunitySummary[];
  community: { id: string; name: string; canManage: boolean; canInvite: boolean };
  groups: SidebarGroup[];
  channel: (ChannelRecord & { canSend: boolean }) | null;
  members: MemberView[];
  timedOutUntil: Date | null;
  now: Date;
  reportDialog?: Child;
  /** Mount data for the encrypted chat client (text channels). */
  chat?: ChatMount;
  /** Server-rendered last page of history (structure and ciphertext only). */
  history?: Child;
  /** The call client's mount (chat.js loads chat-voice.js): who is signed in, and the bundle. */
  voice?: { selfId: string; src: string };
  /** The signed-in user (the account menu). */
  user?: { id: string; displayName: string };
};

function channelKind(c: ChannelRecord): "text" | "voice" | "private" {
  return c.isPrivate ? "private" : c.kind === "voice" ? "voice" : "text";
}

export const ChatFrame: FC<ChatFrameProps> = (p) => {
  const sidebar = (
    <div class="sidebar__scroll" hx-boost:inherited="true" hx-swap:inherited="outerHTML">
      <SidebarHeader title={p.community.name}>
        {p.community.canManage ? (
          <a class="icon-btn" href={`/c/${p.community.id}/settings`} aria-label="Community settings" title="Community settings">
            <Icon name="settings" />
          </a>
        ) : null}
        {p.community.canInvite ? (
          <a class="icon-btn" href={`/c/${p.community.id}/settings/invites`} aria-label="Invite people" title="Invite people">
            <Icon name="plus" />
          </a>
        ) : null}
        {/* Plain POST back to this page; live.js clears the badges on every device (read:all). */}
        <form method="post" action={`/c/${p.community.id}/read-all`}>
          <input type="hidden" name="next" value={p.channel ? `/c/${p.community.id}/ch/${p.channel.id}` : `/c/${p.community.id}`} />
          <button type="submit" class="icon-btn" aria-label={`Mark all of ${p.community.name} as read`} title="Mark all as read" data-testid="community-read-all">
            <Icon name="check" />
          </button>
        </form>
      </SidebarHeader>
      <nav aria-label="Channels" id="channel-nav" data-voice-src={p.voice?.src} data-voice-self={p.voice?.selfId} data-voice-community={p.community.id}>
        {p.groups.map((g) => (
          <ChannelGroup name={g.name}>
            {g.channels.map((c) => (
              <ChannelLink href={`/c/${p.community.id}/ch/${c.id}`} name={c.name ?? ""} kind={channelKind(c)} current={c.id === p.channel?.id} muted={c.archived} voiceId={c.kind === "voice" ? c.id : undefined} />
            ))}
          </ChannelGroup>
        ))}
      </nav>
    </div>
  );
  const ch = p.channel;
  const blocked = ch && !ch.canSend;
  const reason = p.timedOutUntil
    ? `You are timed out until ${p.timedOutUntil.toISOString().slice(0, 16).replace("T", " ")} UTC.`
    : ch?.archived
      ? "This channel is archived."
      : "Only moderators can post here.";
  return (
    <AppFrame
      rail={<div hx-boost:inherited="true" hx-swap:inherited="outerHTML">{<Rail communities={p.communities} currentId={p.community.id} />}</div>}
      sidebar={sidebar}
      header={
        ch ? (
          <div class="btn-row">
            <ChannelHeader name={ch.name ?? ""} topic={ch.topic ?? undefined} kind={channelKind(ch)} encrypted history={ch.kind === "voice" ? undefined : ch.historyVisibility} />
            {p.reportDialog}
          </div>
        ) : (
          <h1 class="channel-header__name" id="channel-header" data-live-region>
            {p.community.name}
          </h1>
        )
      }
      main={
        ch ? (
          <>
          {/* The call of a voice channel: drawn by the call client (src/client/voice/ui.ts). */}
          {ch.kind === "voice" ? <section class="voice-stage" data-voice-stage={ch.id} data-voice-name={ch.name ?? ""} aria-label={`Voice call in ${ch.name}`} /> : null}
          <MessageList label={`Messages in #${ch.name}`} chat={ch.kind === "voice" ? undefined : p.chat}>
            <ChannelIntro name={ch.name ?? ""} topic={ch.topic ?? undefined} kind={channelKind(ch)} />
            {p.history}
          </MessageList>
          </>
        ) : (
          <EmptyState title="No channels you can see" message="Ask a moderator to add you to a channel." icon="hash" />
        )
      }
      composer={
        // A voice channel has no text conversation: no composer (not a disabled one).
        ch && ch.kind !== "voice" ? (
          <div>
            {blocked ? (
              <p class="composer-notice muted" id="composer-notice" role="status">
                {reason}
              </p>
            ) : null}
            <Composer action={`/c/${p.community.id}/ch/${ch.id}/messages`} channelName={ch.name ?? ""} disabled={!!blocked} gifs={p.chat?.gifs} />
          </div>
        ) : undefined
      }
      members={<MemberPanel members={p.members} communityId={p.community.id} />}
      user={p.user}
    />
  );
};
