/**
 * Prints the community permission matrix (docs/permissions.md) straight from can() and
 * decideChange(), so the document never drifts from the code: `bun scripts/permissions-matrix.ts`.
 * The first table is what each subject may do; the second, what each may CHANGE (roles,
 * assignments, overrides, base roles, private-channel members, ownership) and why not.
 */
import { CHANNEL_ACTIONS, COMMUNITY_ACTIONS, MEMBER_ACTIONS, can, decideChange, type Change, type ChannelFacts, type Membership, type RoleFacts, type Subject } from "../src/features/permissions/index.ts";

const now = new Date();
const helper = { id: "helper", permissions: ["kick", "timeout", "manage_channels", "pin"], position: 10 };
const manager = { id: "manager", permissions: ["manage_roles", "kick", "pin"], position: 500 };
const subjects: [string, Subject][] = [
  ["instance owner", { userId: "a", isInstanceOwner: true, member: null }],
  ["owner", { userId: "a", isInstanceOwner: false, member: { role: "owner", customRoles: [], timedOutUntil: null } }],
  ["admin", { userId: "a", isInstanceOwner: false, member: { role: "admin", customRoles: [], timedOutUntil: null } }],
  ["moderator", { userId: "a", isInstanceOwner: false, member: { role: "moderator", customRoles: [], timedOutUntil: null } }],
  ["member + role manager²", { userId: "a", isInstanceOwner: false, member: { role: "member", customRoles: [manager], timedOutUntil: null } }],
  ["member + custom role¹", { userId: "a", isInstanceOwner: false, member: { role: "member", customRoles: [helper], timedOutUntil: null } }],
  ["member", { userId: "a", isInstanceOwner: false, member: { role: "member", customRoles: [], timedOutUntil: null } }],
  ["timed-out member", { userId: "a", isInstanceOwner: false, member: { role: "member", customRoles: [], timedOutUntil: new Date(now.getTime() + 60_000) } }],
  ["non-member / instance admin", { userId: "a", isInstanceOwner: false, member: null }],
];
const community = { ownerId: "o", whoCanCreateGroups: "admin" as const, whoCanInvite: "everyone" as const };
const text: ChannelFacts = { kind: "text", isPrivate: false, readOnly: false, archived: false, isChannelMember: false, overrides: [] };
const announcement: ChannelFacts = { ...text, kind: "announcement" };
const voice: ChannelFacts = { ...text, kind: "voice" };
const voiceMembersDenied: ChannelFacts = { ...voice, overrides: [{ baseRole: "member", roleId: null, allow: [], deny: ["join_voice"] }] };
const member = (role: Membership["role"], customRoles: Membership["customRoles"] = []): Membership => ({ role, customRoles, timedOutUntil: null });

const yes = (b: boolean) => (b ? "✔" : "·");
const header = (first: string) => [`| ${first} | ${subjects.map(([n]) => n).join(" | ")} |`, `|---|${subjects.map(() => ":-:").join("|")}|`];
const rows: string[] = header("action");
for (const a of COMMUNITY_ACTIONS) rows.push(`| ${a} | ${subjects.map(([, s]) => yes(can(s, a, { community, now }))).join(" | ")} |`);
for (const a of MEMBER_ACTIONS) rows.push(`| ${a} (on a plain member) | ${subjects.map(([, s]) => yes(can(s, a, { community, now, target: { userId: "t", member: member("member") } }))).join(" | ")} |`);
for (const a of MEMBER_ACTIONS) rows.push(`| ${a} (on a moderator) | ${subjects.map(([, s]) => yes(can(s, a, { community, now, target: { userId: "t", member: member("moderator") } }))).join(" | ")} |`);
for (const a of CHANNEL_ACTIONS) rows.push(`| ${a} (text channel) | ${subjects.map(([, s]) => yes(can(s, a, { community, now, channel: text }))).join(" | ")} |`);
rows.push(`| send_message (announcement) | ${subjects.map(([, s]) => yes(can(s, "send_message", { community, now, channel: announcement }))).join(" | ")} |`);
rows.push(`| join_voice (voice channel) | ${subjects.map(([, s]) => yes(can(s, "join_voice", { community, now, channel: voice }))).join(" | ")} |`);
rows.push(`| join_voice (voice, override: deny @member join_voice) | ${subjects.map(([, s]) => yes(can(s, "join_voice", { community, now, channel: voiceMembersDenied }))).join(" | ")} |`);
rows.push(`| send_message (voice channel) | ${subjects.map(([, s]) => yes(can(s, "send_message", { community, now, channel: voice }))).join(" | ")} |`);
console.log(rows.join("\n"));

// ---- changes -----------------------------------------------------------------------------------
const role = (id: string, position: number, permissions: string[], topHolderRank = -1, topHolderBaseRank = -1): RoleFacts => ({ id, position, permissions, topHolderRank, topHolderBaseRank });
const plain = { userId: "t", member: member("member") };
const EMPTY = { allow: [], deny: [] };
const changes: [string, Change][] = [
  ["create a role at 10 with pin", { kind: "create_role", position: 10, permissions: ["pin"] }],
  ["create a role at 10 with ban", { kind: "create_role", position: 10, permissions: ["ban"] }],
  ["create a role at 600", { kind: "create_role", position: 600, permissions: [] }],
  ["edit a role at 10 held by a member: add pin", { kind: "update_role", role: role("r", 10, [], 10, 0), position: 10, permissions: ["pin"] }],
  ["edit a role at 10 held by a moderator", { kind: "update_role", role: role("r", 10, [], 1010, 1000), position: 10, permissions: [] }],
  ["raise the manager² role (500 → 900; manager² holds it)", { kind: "update_role", role: role("manager", 500, manager.permissions), position: 900, permissions: manager.permissions }],
  ["delete a role at 600", { kind: "delete_role", role: role("r", 600, []) }],
  ["give a plain member a role at 10 with pin", { kind: "set_custom_roles", target: plain, added: [{ id: "r", position: 10, permissions: ["pin"] }], removed: [] }],
  ["give a plain member a role at 10 with ban", { kind: "set_custom_roles", target: plain, added: [{ id: "r", position: 10, permissions: ["ban"] }], removed: [] }],
  ["make a plain member a moderator", { kind: "set_base_role", target: plain, to: "moderator" }],
  ["make a moderator a member", { kind: "set_base_role", target: { userId: "t", member: member("moderator") }, to: "member" }],
  ["override: deny @member view (members ≤ 10)", { kind: "write_override", on: { base: { role: "member", topHolderRank: 10 } }, before: EMPTY, after: { allow: [], deny: ["view_channel"] } }],
  ["override: deny @moderator view", { kind: "write_override", on: { base: { role: "moderator", topHolderRank: 1000 } }, before: EMPTY, after: { allow: [], deny: ["view_channel"] } }],
  ["override: allow manage_messages to @member", { kind: "write_override", on: { base: { role: "member", topHolderRank: 10 } }, before: EMPTY, after: { allow: ["manage_messages"], deny: [] } }],
  ["take a plain member out of a private channel", { kind: "remove_channel_member", target: plain }],
  ["take a moderator out of a private channel", { kind: "remove_channel_member", target: { userId: "t", member: member("moderator") } }],
  ["transfer ownership", { kind: "transfer_ownership", target: plain }],
];
const SHORT = { PERMISSION_DENIED: "·", ROLE_HIERARCHY: "H", PERMISSION_NOT_HELD: "N" } as const;
const changeRows: string[] = header("change");
for (const [name, c] of changes) changeRows.push(`| ${name} | ${subjects.map(([, s]) => { const r = decideChange(s, c, { community, now, channel: text }); return r ? SHORT[r.code] : "✔"; }).join(" | ")} |`);
console.log("\n" + changeRows.join("\n"));
