// Settings show the user's used and remaining upload quota (issue 12 point 5; the numbers of
// GET /api/files/quota): an upload in progress counts, a cancelled one comes back.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestContext } from "../../helpers/app.ts";
import { messagingContext, populatedCommunity, type Populated } from "../messages/helpers.ts";
import { quotaOf, randomBytes, upload } from "./helpers.ts";

let ctx: TestContext;
let p: Populated;

beforeAll(async () => {
  ctx = await messagingContext({ env: { UPLOAD_QUOTA_MB: "2", MAX_FILE_SIZE_MB: "1" } });
  p = await populatedCommunity(ctx);
}, 60_000);
afterAll(() => ctx.close());

async function settingsPage(): Promise<string> {
  const res = await ctx.request("/settings/account", { headers: p.member.headers });
  expect(res.status).toBe(200);
  return res.text();
}

describe("quota on the account settings page", () => {
  test("nothing stored: 0 B used of 2.0 MB, all of it left, the largest file named", async () => {
    const html = await settingsPage();
    expect(html).toContain('data-quota-used="0"');
    expect(html).toContain(`data-quota-left="${2 * 1024 * 1024}"`);
    expect(html).toMatch(/<strong>0 B<\/strong> used of 2\.0 MB · <strong>2\.0 MB<\/strong> left/);
    expect(html).toContain("Largest file: 1.0 MB");
    expect(html).toMatch(/<progress[^>]*aria-label="Upload quota used"/);
  });

  test("an upload counts until it is cancelled", async () => {
    const { id, status } = await upload(ctx, p.member, p.generalChannelId, randomBytes(300_000));
    expect(status).toBe(200);
    const used = await quotaOf(p.member);
    expect(used).toBe(300_000);
    const html = await settingsPage();
    expect(html).toContain(`data-quota-used="${used}"`);
    expect(html).toContain(`data-quota-left="${2 * 1024 * 1024 - used}"`);
    expect((await p.member.call("DELETE", `/api/files/uploads/${id}`)).status).toBe(204);
    expect(await settingsPage()).toContain('data-quota-used="0"');
  });

  test("UPLOAD_QUOTA_MB=0 (unlimited): used bytes only, no bar", async () => {
    const unlimited = await messagingContext({ env: { UPLOAD_QUOTA_MB: "0" } });
    try {
      const q = await populatedCommunity(unlimited);
      const res = await unlimited.request("/settings/account", { headers: q.member.headers });
      const html = await res.text();
      expect(html).toContain("no upload quota on this server");
      expect(html).not.toContain("Upload quota used");
    } finally {
      await unlimited.close();
    }
  });
});
