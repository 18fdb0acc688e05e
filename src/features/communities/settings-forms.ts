/**
 * The community settings forms (`POST /c/{id}/settings/<path>`), one entry per form, each calling
 * the same service as the JSON API. A table rather than a chain of ifs so the test suite can
 * enumerate every form (test/features/permissions/mutation-paths.test.ts requires each one that
 * changes roles, overrides or members to be covered by the hierarchy matrix).
 */
import type { AppDeps } from "../../deps.ts";
import { ROLE_PERMISSIONS } from "../permissions/index.ts";
import { createChannel, createGroup, deleteChannel, deleteGroup, removeChannelOverride, renameGroup, setChannelOverride, updateChannel } from "../channels/index.ts";
import { banUser, closeReport, escalateReport, kickMember, timeoutMember, unbanUser, warnMember } from "../moderation/index.ts";
import type { ActorLike } from "./context.ts";
import { createInvite, revokeInvite } from "./invites.ts";
import { optionalInt } from "./page-helpers.tsx";
import { createRole, deleteRole } from "./roles.ts";
import { deleteCommunity, leaveCommunity, setMemberCustomRoles, setMemberRole, transferOwnership, updateCommunity } from "./service.ts";
import type { Section } from "./settings-views.tsx";
import { OVERRIDE_PERMISSIONS } from "./override-permissions.ts";

type Run = (deps: AppDeps, actor: ActorLike, communityId: string, f: Record<string, string>, m: RegExpExecArray) => Promise<void>;
/** `back`: the settings section to return to, or `null` for the communities list. */
export type SettingsForm = { name: string; path: RegExp; back: Section | null; run: Run };

/** Permissions the override form offers (the channel-level ones; the view renders the same list). */
const OVERRIDE_FORM_PERMISSIONS: readonly string[] = OVERRIDE_PERMISSIONS;

export const SETTINGS_FORMS: readonly SettingsForm[] = [
  { name: "overview", path: /^overview$/, back: "overview", run: (deps, actor, id, f) => updateCommunity(deps, actor, id, { name: f.name, description: f.description ?? null, whoCanCreateGroups: f.who_can_create_groups, whoCanInvite: f.who_can_invite, discoverable: f.discoverable === "on" }).then(() => {}) },
  { name: "delete", path: /^delete$/, back: null, run: (deps, actor, id, f) => deleteCommunity(deps, actor, id, f.confirm_name ?? "") },
  { name: "leave", path: /^leave$/, back: null, run: (deps, actor, id) => leaveCommunity(deps, actor, id) },
  { name: "transfer", path: /^transfer$/, back: "overview", run: (deps, actor, id, f) => transferOwnership(deps, actor, id, f.new_owner_id ?? "") },
  { name: "groups", path: /^groups$/, back: "channels", run: (deps, actor, id, f) => createGroup(deps, actor, id, { name: f.name ?? "" }).then(() => {}) },
  { name: "groups/rename", path: /^groups\/([^/]+)\/rename$/, back: "channels", run: (deps, actor, _id, f, m) => renameGroup(deps, actor, m[1]!, { name: f.name ?? "" }) },
  { name: "groups/delete", path: /^groups\/([^/]+)\/delete$/, back: "channels", run: (deps, actor, _id, _f, m) => deleteGroup(deps, actor, m[1]!) },
  { name: "groups/channels", path: /^groups\/([^/]+)\/channels$/, back: "channels", run: (deps, actor, _id, f, m) => createChannel(deps, actor, m[1]!, { name: f.name ?? "", kind: f.kind ?? "text", isPrivate: f.is_private === "on" }).then(() => {}) },
  { name: "channels/delete", path: /^channels\/([^/]+)\/delete$/, back: "channels", run: (deps, actor, _id, _f, m) => deleteChannel(deps, actor, m[1]!) },
  {
    name: "channels",
    path: /^channels\/([^/]+)$/,
    back: "channels",
    run: (deps, actor, _id, f, m) =>
      updateChannel(deps, actor, m[1]!, { name: f.name, topic: f.topic ?? null, readOnly: f.read_only === "on", archived: f.archived === "on", slowModeSeconds: optionalInt(f.slow_mode_seconds) ?? 0, messageTtlSeconds: optionalInt(f.message_ttl_seconds) ?? 0, historyVisibility: f.history_visibility }),
  },
  {
    name: "overrides",
    path: /^overrides$/,
    back: "roles",
    run: (deps, actor, _id, f) => {
      const [kind, ref] = (f.target ?? "").split(":");
      return setChannelOverride(deps, actor, f.channel_id ?? "", {
        baseRole: kind === "base" ? (ref ?? null) : null,
        roleId: kind === "role" ? (ref ?? null) : null,
        allow: OVERRIDE_FORM_PERMISSIONS.filter((x) => f[`ov_${x}`] === "allow"),
        deny: OVERRIDE_FORM_PERMISSIONS.filter((x) => f[`ov_${x}`] === "deny"),
      });
    },
  },
  { name: "overrides/delete", path: /^overrides\/([^/]+)\/([^/]+)\/delete$/, back: "roles", run: (deps, actor, _id, _f, m) => removeChannelOverride(deps, actor, m[1]!, m[2]!) },
  {
    name: "roles",
    path: /^roles$/,
    back: "roles",
    run: (deps, actor, id, f) => createRole(deps, actor, id, { name: f.name ?? "", position: optionalInt(f.position) ?? 1, permissions: ROLE_PERMISSIONS.filter((p) => f[`perm_${p}`] === "on") }).then(() => {}),
  },
  { name: "roles/delete", path: /^roles\/([^/]+)\/delete$/, back: "roles", run: (deps, actor, id, _f, m) => deleteRole(deps, actor, id, m[1]!) },
  { name: "members/roles", path: /^members\/([^/]+)\/roles$/, back: "members", run: (deps, actor, id, f, m) => setMemberCustomRoles(deps, actor, id, m[1]!, Object.keys(f).filter((k) => k.startsWith("role_") && f[k] === "on").map((k) => k.slice(5))) },
  { name: "members/role", path: /^members\/([^/]+)\/role$/, back: "members", run: (deps, actor, id, f, m) => setMemberRole(deps, actor, id, m[1]!, f.role ?? "") },
  { name: "members/warn", path: /^members\/([^/]+)\/warn$/, back: "members", run: (deps, actor, id, f, m) => warnMember(deps, actor, id, m[1]!, { reason: f.reason ?? "" }).then(() => {}) },
  { name: "members/kick", path: /^members\/([^/]+)\/kick$/, back: "members", run: (deps, actor, id, f, m) => kickMember(deps, actor, id, m[1]!, { reason: f.reason }) },
  { name: "members/ban", path: /^members\/([^/]+)\/ban$/, back: "members", run: (deps, actor, id, f, m) => banUser(deps, actor, id, m[1]!, { reason: f.reason, deleteMessageDays: optionalInt(f.delete_message_days) ?? 0 }) },
  { name: "members/timeout", path: /^members\/([^/]+)\/timeout$/, back: "members", run: (deps, actor, id, f, m) => timeoutMember(deps, actor, id, m[1]!, { durationSeconds: optionalInt(f.duration_seconds) ?? NaN, reason: f.reason }).then(() => {}) },
  { name: "invites", path: /^invites$/, back: "invites", run: (deps, actor, id, f) => createInvite(deps, actor, id, { maxUses: optionalInt(f.max_uses), expiresInHours: optionalInt(f.expires_in_hours) }).then(() => {}) },
  { name: "invites/revoke", path: /^invites\/([^/]+)\/revoke$/, back: "invites", run: (deps, actor, id, _f, m) => revokeInvite(deps, actor, id, m[1]!) },
  { name: "bans/unban", path: /^bans\/([^/]+)\/unban$/, back: "bans", run: (deps, actor, id, _f, m) => unbanUser(deps, actor, id, m[1]!) },
  { name: "reports/close", path: /^reports\/([^/]+)\/(resolve|dismiss)$/, back: "reports", run: (deps, actor, id, f, m) => closeReport(deps, actor, id, m[1]!, m[2] === "resolve" ? "resolved" : "dismissed", f.note) },
  { name: "reports/escalate", path: /^reports\/([^/]+)\/escalate$/, back: "reports", run: (deps, actor, id, f, m) => escalateReport(deps, actor, id, m[1]!, f.note) },
];
