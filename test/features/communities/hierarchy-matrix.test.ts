/**
 * The permission matrix, continued for CHANGES (docs/permissions.md, "Changing roles"), GENERATED:
 * every subject × every change kind × roles at several positions and held by people of several
 * ranks × targets of every rank × grants of held and unheld permissions × channel cases. Expected
 * answers (allowed, or the exact 403 code) come from the written rules below, stated independently
 * of src/features/permissions/hierarchy.ts; the test fails on any cell that differs, and on a
 * change kind that has no cells.
 */
import { describe, expect, test } from "bun:test";
import { CHANGE_KINDS, decideChange, type Change, type ChannelFacts, type CustomRole, type Membership, type PermissionContext, type RefusalCode, type RoleFacts, type Subject } from "../../../src/features/permissions/index.ts";

const NOW = new Date("2026-01-01T00:00:00Z");
const ALL = ["manage_channels", "manage_roles", "kick", "ban", "timeout", "manage_messages", "pin", "mention_everyone", "invite", "manage_emoji", "view_audit_log", "manage_webhooks", "view_channel", "send_messages", "join_voice"];
const MODERATOR = ["kick", "ban", "timeout", "manage_messages", "pin", "mention_everyone", "invite", "view_audit_log", "view_channel", "send_messages", "join_voice"];
const MEMBER = ["view_channel", "send_messages", "join_voice"];
const BASE = { owner: 3000, admin: 2000, moderator: 1000, member: 0 } as const;
type Base = keyof typeof BASE;

const role = (id: string, position: number, permissions: string[]): CustomRole => ({ id, position, permissions });
const MGR500 = role("mgr500", 500, ["manage_roles", "kick", "manage_channels"]);
const LOW10 = role("low10", 10, ["pin"]);
const MODMGR5 = role("modmgr5", 5, ["manage_roles", "manage_channels"]);
const ADMIN5 = role("admin5", 5, []);

type Who = { name: string; base: Base | null; roles: CustomRole[]; instanceOwner?: boolean };
const SUBJECTS: Who[] = [
  { name: "instance_owner", base: null, roles: [], instanceOwner: true },
  { name: "outsider", base: null, roles: [] },
  { name: "owner", base: "owner", roles: [] },
  { name: "admin", base: "admin", roles: [] },
  { name: "admin+r5", base: "admin", roles: [ADMIN5] },
  { name: "moderator", base: "moderator", roles: [] },
  { name: "moderator+manager5", base: "moderator", roles: [MODMGR5] },
  { name: "member+manager500", base: "member", roles: [MGR500] },
  { name: "member+manager500+low10", base: "member", roles: [MGR500, LOW10] },
  { name: "member", base: "member", roles: [] },
];

// ---- The rules, as written in docs/permissions.md ---------------------------------------------
const rank = (w: { base: Base | null; roles: readonly CustomRole[]; instanceOwner?: boolean }) => (w.instanceOwner ? 10_000 : w.base === null ? -1 : BASE[w.base] + Math.max(0, ...w.roles.map((r) => r.position)));
function held(w: Who): Set<string> {
  if (w.instanceOwner || w.base === "owner" || w.base === "admin") return new Set(ALL);
  if (w.base === null) return new Set();
  return new Set([...(w.base === "moderator" ? MODERATOR : MEMBER), ...w.roles.flatMap((r) => r.permissions)]);
}
/** Held in a channel: owners/admins keep all; otherwise the channel's applicable denies, then allows. */
function heldIn(w: Who, ch: ChannelFacts): Set<string> {
  const set = held(w);
  if (w.instanceOwner || w.base === "owner" || w.base === "admin") return set;
  const applies = ch.overrides.filter((o) => o.baseRole === w.base || w.roles.some((r) => r.id === o.roleId));
  for (const o of applies) for (const p of o.deny) set.delete(p);
  for (const o of applies) for (const p of o.allow) set.add(p);
  return set;
}
const missingFrom = (have: Set<string>, wanted: readonly string[]) => wanted.some((p) => !have.has(p));
const personGate = (w: Who, perm: string) => w.instanceOwner || held(w).has(perm);

function expected(w: Who, c: Change, channel: ChannelFacts): RefusalCode | null {
  const r = rank(w);
  const has = held(w);
  const manageRoles = w.instanceOwner || (w.base !== null && has.has("manage_roles"));
  /** Person rules: the flag, not yourself, never the owner, strictly below you. */
  const onPerson = (perm: string, t: { userId: string; member: Pick<Membership, "role" | "customRoles"> | null }): RefusalCode | null => {
    if (w.base === null && !w.instanceOwner) return "PERMISSION_DENIED";
    if (!personGate(w, perm)) return "PERMISSION_DENIED";
    if (t.userId === "actor" || t.member?.role === "owner") return "ROLE_HIERARCHY";
    return rank({ base: t.member?.role ?? null, roles: t.member?.customRoles ?? [] }) >= r ? "ROLE_HIERARCHY" : null;
  };
  const roleRankOf = (x: RoleFacts) => Math.max(x.position, x.topHolderRank);
  switch (c.kind) {
    case "create_role":
      if (!manageRoles) return "PERMISSION_DENIED";
      if (c.position >= r) return "ROLE_HIERARCHY";
      return missingFrom(has, c.permissions) ? "PERMISSION_NOT_HELD" : null;
    case "update_role": {
      if (!manageRoles) return "PERMISSION_DENIED";
      if (roleRankOf(c.role) >= r) return "ROLE_HIERARCHY";
      if (c.position >= r || c.role.topHolderBaseRank + c.position >= r) return "ROLE_HIERARCHY";
      // Your own rank may not rise through a role you hold.
      const mine = w.roles.some((x) => x.id === c.role.id);
      if (mine && rank({ base: w.base, roles: w.roles.map((x) => (x.id === c.role.id ? { ...x, position: c.position } : x)) }) > r) return "ROLE_HIERARCHY";
      return missingFrom(has, c.permissions.filter((p) => !c.role.permissions.includes(p))) ? "PERMISSION_NOT_HELD" : null;
    }
    case "delete_role":
      if (!manageRoles) return "PERMISSION_DENIED";
      return roleRankOf(c.role) >= r ? "ROLE_HIERARCHY" : null;
    case "set_base_role": {
      if (!c.target.member) return "PERMISSION_DENIED";
      const refusal = onPerson("manage_roles", c.target);
      if (refusal) return refusal;
      if (BASE[c.to] >= r || rank({ base: c.to, roles: c.target.member.customRoles }) >= r) return "ROLE_HIERARCHY";
      return null; // whoever outranks the new base role holds all its permissions
    }
    case "set_custom_roles": {
      if (!manageRoles) return "PERMISSION_DENIED";
      if (!c.target.member) return "PERMISSION_DENIED";
      const refusal = onPerson("manage_roles", c.target);
      if (refusal) return refusal;
      if ([...c.added, ...c.removed].some((x) => x.position >= r)) return "ROLE_HIERARCHY";
      const after = [...c.target.member.customRoles.filter((x) => !c.removed.some((y) => y.id === x.id)), ...c.added];
      if (rank({ base: c.target.member.role, roles: after }) >= r) return "ROLE_HIERARCHY";
      return missingFrom(has, c.added.flatMap((x) => x.permissions)) ? "PERMISSION_NOT_HELD" : null;
    }
    case "write_override": {
      if (!manageRoles) return "PERMISSION_DENIED";
      const onRank = "base" in c.on ? Math.max(BASE[c.on.base.role], c.on.base.topHolderRank) : roleRankOf(c.on.role);
      if (onRank >= r) return "ROLE_HIERARCHY";
      const granted = [...c.after.allow.filter((p) => !c.before.allow.includes(p)), ...c.before.deny.filter((p) => !c.after.deny.includes(p))];
      return missingFrom(heldIn(w, channel), granted) ? "PERMISSION_NOT_HELD" : null;
    }
    case "add_channel_member":
      return w.instanceOwner || (w.base !== null && has.has("manage_channels")) ? null : "PERMISSION_DENIED";
    case "remove_channel_member":
      if (!(w.instanceOwner || (w.base !== null && has.has("manage_channels")))) return "PERMISSION_DENIED";
      return c.target.userId !== "actor" && rank({ base: c.target.member?.role ?? null, roles: c.target.member?.customRoles ?? [] }) >= r ? "ROLE_HIERARCHY" : null;
    case "transfer_ownership":
      return w.instanceOwner || w.base === "owner" ? null : "PERMISSION_DENIED";
    case "act_on_member":
      return onPerson({ change_member_role: "manage_roles", kick_member: "kick", ban_member: "ban", timeout_member: "timeout", warn_member: "timeout" }[c.action], c.target);
  }
}
// -----------------------------------------------------------------------------------------------

type Target = { name: string; userId: string; member: Membership | null };
const mem = (base: Base, roles: CustomRole[] = []): Membership => ({ role: base, customRoles: roles, timedOutUntil: null });
const TARGETS: Target[] = [
  { name: "self", userId: "actor", member: mem("member") },
  { name: "owner", userId: "t-owner", member: mem("owner") },
  { name: "admin", userId: "t-admin", member: mem("admin") },
  { name: "moderator", userId: "t-mod", member: mem("moderator") },
  { name: "moderator+600", userId: "t-mod600", member: mem("moderator", [role("r600", 600, [])]) },
  { name: "member+600", userId: "t-m600", member: mem("member", [role("r600", 600, [])]) },
  { name: "member+low10", userId: "t-low", member: mem("member", [LOW10]) },
  { name: "member", userId: "t-member", member: mem("member") },
  { name: "non-member", userId: "t-none", member: null },
];

const facts = (r: CustomRole, topHolderRank = -1, topHolderBaseRank = -1): RoleFacts => ({ ...r, topHolderRank, topHolderBaseRank });
const ROLES: { name: string; facts: RoleFacts }[] = [
  { name: "pin@10, nobody holds it", facts: facts(role("r10", 10, ["pin"])) },
  { name: "@10 held by a moderator", facts: facts(role("r10m", 10, []), 1010, 1000) },
  { name: "@3 held by a moderator", facts: facts(role("r3m", 3, []), 1003, 1000) },
  { name: "@3 held by an admin", facts: facts(role("r3a", 3, []), 2003, 2000) },
  { name: "@600", facts: facts(role("r600", 600, [])) },
  { name: "ban@499 held by a member", facts: facts(role("r499", 499, ["ban"]), 499, 0) },
  { name: "@998 held by an admin", facts: facts(role("r998", 998, []), 2998, 2000) },
  { name: "low10 (the actor may hold it)", facts: facts(LOW10) },
  { name: "manager500 (the actor may hold it)", facts: facts(MGR500) },
  { name: "modmanager5 (the actor may hold it)", facts: facts(MODMGR5) },
];
const POSITIONS = [1, 10, 499, 500, 998];
const PERMISSION_EDITS: { name: string; edit: (p: readonly string[]) => string[] }[] = [
  { name: "same", edit: (p) => [...p] },
  { name: "+kick", edit: (p) => [...p, "kick"] },
  { name: "+ban", edit: (p) => [...p, "ban"] },
  { name: "+manage_roles", edit: (p) => [...p, "manage_roles"] },
  { name: "none", edit: () => [] },
];
const GRANT_SETS: string[][] = [[], ["kick"], ["ban"], ["pin"], ["manage_roles"], ["manage_messages"], ["kick", "ban"]];
const ASSIGN_SETS: { name: string; roles: CustomRole[] }[] = [
  { name: "[]", roles: [] },
  { name: "[low10]", roles: [LOW10] },
  { name: "[ban@10]", roles: [role("ban10", 10, ["ban"])] },
  { name: "[kick@499]", roles: [role("kick499", 499, ["kick"])] },
  { name: "[@600]", roles: [role("r600", 600, [])] },
  { name: "[manage_roles@5]", roles: [role("mr5", 5, ["manage_roles"])] },
];

const text = (overrides: ChannelFacts["overrides"] = []): ChannelFacts => ({ kind: "text", isPrivate: false, readOnly: false, archived: false, isChannelMember: false, overrides });
const CHANNELS: { name: string; facts: ChannelFacts }[] = [
  { name: "text", facts: text() },
  { name: "members denied send", facts: text([{ baseRole: "member", roleId: null, allow: [], deny: ["send_messages"] }]) },
  { name: "manager500 allowed manage_messages", facts: text([{ baseRole: null, roleId: MGR500.id, allow: ["manage_messages"], deny: [] }]) },
  { name: "moderators denied manage_messages", facts: text([{ baseRole: "moderator", roleId: null, allow: [], deny: ["manage_messages"] }]) },
];
const OVERRIDE_ON: { name: string; on: Extract<Change, { kind: "write_override" }>["on"] }[] = [
  { name: "@member, top member 10", on: { base: { role: "member", topHolderRank: 10 } } },
  { name: "@member, top member 600", on: { base: { role: "member", topHolderRank: 600 } } },
  { name: "@moderator", on: { base: { role: "moderator", topHolderRank: 1000 } } },
  { name: "@admin", on: { base: { role: "admin", topHolderRank: 2000 } } },
  ...ROLES.map((x) => ({ name: `role ${x.name}`, on: { role: x.facts } })),
];
const PAIRS: { name: string; before: { allow: string[]; deny: string[] }; after: { allow: string[]; deny: string[] } }[] = [
  { name: "allow manage_messages", before: { allow: [], deny: [] }, after: { allow: ["manage_messages"], deny: [] } },
  { name: "allow send", before: { allow: [], deny: [] }, after: { allow: ["send_messages"], deny: [] } },
  { name: "deny view", before: { allow: [], deny: [] }, after: { allow: [], deny: ["view_channel"] } },
  { name: "lift deny send (removal)", before: { allow: [], deny: ["send_messages"] }, after: { allow: [], deny: [] } },
  { name: "lift deny manage_messages", before: { allow: [], deny: ["manage_messages"] }, after: { allow: [], deny: [] } },
  { name: "drop allow pin (removal)", before: { allow: ["pin"], deny: [] }, after: { allow: [], deny: [] } },
  { name: "keep allow ban, add nothing", before: { allow: ["ban"], deny: [] }, after: { allow: ["ban"], deny: ["view_channel"] } },
];

function* cases(): Generator<{ name: string; change: Change; channel: ChannelFacts }> {
  const ch = CHANNELS[0]!.facts;
  for (const position of POSITIONS) for (const permissions of GRANT_SETS) yield { name: `create_role @${position} ${permissions}`, change: { kind: "create_role", position, permissions }, channel: ch };
  for (const r of ROLES) {
    for (const position of POSITIONS) for (const e of PERMISSION_EDITS) yield { name: `update_role ${r.name} -> @${position} ${e.name}`, change: { kind: "update_role", role: r.facts, position, permissions: e.edit(r.facts.permissions) }, channel: ch };
    yield { name: `delete_role ${r.name}`, change: { kind: "delete_role", role: r.facts }, channel: ch };
  }
  for (const t of TARGETS) {
    const target = { userId: t.userId, member: t.member };
    for (const to of ["admin", "moderator", "member"] as const) yield { name: `set_base_role ${t.name} -> ${to}`, change: { kind: "set_base_role", target, to }, channel: ch };
    for (const a of ASSIGN_SETS) {
      const current = t.member?.customRoles ?? [];
      yield { name: `set_custom_roles ${t.name} + ${a.name}`, change: { kind: "set_custom_roles", target, added: a.roles.filter((x) => !current.some((y) => y.id === x.id)), removed: [] }, channel: ch };
      yield { name: `set_custom_roles ${t.name} = ${a.name}`, change: { kind: "set_custom_roles", target, added: a.roles.filter((x) => !current.some((y) => y.id === x.id)), removed: current.filter((x) => !a.roles.some((y) => y.id === x.id)) }, channel: ch };
    }
    yield { name: `add_channel_member ${t.name}`, change: { kind: "add_channel_member", target }, channel: ch };
    yield { name: `remove_channel_member ${t.name}`, change: { kind: "remove_channel_member", target }, channel: ch };
    yield { name: `transfer_ownership ${t.name}`, change: { kind: "transfer_ownership", target }, channel: ch };
    for (const action of ["change_member_role", "kick_member", "ban_member", "timeout_member", "warn_member"] as const) yield { name: `${action} ${t.name}`, change: { kind: "act_on_member", action, target }, channel: ch };
  }
  for (const c of CHANNELS) for (const o of OVERRIDE_ON) for (const p of PAIRS) yield { name: `write_override in ${c.name} on ${o.name}: ${p.name}`, change: { kind: "write_override", on: o.on, before: p.before, after: p.after }, channel: c.facts };
}

function subjectOf(w: Who): Subject {
  return { userId: "actor", isInstanceOwner: !!w.instanceOwner, member: w.base ? { role: w.base, customRoles: w.roles, timedOutUntil: null } : null };
}

describe("hierarchy matrix (generated)", () => {
  test("every subject × every change: allowed, or refused with the code the rules give", () => {
    const mismatches: string[] = [];
    const perKind = new Map<string, number>();
    const outcomes = new Map<string, number>();
    for (const w of SUBJECTS) for (const c of cases()) {
      const ctx: PermissionContext = { community: { ownerId: "t-owner", whoCanCreateGroups: "admin", whoCanInvite: "everyone" }, now: NOW, channel: c.channel };
      const got = decideChange(subjectOf(w), c.change, ctx);
      const want = expected(w, c.change, c.channel);
      perKind.set(c.change.kind, (perKind.get(c.change.kind) ?? 0) + 1);
      outcomes.set(got?.code ?? "allowed", (outcomes.get(got?.code ?? "allowed") ?? 0) + 1);
      if ((got?.code ?? null) !== want) mismatches.push(`${w.name}: ${c.name}: got ${got?.code ?? "allowed"}, want ${want ?? "allowed"}`);
      if (got && !got.message) mismatches.push(`${w.name}: ${c.name}: refusal without a message`);
    }
    expect(mismatches.slice(0, 40)).toEqual([]);
    // Every change kind has cells, and every outcome occurs (the matrix is not vacuous).
    expect(CHANGE_KINDS.filter((k) => !perKind.get(k))).toEqual([]);
    expect([...outcomes.keys()].sort()).toEqual(["PERMISSION_DENIED", "PERMISSION_NOT_HELD", "ROLE_HIERARCHY", "allowed"]);
  });

  test("the review's examples, spelled out", () => {
    const manager = subjectOf(SUBJECTS.find((s) => s.name === "member+manager500")!);
    const ctx: PermissionContext = { community: { ownerId: "t-owner", whoCanCreateGroups: "admin", whoCanInvite: "everyone" }, now: NOW, channel: text() };
    const alt = { userId: "alt", member: mem("member") };
    const code = (c: Change) => decideChange(manager, c, ctx)?.code ?? "allowed";
    // Assigning an existing role that carries a permission the manager lacks.
    expect(code({ kind: "set_custom_roles", target: alt, added: [role("banner", 10, ["ban"])], removed: [] })).toBe("PERMISSION_NOT_HELD");
    // Raising their own role above them.
    expect(code({ kind: "update_role", role: facts(MGR500), position: 900, permissions: MGR500.permissions })).toBe("ROLE_HIERARCHY");
    // Editing, stripping or deleting a role ranked at or above them.
    expect(code({ kind: "update_role", role: facts(role("senior", 600, ["kick"])), position: 600, permissions: [] })).toBe("ROLE_HIERARCHY");
    expect(code({ kind: "delete_role", role: facts(role("senior", 600, [])) })).toBe("ROLE_HIERARCHY");
    expect(code({ kind: "delete_role", role: facts(role("r", 10, []), 1010, 1000) })).toBe("ROLE_HIERARCHY");
    // Overrides that grant what they lack, or lock moderators out.
    expect(code({ kind: "write_override", on: { role: facts(MGR500) }, before: { allow: [], deny: [] }, after: { allow: ["manage_messages"], deny: [] } })).toBe("ROLE_HIERARCHY");
    expect(code({ kind: "write_override", on: { base: { role: "member", topHolderRank: 0 } }, before: { allow: [], deny: [] }, after: { allow: ["manage_messages"], deny: [] } })).toBe("PERMISSION_NOT_HELD");
    expect(code({ kind: "write_override", on: { base: { role: "moderator", topHolderRank: 1000 } }, before: { allow: [], deny: [] }, after: { allow: [], deny: ["view_channel"] } })).toBe("ROLE_HIERARCHY");
    // What stays allowed: a role below them, with what they hold, to someone below them.
    expect(code({ kind: "set_custom_roles", target: alt, added: [role("kicker", 10, ["kick"])], removed: [] })).toBe("allowed");
  });
});
