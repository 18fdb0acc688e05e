/** Account deletion (accounts feature) refuses while the user owns a community, then works after a transfer. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { TestContext } from "../../helpers/app.ts";
import { client, communityTestContext, expectOk } from "./helpers.ts";

let ctx: TestContext;
beforeAll(async () => {
  ctx = await communityTestContext();
});
afterAll(() => ctx.close());

test("a community owner cannot delete their account until ownership is transferred", async () => {
  const owner = await client(ctx);
  const other = await client(ctx);
  const community = await expectOk<{ id: string }>(owner.call("POST", "/api/communities", { name: "Owned" }), 201);
  const invite = await expectOk<{ code: string }>(owner.call("POST", `/api/communities/${community.id}/invites`, {}), 201);
  await expectOk(other.call("POST", `/api/community-invites/${invite.code}/accept`));

  const refused = await owner.call("DELETE", "/api/account", { password: owner.user.password });
  expect(refused.status).toBe(409);
  expect(refused.body.error.code).toBe("ACCOUNT_DELETION_BLOCKED");
  expect(refused.body.error.message).toContain("own a community");
  const still = await ctx.database.db.selectFrom("users").select("id").where("id", "=", owner.user.id).executeTakeFirst();
  expect(still?.id).toBe(owner.user.id); // nothing half-deleted

  await expectOk(owner.call("POST", `/api/communities/${community.id}/transfer-ownership`, { new_owner_id: other.user.id }));
  const deleted = await owner.call("DELETE", "/api/account", { password: owner.user.password });
  expect(deleted.status).toBeLessThan(300);
  expect(await ctx.database.db.selectFrom("users").select("id").where("id", "=", owner.user.id).executeTakeFirst()).toBeUndefined();
  expect((await ctx.database.db.selectFrom("communities").select("owner_id").where("id", "=", community.id).executeTakeFirstOrThrow()).owner_id).toBe(other.user.id);
});
