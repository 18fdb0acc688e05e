/**
 * Every path that changes who holds what, through both faces (JSON API and the htmx settings
 * forms), against the attacks of the security review (issue 10, finding 1) and their variants.
 *
 * 1. Every mutating route of the community/channel/moderation surface, and every settings form,
 *    is classified here: either the change kinds it makes (then at least one attack below must go
 *    through it and be refused by the central gate) or why it changes no role, override or rank.
 *    A new route or form that is not classified fails the test, and so does a change kind of
 *    `applyChange` that no route reaches.
 * 2. Each attack is refused with its stable code and writes nothing (a snapshot of every table
 *    that holds roles, overrides, ranks, channel membership and sanctions is compared).
 * 3. What the hierarchy allows still works (the refusals are not a blanket 403).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestContext } from "../../helpers/app.ts";
import { cookieSignIn } from "../../helpers/users.ts";
import { client, communityTestContext, expectOk, populatedCommunity, type Client, type Populated } from "../communities/helpers.ts";
import { CHANGE_REQUEST_KINDS, type ChangeRequestKind } from "../../../src/features/permissions/index.ts";
import { SETTINGS_FORMS } from "../../../src/features/communities/settings-forms.ts";

type Kind = ChangeRequestKind | "act_on_member";
/** Mutating routes of the surface: the change kinds they make, or why they make none. */
const ROUTES: Record<string, Kind[] | string> = {
  "POST /api/communities": "creates a community; its creator is its owner",
  "POST /api/communities/:id/join": "joins a discoverable community as a plain member",
  "POST /api/community-invites/:code/accept": "joins as a plain member",
  "PATCH /api/communities/:id": "community settings (edit_community: admins)",
  "DELETE /api/communities/:id": "deletes the community (owner)",
  "POST /api/communities/:id/leave": "the actor leaves; nobody else is touched",
  "POST /api/communities/:id/transfer-ownership": ["transfer_ownership"],
  "PUT /api/communities/:id/members/:userId/role": ["set_base_role"],
  "PUT /api/communities/:id/members/:userId/roles": ["set_custom_roles"],
  "DELETE /api/communities/:id/members/:userId": ["act_on_member"],
  "POST /api/communities/:id/invites": "invites join as plain members",
  "DELETE /api/communities/:id/invites/:inviteId": "revokes an invite (manage_invites)",
  "POST /api/communities/:id/roles": ["create_role"],
  "PATCH /api/communities/:id/roles/:roleId": ["update_role"],
  "DELETE /api/communities/:id/roles/:roleId": ["delete_role"],
  "POST /api/groups": "creates a folder (create_group)",
  "PATCH /api/groups/:id": "renames a folder (manage_channels)",
  "DELETE /api/groups/:id": "deletes a folder and its channels (manage_channels)",
  "POST /api/groups/:id/channels": "creates a channel (manage_channels); a private one's creator is its first member",
  "PATCH /api/channels/:id": "channel settings (manage_channels); who is in a private channel changes only through /members",
  "DELETE /api/channels/:id": "deletes a channel (manage_channels)",
  "PUT /api/channels/:id/overrides": ["write_override"],
  "DELETE /api/channels/:id/overrides/:overrideId": ["remove_override"],
  "POST /api/channels/:id/members": ["add_channel_member"],
  "DELETE /api/channels/:id/members/:userId": ["remove_channel_member"],
  "PUT /api/communities/:id/bans/:userId": ["act_on_member"],
  "DELETE /api/communities/:id/bans/:userId": ["act_on_member"],
  "PUT /api/communities/:id/timeouts/:userId": ["act_on_member"],
  "DELETE /api/communities/:id/timeouts/:userId": ["act_on_member"],
  "POST /api/communities/:id/warnings": ["act_on_member"],
  "POST /api/communities/:id/reports/:reportId/:outcome": "closes a report",
  "POST /api/communities/:id/reports/:reportId/escalate": "hands a report to the instance's administrators (review_reports)",
  "PUT /api/communities/:id/nickname": "the actor's own nickname in the community",
  "PUT /api/communities/:id/icon": "community appearance (edit_community)",
  "DELETE /api/communities/:id/icon": "community appearance (edit_community)",
  "PUT /api/communities/:id/banner": "community appearance (edit_community)",
  "DELETE /api/communities/:id/banner": "community appearance (edit_community)",
  "PUT /api/communities/:id/welcome": "community appearance (edit_community)",
  "POST /api/communities/:id/emoji": "adds a custom emoji (manage_emoji)",
  "DELETE /api/communities/:id/emoji/:shortcode": "removes a custom emoji (manage_emoji)",
  "POST /api/channels/:id/webhooks": "creates an incoming webhook (manage_webhooks); a webhook holds no role",
  "POST /api/channels/:id/meetings": "schedules a meeting (may post in the conversation); attendees must already be members, a meeting holds no role",
  "POST /c/:id/settings/webhooks": "page face of creating an incoming webhook",
  "POST /c/:id/settings/webhooks/:webhookId/revoke": "page face of revoking an incoming webhook",
  "POST /api/channels/:id/messages": "messages (channel actions decided by can())",
  "POST /api/channels/:id/polls": "messages (channel actions decided by can())",
  "POST /api/channels/:id/scheduled": "messages (channel actions decided by can())",
  "PUT /api/channels/:id/pins/:messageId": "messages (channel actions decided by can())",
  "DELETE /api/channels/:id/pins/:messageId": "messages (channel actions decided by can())",
  "PUT /api/channels/:id/read": "the actor's own read marker",
  "POST /api/channels/read-all": "the actor's own read markers",
  "POST /api/communities/:id/read-all": "the actor's own read markers in one community",
  "POST /c/:id/read-all": "page face of the actor's own read markers in one community",
  "PUT /api/communities/:id/notifications": "the actor's own notification level for a community",
  "PUT /api/channels/:id/notifications": "the actor's own notification level for a channel",
  "POST /settings/notifications/communities/:id": "page face of the actor's own notification level for a community",
  "POST /communities": "page face of POST /api/communities",
  "POST /communities/join": "page face of joining by invite link",
  "POST /communities/:id/join": "page face of joining a discoverable community",
  "POST /invite/:code/accept": "page face of accepting an invite",
  "POST /c/:id/settings/:a/:b?/:c?/:d?": "the settings forms, classified one by one in FORMS",
};
const SURFACE = /communit|group|channel|role|member|override|ban|timeout|warn|owner|permission|^\/invite\/|^\/c\//;

const FORMS: Record<string, Kind[] | string> = {
  overview: "community settings",
  delete: "deletes the community",
  leave: "the actor leaves",
  transfer: ["transfer_ownership"],
  groups: "creates a folder",
  "groups/rename": "renames a folder",
  "groups/delete": "deletes a folder",
  "groups/channels": "creates a channel",
  "channels/delete": "deletes a channel",
  channels: "channel settings",
  overrides: ["write_override"],
  "overrides/delete": ["remove_override"],
  roles: ["create_role"],
  "roles/delete": ["delete_role"],
  "members/roles": ["set_custom_roles"],
  "members/role": ["set_base_role"],
  "members/warn": ["act_on_member"],
  "members/kick": ["act_on_member"],
  "members/ban": ["act_on_member"],
  "members/timeout": ["act_on_member"],
  invites: "creates an invite",
  "invites/revoke": "revokes an invite",
  "bans/unban": ["act_on_member"],
  "reports/close": "closes a report",
  "reports/escalate": "hands a report to the instance's administrators",
};

let ctx: TestContext;
let c: Populated;
let cid: string;
let manager: Client, alt: Client, senior: Client, modManager: Client, admin5: Client;
const roles: Record<string, string> = {};
let staffId: string;
let ownerOverrideId: string;
const cookies = new Map<string, Record<string, string>>();

type Result = { status: number; body: any };
/** A settings form posted as a browser would, asking for the error as JSON to read its code. */
async function form(who: Client, path: string, fields: Record<string, string>): Promise<Result> {
  if (!cookies.has(who.user.id)) cookies.set(who.user.id, (await cookieSignIn(ctx, who.user)).headers);
  const res = await ctx.request(`/c/${cid}/settings/${path}`, { method: "POST", headers: { ...cookies.get(who.user.id)!, "content-type": "application/x-www-form-urlencoded", accept: "application/json" }, body: new URLSearchParams(fields).toString() });
  const text = await res.text();
  return { status: res.status, body: text && res.headers.get("content-type")?.includes("json") ? JSON.parse(text) : text };
}

async function join(who: Client) {
  const invite = await expectOk(c.owner.call("POST", `/api/communities/${cid}/invites`, {}), 201);
  await expectOk(who.call("POST", `/api/community-invites/${invite.code}/accept`));
}

async function makeRole(name: string, position: number, permissions: string[], holders: Client[]) {
  const r = await expectOk(c.owner.call("POST", `/api/communities/${cid}/roles`, { name, position, permissions }), 201);
  roles[name] = r.id;
  for (const h of holders) await expectOk(c.owner.call("PUT", `/api/communities/${cid}/members/${h.user.id}/roles`, { role_ids: [r.id] }), 204);
}

/** Everything a hierarchy change could write, for this community, as one comparable value. */
async function snapshot(): Promise<string> {
  const db = ctx.database.db;
  const channelIds = (await db.selectFrom("channels").select("id").where("community_id", "=", cid).execute()).map((r) => r.id);
  const parts = await Promise.all([
    db.selectFrom("communities").select(["owner_id"]).where("id", "=", cid).execute(),
    db.selectFrom("community_members").select(["user_id", "role"]).where("community_id", "=", cid).orderBy("user_id").execute(),
    db.selectFrom("community_roles").select(["id", "name", "permissions", "position"]).where("community_id", "=", cid).orderBy("id").execute(),
    db.selectFrom("community_member_roles").select(["user_id", "role_id"]).where("community_id", "=", cid).orderBy("user_id").orderBy("role_id").execute(),
    db.selectFrom("channel_role_overrides").select(["channel_id", "base_role", "role_id", "allow", "deny"]).where("channel_id", "in", channelIds).orderBy("id").execute(),
    db.selectFrom("channel_members").select(["channel_id", "user_id"]).where("channel_id", "in", channelIds).orderBy("channel_id").orderBy("user_id").execute(),
    db.selectFrom("community_bans").select(["user_id"]).where("community_id", "=", cid).orderBy("user_id").execute(),
    db.selectFrom("community_timeouts").select(["user_id"]).where("community_id", "=", cid).orderBy("user_id").execute(),
    db.selectFrom("community_warnings").select(["user_id"]).where("community_id", "=", cid).orderBy("id").execute(),
  ]);
  return JSON.stringify(parts);
}

beforeAll(async () => {
  ctx = await communityTestContext();
  c = await populatedCommunity(ctx);
  cid = c.communityId;
  [manager, alt, senior, modManager, admin5] = await Promise.all([client(ctx), client(ctx), client(ctx), client(ctx), client(ctx)]);
  for (const who of [manager, alt, senior, modManager, admin5]) await join(who);
  await expectOk(c.owner.call("PUT", `/api/communities/${cid}/members/${modManager.user.id}/role`, { role: "moderator" }), 204);
  await expectOk(c.owner.call("PUT", `/api/communities/${cid}/members/${admin5.user.id}/role`, { role: "admin" }), 204);
  // The attacker: a plain member whose only role manages roles (plus kick, channels, pin), at 500.
  await makeRole("Manager", 500, ["manage_roles", "kick", "manage_channels", "pin"], [manager]);
  await makeRole("Senior", 600, [], [senior]);
  await makeRole("Banner", 10, ["ban"], []);
  await makeRole("Helper", 10, [], [c.moderator]); // a low role held by someone ranked above the attacker
  await makeRole("Low", 20, ["pin"], [alt]); // the attacker's alt account
  await makeRole("ModMgr", 5, ["manage_roles"], [modManager]);
  await makeRole("A5", 5, [], [admin5]);
  const staff = await expectOk(c.owner.call("POST", `/api/groups/${c.groupId}/channels`, { name: "staff", is_private: true }), 201);
  staffId = staff.id;
  for (const who of [c.moderator, manager]) await expectOk(c.owner.call("POST", `/api/channels/${staffId}/members`, { user_id: who.user.id }), 204);
  await expectOk(c.owner.call("PUT", `/api/channels/${c.generalChannelId}/overrides`, { base_role: "moderator", allow: [], deny: ["mention_everyone"] }), 204);
  ownerOverrideId = (await expectOk(c.owner.call("GET", `/api/channels/${c.generalChannelId}/overrides`))).overrides[0].id;
});
afterAll(() => ctx.close());

type Attack = { name: string; via: string; code: "ROLE_HIERARCHY" | "PERMISSION_NOT_HELD" | "PERMISSION_DENIED"; message?: RegExp; run: () => Promise<Result> };
const api = (who: () => Client, method: string, route: string, path: () => string, body?: () => unknown) => ({ via: `${method} ${route}`, run: () => who().call(method, path(), body?.()) });
const page = (who: () => Client, name: string, path: () => string, fields: () => Record<string, string> = () => ({})) => ({ via: `form ${name}`, run: () => form(who(), path(), fields()) });
const M = () => manager;
const MOD = () => c.moderator;
const ROLE = "/api/communities/:id/roles/:roleId";
const role = (name: string) => () => `/api/communities/${cid}/roles/${roles[name]}`;
const OVERRIDES = "/api/channels/:id/overrides";
const general = () => `/api/channels/${c.generalChannelId}/overrides`;

const ATTACKS: Attack[] = [
  // Assigning an existing role that carries permissions the attacker lacks, to an alt.
  { name: "give the alt a role with ban", code: "PERMISSION_NOT_HELD", ...api(M, "PUT", "/api/communities/:id/members/:userId/roles", () => `/api/communities/${cid}/members/${alt.user.id}/roles`, () => ({ role_ids: [roles.Low, roles.Banner] })) },
  { name: "give the alt a role with ban (form)", code: "PERMISSION_NOT_HELD", ...page(M, "members/roles", () => `members/${alt.user.id}/roles`, () => ({ [`role_${roles.Low}`]: "on", [`role_${roles.Banner}`]: "on" })) },
  // Raising their own role above them.
  { name: "raise own role to 900", code: "ROLE_HIERARCHY", ...api(M, "PATCH", ROLE, role("Manager"), () => ({ position: 900 })) },
  { name: "a moderator raises own low role (5 -> 900): own rank may not rise", code: "ROLE_HIERARCHY", ...api(() => modManager, "PATCH", ROLE, role("ModMgr"), () => ({ position: 900 })) },
  // Editing, stripping or deleting roles ranked at or above them.
  { name: "strip the permissions of a higher role", code: "ROLE_HIERARCHY", ...api(M, "PATCH", ROLE, role("Senior"), () => ({ permissions: [] })) },
  { name: "rename a higher role", code: "ROLE_HIERARCHY", ...api(M, "PATCH", ROLE, role("Senior"), () => ({ name: "Demoted" })) },
  { name: "delete a higher role", code: "ROLE_HIERARCHY", ...api(M, "DELETE", ROLE, role("Senior")) },
  { name: "delete a higher role (form)", code: "ROLE_HIERARCHY", ...page(M, "roles/delete", () => `roles/${roles.Senior}/delete`) },
  { name: "edit a low role held by a moderator", code: "ROLE_HIERARCHY", ...api(M, "PATCH", ROLE, role("Helper"), () => ({ permissions: ["pin"] })) },
  { name: "delete a low role held by a moderator", code: "ROLE_HIERARCHY", ...api(M, "DELETE", ROLE, role("Helper")) },
  { name: "strip a higher member's roles", code: "ROLE_HIERARCHY", ...api(M, "PUT", "/api/communities/:id/members/:userId/roles", () => `/api/communities/${cid}/members/${senior.user.id}/roles`, () => ({ role_ids: [] })) },
  { name: "strip a higher member's roles (form)", code: "ROLE_HIERARCHY", ...page(M, "members/roles", () => `members/${senior.user.id}/roles`) },
  { name: "take the low role off the moderator", code: "ROLE_HIERARCHY", ...api(M, "PUT", "/api/communities/:id/members/:userId/roles", () => `/api/communities/${cid}/members/${c.moderator.user.id}/roles`, () => ({ role_ids: [] })) },
  // Creating roles: not above themselves, not with permissions they lack.
  { name: "create a role with ban", code: "PERMISSION_NOT_HELD", ...api(M, "POST", "/api/communities/:id/roles", () => `/api/communities/${cid}/roles`, () => ({ name: "Ban squad", permissions: ["ban"], position: 10 })) },
  { name: "create a role with ban (form)", code: "PERMISSION_NOT_HELD", ...page(M, "roles", () => "roles", () => ({ name: "Ban squad", position: "10", perm_ban: "on" })) },
  { name: "create a role above themselves", code: "ROLE_HIERARCHY", ...api(M, "POST", "/api/communities/:id/roles", () => `/api/communities/${cid}/roles`, () => ({ name: "Boss", permissions: [], position: 600 })) },
  { name: "create a role above themselves (form)", code: "ROLE_HIERARCHY", ...page(M, "roles", () => "roles", () => ({ name: "Boss", position: "500" })) },
  { name: "add ban to the alt's role", code: "PERMISSION_NOT_HELD", ...api(M, "PATCH", ROLE, role("Low"), () => ({ permissions: ["pin", "ban"] })) },
  // Overrides that grant what they lack (then use it), or lock moderators out.
  { name: "allow manage_messages to the alt's role in #general", code: "PERMISSION_NOT_HELD", ...api(M, "PUT", OVERRIDES, general, () => ({ role_id: roles.Low, allow: ["manage_messages"], deny: [] })) },
  { name: "allow manage_messages to the alt's role (form)", code: "PERMISSION_NOT_HELD", ...page(M, "overrides", () => "overrides", () => ({ channel_id: c.generalChannelId, target: `role:${roles.Low}`, ov_manage_messages: "allow" })) },
  { name: "allow ban to the alt's role", code: "PERMISSION_NOT_HELD", ...api(M, "PUT", OVERRIDES, general, () => ({ role_id: roles.Low, allow: ["ban", "pin"], deny: [] })) },
  { name: "allow manage_messages to their own role", code: "ROLE_HIERARCHY", ...api(M, "PUT", OVERRIDES, general, () => ({ role_id: roles.Manager, allow: ["manage_messages"], deny: [] })) },
  { name: "deny moderators the channel", code: "ROLE_HIERARCHY", ...api(M, "PUT", OVERRIDES, general, () => ({ base_role: "moderator", allow: [], deny: ["view_channel"] })) },
  { name: "deny moderators the channel (form)", code: "ROLE_HIERARCHY", ...page(M, "overrides", () => "overrides", () => ({ channel_id: c.generalChannelId, target: "base:moderator", ov_view_channel: "deny" })) },
  { name: "deny admins the channel", code: "ROLE_HIERARCHY", ...api(M, "PUT", OVERRIDES, general, () => ({ base_role: "admin", allow: [], deny: ["view_channel"] })) },
  { name: "deny the channel to a role a moderator holds", code: "ROLE_HIERARCHY", ...api(M, "PUT", OVERRIDES, general, () => ({ role_id: roles.Helper, allow: [], deny: ["view_channel"] })) },
  { name: "deny @member when a member ranks above them", code: "ROLE_HIERARCHY", ...api(M, "PUT", OVERRIDES, general, () => ({ base_role: "member", allow: [], deny: ["send_messages"] })) },
  { name: "remove the owner's override on moderators", code: "ROLE_HIERARCHY", ...api(M, "DELETE", "/api/channels/:id/overrides/:overrideId", () => `/api/channels/${c.generalChannelId}/overrides/${ownerOverrideId}`) },
  { name: "remove the owner's override on moderators (form)", code: "ROLE_HIERARCHY", ...page(M, "overrides/delete", () => `overrides/${c.generalChannelId}/${ownerOverrideId}/delete`) },
  // Private channel membership (per-member access).
  { name: "take a moderator out of a private channel", code: "ROLE_HIERARCHY", ...api(M, "DELETE", "/api/channels/:id/members/:userId", () => `/api/channels/${staffId}/members/${c.moderator.user.id}`) },
  { name: "add to a private channel without manage_channels", code: "PERMISSION_DENIED", message: /manage_channels/, ...api(MOD, "POST", "/api/channels/:id/members", () => `/api/channels/${staffId}/members`, () => ({ user_id: alt.user.id })) },
  // Base roles: never to or above themselves, counting the member's custom roles.
  { name: "promote the alt to moderator", code: "ROLE_HIERARCHY", ...api(M, "PUT", "/api/communities/:id/members/:userId/role", () => `/api/communities/${cid}/members/${alt.user.id}/role`, () => ({ role: "moderator" })) },
  { name: "an admin at 2005 makes a member holding @20 an admin (2020)", code: "ROLE_HIERARCHY", ...api(() => admin5, "PUT", "/api/communities/:id/members/:userId/role", () => `/api/communities/${cid}/members/${alt.user.id}/role`, () => ({ role: "admin" })) },
  { name: "the same (form)", code: "ROLE_HIERARCHY", ...page(() => admin5, "members/role", () => `members/${alt.user.id}/role`, () => ({ role: "admin" })) },
  // Ownership moves only from the owner.
  { name: "an admin transfers ownership to themselves", code: "PERMISSION_DENIED", message: /owner/, ...api(() => c.admin, "POST", "/api/communities/:id/transfer-ownership", () => `/api/communities/${cid}/transfer-ownership`, () => ({ new_owner_id: c.admin.user.id })) },
  { name: "the same (form)", code: "PERMISSION_DENIED", message: /owner/, ...page(() => c.admin, "transfer", () => "transfer", () => ({ new_owner_id: c.admin.user.id })) },
  // Sanctions on people ranked at or above.
  { name: "kick a higher member", code: "ROLE_HIERARCHY", ...api(M, "DELETE", "/api/communities/:id/members/:userId", () => `/api/communities/${cid}/members/${senior.user.id}`, () => ({ reason: "x" })) },
  { name: "kick a higher member (form)", code: "ROLE_HIERARCHY", ...page(M, "members/kick", () => `members/${senior.user.id}/kick`) },
  { name: "a moderator bans an admin", code: "ROLE_HIERARCHY", ...api(MOD, "PUT", "/api/communities/:id/bans/:userId", () => `/api/communities/${cid}/bans/${c.admin.user.id}`, () => ({})) },
  { name: "a moderator bans an admin (form)", code: "ROLE_HIERARCHY", ...page(MOD, "members/ban", () => `members/${c.admin.user.id}/ban`) },
  { name: "a moderator unbans themselves", code: "ROLE_HIERARCHY", ...api(MOD, "DELETE", "/api/communities/:id/bans/:userId", () => `/api/communities/${cid}/bans/${c.moderator.user.id}`) },
  { name: "a moderator unbans themselves (form)", code: "ROLE_HIERARCHY", ...page(MOD, "bans/unban", () => `bans/${c.moderator.user.id}/unban`) },
  { name: "a moderator times out an admin", code: "ROLE_HIERARCHY", ...api(MOD, "PUT", "/api/communities/:id/timeouts/:userId", () => `/api/communities/${cid}/timeouts/${c.admin.user.id}`, () => ({ duration_seconds: 60 })) },
  { name: "a moderator times out an admin (form)", code: "ROLE_HIERARCHY", ...page(MOD, "members/timeout", () => `members/${c.admin.user.id}/timeout`, () => ({ duration_seconds: "60" })) },
  { name: "a moderator lifts an admin's timeout", code: "ROLE_HIERARCHY", ...api(MOD, "DELETE", "/api/communities/:id/timeouts/:userId", () => `/api/communities/${cid}/timeouts/${c.admin.user.id}`) },
  { name: "a moderator warns an admin", code: "ROLE_HIERARCHY", ...api(MOD, "POST", "/api/communities/:id/warnings", () => `/api/communities/${cid}/warnings`, () => ({ user_id: c.admin.user.id, reason: "x" })) },
  { name: "a moderator warns an admin (form)", code: "ROLE_HIERARCHY", ...page(MOD, "members/warn", () => `members/${c.admin.user.id}/warn`, () => ({ reason: "x" })) },
];

describe("every mutation path is classified and goes through the gate", () => {
  test("each mutating route of the surface is classified; each hierarchy route has an attack", () => {
    const live = ctx.app.routes.filter((r) => r.method !== "GET" && SURFACE.test(r.path)).map((r) => `${r.method} ${r.path}`);
    expect(live.filter((r) => !(r in ROUTES))).toEqual([]);
    expect(Object.keys(ROUTES).filter((r) => !live.includes(r))).toEqual([]); // no stale entries
    const attacked = new Set(ATTACKS.map((a) => a.via));
    expect(Object.entries(ROUTES).filter(([r, k]) => Array.isArray(k) && !attacked.has(r)).map(([r]) => r)).toEqual([]);
    // Every kind applyChange knows is reached by some route.
    const reached = new Set(Object.values(ROUTES).flatMap((k) => (Array.isArray(k) ? k : [])));
    expect(CHANGE_REQUEST_KINDS.filter((k) => !reached.has(k))).toEqual([]);
  });

  test("each settings form is classified; each hierarchy form has an attack", () => {
    const names = SETTINGS_FORMS.map((f) => f.name);
    expect(names.filter((n) => !(n in FORMS))).toEqual([]);
    expect(Object.keys(FORMS).filter((n) => !names.includes(n))).toEqual([]);
    const attacked = new Set(ATTACKS.map((a) => a.via));
    expect(Object.entries(FORMS).filter(([n, k]) => Array.isArray(k) && !attacked.has(`form ${n}`)).map(([n]) => n)).toEqual([]);
  });
});

describe("the review's attacks and their variants are refused and write nothing", () => {
  test("every attack: 403 with its code, nothing changed", async () => {
    const before = await snapshot();
    const wrong: string[] = [];
    for (const a of ATTACKS) {
      const r = await a.run();
      const code = r.body?.error?.code;
      if (r.status !== 403 || code !== a.code || (a.message && !a.message.test(r.body.error.message))) wrong.push(`${a.name} [${a.via}]: ${r.status} ${JSON.stringify(r.body)}`);
      if ((await snapshot()) !== before) {
        wrong.push(`${a.name} [${a.via}]: wrote something`);
        break;
      }
    }
    expect(wrong).toEqual([]);
  });
});

describe("what the hierarchy allows still works", () => {
  test("the manager hands out, edits and overrides roles below them, with what they hold", async () => {
    const kicker = await expectOk(manager.call("POST", `/api/communities/${cid}/roles`, { name: "Kicker", permissions: ["kick"], position: 100 }), 201);
    await expectOk(manager.call("PUT", `/api/communities/${cid}/members/${alt.user.id}/roles`, { role_ids: [roles.Low, kicker.id] }), 204);
    await expectOk(manager.call("PATCH", `/api/communities/${cid}/roles/${roles.Low}`, { permissions: ["pin", "kick"], position: 400 }), 204);
    await expectOk(manager.call("PUT", `/api/channels/${c.generalChannelId}/overrides`, { role_id: roles.Low, allow: ["pin"], deny: [] }), 204);
    // Keeping a permission the role already had is not granting it.
    await expectOk(c.owner.call("PATCH", `/api/communities/${cid}/roles/${kicker.id}`, { permissions: ["kick", "ban"] }), 204);
    await expectOk(manager.call("PATCH", `/api/communities/${cid}/roles/${kicker.id}`, { name: "Kicker 2", permissions: ["ban"] }), 204);
    expect((await manager.call("PATCH", `/api/communities/${cid}/roles/${kicker.id}`, { permissions: ["ban", "manage_messages"] })).body.error.code).toBe("PERMISSION_NOT_HELD");
    await expectOk(manager.call("POST", `/api/channels/${staffId}/members`, { user_id: alt.user.id }), 204);
    await expectOk(manager.call("DELETE", `/api/channels/${staffId}/members/${alt.user.id}`), 204);
    // A moderator-rank role manager may edit their own lower role as long as their rank does not rise.
    await expectOk(modManager.call("PATCH", `/api/communities/${cid}/roles/${roles.ModMgr}`, { position: 3 }), 204);
    // The page face agrees.
    const r = await form(manager, `roles/${kicker.id}/delete`, {});
    expect(r.status).toBe(303);
    // The owner still changes everything, the instance of the top of the hierarchy.
    await expectOk(c.owner.call("PATCH", `/api/communities/${cid}/roles/${roles.Senior}`, { position: 999, permissions: ["ban"] }), 204);
    await expectOk(c.owner.call("PUT", `/api/channels/${c.generalChannelId}/overrides`, { base_role: "moderator", allow: [], deny: ["view_channel"] }), 204);
  });
});
