/**
 * The permission matrix, GENERATED: every action × every subject (instance owner, instance admin,
 * outsider, community owner/admin/moderator/member, a member with a custom role, a timed-out
 * member) × every channel case (incl. per-role overrides) × every target rank × every community
 * policy. Expected values come from the written rules below (docs/permissions.md), stated
 * independently of src/features/permissions/model.ts; the test fails on any cell that differs.
 */
import { describe, expect, test } from "bun:test";
import { ADMIN_POWERS, hasAdminPower } from "../../../src/features/auth/index.ts";
import { ACTIONS, CHANNEL_ACTIONS, COMMUNITY_ACTIONS, INSTANCE_ACTIONS, MEMBER_ACTIONS, can, canOnInstance, type Action, type ChannelFacts, type CommunityPolicy, type Membership, type PermissionContext, type Subject } from "../../../src/features/permissions/index.ts";

const NOW = new Date("2026-01-01T00:00:00Z");
const HELPER_ROLE = { id: "role-helper", permissions: ["kick", "timeout", "manage_channels", "pin"], position: 10 };

type SubjectCase = { name: string; base: "owner" | "admin" | "moderator" | "member" | null; instanceOwner?: boolean; helper?: boolean; timedOut?: boolean };
const SUBJECTS: SubjectCase[] = [
  { name: "instance_owner", base: null, instanceOwner: true },
  { name: "instance_admin", base: null },
  { name: "outsider", base: null },
  { name: "owner", base: "owner" },
  { name: "admin", base: "admin" },
  { name: "moderator", base: "moderator" },
  { name: "member", base: "member" },
  { name: "helper(custom role)", base: "member", helper: true },
  { name: "timed_out_member", base: "member", timedOut: true },
];

type TargetCase = { name: string; base: SubjectCase["base"]; helper?: boolean; self?: boolean };
const TARGETS: TargetCase[] = [
  { name: "self", base: "member", self: true },
  { name: "owner", base: "owner" },
  { name: "admin", base: "admin" },
  { name: "moderator", base: "moderator" },
  { name: "helper", base: "member", helper: true },
  { name: "member", base: "member" },
  { name: "non-member", base: null },
];

type ChannelCase = { name: string; facts: ChannelFacts };
const ch = (name: string, f: Partial<ChannelFacts>): ChannelCase => ({ name, facts: { kind: "text", isPrivate: false, readOnly: false, archived: false, isChannelMember: false, overrides: [], ...f } });
const CHANNELS: ChannelCase[] = [
  ch("text", {}),
  ch("announcement", { kind: "announcement" }),
  ch("read_only", { readOnly: true }),
  ch("archived", { archived: true }),
  ch("voice", { kind: "voice" }),
  ch("private, not added", { isPrivate: true }),
  ch("private, added", { isPrivate: true, isChannelMember: true }),
  ch("override: member deny send", { overrides: [{ baseRole: "member", roleId: null, allow: [], deny: ["send_messages"] }] }),
  ch("override: helper allow send in announcement", { kind: "announcement", overrides: [{ baseRole: null, roleId: HELPER_ROLE.id, allow: ["send_messages"], deny: [] }] }),
  ch("override: helper deny view", { overrides: [{ baseRole: null, roleId: HELPER_ROLE.id, allow: [], deny: ["view_channel"] }] }),
  ch("override: moderator deny manage_messages", { overrides: [{ baseRole: "moderator", roleId: null, allow: [], deny: ["manage_messages"] }] }),
  ch("override: member allow view of private", { isPrivate: true, overrides: [{ baseRole: "member", roleId: null, allow: ["view_channel"], deny: [] }] }),
  ch("voice, override: member deny join_voice", { kind: "voice", overrides: [{ baseRole: "member", roleId: null, allow: [], deny: ["join_voice"] }] }),
  ch("voice, override: member deny join_voice, helper allow", { kind: "voice", overrides: [{ baseRole: "member", roleId: null, allow: [], deny: ["join_voice"] }, { baseRole: null, roleId: HELPER_ROLE.id, allow: ["join_voice"], deny: [] }] }),
  ch("voice, override: moderator deny join_voice", { kind: "voice", overrides: [{ baseRole: "moderator", roleId: null, allow: [], deny: ["join_voice"] }] }),
  ch("voice, archived", { kind: "voice", archived: true }),
];

const POLICIES: CommunityPolicy[] = ["everyone", "moderator", "admin"];

function membership(c: { base: SubjectCase["base"]; helper?: boolean; timedOut?: boolean }): Membership | null {
  if (!c.base) return null;
  return { role: c.base, customRoles: c.helper ? [HELPER_ROLE] : [], timedOutUntil: c.timedOut ? new Date(NOW.getTime() + 60_000) : null };
}

// ---- The rules, as written in docs/permissions.md --------------------------------------------
const RANK = { owner: 3000, admin: 2000, moderator: 1000, member: 0 } as const;
const rank = (c: { base: SubjectCase["base"]; helper?: boolean; instanceOwner?: boolean }) => (c.instanceOwner ? 10_000 : c.base === null ? -1 : RANK[c.base] + (c.helper ? 10 : 0));
const isAdminish = (s: SubjectCase) => s.instanceOwner || s.base === "owner" || s.base === "admin";
const isModish = (s: SubjectCase) => isAdminish(s) || s.base === "moderator";
const meets = (s: SubjectCase, p: CommunityPolicy) => s.base !== null && (p === "everyone" || (p === "moderator" ? s.base !== "member" : s.base === "owner" || s.base === "admin"));

function expectedCommunity(s: SubjectCase, a: (typeof COMMUNITY_ACTIONS)[number], invitePolicy: CommunityPolicy, groupPolicy: CommunityPolicy): boolean {
  if (s.instanceOwner) return true;
  if (s.base === null) return false;
  switch (a) {
    case "view_community": return true;
    case "edit_community": case "manage_invites": case "manage_roles": case "manage_emoji": return isAdminish(s);
    case "delete_community": case "transfer_ownership": return s.base === "owner";
    case "create_invite": return meets(s, invitePolicy) || isModish(s);
    case "create_group": return meets(s, groupPolicy) || isAdminish(s) || !!s.helper;
    case "manage_channels": return isAdminish(s) || !!s.helper;
    case "view_audit_log": return isModish(s);
    case "review_reports": return isModish(s) || !!s.helper;
  }
}

function expectedMember(s: SubjectCase, a: (typeof MEMBER_ACTIONS)[number], t: TargetCase): boolean {
  if (t.self) return false;
  if (s.instanceOwner) return t.base !== "owner"; // ownership moves only by transfer
  if (s.base === null) return false;
  const holds = { change_member_role: isAdminish(s), kick_member: isModish(s) || !!s.helper, ban_member: isModish(s), timeout_member: isModish(s) || !!s.helper, warn_member: isModish(s) || !!s.helper }[a];
  return holds && rank(s) > rank(t);
}

function expectedChannel(s: SubjectCase, a: (typeof CHANNEL_ACTIONS)[number], c: ChannelCase): boolean {
  if (s.base === null && !s.instanceOwner) return false;
  const f = c.facts;
  const adminish = isAdminish(s);
  const applies = (o: ChannelFacts["overrides"][number]) => (!s.instanceOwner && o.baseRole === s.base) || (o.roleId === HELPER_ROLE.id && !!s.helper);
  const denied = (p: string) => !adminish && f.overrides.some((o) => applies(o) && o.deny.includes(p)) && !f.overrides.some((o) => applies(o) && o.allow.includes(p));
  const allowed = (p: string) => !adminish && f.overrides.some((o) => applies(o) && o.allow.includes(p));
  const view = adminish || ((!(f.isPrivate && !f.isChannelMember) || allowed("view_channel")) && !denied("view_channel"));
  if (!view) return false;
  const timedOut = !!s.timedOut;
  const baseSend = adminish || s.base === "moderator" || !(f.kind === "announcement" || f.readOnly);
  const send = (baseSend || allowed("send_messages")) && !denied("send_messages");
  const manage = (isModish(s) || allowed("manage_messages")) && !denied("manage_messages");
  switch (a) {
    case "view_channel": return true;
    case "send_message": return send && !f.archived && !timedOut && f.kind !== "voice";
    case "react": return !f.archived && !timedOut && f.kind !== "voice";
    // Every member holds join_voice; an override can deny it (owners and admins are never restricted).
    case "join_voice": return f.kind === "voice" && !f.archived && !timedOut && !denied("join_voice");
    case "manage_messages": return manage;
    case "pin_message": return manage || !!s.helper || isModish(s);
    case "mention_everyone": return isModish(s) && !timedOut;
    // Owners and admins hold manage_webhooks; a channel override can grant it to a role.
    case "manage_webhooks": return (adminish || allowed("manage_webhooks")) && !denied("manage_webhooks") && f.kind !== "voice" && !f.archived;
  }
}
// -----------------------------------------------------------------------------------------------

function subjectOf(s: SubjectCase): Subject {
  return { userId: "actor", isInstanceOwner: !!s.instanceOwner, member: membership(s) };
}

function ctxOf(invitePolicy: CommunityPolicy, groupPolicy: CommunityPolicy, extra: Partial<PermissionContext> = {}): PermissionContext {
  return { community: { ownerId: "someone", whoCanCreateGroups: groupPolicy, whoCanInvite: invitePolicy }, now: NOW, ...extra };
}

describe("permission matrix (generated)", () => {
  test("covers every action", () => {
    expect(new Set<Action>([...COMMUNITY_ACTIONS, ...MEMBER_ACTIONS, ...CHANNEL_ACTIONS, ...INSTANCE_ACTIONS]).size).toBe(ACTIONS.length);
  });

  test("community actions × subjects × invite/group policies", () => {
    const mismatches: string[] = [];
    let cells = 0;
    for (const s of SUBJECTS) for (const a of COMMUNITY_ACTIONS) for (const ip of POLICIES) for (const gp of POLICIES) {
      cells++;
      const got = can(subjectOf(s), a, ctxOf(ip, gp));
      const want = expectedCommunity(s, a, ip, gp);
      if (got !== want) mismatches.push(`${s.name} ${a} invite=${ip} groups=${gp}: got ${got}, want ${want}`);
    }
    expect(mismatches).toEqual([]);
    expect(cells).toBe(SUBJECTS.length * COMMUNITY_ACTIONS.length * 9);
  });

  test("person-directed actions × subjects × target ranks", () => {
    const mismatches: string[] = [];
    for (const s of SUBJECTS) for (const a of MEMBER_ACTIONS) for (const t of TARGETS) {
      const target = { userId: t.self ? "actor" : `t-${t.name}`, member: membership(t) };
      const got = can(subjectOf(s), a, ctxOf("everyone", "admin", { target }));
      const want = expectedMember(s, a, t);
      if (got !== want) mismatches.push(`${s.name} ${a} -> ${t.name}: got ${got}, want ${want}`);
    }
    expect(mismatches).toEqual([]);
  });

  test("channel actions × subjects × channel kinds and overrides", () => {
    const mismatches: string[] = [];
    for (const s of SUBJECTS) for (const a of CHANNEL_ACTIONS) for (const c of CHANNELS) {
      const got = can(subjectOf(s), a, ctxOf("everyone", "admin", { channel: c.facts }));
      const want = expectedChannel(s, a, c);
      if (got !== want) mismatches.push(`${s.name} ${a} in ${c.name}: got ${got}, want ${want}`);
    }
    expect(mismatches).toEqual([]);
  });

  test("instance powers × instance roles, independent of community roles", () => {
    const mismatches: string[] = [];
    const actors = [
      { name: "instance owner", isOwner: true, isAdmin: false, adminPowers: [] as string[] },
      { name: "admin with every power", isOwner: false, isAdmin: true, adminPowers: [...ADMIN_POWERS] as string[] },
      ...ADMIN_POWERS.map((p) => ({ name: `admin with only ${p}`, isOwner: false, isAdmin: true, adminPowers: [p] as string[] })),
      { name: "powers listed but not admin", isOwner: false, isAdmin: false, adminPowers: [...ADMIN_POWERS] as string[] },
      { name: "plain user", isOwner: false, isAdmin: false, adminPowers: [] as string[] },
    ];
    for (const a of actors) for (const power of ADMIN_POWERS) {
      const want = a.isOwner || (a.isAdmin && a.adminPowers.includes(power));
      const got = canOnInstance({ userId: "x", ...a }, power);
      if (got !== want || got !== hasAdminPower(a, power)) mismatches.push(`${a.name} ${power}: got ${got}, want ${want}`);
      // A community owner role grants no instance power.
      const communityOwner = { userId: "x", isInstanceOwner: false, member: { role: "owner" as const, customRoles: [], timedOutUntil: null }, instance: { isAdmin: a.isAdmin, adminPowers: a.adminPowers } };
      if (!a.isOwner && can(communityOwner, `instance:${power}`, ctxOf("everyone", "admin")) !== want) mismatches.push(`community owner + ${a.name} ${power}`);
    }
    expect(mismatches).toEqual([]);
  });

  test("an expired timeout no longer restricts", () => {
    const m: Membership = { role: "member", customRoles: [], timedOutUntil: new Date(NOW.getTime() - 1) };
    expect(can({ userId: "a", isInstanceOwner: false, member: m }, "send_message", ctxOf("everyone", "admin", { channel: CHANNELS[0]!.facts }))).toBe(true);
  });
});
