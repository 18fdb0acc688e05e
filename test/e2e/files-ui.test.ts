// Acceptance test of files in the browser (issue 12 point 5) in two real browsers: Alice attaches
// a JPEG carrying GPS EXIF and a PDF-like file with the paperclip (keyboard only), each file is
// re-encoded/encrypted/uploaded with its own progress bar, and the message goes with a caption;
// Bob sees the image (no EXIF/GPS in the bytes he decrypts) and downloads the PDF with the same
// SHA-256; a damaged blob reads "File damaged", never a partial image; an upload whose connection
// drops is retried and resumes; Cancel removes a file; none of the names or contents are in the
// database, the data directory or the blob store.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { PGlite } from "@electric-sql/pglite";
import { sql } from "kysely";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { createTestContext, type TestContext } from "../helpers/app.ts";
import { launchBrowser, screenshot, type PageProblems } from "../helpers/browser.ts";
import { aliceAndBobInCommunity, apiCaller, openSignedIn, seesDecrypted as seesDecryptedOn, type ApiCall } from "../helpers/chat-e2e.ts";
import { createInspectableTestDatabase, TEST_DATABASE_URL } from "../helpers/db.ts";
import { scanForPlaintext } from "../helpers/plaintext-scan.ts";
import type { TestUser } from "../helpers/users.ts";

setDefaultTimeout(120_000);

const browser: Browser | null = await launchBrowser();
const RUN = crypto.randomUUID().replace(/-/g, "").slice(0, 16);
const MARKERS = {
  imageName: `PLAINTEXT-IMGNAME-${RUN}`,
  gps: `PLAINTEXT-GPS-${RUN}`,
  pdfName: `PLAINTEXT-PDFNAME-${RUN}`,
  pdfContent: `PLAINTEXT-PDFBODY-${RUN}`,
  caption: `PLAINTEXT-CAPTION-${RUN}`,
};
const DESKTOP = { width: 1200, height: 800 };
const PHONE = { width: 360, height: 740 };
const WAIT = { timeout: 30_000 };

let ctx: TestContext;
let base = "";
let pglite: PGlite | undefined;
let pgliteDir: string | undefined;
let removeDatabaseDir = () => {};
const opened: BrowserContext[] = [];

beforeAll(async () => {
  if (!browser) return;
  const inspectable = await createInspectableTestDatabase("e2e-files-ui");
  ({ pglite, pgliteDir } = inspectable);
  removeDatabaseDir = inspectable.removeDir;
  ctx = await createTestContext({ database: inspectable.database, env: { COMMUNITY_CREATION_MODE: "anyone" } });
  ctx.app.listen({ hostname: "127.0.0.1", port: 0 });
  base = `http://127.0.0.1:${ctx.app.server!.port}`;
});

afterAll(async () => {
  for (const c of opened) await c.close().catch(() => {});
  await browser?.close();
  await ctx?.close();
  removeDatabaseDir();
});

type Session = { context: BrowserContext; page: Page; problems: PageProblems };

async function openChat(s: Session, path: string): Promise<void> {
  const response = await s.page.goto(`${base}${path}`, { waitUntil: "load" });
  expect(response?.status()).toBe(200);
  await s.page.waitForSelector("[data-chat-ready]", WAIT);
  // The extras chunk has mounted too (its row goes in above the composer).
  await s.page.getByRole("button", { name: "Create a poll" }).waitFor(WAIT);
}

const sha256 = (bytes: Uint8Array) => new Bun.CryptoHasher("sha256").update(bytes).digest("hex");

/** An APP1 Exif segment: a big-endian TIFF whose IFD0 points to a GPS IFD (GPSLatitudeRef "N"), then the marker. */
function exifSegment(marker: string): Buffer {
  const tiff = Buffer.alloc(8 + 2 + 12 + 4 + 2 + 12 + 4);
  tiff.write("MM", 0, "latin1");
  tiff.writeUInt16BE(42, 2);
  tiff.writeUInt32BE(8, 4);
  tiff.writeUInt16BE(1, 8); // IFD0: one entry
  tiff.writeUInt16BE(0x8825, 10); // GPSInfo IFD pointer
  tiff.writeUInt16BE(4, 12); // LONG
  tiff.writeUInt32BE(1, 14);
  tiff.writeUInt32BE(26, 18); // the GPS IFD follows
  tiff.writeUInt32BE(0, 22);
  tiff.writeUInt16BE(1, 26); // GPS IFD: one entry
  tiff.writeUInt16BE(0x0001, 28); // GPSLatitudeRef
  tiff.writeUInt16BE(2, 30); // ASCII
  tiff.writeUInt32BE(2, 32);
  tiff.write("N\0", 36, "latin1");
  tiff.writeUInt32BE(0, 40);
  const payload = Buffer.concat([Buffer.from("Exif\0\0", "latin1"), tiff, Buffer.from(`GPS ${marker}`)]);
  const head = Buffer.from([0xff, 0xe1, 0, 0]);
  head.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([head, payload]);
}

/** Each tray row's name, phase and status (for a failure message). */
function trayState(page: Page): Promise<string[]> {
  return page.evaluate(() => [...document.querySelectorAll<HTMLElement>(".file-tray__item")].map((i) => `${i.dataset.phase}: ${i.textContent}`));
}

/** Every directory under `dir` (the local blob store) whose name is `name`. */
function findDirs(dir: string, name: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (!statSync(path).isDirectory()) continue;
    if (entry === name) out.push(path);
    else out.push(...findDirs(path, name));
  }
  return out;
}

describe.skipIf(!browser)("files in two browsers", () => {
  let alice: TestUser;
  let bob: TestUser;
  let aliceS: Session;
  let bobS: Session;
  let channelPath = "";
  let aliceHeaders: Record<string, string> = {};
  let jpeg = Buffer.alloc(0);
  const pdf = Buffer.from(`%PDF-1.4\n% ${MARKERS.pdfContent}\n1 0 obj << /Type /Catalog >> endobj\n${"x".repeat(200_000)}\n%%EOF\n`);
  const call: ApiCall = (...args) => apiCaller(ctx)(...args);

  test("setup: Alice and Bob in a channel; the paperclip is enabled", async () => {
    let bobHeaders: Record<string, string>;
    ({ alice, bob, aliceHeaders, bobHeaders, channelPath } = await aliceAndBobInCommunity(ctx, call, "Files crew"));
    expect(bobHeaders).toBeDefined();
    aliceS = await openSignedIn(browser!, ctx, base, alice, { track: opened, viewport: DESKTOP });
    bobS = await openSignedIn(browser!, ctx, base, bob, { track: opened, viewport: DESKTOP });
    await openChat(aliceS, channelPath);
    await openChat(bobS, channelPath);
    // Drawn disabled by the server; chat.js enables it once it has wired it (a dead paperclip
    // before that would swallow the click).
    await aliceS.page.waitForSelector(".composer__attach:not([disabled])", WAIT);
    expect(await aliceS.page.getByRole("button", { name: "Attach a file" }).isEnabled()).toBe(true);
    // A real JPEG (Chromium's encoder), then an Exif segment with a GPS IFD put in after SOI.
    const b64 = await aliceS.page.evaluate(async () => {
      const c = document.createElement("canvas");
      c.width = 64;
      c.height = 48;
      const g = c.getContext("2d")!;
      g.fillStyle = "#c33";
      g.fillRect(0, 0, 64, 48);
      g.fillStyle = "#33c";
      g.fillRect(16, 12, 32, 24);
      const blob = await new Promise<Blob>((r) => c.toBlob((b) => r(b!), "image/jpeg", 0.9));
      const bytes = new Uint8Array(await blob.arrayBuffer());
      let s = "";
      for (const b of bytes) s += String.fromCharCode(b);
      return btoa(s);
    });
    const plain = Buffer.from(b64, "base64");
    expect([plain[0], plain[1]]).toEqual([0xff, 0xd8]);
    jpeg = Buffer.concat([plain.subarray(0, 2), exifSegment(MARKERS.gps), plain.subarray(2)]);
    expect(jpeg.includes(Buffer.from("Exif\0\0", "latin1"))).toBe(true);
    expect(jpeg.includes(Buffer.from(MARKERS.gps))).toBe(true);
  });

  test("Alice attaches a GPS-tagged JPEG and a PDF with the keyboard; progress, then the message with a caption", async () => {
    const { page } = aliceS;
    const attach = page.getByRole("button", { name: "Attach a file" });
    await attach.focus();
    const chooser = page.waitForEvent("filechooser", WAIT).catch(async (error) => {
      throw new Error(`no file chooser: focus on ${await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 120))} ${error}`);
    });
    await page.keyboard.press("Enter");
    await (await chooser).setFiles([
      { name: `photo-${MARKERS.imageName}.jpg`, mimeType: "image/jpeg", buffer: jpeg },
      { name: `report-${MARKERS.pdfName}.pdf`, mimeType: "application/pdf", buffer: pdf },
    ]);
    const tray = page.getByRole("list", { name: "Attached files" });
    await tray.waitFor(WAIT).catch(async (error) => {
      throw new Error(`no tray: focus on ${await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 120))}, problems ${JSON.stringify(aliceS.problems.all())} ${error}`);
    });
    expect(await tray.locator("progress").count()).toBe(2);
    await page.waitForFunction(() => document.querySelectorAll(".file-tray__item[data-phase='done']").length === 2, undefined, WAIT).catch(async (error) => {
      throw new Error(`uploads did not finish: ${JSON.stringify(await trayState(page))} ${error}`);
    });
    expect(await tray.locator(".file-tray__item", { hasText: "photo-" }).locator(".file-tray__status").textContent()).toContain("location and camera data removed");
    expect(await tray.getByRole("checkbox", { name: /Send original/ }).count()).toBe(1);
    await page.setViewportSize(PHONE);
    await screenshot(page, "files-tray-360");
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await page.setViewportSize(DESKTOP);
    const input = page.locator("#composer-input");
    await input.fill(`Site visit ${MARKERS.caption}`);
    await input.press("Enter");
    await tray.waitFor({ state: "hidden", ...WAIT }).catch(async (error) => {
      throw new Error(`the tray stayed: ${JSON.stringify(await trayState(page))}, status ${await page.locator("[data-chat-status]").textContent()} ${error}`);
    });
    await page.locator(".msg[data-message-id]", { hasText: MARKERS.caption }).locator(".msg-image[data-file-state='ready']").waitFor(WAIT).catch(async (error) => {
      const rows = await page.evaluate(() => [...document.querySelectorAll<HTMLElement>(".msg")].map((m) => `${m.className} ${m.dataset.messageId} ${m.dataset.state}: ${m.textContent}`));
      throw new Error(`the message with files did not show: ${JSON.stringify(rows)} ${error}`);
    });
  });

  test("Bob sees the image decrypted, without EXIF or GPS; the server links three blobs (image, its thumbnail, the PDF)", async () => {
    await seesDecryptedOn(bobS.page, MARKERS.caption, WAIT);
    const row = bobS.page.locator(".msg", { hasText: MARKERS.caption });
    await row.locator(".msg-image[data-file-state='ready']").waitFor(WAIT);
    // The page's CSP (connect-src 'self') forbids fetching its blob: URLs, which is how the test
    // reads the bytes Bob decrypted: lifted for this page through DevTools, then the page reloads.
    const cdp = await bobS.context.newCDPSession(bobS.page);
    await cdp.send("Page.setBypassCSP", { enabled: true });
    await openChat(bobS, channelPath);
    const figure = bobS.page.locator(".msg", { hasText: MARKERS.caption }).locator(".msg-image[data-file-state='ready']");
    await figure.waitFor(WAIT);
    const shown = await figure.locator("img").evaluate(async (img: HTMLImageElement) => {
      const bytes = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
      let s = "";
      for (const b of bytes) s += String.fromCharCode(b);
      return { b64: btoa(s), complete: img.complete, width: img.naturalWidth };
    });
    const bytes = Buffer.from(shown.b64, "base64");
    expect([bytes[0], bytes[1]]).toEqual([0xff, 0xd8]);
    expect(shown.width).toBe(64);
    expect(bytes.includes(Buffer.from("Exif", "latin1"))).toBe(false);
    expect(bytes.includes(Buffer.from(MARKERS.gps))).toBe(false);
    expect(bytes.includes(Buffer.from([0xff, 0xe1]))).toBe(false); // no APP1 segment at all
    const messageId = await row.getAttribute("data-message-id");
    const linked = await sql<{ n: number }>`select count(*)::int as n from files where message_id = ${messageId}`.execute(ctx.database.db);
    expect(linked.rows[0]!.n).toBe(3);
    // The lightbox: opened from the keyboard, Escape closes it and focus returns.
    const open = row.getByRole("button", { name: /^Open image photo-/ });
    await open.focus();
    await bobS.page.keyboard.press("Enter");
    const dialog = bobS.page.locator("dialog.lightbox");
    await dialog.waitFor(WAIT);
    expect(await dialog.locator("img").getAttribute("alt")).toContain("photo-");
    await bobS.page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached", ...WAIT });
    expect(await bobS.page.evaluate(() => document.activeElement?.getAttribute("aria-label") ?? "")).toMatch(/^Open image photo-/);
  });

  test("Bob downloads the PDF from its card: the same SHA-256 as Alice's file", async () => {
    const card = bobS.page.locator(".file-card", { hasText: `report-${MARKERS.pdfName}.pdf` });
    await card.waitFor(WAIT);
    expect(await card.locator(".file-card__size").textContent()).toMatch(/KB/);
    const download = bobS.page.waitForEvent("download", WAIT);
    await card.getByRole("button", { name: /^Download report-/ }).focus();
    await bobS.page.keyboard.press("Enter");
    const got = await download;
    expect(got.suggestedFilename()).toBe(`report-${MARKERS.pdfName}.pdf`);
    const saved = readFileSync((await got.path())!);
    expect(sha256(saved)).toBe(sha256(pdf));
    await bobS.page.setViewportSize(PHONE);
    await screenshot(bobS.page, "files-received-360");
    expect(await bobS.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await bobS.page.setViewportSize(DESKTOP);
    await screenshot(bobS.page, "files-received-desktop");
  });

  test("a damaged blob: 'File damaged', no image and no download", async () => {
    const row = bobS.page.locator(".msg", { hasText: MARKERS.caption });
    const messageId = (await row.getAttribute("data-message-id"))!;
    const blobs = await sql<{ blob_id: string }>`select blob_id from files where message_id = ${messageId}`.execute(ctx.database.db);
    const root = ctx.config.files.storagePath;
    let flipped = 0;
    for (const { blob_id } of blobs.rows) {
      for (const dir of findDirs(root, blob_id.replace(/-/g, ""))) {
        for (const part of readdirSync(dir)) {
          const path = join(dir, part);
          const content = readFileSync(path);
          content[Math.floor(content.length / 2)]! ^= 0x01;
          writeFileSync(path, content);
          flipped++;
        }
      }
    }
    expect(flipped).toBeGreaterThanOrEqual(3);
    await openChat(bobS, channelPath);
    const damagedRow = bobS.page.locator(".msg", { hasText: MARKERS.caption });
    await damagedRow.locator(".file-card--damaged[data-file-state='damaged']", { hasText: "photo-" }).waitFor(WAIT);
    expect(await damagedRow.locator("img").count()).toBe(0);
    expect(await damagedRow.locator(".file-card--damaged", { hasText: "photo-" }).textContent()).toContain("File damaged");
    const card = damagedRow.locator(".file-card", { hasText: "report-" });
    await card.getByRole("button", { name: /^Download/ }).click();
    await card.locator(".file-card__status", { hasText: "File damaged" }).waitFor(WAIT);
    expect(await card.getAttribute("data-file-state")).toBe("damaged");
  });

  test("an upload whose connection drops shows Retry, which resumes; Cancel removes a file and its upload", async () => {
    const { page } = aliceS;
    let dropped = 0;
    const partsSent: string[] = [];
    await page.route(/\/api\/files\/uploads\/[^/]+\/parts\/\d+$/, async (route) => {
      partsSent.push(new URL(route.request().url()).pathname.split("/").pop()!);
      if (dropped++ === 1) return route.abort("connectionreset"); // the second part
      return route.continue();
    });
    const big = Buffer.alloc(3 * 1024 * 1024 + 5, 7);
    const chooser = page.waitForEvent("filechooser", WAIT);
    await page.getByRole("button", { name: "Attach a file" }).click();
    await (await chooser).setFiles([{ name: "big.bin", mimeType: "application/octet-stream", buffer: big }]);
    const item = page.locator(".file-tray__item", { hasText: "big.bin" });
    await item.locator("[data-phase='failed'], .file-tray__status", { hasText: "Not uploaded" }).waitFor(WAIT).catch(async () => {
      await page.waitForFunction(() => document.querySelector(".file-tray__item")?.getAttribute("data-phase") === "failed", undefined, WAIT);
    });
    expect(await item.getAttribute("data-phase")).toBe("failed");
    await page.unrouteAll({ behavior: "ignoreErrors" });
    const resumed: string[] = [];
    await page.route(/\/api\/files\/uploads\/[^/]+\/parts\/\d+$/, (route) => {
      resumed.push(new URL(route.request().url()).pathname.split("/").pop()!);
      return route.continue();
    });
    await item.getByRole("button", { name: "Retry big.bin" }).click();
    await page.waitForFunction(() => document.querySelector(".file-tray__item")?.getAttribute("data-phase") === "done", undefined, WAIT);
    expect(partsSent.slice(0, 2)).toEqual(["0", "1"]);
    expect(resumed[0]).toBe("1"); // part 0 was acknowledged: not sent again
    await page.unrouteAll({ behavior: "ignoreErrors" });
    const before = (await call(aliceHeaders, "GET", "/api/files/quota")).used_bytes;
    await item.getByRole("button", { name: "Remove big.bin" }).click();
    await item.waitFor({ state: "detached", ...WAIT });
    await page.getByRole("list", { name: "Attached files" }).waitFor({ state: "hidden", ...WAIT });
    // The cancelled upload's quota comes back.
    for (let i = 0; i < 50; i++) {
      if ((await call(aliceHeaders, "GET", "/api/files/quota")).used_bytes < before) break;
      await Bun.sleep(200);
    }
    expect((await call(aliceHeaders, "GET", "/api/files/quota")).used_bytes).toBeLessThan(before);
  });

  test("paste and drop attach too; 'Send original' is an explicit choice that keeps the file byte for byte", async () => {
    const { page } = aliceS;
    const jpegB64 = jpeg.toString("base64");
    // A paste into the composer carrying the JPEG, then a drop of a text file on the conversation.
    await page.locator("#composer-input").evaluate((input, b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], "pasted.jpg", { type: "image/jpeg" }));
      input.dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
    }, jpegB64);
    await page.locator(".pane-body").evaluate((pane) => {
      const dt = new DataTransfer();
      dt.items.add(new File(["dropped notes\n"], "dropped.txt", { type: "text/plain" }));
      pane.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    const tray = page.getByRole("list", { name: "Attached files" });
    await tray.locator(".file-tray__item", { hasText: "pasted.jpg" }).waitFor(WAIT);
    await tray.locator(".file-tray__item", { hasText: "dropped.txt" }).waitFor(WAIT);
    const original = tray.getByRole("checkbox", { name: /Send original/ });
    await original.focus();
    await page.keyboard.press("Space");
    expect(await original.isChecked()).toBe(true);
    await page.waitForFunction(() => [...document.querySelectorAll(".file-tray__item")].every((i) => i.getAttribute("data-phase") === "done"), undefined, WAIT);
    expect(await tray.locator(".file-tray__item", { hasText: "pasted.jpg" }).locator(".file-tray__status").textContent()).toBe("Ready");
    const caption = `original ${RUN}`;
    await page.locator("#composer-input").fill(caption);
    await page.locator("#composer-input").press("Enter");
    await seesDecryptedOn(bobS.page, caption, WAIT);
    const row = bobS.page.locator(".msg", { hasText: caption });
    await row.locator(".file-card", { hasText: "dropped.txt" }).waitFor(WAIT);
    const figure = row.locator(".msg-image[data-file-state='ready']");
    await figure.waitFor(WAIT);
    // Bob's page fetches its blob: URLs (CSP lifted for it above): the original, Exif and all.
    const b64 = await figure.locator("img").evaluate(async (img: HTMLImageElement) => {
      const bytes = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
      let s = "";
      for (const b of bytes) s += String.fromCharCode(b);
      return btoa(s);
    });
    expect(sha256(Buffer.from(b64, "base64"))).toBe(sha256(jpeg));
  });

  test("no file name, file content, GPS data or caption in the database, the data directory or the blob store", async () => {
    const control = `CTRL-${RUN}`.padEnd(32, "-");
    await ctx.database.db.insertInto("instance_settings").values({ key: "e2e-files-scan-control", value: sql<string>`cast(cast(${JSON.stringify({ probe: control })} as text) as jsonb)` }).execute();
    const { hits, controlFoundIn, rows, scannedBytes } = await scanForPlaintext({ database: ctx.database, dataDir: ctx.dataDir, markers: Object.values(MARKERS), control, pglite, pgliteDir, blobs: ctx.config.files.storage });
    console.log(`plaintext scan: ${Object.keys(MARKERS).length} markers over ${rows} rows and ${(scannedBytes / 1e6).toFixed(1)} MB: ${hits.length} hits`);
    expect(hits).toEqual([]);
    expect(controlFoundIn.has("table")).toBe(true);
    if (!TEST_DATABASE_URL) expect(controlFoundIn.has("pglite")).toBe(true);
    // Refusals this test provoked (the dropped part, the damaged blobs' decryption) aside, no page errors.
    for (const s of [aliceS, bobS]) expect(s.problems.all().filter((p) => !/Failed to load resource: net::ERR_CONNECTION_RESET/.test(p))).toEqual([]);
  });
});
