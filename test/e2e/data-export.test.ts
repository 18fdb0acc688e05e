// Acceptance test for issue 15 §3 "Self-service export" in Chromium: Alice chats (a channel
// message under Sender Keys and a DM under pairwise sessions, encrypted in her browser), then on
// Settings › Your data downloads her export (the button shows its progress and a clear end
// state), and on "Decrypt my export" gives the zip to the file input. The readable archive her
// browser builds holds her messages in plaintext; the export itself holds none; and the network
// log of the decryption (every request and its body) holds no plaintext marker. Screenshots at
// 1200 and 360 px; axe on both pages.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { strFromU8, unzipSync } from "fflate";
import { setActivityInterval } from "../../src/features/messages/index.ts";
import { createTestContext, type TestContext } from "../helpers/app.ts";
import { launchBrowser, screenshot } from "../helpers/browser.ts";
import { aliceAndBobInCommunity, apiCaller, openSignedIn, type TwoMembers } from "../helpers/chat-e2e.ts";
import { seriousAxeViolations } from "../helpers/axe.ts";

setDefaultTimeout(120_000);

const browser: Browser | null = await launchBrowser();
const RUN = crypto.randomUUID().replace(/-/g, "").slice(0, 12);
const MARKERS = { channel: `EXPORT-MARKER-CH-${RUN}`, dm: `EXPORT-MARKER-DM-${RUN}`, bob: `EXPORT-MARKER-BOB-${RUN}` };
const WAIT = { timeout: 30_000 };

let ctx: TestContext;
let base = "";
const opened: BrowserContext[] = [];

beforeAll(async () => {
  if (!browser) return;
  ctx = await createTestContext({ env: { COMMUNITY_CREATION_MODE: "anyone" } });
  setActivityInterval(ctx.deps, 20);
  ctx.app.listen({ hostname: "127.0.0.1", port: 0 });
  base = `http://127.0.0.1:${ctx.app.server!.port}`;
});

afterAll(async () => {
  for (const c of opened) await c.close().catch(() => {});
  await browser?.close();
  await ctx?.close();
});

async function openChat(page: Page, path: string): Promise<void> {
  await page.goto(base + path);
  await page.waitForSelector("[data-chat-ready]", WAIT);
}

async function say(page: Page, text: string): Promise<void> {
  const input = page.locator("#composer-input");
  await page.waitForFunction(() => !document.querySelector<HTMLTextAreaElement>("#composer-input")?.disabled, undefined, WAIT);
  await input.fill(text);
  await input.press("Enter");
  await page.waitForFunction((t) => [...document.querySelectorAll<HTMLElement>(".msg")].some((m) => m.textContent?.includes(t) && m.dataset.messageId && !m.classList.contains("msg--pending")), text, WAIT);
}

describe.skipIf(!browser)("Decrypt my export in Chromium", () => {
  let world: TwoMembers;
  let alicePage: Page;
  let exportZip: Uint8Array;

  test("Alice chats, then downloads her export from Settings › Your data: ciphertext only, the button reports progress and the end", async () => {
    const call = apiCaller(ctx);
    world = await aliceAndBobInCommunity(ctx, call, "Export test");
    // Bob's browser registers his device first, so Alice can write him a DM.
    const bob = await openSignedIn(browser!, ctx, base, world.bob, { track: opened });
    await openChat(bob.page, world.channelPath);
    await say(bob.page, MARKERS.bob);
    const alice = await openSignedIn(browser!, ctx, base, world.alice, { track: opened });
    alicePage = alice.page;
    await openChat(alicePage, world.channelPath);
    await say(alicePage, MARKERS.channel);
    const dm = await call(world.aliceHeaders, "POST", "/api/dms", { user_id: world.bob.id });
    await openChat(alicePage, `/dms/${dm.channel_id}`);
    await say(alicePage, MARKERS.dm);

    await alicePage.goto(`${base}/settings/data`);
    await screenshot(alicePage, "settings-your-data-1200");
    const downloadPromise = alicePage.waitForEvent("download", WAIT);
    await alicePage.getByTestId("export-download").click();
    const download = await downloadPromise;
    exportZip = new Uint8Array(readFileSync((await download.path())!));
    await alicePage.waitForFunction(() => document.querySelector("[data-export-status]")?.textContent?.startsWith("Done:"), undefined, WAIT);
    expect(download.suggestedFilename()).toMatch(/^hearth-export-.+\.zip$/);
    const files = unzipSync(exportZip);
    const lines = strFromU8(files["messages.jsonl"]!).trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((m) => m.scheme).sort()).toEqual(["pw", "sk"]);
    // The export holds ciphertext only: no marker in any encoding the scan knows of.
    const raw = Buffer.from(Object.values(files).map((f) => strFromU8(f)).join("\n"));
    for (const marker of Object.values(MARKERS)) expect({ marker, found: raw.includes(marker) || raw.includes(Buffer.from(marker).toString("base64url").slice(2, -4)) }).toEqual({ marker, found: false });
    expect(await seriousAxeViolations(alicePage)).toEqual([]);
  });

  test("Decrypt my export: the readable archive holds her messages in plaintext; no request during the decryption carries a marker", async () => {
    expect(exportZip).toBeDefined();
    await alicePage.goto(`${base}/settings/data/decrypt`);
    await alicePage.waitForFunction(() => document.querySelector("[data-decrypt-status]")?.textContent === "Choose your export file.", undefined, WAIT);
    const network: string[] = [];
    alicePage.on("request", (r) => network.push(`${r.method()} ${r.url()} ${r.postData() ?? ""}`));
    alicePage.on("websocket", (ws) => ws.on("framesent", (f) => network.push(`WS ${typeof f.payload === "string" ? f.payload : Buffer.from(f.payload).toString("latin1")}`)));
    await alicePage.getByTestId("export-file").setInputFiles({ name: "export.zip", mimeType: "application/zip", buffer: Buffer.from(exportZip) });
    await alicePage.waitForFunction(() => document.querySelector("[data-decrypt-status]")?.textContent?.startsWith("Done:"), undefined, WAIT).catch(async (error) => {
      throw new Error(`decrypt did not finish: ${await alicePage.getByTestId("decrypt-status").textContent()} ${error}`);
    });
    expect(await alicePage.getByTestId("decrypt-status").textContent()).toContain("2 of 2 messages opened");
    const downloadPromise = alicePage.waitForEvent("download", WAIT);
    await alicePage.getByTestId("decrypt-save").click();
    const readable = unzipSync(new Uint8Array(readFileSync((await (await downloadPromise).path())!)));
    const messages = JSON.parse(strFromU8(readable["messages.json"]!)) as { text: string | null; status: string }[];
    expect(messages.map((m) => m.text).sort()).toEqual([MARKERS.channel, MARKERS.dm].sort());
    expect(strFromU8(readable["messages.txt"]!)).toContain(MARKERS.dm);
    expect(readable["account.json"]).toBeDefined();
    // Bob's message is not Alice's: it is in neither archive.
    expect(strFromU8(readable["messages.json"]!)).not.toContain(MARKERS.bob);
    // Nothing the page sent while decrypting carries a marker (raw, base64, base64url).
    const log = network.join("\n");
    for (const marker of Object.values(MARKERS)) {
      const b64 = Buffer.from(marker).toString("base64").slice(0, -4);
      expect({ marker, found: log.includes(marker) || log.includes(b64) || log.includes(Buffer.from(marker).toString("base64url").slice(0, -4)) }).toEqual({ marker, found: false });
    }
    await screenshot(alicePage, "settings-decrypt-export-1200");
    await alicePage.setViewportSize({ width: 360, height: 740 });
    await screenshot(alicePage, "settings-decrypt-export-360", true);
    expect(await seriousAxeViolations(alicePage)).toEqual([]);
  });
});
