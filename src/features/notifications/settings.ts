/**
 * Notification settings (issue 13 §4, docs/notifications.md) and the one decision every
 * notifier uses: shouldNotify(deps, userId, event).
 *
 *   level       all | mentions | none, per user (community channels; default mentions), per user
 *               for DMs (default all), per community and per channel (NULL = inherit)
 *   mute        per user, community or channel, until a moment (MUTE_FOREVER = until turned back on)
 *   dnd         per user: suppresses everything; the presence status "dnd" does the same
 *
 * The most specific level wins (channel, then community, then the user's default); any mute in
 * force, or do-not-disturb, silences the event whatever the level.
 */
import type { AppDeps } from "../../deps.ts";
import type { Executor } from "../../db/tx.ts";
import type { NotifyLevel } from "./levels.ts";
import { presenceOf } from "../presence/index.ts";
import { userTopic } from "../../ws/topics.ts";

export { NOTIFY_LEVELS, MUTE_FOREVER, MUTE_HOURS, MUTE_CHOICES, type MuteChoice, type NotifyLevel } from "./levels.ts";
import { MUTE_FOREVER, type MuteChoice } from "./levels.ts";

export type Preferences = { level: NotifyLevel; dmLevel: NotifyLevel; dnd: boolean; mutedUntil: Date | null };
export const DEFAULT_PREFERENCES: Preferences = Object.freeze({ level: "mentions", dmLevel: "all", dnd: false, mutedUntil: null });
export type Override = { level: NotifyLevel | null; mutedUntil: Date | null };

/** What may trigger a notification: a message, or a call ringing (calls.ts; a ring counts as a mention of the callee). */
export type NotifyEvent = Readonly<{ kind: "message" | "call"; channelId: string; communityId: string | null; dm: boolean; mentioned: boolean }>;

export function muteUntil(choice: MuteChoice, now: Date): Date | null {
  if (choice === "off") return null;
  if (choice === "forever") return MUTE_FOREVER;
  return new Date(now.getTime() + Number.parseInt(choice, 10) * 3_600_000);
}

const toDate = (d: Date | string | null): Date | null => (d === null ? null : d instanceof Date ? d : new Date(d));

export async function readPreferences(db: Executor, userId: string): Promise<Preferences> {
  const row = await db.selectFrom("notification_preferences").selectAll().where("user_id", "=", userId).executeTakeFirst();
  return row ? { level: row.level, dmLevel: row.dm_level, dnd: row.dnd, mutedUntil: toDate(row.muted_until) } : { ...DEFAULT_PREFERENCES };
}

export async function writePreferences(db: Executor, userId: string, change: Partial<Preferences>, now: Date): Promise<Preferences> {
  const next = { ...(await readPreferences(db, userId)), ...change };
  const values = { level: next.level, dm_level: next.dmLevel, dnd: next.dnd, muted_until: next.mutedUntil, updated_at: now };
  await db
    .insertInto("notification_preferences")
    .values({ user_id: userId, ...values })
    .onConflict((oc) => oc.column("user_id").doUpdateSet(values))
    .execute();
  return next;
}

/**
 * Tells the user's open tabs that their settings changed (any device, any scope): a tab showing
 * the settings page re-reads it. Their decisions need nothing: the server decides each time.
 */
export function announceSettingsChanged(deps: AppDeps, userId: string): void {
  deps.events.publish(userTopic(userId), { type: "notify:settings" });
}

type Scope = { communityId: string } | { channelId: string };
const scopeColumn = (scope: Scope) => ("communityId" in scope ? ({ column: "community_id", id: scope.communityId } as const) : ({ column: "channel_id", id: scope.channelId } as const));

export async function readOverride(db: Executor, userId: string, scope: Scope): Promise<Override> {
  const { column, id } = scopeColumn(scope);
  const row = await db.selectFrom("notification_overrides").select(["level", "muted_until"]).where("user_id", "=", userId).where(column, "=", id).executeTakeFirst();
  return row ? { level: row.level, mutedUntil: toDate(row.muted_until) } : { level: null, mutedUntil: null };
}

/** Upserts the override; an override back to "inherit, not muted" is deleted (no row = inherit). */
export async function writeOverride(db: Executor, userId: string, scope: Scope, change: Partial<Override>, now: Date): Promise<Override> {
  const next = { ...(await readOverride(db, userId, scope)), ...change };
  const { column, id } = scopeColumn(scope);
  if (next.level === null && next.mutedUntil === null) {
    await db.deleteFrom("notification_overrides").where("user_id", "=", userId).where(column, "=", id).execute();
    return next;
  }
  await db.transaction().execute(async (tx) => {
    const updated = await tx
      .updateTable("notification_overrides")
      .set({ level: next.level, muted_until: next.mutedUntil, updated_at: now })
      .where("user_id", "=", userId)
      .where(column, "=", id)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) > 0) return;
    await tx
      .insertInto("notification_overrides")
      .values({ id: Bun.randomUUIDv7(), user_id: userId, community_id: column === "community_id" ? id : null, channel_id: column === "channel_id" ? id : null, level: next.level, muted_until: next.mutedUntil, updated_at: now })
      .onConflict((oc) => oc.doNothing())
      .execute();
  });
  return next;
}

const active = (until: Date | null, now: Date) => until !== null && until.getTime() > now.getTime();

/** The pure decision, given everything that applies to one user and one event. */
export function decide(prefs: Preferences, community: Override | undefined, channel: Override | undefined, event: NotifyEvent, now: Date, presenceDnd = false): boolean {
  if (prefs.dnd || presenceDnd) return false;
  if (active(prefs.mutedUntil, now) || active(community?.mutedUntil ?? null, now) || active(channel?.mutedUntil ?? null, now)) return false;
  const level = channel?.level ?? community?.level ?? (event.dm ? prefs.dmLevel : prefs.level);
  return level === "all" || (level === "mentions" && event.mentioned);
}

/**
 * Of these users, those an event should notify. One query per kind of setting for the whole set
 * (a channel message considers every subscribed member at once), plus the presence statuses.
 * `mentioned` in the event is ignored here: `mentions` lists who was mentioned.
 */
export async function usersToNotify(deps: AppDeps, userIds: readonly string[], event: Omit<NotifyEvent, "mentioned">, mentions: readonly string[], now: Date): Promise<string[]> {
  if (userIds.length === 0) return [];
  const db = deps.database.db;
  const ids = [...userIds];
  const [prefRows, overrideRows, statuses] = await Promise.all([
    db.selectFrom("notification_preferences").selectAll().where("user_id", "in", ids).execute(),
    db
      .selectFrom("notification_overrides")
      .select(["user_id", "community_id", "channel_id", "level", "muted_until"])
      .where("user_id", "in", ids)
      .where((eb) => eb.or([eb("channel_id", "=", event.channelId), ...(event.communityId ? [eb("community_id", "=", event.communityId)] : [])]))
      .execute(),
    presenceOf(deps)?.store.statuses(ids) ?? Promise.resolve(new Map<string, string>()),
  ]);
  const prefs = new Map(prefRows.map((r) => [r.user_id, { level: r.level, dmLevel: r.dm_level, dnd: r.dnd, mutedUntil: toDate(r.muted_until) } satisfies Preferences]));
  const channelOverrides = new Map<string, Override>();
  const communityOverrides = new Map<string, Override>();
  for (const r of overrideRows) (r.channel_id ? channelOverrides : communityOverrides).set(r.user_id, { level: r.level, mutedUntil: toDate(r.muted_until) });
  const mentioned = new Set(mentions);
  return ids.filter((id) =>
    decide(prefs.get(id) ?? DEFAULT_PREFERENCES, communityOverrides.get(id), channelOverrides.get(id), { ...event, mentioned: mentioned.has(id) }, now, statuses.get(id) === "dnd"),
  );
}

/** Whether this event should notify this user (push now; desktop notifications use the same rule). */
export async function shouldNotify(deps: AppDeps, userId: string, event: NotifyEvent, now = new Date(deps.now?.() ?? Date.now())): Promise<boolean> {
  const users = await usersToNotify(deps, [userId], event, event.mentioned ? [userId] : [], now);
  return users.length === 1;
}
