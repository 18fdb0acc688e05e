/**
 * Hierarchy changes in one community run one after the other (applyChange locks the community
 * row first), so the facts a decision is made on cannot change before its write. The race the
 * lock closes: an owner gives a low role to a moderator while a role manager ranked below the
 * moderator edits that role. Without the lock the manager's transaction decides on "nobody above
 * me holds it" and then strips the moderator's role anyway (READ COMMITTED; its UPDATE does not
 * conflict with the assignment's foreign-key lock). Needs PostgreSQL: PGlite has one connection,
 * so nothing runs concurrently there.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { sql } from "kysely";
import type { TestContext } from "../../helpers/app.ts";
import { TEST_DATABASE_URL } from "../../helpers/db.ts";
import { client, communityTestContext, expectOk, populatedCommunity, type Client, type Populated } from "../communities/helpers.ts";
import { applyChange } from "../../../src/features/permissions/index.ts";

if (!TEST_DATABASE_URL) console.log("test/features/permissions/race.test.ts: skipped: needs TEST_DATABASE_URL (two concurrent transactions)");

let ctx: TestContext;
let c: Populated;
let manager: Client;
let roleId: string;

beforeAll(async () => {
  if (!TEST_DATABASE_URL) return;
  ctx = await communityTestContext();
  c = await populatedCommunity(ctx);
  manager = await client(ctx);
  const invite = await expectOk(c.owner.call("POST", `/api/communities/${c.communityId}/invites`, {}), 201);
  await expectOk(manager.call("POST", `/api/community-invites/${invite.code}/accept`));
  const mgr = await expectOk(c.owner.call("POST", `/api/communities/${c.communityId}/roles`, { name: "Manager", permissions: ["manage_roles", "pin"], position: 500 }), 201);
  await expectOk(c.owner.call("PUT", `/api/communities/${c.communityId}/members/${manager.user.id}/roles`, { role_ids: [mgr.id] }), 204);
  roleId = (await expectOk(c.owner.call("POST", `/api/communities/${c.communityId}/roles`, { name: "Pinner", permissions: ["pin"], position: 10 }), 201)).id;
});
afterAll(() => ctx?.close());

test.skipIf(!TEST_DATABASE_URL)("an edit racing an assignment to a higher-ranked member waits for it, then is refused", async () => {
  const db = ctx.database.db;
  let assigned!: () => void;
  let release!: () => void;
  const assignedSignal = new Promise<void>((r) => (assigned = r));
  const gate = new Promise<void>((r) => (release = r));
  // The owner's assignment, held open after its write.
  const owner = db.transaction().execute(async (tx) => {
    await applyChange(tx, { userId: c.owner.user.id, isOwner: false }, "set_custom_roles", { communityId: c.communityId, userId: c.moderator.user.id, roleIds: [roleId] }, new Date());
    assigned();
    await gate;
  });
  await assignedSignal;
  let settled = false;
  const attack = manager.call("PATCH", `/api/communities/${c.communityId}/roles/${roleId}`, { permissions: [] }).finally(() => (settled = true));
  // Bounded wait for the attack to queue behind the owner's lock (or, without the lock, to finish).
  let waiting = false;
  for (let i = 0; i < 3000 && !settled && !waiting; i++) {
    const row = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`.execute(db);
    waiting = row.rows[0]!.n > 0;
    if (!waiting) await Bun.sleep(10);
  }
  release();
  await owner;
  const r = await attack;
  expect([waiting, r.status, r.body?.error?.code]).toEqual([true, 403, "ROLE_HIERARCHY"]);
  const role = await db.selectFrom("community_roles").select("permissions").where("id", "=", roleId).executeTakeFirstOrThrow();
  expect(role.permissions).toEqual(["pin"]);
});
