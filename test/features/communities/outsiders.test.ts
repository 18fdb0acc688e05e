/**
 * Outsider matrix: every id-addressed route answers 404 to a signed-in non-member (and to an
 * instance admin holding every power: admin powers are not community powers), exactly as for an
 * id that does not exist. The same routes answer non-404 to a member, so the 404 is not an accident.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import sharp from "sharp";
import type { TestContext } from "../../helpers/app.ts";
import { client, communityTestContext, expectOk, populatedCommunity, type Client, type Populated } from "./helpers.ts";
import { registerTestDevice, sendBody } from "../messages/helpers.ts";

let ctx: TestContext;
let c: Populated;
let routes: [string, string, unknown?][];
let dmId: string;
let instanceAdmin: Client;

beforeAll(async () => {
  ctx = await communityTestContext();
  c = await populatedCommunity(ctx);
  instanceAdmin = await client(ctx, { isAdmin: true });
  const cid = c.communityId;
  const invite = await expectOk(c.owner.call("POST", `/api/communities/${cid}/invites`, {}), 201);
  const role = await expectOk(c.owner.call("POST", `/api/communities/${cid}/roles`, { name: "R", permissions: [] }), 201);
  const report = await expectOk(c.member.call("POST", "/api/reports", { community_id: cid, target_type: "user", target_id: c.moderator.user.id, reason: "rude" }), 201);
  // A message report carrying a file (issue 12 §7): its file is the moderators' only.
  await registerTestDevice(ctx, c.moderator.user.id);
  const reported = (await expectOk(c.moderator.call("POST", `/api/channels/${c.generalChannelId}/messages`, sendBody()), 201)).message.id;
  const messageReport = await expectOk(c.member.call("POST", "/api/reports", { community_id: cid, target_type: "message", target_id: reported, reason: "abuse" }), 201);
  const reportFile = await ctx.request(`/api/reports/${messageReport.id}/files?name=a.png&type=image/png`, { method: "POST", headers: { ...c.member.headers, "content-type": "application/octet-stream" }, body: new Uint8Array(10) });
  expect(reportFile.status).toBe(201);
  const reportFileId = ((await reportFile.json()) as { file: { id: string } }).file.id;
  dmId = (await expectOk(c.member.call("POST", "/api/dms", { user_id: c.moderator.user.id }))).channel_id;
  const voiceId = (await expectOk(c.owner.call("POST", `/api/groups/${c.groupId}/channels`, { name: "voice", kind: "voice" }), 201)).id;
  const uid = c.member.user.id;
  // Incoming webhooks (docs/integrations.md): managed by owners and admins of the channel only.
  const webhookId = (await expectOk(c.owner.call("POST", `/api/channels/${c.generalChannelId}/webhooks`, { name: "hook" }), 201)).id;
  // Files (docs/files.md): an upload of the member not in a message yet, and one their message carries.
  await registerTestDevice(ctx, uid);
  const startUpload = () => expectOk(c.member.call("POST", "/api/files/uploads", { channel_id: c.generalChannelId, size: 100, part_size: 4112, chunk_size: 4096 }), 201).then((b) => b.upload.id as string);
  const putPart = (id: string) => ctx.request(`/api/files/uploads/${id}/parts/0`, { method: "PUT", headers: { ...c.member.headers, "content-type": "application/octet-stream" }, body: new Uint8Array(100) });
  const uploadId = await startUpload();
  const attachedId = await startUpload();
  expect((await putPart(attachedId)).status).toBe(200);
  await expectOk(c.member.call("POST", `/api/channels/${c.generalChannelId}/messages`, { ...sendBody(), file_ids: [attachedId] }), 201);
  // Public images (docs/profiles.md): the member's avatar, the community's icon and one emoji.
  const image = new Uint8Array(await sharp({ create: { width: 8, height: 8, channels: 3, background: "#c33" } }).png().toBuffer());
  const putImage = async (method: string, path: string, who: Client) => {
    const res = await ctx.request(path, { method, headers: { ...who.headers, "content-type": "application/octet-stream" }, body: image });
    expect(res.ok).toBe(true);
    return (await res.json()) as Record<string, any>;
  };
  const avatarUrl = (await putImage("PUT", "/api/account/avatar", c.member)).avatar_url as string;
  const iconUrl = (await putImage("PUT", `/api/communities/${cid}/icon`, c.owner)).url as string;
  const emojiUrl = (await putImage("POST", `/api/communities/${cid}/emoji?shortcode=matrix_emoji`, c.owner)).emoji.url as string;
  routes = [
    // Edit history (issue 17 §6): a message's versions are the channel's readers' only.
    ["GET", `/api/messages/${reported}/versions`],
    ["GET", `/api/users/${uid}`],
    ["GET", avatarUrl],
    ["GET", iconUrl],
    ["GET", emojiUrl],
    ["PUT", `/api/communities/${cid}/nickname`, { nickname: "n" }],
    ["GET", `/api/communities/${cid}/appearance`],
    ["PUT", `/api/communities/${cid}/icon`],
    ["DELETE", `/api/communities/${cid}/icon`],
    ["PUT", `/api/communities/${cid}/banner`],
    ["DELETE", `/api/communities/${cid}/banner`],
    ["PUT", `/api/communities/${cid}/welcome`, { welcome_message: "w" }],
    ["GET", `/api/communities/${cid}/emoji`],
    ["POST", `/api/communities/${cid}/emoji?shortcode=outsider_emoji`],
    ["DELETE", `/api/communities/${cid}/emoji/matrix_emoji`],
    ["GET", `/api/communities/${cid}`],
    ["PATCH", `/api/communities/${cid}`, { name: "x" }],
    ["DELETE", `/api/communities/${cid}`, { confirm_name: "Test community" }],
    ["POST", `/api/communities/${cid}/transfer-ownership`, { new_owner_id: uid }],
    ["POST", `/api/communities/${cid}/leave`],
    ["POST", `/api/communities/${cid}/join`],
    ["GET", `/api/communities/${cid}/members`],
    ["PUT", `/api/communities/${cid}/members/${uid}/role`, { role: "member" }],
    ["PUT", `/api/communities/${cid}/members/${uid}/roles`, { role_ids: [] }],
    ["DELETE", `/api/communities/${cid}/members/${uid}`],
    ["GET", `/api/communities/${cid}/invites`],
    ["POST", `/api/communities/${cid}/invites`, {}],
    ["DELETE", `/api/communities/${cid}/invites/${invite.id}`],
    ["GET", `/api/communities/${cid}/roles`],
    ["POST", `/api/communities/${cid}/roles`, { name: "Z", permissions: [] }],
    ["PATCH", `/api/communities/${cid}/roles/${role.id}`, { name: "Y" }],
    ["DELETE", `/api/communities/${cid}/roles/${role.id}`],
    ["GET", `/api/communities/${cid}/groups`],
    ["POST", "/api/groups", { community_id: cid, name: "g" }],
    ["GET", `/api/groups/${c.groupId}`],
    ["PATCH", `/api/groups/${c.groupId}`, { name: "g" }],
    ["DELETE", `/api/groups/${c.groupId}`],
    ["GET", `/api/groups/${c.groupId}/channels`],
    ["POST", `/api/groups/${c.groupId}/channels`, { name: "c" }],
    ["GET", `/api/channels/${c.generalChannelId}`],
    ["PATCH", `/api/channels/${c.generalChannelId}`, { topic: "t" }],
    ["DELETE", `/api/channels/${c.generalChannelId}`],
    ["PUT", `/api/channels/${c.generalChannelId}/overrides`, { base_role: "member", allow: [], deny: [] }],
    ["POST", `/api/channels/${c.generalChannelId}/members`, { user_id: uid }],
    ["DELETE", `/api/channels/${c.generalChannelId}/members/${uid}`],
    ["GET", `/api/channels/${dmId}`],
    ["GET", `/api/dms/${dmId}`],
    // The profile card's data (issue 13 §9): acquaintances only.
    ["GET", `/api/users/${uid}/profile`],
    // Live key distribution and key requests (issue 11): the viewer list with devices, entitlements, key holders.
    ["GET", `/api/channels/${c.generalChannelId}/members`],
    ["GET", `/api/channels/${dmId}/members`],
    ["GET", `/api/channels/${c.generalChannelId}/key-entitlements?user_id=${uid}&ids=${crypto.randomUUID()}`],
    ["GET", `/api/channels/${dmId}/key-entitlements?user_id=${uid}&ids=${crypto.randomUUID()}`],
    ["GET", `/api/channels/${c.generalChannelId}/key-holders`],
    ["GET", `/api/channels/${dmId}/key-holders`],
    // Notification settings (issue 13 §4): members only.
    ["GET", `/api/communities/${cid}/notifications`],
    ["PUT", `/api/communities/${cid}/notifications`, { level: "all" }],
    ["GET", `/api/channels/${c.generalChannelId}/notifications`],
    ["PUT", `/api/channels/${c.generalChannelId}/notifications`, { mute: "1h" }],
    ["GET", `/api/channels/${dmId}/notifications`],
    ["PUT", `/api/channels/${dmId}/notifications`, { level: "none" }],
    ["GET", `/api/communities/${cid}/bans`],
    ["PUT", `/api/communities/${cid}/bans/${uid}`, {}],
    ["DELETE", `/api/communities/${cid}/bans/${uid}`],
    ["GET", `/api/communities/${cid}/timeouts`],
    ["PUT", `/api/communities/${cid}/timeouts/${uid}`, { duration_seconds: 60 }],
    ["DELETE", `/api/communities/${cid}/timeouts/${uid}`],
    ["GET", `/api/communities/${cid}/warnings?user_id=${uid}`],
    ["POST", `/api/communities/${cid}/warnings`, { user_id: uid, reason: "r" }],
    ["POST", "/api/reports", { community_id: cid, target_type: "user", target_id: uid, reason: "r" }],
    ["GET", `/api/communities/${cid}/reports`],
    ["POST", `/api/communities/${cid}/reports/${report.id}/resolve`],
    ["POST", `/api/reports/${messageReport.id}/files?name=b.png&type=image/png`],
    ["GET", `/api/communities/${cid}/reports/${messageReport.id}/files/${reportFileId}`],
    ["GET", `/api/communities/${cid}/audit-log`],
    // Voice (docs/voice.md): who is in a channel's or a conversation's call.
    ["GET", `/api/channels/${c.generalChannelId}/voice`],
    ["GET", `/api/channels/${voiceId}/voice`],
    ["GET", `/api/channels/${dmId}/voice`],
    ["GET", `/api/communities/${cid}/voice`],
    // Files: uploads are their uploader's only; a file is its message's readers' only.
    ["POST", "/api/files/uploads", { channel_id: c.generalChannelId, size: 100, part_size: 4112, chunk_size: 4096 }],
    ["GET", `/api/files/uploads/${uploadId}`],
    ["PUT", `/api/files/uploads/${uploadId}/parts/0`],
    ["DELETE", `/api/files/uploads/${uploadId}`],
    ["GET", `/api/files/${attachedId}`],
    ["GET", `/api/channels/${c.generalChannelId}/webhooks`],
    ["POST", `/api/channels/${c.generalChannelId}/webhooks`, { name: "x" }],
    ["POST", `/api/channels/${dmId}/webhooks`, { name: "x" }],
    ["DELETE", `/api/webhooks/${webhookId}`],
  ];
});
afterAll(() => ctx.close());

describe("outsider matrix", () => {
  test("every id-addressed route is 404 for a non-member and for an instance admin", async () => {
    const wrong: string[] = [];
    for (const who of [c.outsider, instanceAdmin]) {
      for (const [method, path, body] of routes) {
        const r = await who.call(method, path, body);
        if (r.status !== 404) wrong.push(`${who === c.outsider ? "outsider" : "instance admin"} ${method} ${path} -> ${r.status}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(routes.length).toBeGreaterThanOrEqual(40);
  });

  test("the 404 looks exactly like a missing id; a malformed id is a 400 before any lookup", async () => {
    const real = await c.outsider.call("GET", `/api/communities/${c.communityId}`);
    const missing = await c.outsider.call("GET", `/api/communities/${crypto.randomUUID()}`);
    const malformed = await c.outsider.call("GET", "/api/communities/not-a-uuid");
    expect(real.body).toEqual(missing.body);
    expect([malformed.status, malformed.body.error.code, Object.keys(malformed.body.error.fields)]).toEqual([400, "VALIDATION_ERROR", ["id"]]);
  });

  test("the same reads are not 404 for a member (the matrix is meaningful)", async () => {
    const reads = routes.filter(([m, p]) => m === "GET" && !p.includes(dmId));
    for (const [method, path] of reads) {
      const r = await c.member.call(method, path);
      expect([path, r.status === 404]).toEqual([path, false]);
    }
  });

  test("a DM cannot be read or joined by a third member of the same community", async () => {
    expect((await c.admin.call("GET", `/api/dms/${dmId}`)).status).toBe(404);
    expect((await c.admin.call("GET", `/api/channels/${dmId}`)).status).toBe(404);
    expect((await c.admin.call("POST", `/api/channels/${dmId}/members`, { user_id: c.admin.user.id })).status).toBe(404);
    expect((await c.admin.call("GET", `/api/channels/${dmId}/voice`)).status).toBe(404);
    const mine = await expectOk(c.admin.call("GET", "/api/dms"));
    expect(mine.dms.map((d: any) => d.channel_id)).not.toContain(dmId);
  });
});
