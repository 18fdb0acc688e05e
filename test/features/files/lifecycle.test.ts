/**
 * The files lifecycle (docs/files.md "Lifecycle"): every release path returns the quota, the
 * files job removes exactly the blobs no row holds (never a live or scheduled message's), a
 * scheduled message's file goes out with it, and no plaintext marker reaches the database, the
 * blob store or the logs.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestContext } from "../../helpers/app.ts";
import { client, expectOk, messagingContext, populatedCommunity, send, type Client, type Populated } from "../messages/helpers.ts";
import { deliverScheduledMessages, processMessagePurges } from "../../../src/features/messages/index.ts";
import { collectFiles as collect } from "../../../src/features/files/index.ts";
import { newBlobId } from "../../../src/blobs/index.ts";
import { encryptAttachmentStream, generateAttachmentKey } from "../../../src/client/e2ee/attachments.ts";
import { TEST_PASSWORD } from "../../helpers/users.ts";
import { scanForPlaintext } from "../../helpers/plaintext-scan.ts";
import { download, quotaOf, randomBytes, upload } from "./helpers.ts";

let ctx: TestContext;
let p: Populated;
let channel: string;
const HOUR = 3600 * 1000;

beforeAll(async () => {
  ctx = await messagingContext({ captureLogs: true });
  p = await populatedCommunity(ctx);
  channel = p.generalChannelId;
}, 60_000);
afterAll(() => ctx.close());

async function blobIdOf(fileId: string): Promise<string | undefined> {
  return (await ctx.database.db.selectFrom("files").select("blob_id").where("id", "=", fileId).executeTakeFirst())?.blob_id;
}

async function storedBlobs(): Promise<Set<string>> {
  const ids = new Set<string>();
  let after: any;
  do {
    const page = await ctx.deps.blobs!.listBlobs({ after, limit: 1000 });
    for (const b of page.blobs) ids.add(b.id);
    after = page.next;
  } while (after);
  return ids;
}

async function joined(): Promise<Client> {
  const c = await client(ctx);
  const invite = await expectOk(p.owner.call("POST", `/api/communities/${p.communityId}/invites`, {}), 201);
  await expectOk(c.call("POST", `/api/community-invites/${invite.code}/accept`));
  return c;
}

describe("release paths", () => {
  test("deleting a message releases its file's quota at once; the job removes the blob", async () => {
    const { id } = await upload(ctx, p.member, channel, randomBytes(6000));
    const m = await send(p.member, channel, { file_ids: [id] });
    const blob = (await blobIdOf(id))!;
    expect(await quotaOf(p.member)).toBe(6000);
    expect((await p.member.call("DELETE", `/api/messages/${m.id}`)).status).toBe(204);
    expect(await quotaOf(p.member)).toBe(0);
    expect((await download(ctx, p.member, id)).status).toBe(404);
    const done = await collect(ctx.deps);
    expect(done.released).toBe(1);
    expect((await storedBlobs()).has(blob)).toBe(false);
  });

  test("a ban with message purge releases the banned user's files", async () => {
    const victim = await joined();
    const { id } = await upload(ctx, victim, channel, randomBytes(3000));
    await send(victim, channel, { file_ids: [id] });
    expect(await quotaOf(victim)).toBe(3000);
    await expectOk(p.admin.call("PUT", `/api/communities/${p.communityId}/bans/${victim.user.id}`, { delete_message_days: 1 }), 204);
    expect(await processMessagePurges(ctx.deps)).toBe(1);
    const row = await ctx.database.db.selectFrom("files").select("released_at").where("id", "=", id).executeTakeFirstOrThrow();
    expect(row.released_at).not.toBeNull();
    expect((await download(ctx, p.member, id)).status).toBe(404);
  });

  test("account deletion removes the user's files; the orphan walk removes their blobs", async () => {
    const leaving = await joined();
    const { id } = await upload(ctx, leaving, channel, randomBytes(2000));
    await send(leaving, channel, { file_ids: [id] });
    const blob = (await blobIdOf(id))!;
    expect((await leaving.call("DELETE", "/api/account", { password: TEST_PASSWORD })).status).toBe(204);
    expect(await blobIdOf(id)).toBeUndefined();
    expect((await storedBlobs()).has(blob)).toBe(true);
    const done = await collect(ctx.deps, { orphanGraceMs: 0 });
    expect(done.orphans).toBeGreaterThanOrEqual(1);
    expect((await storedBlobs()).has(blob)).toBe(false);
  });
});

describe("orphan collection", () => {
  test("removes only unreferenced blobs: expired sessions and orphans go; live, scheduled, in-progress and young ones stay", async () => {
    await collect(ctx.deps, { orphanGraceMs: 0 });
    // A live message's file, a scheduled message's file, an upload in progress, an expired upload.
    const live = await upload(ctx, p.member, channel, randomBytes(1000));
    await send(p.member, channel, { file_ids: [live.id] });
    const scheduledFile = await upload(ctx, p.member, channel, randomBytes(1500));
    const sendAt = new Date(Date.now() + 48 * HOUR).toISOString();
    const scheduled = (await expectOk(p.member.call("POST", `/api/channels/${channel}/scheduled`, { client_id: crypto.randomUUID(), scheme: "sk", ciphertext: Buffer.from("z".repeat(40)).toString("base64url"), sender_device_id: "dev1", send_at: sendAt, file_ids: [scheduledFile.id] }), 201)).scheduled;
    const progress = (await expectOk(p.member.call("POST", "/api/files/uploads", { channel_id: channel, size: 9000, part_size: 4112, chunk_size: 4096 }), 201)).upload;
    await ctx.request(`/api/files/uploads/${progress.id}/parts/0`, { method: "PUT", headers: { ...p.member.headers, "content-type": "application/octet-stream" }, body: randomBytes(4112) });
    const expiring = await upload(ctx, p.member, channel, randomBytes(700));
    await ctx.database.db.updateTable("files").set({ expires_at: new Date(Date.now() - 1000) }).where("id", "=", expiring.id).execute();
    // Blobs no row knows (written just now: inside the grace period at first).
    const orphanA = newBlobId();
    const orphanB = newBlobId();
    await ctx.deps.blobs!.writePart(orphanA, 0, randomBytes(100));
    await ctx.deps.blobs!.writePart(orphanB, 0, randomBytes(100));
    const keep = await Promise.all([live.id, scheduledFile.id, progress.id].map(async (id) => (await blobIdOf(id))!));
    const expiredBlob = (await blobIdOf(expiring.id))!;
    const usedBefore = await quotaOf(p.member);
    // Now, with the default grace of an hour: the expired session goes; young orphans stay.
    const done = await collect(ctx.deps);
    expect([done.expired, done.orphans]).toEqual([1, 0]);
    const stored = await storedBlobs();
    expect([...keep, expiredBlob, orphanA, orphanB].map((b) => stored.has(b))).toEqual([true, true, true, false, true, true]);
    expect(await quotaOf(p.member)).toBe(usedBefore - 700);
    // 26 h on: the orphans are past the grace and the in-progress session expired; the live and
    // the scheduled message's files stay.
    const later = await collect(ctx.deps, { now: new Date(Date.now() + 26 * HOUR) });
    const after = await storedBlobs();
    expect([...keep, orphanA, orphanB].map((b) => after.has(b))).toEqual([true, true, false, false, false]);
    expect([later.expired, later.orphans]).toEqual([1, 2]);
    // The scheduled message goes out with its file: a channel member can now download it.
    expect(await deliverScheduledMessages(ctx.deps, new Date(Date.now() + 49 * HOUR))).toEqual({ sent: 1, failed: 0 });
    const row = await ctx.database.db.selectFrom("scheduled_messages").select(["status", "message_id"]).where("id", "=", scheduled.id).executeTakeFirstOrThrow();
    expect(row.status).toBe("sent");
    const file = await ctx.database.db.selectFrom("files").select("message_id").where("id", "=", scheduledFile.id).executeTakeFirstOrThrow();
    expect(file.message_id).toBe(row.message_id);
    expect((await download(ctx, p.admin, scheduledFile.id)).status).toBe(200);
  });
});

describe("plaintext scan", () => {
  test("a file and its name with markers: no marker in the database, the blob store or the logs", async () => {
    const marker = `FILEMARKER-${crypto.randomUUID()}`;
    const nameMarker = `NAMEMARKER-${crypto.randomUUID()}.pdf`;
    const control = `CONTROL-${crypto.randomUUID()}`;
    const plaintext = new TextEncoder().encode(`${marker} `.repeat(5000));
    const key = generateAttachmentKey();
    const { stream } = await encryptAttachmentStream(key, new Blob([plaintext]).stream(), 4096);
    const ciphertext = new Uint8Array(await new Response(stream).arrayBuffer());
    const { id } = await upload(ctx, p.member, channel, ciphertext);
    // The message carries the name (encrypted: here with the same attachment cipher, as a stand-in for Sender Keys).
    const meta = await encryptAttachmentStream(key, new Blob([JSON.stringify({ id, name: nameMarker })]).stream(), 4096);
    const sealedMeta = Buffer.from(await new Response(meta.stream).arrayBuffer()).toString("base64url");
    await expectOk(p.member.call("POST", `/api/channels/${channel}/messages`, { client_id: crypto.randomUUID(), scheme: "sk", ciphertext: sealedMeta, sender_device_id: "dev1", file_ids: [id] }), 201);
    // The control is stored in clear as a blob and logged, to prove the scan reaches both.
    await ctx.deps.blobs!.writePart(newBlobId(), 0, new TextEncoder().encode(control));
    ctx.deps.log.info("files.test_control", { control });
    const result = await scanForPlaintext({ database: ctx.database, dataDir: ctx.dataDir, markers: [marker, nameMarker], control, blobs: ctx.config.files.storage, logs: ctx.logs });
    expect(result.hits).toEqual([]);
    expect(result.controlFoundIn.has("blobs") || result.controlFoundIn.has("files")).toBe(true);
    expect(result.controlFoundIn.has("logs")).toBe(true);
  });
});
