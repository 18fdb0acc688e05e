/**
 * Issue 11 §2–3, the server's part of key requests: whether a user may be given the key of a
 * message (entitlements, checked by every responder before it forwards one) and which devices a
 * request should go to (key holders). Keys themselves never reach the server.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestContext } from "../../helpers/app.ts";
import type { TestSocket } from "../../helpers/ws.ts";
import { client, expectOk, messagingContext, populatedCommunity, registerTestDevice, send, socketFor, withSockets, type Client, type Populated } from "../messages/helpers.ts";

let ctx: TestContext;
let p: Populated;
let ws: string;
const sockets: TestSocket[] = [];

beforeAll(async () => {
  ctx = await messagingContext();
  p = await populatedCommunity(ctx);
  ws = (await withSockets(ctx)).ws;
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await ctx.close();
});

async function joinCommunity(): Promise<Client> {
  const c = await client(ctx);
  const invite = await expectOk(p.owner.call("POST", `/api/communities/${p.communityId}/invites`, {}), 201);
  await expectOk(c.call("POST", `/api/community-invites/${invite.code}/accept`));
  return c;
}

async function newChannel(extra: Record<string, unknown> = {}): Promise<string> {
  return (await expectOk(p.owner.call("POST", `/api/groups/${p.groupId}/channels`, { name: `c${crypto.randomUUID().slice(0, 8)}`, ...extra }), 201)).id;
}

/** What `asker` hears about `userId` and these items: id → "ok" or the refusal reason. */
async function entitlements(asker: Client, channelId: string, userId: string, ids: string[]): Promise<Record<string, string>> {
  const body = await expectOk(asker.call("GET", `/api/channels/${channelId}/key-entitlements?user_id=${userId}&ids=${ids.join(",")}`));
  const out: Record<string, string> = {};
  for (const e of body.entitled) out[e.id] = "ok";
  for (const r of body.refused) out[r.id] = r.reason;
  return out;
}

/** Makes `at` strictly later than anything before (created_at and joined_at compare by time). */
const tick = () => Bun.sleep(5);

describe("key entitlements", () => {
  test("shared history: a joiner may have every earlier message and poll; joined: only what came after", async () => {
    const shared = await newChannel();
    const joinedOnly = await newChannel({});
    await expectOk(p.owner.call("PATCH", `/api/channels/${joinedOnly}`, { history_visibility: "joined" }));
    const before = [await send(p.member, shared), await send(p.member, joinedOnly)];
    const poll = await expectOk(p.member.call("POST", `/api/channels/${joinedOnly}/polls`, { client_id: crypto.randomUUID(), question_ciphertext: "cXVlc3Rpb24", option_count: 2, multi_select: false, anonymous: false }), 201);
    await tick();
    const frank = await joinCommunity();
    await tick();
    const after = [await send(p.member, shared), await send(p.member, joinedOnly)];
    expect(await entitlements(p.owner, shared, frank.user.id, [before[0].id, after[0].id])).toEqual({ [before[0].id]: "ok", [after[0].id]: "ok" });
    expect(await entitlements(p.owner, joinedOnly, frank.user.id, [before[1].id, after[1].id, `poll:${poll.poll.id}`])).toEqual({
      [before[1].id]: "BEFORE_JOINED",
      [after[1].id]: "ok",
      [`poll:${poll.poll.id}`]: "BEFORE_JOINED",
    });
    // The entitled ones come with what a responder needs to find or derive the key.
    const body = await expectOk(p.owner.call("GET", `/api/channels/${joinedOnly}/key-entitlements?user_id=${frank.user.id}&ids=${after[1].id}`));
    expect(body.entitled).toEqual([{ id: after[1].id, seq: after[1].seq, client_id: after[1].client_id, sender_device_id: after[1].sender_device_id }]);
  });

  test("a kicked member is refused everything, before and after the kick; so is a non-member of a private channel", async () => {
    const channel = await newChannel();
    const bob = await joinCommunity();
    const early = await send(p.member, channel);
    await expectOk(p.owner.call("DELETE", `/api/communities/${p.communityId}/members/${bob.user.id}`, {}), 204);
    const late = await send(p.member, channel);
    expect(await entitlements(p.owner, channel, bob.user.id, [early.id, late.id])).toEqual({ [early.id]: "NOT_A_VIEWER", [late.id]: "NOT_A_VIEWER" });
    const priv = await newChannel({ is_private: true });
    const secret = await send(p.owner, priv);
    expect(await entitlements(p.owner, priv, p.member.user.id, [secret.id])).toEqual({ [secret.id]: "NOT_A_VIEWER" });
    await expectOk(p.owner.call("POST", `/api/channels/${priv}/members`, { user_id: p.member.user.id }), 204);
    // A private channel counts from being added to it (history 'shared' still opens the past).
    expect(await entitlements(p.owner, priv, p.member.user.id, [secret.id])).toEqual({ [secret.id]: "ok" });
  });

  test("DMs: the participants only; items of another channel, deleted or unknown are NOT_FOUND", async () => {
    const dm = (await expectOk(p.member.call("POST", "/api/dms", { user_id: p.moderator.user.id }))).channel_id as string;
    const m = await send(p.member, dm, {}, "pw");
    expect(await entitlements(p.member, dm, p.moderator.user.id, [m.id])).toEqual({ [m.id]: "ok" });
    expect(await entitlements(p.member, dm, p.admin.user.id, [m.id])).toEqual({ [m.id]: "NOT_A_VIEWER" });
    const elsewhere = await send(p.member, p.generalChannelId);
    const deleted = await send(p.member, p.generalChannelId);
    await expectOk(p.member.call("DELETE", `/api/messages/${deleted.id}`), 204);
    const unknown = crypto.randomUUID();
    expect(await entitlements(p.member, dm, p.moderator.user.id, [elsewhere.id, unknown])).toEqual({ [elsewhere.id]: "NOT_FOUND", [unknown]: "NOT_FOUND" });
    expect(await entitlements(p.member, p.generalChannelId, p.moderator.user.id, [deleted.id])).toEqual({ [deleted.id]: "NOT_FOUND" });
  });

  test("bad input: 400 with a stable code", async () => {
    const path = `/api/channels/${p.generalChannelId}/key-entitlements`;
    const ask = (q: string) => p.member.call("GET", `${path}?${q}`);
    expect((await ask(`user_id=x&ids=${crypto.randomUUID()}`)).body.error.code).toBe("INVALID_USER_ID");
    expect((await ask(`user_id=${p.owner.user.id}&ids=nope`)).body.error.code).toBe("INVALID_IDS");
    const many = Array.from({ length: 201 }, () => crypto.randomUUID()).join(",");
    expect((await ask(`user_id=${p.owner.user.id}&ids=${many}`)).status).toBe(400);
    expect((await ask(`ids=${crypto.randomUUID()}`)).status).toBe(400);
  });
});

describe("key holders", () => {
  test("other readers' devices, online ones first; never the caller; recent writers when nobody is online", async () => {
    const channel = await newChannel();
    // Nobody online: the most recent writers (other than the caller).
    await send(p.member, channel);
    await send(p.moderator, channel);
    const offline = await expectOk(p.admin.call("GET", `/api/channels/${channel}/key-holders`));
    expect(offline.devices.map((d: any) => [d.user_id, d.online])).toEqual([
      [p.moderator.user.id, false],
      [p.member.user.id, false],
    ]);
    // The owner comes online (a socket): first, and online.
    const s = await socketFor(ctx, p.owner, ws);
    sockets.push(s);
    await registerTestDevice(ctx, p.owner.user.id, "second");
    let online: any;
    for (let i = 0; i < 100; i++) {
      online = await expectOk(p.admin.call("GET", `/api/channels/${channel}/key-holders`));
      if (online.devices[0]?.online) break;
      await Bun.sleep(20);
    }
    expect(online.devices.filter((d: any) => d.online).map((d: any) => d.user_id)).toEqual([p.owner.user.id, p.owner.user.id]);
    expect(online.devices.map((d: any) => d.user_id)).not.toContain(p.admin.user.id);
    expect(online.devices.length).toBeLessThanOrEqual(6);
  });
});

describe("the help page the chat links to", () => {
  test("GET /help/encryption explains each state, signed in or not", async () => {
    for (const headers of [{}, p.member.headers]) {
      const res = await ctx.request("/help/encryption", { headers });
      expect(res.status).toBe(200);
      const html = await res.text();
      for (const anchor of ['id="waiting"', 'id="before-joined"', 'id="cannot-decrypt"']) expect(html).toContain(anchor);
    }
  });
});
