/**
 * User fixtures. createUser inserts a user row directly with a password hash computed ONCE per
 * test run (Argon2id with the real parameters costs ~165 ms; hashing per fixture would dominate
 * the suite). signIn / cookieSignIn create a real session row and real tokens, so the guard
 * treats them exactly like a login. Registration and login tests still use the real endpoints.
 */
import { ADMIN_POWERS, authKernelOf, createSession, hashPassword } from "../../src/features/auth/index.ts";
import { runInTransaction } from "../../src/db/tx.ts";
import type { TestContext } from "./app.ts";

export const TEST_PASSWORD = "Correct horse battery staple 42";
let passwordHash: Promise<string> | undefined;
export function testPasswordHash(): Promise<string> {
  return (passwordHash ??= hashPassword(TEST_PASSWORD));
}

export type TestUser = { id: string; username: string; email: string; password: string; displayName: string };

let counter = 0;

export async function createUser(
  ctx: TestContext,
  overrides: Partial<{ username: string; email: string; displayName: string; isOwner: boolean; isAdmin: boolean; adminPowers: string[]; suspended: boolean; passwordHash: string | null }> = {},
): Promise<TestUser> {
  counter++;
  const username = overrides.username ?? `user${counter}_${Math.random().toString(36).slice(2, 7)}`;
  const email = overrides.email ?? `${username}@example.test`;
  const displayName = overrides.displayName ?? `User ${counter}`;
  const id = Bun.randomUUIDv7();
  const isAdmin = overrides.isAdmin ?? overrides.isOwner ?? false;
  await ctx.database.db
    .insertInto("users")
    .values({
      id,
      username,
      email,
      password_hash: overrides.passwordHash === undefined ? await testPasswordHash() : overrides.passwordHash,
      display_name: displayName,
      is_owner: overrides.isOwner ?? false,
      is_admin: isAdmin,
      admin_powers: overrides.adminPowers ?? (isAdmin ? [...ADMIN_POWERS] : []),
      suspended_at: overrides.suspended ? new Date() : null,
    })
    .execute();
  return { id, username, email, password: TEST_PASSWORD, displayName };
}

export type SignedIn = { sessionId: string; accessToken: string; refreshToken: string };

async function openSession(ctx: TestContext, user: { id: string }, userAgent = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"): Promise<SignedIn> {
  const kernel = authKernelOf(ctx.deps);
  return runInTransaction({ db: ctx.database.db, events: ctx.deps.events }, (tx) => createSession(tx, kernel, user.id, { ip: "127.0.0.1", userAgent }));
}

/** Bearer headers for API requests, plus the tokens. */
export async function signIn(ctx: TestContext, user: { id: string }): Promise<SignedIn & { headers: Record<string, string> }> {
  const tokens = await openSession(ctx, user);
  return { ...tokens, headers: { authorization: `Bearer ${tokens.accessToken}`, "content-type": "application/json" } };
}

/** Cookie headers as a same-origin browser would send them (Origin included for writes). */
export async function cookieSignIn(ctx: TestContext, user: { id: string }): Promise<SignedIn & { headers: Record<string, string> }> {
  const tokens = await openSession(ctx, user);
  return {
    ...tokens,
    headers: { cookie: `hearth_access=${tokens.accessToken}; hearth_refresh=${tokens.refreshToken}`, origin: "http://localhost" },
  };
}

export function jsonBody(body: unknown, headers: Record<string, string> = {}): RequestInit & { headers: Record<string, string> } {
  return { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) };
}
