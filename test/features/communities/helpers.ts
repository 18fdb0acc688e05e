/** API helpers for the communities tests: a signed-in client per user and a populated community. */
import { createTestContext, type TestContext } from "../../helpers/app.ts";
import { createUser, signIn, type TestUser } from "../../helpers/users.ts";

export type Client = {
  user: TestUser;
  headers: Record<string, string>;
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
};

export async function communityTestContext(env: Record<string, string> = {}): Promise<TestContext> {
  return createTestContext({ env: { COMMUNITY_CREATION_MODE: "anyone", ...env } });
}

export async function client(ctx: TestContext, overrides: Parameters<typeof createUser>[1] = {}): Promise<Client> {
  const user = await createUser(ctx, overrides);
  const { headers } = await signIn(ctx, user);
  return {
    user,
    headers,
    async call(method, path, body) {
      const res = await ctx.request(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {}
      return { status: res.status, body: parsed };
    },
  };
}

export async function expectOk<T = any>(p: Promise<{ status: number; body: any }>, status = 200): Promise<T> {
  const r = await p;
  if (r.status !== status) throw new Error(`expected ${status}, got ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body as T;
}

export type Populated = {
  communityId: string;
  generalChannelId: string;
  groupId: string;
  owner: Client;
  admin: Client;
  moderator: Client;
  member: Client;
  outsider: Client;
};

/** A community with one member of each base role and an outsider. */
export async function populatedCommunity(ctx: TestContext, name = "Test community"): Promise<Populated> {
  const owner = await client(ctx);
  const community = await expectOk(owner.call("POST", "/api/communities", { name }), 201);
  const invite = await expectOk(owner.call("POST", `/api/communities/${community.id}/invites`, {}), 201);
  const [admin, moderator, member, outsider] = await Promise.all([client(ctx), client(ctx), client(ctx), client(ctx)]);
  for (const c of [admin, moderator, member]) await expectOk(c.call("POST", `/api/community-invites/${invite.code}/accept`));
  await expectOk(owner.call("PUT", `/api/communities/${community.id}/members/${admin.user.id}/role`, { role: "admin" }), 204);
  await expectOk(owner.call("PUT", `/api/communities/${community.id}/members/${moderator.user.id}/role`, { role: "moderator" }), 204);
  const groups = await expectOk(owner.call("GET", `/api/communities/${community.id}/groups`));
  const group = groups.groups[0];
  return { communityId: community.id, groupId: group.id, generalChannelId: group.channels[0].id, owner, admin, moderator, member, outsider };
}
