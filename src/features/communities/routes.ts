/** JSON API of communities, members, invites and custom roles (`/api/...`, snake_case). */
import { Elysia } from "elysia";
import type { AppDeps } from "../../deps.ts";
import { json } from "../../http/render.ts";
import { authGuard } from "../auth/index.ts";
import { createCommunity, deleteCommunity, getCommunity, leaveCommunity, listCommunityMembers, setMemberCustomRoles, setMemberRole, transferOwnership, updateCommunity } from "./service.ts";
import { acceptInvite, createInvite, joinDiscoverable, listDiscoverable, listInvites, previewInvite, revokeInvite } from "./invites.ts";
import { createRole, deleteRole, listRoles, updateRole } from "./roles.ts";
import { listCommunitiesOf } from "./queries.ts";
import { communityJson, CreateCommunityBody, CreateRoleBody, CustomRolesBody, DeleteCommunityBody, InviteBody, inviteJson, memberJson, PageQuery, RoleBody, TransferBody, UpdateCommunityBody, UpdateRoleBody } from "./schemas.ts";

export function baseUrlOf(deps: AppDeps, request: Request): string {
  return deps.config.publicUrl ?? new URL(request.url).origin;
}

export function communityApiRoutes(deps: AppDeps) {
  const db = deps.database.db;
  return new Elysia({ name: "communities-api" })
    .use(authGuard(deps))
    .get("/api/communities", async ({ actor }) => {
      const list = await listCommunitiesOf(db, actor.userId);
      return { communities: list.map((c) => ({ id: c.id, name: c.name, description: c.description, my_role: c.role, member_count: c.memberCount })) };
    }, { auth: true })
    .get("/api/communities/discover", async ({ actor }) => ({
      communities: (await listDiscoverable(deps, actor)).map((c) => ({ id: c.id, name: c.name, description: c.description, member_count: c.memberCount })),
    }), { auth: true })
    .post("/api/communities/:id/join", async ({ actor, params }) => {
      const joined = await joinDiscoverable(deps, actor, params.id);
      return { community_id: joined.communityId, community_name: joined.name };
    }, { auth: true })
    .post("/api/communities", async ({ actor, body }) => {
      const created = await createCommunity(deps, actor, body);
      return json(communityJson(await getCommunity(deps, actor, created.id)), { status: 201 });
    }, { auth: true, body: CreateCommunityBody })
    .get("/api/communities/:id", async ({ actor, params }) => communityJson(await getCommunity(deps, actor, params.id)), { auth: true })
    .patch("/api/communities/:id", async ({ actor, params, body }) => {
      const access = await updateCommunity(deps, actor, params.id, { name: body.name, description: body.description, whoCanCreateGroups: body.who_can_create_groups, whoCanInvite: body.who_can_invite, discoverable: body.discoverable });
      return communityJson(access);
    }, { auth: true, body: UpdateCommunityBody })
    .delete("/api/communities/:id", async ({ actor, params, body }) => {
      await deleteCommunity(deps, actor, params.id, body.confirm_name);
      return new Response(null, { status: 204 });
    }, { auth: true, body: DeleteCommunityBody })
    .post("/api/communities/:id/transfer-ownership", async ({ actor, params, body }) => {
      await transferOwnership(deps, actor, params.id, body.new_owner_id);
      return communityJson(await getCommunity(deps, actor, params.id));
    }, { auth: true, body: TransferBody })
    .post("/api/communities/:id/leave", async ({ actor, params }) => {
      await leaveCommunity(deps, actor, params.id);
      return new Response(null, { status: 204 });
    }, { auth: true })
    .get("/api/communities/:id/members", async ({ actor, params, query }) => {
      const limit = query.limit ?? 100;
      const offset = query.offset ?? 0;
      const members = await listCommunityMembers(deps, actor, params.id, { limit, offset });
      return { members: members.map(memberJson), limit, offset };
    }, { auth: true, query: PageQuery })
    .put("/api/communities/:id/members/:userId/role", async ({ actor, params, body }) => {
      await setMemberRole(deps, actor, params.id, params.userId, body.role);
      return new Response(null, { status: 204 });
    }, { auth: true, body: RoleBody })
    .put("/api/communities/:id/members/:userId/roles", async ({ actor, params, body }) => {
      await setMemberCustomRoles(deps, actor, params.id, params.userId, body.role_ids);
      return new Response(null, { status: 204 });
    }, { auth: true, body: CustomRolesBody })
    .get("/api/communities/:id/invites", async ({ actor, params, request }) => {
      const invites = await listInvites(deps, actor, params.id);
      return { invites: invites.map((i) => inviteJson(i, baseUrlOf(deps, request))) };
    }, { auth: true })
    .post("/api/communities/:id/invites", async ({ actor, params, body, request }) => {
      const invite = await createInvite(deps, actor, params.id, { maxUses: body.max_uses, expiresInHours: body.expires_in_hours });
      return json(inviteJson(invite, baseUrlOf(deps, request)), { status: 201 });
    }, { auth: true, body: InviteBody })
    .delete("/api/communities/:id/invites/:inviteId", async ({ actor, params }) => {
      await revokeInvite(deps, actor, params.id, params.inviteId);
      return new Response(null, { status: 204 });
    }, { auth: true })
    .get("/api/community-invites/:code", async ({ actor, params }) => {
      const p = await previewInvite(deps, actor, params.code);
      return { code: p.code, community_id: p.communityId, community_name: p.name, community_description: p.description, welcome_message: p.welcomeMessage, member_count: p.memberCount, already_member: p.alreadyMember };
    }, { auth: true })
    .post("/api/community-invites/:code/accept", async ({ actor, params }) => {
      const joined = await acceptInvite(deps, actor, params.code);
      return { community_id: joined.communityId, community_name: joined.name };
    }, { auth: true })
    .get("/api/communities/:id/roles", async ({ actor, params }) => ({ roles: await listRoles(deps, actor, params.id) }), { auth: true })
    .post("/api/communities/:id/roles", async ({ actor, params, body }) => json(await createRole(deps, actor, params.id, body), { status: 201 }), { auth: true, body: CreateRoleBody })
    .patch("/api/communities/:id/roles/:roleId", async ({ actor, params, body }) => {
      await updateRole(deps, actor, params.id, params.roleId, body);
      return new Response(null, { status: 204 });
    }, { auth: true, body: UpdateRoleBody })
    .delete("/api/communities/:id/roles/:roleId", async ({ actor, params }) => {
      await deleteRole(deps, actor, params.id, params.roleId);
      return new Response(null, { status: 204 });
    }, { auth: true });
}
