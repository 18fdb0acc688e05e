/**
 * The landing page. Signed out: straight to /login. Signed in: the hub (issue 13 §1) — the
 * user's communities with their unread counts, recent conversations, and a way to create or join
 * a community for someone who has none; settings and admin links below. The lists are live
 * regions: the socket module (src/client/live/) re-fetches this page and swaps them in when a
 * DM is created or a community changes.
 */
import { Elysia } from "elysia";
import type { FC } from "hono/jsx";
import type { AppDeps } from "../../deps.ts";
import { redirect } from "../../http/render.ts";
import { Avatar, EmptyState, UnreadBadges } from "../../../views/index.ts";
import { authGuard, hasAdminPower } from "../auth/index.ts";
import { listCommunitiesOf, renderPage, type CommunitySummary } from "../communities/index.ts";
import { listDms, type DmView } from "../dms/index.ts";
import { summariseUnread } from "../messages/index.ts";
import { switcherRoutes } from "./switcher.ts";

/** Recent conversations on the hub; the whole list is one click away (/dms). */
const RECENT_DMS = 6;

function dmTitle(dm: DmView, selfId: string): string {
  return dm.participants.filter((p) => p.id !== selfId).map((p) => p.displayName).join(", ") || "Just you";
}

type Counts = Map<string, { unread: number; mentions: number }>;

const CommunitiesSection: FC<{ communities: CommunitySummary[]; unread: Counts }> = (p) => (
  <section class="stack" id="home-communities" data-live-region aria-labelledby="home-communities-title">
    <h2 id="home-communities-title">Your communities</h2>
    {p.communities.length === 0 ? (
      <div class="card stack" data-testid="home-start">
        <EmptyState title="You are not in any community yet" message="A community holds your channels. Create one for your team, or join one with the invite link someone sent you." icon="hash" />
        <div class="home-hub__actions">
          <a class="btn btn--primary" href="/communities">
            Create or join a community
          </a>
        </div>
      </div>
    ) : (
      <>
        <ul class="home-hub__list">
          {p.communities.map((c) => (
            <li>
              <a class="home-hub__item" href={`/c/${c.id}`}>
                <Avatar userId={c.id} name={c.name} imageUrl={c.iconUrl} size="sm" />
                <span class="home-hub__name">{c.name}</span>
                <span class="home-hub__meta">
                  {c.memberCount} {c.memberCount === 1 ? "member" : "members"}
                </span>
                <UnreadBadges {...p.unread.get(c.id)} />
              </a>
            </li>
          ))}
        </ul>
        <p>
          <a href="/communities">Create or join another community</a>
        </p>
      </>
    )}
  </section>
);

const DmsSection: FC<{ dms: DmView[]; selfId: string; unread: Counts }> = (p) => (
  <section class="stack" id="home-dms" data-live-region aria-labelledby="home-dms-title">
    <h2 id="home-dms-title">Direct messages</h2>
    {p.dms.length === 0 ? (
      <p class="muted">No conversations yet.</p>
    ) : (
      <ul class="home-hub__list" id="home-dm-list">
        {p.dms.slice(0, RECENT_DMS).map((dm) => (
          <li>
            <a class="home-hub__item" href={`/dms/${dm.channelId}`}>
              <Avatar userId={dm.participants.find((x) => x.id !== p.selfId)?.id ?? p.selfId} name={dmTitle(dm, p.selfId)} size="sm" person={dm.kind === "dm"} />
              <span class="home-hub__name">{dmTitle(dm, p.selfId)}</span>
              {dm.kind === "group_dm" ? <span class="home-hub__meta">group</span> : null}
              <UnreadBadges {...p.unread.get(dm.channelId)} />
            </a>
          </li>
        ))}
      </ul>
    )}
    <div class="home-hub__actions">
      <a class="btn btn--secondary btn--sm" href="/dms/new">
        New message
      </a>
      {p.dms.length > 0 ? (
        <a class="btn btn--ghost btn--sm" href="/dms">
          All conversations
        </a>
      ) : null}
    </div>
  </section>
);

export function homeRoutes(deps: AppDeps) {
  return new Elysia({ name: "home" }).use(authGuard(deps)).use(switcherRoutes(deps)).get(
    "/",
    async ({ actor, request }) => {
      if (!actor) return redirect(request, "/login");
      const db = deps.database.db;
      const [communities, dms, unread] = await Promise.all([listCommunitiesOf(db, actor.userId), listDms(deps, actor), summariseUnread(deps, actor)]);
      return renderPage(
        deps,
        request,
        actor,
        "Home",
        <div class="home home-hub page-narrow" data-testid="home">
          <div class="home-hub__head">
            <h1>Welcome, {actor.displayName}</h1>
            {/* Every channel and conversation: the user's other devices clear too (read:all). */}
            <form method="post" action="/read-all">
              <input type="hidden" name="next" value="/" />
              <button type="submit" class="btn btn--ghost btn--sm" data-testid="mark-all-read">
                Mark all as read
              </button>
            </form>
          </div>
          <CommunitiesSection communities={communities} unread={unread.byCommunity} />
          <DmsSection dms={dms} selfId={actor.userId} unread={unread.byChannel} />
          <section class="stack" aria-labelledby="home-settings-title">
            <h2 id="home-settings-title">Settings</h2>
            <ul class="stack">
              <li>
                <a href="/settings/account">Profile settings</a>
              </li>
              <li>
                <a href="/settings/security">Security: devices, two-factor, password</a>
              </li>
              {hasAdminPower(actor, "invites") ? (
                <li>
                  <a href="/admin/invites">Registration invites</a>
                </li>
              ) : null}
            </ul>
          </section>
        </div>,
      );
    },
    { optionalAuth: true },
  );
}
