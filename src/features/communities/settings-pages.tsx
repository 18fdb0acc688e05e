/** Community settings pages (htmx). Every form calls the same service as the JSON API. */
import { Elysia } from "elysia";
import type { AppDeps } from "../../app.ts";
import { ForbiddenError, NotFoundError } from "../../errors.ts";
import { redirect } from "../../http/render.ts";
import { queryOf, Uuid } from "../../http/input-schemas.ts";
import { authGuard } from "../auth/index.ts";
import { allows, type CommunityAccess } from "../permissions/index.ts";
import type { Membership } from "../permissions/index.ts";
import { createChannel, createGroup, deleteChannel, deleteGroup, listCommunityOverrides, listVisibleGroups, removeChannelOverride, renameGroup, setChannelOverride, updateChannel } from "../channels/index.ts";
import { banUser, kickMember, listBans, listWarnings, timeoutMember, unbanUser, warnMember } from "../moderation/index.ts";
import { closeReport, listReports } from "../moderation/index.ts";
import { listCommunityAudit } from "./audit.ts";
import { dbOf, nowOf } from "./context.ts";
import { createInvite, listInvites, revokeInvite } from "./invites.ts";
import { formOf, optionalInt, renderPage } from "./page-helpers.tsx";
import { listMembers } from "./queries.ts";
import { createRole, deleteRole, listRoles } from "./roles.ts";
import { deleteCommunity, getCommunity, leaveCommunity, setMemberCustomRoles, setMemberRole, transferOwnership, updateCommunity } from "./service.ts";
import { baseUrlOf } from "./routes.ts";
import { ChannelsSection, OverviewSection, RolesSection, SECTIONS, SettingsFrame, type Section } from "./settings-views.tsx";
import { AuditSection, BansSection, InvitesSection, MembersSection, ReportsSection } from "./settings-moderation-views.tsx";
import { ROLE_PERMISSIONS } from "../permissions/index.ts";

const ANYONE = { target: { userId: "", member: null } };
const AUDIT_PAGE = 100;

export function visibleSections(a: CommunityAccess): Section[] {
  const out: Section[] = ["overview"];
  if (allows(a, "manage_channels") || allows(a, "create_group")) out.push("channels");
  if (allows(a, "manage_roles")) out.push("roles");
  if (allows(a, "kick_member", ANYONE) || allows(a, "timeout_member", ANYONE) || allows(a, "ban_member", ANYONE) || allows(a, "manage_roles")) out.push("members");
  if (allows(a, "create_invite")) out.push("invites");
  if (allows(a, "ban_member", ANYONE)) out.push("bans");
  if (allows(a, "review_reports")) out.push("reports");
  if (allows(a, "view_audit_log")) out.push("audit");
  return out;
}

export function communitySettingsPages(deps: AppDeps) {
  const db = dbOf(deps);
  return new Elysia({ name: "community-settings-pages" })
    .use(authGuard(deps))
    .get("/c/:id/settings", ({ params }) => new Response(null, { status: 303, headers: { location: `/c/${params.id}/settings/overview` } }), { auth: true })
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
          body = <InvitesSection base={base} invites={await listInvites(deps, actor, c.id)} baseUrl={baseUrlOf(deps, request)} canCreate={allows(access, "create_invite")} />;
          break;
        case "bans":
          body = <BansSection base={base} bans={await listBans(deps, actor, c.id)} />;
          break;
        case "reports":
          body = <ReportsSection base={base} reports={await listReports(deps, actor, c.id)} />;
          break;
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
      const f = formOf(body);
      const id = params.id;
      const back = (section: Section) => redirect(request, `/c/${id}/settings/${section}`);
      const path = [params.a, params.b, params.c, params.d].filter(Boolean).join("/");
      let m: RegExpExecArray | null;
      if (path === "overview") {
        await updateCommunity(deps, actor, id, { name: f.name, description: f.description ?? null, whoCanCreateGroups: f.who_can_create_groups, whoCanInvite: f.who_can_invite, discoverable: f.discoverable === "on" });
        return back("overview");
      }
      if (path === "delete") {
        await deleteCommunity(deps, actor, id, f.confirm_name ?? "");
        return redirect(request, "/communities");
      }
      if (path === "leave") {
        await leaveCommunity(deps, actor, id);
        return redirect(request, "/communities");
      }
      if (path === "transfer") {
        await transferOwnership(deps, actor, id, f.new_owner_id ?? "");
        return back("overview");
      }
      if (path === "groups") {
        await createGroup(deps, actor, id, { name: f.name ?? "" });
        return back("channels");
      }
      if ((m = /^groups\/([^/]+)\/(rename|delete)$/.exec(path))) {
        if (m[2] === "rename") await renameGroup(deps, actor, m[1]!, { name: f.name ?? "" });
        else await deleteGroup(deps, actor, m[1]!);
        return back("channels");
      }
      if ((m = /^channels\/([^/]+)(\/delete)?$/.exec(path))) {
        if (m[2]) await deleteChannel(deps, actor, m[1]!);
        else
          await updateChannel(deps, actor, m[1]!, {
            name: f.name,
            topic: f.topic ?? null,
            readOnly: f.read_only === "on",
            archived: f.archived === "on",
            slowModeSeconds: optionalInt(f.slow_mode_seconds) ?? 0,
            messageTtlSeconds: optionalInt(f.message_ttl_seconds) ?? 0,
          });
        return back("channels");
      }
      if (path === "overrides") {
        const [kind, ref] = (f.target ?? "").split(":");
        const perms = ["view_channel", "send_messages", "manage_messages", "pin", "mention_everyone"];
        await setChannelOverride(deps, actor, f.channel_id ?? "", {
          baseRole: kind === "base" ? (ref ?? null) : null,
          roleId: kind === "role" ? (ref ?? null) : null,
          allow: perms.filter((x) => f[`ov_${x}`] === "allow"),
          deny: perms.filter((x) => f[`ov_${x}`] === "deny"),
        });
        return back("roles");
      }
      if ((m = /^overrides\/([^/]+)\/([^/]+)\/delete$/.exec(path))) {
        await removeChannelOverride(deps, actor, m[1]!, m[2]!);
        return back("roles");
      }
      if ((m = /^groups\/([^/]+)\/channels$/.exec(path))) {
        await createChannel(deps, actor, m[1]!, { name: f.name ?? "", kind: f.kind ?? "text", isPrivate: f.is_private === "on" });
        return back("channels");
      }
      if (path === "roles") {
        const position = optionalInt(f.position) ?? 1;
        await createRole(deps, actor, id, { name: f.name ?? "", position, permissions: ROLE_PERMISSIONS.filter((p) => f[`perm_${p}`] === "on") });
        return back("roles");
      }
      if ((m = /^roles\/([^/]+)\/delete$/.exec(path))) {
        await deleteRole(deps, actor, id, m[1]!);
        return back("roles");
      }
      if ((m = /^members\/([^/]+)\/(role|roles|warn|kick|ban|timeout)$/.exec(path))) {
        const [, userId, action] = m;
        if (action === "roles") await setMemberCustomRoles(deps, actor, id, userId!, Object.keys(f).filter((k) => k.startsWith("role_") && f[k] === "on").map((k) => k.slice(5)));
        if (action === "warn") await warnMember(deps, actor, id, userId!, { reason: f.reason ?? "" });
        if (action === "role") await setMemberRole(deps, actor, id, userId!, f.role ?? "");
        if (action === "kick") await kickMember(deps, actor, id, userId!, { reason: f.reason });
        if (action === "ban") await banUser(deps, actor, id, userId!, { reason: f.reason, deleteMessageDays: optionalInt(f.delete_message_days) ?? 0 });
        if (action === "timeout") await timeoutMember(deps, actor, id, userId!, { durationSeconds: optionalInt(f.duration_seconds) ?? NaN, reason: f.reason });
        return back("members");
      }
      if (path === "invites") {
        await createInvite(deps, actor, id, { maxUses: optionalInt(f.max_uses), expiresInHours: optionalInt(f.expires_in_hours) });
        return back("invites");
      }
      if ((m = /^invites\/([^/]+)\/revoke$/.exec(path))) {
        await revokeInvite(deps, actor, id, m[1]!);
        return back("invites");
      }
      if ((m = /^bans\/([^/]+)\/unban$/.exec(path))) {
        await unbanUser(deps, actor, id, m[1]!);
        return back("bans");
      }
      if ((m = /^reports\/([^/]+)\/(resolve|dismiss)$/.exec(path))) {
        await closeReport(deps, actor, id, m[1]!, m[2] === "resolve" ? "resolved" : "dismissed", f.note);
        return back("reports");
      }
      throw new NotFoundError("There is nothing at this address.");
    }, { auth: true });
}
