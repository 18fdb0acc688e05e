/**
 * Scheduled messages: limits, 404s, delivery on time through the send path (run-once job with an
 * injected clock), reply/thread kept, refused delivery recorded with its code.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestContext } from "../../helpers/app.ts";
import { deliverScheduledMessages, flushActivity, startMessageJobs } from "../../../src/features/messages/index.ts";
import { client, envelope, expectOk, messagingContext, populatedCommunity, registerTestDevice, send, sendBody, type Client, type Populated } from "../messages/helpers.ts";

let ctx: TestContext;
let p: Populated;
let channel: string;
let clock = Date.now();
const MINUTE = 60_000;

beforeAll(async () => {
  ctx = await messagingContext({ now: () => clock });
  p = await populatedCommunity(ctx);
  channel = p.generalChannelId;
});
afterAll(() => ctx.close(), 30_000);

function at(ms: number) {
  return new Date(clock + ms).toISOString();
}

async function schedule(c: Client, extra: Record<string, unknown> = {}, status = 201) {
  return (await expectOk(c.call("POST", `/api/channels/${channel}/scheduled`, { ...sendBody(), send_at: at(MINUTE), ...extra }), status)).scheduled;
}

async function newMember(): Promise<Client> {
  const c = await client(ctx);
  const invite = await expectOk(p.owner.call("POST", `/api/communities/${p.communityId}/invites`, {}), 201);
  await expectOk(c.call("POST", `/api/community-invites/${invite.code}/accept`));
  return c;
}

describe("scheduled messages", () => {
  test("concurrent retries of one schedule (same client_id) converge on one row: one 201, the rest 200, never a 500", async () => {
    const c = await newMember();
    await registerTestDevice(ctx, c.user.id);
    const body = { ...sendBody(), send_at: at(MINUTE) };
    const answers = await Promise.all(Array.from({ length: 8 }, () => c.call("POST", `/api/channels/${channel}/scheduled`, body)));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 201]);
    expect(new Set(answers.map((a) => a.body.scheduled.id)).size).toBe(1);
    // Cancelled again: the delivery tests below count what is due.
    expect((await c.call("DELETE", `/api/scheduled/${answers[0]!.body.scheduled.id}`)).status).toBe(204);
  });

  test("delivered on time through the send path, keeping reply, thread and mentions", async () => {
    const root = await send(p.admin, channel);
    const body = { ...sendBody({ reply_to_id: root.id, thread_root_id: root.id, mentions: [p.admin.user.id] }), send_at: at(5 * MINUTE) };
    const s = (await expectOk(p.member.call("POST", `/api/channels/${channel}/scheduled`, body), 201)).scheduled;
    expect(s).toMatchObject({ status: "pending", ciphertext: body.ciphertext, reply_to_id: root.id, thread_root_id: root.id });
    // Retried client id: the same schedule.
    expect((await expectOk(p.member.call("POST", `/api/channels/${channel}/scheduled`, body), 200)).scheduled.id).toBe(s.id);
    clock += 5 * MINUTE - 1000;
    expect(await deliverScheduledMessages(ctx.deps)).toEqual({ sent: 0, failed: 0 }); // not yet due
    clock += 1000;
    expect(await deliverScheduledMessages(ctx.deps)).toEqual({ sent: 1, failed: 0 });
    expect(await deliverScheduledMessages(ctx.deps)).toEqual({ sent: 0, failed: 0 }); // once only
    const [row] = (await expectOk(p.member.call("GET", "/api/scheduled"))).scheduled.filter((x: any) => x.id === s.id);
    expect(row.status).toBe("sent");
    const msg = await expectOk(p.admin.call("GET", `/api/channels/${channel}/messages/${row.message_id}`));
    expect(msg.message).toMatchObject({ sender_id: p.member.user.id, ciphertext: body.ciphertext, reply_to_id: root.id, thread_root_id: root.id, mentions: [p.admin.user.id] });
    expect(new Date(msg.message.created_at).getTime()).toBe(clock);
  });

  test("a refused delivery (timed out since) is recorded as failed with the code, not dropped", async () => {
    const victim = await newMember();
    const s = await schedule(victim);
    await expectOk(p.moderator.call("PUT", `/api/communities/${p.communityId}/timeouts/${victim.user.id}`, { duration_seconds: 3600 }));
    clock += MINUTE;
    expect(await deliverScheduledMessages(ctx.deps)).toEqual({ sent: 0, failed: 1 });
    const [row] = (await expectOk(victim.call("GET", "/api/scheduled"))).scheduled;
    expect(row).toMatchObject({ id: s.id, status: "failed", failure_code: "TIMED_OUT", message_id: null });
    // Lost access is recorded the same way (the send path answers 404).
    const leaver = await newMember();
    const gone = await schedule(leaver);
    expect((await leaver.call("POST", `/api/communities/${p.communityId}/leave`)).status).toBe(204);
    clock += MINUTE;
    expect(await deliverScheduledMessages(ctx.deps)).toEqual({ sent: 0, failed: 1 });
    expect((await expectOk(leaver.call("GET", "/api/scheduled"))).scheduled[0]).toMatchObject({ id: gone.id, status: "failed", failure_code: "NOT_FOUND" });
  });

  test("limits: send_at in the future and ≤ 30 days ahead, ≤ 50 pending per user, same ciphertext rules as a send", async () => {
    const c = await newMember();
    const past = await c.call("POST", `/api/channels/${channel}/scheduled`, { ...sendBody(), send_at: at(0) });
    expect([past.status, past.body.error.code]).toEqual([400, "SEND_AT_IN_PAST"]);
    const far = await c.call("POST", `/api/channels/${channel}/scheduled`, { ...sendBody(), send_at: at(30 * 24 * 60 * MINUTE + 1000) });
    expect([far.status, far.body.error.code]).toEqual([400, "SEND_AT_TOO_FAR"]);
    expect((await c.call("POST", `/api/channels/${channel}/scheduled`, { ...sendBody() })).body.error.code).toBe("INVALID_SEND_AT");
    expect((await c.call("POST", `/api/channels/${channel}/scheduled`, { ...sendBody(), send_at: "soon" })).body.error.code).toBe("INVALID_SEND_AT");
    expect((await c.call("POST", `/api/channels/${channel}/scheduled`, { ...sendBody({ ciphertext: "Hello team, see you at 9!" }), send_at: at(MINUTE) })).body.error.code).toBe("INVALID_CIPHERTEXT");
    expect((await c.call("POST", `/api/channels/${channel}/scheduled`, { ...sendBody({ ciphertext: envelope(65_537) }), send_at: at(MINUTE) })).status).toBe(413);
    expect((await c.call("POST", `/api/channels/${channel}/scheduled`, { ...sendBody({}, "pw"), send_at: at(MINUTE) })).body.error.code).toBe("INVALID_SCHEME");
    const elsewhere = await c.call("POST", `/api/channels/${channel}/scheduled`, { ...sendBody({ reply_to_id: crypto.randomUUID() }), send_at: at(MINUTE) });
    expect([elsewhere.status, elsewhere.body.error.code]).toEqual([400, "INVALID_REPLY_TO_ID"]);
    for (let i = 0; i < 50; i++) await schedule(c, { send_at: at(24 * 60 * MINUTE) });
    const over = await c.call("POST", `/api/channels/${channel}/scheduled`, { ...sendBody(), send_at: at(MINUTE) });
    expect([over.status, over.body.error.code]).toEqual([409, "TOO_MANY_SCHEDULED"]);
    const list = (await expectOk(c.call("GET", "/api/scheduled"))).scheduled;
    expect(list.length).toBe(50);
    expect((await c.call("DELETE", `/api/scheduled/${list[0].id}`)).status).toBe(204);
    await schedule(c, { send_at: at(24 * 60 * MINUTE) });
    for (const s of (await expectOk(c.call("GET", "/api/scheduled"))).scheduled) await c.call("DELETE", `/api/scheduled/${s.id}`);
  });

  test("the sender's device must be registered when scheduling (400 UNKNOWN_DEVICE) and still be at delivery (failed)", async () => {
    const c = await newMember();
    const r = await c.call("POST", `/api/channels/${channel}/scheduled`, { ...sendBody({ sender_device_id: "never-registered" }), send_at: at(MINUTE) });
    expect([r.status, r.body.error.code]).toEqual([400, "UNKNOWN_DEVICE"]);
    await registerTestDevice(ctx, c.user.id, "tablet");
    const s = await schedule(c, { sender_device_id: "tablet" });
    await expectOk(c.call("DELETE", "/api/keys/devices/tablet"), 204);
    clock += MINUTE;
    expect(await deliverScheduledMessages(ctx.deps)).toEqual({ sent: 0, failed: 1 });
    expect((await expectOk(c.call("GET", "/api/scheduled"))).scheduled[0]).toMatchObject({ id: s.id, status: "failed", failure_code: "UNKNOWN_DEVICE", message_id: null });
  });

  test("the send rules are checked when scheduling too (timed out: 403 TIMED_OUT)", async () => {
    const victim = await newMember();
    await expectOk(p.moderator.call("PUT", `/api/communities/${p.communityId}/timeouts/${victim.user.id}`, { duration_seconds: 600 }));
    const r = await victim.call("POST", `/api/channels/${channel}/scheduled`, { ...sendBody(), send_at: at(MINUTE) });
    expect([r.status, r.body.error.code]).toEqual([403, "TIMED_OUT"]);
  });

  test("outsider: 404 on scheduling in the channel and on someone else's schedule; cancel stops delivery", async () => {
    const r = await p.outsider.call("POST", `/api/channels/${channel}/scheduled`, { ...sendBody(), send_at: at(MINUTE) });
    expect(r.status).toBe(404);
    const s = await schedule(p.member);
    const del = await p.outsider.call("DELETE", `/api/scheduled/${s.id}`);
    expect([del.status, del.body.error.code]).toEqual([404, "SCHEDULED_NOT_FOUND"]);
    expect((await expectOk(p.outsider.call("GET", "/api/scheduled"))).scheduled).toEqual([]);
    expect((await p.admin.call("DELETE", `/api/scheduled/${s.id}`)).status).toBe(404);
    expect((await p.member.call("DELETE", "/api/scheduled/nope")).status).toBe(400); // malformed: refused before any lookup
    expect((await p.member.call("DELETE", `/api/scheduled/${s.id}`)).status).toBe(204);
    clock += MINUTE;
    expect(await deliverScheduledMessages(ctx.deps)).toEqual({ sent: 0, failed: 0 });
  });

  test("the interval job (main.ts) delivers due ones; stop waits for a run in progress", async () => {
    const s = await schedule(p.member);
    clock += MINUTE;
    const stop = startMessageJobs(ctx.deps, 30);
    try {
      // Bounded by time, widely: a loaded machine may take a while to get the job round.
      for (const deadline = Date.now() + 30_000; Date.now() < deadline; await Bun.sleep(20)) {
        const row = (await expectOk(p.member.call("GET", "/api/scheduled"))).scheduled.find((x: any) => x.id === s.id);
        if (row.status !== "pending") break;
      }
    } finally {
      await stop();
    }
    const row = (await expectOk(p.member.call("GET", "/api/scheduled"))).scheduled.find((x: any) => x.id === s.id);
    expect(row.status).toBe("sent");
    // Finish the delivered message's channel:activity flush now (not on its 20 ms timer): a flush
    // still in flight when the test context closes the pool hung db.destroy() on PostgreSQL.
    await flushActivity(ctx.deps);
  });

  test("no plaintext slot: every text column of the new tables is metadata, content is bytea", async () => {
    const cols = await ctx.database.db
      .selectFrom("information_schema.columns" as any)
      .select(["table_name", "column_name", "data_type"] as any)
      .where("table_name" as any, "in", ["message_bookmarks", "polls", "poll_votes", "scheduled_messages"])
      .where("data_type" as any, "in", ["text", "character varying", "json", "jsonb"])
      .execute();
    expect(cols.map((c: any) => `${c.table_name}.${c.column_name}`).sort()).toEqual(["scheduled_messages.failure_code", "scheduled_messages.mention_all", "scheduled_messages.scheme", "scheduled_messages.sender_device_id", "scheduled_messages.status"]);
  });
});
