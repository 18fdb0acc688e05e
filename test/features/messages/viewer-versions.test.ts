/**
 * Issue 11 §1: the recipient set can never be stale. Every change of who may read a channel bumps
 * its viewer version in the same transaction (each writer below, through its real route); a send
 * or edit encrypted for an older version is refused with VIEWERS_CHANGED and stores nothing
 * (HTTP, socket, the batch statement, and a change that commits while the send statement waits
 * for the channel's row); the viewer list carries devices and the version; authors' names come
 * with each message; open sockets hear `viewers:changed`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "kysely";
import type { TestContext } from "../../helpers/app.ts";
import { TEST_DATABASE_URL } from "../../helpers/db.ts";
import type { TestSocket } from "../../helpers/ws.ts";
import { newDevice, registrationBody } from "../keys/helpers.ts";
import { insertBatch, type Draft } from "../../../src/features/messages/send-statement.ts";
import { parseSendInput } from "../../../src/features/messages/send.ts";
import { bumpViewerVersions } from "../../../src/features/permissions/index.ts";
import { client, countMessages, expectOk, messagingContext, populatedCommunity, registerTestDevice, send, sendBody, socketFor, subscribe, TEST_DEVICE_ID, withSockets, type Client, type Populated } from "./helpers.ts";

let ctx: TestContext;
let p: Populated;
let channel: string;
let ws: string;
const sockets: TestSocket[] = [];

beforeAll(async () => {
  ctx = await messagingContext();
  p = await populatedCommunity(ctx);
  channel = p.generalChannelId;
  ws = (await withSockets(ctx)).ws;
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await ctx.close();
});

async function versionOf(c: Client, channelId = channel): Promise<number> {
  return (await expectOk(c.call("GET", `/api/channels/${channelId}/members`))).viewer_version;
}

async function joinCommunity(): Promise<Client> {
  const c = await client(ctx);
  const invite = await expectOk(p.owner.call("POST", `/api/communities/${p.communityId}/invites`, {}), 201);
  await expectOk(c.call("POST", `/api/community-invites/${invite.code}/accept`));
  return c;
}

/** Runs `change` and says by how much the general channel's version (and `other`'s) moved. */
async function bumpOf(change: () => Promise<unknown>, other?: string): Promise<[number, number]> {
  const before = [await versionOf(p.owner), other ? await versionOf(p.owner, other) : 0];
  await change();
  return [(await versionOf(p.owner)) - before[0]!, other ? (await versionOf(p.owner, other)) - before[1]! : 0];
}

describe("every writer of who may read a channel bumps its version", () => {
  test("joins, leaves, removals, roles, overrides, privacy, devices, ownership, account deletion; not timeouts, sends or settings", async () => {
    const cid = p.communityId;
    const o = p.owner;
    const moved: Record<string, [number, number]> = {};
    let joiner!: Client;
    moved.join_by_invite = await bumpOf(async () => (joiner = await joinCommunity()));
    await expectOk(o.call("PATCH", `/api/communities/${cid}`, { discoverable: true }));
    const walkIn = await client(ctx);
    moved.join_discoverable = await bumpOf(() => expectOk(walkIn.call("POST", `/api/communities/${cid}/join`)));
    moved.base_role = await bumpOf(() => expectOk(o.call("PUT", `/api/communities/${cid}/members/${joiner.user.id}/role`, { role: "moderator" }), 204));
    let role!: { id: string };
    moved.create_role = await bumpOf(async () => (role = await expectOk(o.call("POST", `/api/communities/${cid}/roles`, { name: "Readers", permissions: [] }), 201)));
    moved.assign_role = await bumpOf(() => expectOk(o.call("PUT", `/api/communities/${cid}/members/${joiner.user.id}/roles`, { role_ids: [role.id] }), 204));
    moved.role_rename = await bumpOf(() => o.call("PATCH", `/api/communities/${cid}/roles/${role.id}`, { name: "Readers 2" }));
    moved.role_permissions = await bumpOf(() => o.call("PATCH", `/api/communities/${cid}/roles/${role.id}`, { permissions: ["pin"] }));
    moved.delete_role = await bumpOf(() => o.call("DELETE", `/api/communities/${cid}/roles/${role.id}`));
    moved.override = await bumpOf(() => expectOk(o.call("PUT", `/api/channels/${channel}/overrides`, { base_role: "member", allow: [], deny: ["send_messages"] }), 204));
    const overrides = await expectOk(o.call("GET", `/api/channels/${channel}/overrides`));
    moved.remove_override = await bumpOf(() => expectOk(o.call("DELETE", `/api/channels/${channel}/overrides/${overrides.overrides[0].id}`), 204));
    const priv = await expectOk(o.call("POST", `/api/groups/${p.groupId}/channels`, { name: "secret", is_private: true }), 201);
    moved.private_add = await bumpOf(() => expectOk(o.call("POST", `/api/channels/${priv.id}/members`, { user_id: p.member.user.id }), 204), priv.id);
    moved.private_remove = await bumpOf(() => expectOk(o.call("DELETE", `/api/channels/${priv.id}/members/${p.member.user.id}`), 204), priv.id);
    moved.privacy = await bumpOf(() => expectOk(o.call("PATCH", `/api/channels/${priv.id}`, { is_private: false })), priv.id);
    const device = newDevice(joiner.user.id);
    moved.device_added = await bumpOf(() => expectOk(joiner.call("POST", "/api/keys/devices", registrationBody(device)), 201));
    moved.device_revoked = await bumpOf(() => expectOk(joiner.call("DELETE", `/api/keys/devices/${device.deviceId}`), 204));
    moved.timeout = await bumpOf(() => expectOk(o.call("PUT", `/api/communities/${cid}/timeouts/${walkIn.user.id}`, { duration_seconds: 60 })));
    moved.send = await bumpOf(() => send(p.member, channel));
    moved.topic_and_history = await bumpOf(() => expectOk(o.call("PATCH", `/api/channels/${channel}`, { topic: "t", history_visibility: "joined" })));
    moved.kick = await bumpOf(() => o.call("DELETE", `/api/communities/${cid}/members/${walkIn.user.id}`, {}));
    moved.leave = await bumpOf(() => joiner.call("POST", `/api/communities/${cid}/leave`));
    const banned = await joinCommunity();
    moved.ban = await bumpOf(() => o.call("PUT", `/api/communities/${cid}/bans/${banned.user.id}`, {}));
    moved.transfer = await bumpOf(() => o.call("POST", `/api/communities/${cid}/transfer-ownership`, { new_owner_id: p.admin.user.id }));
    const leaving = await joinCommunity();
    moved.account_deleted = await bumpOf(() => expectOk(leaving.call("DELETE", "/api/account", { password: leaving.user.password }), 204));
    expect(moved).toEqual({
      join_by_invite: [1, 0],
      join_discoverable: [1, 0],
      base_role: [1, 0],
      create_role: [0, 0],
      assign_role: [1, 0],
      role_rename: [0, 0],
      role_permissions: [1, 0],
      delete_role: [1, 0],
      override: [1, 0],
      remove_override: [1, 0],
      private_add: [0, 1],
      private_remove: [0, 1],
      privacy: [0, 1],
      device_added: [1, 0],
      device_revoked: [1, 0],
      timeout: [0, 0],
      send: [0, 0],
      topic_and_history: [0, 0],
      kick: [1, 0],
      leave: [1, 0],
      ban: [1, 0],
      transfer: [1, 0],
      account_deleted: [1, 0],
    });
    await expectOk(p.admin.call("POST", `/api/communities/${cid}/transfer-ownership`, { new_owner_id: p.owner.user.id }));
    await expectOk(p.admin.call("PATCH", `/api/channels/${channel}`, { history_visibility: "shared" }));
  });

  test("a device of a DM participant bumps the DM too", async () => {
    const dm = (await expectOk(p.member.call("POST", "/api/dms", { user_id: p.moderator.user.id }))).channel_id as string;
    const before = await versionOf(p.member, dm);
    await expectOk(p.moderator.call("POST", "/api/keys/devices", registrationBody(newDevice(p.moderator.user.id))), 201);
    expect((await versionOf(p.member, dm)) - before).toBe(1);
  });
});

describe("the viewer list", () => {
  test("members with their devices, the version, the history setting and the reader's own start", async () => {
    const body = await expectOk(p.member.call("GET", `/api/channels/${channel}/members`));
    expect(Object.keys(body).sort()).toEqual(["history_visibility", "members", "viewer_since", "viewer_version"]);
    expect(body.history_visibility).toBe("shared");
    expect(Number.isInteger(body.viewer_version)).toBe(true);
    expect(Date.parse(body.viewer_since)).toBeGreaterThan(0);
    const owner = body.members.find((m: any) => m.user_id === p.owner.user.id);
    expect(owner.devices).toContain(TEST_DEVICE_ID);
    expect(body.members.find((m: any) => m.user_id === p.outsider.user.id)).toBeUndefined();
  });
});

describe("a ciphertext for an older viewer set is refused", () => {
  test("HTTP send: older → 409 VIEWERS_CHANGED, nothing stored, no seq used; current or none → 201", async () => {
    const v = await versionOf(p.member);
    const before = await countMessages(ctx);
    const first = await send(p.member, channel, { viewer_version: v });
    await joinCommunity(); // v + 1
    const stale = await p.member.call("POST", `/api/channels/${channel}/messages`, sendBody({ viewer_version: v }));
    expect([stale.status, stale.body.error.code]).toEqual([409, "VIEWERS_CHANGED"]);
    expect(await countMessages(ctx)).toBe(before + 1);
    const fresh = await send(p.member, channel, { viewer_version: v + 1 });
    expect(fresh.seq).toBe(first.seq + 1);
    await send(p.member, channel); // not given: not checked (API clients)
    const bad = await p.member.call("POST", `/api/channels/${channel}/messages`, sendBody({ viewer_version: "1" }));
    expect([bad.status, bad.body.error.code]).toEqual([400, "INVALID_VIEWER_VERSION"]);
  });

  test("a retry of a stored message still gets the original, whatever version it names", async () => {
    const body = sendBody({ viewer_version: await versionOf(p.member) });
    const first = await expectOk(p.member.call("POST", `/api/channels/${channel}/messages`, body), 201);
    await joinCommunity();
    const again = await expectOk(p.member.call("POST", `/api/channels/${channel}/messages`, body), 200);
    expect(again.message.id).toBe(first.message.id);
  });

  test("an edit with an older version is refused; with the current one it is stored", async () => {
    const v = await versionOf(p.member);
    const m = await send(p.member, channel, { viewer_version: v });
    await joinCommunity();
    const stale = await p.member.call("PATCH", `/api/messages/${m.id}`, { ciphertext: sendBody().ciphertext, viewer_version: v });
    expect([stale.status, stale.body.error.code]).toEqual([409, "VIEWERS_CHANGED"]);
    await expectOk(p.member.call("PATCH", `/api/messages/${m.id}`, { ciphertext: sendBody().ciphertext, viewer_version: v + 1 }));
  });

  test("over the socket: message:send with an older viewerVersion gets error VIEWERS_CHANGED", async () => {
    const s = await socketFor(ctx, p.member, ws);
    sockets.push(s);
    const v = await versionOf(p.member);
    await joinCommunity();
    const b = sendBody();
    s.send({ type: "message:send", ref: "r1", channelId: channel, clientId: b.client_id, scheme: "sk", ciphertext: b.ciphertext, senderDeviceId: TEST_DEVICE_ID, viewerVersion: v });
    const err = await s.nextOfType("error");
    expect([err.code, err.ref]).toEqual(["VIEWERS_CHANGED", "r1"]);
    s.send({ type: "message:send", ref: "r2", channelId: channel, clientId: crypto.randomUUID(), scheme: "sk", ciphertext: b.ciphertext, senderDeviceId: TEST_DEVICE_ID, viewerVersion: "x" });
    const invalid = await s.nextOfType("error");
    expect([invalid.code, invalid.field]).toEqual(["INVALID_FRAME", "viewerVersion"]);
    s.send({ type: "message:send", ref: "r3", channelId: channel, clientId: crypto.randomUUID(), scheme: "sk", ciphertext: b.ciphertext, senderDeviceId: TEST_DEVICE_ID, viewerVersion: v + 1 });
    expect((await s.nextOfType("message:sent")).ref).toBe("r3");
  });

  test("the batch statement leaves out a stale message and stores the others in order", async () => {
    const v = await versionOf(p.member);
    const draft = (viewerVersion: number | null): Draft => ({
      id: Bun.randomUUIDv7(),
      channelId: channel,
      senderId: p.member.user.id,
      parsed: parseSendInput(sendBody(viewerVersion === null ? {} : { viewer_version: viewerVersion })),
      links: { replyToId: null, threadRootId: null },
      mentions: [],
      hereIds: [],
      now: new Date(),
    });
    const drafts = [draft(v), draft(v - 1), draft(null)];
    const out = await insertBatch(ctx.database.db, drafts, [false, false, false]);
    expect(out.map((r) => (r === "refused" ? "refused" : "stored"))).toEqual(["stored", "refused", "stored"]);
    const [a, , c] = out as { seq: number }[];
    expect(c!.seq).toBe(a!.seq + 1);
  });

  if (!TEST_DATABASE_URL) console.log("[skip] viewer change racing a send: needs TEST_DATABASE_URL (PGlite has one connection, so no transaction can hold the channel row while a send waits)");
  test.skipIf(!TEST_DATABASE_URL)("a viewer change committing while the send statement waits for the channel's row refuses the send (PostgreSQL)", async () => {
    const v = await versionOf(p.member);
    const db = ctx.database.db;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let bumped!: () => void;
    const locked = new Promise<void>((r) => (bumped = r));
    // A viewer change in flight: it bumped (and holds) the channel's row but has not committed.
    const change = db.transaction().execute(async (tx) => {
      await bumpViewerVersions(tx, { channelIds: [channel] });
      bumped();
      await held;
    });
    await locked;
    const sending = p.member.call("POST", `/api/channels/${channel}/messages`, sendBody({ viewer_version: v }));
    // The send's access query does not wait (it reads the committed version); its statement
    // waits on the row. Commit the change only once the statement is queued behind it.
    for (let i = 0; i < 500; i++) {
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity
        where datname = current_database() and wait_event_type = 'Lock' and query like '%update channels set last_seq%'`.execute(db);
      if (rows[0]!.n > 0) break;
      await Bun.sleep(10);
    }
    release();
    await change;
    const r = await sending;
    expect([r.status, r.body.error?.code]).toEqual([409, "VIEWERS_CHANGED"]);
  });
});

describe("authors come with the message", () => {
  test("the community nickname, a banned member keeps their name, a deleted account is null; message:new carries senderName", async () => {
    const s = await socketFor(ctx, p.admin, ws);
    sockets.push(s);
    await subscribe(s, [channel]);
    const author = await joinCommunity();
    await registerTestDevice(ctx, author.user.id);
    await ctx.database.db.updateTable("community_members").set({ nickname: "Nick" }).where("user_id", "=", author.user.id).execute();
    const m = await send(author, channel);
    expect(m.sender_name).toBe("Nick");
    for (;;) {
      const frame = await s.nextOfType("message:new");
      if ((frame.message as any).id === m.id) {
        expect((frame.message as any).senderName).toBe("Nick");
        break;
      }
    }
    await expectOk(p.owner.call("PUT", `/api/communities/${p.communityId}/bans/${author.user.id}`, {}), 204);
    const named = async () => (await expectOk(p.member.call("GET", `/api/channels/${channel}/messages/${m.id}`))).message.sender_name;
    expect(await named()).toBe(author.user.displayName);
    const gone = await joinCommunity();
    await registerTestDevice(ctx, gone.user.id);
    const g = await send(gone, channel);
    await expectOk(gone.call("DELETE", "/api/account", { password: gone.user.password }), 204);
    const history = await expectOk(p.member.call("GET", `/api/channels/${channel}/messages?limit=100`));
    const row = history.messages.find((x: any) => x.id === g.id);
    expect([row.sender_id, row.sender_name]).toEqual([null, null]);
    const page = await (await ctx.request(`/c/${p.communityId}/ch/${channel}`, { headers: p.member.headers })).text();
    expect(page).toContain(`data-sender-name="${author.user.displayName}"`);
    expect(page).toContain("Deleted user");
  });
});

describe("open tabs hear viewers:changed", () => {
  test("a join reaches the community topic; an override reaches the channel's followers; a device reaches its owner's communities", async () => {
    const s = await socketFor(ctx, p.member, ws);
    sockets.push(s);
    await subscribe(s, [channel]);
    const joiner = await joinCommunity();
    expect(await s.nextOfType("viewers:changed")).toMatchObject({ communityId: p.communityId });
    await expectOk(p.owner.call("PUT", `/api/channels/${channel}/overrides`, { base_role: "member", allow: [], deny: [] }), 204);
    expect(await s.nextOfType("viewers:changed")).toMatchObject({ channelIds: [channel] });
    await expectOk(joiner.call("POST", "/api/keys/devices", registrationBody(newDevice(joiner.user.id))), 201);
    expect(await s.nextOfType("viewers:changed")).toMatchObject({ communityId: p.communityId });
  });
});
