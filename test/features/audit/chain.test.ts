/**
 * The tamper-evident audit log (issue 15 §2, docs/admin.md "Audit log"), on PGlite and
 * PostgreSQL: sealing chains committed rows once (also when two sealers race); editing,
 * deleting or reordering one row in the database is reported at that row; pruning leaves a
 * signed checkpoint and verification keeps passing, a forged checkpoint is caught; a copied
 * anchor detects a rewrite; the API's filters, CSV/JSON exports (formula-safe CSV) and verify;
 * hostile values escaped on the page. Every audit route is in test/features/admin/power-matrix.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "kysely";
import { insertAuditEntry } from "../../../src/features/auth/index.ts";
import { anchorAuditLog, anchorText, checkAnchor, parseAnchor, pruneAuditLog, sealAuditLog, verifyAuditLog } from "../../../src/features/audit/index.ts";
import type { TestContext } from "../../helpers/app.ts";
import { cookieSignIn, createUser } from "../../helpers/users.ts";
import { client, communityTestContext, type Client } from "../communities/helpers.ts";

let ctx: TestContext;
let auditor: Client;
const key = () => ctx.deps.secrets.auditKey;
const db = () => ctx.database.db;

beforeAll(async () => {
  ctx = await communityTestContext();
  auditor = await client(ctx, { isAdmin: true, adminPowers: ["audit"] });
}, 120_000);
afterAll(async () => {
  await ctx.close();
});

const call = async (headers: Record<string, string>, method: string, path: string, body?: unknown) => {
  const res = await ctx.request(path, { method, headers: { ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let parsed: any = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {}
  return { status: res.status, body: parsed, text, headers: res.headers };
};

async function addEntries(n: number, extra: { actorId?: string | null; action?: "login_failed" | "user_suspended"; at?: Date; targetId?: string; metadata?: Record<string, unknown>; userAgent?: string } = {}): Promise<void> {
  for (let i = 0; i < n; i++) {
    await insertAuditEntry(db(), {
      actorId: extra.actorId ?? null,
      action: extra.action ?? "login_failed",
      targetType: "user",
      targetId: extra.targetId ?? crypto.randomUUID(),
      metadata: extra.metadata ?? { i, nested: { b: 2, a: [1, "x"] } },
      at: extra.at ?? new Date(),
      meta: { ip: "198.51.100.7", userAgent: extra.userAgent ?? "test agent" },
    });
  }
}

/** The chain place of an entry. */
async function posOf(id: string): Promise<number> {
  const row = await db().selectFrom("audit_log").select("chain_pos").where("id", "=", id).executeTakeFirstOrThrow();
  return Number(row.chain_pos);
}

describe("the chain", () => {
  test("sealing chains every committed row once, in one line; verification recomputes every link", async () => {
    await addEntries(5);
    const first = await sealAuditLog(db(), key());
    expect(first.sealed).toBeGreaterThanOrEqual(5);
    expect((await sealAuditLog(db(), key())).sealed).toBe(0);
    const unsealed = await db().selectFrom("audit_log").select("id").where("chain_pos", "is", null).execute();
    expect(unsealed).toEqual([]);
    const v = await verifyAuditLog(db(), key());
    expect(v.ok).toBe(true);
    expect(v.broken).toBeNull();
    expect(v.head).toEqual(first.head);
    expect(v.checked).toBe(first.head.pos);
  });

  test("two sealers racing: every row sealed exactly once and the chain verifies", async () => {
    await addEntries(30);
    const [a, b] = await Promise.all([sealAuditLog(db(), key()), sealAuditLog(db(), key())]);
    expect(a.sealed + b.sealed).toBe(30);
    const positions = await db().selectFrom("audit_log").select("chain_pos").where("chain_pos", "is not", null).execute();
    expect(new Set(positions.map((p) => p.chain_pos)).size).toBe(positions.length);
    expect((await verifyAuditLog(db(), key())).ok).toBe(true);
  });

  test("editing one row's content in the database is reported at that row; restoring it heals the chain", async () => {
    await addEntries(4);
    await sealAuditLog(db(), key());
    const victim = await db().selectFrom("audit_log").select(["id", "action", "metadata", "ip"]).where("chain_pos", "is not", null).orderBy("chain_pos", "desc").offset(2).limit(1).executeTakeFirstOrThrow();
    const pos = await posOf(victim.id);
    for (const edit of [
      sql`update audit_log set action = 'login' where id = ${victim.id}`,
      sql`update audit_log set ip = '203.0.113.1' where id = ${victim.id}`,
      sql`update audit_log set metadata = ${JSON.stringify({ ...victim.metadata, i: 999 })}::jsonb where id = ${victim.id}`,
      sql`update audit_log set created_at = created_at - interval '1 second' where id = ${victim.id}`,
    ]) {
      const before = await db().selectFrom("audit_log").selectAll().where("id", "=", victim.id).executeTakeFirstOrThrow();
      await edit.execute(db());
      const v = await verifyAuditLog(db(), key());
      expect([v.ok, v.broken]).toEqual([false, { pos, id: victim.id, reason: "changed" }]);
      await db().updateTable("audit_log").set({ action: before.action, ip: before.ip, metadata: JSON.stringify(before.metadata), created_at: before.created_at }).where("id", "=", victim.id).execute();
      expect((await verifyAuditLog(db(), key())).ok).toBe(true);
    }
  });

  test("a re-hashed row (edited with the hash recomputed without the key) is still caught", async () => {
    const row = await db().selectFrom("audit_log").select(["id", "prev_hash"]).where("chain_pos", "is not", null).orderBy("chain_pos", "desc").limit(1).executeTakeFirstOrThrow();
    const original = await db().selectFrom("audit_log").select("hash").where("id", "=", row.id).executeTakeFirstOrThrow();
    await sql`update audit_log set action = 'login', hash = sha256(prev_hash || convert_to('forged', 'UTF8')) where id = ${row.id}`.execute(db());
    const v = await verifyAuditLog(db(), key());
    expect(v.broken).toEqual({ pos: await posOf(row.id), id: row.id, reason: "changed" });
    await sql`update audit_log set action = 'login_failed', hash = ${original.hash} where id = ${row.id}`.execute(db());
    expect((await verifyAuditLog(db(), key())).ok).toBe(true);
  });

  test("deleting a row in the middle is reported at its place; deleting the last one is reported too", async () => {
    await addEntries(3);
    await sealAuditLog(db(), key());
    const rows = await db().selectFrom("audit_log").selectAll().where("chain_pos", "is not", null).orderBy("chain_pos", "desc").limit(3).execute();
    const middle = rows[1]!;
    await db().deleteFrom("audit_log").where("id", "=", middle.id).execute();
    expect((await verifyAuditLog(db(), key())).broken).toEqual({ pos: Number(middle.chain_pos), id: null, reason: "missing" });
    await sql`insert into audit_log select * from json_populate_record(null::audit_log, ${JSON.stringify({ ...middle, prev_hash: null, hash: null })}::json)`.execute(db());
    await sql`update audit_log set prev_hash = ${middle.prev_hash}, hash = ${middle.hash} where id = ${middle.id}`.execute(db());
    expect((await verifyAuditLog(db(), key())).ok).toBe(true);

    const last = rows[0]!;
    await db().deleteFrom("audit_log").where("id", "=", last.id).execute();
    expect((await verifyAuditLog(db(), key())).broken).toEqual({ pos: Number(last.chain_pos), id: null, reason: "missing" });
    await sql`insert into audit_log select * from json_populate_record(null::audit_log, ${JSON.stringify({ ...last, prev_hash: null, hash: null })}::json)`.execute(db());
    await sql`update audit_log set prev_hash = ${last.prev_hash}, hash = ${last.hash} where id = ${last.id}`.execute(db());
    expect((await verifyAuditLog(db(), key())).ok).toBe(true);
  });

  test("two rows swapped (their contents exchanged) are reported at the first of them", async () => {
    await addEntries(2);
    await sealAuditLog(db(), key());
    const [b, a] = await db().selectFrom("audit_log").selectAll().where("chain_pos", "is not", null).orderBy("chain_pos", "desc").limit(2).execute();
    await sql`update audit_log set target_id = ${b!.target_id} where id = ${a!.id}`.execute(db());
    await sql`update audit_log set target_id = ${a!.target_id} where id = ${b!.id}`.execute(db());
    const v = await verifyAuditLog(db(), key());
    expect(v.broken).toEqual({ pos: Number(a!.chain_pos), id: a!.id, reason: "changed" });
    await sql`update audit_log set target_id = ${a!.target_id} where id = ${a!.id}`.execute(db());
    await sql`update audit_log set target_id = ${b!.target_id} where id = ${b!.id}`.execute(db());
    expect((await verifyAuditLog(db(), key())).ok).toBe(true);
  });

  test("an anchor copied earlier matches later; after a rewrite at its place it does not", async () => {
    const { head } = await sealAuditLog(db(), key());
    const anchor = anchorText(head);
    expect(parseAnchor(anchor)).toEqual(head);
    expect(parseAnchor("hearth-audit-anchor v1 12 nothex")).toBeNull();
    await addEntries(2);
    await sealAuditLog(db(), key());
    expect(await checkAnchor(db(), head)).toBe("ok");
    expect(await checkAnchor(db(), { pos: head.pos + 1000, hash: head.hash })).toBe("ahead");
    expect(await checkAnchor(db(), { pos: head.pos, hash: "0".repeat(64) })).toBe("mismatch");
    // The anchor job logs the head once; a second run without new rows logs nothing.
    const logged = await anchorAuditLog(ctx.deps);
    expect(logged).toMatch(/^hearth-audit-anchor v1 \d+ [0-9a-f]{64}$/);
    const chain = await db().selectFrom("audit_chain").select(["anchored_pos", "head_pos"]).executeTakeFirstOrThrow();
    expect(Number(chain.anchored_pos)).toBe(Number(chain.head_pos));
    expect(logged).toBe(anchorText({ pos: Number(chain.head_pos), hash: (await sealAuditLog(db(), key())).head.hash }));
    expect(await anchorAuditLog(ctx.deps)).toBeNull();
  });

  test("retention prunes the chain's old beginning behind a signed checkpoint; verification passes; a forged checkpoint is caught", async () => {
    const old = new Date(Date.now() - 400 * 86_400_000);
    // Old rows are the chain's beginning only if sealed first: seal what exists, then add more.
    await sealAuditLog(db(), key());
    const before = await db().selectFrom("audit_log").select(sql<number>`count(*)::int`.as("n")).executeTakeFirstOrThrow();
    await sql`update audit_log set created_at = ${old} where chain_pos is not null`.execute(db());
    // Their hashes no longer match (created_at is hashed): re-seal them as a fresh chain for this test.
    await sql`update audit_log set chain_pos = null, prev_hash = null, hash = null`.execute(db());
    await sql`update audit_chain set head_pos = 0, head_hash = decode(repeat('00', 32), 'hex'), anchored_pos = 0`.execute(db());
    await sealAuditLog(db(), key());
    await addEntries(3);
    await sealAuditLog(db(), key());
    expect((await verifyAuditLog(db(), key())).ok).toBe(true);
    const checkpoint = await pruneAuditLog(db(), key(), new Date(Date.now() - 365 * 86_400_000), new Date());
    expect(checkpoint?.prunedRows).toBe(before.n);
    const left = await db().selectFrom("audit_log").select(sql<number>`count(*)::int`.as("n")).executeTakeFirstOrThrow();
    expect(left.n).toBe(3);
    const v = await verifyAuditLog(db(), key());
    expect([v.ok, v.checked, v.checkpoint?.pos]).toEqual([true, 3, checkpoint!.pos]);
    expect(await pruneAuditLog(db(), key(), new Date(Date.now() - 365 * 86_400_000), new Date())).toBeNull();
    // An anchor from before the prune: its place is now the checkpoint's or gone.
    expect(await checkAnchor(db(), { pos: checkpoint!.pos, hash: checkpoint!.hash })).toBe("ok");
    expect(await checkAnchor(db(), { pos: 1, hash: checkpoint!.hash })).toBe("pruned");

    await sql`update audit_checkpoints set pruned_rows = pruned_rows + 1`.execute(db());
    expect((await verifyAuditLog(db(), key())).broken).toEqual({ pos: checkpoint!.pos, id: null, reason: "checkpoint" });
    await sql`update audit_checkpoints set pruned_rows = pruned_rows - 1`.execute(db());
    expect((await verifyAuditLog(db(), key())).ok).toBe(true);
  });
});

describe("the API and the page", () => {
  test("filters by actor (username or id), action, target and time; bad dates answer 400 naming the field", async () => {
    const actor = await createUser(ctx, { username: `filt${crypto.randomUUID().slice(0, 6)}` });
    const target = crypto.randomUUID();
    await addEntries(2, { actorId: actor.id, action: "user_suspended", targetId: target, at: new Date("2026-03-10T12:00:00Z") });
    await addEntries(1, { actorId: actor.id, action: "user_suspended", at: new Date("2026-03-12T12:00:00Z") });
    const q = async (query: string) => (await call(auditor.headers, "GET", `/api/admin/audit-log?${query}`)).body.entries as { action: string; target_id: string }[];
    expect(await q(`actor=${actor.username.toUpperCase()}`)).toHaveLength(3);
    expect(await q(`actor=${actor.id}`)).toHaveLength(3);
    expect(await q(`actor=${actor.id}&target=${target}`)).toHaveLength(2);
    expect(await q(`actor=${actor.id}&since=2026-03-11`)).toHaveLength(1);
    expect(await q(`actor=${actor.id}&until=2026-03-10`)).toHaveLength(2);
    expect(await q(`actor=${actor.id}&since=2026-03-10&until=2026-03-12`)).toHaveLength(3);
    expect(await q(`actor=${actor.id}&action=login`)).toHaveLength(0);
    for (const bad of ["since=yesterday", "until=2026-13-45", "since=2026-03-12&until=2026-03-10"]) {
      const r = await call(auditor.headers, "GET", `/api/admin/audit-log?${bad}`);
      expect([bad, r.status]).toEqual([bad, 400]);
      expect(r.body.error.code).toBeString();
    }
  });

  test("exports stream CSV (formula-safe) and JSON with the filters; the export is audited", async () => {
    const actor = await createUser(ctx, { username: `exp${crypto.randomUUID().slice(0, 6)}` });
    await addEntries(3, { actorId: actor.id, userAgent: '=HYPERLINK("http://evil.test","x")' });
    const csv = await call(auditor.headers, "GET", `/api/admin/audit-log/export?format=csv&actor=${actor.id}`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toContain("text/csv");
    expect(csv.headers.get("content-disposition")).toMatch(/^attachment; filename="hearth-audit-[0-9-]+\.csv"$/);
    const lines = csv.text.trim().split("\r\n");
    expect(lines[0]).toBe("id,created_at,action,actor_id,actor_username,target_type,target_id,ip,user_agent,metadata");
    expect(lines).toHaveLength(4);
    for (const line of lines.slice(1)) {
      expect(line).toContain(`"'=HYPERLINK(""http://evil.test"",""x"")"`);
      expect(line).not.toMatch(/(^|,)"=/);
    }
    const json = await call(auditor.headers, "GET", `/api/admin/audit-log/export?format=json&actor=${actor.id}`);
    expect(json.status).toBe(200);
    expect(json.body.entries).toHaveLength(3);
    expect(json.body.truncated).toBe(false);
    const bad = await call(auditor.headers, "GET", "/api/admin/audit-log/export?format=xml");
    expect(bad.status).toBe(400);
    const audited = await db().selectFrom("audit_log").select(["metadata"]).where("action", "=", "audit_log_exported").where("actor_id", "=", auditor.user.id).execute();
    expect(audited.map((a) => (a.metadata as { format: string }).format).sort()).toEqual(["csv", "json"]);
  });

  test("verify answers the chain's state and checks an anchor; a broken row is named; the page shows both", async () => {
    const ok = await call(auditor.headers, "POST", "/api/admin/audit-log/verify", {});
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ ok: true, chain_ok: true, broken: null });
    const anchor = anchorText(ok.body.head);
    const withAnchor = await call(auditor.headers, "POST", "/api/admin/audit-log/verify", { anchor });
    expect(withAnchor.body).toMatchObject({ ok: true, anchor: "ok" });
    const garbage = await call(auditor.headers, "POST", "/api/admin/audit-log/verify", { anchor: "<script>alert(1)</script>" });
    expect(garbage.body).toMatchObject({ ok: false, chain_ok: true, anchor: "invalid" });
    const tooLong = await call(auditor.headers, "POST", "/api/admin/audit-log/verify", { anchor: "x".repeat(121) });
    expect(tooLong.status).toBe(400);

    const row = await db().selectFrom("audit_log").select(["id", "chain_pos", "action"]).where("chain_pos", "is not", null).orderBy("chain_pos").offset(1).limit(1).executeTakeFirstOrThrow();
    await sql`update audit_log set action = 'logout' where id = ${row.id}`.execute(db());
    const broken = await call(auditor.headers, "POST", "/api/admin/audit-log/verify", {});
    expect(broken.body).toMatchObject({ ok: false, broken: { pos: Number(row.chain_pos), id: row.id, reason: "changed" } });
    const cookie = (await cookieSignIn(ctx, auditor.user)).headers;
    const pageRes = await ctx.request("/admin/audit-log/verify", { method: "POST", headers: { ...cookie, "content-type": "application/x-www-form-urlencoded" }, body: "anchor=" });
    expect(pageRes.status).toBe(409);
    const html = await pageRes.text();
    expect(html).toContain(`data-broken-pos="${row.chain_pos}"`);
    expect(html).toContain("the entry was edited");
    await sql`update audit_log set action = ${row.action} where id = ${row.id}`.execute(db());
    expect((await call(auditor.headers, "POST", "/api/admin/audit-log/verify", {})).body.ok).toBe(true);
  });

  test("hostile values are escaped on the page; the anchor is shown with a copy button", async () => {
    const hostile = `<img src=x onerror=alert(1)>`;
    await addEntries(1, { metadata: { note: hostile }, userAgent: hostile });
    const cookie = (await cookieSignIn(ctx, auditor.user)).headers;
    const res = await ctx.request(`/admin/audit-log?action=${encodeURIComponent("login_failed")}&actor=${encodeURIComponent(hostile.slice(0, 60))}`, { headers: cookie });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).not.toContain("<img src=x");
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;");
    const all = await (await ctx.request("/admin/audit-log", { headers: cookie })).text();
    expect(all).not.toContain("<img src=x");
    expect(all).toMatch(/<code id="audit-anchor">hearth-audit-anchor v1 \d+ [0-9a-f]{64}<\/code>/);
    expect(all).toContain('data-copy-target="audit-anchor"');
  });
});
