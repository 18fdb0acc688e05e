import { afterAll, beforeAll, describe, expect, test } from "bun:test";

import { createTestContext, type TestContext } from "../../helpers/app.ts";
import { createUser, signIn } from "../../helpers/users.ts";
import { getJson, postJson, sendJson } from "./helpers.ts";

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
}, 60_000);
afterAll(() => ctx.close());

describe("admin invites", () => {
  test("create, list, delete; limits checked; outsiders get 403 on the collection and 404 on an id", async () => {
    const admin = await signIn(ctx, await createUser(ctx, { isAdmin: true, adminPowers: ["invites"] }));
    const plain = await signIn(ctx, await createUser(ctx));
    for (const bad of [{ expires_in_hours: 0 }, { expires_in_hours: 8761 }, { max_uses: 0 }]) {
      expect((await postJson(ctx, "/api/admin/invites", bad, admin.headers)).status).toBe(400);
    }
    const created = await postJson(ctx, "/api/admin/invites", { max_uses: 5, expires_in_hours: 8760 }, admin.headers);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ max_uses: 5, uses: 0, usable: true });
    const unlimited = await postJson(ctx, "/api/admin/invites", {}, admin.headers);
    expect(unlimited.body).toMatchObject({ max_uses: null, expires_at: null });
    const list = await getJson(ctx, "/api/admin/invites", admin.headers);
    expect(list.body.map((i: { id: string }) => i.id)).toEqual(expect.arrayContaining([created.body.id, unlimited.body.id]));
    expect((await getJson(ctx, "/api/admin/invites", plain.headers)).status).toBe(403);
    expect((await postJson(ctx, "/api/admin/invites", {}, plain.headers)).status).toBe(403);
    expect((await sendJson(ctx, "DELETE", `/api/admin/invites/${created.body.id}`, undefined, plain.headers)).status).toBe(404);
    expect((await sendJson(ctx, "DELETE", `/api/admin/invites/${crypto.randomUUID()}`, undefined, admin.headers)).status).toBe(404);
    expect((await sendJson(ctx, "DELETE", `/api/admin/invites/${created.body.id}`, undefined, admin.headers)).status).toBe(204);
    expect((await sendJson(ctx, "DELETE", `/api/admin/invites/${created.body.id}`, undefined, admin.headers)).status).toBe(404);
  });
});

describe("audit log", () => {
  test("needs the audit power; paginated newest first", async () => {
    const auditor = await signIn(ctx, await createUser(ctx, { isAdmin: true, adminPowers: ["audit"] }));
    const plain = await signIn(ctx, await createUser(ctx));
    expect((await getJson(ctx, "/api/admin/audit-log", plain.headers)).status).toBe(403);
    for (let i = 0; i < 3; i++) await postJson(ctx, "/api/auth/login", { username: "nobody_" + i, password: "wrong password x" });
    const page1 = await getJson(ctx, "/api/admin/audit-log?limit=2&action=login_failed", auditor.headers);
    expect(page1.status).toBe(200);
    expect(page1.body.entries.length).toBe(2);
    expect(page1.body.entries[0].action).toBe("login_failed");
    expect(page1.body.entries[0].ip).toBeString();
    const page2 = await getJson(ctx, `/api/admin/audit-log?limit=2&action=login_failed&before=${page1.body.next_before}`, auditor.headers);
    expect(page2.body.entries.length).toBeGreaterThanOrEqual(1);
    expect(page2.body.entries[0].id).not.toBe(page1.body.entries[0].id);
    const garbage = await getJson(ctx, "/api/admin/audit-log?before=garbage", auditor.headers);
    expect(garbage.status).toBe(400);
    expect(garbage.body.error).toMatchObject({ code: "VALIDATION_ERROR", fields: { before: expect.any(String) } });
  });
});
