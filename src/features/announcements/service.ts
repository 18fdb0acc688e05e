/**
 * Instance announcements (issue 15 §1, docs/admin.md "Announcements"): a banner admins with the
 * power `server_settings` create, edit and expire. Active = not expired. Each signed-in page shows
 * the active ones the user has not dismissed; a dismissal is a row per (announcement, user), so it
 * follows the user to every device.
 *
 * Live: after COMMIT, a change publishes ONE `announcement:changed {id}` frame to the instance
 * topic (every authenticated socket on every instance, through the hub's fan-out), and a dismissal
 * ONE `announcement:dismissed {id}` to the user's own topic (their other tabs and devices). The
 * frames carry no text: each tab re-fetches its banner (GET /announcements/banner), which the
 * server renders and escapes for that user.
 *
 * Edits: an edit of the text keeps the dismissals (those who closed it do not see it again) unless
 * the admin ticks "show again" (`show_again`), which deletes them in the same transaction.
 */
import { InvalidInputError, NotFoundError } from "../../errors.ts";
import { runInTransaction, type Executor } from "../../db/tx.ts";
import type { AppDeps } from "../../deps.ts";
import { insertAuditEntry, type Actor, type RequestMeta } from "../auth/index.ts";
import { isUuid } from "../../shared/ids.ts";
import { INSTANCE_TOPIC, userTopic } from "../../ws/topics.ts";

export const MAX_ANNOUNCEMENT_CHARS = 2000;
/** How many active announcements a page shows at most (newest first). */
export const MAX_SHOWN = 3;

export type Announcement = { id: string; body: string; createdBy: string | null; createdByName: string | null; createdAt: Date; updatedAt: Date; expiresAt: Date | null; active: boolean };

const nowOf = (deps: AppDeps) => new Date((deps.now ?? Date.now)());

function cleanBody(raw: string): string {
  const body = raw.replace(/\r\n?/g, "\n").trim();
  if (body.length === 0 || body.length > MAX_ANNOUNCEMENT_CHARS) throw new InvalidInputError(`The announcement needs 1 to ${MAX_ANNOUNCEMENT_CHARS} characters.`, { body: `1 to ${MAX_ANNOUNCEMENT_CHARS} characters.` }, "INVALID_ANNOUNCEMENT");
  return body;
}

function checkExpiry(expiresAt: Date | null, now: Date): Date | null {
  if (expiresAt === null) return null;
  if (Number.isNaN(expiresAt.getTime())) throw new InvalidInputError("The expiry is not a valid date and time.", { expires_at: "An ISO 8601 date and time." }, "INVALID_EXPIRY");
  if (expiresAt.getTime() <= now.getTime()) throw new InvalidInputError("The expiry must be in the future (use Expire now to end it).", { expires_at: "A time in the future." }, "INVALID_EXPIRY");
  return expiresAt;
}

/** Every announcement, newest first (active and expired), for the admin tab. */
export async function listAnnouncements(deps: AppDeps, limit = 100): Promise<Announcement[]> {
  const now = nowOf(deps);
  const rows = await deps.database.db
    .selectFrom("announcements as a")
    .leftJoin("users as u", "u.id", "a.created_by")
    .select(["a.id", "a.body", "a.created_by", "u.username", "a.created_at", "a.updated_at", "a.expires_at"])
    .orderBy("a.created_at", "desc")
    .orderBy("a.id", "desc")
    .limit(limit)
    .execute();
  return rows.map((r) => ({ id: r.id, body: r.body, createdBy: r.created_by, createdByName: r.username, createdAt: r.created_at, updatedAt: r.updated_at, expiresAt: r.expires_at, active: r.expires_at === null || r.expires_at.getTime() > now.getTime() }));
}

/** The active announcements this user has not dismissed, newest first (at most MAX_SHOWN). */
export async function activeAnnouncementsFor(db: Executor, userId: string, now: Date): Promise<{ id: string; body: string; updatedAt: Date }[]> {
  const rows = await db
    .selectFrom("announcements as a")
    .select(["a.id", "a.body", "a.updated_at"])
    .where((eb) => eb.or([eb("a.expires_at", "is", null), eb("a.expires_at", ">", now)]))
    .where((eb) => eb.not(eb.exists(eb.selectFrom("announcement_dismissals as d").select("d.user_id").whereRef("d.announcement_id", "=", "a.id").where("d.user_id", "=", userId))))
    .orderBy("a.created_at", "desc")
    .orderBy("a.id", "desc")
    .limit(MAX_SHOWN)
    .execute();
  return rows.map((r) => ({ id: r.id, body: r.body, updatedAt: r.updated_at }));
}

async function findOne(db: Executor, id: string, lock = false) {
  if (!isUuid(id)) return undefined;
  let q = db.selectFrom("announcements").selectAll().where("id", "=", id);
  if (lock) q = q.forUpdate();
  return q.executeTakeFirst();
}

export async function getAnnouncement(deps: AppDeps, id: string): Promise<Announcement> {
  const found = (await listAnnouncementsById(deps, id))[0];
  if (!found) throw new NotFoundError("No such announcement.", "ANNOUNCEMENT_NOT_FOUND");
  return found;
}

async function listAnnouncementsById(deps: AppDeps, id: string): Promise<Announcement[]> {
  if (!isUuid(id)) return [];
  const now = nowOf(deps);
  const rows = await deps.database.db
    .selectFrom("announcements as a")
    .leftJoin("users as u", "u.id", "a.created_by")
    .select(["a.id", "a.body", "a.created_by", "u.username", "a.created_at", "a.updated_at", "a.expires_at"])
    .where("a.id", "=", id)
    .execute();
  return rows.map((r) => ({ id: r.id, body: r.body, createdBy: r.created_by, createdByName: r.username, createdAt: r.created_at, updatedAt: r.updated_at, expiresAt: r.expires_at, active: r.expires_at === null || r.expires_at.getTime() > now.getTime() }));
}

const changed = (id: string) => ({ type: "announcement:changed", id });

export async function createAnnouncement(deps: AppDeps, actor: Actor, input: { body: string; expiresAt: Date | null }, meta: RequestMeta): Promise<Announcement> {
  const now = nowOf(deps);
  const body = cleanBody(input.body);
  const expiresAt = checkExpiry(input.expiresAt, now);
  const id = Bun.randomUUIDv7();
  await runInTransaction({ db: deps.database.db, events: deps.events }, async (tx, outbox) => {
    await tx.insertInto("announcements").values({ id, body, created_by: actor.userId, created_at: now, updated_at: now, expires_at: expiresAt }).execute();
    await insertAuditEntry(tx, { actorId: actor.userId, action: "announcement_created", targetType: "announcement", targetId: id, metadata: { chars: body.length, expires_at: expiresAt?.toISOString() ?? null }, at: now, meta });
    outbox.push(INSTANCE_TOPIC, changed(id));
  });
  return getAnnouncement(deps, id);
}

export type AnnouncementChange = { body?: string; expiresAt?: Date | null; showAgain?: boolean };

/**
 * Edits the text and/or the expiry. `showAgain` deletes the dismissals, so everyone sees it again;
 * without it those who dismissed it keep it closed. An expired announcement can be brought back
 * by giving it a future expiry (or none).
 */
export async function updateAnnouncement(deps: AppDeps, actor: Actor, id: string, change: AnnouncementChange, meta: RequestMeta): Promise<Announcement> {
  const now = nowOf(deps);
  const body = change.body === undefined ? undefined : cleanBody(change.body);
  const expiresAt = change.expiresAt === undefined ? undefined : checkExpiry(change.expiresAt, now);
  await runInTransaction({ db: deps.database.db, events: deps.events }, async (tx, outbox) => {
    const row = await findOne(tx, id, true);
    if (!row) throw new NotFoundError("No such announcement.", "ANNOUNCEMENT_NOT_FOUND");
    const textChanged = body !== undefined && body !== row.body;
    await tx
      .updateTable("announcements")
      .set({ ...(body !== undefined ? { body } : {}), ...(expiresAt !== undefined ? { expires_at: expiresAt } : {}), updated_at: now })
      .where("id", "=", id)
      .execute();
    let reshown = 0;
    if (change.showAgain) reshown = Number((await tx.deleteFrom("announcement_dismissals").where("announcement_id", "=", id).executeTakeFirst()).numDeletedRows);
    await insertAuditEntry(tx, {
      actorId: actor.userId,
      action: "announcement_updated",
      targetType: "announcement",
      targetId: id,
      metadata: { text_changed: textChanged, ...(expiresAt !== undefined ? { expires_at: expiresAt?.toISOString() ?? null } : {}), show_again: change.showAgain === true, dismissals_cleared: reshown },
      at: now,
      meta,
    });
    outbox.push(INSTANCE_TOPIC, changed(id));
  });
  return getAnnouncement(deps, id);
}

/** Ends it now (idempotent: an expired one stays expired at its time). */
export async function expireAnnouncement(deps: AppDeps, actor: Actor, id: string, meta: RequestMeta): Promise<Announcement> {
  const now = nowOf(deps);
  await runInTransaction({ db: deps.database.db, events: deps.events }, async (tx, outbox) => {
    const row = await findOne(tx, id, true);
    if (!row) throw new NotFoundError("No such announcement.", "ANNOUNCEMENT_NOT_FOUND");
    if (row.expires_at !== null && row.expires_at.getTime() <= now.getTime()) return;
    await tx.updateTable("announcements").set({ expires_at: now, updated_at: now }).where("id", "=", id).execute();
    await insertAuditEntry(tx, { actorId: actor.userId, action: "announcement_expired", targetType: "announcement", targetId: id, at: now, meta });
    outbox.push(INSTANCE_TOPIC, changed(id));
  });
  return getAnnouncement(deps, id);
}

/**
 * The user closes an announcement on every device: one row, then one `announcement:dismissed`
 * frame to their own topic. Dismissing twice is fine; an unknown or expired id is 404 (nothing
 * to dismiss). Not audited: it is the user's own display preference.
 */
export async function dismissAnnouncement(deps: AppDeps, actor: Actor, id: string): Promise<void> {
  const now = nowOf(deps);
  await runInTransaction({ db: deps.database.db, events: deps.events }, async (tx, outbox) => {
    const row = await findOne(tx, id);
    if (!row || (row.expires_at !== null && row.expires_at.getTime() <= now.getTime())) throw new NotFoundError("No such announcement.", "ANNOUNCEMENT_NOT_FOUND");
    const inserted = await tx.insertInto("announcement_dismissals").values({ announcement_id: id, user_id: actor.userId, dismissed_at: now }).onConflict((oc) => oc.doNothing()).returning("user_id").executeTakeFirst();
    if (inserted) outbox.push(userTopic(actor.userId), { type: "announcement:dismissed", id });
  });
}
