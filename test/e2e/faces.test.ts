// Faces across the chat in real Chromium at 360 px (issue 17 §2–§4): message authors' avatars,
// repainted live on a community mate's tab when the avatar changes; the community icon on the
// rail (live); the profile card from an author's name with Message (opens the DM, whose row shows
// the avatar and opens the card again) and Verify (the safety-number panel); one's own nickname
// set from one's own card; `:name:` autocomplete of custom and standard emoji by keyboard.
// No CSP violation, no serious axe violation, no sideways scrolling.
// launchBrowser prints "[skip]" when Chromium is missing.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import sharp from "sharp";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { createTestContext, type TestContext } from "../helpers/app.ts";
import { seriousAxeViolations } from "../helpers/axe.ts";
import { launchBrowser, screenshot } from "../helpers/browser.ts";
import { aliceAndBobInCommunity, apiCaller, openSignedIn, seesDecrypted } from "../helpers/chat-e2e.ts";
import { setActivityInterval } from "../../src/features/messages/index.ts";

const browser: Browser | null = await launchBrowser();
const WAIT = { timeout: 30_000 };
const VIEWPORT = { width: 360, height: 740 };
let ctx: TestContext;
let base = "";
const opened: BrowserContext[] = [];

beforeAll(async () => {
  if (!browser) return;
  ctx = await createTestContext({ env: { COMMUNITY_CREATION_MODE: "anyone" } });
  setActivityInterval(ctx.deps, 20);
  ctx.app.listen({ hostname: "127.0.0.1", port: 0 });
  base = `http://127.0.0.1:${ctx.app.server!.port}`;
}, 180_000);

afterAll(async () => {
  for (const c of opened) await c.close().catch(() => {});
  await browser?.close();
  await ctx?.close();
});

async function square(colour: string): Promise<Uint8Array> {
  return new Uint8Array(await sharp({ create: { width: 96, height: 96, channels: 3, background: colour } }).png().toBuffer());
}

async function upload(headers: Record<string, string>, method: string, path: string, bytes: Uint8Array): Promise<any> {
  const res = await ctx.request(path, { method, headers: { ...headers, "content-type": "image/png" }, body: bytes as Uint8Array<ArrayBuffer> });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text);
}

async function checkPage(page: Page): Promise<void> {
  expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);
  expect(await seriousAxeViolations(page)).toEqual([]);
}

/** Polls from the test side until `fn` is true in the page. */
async function until(page: Page, fn: string, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (await page.evaluate(fn)) return;
    await page.waitForTimeout(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function chatReady(page: Page): Promise<void> {
  await page.waitForSelector("[data-chat-ready]", WAIT);
  await page.waitForFunction(() => !document.querySelector<HTMLTextAreaElement>("#composer-input")?.disabled, undefined, WAIT);
}

describe.skipIf(!browser)("faces in the chat at 360 px", () => {
  test("avatars live on a mate's tab; rail icon; profile card with Message and Verify; own nickname; :name: autocomplete", async () => {
    const call = apiCaller(ctx);
    const world = await aliceAndBobInCommunity(ctx, call, "Faces live");
    const alice = await openSignedIn(browser!, ctx, base, world.alice, { track: opened, viewport: VIEWPORT });
    const bob = await openSignedIn(browser!, ctx, base, world.bob, { track: opened, viewport: VIEWPORT });
    await alice.page.goto(`${base}${world.channelPath}`, { waitUntil: "load" });
    await chatReady(alice.page);
    await bob.page.goto(`${base}${world.channelPath}`, { waitUntil: "load" });
    await chatReady(bob.page);

    // Alice writes; Bob's tab shows her initials (no avatar yet).
    await alice.page.locator("#composer-input").fill("hello from alice");
    await alice.page.locator("#composer-input").press("Enter");
    await seesDecrypted(bob.page, "hello from alice");
    const aliceFace = `.msg-group .avatar[data-avatar-user="${world.alice.id}"]`;
    await until(bob.page, `!!document.querySelector('${aliceFace}[data-avatar-known]')`, "Alice's avatar checked");
    expect(await bob.page.locator(`${aliceFace} img`).count()).toBe(0);

    // Alice uploads an avatar (the API, as her settings page does): Bob's open tab repaints it live.
    const { avatar_url } = await upload(world.aliceHeaders, "PUT", "/api/account/avatar", await square("#0a0"));
    expect(avatar_url).toMatch(/^\/media\//);
    await until(bob.page, `document.querySelector('${aliceFace} img.avatar__img')?.getAttribute('src') === ${JSON.stringify(avatar_url)}`, "Alice's avatar live on Bob's tab");
    // Her own tab too (the account menu and her own message).
    await until(alice.page, `document.querySelector('${aliceFace} img.avatar__img')?.getAttribute('src') === ${JSON.stringify(avatar_url)}`, "Alice's avatar on her own tab");

    // The community icon: on the rail of Bob's open tab (community:updated refreshes the rail).
    const { url: iconUrl } = await upload(world.aliceHeaders, "PUT", `/api/communities/${world.communityId}/icon`, await square("#00a"));
    await until(bob.page, `document.querySelector('#app-rail a[href="/c/${world.communityId}"] img')?.getAttribute('src') === ${JSON.stringify(iconUrl)}`, "the icon on the rail");

    // :name: autocomplete by keyboard: a custom emoji of the community, then a standard one.
    await call(world.aliceHeaders, "PUT", "/api/account/profile", { custom_status: "Baking bread", pronouns: "she/her", bio: "Hearth maintainer" });
    await upload(world.aliceHeaders, "POST", `/api/communities/${world.communityId}/emoji?shortcode=party_cat`, await square("#f0f"));
    const input = bob.page.locator("#composer-input");
    await input.focus();
    await bob.page.keyboard.type("yay :party");
    const emojiList = bob.page.getByRole("listbox", { name: "Emoji" });
    await emojiList.waitFor(WAIT);
    expect(await emojiList.getByRole("option").first().textContent()).toContain(":party_cat:");
    await screenshot(bob.page, "faces-emoji-autocomplete-phone");
    await bob.page.keyboard.press("Enter");
    expect(await input.inputValue()).toBe("yay :party_cat: ");
    await bob.page.keyboard.type(":thumbs");
    await emojiList.waitFor(WAIT);
    await bob.page.keyboard.press("ArrowDown");
    await bob.page.keyboard.press("ArrowUp");
    await bob.page.keyboard.press("Tab");
    expect(await input.inputValue()).toBe("yay :party_cat: 👍 ");
    await input.press("Enter");
    await bob.page.locator(".msg__text img.custom-emoji[alt=':party_cat:']").waitFor(WAIT);
    await checkPage(bob.page);

    // The profile card from Alice's name in the timeline: her fields, Message and Verify.
    await bob.page.locator(`.msg-group__author[data-profile-user="${world.alice.id}"]`).first().click();
    const card = bob.page.locator("dialog.profile-card");
    await card.getByText("Hearth maintainer").waitFor(WAIT);
    expect(await card.textContent()).toContain("she/her");
    expect(await card.textContent()).toContain("Baking bread");
    expect(await card.locator("img.avatar__img, img.avatar--image").first().getAttribute("src")).toBe(avatar_url);
    await screenshot(bob.page, "faces-profile-card-phone");
    await checkPage(bob.page);
    await card.getByRole("button", { name: /^Verify Alice/ }).click();
    await bob.page.getByRole("dialog", { name: "Verify Alice" }).waitFor(WAIT);
    await bob.page.keyboard.press("Escape");
    await card.getByRole("button", { name: "Message" }).click();
    await bob.page.waitForURL(/\/dms\/[0-9a-f-]{36}$/, WAIT);
    // The DM list: Alice's row shows her avatar, and it opens her card.
    const dmFace = bob.page.locator(`#dm-list .dm-row__face[data-profile-user="${world.alice.id}"]`);
    await dmFace.waitFor({ state: "attached", ...WAIT });
    await until(bob.page, `document.querySelector('#dm-list .dm-row__face img.avatar__img')?.getAttribute('src') === ${JSON.stringify(avatar_url)}`, "Alice's avatar in the DM list");
    // At 360 px the conversation list is the navigation drawer: open it first.
    await bob.page.locator(".pane-header__nav-toggle").click();
    await dmFace.waitFor(WAIT);
    await dmFace.focus();
    await bob.page.keyboard.press("Enter");
    await bob.page.locator("dialog.profile-card").getByText("Hearth maintainer").waitFor(WAIT);
    await checkPage(bob.page);
    await bob.page.keyboard.press("Escape");

    // Bob's own card on the community page (account menu › profile): his nickname there.
    await bob.page.goto(`${base}${world.channelPath}`, { waitUntil: "load" });
    await chatReady(bob.page);
    await bob.page.locator(".pane-header__nav-toggle").click(); // the drawer holds the account menu at 360 px
    await bob.page.locator(".sidebar [data-user-menu] summary").click();
    await bob.page.locator(`.sidebar [data-profile-self="${world.bob.id}"]`).click();
    const own = bob.page.locator("dialog.profile-card");
    await own.getByLabel("Your nickname in this community").fill("Bobby");
    await own.getByRole("button", { name: "Save nickname" }).click();
    await own.getByText("Saved: you are “Bobby” here.").waitFor(WAIT);
    await checkPage(bob.page);
    await bob.page.keyboard.press("Escape");
    const row = await ctx.database.db.selectFrom("community_members").select("nickname").where("community_id", "=", world.communityId).where("user_id", "=", world.bob.id).executeTakeFirstOrThrow();
    expect(row.nickname).toBe("Bobby");
    await bob.page.reload({ waitUntil: "load" });
    await until(bob.page, `document.querySelector('.member[data-presence-user="${world.bob.id}"] .member__name')?.textContent === "Bobby"`, "the nickname in the member list");
    // Alice's tab: Bob's message is now by "Bobby" after a reload (sender_name is the nickname).
    await alice.page.reload({ waitUntil: "load" });
    await chatReady(alice.page);
    await alice.page.locator(`.msg-group__author[data-profile-user="${world.bob.id}"]`, { hasText: "Bobby" }).first().waitFor(WAIT);
    await alice.page.locator(`.msg-group__author[data-profile-user="${world.bob.id}"]`).first().click();
    await alice.page.locator("dialog.profile-card").getByText("Nickname in this community: Bobby").waitFor(WAIT);
    expect(alice.problems.all()).toEqual([]);
    expect(bob.problems.all()).toEqual([]);
  }, 180_000);
});
