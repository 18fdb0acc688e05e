/**
 * Files attached to a report (issue 12 §7, src/features/moderation/report-files.ts): the reporter
 * sends the decrypted bytes of a message's file; the community's moderators read them back
 * (images inline, the rest as downloads). Bounds (10 MB per report, declared or streamed; 10
 * files), refusals that store nothing, who may add (the reporter, 404 for anyone else exactly
 * like an unknown id) and read (moderators; members 403, outsiders 404), and the cascade with
 * the report and its community.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "kysely";
import type { TestContext } from "../../helpers/app.ts";
import { cookieSignIn } from "../../helpers/users.ts";
import { communityTestContext, expectOk, populatedCommunity, type Client, type Populated } from "./helpers.ts";
import { registerTestDevice, sendBody } from "../messages/helpers.ts";
import { REPORT_FILES_BODY_BUDGET, REPORT_FILES_MAX_BYTES, REPORT_FILES_MAX_COUNT } from "../../../src/features/moderation/index.ts";

let ctx: TestContext;
let c: Populated;
let messageId = "";

beforeAll(async () => {
  ctx = await communityTestContext();
  c = await populatedCommunity(ctx);
  await registerTestDevice(ctx, c.admin.user.id);
  messageId = (await expectOk(c.admin.call("POST", `/api/channels/${c.generalChannelId}/messages`, sendBody()), 201)).message.id;
});
afterAll(() => ctx.close());

const report = async (who: Client = c.member, target: { type: string; id: string } = { type: "message", id: messageId }) =>
  (await expectOk(who.call("POST", "/api/reports", { community_id: c.communityId, target_type: target.type, target_id: target.id, reason: "abuse" }), 201)).id as string;

function upload(who: Client, reportId: string, body: BodyInit, opts: { name?: string; type?: string; contentType?: string; headers?: Record<string, string> } = {}) {
  const q = new URLSearchParams({ name: opts.name ?? "evidence.png", type: opts.type ?? "image/png" });
  return ctx.request(`/api/reports/${reportId}/files?${q}`, { method: "POST", headers: { ...who.headers, "content-type": opts.contentType ?? "application/octet-stream", ...opts.headers }, body });
}

const fileUrl = (reportId: string, fileId: string) => `/api/communities/${c.communityId}/reports/${reportId}/files/${fileId}`;
const get = (who: Client, path: string) => ctx.request(path, { headers: who.headers });
const countFiles = async (reportId: string) => (await sql<{ n: number }>`select count(*)::int as n from report_files where report_id = ${reportId}`.execute(ctx.database.db)).rows[0]!.n;
const code = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

describe("files in reports", () => {
  test("the reporter attaches an image and a PDF; moderators get the bytes back (image inline, PDF as a download) and see them in the queue", async () => {
    const id = await report();
    const png = crypto.getRandomValues(new Uint8Array(50_000));
    const pdf = new TextEncoder().encode("%PDF-1.4\n% evidence\n%%EOF\n");
    const a = await upload(c.member, id, png, { name: "shot.png", type: "image/png" });
    expect(a.status).toBe(201);
    const fa = ((await a.json()) as { file: { id: string; size: number; name: string } }).file;
    expect([fa.size, fa.name]).toEqual([png.length, "shot.png"]);
    const b = await upload(c.member, id, pdf, { name: "doc/../x.pdf", type: "application/pdf" });
    expect(b.status).toBe(201);
    const fb = ((await b.json()) as { file: { id: string; name: string } }).file;
    expect(fb.name).toBe("doc_.._x.pdf"); // no path separators
    for (const mod of [c.moderator, c.admin, c.owner]) {
      const r = await get(mod, fileUrl(id, fa.id));
      expect(r.status).toBe(200);
      expect(new Uint8Array(await r.arrayBuffer())).toEqual(png);
      expect(r.headers.get("content-type")).toBe("image/png");
      expect(r.headers.get("content-disposition")).toStartWith("inline");
      expect(r.headers.get("x-content-type-options")).toBe("nosniff");
      expect(r.headers.get("content-security-policy")).toContain("sandbox");
    }
    const d = await get(c.moderator, fileUrl(id, fb.id));
    expect(d.headers.get("content-type")).toBe("application/octet-stream");
    expect(d.headers.get("content-disposition")).toStartWith("attachment");
    expect(new Uint8Array(await d.arrayBuffer())).toEqual(pdf);
    const queue = await expectOk(c.moderator.call("GET", `/api/communities/${c.communityId}/reports`));
    expect(queue.reports.find((r: any) => r.id === id).files).toEqual([
      { id: fa.id, name: "shot.png", type: "image/png", size: png.length },
      { id: fb.id, name: "doc_.._x.pdf", type: "application/pdf", size: pdf.length },
    ]);
    // The moderators' settings page shows the image inline and the PDF as a download link.
    const page = await ctx.request(`/c/${c.communityId}/settings/reports`, { headers: (await cookieSignIn(ctx, c.moderator.user)).headers });
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html).toContain(`<img class="report-files__img" src="${fileUrl(id, fa.id)}"`);
    expect(html).toContain(`href="${fileUrl(id, fb.id)}"`);
  });

  test("who may read: members 403, outsiders and instance strangers 404 like an unknown file; a file under another report's id 404", async () => {
    const id = await report();
    const other = await report(c.moderator);
    const f = ((await (await upload(c.member, id, new Uint8Array(10))).json()) as { file: { id: string } }).file;
    expect((await get(c.member, fileUrl(id, f.id))).status).toBe(403);
    const outsider = await get(c.outsider, fileUrl(id, f.id));
    const unknown = await get(c.outsider, fileUrl(id, crypto.randomUUID()));
    expect(outsider.status).toBe(404);
    expect(await outsider.json()).toEqual(await unknown.json());
    const wrongReport = await get(c.moderator, fileUrl(other, f.id));
    expect([wrongReport.status, await code(wrongReport)]).toEqual([404, "REPORT_FILE_NOT_FOUND"]);
    expect((await get(c.moderator, fileUrl(id, crypto.randomUUID()))).status).toBe(404);
  });

  test("who may add: the reporter only; anyone else 404 exactly like an unknown report, nothing stored", async () => {
    const id = await report();
    const unknown = await upload(c.member, crypto.randomUUID(), new Uint8Array(10));
    expect([unknown.status, await code(unknown.clone())]).toEqual([404, "REPORT_NOT_FOUND"]);
    const unknownBody = await unknown.json();
    for (const who of [c.moderator, c.owner, c.outsider, c.admin]) {
      const r = await upload(who, id, new Uint8Array(10));
      expect([r.status, await r.json()]).toEqual([404, unknownBody]);
    }
    expect(await countFiles(id)).toBe(0);
  });

  test("limits: 10 MB per report, declared (before reading) or streamed; 10 files; refusals store nothing", async () => {
    expect(REPORT_FILES_MAX_BYTES).toBe(10 * 1024 * 1024);
    const id = await report();
    // Declared too large: refused from the Content-Length, the body never read (also far above).
    const declared = await upload(c.member, id, new Uint8Array(REPORT_FILES_MAX_BYTES + 1));
    expect([declared.status, await code(declared)]).toEqual([413, "REPORT_FILES_TOO_LARGE"]);
    const huge = await upload(c.member, id, new Uint8Array(REPORT_FILES_BODY_BUDGET + 1));
    expect([huge.status, await code(huge)]).toEqual([413, "REPORT_FILES_TOO_LARGE"]);
    // Streamed (chunked, no length): cut once it passes the room left.
    const streamed = (total: number) => {
      let sent = 0;
      return new ReadableStream<Uint8Array>({
        pull(ctrl) {
          if (sent >= total) return ctrl.close();
          const n = Math.min(1 << 20, total - sent);
          sent += n;
          ctrl.enqueue(new Uint8Array(n));
        },
      });
    };
    const chunked = await upload(c.member, id, streamed(REPORT_FILES_MAX_BYTES + 5));
    expect([chunked.status, await code(chunked)]).toEqual([413, "REPORT_FILES_TOO_LARGE"]);
    expect(await countFiles(id)).toBe(0);
    // Together: 6 MB fits, another 5 MB does not (the room is what is left of 10 MB).
    expect((await upload(c.member, id, new Uint8Array(6 * 1024 * 1024))).status).toBe(201);
    const over = await upload(c.member, id, streamed(5 * 1024 * 1024));
    expect([over.status, await code(over)]).toEqual([413, "REPORT_FILES_TOO_LARGE"]);
    // Declared over the room left (within the route's budget): refused before reading.
    const overDeclared = await upload(c.member, id, new Uint8Array(5 * 1024 * 1024));
    expect([overDeclared.status, await code(overDeclared)]).toEqual([413, "REPORT_FILES_TOO_LARGE"]);
    expect(await countFiles(id)).toBe(1);
    // Count: ten small files at most.
    const many = await report();
    for (let i = 0; i < REPORT_FILES_MAX_COUNT; i++) expect((await upload(c.member, many, new Uint8Array(3))).status).toBe(201);
    const eleventh = await upload(c.member, many, new Uint8Array(3));
    expect([eleventh.status, await code(eleventh)]).toEqual([409, "REPORT_FILES_TOO_MANY"]);
    expect(await countFiles(many)).toBe(REPORT_FILES_MAX_COUNT);
  });

  test("bad input: wrong content type 415, a bad MIME type 400, a user report 409, a closed or old report 409", async () => {
    const id = await report();
    const wrongType = await upload(c.member, id, "text", { contentType: "text/plain" });
    expect([wrongType.status, await code(wrongType)]).toEqual([415, "UNSUPPORTED_MEDIA_TYPE"]);
    const badMime = await upload(c.member, id, new Uint8Array(3), { type: "not a type" });
    expect(badMime.status).toBe(400);
    const noName = await ctx.request(`/api/reports/${id}/files?type=image/png`, { method: "POST", headers: { ...c.member.headers, "content-type": "application/octet-stream" }, body: new Uint8Array(3) });
    expect(noName.status).toBe(400);
    const userReport = await report(c.member, { type: "user", id: c.admin.user.id });
    const u = await upload(c.member, userReport, new Uint8Array(3));
    expect([u.status, await code(u)]).toEqual([409, "REPORT_NOT_MESSAGE"]);
    await expectOk(c.moderator.call("POST", `/api/communities/${c.communityId}/reports/${id}/dismiss`), 204);
    const closed = await upload(c.member, id, new Uint8Array(3));
    expect([closed.status, await code(closed)]).toEqual([409, "REPORT_FILES_CLOSED"]);
    const old = await report();
    await ctx.database.db.updateTable("reports").set({ created_at: new Date(Date.now() - 2 * 3600_000) }).where("id", "=", old).execute();
    const late = await upload(c.member, old, new Uint8Array(3));
    expect([late.status, await code(late)]).toEqual([409, "REPORT_FILES_CLOSED"]);
    expect((await countFiles(id)) + (await countFiles(userReport)) + (await countFiles(old))).toBe(0);
  });

  test("a report's files go with it: deleting the report row, and deleting the community, remove them", async () => {
    const id = await report();
    expect((await upload(c.member, id, new Uint8Array(100))).status).toBe(201);
    expect(await countFiles(id)).toBe(1);
    await ctx.database.db.deleteFrom("reports").where("id", "=", id).execute();
    expect(await countFiles(id)).toBe(0);
    const second = await report();
    expect((await upload(c.member, second, new Uint8Array(100))).status).toBe(201);
    await expectOk(c.owner.call("DELETE", `/api/communities/${c.communityId}`, { confirm_name: "Test community" }), 204);
    const left = await sql<{ n: number }>`select count(*)::int as n from report_files`.execute(ctx.database.db);
    expect(left.rows[0]!.n).toBe(0);
  });
});
