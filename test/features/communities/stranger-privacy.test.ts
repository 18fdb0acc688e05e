/**
 * Low findings of the security review (issue 10 item 8):
 * - reports accept only messages and users the reporter can see: anything else is 404, identical
 *   to an id that does not exist;
 * - DM creation and the block routes do not tell a stranger whether an account exists or blocked
 *   them: the same status, code and message as an unknown id, from the same number of queries.
 * Runs on PGlite, and on PostgreSQL when TEST_DATABASE_URL is set.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { KyselyPlugin } from "kysely";
import type { TestContext } from "../../helpers/app.ts";
import { makeContacts } from "../../helpers/contacts.ts";
import { client, expectOk, messagingContext, populatedCommunity, send, type Client, type Populated } from "../messages/helpers.ts";

let ctx: TestContext;
let p: Populated;

beforeAll(async () => {
  ctx = await messagingContext();
  p = await populatedCommunity(ctx);
}, 60_000);
afterAll(() => ctx.close(), 30_000);

type Answer = { status: number; body: any };
const shape = (r: Answer) => ({ status: r.status, body: r.body });
const unknownId = () => crypto.randomUUID();

/** The query count of each call, one after the other (countQueries swaps the shared handle). */
async function countEach(calls: (() => Promise<unknown>)[]): Promise<number[]> {
  const counts: number[] = [];
  for (const call of calls) counts.push(await countQueries(call));
  return counts;
}

/** Counts the statements the feature code sends while `fn` runs (deps.database.db is read per call). */
async function countQueries(fn: () => Promise<unknown>): Promise<number> {
  let n = 0;
  const counter: KyselyPlugin = {
    transformQuery: (args) => {
      n++;
      return args.node;
    },
    transformResult: async (args) => args.result,
  };
  const database = ctx.deps.database as { db: TestContext["database"]["db"] };
  const original = database.db;
  database.db = original.withPlugin(counter);
  try {
    await fn();
  } finally {
    database.db = original;
  }
  return n;
}

/** A user who shared the community with `other` long enough to be blocked, then left: a stranger now. */
async function formerMember(): Promise<Client> {
  const c = await client(ctx);
  const invite = await expectOk(p.owner.call("POST", `/api/communities/${p.communityId}/invites`, {}), 201);
  await expectOk(c.call("POST", `/api/community-invites/${invite.code}/accept`));
  return c;
}
async function leave(c: Client) {
  await expectOk(c.call("POST", `/api/communities/${p.communityId}/leave`), 204);
}
async function allowDmsFromAnyone(c: Client) {
  await ctx.database.db.updateTable("users").set({ allow_dms_from_anyone: true }).where("id", "=", c.user.id).execute();
}

describe("reports name only what the reporter can see", () => {
  test("a message: readable here → 201; unknown, in a private channel, in another community or in a DM → the same 404", async () => {
    const readable = await send(p.owner, p.generalChannelId);
    await expectOk(p.member.call("POST", "/api/reports", { community_id: p.communityId, target_type: "message", target_id: readable.id, reason: "abuse" }), 201);

    const privateChannel = await expectOk(p.owner.call("POST", `/api/groups/${p.groupId}/channels`, { name: "staff", is_private: true }), 201);
    const hidden = await send(p.owner, privateChannel.id);
    expect((await p.member.call("GET", `/api/channels/${privateChannel.id}/messages`)).status).toBe(404); // really unreadable

    // Another community both are in: readable to the member, but not this community's business.
    const other = await expectOk(p.owner.call("POST", "/api/communities", { name: "Elsewhere" }), 201);
    const invite = await expectOk(p.owner.call("POST", `/api/communities/${other.id}/invites`, {}), 201);
    await expectOk(p.member.call("POST", `/api/community-invites/${invite.code}/accept`));
    const otherGeneral = (await expectOk(p.owner.call("GET", `/api/communities/${other.id}/groups`))).groups[0].channels[0].id;
    const elsewhere = await send(p.owner, otherGeneral);

    // DMs: one between two others, one the reporter takes part in.
    const othersDm = (await expectOk(p.owner.call("POST", "/api/dms", { user_id: p.admin.user.id }))).channel_id;
    const inOthersDm = await send(p.owner, othersDm, {}, "pw");
    const ownDm = (await expectOk(p.member.call("POST", "/api/dms", { user_id: p.owner.user.id }))).channel_id;
    const inOwnDm = await send(p.owner, ownDm, {}, "pw");

    const report = (id: string) => p.member.call("POST", "/api/reports", { community_id: p.communityId, target_type: "message", target_id: id, reason: "abuse" });
    const baseline = shape(await report(unknownId()));
    expect(baseline).toEqual({ status: 404, body: { error: { code: "MESSAGE_NOT_FOUND", message: "No such message." } } });
    for (const [what, id] of [["private channel", hidden.id], ["other community", elsewhere.id], ["others' DM", inOthersDm.id], ["own DM", inOwnDm.id]]) {
      expect([what, shape(await report(id!))]).toEqual([what, baseline]);
    }
    const rows = await ctx.database.db.selectFrom("reports").select("target_id").where("reporter_id", "=", p.member.user.id).execute();
    expect(rows.map((r) => r.target_id)).toEqual([readable.id]);
  });

  test("a user: a community mate or DM contact → 201; unknown or a stranger → the same 404", async () => {
    const stranger = await client(ctx);
    const contact = await client(ctx);
    await makeContacts(ctx, p.member.user.id, contact.user.id); // a DM contact, not a community mate
    const report = (id: string) => p.member.call("POST", "/api/reports", { community_id: p.communityId, target_type: "user", target_id: id, reason: "rude" });
    await expectOk(report(p.admin.user.id), 201);
    await expectOk(report(contact.user.id), 201);
    const baseline = shape(await report(unknownId()));
    expect([baseline.status, baseline.body.error.code]).toEqual([404, "NOT_FOUND"]);
    expect(shape(await report(stranger.user.id))).toEqual(baseline);
    expect(await countQueries(() => report(stranger.user.id))).toBe(await countQueries(() => report(unknownId())));
  });
});

describe("a stranger learns nothing from the profile card's route", () => {
  test("GET /api/users/{id}/profile: a community mate or DM contact → 200; unknown id or a stranger → the same 404, one query path", async () => {
    const stranger = await client(ctx);
    const contact = await client(ctx);
    await makeContacts(ctx, p.member.user.id, contact.user.id);
    const profile = (id: string) => p.member.call("GET", `/api/users/${id}/profile`);
    expect((await expectOk(profile(p.admin.user.id))).id).toBe(p.admin.user.id);
    expect((await expectOk(profile(contact.user.id))).id).toBe(contact.user.id);
    expect((await expectOk(profile(p.member.user.id))).id).toBe(p.member.user.id);
    const baseline = shape(await profile(unknownId()));
    expect([baseline.status, baseline.body.error.code]).toEqual([404, "USER_NOT_FOUND"]);
    expect(shape(await profile(stranger.user.id))).toEqual(baseline);
    expect(await countQueries(() => profile(stranger.user.id))).toBe(await countQueries(() => profile(unknownId())));
  });
});

describe("a stranger learns nothing from DM creation and the block routes", () => {
  test("POST /api/dms: unknown id, a stranger, a stranger who blocked you (with or without DMs from anyone) → one answer, one query path", async () => {
    const asker = await formerMember();
    const plain = await client(ctx); // never shared anything with asker
    const blocker = await formerMember();
    const openBlocker = await formerMember();
    await allowDmsFromAnyone(openBlocker);
    for (const b of [blocker, openBlocker]) await expectOk(b.call("POST", "/api/users/blocks", { user_id: asker.user.id }), 204);
    const suspended = await client(ctx, { suspended: true });
    await allowDmsFromAnyone(suspended);
    for (const c of [asker, blocker, openBlocker]) await leave(c);

    const dm = (id: string) => asker.call("POST", "/api/dms", { user_id: id });
    const baseline = shape(await dm(unknownId()));
    expect(baseline).toEqual({ status: 404, body: { error: { code: "USER_NOT_REACHABLE", message: "You cannot message that user." } } });
    const targets: [string, string][] = [["stranger", plain.user.id], ["stranger who blocked them", blocker.user.id], ["open stranger who blocked them", openBlocker.user.id], ["suspended", suspended.user.id]];
    for (const [what, id] of targets) expect([what, shape(await dm(id))]).toEqual([what, baseline]);
    const groupDm = (id: string) => asker.call("POST", "/api/dms", { user_ids: [id, unknownId()] });
    expect(shape(await groupDm(openBlocker.user.id))).toEqual(shape(await groupDm(unknownId())));

    const counts = await countEach([unknownId(), ...targets.map(([, id]) => id)].map((id) => () => dm(id)));
    expect(new Set(counts).size).toBe(1);
    // Someone who does take DMs from anyone and did not block them: reachable, so the 404s above are not an accident.
    const open = await client(ctx);
    await allowDmsFromAnyone(open);
    await expectOk(dm(open.user.id));
  });

  test("block routes: blocking an unknown id, a stranger or a stranger who blocked you → the same 404; unblocking likewise", async () => {
    const asker = await formerMember();
    const plain = await client(ctx);
    const blocker = await formerMember();
    await expectOk(blocker.call("POST", "/api/users/blocks", { user_id: asker.user.id }), 204);
    await leave(asker);
    await leave(blocker);

    const block = (id: string) => asker.call("POST", "/api/users/blocks", { user_id: id });
    const baseline = shape(await block(unknownId()));
    expect([baseline.status, baseline.body.error.code]).toEqual([404, "NOT_FOUND"]);
    expect(shape(await block(plain.user.id))).toEqual(baseline);
    expect(shape(await block(blocker.user.id))).toEqual(baseline);
    const counts = await countEach([unknownId(), plain.user.id, blocker.user.id].map((id) => () => block(id)));
    expect(new Set(counts).size).toBe(1);

    const unblock = (id: string) => asker.call("DELETE", `/api/users/blocks/${id}`);
    const unblockBaseline = shape(await unblock(unknownId()));
    expect(unblockBaseline.status).toBe(404);
    expect(shape(await unblock(plain.user.id))).toEqual(unblockBaseline);
    expect(shape(await unblock(blocker.user.id))).toEqual(unblockBaseline);
    // The blocker still has them listed (nothing above touched it).
    expect((await expectOk(blocker.call("GET", "/api/users/blocks"))).blocks.map((b: any) => b.user_id)).toEqual([asker.user.id]);
  });

  test("acquaintances are still told: a community mate can block, and a block between mates reads 403 BLOCKED", async () => {
    const [a, b] = [await formerMember(), await formerMember()];
    await expectOk(a.call("POST", "/api/users/blocks", { user_id: b.user.id }), 204);
    const r = await b.call("POST", "/api/dms", { user_id: a.user.id });
    expect([r.status, r.body.error.code]).toEqual([403, "BLOCKED"]);
    // Their own block list stays theirs to manage after they part ways.
    await leave(a);
    await leave(b);
    await expectOk(a.call("POST", "/api/users/blocks", { user_id: b.user.id }), 204); // already blocked: idempotent
    await expectOk(a.call("DELETE", `/api/users/blocks/${b.user.id}`), 204);
  });
});
