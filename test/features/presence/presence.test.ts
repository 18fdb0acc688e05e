/**
 * Presence over real sockets (issue 6 §2): online/offline with a grace period, invisible shown
 * as offline, batching, who hears about whom, and GET /api/presence.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestContext } from "../../helpers/app.ts";
import type { TestSocket } from "../../helpers/ws.ts";
import { client, expectOk, messagingContext, populatedCommunity, socketFor, withSockets, type Client, type Populated } from "../messages/helpers.ts";
import { BATCH_MS, expectStatusAfterBatch, GRACE_MS, joinCommunity, PresenceClock, settledEvents, waitForSelfEcho, waitForSockets } from "./helpers.ts";

const clock = new PresenceClock();
let ctx: TestContext;
let p: Populated;
let ws: string;
let watcher: TestSocket;
const sockets: TestSocket[] = [];

beforeAll(async () => {
  ctx = await messagingContext({ timers: clock.timers });
  clock.attach(ctx);
  p = await populatedCommunity(ctx);
  ws = (await withSockets(ctx)).ws;
  watcher = await open(p.member);
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await ctx.close();
});

async function open(c: Client): Promise<TestSocket> {
  const s = await socketFor(ctx, c, ws);
  sockets.push(s);
  return s;
}

const presenceOf = async (viewer: Client, ids: string[]) => (await expectOk(viewer.call("GET", `/api/presence?user_ids=${ids.join(",")}`))).presence as Record<string, string>;

describe("presence", () => {
  test("online while a socket is open; offline only after the grace; a quick reload does not flicker", async () => {
    const target = await joinCommunity(ctx, p);
    const first = await open(target);
    await expectStatusAfterBatch(clock, watcher, target.user.id, "online");
    expect(await presenceOf(p.member, [target.user.id])).toEqual({ [target.user.id]: "online" });

    // Reload: close and reconnect within the grace: no offline event at all.
    first.close();
    await waitForSockets(ctx, target.user.id, 0);
    await clock.advance(GRACE_MS / 4);
    const second = await open(target);
    await clock.advance(GRACE_MS + BATCH_MS * 3);
    expect(await settledEvents(clock, watcher, target.user.id)).toEqual(["online"]);

    second.close();
    await waitForSockets(ctx, target.user.id, 0);
    await clock.advance(GRACE_MS / 2);
    expect(await settledEvents(clock, watcher, target.user.id)).toEqual(["online"]);
    await clock.advance(GRACE_MS / 2);
    await expectStatusAfterBatch(clock, watcher, target.user.id, "offline");
    expect(await presenceOf(p.member, [target.user.id])).toEqual({ [target.user.id]: "offline" });
  });

  test("invisible is offline to others but invisible to the user", async () => {
    const target = await joinCommunity(ctx, p);
    const own = await open(target);
    await expectStatusAfterBatch(clock, watcher, target.user.id, "online");
    own.send({ type: "presence:set", status: "invisible" });
    await waitForSelfEcho(own, "invisible");
    await expectStatusAfterBatch(clock, watcher, target.user.id, "offline");
    const echo = await own.nextOfType("presence:changed");
    for (let e = echo; ; e = await own.nextOfType("presence:changed")) {
      if (e.self) {
        expect(e).toMatchObject({ userId: target.user.id, status: "invisible", self: true });
        break;
      }
    }
    expect(await presenceOf(p.member, [target.user.id])).toEqual({ [target.user.id]: "offline" });
    expect(await presenceOf(target, [target.user.id])).toEqual({ [target.user.id]: "invisible" });
    own.send({ type: "presence:set", status: "online" });
    await waitForSelfEcho(own, "online");
    await expectStatusAfterBatch(clock, watcher, target.user.id, "online");
  });

  test("two quick changes produce one event with the last status", async () => {
    const target = await joinCommunity(ctx, p);
    const own = await open(target);
    await expectStatusAfterBatch(clock, watcher, target.user.id, "online");
    own.send({ type: "presence:set", status: "idle" });
    own.send({ type: "presence:set", status: "dnd" });
    await waitForSelfEcho(own, "idle");
    await waitForSelfEcho(own, "dnd");
    await expectStatusAfterBatch(clock, watcher, target.user.id, "dnd");
    await clock.advance(BATCH_MS * 4);
    expect(await settledEvents(clock, watcher, target.user.id)).toEqual(["online", "dnd"]);
  });

  test("an invalid status is refused", async () => {
    const own = await open(p.admin);
    own.send({ type: "presence:set", status: "away", ref: "x" });
    expect(await own.nextOfType("error")).toMatchObject({ code: "INVALID_FRAME", field: "status", ref: "x" });
  });

  test("recipients: community members and DM partners hear; a stranger hears nothing and GET omits", async () => {
    const target = await joinCommunity(ctx, p);
    const partner = await client(ctx);
    await expectOk(partner.call("PUT", "/api/account/profile", { allow_dms_from_anyone: true }));
    await expectOk(target.call("POST", "/api/dms", { user_id: partner.user.id }));
    const stranger = await client(ctx);
    const partnerSocket = await open(partner);
    const strangerSocket = await open(stranger);
    await open(target);
    await expectStatusAfterBatch(clock, watcher, target.user.id, "online");
    expect(await settledEvents(clock, partnerSocket, target.user.id)).toEqual(["online"]);
    await clock.advance(BATCH_MS * 3);
    expect(await settledEvents(clock, strangerSocket, target.user.id)).toEqual([]);
    expect(strangerSocket.received.filter((f) => f.type === "presence:changed")).toEqual([]);
    expect(await presenceOf(stranger, [target.user.id, p.member.user.id])).toEqual({});
    expect(await presenceOf(partner, [target.user.id])).toEqual({ [target.user.id]: "online" });
  });

  test("GET validates: at most 200 ids, all of them user ids", async () => {
    const many = Array.from({ length: 201 }, () => crypto.randomUUID());
    expect((await p.member.call("GET", `/api/presence?user_ids=${many.join(",")}`)).status).toBe(400);
    expect((await p.member.call("GET", "/api/presence?user_ids=nope")).status).toBe(400);
    expect(await presenceOf(p.member, [crypto.randomUUID()])).toEqual({});
  });
});
