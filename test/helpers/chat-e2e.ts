// Setup shared by the two-person chat tests in Chromium (test/e2e/*): a JSON API caller that
// throws with the server's answer, "Alice and Bob in a fresh community" through the real API, a
// browser context signed in with real cookies, and "this text shows decrypted".
import type { Browser, BrowserContext, Page } from "playwright-core";
import type { TestContext } from "./app.ts";
import { collectProblems, type PageProblems } from "./browser.ts";
import { cookieSignIn, createUser, signIn, type TestUser } from "./users.ts";

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

export type SignedInBrowser = { context: BrowserContext; page: Page; problems: PageProblems };

/**
 * A fresh browser context (own IndexedDB, so its own E2EE device) signed in as `user` through the
 * real session cookies; its page collects console errors and failed requests. `track` gets the
 * context so the test's afterAll closes it; `beforePage` runs before the page opens (routes).
 */
export async function openSignedIn(
  browser: Browser,
  ctx: TestContext,
  base: string,
  user: { id: string },
  opts: { track: BrowserContext[]; viewport?: { width: number; height: number }; beforePage?: (context: BrowserContext) => Promise<void> },
): Promise<SignedInBrowser> {
  const { accessToken, refreshToken } = await cookieSignIn(ctx, user);
  const context = await browser.newContext({ viewport: opts.viewport ?? { width: 1200, height: 800 }, reducedMotion: "reduce" });
  opts.track.push(context);
  await context.addCookies([
    { name: "hearth_access", value: accessToken, url: base, httpOnly: true, sameSite: "Lax" },
    { name: "hearth_refresh", value: refreshToken, url: base, httpOnly: true, sameSite: "Lax" },
  ]);
  await opts.beforePage?.(context);
  const page = await context.newPage();
  return { context, page, problems: await collectProblems(page) };
}

/** Waits until `text` shows decrypted in a message; on timeout, says what each row shows. */
export async function seesDecrypted(page: Page, text: string, wait = { timeout: 30_000 }): Promise<void> {
  await page.waitForFunction(
    (t) => [...document.querySelectorAll<HTMLElement>(".msg[data-state='ok'] .msg__text")].some((m) => m.textContent?.includes(t)),
    text,
    wait,
  ).catch(async (error) => {
    const rows = await page.evaluate(() => [...document.querySelectorAll<HTMLElement>(".msg")].map((m) => `${m.dataset.state}: ${m.textContent}`));
    throw new Error(`${text} not decrypted: ${JSON.stringify(rows)} ${error}`);
  });
}
