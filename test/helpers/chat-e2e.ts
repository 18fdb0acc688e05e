// Setup shared by the two-person chat tests in Chromium (test/e2e/*): a JSON API caller that
// throws with the server's answer, and "Alice and Bob in a fresh community" through the real API.
import type { TestContext } from "./app.ts";
import { createUser, signIn, type TestUser } from "./users.ts";

export type ApiCall = (headers: Record<string, string>, method: string, path: string, body?: unknown) => Promise<any>;

export function apiCaller(ctx: TestContext): ApiCall {
  return async (headers, method, path, body) => {
    const res = await ctx.request(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
}

export type TwoMembers = {
  alice: TestUser;
  bob: TestUser;
  aliceHeaders: Record<string, string>;
  bobHeaders: Record<string, string>;
  communityId: string;
  /** The community's first group (with #general). */
  group: { id: string; channels: { id: string }[] };
  /** The page of #general. */
  channelPath: string;
};

/** Alice creates a community named `name`; Bob joins it through an invite. */
export async function aliceAndBobInCommunity(ctx: TestContext, call: ApiCall, name: string): Promise<TwoMembers> {
  const alice = await createUser(ctx, { displayName: "Alice" });
  const bob = await createUser(ctx, { displayName: "Bob" });
  const a = await signIn(ctx, alice);
  const b = await signIn(ctx, bob);
  const community = await call(a.headers, "POST", "/api/communities", { name });
  const invite = await call(a.headers, "POST", `/api/communities/${community.id}/invites`, {});
  await call(b.headers, "POST", `/api/community-invites/${invite.code}/accept`);
  const groups = await call(a.headers, "GET", `/api/communities/${community.id}/groups`);
  const group = groups.groups[0];
  return { alice, bob, aliceHeaders: a.headers, bobHeaders: b.headers, communityId: community.id, group, channelPath: `/c/${community.id}/ch/${group.channels[0].id}` };
}
