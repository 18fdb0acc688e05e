/** Community settings pages (htmx). Every form calls the same service as the JSON API. */
import { registrationModeOf } from "../../db/runtime-settings.ts";
import { Elysia } from "elysia";
import type { AppDeps } from "../../deps.ts";
import { ForbiddenError, NotFoundError } from "../../errors.ts";
import { redirect, seeOther } from "../../http/render.ts";
import { queryOf, Uuid } from "../../http/input-schemas.ts";
import { authGuard } from "../auth/index.ts";
import { allows, type CommunityAccess } from "../permissions/index.ts";
import type { Membership } from "../permissions/index.ts";
import { listCommunityOverrides, listVisibleGroups } from "../channels/index.ts";
import { listBans, listReportFiles, listReports, listWarnings } from "../moderation/index.ts";
import { listCommunityAudit } from "./audit.ts";
import { dbOf, nowOf } from "./context.ts";
import { listInvites } from "./invites.ts";
import { formOf, renderPage } from "./page-helpers.tsx";
import { listMembers } from "./queries.ts";
import { listRoles } from "./roles.ts";
import { getCommunity } from "./service.ts";
import { SETTINGS_FORMS } from "./settings-forms.ts";
import { baseUrlOf } from "./routes.ts";
import { AppearanceSection, ChannelsSection, OverviewSection, RolesSection, SECTIONS, SettingsFrame, type Section } from "./settings-views.tsx";
import { MAX_EMOJI_PER_COMMUNITY } from "../../shared/image-limits.ts";
import { AuditSection, BansSection, InvitesSection, MembersSection, ReportsSection } from "./settings-moderation-views.tsx";

const ANYONE = { target: { userId: "", member: null } };
const PLAIN_CHANNEL = { kind: "text" as const, isPrivate: false, readOnly: false, archived: false, isChannelMember: false, overrides: [] };
const AUDIT_PAGE = 100;

export function visibleSections(a: CommunityAccess): Section[] {
  const out: Section[] = ["overview"];
  if (allows(a, "edit_community") || allows(a, "manage_emoji")) out.push("appearance");
  if (allows(a, "manage_channels") || allows(a, "create_group")) out.push("channels");
  if (allows(a, "manage_roles")) out.push("roles");
  if (allows(a, "kick_member", ANYONE) || allows(a, "timeout_member", ANYONE) || allows(a, "ban_member", ANYONE) || allows(a, "manage_roles")) out.push("members");
  if (allows(a, "create_invite")) out.push("invites");
  // Webhooks are per channel; the tab shows for whoever holds manage_webhooks community-wide
  // (the page itself lists exactly the channels where the actor holds it).
  if (allows(a, "manage_webhooks", { channel: PLAIN_CHANNEL })) out.push("webhooks");
  if (allows(a, "ban_member", ANYONE)) out.push("bans");
  if (allows(a, "review_reports")) out.push("reports");
  if (allows(a, "view_audit_log")) out.push("audit");
  return out;
}

export function communitySettingsPages(deps: AppDeps) {
  const db = dbOf(deps);
  return new Elysia({ name: "community-settings-pages" })
    .use(authGuard(deps))
    .get("/c/:id/settings", ({ params, request }) => seeOther(request, `/c/${params.id}/settings/overview`), { auth: true })
    .get("/c/:id/settings/:section", async ({ actor, params, request, query }) => {
      const access = await getCommunity(deps, actor, params.id);
      const visible = visibleSections(access);
      const section = params.section as Section;
      if (!SECTIONS.some(([k]) => k === section)) throw new NotFoundError("No such settings page.");
      if (!visible.includes(section)) throw new ForbiddenError("Your role cannot open this settings page.", "PERMISSION_DENIED");
      const base = `/c/${params.id}/settings`;
      const now = nowOf(deps);
      const c = access.community;
      let body;
      switch (section) {
        case "overview":
          body = <OverviewSection base={base} c={c} canEdit={allows(access, "edit_community")} isOwner={allows(access, "delete_community")} isMember={access.subject.member !== null && access.subject.member.role !== "owner"} canRecover={actor.isOwner && c.ownerId !== actor.userId} selfId={actor.userId} members={await listMembers(db, c.id, { limit: 500, offset: 0, now })} />;
          break;
        case "appearance":
          body = <AppearanceSection communityId={c.id} canEdit={allows(access, "edit_community")} canEmoji={allows(access, "manage_emoji")} imagesSrc={deps.assets.url("images-ui.js")} maxEmoji={MAX_EMOJI_PER_COMMUNITY} />;
          break;
        case "channels":
          body = <ChannelsSection base={base} groups={await listVisibleGroups(deps, actor, c.id)} />;
          break;
        case "roles":
          body = (
            <RolesSection
              base={base}
              roles={await listRoles(deps, actor, c.id)}
              overrides={await listCommunityOverrides(deps, actor, c.id)}
              channels={(await listVisibleGroups(deps, actor, c.id)).flatMap((g) => g.channels)}
            />
          );
          break;
        case "members": {
          const [members, roles] = await Promise.all([listMembers(db, c.id, { limit: 500, offset: 0, now }), listRoles(deps, actor, c.id)]);
          const rows = members.map((m) => {
            const member: Membership = { role: m.role as Membership["role"], customRoles: roles.filter((r) => m.customRoles.some((x) => x.id === r.id)), timedOutUntil: m.timedOutUntil };
            const target = { target: { userId: m.userId, member } };
            return {
              member: m,
              canRole: allows(access, "change_member_role", target),
              canKick: allows(access, "kick_member", target),
              canBan: allows(access, "ban_member", target),
              canTimeout: allows(access, "timeout_member", target),
              canWarn: allows(access, "warn_member", target),
              canAssignRoles: allows(access, "manage_roles") && allows(access, "change_member_role", target),
            };
          });
          const warnings = allows(access, "view_audit_log") ? await listWarnings(deps, actor, c.id, undefined) : null;
          body = <MembersSection base={base} rows={rows} roles={roles} warnings={warnings} />;
          break;
        }
        case "invites":
          body = <InvitesSection base={base} invites={await listInvites(deps, actor, c.id)} baseUrl={baseUrlOf(deps, request)} canCreate={allows(access, "create_invite")} registrationMode={await registrationModeOf(deps)} />;
          break;
        case "bans":
          body = <BansSection base={base} bans={await listBans(deps, actor, c.id)} />;
          break;
        case "reports": {
          const reports = await listReports(deps, actor, c.id);
          const files = await listReportFiles(deps, reports.map((r) => r.id));
          body = <ReportsSection base={base} communityId={c.id} reports={reports.map((r) => ({ ...r, files: files.get(r.id) ?? [] }))} />;
          break;
        }
        case "audit":
          {
            const entries = await listCommunityAudit(db, c.id, { limit: AUDIT_PAGE + 1, before: query.before });
            body = <AuditSection entries={entries.slice(0, AUDIT_PAGE)} olderHref={entries.length > AUDIT_PAGE ? `${base}/audit?before=${entries[AUDIT_PAGE - 1]!.id}` : undefined} />;
          }
          break;
      }
      return renderPage(deps, request, actor, `Settings · ${c.name}`, <SettingsFrame communityId={c.id} name={c.name} section={section} visible={visible}>{body}</SettingsFrame>);
    }, { auth: true, query: queryOf({ before: Uuid }) })
    .post("/c/:id/settings/:a/:b?/:c?/:d?", async ({ actor, params, body, request }) => {
      const path = [params.a, params.b, params.c, params.d].filter(Boolean).join("/");
      for (const form of SETTINGS_FORMS) {
        const m = form.path.exec(path);
        if (!m) continue;
        await form.run(deps, actor, params.id, formOf(body), m);
        return redirect(request, form.back ? `/c/${params.id}/settings/${form.back}` : "/communities");
      }
      throw new NotFoundError("There is nothing at this address.");
    }, { auth: true });
}
