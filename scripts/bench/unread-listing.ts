/**
 * The unread listing's cost (issue 13 §3): GET /api/channels/unread for a user who sees many
 * channels, each with a backlog after their cursor and some mentions (named, @everyone, @here),
 * and the one-channel refresh live.js makes after channel:activity.
 *
 *   bun scripts/bench/unread-listing.ts [--channels 200] [--messages 200] [--runs 30]      (PGlite)
 *   TEST_DATABASE_URL=postgres://… bun scripts/bench/unread-listing.ts
 *
 * Rows are written with SQL (the send path is measured by send-path.ts); the timings are of the
 * service functions the routes call (listUnread, getUnread), p50 and p95 over --runs.
 */
import { sql } from "kysely";
import { createTestContext } from "../../test/helpers/app.ts";
import { createUser, signIn } from "../../test/helpers/users.ts";
import { getUnread, listUnread } from "../../src/features/messages/read-state.ts";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const CHANNELS = arg("channels", 200);
const MESSAGES = arg("messages", 200);
const RUNS = arg("runs", 30);

const ctx = await createTestContext({ env: { COMMUNITY_CREATION_MODE: "anyone" } });
try {
  const [owner, reader] = await Promise.all([createUser(ctx, { displayName: "Owner" }), createUser(ctx, { displayName: "Reader" })]);
  const o = await signIn(ctx, owner);
  const r = await signIn(ctx, reader);
  const call = async (headers: Record<string, string>, method: string, path: string, body?: unknown) => {
    const res = await ctx.request(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as any;
  };
  const community = await call(o.headers, "POST", "/api/communities", { name: "Busy" });
  const invite = await call(o.headers, "POST", `/api/communities/${community.id}/invites`, {});
  await call(r.headers, "POST", `/api/community-invites/${invite.code}/accept`);
  const group = (await call(o.headers, "GET", `/api/communities/${community.id}/groups`)).groups[0];
  const ids: string[] = [group.channels[0].id];
  let groupId: string = group.id;
  for (let i = ids.length; i < CHANNELS; i++) {
    // A group holds at most 100 channels: a new folder every 90 (its own #general counts too).
    if (i % 90 === 0) {
      const g = await call(o.headers, "POST", "/api/groups", { community_id: community.id, name: `g${i}` });
      groupId = g.id;
      ids.push(g.general_channel_id);
      continue;
    }
    ids.push((await call(o.headers, "POST", `/api/groups/${groupId}/channels`, { name: `c${i}` })).id);
  }
  const db = ctx.database.db;
  let t = performance.now();
  for (const channelId of ids) {
    // One in 20 mentions the reader, one in 50 is @everyone, one in 50 @here with the reader online.
    await sql`
      insert into messages (id, channel_id, seq, sender_id, sender_device_id, client_id, scheme, ciphertext, mentions, mention_all, here_ids, created_at)
      select gen_random_uuid(), ${channelId}::uuid, n, ${owner.id}::uuid, 'bench', gen_random_uuid(), 'sk', '\\x00'::bytea,
             case when n % 20 = 0 then array[${reader.id}::uuid] else '{}'::uuid[] end,
             case when n % 50 = 1 then 'everyone' when n % 50 = 2 then 'here' end,
             case when n % 50 = 2 then array[${reader.id}::uuid] else '{}'::uuid[] end,
             now()
        from generate_series(1, ${MESSAGES}) as n`.execute(db);
    await sql`update channels set last_seq = ${MESSAGES} where id = ${channelId}::uuid`.execute(db);
  }
  // Half the channels read halfway: the other half count their whole backlog.
  for (const channelId of ids.slice(0, ids.length / 2)) await call(r.headers, "PUT", `/api/channels/${channelId}/read`, { seq: Math.floor(MESSAGES / 2) });
  console.log(`${ids.length} channels × ${MESSAGES} messages written in ${((performance.now() - t) / 1000).toFixed(1)} s (${process.env.TEST_DATABASE_URL ? "PostgreSQL" : "PGlite"})`);

  const actor = { userId: reader.id, isOwner: false };
  const measure = async (name: string, run: () => Promise<unknown>) => {
    await run(); // warm
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      t = performance.now();
      await run();
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!.toFixed(2);
    console.log(`${name}: p50 ${at(0.5)} ms, p95 ${at(0.95)} ms (${RUNS} runs)`);
  };
  const listing = await listUnread(ctx.deps, actor);
  const sum = listing.reduce((a, e) => ({ unread: a.unread + e.unread, mentions: a.mentions + e.mentions }), { unread: 0, mentions: 0 });
  console.log(`listing: ${listing.length} channels, ${sum.unread} unread, ${sum.mentions} mentions`);
  await measure(`listUnread (${listing.length} channels)`, () => listUnread(ctx.deps, actor));
  await measure("getUnread (one channel)", () => getUnread(ctx.deps, actor, ids[ids.length - 1]!));
} finally {
  await ctx.close();
}
