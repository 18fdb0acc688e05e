/** Request schemas and snake_case serializers of the communities API. */
import { t } from "elysia";
import type { CommunityAccess } from "../permissions/index.ts";
import { allows } from "../permissions/index.ts";
import type { InviteView } from "./invites.ts";
import type { MemberView } from "./queries.ts";
import { int, Offset, queryOf } from "../../http/input-schemas.ts";

export const CreateCommunityBody = t.Object({ name: t.String({ maxLength: 200 }), description: t.Optional(t.Nullable(t.String({ maxLength: 5000 }))) });
export const UpdateCommunityBody = t.Object({
  name: t.Optional(t.String({ maxLength: 200 })),
  description: t.Optional(t.Nullable(t.String({ maxLength: 5000 }))),
  who_can_create_groups: t.Optional(t.String()),
  who_can_invite: t.Optional(t.String()),
  discoverable: t.Optional(t.Boolean()),
});
export const DeleteCommunityBody = t.Object({ confirm_name: t.String({ maxLength: 200 }) });
export const TransferBody = t.Object({ new_owner_id: t.String({ maxLength: 64 }) });
export const RoleBody = t.Object({ role: t.String({ maxLength: 32 }) });
export const CustomRolesBody = t.Object({ role_ids: t.Array(t.String({ maxLength: 64 }), { maxItems: 100 }) });
export const PageQuery = queryOf({ limit: int(1, 500), offset: Offset });
export const InviteBody = t.Object({ max_uses: t.Optional(t.Nullable(t.Integer())), expires_in_hours: t.Optional(t.Nullable(t.Integer())) });
export const CreateRoleBody = t.Object({ name: t.String({ maxLength: 200 }), permissions: t.Array(t.String({ maxLength: 64 }), { maxItems: 50 }), position: t.Optional(t.Integer()) });
export const UpdateRoleBody = t.Object({ name: t.Optional(t.String({ maxLength: 200 })), permissions: t.Optional(t.Array(t.String({ maxLength: 64 }), { maxItems: 50 })), position: t.Optional(t.Integer()) });

export function communityJson(a: CommunityAccess) {
  const c = a.community;
  return {
    id: c.id,
    name: c.name,
    description: c.description,
    owner_id: c.ownerId,
    who_can_create_groups: c.whoCanCreateGroups,
    who_can_invite: c.whoCanInvite,
    discoverable: c.discoverable,
    created_at: c.createdAt.toISOString(),
    my_role: a.subject.member?.role ?? null,
    my_permissions: {
      edit: allows(a, "edit_community"),
      delete: allows(a, "delete_community"),
      invite: allows(a, "create_invite"),
      create_group: allows(a, "create_group"),
      manage_channels: allows(a, "manage_channels"),
      manage_roles: allows(a, "manage_roles"),
      view_audit_log: allows(a, "view_audit_log"),
      review_reports: allows(a, "review_reports"),
    },
  };
}

export function memberJson(m: MemberView) {
  return {
    user_id: m.userId,
    username: m.username,
    display_name: m.displayName,
    nickname: m.nickname,
    avatar_url: m.avatarUrl,
    role: m.role,
    custom_roles: m.customRoles,
    joined_at: m.joinedAt.toISOString(),
    timed_out_until: m.timedOutUntil?.toISOString() ?? null,
  };
}

export function inviteJson(i: InviteView, baseUrl: string) {
  return {
    id: i.id,
    code: i.code,
    url: `${baseUrl}/invite/${i.code}`,
    max_uses: i.maxUses,
    uses: i.uses,
    expires_at: i.expiresAt?.toISOString() ?? null,
    revoked_at: i.revokedAt?.toISOString() ?? null,
    created_at: i.createdAt.toISOString(),
    created_by: i.createdBy,
  };
}
