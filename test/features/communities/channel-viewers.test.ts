/**
 * GET /api/channels/{id}/members lists exactly who can see a channel: the recipients of the
 * channel's sender keys. A private channel's key must not reach community members outside it.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { TestContext } from "../../helpers/app.ts";
import { communityTestContext, expectOk, populatedCommunity, type Populated } from "./helpers.ts";

let ctx: TestContext;
let p: Populated;
beforeAll(async () => {
  ctx = await communityTestContext();
  p = await populatedCommunity(ctx);
});
afterAll(() => ctx.close());

const ids = (body: { members: { user_id: string }[] }) => body.members.map((m) => m.user_id).sort();

test("a public channel: every member, nobody else", async () => {
  const body = await expectOk(p.member.call("GET", `/api/channels/${p.generalChannelId}/members`));
  expect(ids(body)).toEqual([p.owner, p.admin, p.moderator, p.member].map((c) => c.user.id).sort());
  expect((await p.outsider.call("GET", `/api/channels/${p.generalChannelId}/members`)).status).toBe(404);
});

test("a private channel: its members plus owner and admins; a member outside it gets 404", async () => {
  const channel = await expectOk(p.owner.call("POST", `/api/groups/${p.groupId}/channels`, { name: "secret", kind: "text", is_private: true }), 201);
  await expectOk(p.owner.call("POST", `/api/channels/${channel.id}/members`, { user_id: p.moderator.user.id }), 204);
  const body = await expectOk(p.moderator.call("GET", `/api/channels/${channel.id}/members`));
  expect(ids(body)).toContain(p.moderator.user.id);
  expect(ids(body)).toContain(p.owner.user.id);
  expect(ids(body)).not.toContain(p.member.user.id);
  expect((await p.member.call("GET", `/api/channels/${channel.id}/members`)).status).toBe(404);
});

test("a deny override for members hides a public channel from them in the list", async () => {
  const channel = await expectOk(p.owner.call("POST", `/api/groups/${p.groupId}/channels`, { name: "staff", kind: "text" }), 201);
  await expectOk(p.owner.call("PUT", `/api/channels/${channel.id}/overrides`, { base_role: "member", allow: [], deny: ["view_channel"] }), 204);
  const body = await expectOk(p.admin.call("GET", `/api/channels/${channel.id}/members`));
  expect(ids(body)).not.toContain(p.member.user.id);
  expect(ids(body)).toContain(p.moderator.user.id);
});
