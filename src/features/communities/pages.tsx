/** htmx pages of communities: picker, create, join, invite page, the chat frame, reports. */
import { communityCreationModeOf } from "../../db/runtime-settings.ts";
import { Elysia } from "elysia";
import type { AppDeps } from "../../deps.ts";
import { InvalidInputError, NotFoundError } from "../../errors.ts";
import { fragment, isHtmx, redirect, seeOther } from "../../http/render.ts";
import { Offset, queryOf } from "../../http/input-schemas.ts";
import { Toast } from "../../../views/index.ts";
import { authGuard } from "../auth/index.ts";
import { accessChannel, allows } from "../permissions/index.ts";
import { listVisibleGroups } from "../channels/index.ts";
import { createReport } from "../moderation/index.ts";
import { HISTORY_PAGE, listHistory, MessageHistory } from "../messages/index.ts";
import { dbOf, nowOf } from "./context.ts";
import { acceptInvite, joinDiscoverable, listDiscoverable, previewInvite } from "./invites.ts";
import { listCommunitiesOf, listMembers } from "./queries.ts";
import { createCommunity, getCommunity, listCommunityMembers } from "./service.ts";
import { ChatFrame, CommunityPicker, CreateCommunityForm, InviteCard, JoinInviteForm, MEMBER_PAGE, MemberPage } from "./views.tsx";
import { ReportDialog } from "./report-dialog.tsx";
import { formOf, renderPage } from "./page-helpers.tsx";
import { gifsEnabled } from "../gifs/index.ts";

export async function canCreateCommunities(deps: AppDeps, actor: { isOwner: boolean; isAdmin: boolean }): Promise<boolean> {
  return actor.isOwner || actor.isAdmin || (await communityCreationModeOf(deps)) === "anyone";
}

/** Accepts a bare code or a pasted link ending in /invite/<code>. */
function inviteCodeOf(input: string): string {
  const trimmed = input.trim();
  const m = /\/invite\/([A-Za-z0-9]{1,64})\/?$/.exec(trimmed);
  return m ? m[1]! : trimmed;
}

export function communityPages(deps: AppDeps) {
  const db = dbOf(deps);
  return new Elysia({ name: "community-pages" })
    .use(authGuard(deps))
    .get("/communities", async ({ actor, request }) => {
      const [communities, discoverable] = await Promise.all([listCommunitiesOf(db, actor.userId), listDiscoverable(deps, actor)]);
      return renderPage(deps, request, actor, "Communities", <CommunityPicker communities={communities} canCreate={await canCreateCommunities(deps, actor)} discoverable={discoverable} />);
    }, { auth: true })
    .post("/communities", async ({ actor, body, request }) => {
      const form = formOf(body);
      try {
        const created = await createCommunity(deps, actor, { name: form.name ?? "", description: form.description });
        return redirect(request, `/c/${created.id}`);
      } catch (error) {
        if (error instanceof InvalidInputError && isHtmx(request)) {
          // 422: the form comes back with the message next to the field (views/README.md).
          return fragment(<CreateCommunityForm name={form.name} description={form.description} fieldErrors={error.details?.fields} />, { status: 422 });
        }
        throw error;
      }
    }, { auth: true })
    .post("/communities/:id/join", async ({ actor, params, request }) => {
      const joined = await joinDiscoverable(deps, actor, params.id);
      return redirect(request, `/c/${joined.communityId}`);
    }, { auth: true })
    .post("/communities/join", async ({ actor, body, request }) => {
      const typed = formOf(body).code ?? "";
      const code = inviteCodeOf(typed);
      let error: string | null = null;
      if (!/^[A-Za-z0-9]{1,64}$/.test(code)) error = "That does not look like an invite link or code: paste the link or its code.";
      else {
        // Checked here so an unknown code is answered at the field, not with the 404 page.
        try {
          await previewInvite(deps, actor, code);
        } catch (e) {
          if (!(e instanceof NotFoundError)) throw e;
          error = "No invite with that code works: it may be mistyped, used up, revoked or expired.";
        }
      }
      if (!error) return redirect(request, `/invite/${code}`);
      const join = { code: typed.slice(0, 300), error };
      if (isHtmx(request)) return fragment(<JoinInviteForm {...join} />, { status: 422 });
      const [communities, discoverable] = await Promise.all([listCommunitiesOf(db, actor.userId), listDiscoverable(deps, actor)]);
      return renderPage(deps, request, actor, "Communities", <CommunityPicker communities={communities} canCreate={await canCreateCommunities(deps, actor)} discoverable={discoverable} join={join} />, { status: 422 });
    }, { auth: true })
    .get("/invite/:code", async ({ actor, params, request }) => {
      const p = await previewInvite(deps, actor, params.code);
      return renderPage(deps, request, actor, `Join ${p.name}`, <InviteCard {...p} />);
    }, { auth: true })
    .post("/invite/:code/accept", async ({ actor, params, request }) => {
      const joined = await acceptInvite(deps, actor, params.code);
      return redirect(request, `/c/${joined.communityId}`);
    }, { auth: true })
    .get("/c/:id", async ({ actor, params, request }) => {
      const groups = await listVisibleGroups(deps, actor, params.id);
      const first = groups.flatMap((g) => g.channels)[0];
      if (first) return seeOther(request, `/c/${params.id}/ch/${first.id}`);
      return renderChat(deps, request, actor, params.id, null);
    }, { auth: true })
    .get("/c/:id/ch/:channelId", async ({ actor, params, request }) => renderChat(deps, request, actor, params.id, params.channelId), { auth: true })
    .get("/c/:id/members", async ({ actor, params, query, request }) => {
      // The members panel's "more" (htmx); opened as a page, it is the community's page.
      if (!isHtmx(request)) return seeOther(request, `/c/${params.id}`);
      const offset = query.offset ?? 0;
      const members = await listCommunityMembers(deps, actor, params.id, { limit: MEMBER_PAGE, offset });
      return fragment(<MemberPage members={members} communityId={params.id} offset={offset} />);
    }, { auth: true, query: queryOf({ offset: Offset }) })
    .post("/reports", async ({ actor, body, request }) => {
      const form = formOf(body);
      await createReport(deps, actor, { communityId: form.community_id ?? "", targetType: form.target_type ?? "", targetId: form.target_id ?? "", reason: form.reason ?? "", attachedText: form.attached_text });
      const toast = <Toast oob message="Thanks: the moderators will look at your report." tone="success" />;
      // Only the toast: the dialog's form stays for the next report (data-dialog-done closes it).
      if (isHtmx(request)) return fragment(toast);
      return redirect(request, `/c/${form.community_id}`);
    }, { auth: true });
}

async function renderChat(deps: AppDeps, request: Request, actor: { userId: string; displayName: string; isOwner: boolean; isAdmin: boolean }, communityId: string, channelId: string | null): Promise<Response> {
  const db = dbOf(deps);
  const now = nowOf(deps);
  const access = await getCommunity(deps, actor, communityId);
  const [communities, groups, members] = await Promise.all([listCommunitiesOf(db, actor.userId), listVisibleGroups(deps, actor, communityId), listMembers(db, communityId, { limit: MEMBER_PAGE, offset: 0, now })]);
  const channel = channelId ? groups.flatMap((g) => g.channels).find((c) => c.id === channelId) : null;
  if (channelId && !channel) throw new NotFoundError("No such channel.");
  const timedOutUntil = access.subject.member?.timedOutUntil ?? null;
  // The last page of history, rendered as structure + ciphertext; the chat bundle decrypts it.
  const history = channel && channel.kind !== "voice" ? await listHistory(deps, actor, channel.id, { limit: HISTORY_PAGE }) : null;
  // @everyone / @here in the composer: the channel's own rule (overrides included), as the send path decides it.
  const mentionAll = channel && channel.kind !== "voice" ? allows((await accessChannel(db, actor, channel.id, now)).community!, "mention_everyone") : false;
  const canManage = allows(access, "edit_community") || allows(access, "view_audit_log") || allows(access, "manage_roles") || allows(access, "review_reports");
  return renderPage(
    deps,
    request,
    actor,
    channel ? `#${channel.name} · ${access.community.name}` : access.community.name,
    <ChatFrame
      communities={communities}
      community={{ id: access.community.id, name: access.community.name, canManage, canInvite: allows(access, "create_invite") }}
      groups={groups}
      channel={channel ?? null}
      members={members}
      timedOutUntil={timedOutUntil}
      now={now}
      reportDialog={<ReportDialog communityId={communityId} members={members} selfId={actor.userId} />}
      history={history ? <MessageHistory messages={[...history.messages].reverse()} hasMore={history.has_more} /> : undefined}
      voice={{ selfId: actor.userId, src: deps.assets.url("chat.js") }}
      user={{ id: actor.userId, displayName: actor.displayName }}
      chat={channel ? { channelId: channel.id, scheme: "sk", selfId: actor.userId, communityId, src: deps.assets.url("chat.js"), moderate: allows(access, "manage_messages"), mentionAll, gifs: gifsEnabled(deps) } : undefined}
    />,
    { variant: "app" },
  );
}

