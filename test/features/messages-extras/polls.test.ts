/** Polls: E2EE question (opaque blob), tallies by index, single/multi/anonymous, closing, 404s, events. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestContext } from "../../helpers/app.ts";
import { client, envelope, expectOk, messagingContext, populatedCommunity, socketFor, subscribe, withSockets, type Client, type Populated } from "../messages/helpers.ts";

let ctx: TestContext;
let p: Populated;
let channel: string;
let clock = Date.now();
let ws: string;

beforeAll(async () => {
  ctx = await messagingContext({ now: () => clock });
  p = await populatedCommunity(ctx);
  channel = p.generalChannelId;
  ws = (await withSockets(ctx)).ws;
});
afterAll(() => ctx.close(), 30_000);

function pollBody(extra: Record<string, unknown> = {}) {
  return { client_id: crypto.randomUUID(), question_ciphertext: envelope(120), option_count: 3, multi_select: false, anonymous: false, ...extra };
}

async function newPoll(c: Client, extra: Record<string, unknown> = {}) {
  return (await expectOk(c.call("POST", `/api/channels/${channel}/polls`, pollBody(extra)), 201)).poll;
}

const counts = (poll: any) => poll.tallies.map((t: any) => t.count);

describe("polls", () => {
  test("create stores the opaque question and the option count; a retried client_id returns the same poll", async () => {
    const body = pollBody();
    const created = await expectOk(p.member.call("POST", `/api/channels/${channel}/polls`, body), 201);
    expect(created.poll).toMatchObject({ channel_id: channel, creator_id: p.member.user.id, question_ciphertext: body.question_ciphertext, option_count: 3, closed: false, my_votes: [] });
    expect(counts(created.poll)).toEqual([0, 0, 0]);
    const again = await expectOk(p.member.call("POST", `/api/channels/${channel}/polls`, body), 200);
    expect(again.poll.id).toBe(created.poll.id);
  });

  test("concurrent retries of one create (same client_id) converge on one poll: one 201, the rest 200, never a 500", async () => {
    const body = pollBody();
    const answers = await Promise.all(Array.from({ length: 8 }, () => p.member.call("POST", `/api/channels/${channel}/polls`, body)));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 201]);
    expect(new Set(answers.map((a) => a.body.poll.id)).size).toBe(1);
  });

  test("single-select: a new vote replaces the previous one; voters listed when not anonymous", async () => {
    const poll = await newPoll(p.member);
    await expectOk(p.member.call("POST", `/api/polls/${poll.id}/votes`, { option_indexes: [0] }));
    await expectOk(p.admin.call("POST", `/api/polls/${poll.id}/votes`, { option_indexes: [0] }));
    const changed = await expectOk(p.member.call("POST", `/api/polls/${poll.id}/votes`, { option_indexes: [2] }));
    expect(counts(changed.poll)).toEqual([1, 0, 1]);
    expect(changed.poll.my_votes).toEqual([2]);
    expect(changed.poll.tallies[0].voter_ids).toEqual([p.admin.user.id]);
    expect(changed.poll.tallies[2].voter_ids).toEqual([p.member.user.id]);
    expect(changed.poll.total_voters).toBe(2);
    const two = await p.member.call("POST", `/api/polls/${poll.id}/votes`, { option_indexes: [0, 1] });
    expect([two.status, two.body.error.code]).toEqual([400, "INVALID_OPTION_INDEXES"]);
    const retracted = await expectOk(p.member.call("DELETE", `/api/polls/${poll.id}/votes`));
    expect([counts(retracted.poll), retracted.poll.my_votes]).toEqual([[1, 0, 0], []]);
  });

  test("multi-select sets the choices; anonymous polls never expose voter ids", async () => {
    const poll = await newPoll(p.member, { multi_select: true, anonymous: true, option_count: 4 });
    await expectOk(p.member.call("POST", `/api/polls/${poll.id}/votes`, { option_indexes: [0, 1, 3] }));
    await expectOk(p.admin.call("POST", `/api/polls/${poll.id}/votes`, { option_indexes: [1] }));
    const set = await expectOk(p.member.call("POST", `/api/polls/${poll.id}/votes`, { option_indexes: [1, 2, 2] }));
    expect(counts(set.poll)).toEqual([0, 2, 1, 0]);
    expect(set.poll.my_votes).toEqual([1, 2]);
    const read = await expectOk(p.moderator.call("GET", `/api/polls/${poll.id}`));
    expect(counts(read.poll)).toEqual([0, 2, 1, 0]);
    for (const t of read.poll.tallies) expect(t.voter_ids).toBeUndefined();
    expect(JSON.stringify(read)).not.toContain(p.admin.user.id); // a voter (the member is the creator)
    const outOfRange = await p.member.call("POST", `/api/polls/${poll.id}/votes`, { option_indexes: [4] });
    expect([outOfRange.status, outOfRange.body.error.code]).toEqual([400, "INVALID_OPTION_INDEXES"]);
    const empty = await p.member.call("POST", `/api/polls/${poll.id}/votes`, { option_indexes: [] });
    expect(empty.body.error.code).toBe("INVALID_OPTION_INDEXES");
  });

  test("close: creator or manage_messages only; closed and expired polls refuse votes with 409 POLL_CLOSED", async () => {
    const poll = await newPoll(p.member);
    await expectOk(p.admin.call("POST", `/api/polls/${poll.id}/close`)); // admin: manage_messages
    const other = await newPoll(p.member);
    const stranger = await client(ctx);
    const invite = await expectOk(p.owner.call("POST", `/api/communities/${p.communityId}/invites`, {}), 201);
    await expectOk(stranger.call("POST", `/api/community-invites/${invite.code}/accept`));
    const notCreator = await stranger.call("POST", `/api/polls/${other.id}/close`);
    expect([notCreator.status, notCreator.body.error.code]).toEqual([403, "PERMISSION_DENIED"]);
    const closed = await expectOk(p.member.call("POST", `/api/polls/${other.id}/close`));
    expect(closed.poll.closed).toBe(true);
    const late = await stranger.call("POST", `/api/polls/${other.id}/votes`, { option_indexes: [1] });
    expect([late.status, late.body.error.code]).toEqual([409, "POLL_CLOSED"]);
    expect((await p.member.call("DELETE", `/api/polls/${other.id}/votes`)).body.error.code).toBe("POLL_CLOSED");
    expect((await expectOk(p.member.call("GET", `/api/polls/${poll.id}`))).poll.closed).toBe(true);

    const expiring = await newPoll(p.member, { expires_at: new Date(clock + 60_000).toISOString() });
    await expectOk(p.admin.call("POST", `/api/polls/${expiring.id}/votes`, { option_indexes: [1] }));
    clock += 61_000;
    const expired = await p.member.call("POST", `/api/polls/${expiring.id}/votes`, { option_indexes: [1] });
    expect([expired.status, expired.body.error.code]).toEqual([409, "POLL_CLOSED"]);
    const read = await expectOk(p.member.call("GET", `/api/polls/${expiring.id}`));
    expect([read.poll.closed, counts(read.poll)]).toEqual([true, [0, 1, 0]]);
  });

  test("outsider: 404 on create, read, vote, retract and close; unknown ids 404 too, malformed ones 400", async () => {
    const poll = await newPoll(p.member);
    const create = await p.outsider.call("POST", `/api/channels/${channel}/polls`, pollBody());
    expect(create.status).toBe(404);
    for (const [method, path, body] of [
      ["GET", `/api/polls/${poll.id}`],
      ["POST", `/api/polls/${poll.id}/votes`, { option_indexes: [0] }],
      ["DELETE", `/api/polls/${poll.id}/votes`],
      ["POST", `/api/polls/${poll.id}/close`],
      ["GET", `/api/polls/${crypto.randomUUID()}`],
    ] as const) {
      const r = await p.outsider.call(method, path, body);
      expect([path, r.status, r.body.error.code]).toEqual([path, 404, "POLL_NOT_FOUND"]);
    }
    const malformed = await p.outsider.call("GET", "/api/polls/nope");
    expect([malformed.status, malformed.body.error.code]).toEqual([400, "VALIDATION_ERROR"]);
    expect(counts((await expectOk(p.member.call("GET", `/api/polls/${poll.id}`))).poll)).toEqual([0, 0, 0]);
  });

  test("limits: 2–10 options, booleans required, expires_at in the future; plaintext questions are refused", async () => {
    for (const option_count of [1, 11, 2.5, "3"]) {
      const r = await p.member.call("POST", `/api/channels/${channel}/polls`, pollBody({ option_count }));
      expect([r.status, r.body.error.code]).toEqual([400, "INVALID_OPTION_COUNT"]);
    }
    expect((await p.member.call("POST", `/api/channels/${channel}/polls`, pollBody({ option_count: 10 }))).status).toBe(201);
    expect((await p.member.call("POST", `/api/channels/${channel}/polls`, pollBody({ anonymous: "yes" }))).body.error.code).toBe("INVALID_ANONYMOUS");
    expect((await p.member.call("POST", `/api/channels/${channel}/polls`, pollBody({ expires_at: new Date(clock - 1).toISOString() }))).body.error.code).toBe("INVALID_EXPIRES_AT");
    const plain = await p.member.call("POST", `/api/channels/${channel}/polls`, pollBody({ question_ciphertext: "Where shall we eat?" }));
    expect([plain.status, plain.body.error.code]).toEqual([400, "INVALID_CIPHERTEXT"]);
    expect((await p.member.call("POST", `/api/channels/${channel}/polls`, pollBody({ question_ciphertext: envelope(65_537) }))).status).toBe(413);
  });

  test("creating follows the send rules (timed out: 403 TIMED_OUT); voting needs only view_channel", async () => {
    const victim = await client(ctx);
    const invite = await expectOk(p.owner.call("POST", `/api/communities/${p.communityId}/invites`, {}), 201);
    await expectOk(victim.call("POST", `/api/community-invites/${invite.code}/accept`));
    const poll = await newPoll(p.member);
    await expectOk(p.moderator.call("PUT", `/api/communities/${p.communityId}/timeouts/${victim.user.id}`, { duration_seconds: 600 }));
    const r = await victim.call("POST", `/api/channels/${channel}/polls`, pollBody());
    expect([r.status, r.body.error.code]).toEqual([403, "TIMED_OUT"]);
    await expectOk(victim.call("POST", `/api/polls/${poll.id}/votes`, { option_indexes: [0] }));
  });

  test("list a channel's polls, newest first, paged; outsider 404", async () => {
    const a = await newPoll(p.member);
    const b = await newPoll(p.member);
    const page = await expectOk(p.admin.call("GET", `/api/channels/${channel}/polls?limit=1`));
    expect([page.polls.map((x: any) => x.id), page.has_more]).toEqual([[b.id], true]);
    const next = await expectOk(p.admin.call("GET", `/api/channels/${channel}/polls?limit=1&before=${b.id}`));
    expect(next.polls.map((x: any) => x.id)).toEqual([a.id]);
    expect((await p.admin.call("GET", `/api/channels/${channel}/polls?limit=51`)).body.error.code).toBe("INVALID_LIMIT");
    expect((await p.outsider.call("GET", `/api/channels/${channel}/polls`)).status).toBe(404);
  });

  test("poll:updated (counts only) reaches channel subscribers after COMMIT", async () => {
    const s = await socketFor(ctx, p.moderator, ws);
    await subscribe(s, [channel]);
    const poll = await newPoll(p.member);
    const first = await s.nextOfType("poll:updated");
    expect(first).toMatchObject({ pollId: poll.id, channelId: channel, tallies: [{ option_index: 0, count: 0 }, { option_index: 1, count: 0 }, { option_index: 2, count: 0 }] });
    await expectOk(p.member.call("POST", `/api/polls/${poll.id}/votes`, { option_indexes: [1] }));
    const frame = await s.nextOfType("poll:updated");
    expect(frame.tallies).toEqual([{ option_index: 0, count: 0 }, { option_index: 1, count: 1 }, { option_index: 2, count: 0 }]);
    expect(JSON.stringify(frame)).not.toContain(p.member.user.id);
    s.close();
  });
});
