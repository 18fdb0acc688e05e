/** DM pages: the conversation list with a "new message" picker, and one conversation. */
import { Elysia } from "elysia";
import type { FC } from "hono/jsx";
import type { AppDeps } from "../../deps.ts";
import { NotFoundError } from "../../errors.ts";
import { fragment, isHtmx, redirect } from "../../http/render.ts";
import { queryOf, text } from "../../http/input-schemas.ts";
import { AppFrame, Avatar, Composer, EmptyState, ErrorSlot, Field, MessageList, SidebarHeader } from "../../../views/index.ts";
import { authGuard } from "../auth/index.ts";
import { formOf, renderPage } from "../communities/index.ts";
import { listCommunitiesOf } from "../communities/index.ts";
import { Rail } from "../communities/index.ts";
import { HISTORY_PAGE, listHistory, MessageHistory } from "../messages/index.ts";
import { blockUser, getDm, listBlocks, listDmCandidates, listDms, openDm, openGroupDm, unblockUser, type DmView } from "./service.ts";
import { gifsEnabled } from "../gifs/index.ts";

function titleOf(dm: DmView, selfId: string): string {
  const others = dm.participants.filter((p) => p.id !== selfId);
  return others.map((p) => p.displayName).join(", ") || "Just you";
}

const DmList: FC<{ dms: DmView[]; selfId: string; currentId?: string }> = (p) => (
  <div class="sidebar__scroll" hx-boost:inherited="true" hx-swap:inherited="outerHTML">
    <SidebarHeader title="Messages">
      <a class="btn btn--sm btn--secondary" href="/dms/new">
        New
      </a>
      <a class="btn btn--sm btn--ghost" href="/dms/blocked">
        Blocked
      </a>
    </SidebarHeader>
    <ul class="channel-list" id="dm-list">
      {p.dms.map((dm) => {
        const other = dm.participants.find((x) => x.id !== p.selfId)?.id ?? p.selfId;
        const title = titleOf(dm, p.selfId);
        return (
          <li class="dm-row">
            {/* One-to-one: the avatar opens the person's profile card (live.js); the name opens the conversation. */}
            {dm.kind === "dm" ? (
              <button type="button" class="dm-row__face" data-profile-user={other}>
                <Avatar userId={other} name={title} size="xs" person />
                {/* Named by hidden text, not aria-label: the initials are visible text (axe label-content-name-mismatch). */}
                <span class="visually-hidden">Profile of {title}</span>
              </button>
            ) : null}
            <a class="channel" href={`/dms/${dm.channelId}`} aria-current={dm.channelId === p.currentId ? "page" : undefined}>
              {dm.kind === "dm" ? <span class="presence-dot" data-presence-user={other} aria-hidden="true" /> : null}
              <span class="channel__name">{title}</span>
            </a>
          </li>
        );
      })}
    </ul>
  </div>
);

/** Nobody ticked: "choose someone" at the list (422), not a group-size rule. */
const NOBODY = "Choose someone to message: tick one person, or several for a group conversation.";

const StartForm: FC<{ candidates: { id: string; username: string; displayName: string }[]; error?: string }> = (p) => (
  <form method="post" action="/dms/new" hx-post="/dms/new" hx-target="this" hx-swap="outerHTML" class="form" id="dm-start">
      <ErrorSlot />
      {p.error ? (
        <p class="field__error" id="dm-start-error" role="alert" tabindex={-1} data-error-banner>
          {p.error}
        </p>
      ) : null}
      <ul class="stack" id="dm-candidates">
        {p.candidates.map((c) => (
          <li>
            <label class="checkbox">
              <input type="checkbox" name={`u_${c.id}`} value="on" />
              <Avatar userId={c.id} name={c.displayName} size="sm" person /> <span>{c.displayName}</span> <span class="muted">@{c.username}</span>
            </label>
          </li>
        ))}
      </ul>
      {p.candidates.length ? (
        <div class="form__actions">
          <button class="btn btn--primary" type="submit">
            Start conversation
          </button>
        </div>
      ) : (
        <p class="muted">Nobody found. You can message people you share a community with.</p>
      )}
  </form>
);

const Picker: FC<{ query: string; candidates: { id: string; username: string; displayName: string }[]; error?: string }> = (p) => (
  <div class="stack dm-picker panel__body">
    <form method="get" action="/dms/new" class="btn-row" hx-boost="true">
      <Field name="q" label="Find people in your communities" type="search" value={p.query} maxLength={64} />
      <button class="btn btn--secondary" type="submit">
        Search
      </button>
    </form>
    <StartForm candidates={p.candidates} error={p.error} />
  </div>
);

export function dmPages(deps: AppDeps) {
  const db = deps.database.db;
  const frame = async (actor: { userId: string; displayName: string }, currentId: string | undefined, header: unknown, main: unknown, composer?: unknown) => {
    const [communities, dms] = await Promise.all([listCommunitiesOf(db, actor.userId), listDms(deps, actor as never)]);
    return (
      <AppFrame
        rail={<div hx-boost:inherited="true" hx-swap:inherited="outerHTML"><Rail communities={communities} dmsCurrent /></div>}
        sidebar={<DmList dms={dms} selfId={actor.userId} currentId={currentId} />}
        header={header as never}
        main={main as never}
        composer={composer as never}
        navLabel="Direct messages"
        user={{ id: actor.userId, displayName: actor.displayName }}
      />
    );
  };
  return new Elysia({ name: "dm-pages" })
    .use(authGuard(deps))
    .get("/dms", async ({ actor, request }) =>
      renderPage(deps, request, actor, "Direct messages", await frame(actor, undefined, <h1 class="channel-header__name">Direct messages</h1>, <EmptyState title="Pick a conversation" message="Or start a new one." />), { variant: "app" }),
    { auth: true })
    .get("/dms/new", async ({ actor, request, query }) => {
      const q = query.q ?? "";
      const candidates = await listDmCandidates(deps, actor, q);
      return renderPage(deps, request, actor, "New message", await frame(actor, undefined, <h1 class="channel-header__name">New message</h1>, <Picker query={q} candidates={candidates} />), { variant: "app" });
    }, { auth: true, query: queryOf({ q: text(256) }) })
    .post("/dms/new", async ({ actor, body, request }) => {
      const ids = Object.entries(formOf(body)).filter(([k, v]) => k.startsWith("u_") && v === "on").map(([k]) => k.slice(2));
      if (ids.length === 0) {
        const candidates = await listDmCandidates(deps, actor, "");
        if (isHtmx(request)) return fragment(<StartForm candidates={candidates} error={NOBODY} />, { status: 422 });
        return renderPage(deps, request, actor, "New message", await frame(actor, undefined, <h1 class="channel-header__name">New message</h1>, <Picker query="" candidates={candidates} error={NOBODY} />), { variant: "app", status: 422 });
      }
      const dm = ids.length === 1 ? await openDm(deps, actor, ids[0]!) : await openGroupDm(deps, actor, ids);
      return redirect(request, `/dms/${dm.channelId}`);
    }, { auth: true })
    .get("/dms/blocked", async ({ actor, request }) => {
      const blocks = await listBlocks(deps, actor);
      const main = (
        <ul class="stack panel__body" id="blocked-list">
          {blocks.length === 0 ? <li class="muted">You have not blocked anyone.</li> : null}
          {blocks.map((b) => (
            <li class="btn-row">
              <span>{b.displayName}</span> <span class="muted">@{b.username}</span>
              <form method="post" action={`/dms/blocked/${b.userId}/unblock`} hx-post={`/dms/blocked/${b.userId}/unblock`} hx-target="this" hx-swap="outerHTML">
                <ErrorSlot />
                <button class="btn btn--ghost btn--sm" type="submit">
                  Unblock
                </button>
              </form>
            </li>
          ))}
        </ul>
      );
      return renderPage(deps, request, actor, "Blocked people", await frame(actor, undefined, <h1 class="channel-header__name">Blocked people</h1>, main), { variant: "app" });
    }, { auth: true })
    .post("/dms/blocked/:userId/unblock", async ({ actor, params, request }) => {
      await unblockUser(deps, actor, params.userId);
      return redirect(request, "/dms/blocked");
    }, { auth: true })
    .post("/dms/block/:userId", async ({ actor, params, request }) => {
      await blockUser(deps, actor, params.userId);
      return redirect(request, "/dms/blocked");
    }, { auth: true })
    .get("/dms/:id", async ({ actor, params, request }) => {
      const dm = await getDm(deps, actor, params.id);
      if (!dm) throw new NotFoundError("No such conversation.");
      const title = titleOf(dm, actor.userId);
      const history = await listHistory(deps, actor, dm.channelId, { limit: HISTORY_PAGE });
      const other = dm.kind === "dm" ? dm.participants.find((x) => x.id !== actor.userId) : undefined;
      const header = (
        <div class="btn-row">
          <h1 class="channel-header__name">{title}</h1>
          {/* Enabled by the call client (chat.js loads chat-voice.js; docs/voice.md). */}
          <button type="button" class="btn btn--ghost btn--sm" data-voice-call={dm.channelId} data-voice-name={title} data-voice-scheme={dm.kind === "dm" ? "pw" : "sk"} data-voice-src={deps.assets.url("chat.js")} data-voice-self={actor.userId} disabled>
            Call
          </button>
          {other ? (
            <>
              {/* Filled and enabled by the chat bundle (src/client/chat/trust-ui.ts): trust lives in this browser. */}
              <span class="badge" data-trust-badge={other.id} hidden></span>
              <button type="button" class="btn btn--ghost btn--sm" data-verify-user={other.id} data-verify-name={other.displayName} disabled>
                Verify {other.displayName}
              </button>
            </>
          ) : null}
          {other ? (
            <form method="post" action={`/dms/block/${other.id}`} hx-post={`/dms/block/${other.id}`} hx-target="this" hx-swap="outerHTML">
              <ErrorSlot />
              <button class="btn btn--ghost btn--sm" type="submit">
                Block {other.displayName}
              </button>
            </form>
          ) : null}
        </div>
      );
      return renderPage(
        deps,
        request,
        actor,
        title,
        await frame(actor, dm.channelId, header, <MessageList label={`Conversation with ${title}`} chat={{ channelId: dm.channelId, scheme: "pw", selfId: actor.userId, src: deps.assets.url("chat.js"), mentionAll: dm.kind === "group_dm" }}>
          <li class="channel-intro">
            <h2 class="channel-intro__title">{title}</h2>
            <p class="channel-intro__text">This is the start of your conversation. Messages are end-to-end encrypted.</p>
          </li>
          <MessageHistory messages={[...history.messages].reverse()} hasMore={history.has_more} />
        </MessageList>, <Composer action={`/dms/${dm.channelId}/messages`} channelName={title} gifs={gifsEnabled(deps)} />),
        { variant: "app" },
      );
    }, { auth: true });
}
