/**
 * What a user's data export holds (issue 15 §3, docs/admin.md "Data rights"), as zip parts: one
 * JSON file per kind, and the messages as JSON lines read a page at a time (bounded memory).
 * Messages are ciphertext only (base64url, as the API serves them) with what a client needs to
 * decrypt them: channel id and kind, sender device, scheme, client id, times.
 *
 * `scope`:
 *  - "self": the user's own export; other people appear only where the user's own data names
 *    them (whom they blocked), and an audit entry about them written by someone else shows the
 *    action, never who.
 *  - "admin": nothing of any other user: no other user's id or name anywhere (blocks are counted,
 *    audit entries are only those the user made, without target or metadata).
 *
 * Reads other features' tables directly and read-only: an export is a cross-cutting view of one
 * person's rows; every write goes through the owning features.
 */
import { sql } from "kysely";
import type { Executor } from "../../db/tx.ts";
import type { ZipPart } from "./zip-stream.ts";

export type ExportScope = "self" | "admin";
export const MESSAGE_PAGE = 500;

const iso = (d: Date | string | null | undefined) => (d === null || d === undefined ? null : new Date(d).toISOString());
const b64url = (bytes: Uint8Array | null) => (bytes ? Buffer.from(bytes).toString("base64url") : null);
const json = (value: unknown) => [`${JSON.stringify(value, null, 2)}\n`];

export type ExportUser = { id: string; username: string };

export async function* exportParts(db: Executor, user: ExportUser, scope: ExportScope, now: Date): AsyncGenerator<ZipPart> {
  const userId = user.id;
  const u = await db
    .selectFrom("users")
    .select(["id", "username", "email", "display_name", "custom_status", "bio", "pronouns", "is_owner", "is_admin", "admin_powers", "suspended_at", "suspended_reason", "totp_enabled", "allow_dms_from_anyone", "oidc_issuer", "created_at", "updated_at"])
    .where("id", "=", userId)
    .executeTakeFirstOrThrow();
  yield {
    name: "README.txt",
    chunks: [
      `Hearth data export of @${u.username} (${u.id}), made ${now.toISOString()}${scope === "admin" ? " by an instance administrator" : ""}.\n\n` +
        "account.json       the account (no password hash, no secrets)\n" +
        "sessions.json      sign-in sessions\n" +
        "memberships.json   communities and private channels / direct messages\n" +
        "blocks.json        people blocked\n" +
        "bookmarks.json     bookmarks (their notes are encrypted)\n" +
        "audit.json         security log entries by or about the account\n" +
        "key-backup.json    the encrypted key backup (opened only with the recovery key)\n" +
        "messages.jsonl     every message sent, one JSON object a line, CIPHERTEXT ONLY:\n" +
        "                   the server never had the text. Settings > Your data > Decrypt my export\n" +
        "                   turns this archive into a readable one in the browser, with this\n" +
        "                   device's keys, without sending anything.\n",
    ],
  };
  yield {
    name: "account.json",
    chunks: json({
      format: "hearth-export v1",
      scope,
      exported_at: now.toISOString(),
      user: {
        id: u.id,
        username: u.username,
        email: u.email,
        display_name: u.display_name,
        custom_status: u.custom_status,
        bio: u.bio,
        pronouns: u.pronouns,
        is_owner: u.is_owner,
        is_admin: u.is_admin,
        admin_powers: u.admin_powers,
        suspended_at: iso(u.suspended_at),
        suspended_reason: u.suspended_reason,
        two_factor_enabled: u.totp_enabled,
        allow_dms_from_anyone: u.allow_dms_from_anyone,
        sso_issuer: u.oidc_issuer,
        created_at: iso(u.created_at),
        updated_at: iso(u.updated_at),
      },
    }),
  };
  const sessions = await db.selectFrom("sessions").select(["id", "device_name", "ip", "created_at", "last_used_at", "expires_at", "revoked_at", "revoked_reason"]).where("user_id", "=", userId).orderBy("created_at").execute();
  yield { name: "sessions.json", chunks: json(sessions.map((s) => ({ id: s.id, device_name: s.device_name, ip: s.ip, created_at: iso(s.created_at), last_used_at: iso(s.last_used_at), expires_at: iso(s.expires_at), revoked_at: iso(s.revoked_at), revoked_reason: s.revoked_reason }))) };
  const communities = await db
    .selectFrom("community_members as m")
    .innerJoin("communities as c", "c.id", "m.community_id")
    .select(["c.id", "c.name", "m.role", "m.nickname", "m.joined_at"])
    .where("m.user_id", "=", userId)
    .orderBy("m.joined_at")
    .execute();
  const channels = await db
    .selectFrom("channel_members as m")
    .innerJoin("channels as ch", "ch.id", "m.channel_id")
    .select(["ch.id", "ch.kind", "ch.community_id", "ch.name", "m.added_at"])
    .where("m.user_id", "=", userId)
    .orderBy("m.added_at")
    .execute();
  yield {
    name: "memberships.json",
    chunks: json({
      communities: communities.map((c) => ({ id: c.id, name: c.name, role: c.role, nickname: c.nickname, joined_at: iso(c.joined_at) })),
      // Private channels, DMs and group DMs (a DM has no name: the other person is not named here).
      channels: channels.map((c) => ({ id: c.id, kind: c.kind, community_id: c.community_id, name: c.kind === "dm" || c.kind === "group_dm" ? null : c.name, added_at: iso(c.added_at) })),
    }),
  };
  const blocks = await db.selectFrom("user_blocks as b").leftJoin("users as o", "o.id", "b.blocked_id").select(["b.blocked_id", "o.username", "b.created_at"]).where("b.blocker_id", "=", userId).orderBy("b.created_at").execute();
  yield {
    name: "blocks.json",
    chunks: json(scope === "self" ? blocks.map((b) => ({ user_id: b.blocked_id, username: b.username, created_at: iso(b.created_at) })) : { count: blocks.length, note: "Whom the user blocked names other people and is left out of an admin export." }),
  };
  const bookmarks = await db
    .selectFrom("message_bookmarks as b")
    .innerJoin("messages as msg", "msg.id", "b.message_id")
    .select(["b.id", "b.message_id", "msg.channel_id", "b.note_ciphertext", "b.created_at"])
    .where("b.user_id", "=", userId)
    .orderBy("b.created_at")
    .execute();
  yield { name: "bookmarks.json", chunks: json(bookmarks.map((b) => ({ id: b.id, message_id: b.message_id, channel_id: b.channel_id, note_ciphertext: b.note_ciphertext ? b64url(b.note_ciphertext) : null, created_at: iso(b.created_at) }))) };
  yield { name: "audit.json", chunks: auditChunks(db, userId, scope) };
  const backup = await db.selectFrom("key_backups").selectAll().where("user_id", "=", userId).executeTakeFirst();
  yield {
    name: "key-backup.json",
    chunks: json(backup ? { version: Number(backup.version), salt: b64url(backup.salt), nonce: b64url(backup.nonce), ciphertext: b64url(backup.ciphertext), updated_at: iso(backup.updated_at) } : null),
  };
  yield { name: "messages.jsonl", chunks: messageLines(db, userId) };
}

/** Audit entries by the user, and (self) about them; streamed a page at a time. */
async function* auditChunks(db: Executor, userId: string, scope: ExportScope): AsyncGenerator<string> {
  yield "[\n";
  let first = true;
  let before: { at: Date; id: string } | null = null;
  for (;;) {
    let q = db.selectFrom("audit_log").select(["id", "actor_id", "action", "target_type", "target_id", "ip", "user_agent", "metadata", "created_at"]);
    q = scope === "admin" ? q.where("actor_id", "=", userId) : q.where((eb) => eb.or([eb("actor_id", "=", userId), eb("target_id", "=", userId)]));
    if (before) {
      const b = before;
      q = q.where((eb) => eb.or([eb("created_at", "<", b.at), eb.and([eb("created_at", "=", b.at), eb("id", "<", b.id)])]));
    }
    const rows = await q.orderBy("created_at", "desc").orderBy("id", "desc").limit(MESSAGE_PAGE).execute();
    for (const r of rows) {
      const byUser = r.actor_id === userId;
      const entry =
        scope === "admin"
          ? { id: r.id, action: r.action, ip: r.ip, user_agent: r.user_agent, created_at: iso(r.created_at) }
          : { id: r.id, action: r.action, by: byUser ? "you" : "someone else (an administrator or the system)", target_type: r.target_type, target_id: byUser ? r.target_id : userId, ip: byUser ? r.ip : null, user_agent: byUser ? r.user_agent : null, metadata: byUser ? r.metadata : {}, created_at: iso(r.created_at) };
      yield `${first ? "" : ",\n"}${JSON.stringify(entry)}`;
      first = false;
    }
    if (rows.length < MESSAGE_PAGE) break;
    const last = rows[rows.length - 1]!;
    before = { at: last.created_at, id: last.id };
  }
  yield "\n]\n";
}

/**
 * The user's messages (not deleted), oldest first, a page at a time by id (UUIDv7: time order).
 * Each page is bounded (memory); its cost is an index scan of the user's messages (sender index)
 * or of the ids after the bound, whichever the planner picks: scripts/bench/data-export.ts.
 */
async function* messageLines(db: Executor, userId: string): AsyncGenerator<string> {
  let after: string | null = null;
  for (;;) {
    let q = db
      .selectFrom("messages as m")
      .innerJoin("channels as c", "c.id", "m.channel_id")
      .select(["m.id", "m.channel_id", "c.kind", "c.community_id", "m.seq", "m.scheme", "m.sender_device_id", "m.client_id", "m.ciphertext", "m.reply_to_id", "m.thread_root_id", "m.created_at", "m.edited_at", "m.expires_at"])
      .where("m.sender_id", "=", userId)
      .where("m.ciphertext", "is not", null);
    if (after) q = q.where("m.id", ">", after);
    const rows = await q.orderBy("m.id").limit(MESSAGE_PAGE).execute();
    if (rows.length === 0) return;
    yield rows
      .map((m) =>
        JSON.stringify({
          id: m.id,
          channel_id: m.channel_id,
          channel_kind: m.kind,
          community_id: m.community_id,
          seq: Number(m.seq),
          scheme: m.scheme,
          sender_id: userId,
          sender_device_id: m.sender_device_id,
          client_id: m.client_id,
          ciphertext: b64url(m.ciphertext),
          reply_to_id: m.reply_to_id,
          thread_root_id: m.thread_root_id,
          created_at: iso(m.created_at),
          edited_at: iso(m.edited_at),
          expires_at: iso(m.expires_at),
        }),
      )
      .join("\n") + "\n";
    if (rows.length < MESSAGE_PAGE) return;
    after = rows[rows.length - 1]!.id;
  }
}

/** Counts for the audit entry of an export (no content). */
export async function countMessages(db: Executor, userId: string): Promise<number> {
  const row = await db.selectFrom("messages").select(sql<string>`count(*)`.as("n")).where("sender_id", "=", userId).where("ciphertext", "is not", null).executeTakeFirst();
  return Number(row?.n ?? 0);
}
