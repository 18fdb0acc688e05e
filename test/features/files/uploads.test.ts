/**
 * Upload sessions and downloads (docs/files.md): parts in order, resume from the acknowledged
 * parts, refusals with codes and nothing left behind, the size limit declared and streamed, the
 * quota under 20 concurrent starts, Range downloads, who may download.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import type { TestContext } from "../../helpers/app.ts";
import { expectOk, messagingContext, populatedCommunity, send, socketFor, type Populated } from "../messages/helpers.ts";
import { listen } from "../../helpers/ws.ts";
import { signIn } from "../../helpers/users.ts";
import { chunked, download, putPart, quotaOf, randomBytes, SEALED, upload } from "./helpers.ts";

let ctx: TestContext;
let p: Populated;
let channel: string;

beforeAll(async () => {
  ctx = await messagingContext();
  p = await populatedCommunity(ctx);
  channel = p.generalChannelId;
}, 60_000);
afterAll(() => ctx.close());

function filesOnDisk(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(`${d}/${e.name}`);
      else out.push(`${d}/${e.name}`);
    }
  };
  try {
    walk(dir);
  } catch {}
  return out.filter((f) => !f.includes("/.tmp/"));
}

describe("upload sessions", () => {
  test("parts in order, status lists the acknowledged ones, the last part completes the upload", async () => {
    const bytes = randomBytes(SEALED * 10 + 100); // 3 parts of 4 chunks: 4, 4, 2 chunks + 100 bytes
    const start = await expectOk(p.member.call("POST", "/api/files/uploads", { channel_id: channel, size: bytes.length, part_size: SEALED * 4, chunk_size: 4096 }), 201);
    const u = start.upload;
    expect([u.part_count, u.complete, u.parts]).toEqual([3, false, []]);
    expect((await putPart(ctx, p.member, u.id, 0, bytes.subarray(0, SEALED * 4))).body).toEqual({ part: 0, size: SEALED * 4, parts_received: 1, complete: false });
    // Out of order: part 2 before part 1.
    const skipped = await putPart(ctx, p.member, u.id, 2, bytes.subarray(SEALED * 8));
    expect([skipped.status, skipped.body.error.code]).toEqual([409, "PART_OUT_OF_ORDER"]);
    // A retried part replaces itself.
    expect((await putPart(ctx, p.member, u.id, 0, bytes.subarray(0, SEALED * 4))).status).toBe(200);
    const status = await expectOk(p.member.call("GET", `/api/files/uploads/${u.id}`));
    expect(status.upload.parts).toEqual([{ part: 0, size: SEALED * 4 }]);
    expect((await putPart(ctx, p.member, u.id, 1, chunked(bytes.subarray(SEALED * 4, SEALED * 8)))).status).toBe(200);
    const last = await putPart(ctx, p.member, u.id, 2, bytes.subarray(SEALED * 8));
    expect(last.body).toEqual({ part: 2, size: SEALED * 2 + 100, parts_received: 3, complete: true });
    const again = await putPart(ctx, p.member, u.id, 0, bytes.subarray(0, SEALED * 4));
    expect([again.status, again.body.error.code]).toEqual([409, "UPLOAD_COMPLETE"]);
    const got = await download(ctx, p.member, u.id);
    expect([got.status, got.headers.get("content-length"), got.headers.get("accept-ranges")]).toEqual([200, String(bytes.length), "bytes"]);
    expect(Buffer.from(got.bytes).equals(Buffer.from(bytes))).toBe(true);
  });

  test("refusals carry a code and store nothing: wrong type, short part, other user, unknown, bad part number", async () => {
    const bytes = randomBytes(SEALED * 2);
    const u = (await expectOk(p.member.call("POST", "/api/files/uploads", { channel_id: channel, size: bytes.length, part_size: SEALED, chunk_size: 4096 }), 201)).upload;
    const json = await putPart(ctx, p.member, u.id, 0, bytes.subarray(0, SEALED), "application/json");
    expect([json.status, json.body.error.code]).toEqual([415, "UNSUPPORTED_MEDIA_TYPE"]);
    const short = await putPart(ctx, p.member, u.id, 0, chunked(bytes.subarray(0, SEALED - 1)));
    expect([short.status, short.body.error.code]).toEqual([400, "PART_INCOMPLETE"]);
    const other = await putPart(ctx, p.admin, u.id, 0, bytes.subarray(0, SEALED));
    const unknown = await putPart(ctx, p.admin, crypto.randomUUID(), 0, bytes.subarray(0, SEALED));
    expect([other.status, other.body]).toEqual([404, unknown.body]);
    expect((await p.admin.call("GET", `/api/files/uploads/${u.id}`)).status).toBe(404);
    expect((await p.admin.call("DELETE", `/api/files/uploads/${u.id}`)).status).toBe(404);
    const range = await putPart(ctx, p.member, u.id, 7, bytes.subarray(0, SEALED));
    expect([range.status, range.body.error.code]).toEqual([400, "INVALID_PART"]);
    const badSize = await p.member.call("POST", "/api/files/uploads", { channel_id: channel, size: 100, part_size: 5000, chunk_size: 4096 });
    expect([badSize.status, badSize.body.error.code]).toEqual([400, "INVALID_PART_SIZE"]);
    expect((await expectOk(p.member.call("GET", `/api/files/uploads/${u.id}`))).upload.parts).toEqual([]);
    // Not readable until complete; cancelling releases the reservation.
    expect((await download(ctx, p.member, u.id)).status).toBe(404);
    const before = await quotaOf(p.member);
    expect((await p.member.call("DELETE", `/api/files/uploads/${u.id}`)).status).toBe(204);
    expect(await quotaOf(p.member)).toBe(before - bytes.length);
  });

  test("a channel the uploader cannot see or post in is refused at the start", async () => {
    const outsider = await p.outsider.call("POST", "/api/files/uploads", { channel_id: channel, size: 100, part_size: SEALED, chunk_size: 4096 });
    expect([outsider.status, outsider.body.error.code]).toEqual([404, "NOT_FOUND"]);
    await expectOk(p.owner.call("PUT", `/api/channels/${channel}/overrides`, { base_role: "member", allow: [], deny: ["send_messages"] }), 204);
    const denied = await p.member.call("POST", "/api/files/uploads", { channel_id: channel, size: 100, part_size: SEALED, chunk_size: 4096 });
    await expectOk(p.owner.call("PUT", `/api/channels/${channel}/overrides`, { base_role: "member", allow: [], deny: [] }), 204);
    expect([denied.status, denied.body.error.code]).toEqual([403, "PERMISSION_DENIED"]);
  });
});

describe("downloads", () => {
  test("Range: aligned, arbitrary, suffix, open-ended; 416 outside; unattached uploads only to the uploader", async () => {
    const bytes = randomBytes(SEALED * 9 + 17);
    const { id } = await upload(ctx, p.member, channel, bytes, 2);
    const cases: [string, number, number][] = [
      [`bytes=${SEALED * 3}-${SEALED * 5 - 1}`, SEALED * 3, SEALED * 5], // two chunks across a part boundary
      ["bytes=5-5", 5, 6],
      ["bytes=100-", 100, bytes.length],
      ["bytes=-30", bytes.length - 30, bytes.length],
      [`bytes=10-${bytes.length * 2}`, 10, bytes.length],
    ];
    for (const [range, start, end] of cases) {
      const got = await download(ctx, p.member, id, range);
      expect([range, got.status, got.headers.get("content-range")]).toEqual([range, 206, `bytes ${start}-${end - 1}/${bytes.length}`]);
      expect(Buffer.from(got.bytes).equals(Buffer.from(bytes.subarray(start, end)))).toBe(true);
    }
    const outside = await download(ctx, p.member, id, `bytes=${bytes.length}-`);
    expect([outside.status, outside.headers.get("content-range"), JSON.parse(new TextDecoder().decode(outside.bytes)).error.code]).toEqual([416, `bytes */${bytes.length}`, "RANGE_NOT_SATISFIABLE"]);
    // Not attached yet: the uploader only; a channel member gets the unknown-id answer.
    const member = await ctx.request(`/api/files/${id}`, { headers: p.admin.headers });
    const unknown = await ctx.request(`/api/files/${crypto.randomUUID()}`, { headers: p.admin.headers });
    expect([member.status, await member.json()]).toEqual([404, await unknown.json()]);
  });

  test("attached: channel viewers read it; outsider, kicked member, member denied view_channel get 404 like an unknown id", async () => {
    const bytes = randomBytes(5000);
    const { id } = await upload(ctx, p.member, channel, bytes);
    const sent = await send(p.member, channel, { file_ids: [id] });
    expect(sent.id).toBeString();
    for (const viewer of [p.member, p.admin, p.moderator, p.owner]) expect((await download(ctx, viewer, id)).status).toBe(200);
    const unknown = await (await ctx.request(`/api/files/${crypto.randomUUID()}`, { headers: p.outsider.headers })).json();
    const bodyOf = async (headers: Record<string, string>) => {
      const r = await ctx.request(`/api/files/${id}`, { headers });
      return [r.status, await r.json()];
    };
    expect(await bodyOf(p.outsider.headers)).toEqual([404, unknown]);
    // Denied view_channel by an override.
    await expectOk(p.owner.call("PUT", `/api/channels/${channel}/overrides`, { base_role: "member", allow: [], deny: ["view_channel"] }), 204);
    expect(await bodyOf(p.member.headers)).toEqual([404, unknown]);
    await expectOk(p.owner.call("PUT", `/api/channels/${channel}/overrides`, { base_role: "member", allow: [], deny: [] }), 204);
    expect((await download(ctx, p.member, id)).status).toBe(200);
    // A file already in a message cannot be sent again.
    const reused = await p.member.call("POST", `/api/channels/${channel}/messages`, { client_id: crypto.randomUUID(), scheme: "sk", ciphertext: Buffer.from("x".repeat(40)).toString("base64url"), sender_device_id: "dev1", file_ids: [id] });
    expect([reused.status, reused.body.error.code]).toEqual([400, "INVALID_FILE_IDS"]);
    // Kicked.
    await expectOk(p.owner.call("DELETE", `/api/communities/${p.communityId}/members/${p.moderator.user.id}`), 204);
    expect(await bodyOf(p.moderator.headers)).toEqual([404, unknown]);
  });

  test("a message:send frame over the socket carries fileIds too", async () => {
    const bytes = randomBytes(2500);
    const { id } = await upload(ctx, p.member, channel, bytes);
    const { ws } = await listen(ctx);
    const socket = await socketFor(ctx, p.member, ws);
    try {
      socket.send({ type: "message:send", ref: "f1", channelId: channel, clientId: crypto.randomUUID(), scheme: "sk", ciphertext: Buffer.from("w".repeat(40)).toString("base64url"), senderDeviceId: "dev1", fileIds: [id] });
      const sent = await socket.nextOfType("message:sent");
      expect(sent.ref).toBe("f1");
      const row = await ctx.database.db.selectFrom("files").select("message_id").where("id", "=", id).executeTakeFirstOrThrow();
      expect(row.message_id).toBe((sent.message as { id: string }).id);
      expect((await download(ctx, p.admin, id)).status).toBe(200);
    } finally {
      socket.close();
    }
  });

  test("a download in progress stops when its session is revoked; the revoked session then gets 401", async () => {
    const bytes = randomBytes(3 * 1024 * 1024);
    const { id } = await upload(ctx, p.member, channel, bytes, 256);
    const session = await signIn(ctx, p.member.user);
    const res = await ctx.request(`/api/files/${id}`, { headers: session.headers });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);
    expect((await p.member.call("DELETE", `/api/account/sessions/${session.sessionId}`)).status).toBe(204);
    let received = first.value!.byteLength;
    const rest = (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return "completed";
        received += value.byteLength;
      }
    })();
    expect(await rest.catch(() => "stopped")).toBe("stopped");
    expect(received).toBeLessThan(bytes.length);
    expect((await ctx.request(`/api/files/${id}`, { headers: session.headers })).status).toBe(401);
    expect((await download(ctx, p.member, id)).status).toBe(200);
  });

  test("another user's upload, or another channel's, cannot be attached", async () => {
    const { id } = await upload(ctx, p.member, channel, randomBytes(3000));
    const other = await p.admin.call("POST", `/api/channels/${channel}/messages`, { client_id: crypto.randomUUID(), scheme: "sk", ciphertext: Buffer.from("y".repeat(40)).toString("base64url"), sender_device_id: "dev1", file_ids: [id] });
    expect([other.status, other.body.error.code]).toEqual([400, "INVALID_FILE_IDS"]);
    const bad = await p.member.call("POST", `/api/channels/${channel}/messages`, { client_id: crypto.randomUUID(), scheme: "sk", ciphertext: Buffer.from("y".repeat(40)).toString("base64url"), sender_device_id: "dev1", file_ids: ["nope"] });
    expect([bad.status, bad.body.error.code]).toEqual([400, "INVALID_FILE_IDS"]);
    // The refused sends stored no message.
    const history = await expectOk(p.member.call("GET", `/api/channels/${channel}/messages?limit=100`));
    expect(JSON.stringify(history)).not.toContain(Buffer.from("y".repeat(40)).toString("base64url"));
  });
});

describe("limits", () => {
  let small: TestContext;
  let q: Populated;
  beforeAll(async () => {
    small = await messagingContext({ env: { MAX_FILE_SIZE_MB: "1", UPLOAD_QUOTA_MB: "2" } });
    q = await populatedCommunity(small);
  }, 60_000);
  afterAll(() => small.close());

  test("MAX_FILE_SIZE_MB=1: 1 MiB + 1 byte refused when declared and when streamed; nothing on disk, no quota charged", async () => {
    const ch = q.generalChannelId;
    // 1 MiB + 1 plaintext bytes in 64 KiB chunks: 17 chunks.
    const over = 1024 * 1024 + 1 + 17 * 16;
    const declared = await q.member.call("POST", "/api/files/uploads", { channel_id: ch, size: over, part_size: (65536 + 16) * 16 });
    expect([declared.status, declared.body.error.code]).toEqual([413, "FILE_TOO_LARGE"]);
    // 1 MiB exactly fits (16 chunks).
    const fits = 1024 * 1024 + 16 * 16;
    const u = (await expectOk(q.member.call("POST", "/api/files/uploads", { channel_id: ch, size: fits, part_size: (65536 + 16) * 16 }), 201)).upload;
    expect(u.part_count).toBe(1);
    // Streamed without a length, one byte more than declared: refused mid-stream, the session cancelled.
    const streamed = await putPart(small, q.member, u.id, 0, chunked(randomBytes(fits + 1), 8));
    expect([streamed.status, streamed.body.error.code]).toEqual([413, "PART_TOO_LARGE"]);
    // A declared Content-Length over the part: refused before reading.
    const u2 = (await expectOk(q.member.call("POST", "/api/files/uploads", { channel_id: ch, size: 1000, part_size: 65536 + 16 }), 201)).upload;
    const res = await small.request(`/api/files/uploads/${u2.id}/parts/0`, { method: "PUT", headers: { ...q.member.headers, "content-type": "application/octet-stream", "content-length": "1001" }, body: randomBytes(1001) as Uint8Array<ArrayBuffer> });
    const declaredPart = { status: res.status, body: await res.json() };
    expect([declaredPart.status, declaredPart.body.error.code]).toEqual([413, "PART_TOO_LARGE"]);
    expect((await q.member.call("DELETE", `/api/files/uploads/${u2.id}`)).status).toBe(204);
    expect(filesOnDisk(small.config.files.storagePath)).toEqual([]);
    expect(await quotaOf(q.member)).toBe(0);
    expect((await q.member.call("GET", `/api/files/uploads/${u.id}`)).status).toBe(404);
  });

  test("UPLOAD_QUOTA_MB=2: of 20 concurrent 200 KB uploads exactly 10 succeed; releases return the bytes", async () => {
    const ch = q.generalChannelId;
    const size = 200 * 1024;
    const results = await Promise.all(Array.from({ length: 20 }, () => upload(small, q.admin, ch, randomBytes(size), 16)));
    const ok = results.filter((r) => r.status === 200 && r.body.complete);
    const refused = results.filter((r) => r.status === 413);
    expect([ok.length, refused.length]).toEqual([10, 10]);
    expect(new Set(refused.map((r) => r.body.error.code))).toEqual(new Set(["UPLOAD_QUOTA_EXCEEDED"]));
    expect(await quotaOf(q.admin)).toBe(10 * size);
    // Cancel one: its bytes return, and one more upload fits.
    expect((await q.admin.call("DELETE", `/api/files/uploads/${ok[0]!.id}`)).status).toBe(204);
    expect(await quotaOf(q.admin)).toBe(9 * size);
    expect((await upload(small, q.admin, ch, randomBytes(size), 16)).body.complete).toBe(true);
    const more = await upload(small, q.admin, ch, randomBytes(size), 16);
    expect([more.status, more.body.error.code]).toEqual([413, "UPLOAD_QUOTA_EXCEEDED"]);
  });
});
