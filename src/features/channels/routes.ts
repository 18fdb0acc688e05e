/** JSON API of groups and channels. */
import { Elysia, t } from "elysia";
import type { AppDeps } from "../../deps.ts";
import { json } from "../../http/render.ts";
import { authGuard } from "../auth/index.ts";
import type { ChannelRecord } from "../permissions/index.ts";
import { addChannelMember, removeChannelMember, createChannel, createGroup, deleteChannel, deleteGroup, getChannel, getGroup, listCommunityOverrides, removeChannelOverride, renameGroup, setChannelOverride, updateChannel, type ChannelInput } from "./service.ts";
import { listVisibleGroups } from "./visibility.ts";
import { describeViewerSet } from "./viewers.ts";

const ChannelBody = t.Object({
  name: t.Optional(t.String({ maxLength: 200 })),
  kind: t.Optional(t.String({ maxLength: 32 })),
  topic: t.Optional(t.Nullable(t.String({ maxLength: 2000 }))),
  is_private: t.Optional(t.Boolean()),
  read_only: t.Optional(t.Boolean()),
  archived: t.Optional(t.Boolean()),
  slow_mode_seconds: t.Optional(t.Integer()),
  message_ttl_seconds: t.Optional(t.Integer()),
  history_visibility: t.Optional(t.String({ maxLength: 16 })),
});

const ChannelIdParams = t.Object({ id: t.String({ maxLength: 64 }) });

function channelInput(b: typeof ChannelBody.static): ChannelInput {
  return { name: b.name, kind: b.kind, topic: b.topic, isPrivate: b.is_private, readOnly: b.read_only, archived: b.archived, slowModeSeconds: b.slow_mode_seconds, messageTtlSeconds: b.message_ttl_seconds, historyVisibility: b.history_visibility };
}

export function channelJson(c: ChannelRecord) {
  return {
    id: c.id,
    kind: c.kind,
    community_id: c.communityId,
    group_id: c.groupId,
    name: c.name,
    topic: c.topic,
    is_private: c.isPrivate,
    read_only: c.readOnly,
    archived: c.archived,
    slow_mode_seconds: c.slowModeSeconds,
    message_ttl_seconds: c.messageTtlSeconds,
    history_visibility: c.historyVisibility,
    created_at: c.createdAt.toISOString(),
  };
}

export function channelApiRoutes(deps: AppDeps) {
  return new Elysia({ name: "channels-api" })
    .use(authGuard(deps))
    .get("/api/communities/:id/groups", async ({ actor, params }) => {
      const groups = await listVisibleGroups(deps, actor, params.id);
      return { groups: groups.map((g) => ({ id: g.id, name: g.name, channels: g.channels.map((c) => ({ ...channelJson(c), can_send: c.canSend })) })) };
    }, { auth: true })
    .post("/api/groups", async ({ actor, body }) => {
      const g = await createGroup(deps, actor, body.community_id, { name: body.name });
      return json({ id: g.id, community_id: g.communityId, name: g.name, general_channel_id: g.generalChannelId }, { status: 201 });
    }, { auth: true, body: t.Object({ community_id: t.String({ maxLength: 64 }), name: t.String({ maxLength: 200 }) }) })
    .get("/api/groups/:id", async ({ actor, params }) => {
      const g = await getGroup(deps, actor, params.id);
      return { id: g.group.id, community_id: g.group.communityId, name: g.group.name, position: g.group.position };
    }, { auth: true })
    .patch("/api/groups/:id", async ({ actor, params, body }) => {
      await renameGroup(deps, actor, params.id, body);
      return new Response(null, { status: 204 });
    }, { auth: true, body: t.Object({ name: t.String({ maxLength: 200 }) }) })
    .delete("/api/groups/:id", async ({ actor, params }) => {
      await deleteGroup(deps, actor, params.id);
      return new Response(null, { status: 204 });
    }, { auth: true })
    .get("/api/groups/:id/channels", async ({ actor, params }) => {
      const g = await getGroup(deps, actor, params.id);
      const groups = await listVisibleGroups(deps, actor, g.group.communityId);
      return { channels: (groups.find((x) => x.id === g.group.id)?.channels ?? []).map(channelJson) };
    }, { auth: true })
    .post("/api/groups/:id/channels", async ({ actor, params, body }) => {
      const created = await createChannel(deps, actor, params.id, channelInput(body));
      return json(channelJson((await getChannel(deps, actor, created.id)).channel), { status: 201 });
    }, { auth: true, body: ChannelBody })
    .get("/api/channels/:id", async ({ actor, params }) => channelJson((await getChannel(deps, actor, params.id)).channel), { auth: true })
    // Everyone who can see the channel, with their devices and the viewer version: the
    // recipients of its sender keys and pairwise envelopes (docs/messages.md "Who gets a channel's key").
    .get("/api/channels/:id/members", async ({ actor, params }) => {
      const { channel } = await getChannel(deps, actor, params.id);
      const set = await describeViewerSet(deps.database.db, channel, actor.userId, new Date((deps.now ?? Date.now)()));
      return {
        viewer_version: set.viewerVersion,
        history_visibility: set.historyVisibility,
        viewer_since: set.viewerSince?.toISOString() ?? null,
        members: set.viewers.map((v) => ({ user_id: v.userId, display_name: v.displayName, nickname: v.nickname, devices: v.devices })),
      };
    }, { auth: true, params: ChannelIdParams })
    .patch("/api/channels/:id", async ({ actor, params, body }) => {
      await updateChannel(deps, actor, params.id, channelInput(body));
      return channelJson((await getChannel(deps, actor, params.id)).channel);
    }, { auth: true, body: ChannelBody })
    .delete("/api/channels/:id", async ({ actor, params }) => {
      await deleteChannel(deps, actor, params.id);
      return new Response(null, { status: 204 });
    }, { auth: true })
    .put("/api/channels/:id/overrides", async ({ actor, params, body }) => {
      await setChannelOverride(deps, actor, params.id, { baseRole: body.base_role ?? null, roleId: body.role_id ?? null, allow: body.allow, deny: body.deny });
      return new Response(null, { status: 204 });
    }, {
      auth: true,
      body: t.Object({ base_role: t.Optional(t.Nullable(t.String({ maxLength: 32 }))), role_id: t.Optional(t.Nullable(t.String({ maxLength: 64 }))), allow: t.Array(t.String({ maxLength: 64 }), { maxItems: 20 }), deny: t.Array(t.String({ maxLength: 64 }), { maxItems: 20 }) }),
    })
    .get("/api/channels/:id/overrides", async ({ actor, params }) => {
      const { channel } = await getChannel(deps, actor, params.id);
      const all = await listCommunityOverrides(deps, actor, channel.communityId ?? "");
      return { overrides: all.filter((o) => o.channelId === channel.id).map((o) => ({ id: o.id, base_role: o.baseRole, role_id: o.roleId, allow: o.allow, deny: o.deny })) };
    }, { auth: true })
    .delete("/api/channels/:id/overrides/:overrideId", async ({ actor, params }) => {
      await removeChannelOverride(deps, actor, params.id, params.overrideId);
      return new Response(null, { status: 204 });
    }, { auth: true })
    .post("/api/channels/:id/members", async ({ actor, params, body }) => {
      await addChannelMember(deps, actor, params.id, body.user_id);
      return new Response(null, { status: 204 });
    }, { auth: true, body: t.Object({ user_id: t.String({ maxLength: 64 }) }) })
    .delete("/api/channels/:id/members/:userId", async ({ actor, params }) => {
      await removeChannelMember(deps, actor, params.id, params.userId);
      return new Response(null, { status: 204 });
    }, { auth: true });
}
