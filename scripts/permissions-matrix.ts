/**
 * Prints the community permission matrix (docs/permissions.md) straight from can(), so the
 * document never drifts from the code: `bun scripts/permissions-matrix.ts`.
 */
import { CHANNEL_ACTIONS, COMMUNITY_ACTIONS, MEMBER_ACTIONS, can, type ChannelFacts, type Membership, type Subject } from "../src/features/permissions/index.ts";

const now = new Date();
const helper = { id: "helper", permissions: ["kick", "timeout", "manage_channels", "pin"], position: 10 };
const subjects: [string, Subject][] = [
  ["instance owner", { userId: "a", isInstanceOwner: true, member: null }],
  ["owner", { userId: "a", isInstanceOwner: false, member: { role: "owner", customRoles: [], timedOutUntil: null } }],
  ["admin", { userId: "a", isInstanceOwner: false, member: { role: "admin", customRoles: [], timedOutUntil: null } }],
  ["moderator", { userId: "a", isInstanceOwner: false, member: { role: "moderator", customRoles: [], timedOutUntil: null } }],
  ["member + custom role¹", { userId: "a", isInstanceOwner: false, member: { role: "member", customRoles: [helper], timedOutUntil: null } }],
  ["member", { userId: "a", isInstanceOwner: false, member: { role: "member", customRoles: [], timedOutUntil: null } }],
  ["timed-out member", { userId: "a", isInstanceOwner: false, member: { role: "member", customRoles: [], timedOutUntil: new Date(now.getTime() + 60_000) } }],
  ["non-member / instance admin", { userId: "a", isInstanceOwner: false, member: null }],
];
const community = { ownerId: "o", whoCanCreateGroups: "admin" as const, whoCanInvite: "everyone" as const };
const text: ChannelFacts = { kind: "text", isPrivate: false, readOnly: false, archived: false, isChannelMember: false, overrides: [] };
const announcement: ChannelFacts = { ...text, kind: "announcement" };
const member = (role: Membership["role"]): Membership => ({ role, customRoles: [], timedOutUntil: null });

const yes = (b: boolean) => (b ? "✔" : "·");
const rows: string[] = [];
rows.push(`| action | ${subjects.map(([n]) => n).join(" | ")} |`);
rows.push(`|---|${subjects.map(() => ":-:").join("|")}|`);
for (const a of COMMUNITY_ACTIONS) rows.push(`| ${a} | ${subjects.map(([, s]) => yes(can(s, a, { community, now }))).join(" | ")} |`);
for (const a of MEMBER_ACTIONS) rows.push(`| ${a} (on a plain member) | ${subjects.map(([, s]) => yes(can(s, a, { community, now, target: { userId: "t", member: member("member") } }))).join(" | ")} |`);
for (const a of MEMBER_ACTIONS) rows.push(`| ${a} (on a moderator) | ${subjects.map(([, s]) => yes(can(s, a, { community, now, target: { userId: "t", member: member("moderator") } }))).join(" | ")} |`);
for (const a of CHANNEL_ACTIONS) rows.push(`| ${a} (text channel) | ${subjects.map(([, s]) => yes(can(s, a, { community, now, channel: text }))).join(" | ")} |`);
rows.push(`| send_message (announcement) | ${subjects.map(([, s]) => yes(can(s, "send_message", { community, now, channel: announcement }))).join(" | ")} |`);
console.log(rows.join("\n"));
