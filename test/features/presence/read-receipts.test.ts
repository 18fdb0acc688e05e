/**
 * Read receipts (issue 6 §2): PUT /read publishes read:receipt to a DM or group DM, unless opted
 * out; community channels publish none (every follower would learn how far everyone read).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { TestContext } from "../../helpers/app.ts";
import type { TestSocket } from "../../helpers/ws.ts";
import { expectOk, messagingContext, populatedCommunity, send, socketFor, subscribe, withSockets, type Populated } from "../messages/helpers.ts";

let ctx: TestContext;
let p: Populated;
let watcher: TestSocket;
let group: string;

beforeAll(async () => {
  ctx = await messagingContext();
  p = await populatedCommunity(ctx);
  group = (await expectOk(p.member.call("POST", "/api/dms", { user_ids: [p.admin.user.id, p.moderator.user.id] }))).channel_id;
  const { ws } = await withSockets(ctx);
  watcher = await socketFor(ctx, p.member, ws);
  await subscribe(watcher, [p.generalChannelId, group]);
});
afterAll(async () => {
  watcher.close();
  await ctx.close();
});

const readIn = (channelId: string, c: Populated["admin"], seq: number) => expectOk(c.call("PUT", `/api/channels/${channelId}/read`, { seq }), 204);
const read = (c: Populated["admin"], seq: number) => readIn(group, c, seq);
const sendPw = (c: Populated["admin"]) => send(c, group, {}, "pw");

test("moving the read cursor publishes read:receipt to the DM; opting out suppresses it", async () => {
  const channelId = group;
  const m1 = await sendPw(p.member);
  await read(p.admin, m1.seq);
  expect(await watcher.nextOfType("read:receipt")).toMatchObject({ channelId, userId: p.admin.user.id, seq: m1.seq });

  expect(await expectOk(p.admin.call("GET", "/api/account/preferences"))).toEqual({ read_receipts: true });
  expect(await expectOk(p.admin.call("PUT", "/api/account/preferences", { read_receipts: false }))).toEqual({ read_receipts: false });
  const m2 = await sendPw(p.member);
  await read(p.admin, m2.seq);
  // A marker: the moderator (opted in) reads after the admin; events on one topic keep order.
  await read(p.moderator, m2.seq);
  const next = await watcher.nextOfType("read:receipt");
  expect(next).toMatchObject({ userId: p.moderator.user.id, seq: m2.seq });

  // Opting back in; reading the same seq again publishes nothing (the cursor did not move).
  await expectOk(p.admin.call("PUT", "/api/account/preferences", { read_receipts: true }));
  await read(p.admin, m2.seq);
  const m3 = await sendPw(p.member);
  await read(p.admin, m3.seq);
  expect(await watcher.nextOfType("read:receipt")).toMatchObject({ userId: p.admin.user.id, seq: m3.seq });
  expect(watcher.received.filter((f) => f.type === "read:receipt").map((f) => [f.userId, f.seq])).toEqual([
    [p.admin.user.id, m1.seq],
    [p.moderator.user.id, m2.seq],
    [p.admin.user.id, m3.seq],
  ]);
});

test("a community channel publishes no read:receipt (the listing has none either)", async () => {
  const m = await send(p.owner, p.generalChannelId);
  await readIn(p.generalChannelId, p.admin, m.seq);
  // A marker on the same socket: the DM read after it arrives; the channel read never does.
  const marker = await sendPw(p.member);
  await read(p.moderator, marker.seq);
  expect(await watcher.nextOfType("read:receipt")).toMatchObject({ channelId: group, userId: p.moderator.user.id, seq: marker.seq });
  expect(watcher.received.filter((f) => f.type === "read:receipt" && f.channelId === p.generalChannelId)).toEqual([]);
});

test("preferences validate their body", async () => {
  expect((await p.admin.call("PUT", "/api/account/preferences", { read_receipts: "yes" })).status).toBe(400);
});
