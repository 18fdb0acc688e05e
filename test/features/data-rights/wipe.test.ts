/**
 * The admin wipe of a user (issue 15 §3, docs/admin.md "Data rights"): after it, a SCHEMA WALK
 * finds no row of the user. The walk is generated from the database itself, so a table added
 * later is walked too:
 *   1. every foreign key referencing users (pg_constraint): no row holds the user's id;
 *   2. every uuid and uuid[] column of every table (information_schema): none holds the id;
 *   3. every row of every table read as text (all columns, jsonb and text included): none holds
 *      the id, the username, the email or the display name.
 * The one documented exception is the hash-chained audit log (its past rows stay as written);
 * there the wipe's own entry carries no username and the chain still verifies. The user's files
 * are gone from the blob store.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { sql } from "kysely";
import type { TestContext } from "../../helpers/app.ts";
import { createUser, signIn, type TestUser } from "../../helpers/users.ts";
import { client, expectOk, messagingContext, send, registerTestDevice, type Client } from "../messages/helpers.ts";
import { newBlobId } from "../../../src/blobs/index.ts";
import { sealAuditLog, verifyAuditLog } from "../../../src/features/audit/chain.ts";
import { reauthedSession } from "./helpers.ts";

let ctx: TestContext;
let victim: Client;
let friend: Client;
let bystander: Client;
let admin: TestUser;
let blobId = "";
let communityId = "";
const tag = Math.random().toString(36).slice(2, 8);

beforeAll(async () => {
  ctx = await messagingContext();
  victim = await client(ctx, { username: `wipevictim_${tag}`, displayName: `Wipe Victim ${tag}`, email: `wipe-${tag}@example.test` });
  friend = await client(ctx);
  bystander = await client(ctx);
  admin = await createUser(ctx, { isAdmin: true, adminPowers: ["privacy"] });
  // A community the victim owns (the friend inherits it), with messages both ways.
  const community = await expectOk(victim.call("POST", "/api/communities", { name: `Victim's place ${tag}` }), 201);
  communityId = community.id;
  const invite = await expectOk(victim.call("POST", `/api/communities/${community.id}/invites`, {}), 201);
  for (const c of [friend, bystander]) await expectOk(c.call("POST", `/api/community-invites/${invite.code}/accept`));
  const groups = await expectOk(victim.call("GET", `/api/communities/${community.id}/groups`));
  const channelId = groups.groups[0].channels[0].id as string;
  const mine = await send(victim, channelId, { mentions: [friend.user.id] });
  const theirs = await send(friend, channelId, { mentions: [victim.user.id], reply_to_id: mine.id });
  await send(bystander, channelId);
  await expectOk(friend.call("PUT", `/api/messages/${mine.id}/reactions/${encodeURIComponent("👍")}`));
  await expectOk(victim.call("PUT", `/api/messages/${theirs.id}/reactions/${encodeURIComponent("🎉")}`));
  // A DM, a block each way, a bookmark, a poll, reports by and about them, a file with its blob.
  const dm = await expectOk(victim.call("POST", "/api/dms", { user_id: friend.user.id }));
  await send(victim, dm.channel_id, {}, "pw");
  await send(friend, dm.channel_id, { mentions: [victim.user.id] }, "pw");
  const db = ctx.database.db;
  await db.insertInto("user_blocks").values([{ blocker_id: victim.user.id, blocked_id: bystander.user.id }, { blocker_id: bystander.user.id, blocked_id: victim.user.id }]).execute();
  await db.insertInto("message_bookmarks").values({ id: Bun.randomUUIDv7(), user_id: victim.user.id, message_id: theirs.id, note_ciphertext: new Uint8Array([1, 2, 3]) }).execute();
  await db.insertInto("message_bookmarks").values({ id: Bun.randomUUIDv7(), user_id: friend.user.id, message_id: mine.id }).execute();
  await db.insertInto("polls").values({ id: Bun.randomUUIDv7(), channel_id: channelId, creator_id: victim.user.id, client_id: crypto.randomUUID(), question_ciphertext: new Uint8Array([7]), option_count: 2, multi_select: false, anonymous: false }).execute();
  await db.insertInto("reports").values([
    { id: Bun.randomUUIDv7(), community_id: community.id, reporter_id: friend.user.id, target_type: "message", target_id: mine.id, reason: "about their message", attached_text: `said by ${victim.user.username}` },
    { id: Bun.randomUUIDv7(), community_id: community.id, reporter_id: friend.user.id, target_type: "user", target_id: victim.user.id, reason: "about them" },
    { id: Bun.randomUUIDv7(), community_id: community.id, reporter_id: victim.user.id, target_type: "message", target_id: theirs.id, reason: "by them" },
  ]).execute();
  await db.insertInto("community_audit_log").values({ id: Bun.randomUUIDv7(), community_id: community.id, actor_id: friend.user.id, action: "member_warned", target_user_id: victim.user.id, reason: "warned", metadata: JSON.stringify({ username: victim.user.username }) }).execute();
  const blob = newBlobId();
  blobId = blob;
  await ctx.deps.blobs!.writePart(blob, 0, new Uint8Array(4096).fill(5));
  await db.insertInto("files").values({ id: Bun.randomUUIDv7(), blob_id: blob, uploader_id: victim.user.id, channel_id: channelId, size: 4096, chunk_size: 4096, part_size: 4096, part_count: 1, created_at: new Date(), expires_at: new Date(Date.now() + 86_400_000), completed_at: new Date(), message_id: mine.id }).execute();
  await db.insertInto("key_backups").values({ user_id: victim.user.id, version: 1, salt: new Uint8Array(32), nonce: new Uint8Array(24), ciphertext: new Uint8Array([1]), updated_at: new Date() }).execute();
  await registerTestDevice(ctx, victim.user.id, "second-device");
  // A failed sign-in: lockout counters keyed by the username, an audit entry.
  await ctx.request("/api/auth/login", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: victim.user.username, password: "not the password at all" }) });
  await signIn(ctx, victim.user);
}, 180_000);
afterAll(async () => {
  await ctx.close();
});

type Hit = { table: string; column?: string; count: number };

async function foreignKeysToUsers(): Promise<{ table: string; column: string }[]> {
  const r = await sql<{ tbl: string; col: string }>`
    SELECT c.conrelid::regclass::text AS tbl, a.attname AS col
    FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
    WHERE c.contype = 'f' AND c.confrelid = 'users'::regclass ORDER BY 1, 2`.execute(ctx.database.db);
  return r.rows.map((x) => ({ table: x.tbl, column: x.col }));
}

async function uuidColumns(): Promise<{ table: string; column: string; array: boolean }[]> {
  const r = await sql<{ table_name: string; column_name: string; udt_name: string }>`
    SELECT c.table_name, c.column_name, c.udt_name FROM information_schema.columns c
    JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
    WHERE c.table_schema = 'public' AND c.udt_name IN ('uuid', '_uuid') ORDER BY 1, 2`.execute(ctx.database.db);
  return r.rows.map((x) => ({ table: x.table_name, column: x.column_name, array: x.udt_name === "_uuid" }));
}

async function tables(): Promise<string[]> {
  const r = await sql<{ table_name: string }>`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1`.execute(ctx.database.db);
  return r.rows.map((x) => x.table_name);
}

const ident = (name: string) => sql.id(name);

async function walk(user: TestUser): Promise<{ fk: Hit[]; uuid: Hit[]; rows: Hit[]; walked: { fks: number; uuids: number; tables: number } }> {
  const db = ctx.database.db;
  const fks = await foreignKeysToUsers();
  const fk: Hit[] = [];
  for (const { table, column } of fks) {
    const r = await sql<{ n: string }>`SELECT count(*) AS n FROM ${ident(table)} WHERE ${ident(column)} = ${user.id}::uuid`.execute(db);
    if (Number(r.rows[0]!.n) > 0) fk.push({ table, column, count: Number(r.rows[0]!.n) });
  }
  const cols = await uuidColumns();
  const uuid: Hit[] = [];
  for (const { table, column, array } of cols) {
    const r = array
      ? await sql<{ n: string }>`SELECT count(*) AS n FROM ${ident(table)} WHERE ${user.id}::uuid = ANY (${ident(column)})`.execute(db)
      : await sql<{ n: string }>`SELECT count(*) AS n FROM ${ident(table)} WHERE ${ident(column)} = ${user.id}::uuid`.execute(db);
    if (Number(r.rows[0]!.n) > 0) uuid.push({ table, column, count: Number(r.rows[0]!.n) });
  }
  const all = await tables();
  const rows: Hit[] = [];
  const needles = [user.id, user.username.toLowerCase(), user.email.toLowerCase(), user.displayName.toLowerCase()];
  for (const table of all) {
    const r = await sql<{ n: string }>`SELECT count(*) AS n FROM ${ident(table)} AS x WHERE ${sql.join(needles.map((n) => sql`strpos(lower(x::text), ${n}) > 0`), sql` OR `)}`.execute(db);
    if (Number(r.rows[0]!.n) > 0) rows.push({ table, count: Number(r.rows[0]!.n) });
  }
  return { fk, uuid, rows, walked: { fks: fks.length, uuids: cols.length, tables: all.length } };
}

test("before the wipe the walk finds the user everywhere (the walk can see what it looks for)", async () => {
  const before = await walk(victim.user);
  expect(before.walked.fks).toBeGreaterThanOrEqual(40);
  expect(before.walked.tables).toBeGreaterThanOrEqual(45);
  const tablesHit = new Set([...before.fk, ...before.uuid, ...before.rows].map((h) => h.table));
  for (const t of ["users", "sessions", "messages", "message_reactions", "message_bookmarks", "user_blocks", "dm_pairs", "channel_members", "community_members", "communities", "polls", "reports", "community_audit_log", "files", "key_devices", "key_backups", "login_attempts", "audit_log"]) expect({ t, hit: tablesHit.has(t) }).toEqual({ t, hit: true });
  expect(await ctx.deps.blobs!.statBlob(blobId as never)).toBeDefined();
}, 120_000);

test("wipe (fresh re-auth, the heir for the owned community, the username typed) → the schema walk finds no row of the user; files gone; audited without the name; the chain verifies", async () => {
  const headers = { ...(await reauthedSession(ctx, admin)), "content-type": "application/json" };
  // The victim's past audit entries are sealed before the wipe: the wipe must not rewrite them.
  expect((await sealAuditLog(ctx.database.db, ctx.deps.secrets.auditKey)).sealed).toBeGreaterThan(0);
  const url = `/api/admin/users/${victim.user.id}/wipe`;
  let res = await ctx.request(url, { method: "POST", headers, body: JSON.stringify({ confirm_username: "someone else" }) });
  expect([res.status, (await res.json()).error.code]).toEqual([400, "CONFIRMATION_MISMATCH"]);
  res = await ctx.request(url, { method: "POST", headers, body: JSON.stringify({ confirm_username: victim.user.username }) });
  expect([res.status, (await res.json()).error.code]).toEqual([409, "OWNED_COMMUNITIES_NEED_HEIR"]);
  res = await ctx.request(url, { method: "POST", headers, body: JSON.stringify({ confirm_username: victim.user.username, heirs: [{ community_id: communityId, heir_id: friend.user.id }] }) });
  const body = await res.json();
  expect(res.status).toBe(200);
  expect(body.counts).toMatchObject({ messages: 2, polls: 1, reports: 3, files: 1, communities_transferred: 1 });

  const after = await walk(victim.user);
  expect(after.fk).toEqual([]);
  // The audit log is the documented exception: its past rows stay as written (hash chain).
  expect(after.uuid.filter((h) => h.table !== "audit_log")).toEqual([]);
  expect(after.rows.filter((h) => h.table !== "audit_log")).toEqual([]);
  expect(await ctx.deps.blobs!.statBlob(blobId as never)).toBeUndefined();
  // Others' data stays: the friend owns the community, their messages remain (without the mention).
  const db = ctx.database.db;
  expect((await db.selectFrom("communities").select("owner_id").where("id", "=", communityId).executeTakeFirstOrThrow()).owner_id).toBe(friend.user.id);
  expect(Number((await db.selectFrom("messages").select(sql<string>`count(*)`.as("n")).where("sender_id", "=", friend.user.id).executeTakeFirstOrThrow()).n)).toBe(2);
  const entry = await db.selectFrom("audit_log").selectAll().where("action", "=", "user_wiped").executeTakeFirstOrThrow();
  expect([entry.actor_id, entry.target_id]).toEqual([admin.id, victim.user.id]);
  expect(JSON.stringify(entry.metadata)).not.toContain(victim.user.username);
  await sealAuditLog(db, ctx.deps.secrets.auditKey);
  const verification = await verifyAuditLog(db, ctx.deps.secrets.auditKey);
  expect(verification.broken).toBeNull();
  expect(verification.ok).toBe(true);
}, 180_000);
