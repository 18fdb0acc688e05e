/**
 * The calls the messaging, reactions, voice and WebSocket features will make: authorizeChannelAction
 * (one decision per act, specific error codes) and listSubscriptionTopics (what a socket joins).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestContext } from "../../helpers/app.ts";
import { client, communityTestContext, expectOk, populatedCommunity, type Client, type Populated } from "./helpers.ts";
import { authorizeChannelAction, listSubscriptionTopics } from "../../../src/features/channels/index.ts";
import type { AppError } from "../../../src/errors.ts";

let ctx: TestContext;
let c: Populated;
const actor = (x: Client, isOwner = false) => ({ userId: x.user.id, isOwner });

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "OK";
  } catch (error) {
    return (error as AppError).code;
  }
}

beforeAll(async () => {
  ctx = await communityTestContext();
  c = await populatedCommunity(ctx);
});
afterAll(() => ctx.close());

describe("authorizeChannelAction", () => {
  test("codes: read-only, archived, timed out, outsider, slow mode exemption", async () => {
    const db = ctx.database.db;
    const now = new Date();
    const ch = c.generalChannelId;
    await expectOk(c.admin.call("PATCH", `/api/channels/${ch}`, { slow_mode_seconds: 30, message_ttl_seconds: 3600 }));
    const ok = await authorizeChannelAction(db, actor(c.member), ch, "send_message", now);
    expect([ok.slowModeSeconds, ok.messageTtlSeconds]).toEqual([30, 3600]);
    expect((await authorizeChannelAction(db, actor(c.moderator), ch, "send_message", now)).slowModeSeconds).toBe(0);
    expect(await codeOf(authorizeChannelAction(db, actor(c.outsider), ch, "view_channel", now))).toBe("NOT_FOUND");
    await expectOk(c.admin.call("PATCH", `/api/channels/${ch}`, { read_only: true }));
    expect(await codeOf(authorizeChannelAction(db, actor(c.member), ch, "send_message", now))).toBe("READ_ONLY");
    expect(await codeOf(authorizeChannelAction(db, actor(c.member), ch, "react", now))).toBe("OK");
    await expectOk(c.admin.call("PATCH", `/api/channels/${ch}`, { read_only: false, archived: true }));
    expect(await codeOf(authorizeChannelAction(db, actor(c.admin), ch, "send_message", now))).toBe("ARCHIVED");
    await expectOk(c.admin.call("PATCH", `/api/channels/${ch}`, { archived: false }));
    await expectOk(c.moderator.call("PUT", `/api/communities/${c.communityId}/timeouts/${c.member.user.id}`, { duration_seconds: 60 }));
    for (const a of ["send_message", "react", "mention_everyone"] as const) expect(await codeOf(authorizeChannelAction(db, actor(c.member), ch, a, now))).toBe("TIMED_OUT");
    expect(await codeOf(authorizeChannelAction(db, actor(c.member), ch, "view_channel", now))).toBe("OK");
    await expectOk(c.moderator.call("DELETE", `/api/communities/${c.communityId}/timeouts/${c.member.user.id}`), 204);
  });

  test("DMs: participants only, nothing across a block", async () => {
    const db = ctx.database.db;
    const dm = await expectOk(c.member.call("POST", "/api/dms", { user_id: c.admin.user.id }));
    expect(await codeOf(authorizeChannelAction(db, actor(c.member), dm.channel_id, "send_message", new Date()))).toBe("OK");
    expect(await codeOf(authorizeChannelAction(db, actor(c.moderator), dm.channel_id, "view_channel", new Date()))).toBe("NOT_FOUND");
    await expectOk(c.admin.call("POST", "/api/users/blocks", { user_id: c.member.user.id }), 204);
    expect(await codeOf(authorizeChannelAction(db, actor(c.member), dm.channel_id, "send_message", new Date()))).toBe("BLOCKED");
    await expectOk(c.admin.call("DELETE", `/api/users/blocks/${c.member.user.id}`), 204);
  });
});

describe("listSubscriptionTopics", () => {
  test("own topic, communities, visible channels, DMs, moderators' topic only for reviewers", async () => {
    const db = ctx.database.db;
    const secret = await expectOk(c.admin.call("POST", `/api/groups/${c.groupId}/channels`, { name: "staff", is_private: true }), 201);
    const dm = await expectOk(c.member.call("POST", "/api/dms", { user_id: c.moderator.user.id }));
    const member = await listSubscriptionTopics(db, actor(c.member), new Date());
    expect(member).toContain(`user:${c.member.user.id}`);
    expect(member).toContain(`community:${c.communityId}`);
    expect(member).toContain(`channel:${c.generalChannelId}`);
    expect(member).toContain(`channel:${dm.channel_id}`);
    expect(member).not.toContain(`channel:${secret.id}`);
    expect(member).not.toContain(`community:${c.communityId}:moderators`);
    const mod = await listSubscriptionTopics(db, actor(c.moderator), new Date());
    expect(mod).toContain(`community:${c.communityId}:moderators`);
    const admin = await listSubscriptionTopics(db, actor(c.admin), new Date());
    expect(admin).toContain(`channel:${secret.id}`);
    const stranger = await client(ctx);
    expect(await listSubscriptionTopics(db, actor(stranger), new Date())).toEqual([`user:${stranger.user.id}`]);
  });
});
