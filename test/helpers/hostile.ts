/**
 * Hostile inputs for the route walker (test/http/hostile-inputs.test.ts): a populated world so
 * path params can point at real rows, the hostile values, and how to fill a route's params,
 * query and body from them. Everything is derived from the route table (app.routes) and the
 * routes' own TypeBox schemas, so a new route is walked without touching this file.
 */
import type { TSchema } from "@sinclair/typebox";
import { hash } from "@node-rs/argon2";
import type { TestContext } from "./app.ts";
import { ADMIN_POWERS } from "../../src/features/auth/index.ts";
import { cookieSignIn, signIn, TEST_PASSWORD } from "./users.ts";
import { expectOk, populatedCommunity, type Client } from "../features/communities/helpers.ts";
import { envelope, registerTestDevice, sendBody, TEST_DEVICE_ID } from "../features/messages/helpers.ts";

export type World = {
  communityId: string;
  groupId: string;
  channelId: string;
  messageId: string;
  otherUserId: string;
  roleId: string;
  overrideId: string;
  reportId: string;
  inviteId: string;
  inviteCode: string;
  adminInviteId: string;
  pollId: string;
  bookmarkId: string;
  scheduledId: string;
  dmId: string;
  sessionId: string;
  tokenId: string;
  meetingId: string;
  owner: Client;
  /** The owner's password hash (TEST_PASSWORD at the lowest Argon2id cost). */
  cheapHash: string;
};

/** A community the instance owner owns, with one of everything a path can name. */
export async function buildWorld(ctx: TestContext): Promise<World> {
  const p = await populatedCommunity(ctx);
  // The walker acts as the instance owner (every admin power) who also owns the community.
  // Its password hash is a real Argon2id hash at the lowest cost: verify reads the cost from the
  // hash, so the many probes that reach a password check take microseconds, not 170 ms each.
  const cheapHash = await hash(TEST_PASSWORD, { algorithm: 2, memoryCost: 1024, timeCost: 1, parallelism: 1 });
  await ctx.database.db.updateTable("users").set({ is_owner: true, is_admin: true, admin_powers: [...ADMIN_POWERS], password_hash: cheapHash }).where("id", "=", p.owner.user.id).execute();
  const owner = p.owner;
  const cid = p.communityId;
  const channel = p.generalChannelId;
  for (const c of [owner, p.member]) await registerTestDevice(ctx, c.user.id);
  const message = (await expectOk(owner.call("POST", `/api/channels/${channel}/messages`, sendBody()), 201)).message;
  const role = await expectOk(owner.call("POST", `/api/communities/${cid}/roles`, { name: "Walker", permissions: [] }), 201);
  await owner.call("PUT", `/api/channels/${channel}/overrides`, { base_role: "member", allow: [], deny: [] });
  const overrides = await expectOk(owner.call("GET", `/api/channels/${channel}/overrides`));
  const report = await expectOk(p.member.call("POST", "/api/reports", { community_id: cid, target_type: "user", target_id: p.moderator.user.id, reason: "walker" }), 201);
  const invite = await expectOk(owner.call("POST", `/api/communities/${cid}/invites`, {}), 201);
  const adminInvite = await expectOk(owner.call("POST", "/api/admin/invites", {}), 201);
  const poll = (await expectOk(owner.call("POST", `/api/channels/${channel}/polls`, { client_id: crypto.randomUUID(), question_ciphertext: envelope(120), option_count: 3, multi_select: false, anonymous: false }), 201)).poll;
  const bookmark = (await expectOk(owner.call("POST", "/api/bookmarks", { message_id: message.id }), 201)).bookmark;
  const scheduled = (await expectOk(owner.call("POST", `/api/channels/${channel}/scheduled`, { ...sendBody(), send_at: new Date(Date.now() + 3_600_000).toISOString() }), 201)).scheduled;
  const dm = await expectOk(owner.call("POST", "/api/dms", { user_id: p.member.user.id }));
  const other = await signIn(ctx, owner.user);
  const token = await expectOk(owner.call("POST", "/api/account/tokens", { name: "walker", scope: "read" }), 201);
  const meeting = await expectOk(owner.call("POST", `/api/channels/${channel}/meetings`, { starts_at: new Date(Date.now() + 3_600_000).toISOString(), ends_at: new Date(Date.now() + 7_200_000).toISOString(), time_zone: "UTC", attendee_ids: [p.member.user.id] }), 201);
  return {
    communityId: cid,
    groupId: p.groupId,
    channelId: channel,
    messageId: message.id,
    otherUserId: p.member.user.id,
    roleId: role.id,
    overrideId: overrides.overrides[0]?.id ?? crypto.randomUUID(),
    reportId: report.id,
    inviteId: invite.id,
    inviteCode: invite.code,
    adminInviteId: adminInvite.id,
    pollId: poll.id,
    bookmarkId: bookmark.id,
    scheduledId: scheduled.id,
    dmId: dm.channel_id ?? dm.id,
    sessionId: other.sessionId,
    tokenId: token.access_token.id,
    meetingId: meeting.id,
    owner,
    cheapHash,
  };
}

/**
 * Before each route: the owner's password back to TEST_PASSWORD (a probe of a password change may
 * have succeeded, with a full-cost hash) and a fresh session of the owner (a probe may have logged
 * out): Bearer for /api, cookies + Origin for pages.
 */
export async function headersFor(ctx: TestContext, world: World, path: string): Promise<Record<string, string>> {
  await ctx.database.db.updateTable("users").set({ password_hash: world.cheapHash }).where("id", "=", world.owner.user.id).execute();
  return path.startsWith("/api/") ? (await signIn(ctx, world.owner.user)).headers : (await cookieSignIn(ctx, world.owner.user)).headers;
}

/** A real value for the param `name` of `path`: by its name, else by the path segment before it (an unknown one: a random UUID). */
export function realParam(world: World, path: string, name: string): string {
  const segments = path.split("/");
  const at = segments.findIndex((s) => s === `:${name}` || s === `:${name}?` || (name === "*" && s === "*"));
  const before = segments[at - 1] ?? "";
  if (name === "*") return "app.css";
  if (name === "emoji") return encodeURIComponent("👍");
  if (name === "outcome") return "dismiss";
  if (name === "section" || name === "a") return "overview";
  if (name === "deviceId") return TEST_DEVICE_ID;
  if (name === "part") return "0";
  if (name === "code") return world.inviteCode;
  const byPrevious: Record<string, string> = {
    communities: world.communityId,
    c: world.communityId,
    groups: world.groupId,
    channels: world.channelId,
    ch: world.channelId,
    messages: world.messageId,
    pins: world.messageId,
    polls: world.pollId,
    bookmarks: world.bookmarkId,
    scheduled: world.scheduledId,
    dms: world.dmId,
    members: world.otherUserId,
    bans: world.otherUserId,
    timeouts: world.otherUserId,
    blocks: world.otherUserId,
    block: world.otherUserId,
    blocked: world.otherUserId,
    users: world.otherUserId,
    roles: world.roleId,
    overrides: world.overrideId,
    reports: world.reportId,
    sessions: world.sessionId,
    tokens: world.tokenId,
    meetings: world.meetingId,
  };
  if (before === "invites") return path.startsWith("/api/admin") || path.startsWith("/admin") ? world.adminInviteId : world.inviteId;
  return byPrevious[before] ?? crypto.randomUUID();
}

/** Values that must never reach the database as they are: each must be a 4xx with a code. */
export const HOSTILE_STRINGS: readonly string[] = ["a\u0000b", "x\udfffy", "1e20", "-1", "1.5", "NaN", "not-a-uuid", "00000000-0000-0000-0000-00000000000g", "x".repeat(5_000)];

/** Raw (already percent-encoded) path segments: invalid UTF-8 and encoded NUL/slash. */
export const HOSTILE_RAW_SEGMENTS: readonly string[] = ["%ED%A0%80", "%E0%A4%A", "..%2F..%2Fetc"];

/** JSON values for body fields: wrong types and out-of-range numbers next to the strings. */
export const HOSTILE_JSON_VALUES: readonly unknown[] = [1e20, -1, 1.5, true, null, [], [1e20], {}, { $gt: "" }, "", [{ id: 1e20, user_id: "not-a-uuid", device_id: [], ciphertext: {} }], ...HOSTILE_STRINGS];

/** Per field, with every other field plausible: wrong types, out-of-range numbers, bad ids. */
export const TYPE_CONFUSION: readonly unknown[] = [1e20, -1, [], { a: 1 }, "not-a-uuid", "x".repeat(5_000)];

/** Whole bodies that are not what any route expects. */
export const HOSTILE_RAW_BODIES: readonly { type: string; body: string }[] = [
  { type: "application/json", body: '{"a":' },
  { type: "application/json", body: "[]" },
  { type: "application/json", body: '"text"' },
  { type: "application/json", body: "null" },
  { type: "application/json", body: "1e999" },
  { type: "application/json", body: `${"[".repeat(5_000)}${"]".repeat(5_000)}` },
  { type: "application/json", body: '{"\\u0000":"x"}' },
  { type: "application/json", body: '{"name":"\\ud800"}' },
  { type: "application/x-www-form-urlencoded", body: "name=%00&a[b]=1&a[b]=2" },
  { type: "text/plain", body: "\u0000" },
  { type: "multipart/form-data; boundary=x", body: "--x\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n\u0000\r\n--x--\r\n" },
];

/**
 * Field names the services read from loose bodies (`t.Record` bodies handed whole to a service,
 * the messages feature today). Routes with an object schema, or whose handler names the fields
 * it reads, contribute their own names instead (bodyFieldsOf).
 */
export const COMMON_FIELDS = [
  "client_id", "scheme", "ciphertext", "sender_device_id", "reply_to_id", "thread_root_id", "mentions", "seq", "messages", "device_id",
  "up_to_id", "message_id", "note_ciphertext", "question_ciphertext", "option_count", "multi_select", "anonymous", "expires_at",
  "option_indexes", "send_at", "user_id", "channel_id",
] as const;

/** A value a service would accept for a field of this name (so the next field gets checked). */
export function plausible(world: World, name: string): unknown {
  if (name === "user_ids" || name === "mentions") return [world.otherUserId];
  if (name === "role_ids") return [world.roleId];
  if (name === "ids") return [world.messageId];
  if (name === "messages") return [{ user_id: world.otherUserId, device_id: TEST_DEVICE_ID, ciphertext: envelope(32) }];
  if (name === "allow" || name === "deny" || name === "permissions") return [];
  if (name === "option_indexes") return [0];
  if (name.endsWith("_ciphertext") || name === "ciphertext") return envelope(32);
  if (name === "client_id") return crypto.randomUUID();
  if (name === "sender_device_id" || name === "device_id") return TEST_DEVICE_ID;
  if (name === "scheme") return "sk";
  // Passwords: the right one to check against (the owner's hash is cheap), too short to be hashed
  // as a new one (Argon2id at full cost would make the walk take minutes).
  if (name === "password" || name === "current_password") return TEST_PASSWORD;
  if (name === "new_password") return "short";
  if (name === "username") return world.owner.user.username;
  if (name === "community_id") return world.communityId;
  if (name === "channel_id") return world.channelId;
  if (name === "message_id" || name === "target_id" || name === "reply_to_id" || name === "thread_root_id") return world.messageId;
  if (name === "user_id" || name === "new_owner_id") return world.otherUserId;
  if (name === "role_id") return world.roleId;
  if (name === "group_id") return world.groupId;
  if (name === "target_type") return "message";
  if (name === "base_role" || name === "role") return "member";
  if (name === "send_at" || name === "expires_at") return new Date(Date.now() + 3_600_000).toISOString();
  if (/^(is_|multi_|anonymous|discoverable|archived|read_)/.test(name)) return false;
  if (/(count|seconds|days|hours|uses|seq|position|version)$/.test(name) || name === "up_to_id") return name === "up_to_id" ? world.messageId : 1;
  if (name === "email") return "walker@example.test";
  return "walker";
}

/**
 * The body fields a route reads: its object schema's properties, else the names its handler
 * reads (formField(body, "x"), f.x, body.x), else — a loose body handed whole to a service —
 * COMMON_FIELDS; none when the handler never looks at its body.
 */
export function bodyFieldsOf(route: { handler: unknown; hooks: unknown }): string[] {
  const declared = schemaFields((route.hooks as { body?: unknown }).body);
  if (declared.length > 0) return declared;
  const source = typeof route.handler === "function" ? route.handler.toString() : "";
  if (!/\bbody\b/.test(source)) return []; // the handler ignores its body
  const read = new Set<string>();
  for (const m of source.matchAll(/formField\(\s*\w+\s*,\s*"([a-z_]+)"/g)) read.add(m[1]!);
  for (const m of source.matchAll(/\b(?:f|form|body)\??\.([a-z_]+)\b/g)) read.add(m[1]!);
  return read.size > 0 ? [...read] : [...COMMON_FIELDS];
}

/** The property names of an object schema (a route's query or body), or none. */
export function schemaFields(schema: unknown): string[] {
  const s = schema as (TSchema & { properties?: Record<string, unknown>; anyOf?: unknown[] }) | undefined;
  if (!s) return [];
  if (s.properties) return Object.keys(s.properties);
  if (s.anyOf) return s.anyOf.flatMap(schemaFields);
  return [];
}
