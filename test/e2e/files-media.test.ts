// Video, audio and voice notes in two real browsers (issue 12 point 5): Alice sends a WebM video
// (recorded in her page from a canvas) and a WAV file, then records a voice note with the
// composer's microphone button (Chromium's fake microphone); Bob plays all three from decrypted
// data — the WebM video and the voice note streamed into a MediaSource, the WAV decrypted whole —
// the video with its poster frame; a damaged blob reads "File damaged" and leaves no player. The
// microphone is asked for only when Record is pressed, and the button is hidden without
// MediaRecorder.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "kysely";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { createTestContext, type TestContext } from "../helpers/app.ts";
import { seriousAxeViolations } from "../helpers/axe.ts";
import { CHROMIUM_ARGS, CHROMIUM_PATH, screenshot, type PageProblems } from "../helpers/browser.ts";
import { aliceAndBobInCommunity, apiCaller, openSignedIn, seesDecrypted, type ApiCall } from "../helpers/chat-e2e.ts";
import { createInspectableTestDatabase } from "../helpers/db.ts";
import { signIn, type TestUser } from "../helpers/users.ts";

setDefaultTimeout(120_000);

/** Chromium with a fake microphone that needs no permission prompt. */
async function launchWithFakeMic(): Promise<Browser | null> {
  if (!existsSync(CHROMIUM_PATH)) {
    console.warn(`[skip] media browser tests: no Chromium at ${CHROMIUM_PATH}`);
    return null;
  }
  try {
    return await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"] });
  } catch (error) {
    console.warn(`[skip] media browser tests: Chromium failed to start: ${String(error)}`);
    return null;
  }
}

const browser = await launchWithFakeMic();
const RUN = crypto.randomUUID().slice(0, 8);
const DESKTOP = { width: 1200, height: 800 };
const PHONE = { width: 360, height: 740 };
const WAIT = { timeout: 30_000 };

let ctx: TestContext;
let base = "";
let removeDatabaseDir = () => {};
const opened: BrowserContext[] = [];

beforeAll(async () => {
  if (!browser) return;
  const inspectable = await createInspectableTestDatabase("e2e-files-media");
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
  await s.page.getByRole("button", { name: "Create a poll" }).waitFor(WAIT);
}

/** One second of a 440 Hz tone, 8 kHz mono 16-bit PCM in a WAV container. */
function wavTone(): Buffer {
  const rate = 8000;
  const samples = rate;
  const out = Buffer.alloc(44 + samples * 2);
  out.write("RIFF", 0, "latin1");
  out.writeUInt32LE(36 + samples * 2, 4);
  out.write("WAVEfmt ", 8, "latin1");
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(1, 20);
  out.writeUInt16LE(1, 22);
  out.writeUInt32LE(rate, 24);
  out.writeUInt32LE(rate * 2, 28);
  out.writeUInt16LE(2, 32);
  out.writeUInt16LE(16, 34);
  out.write("data", 36, "latin1");
  out.writeUInt32LE(samples * 2, 40);
  for (let i = 0; i < samples; i++) out.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate)), 44 + i * 2);
  return out;
}

/** The player of a message's file once it is ready, played muted until it has data at its position. */
async function playsFromDecryptedData(page: Page, caption: string, kind: "video" | "audio", name: RegExp) {
  const row = page.locator(".msg", { hasText: caption });
  const figure = row.locator(`.msg-media--${kind}[data-file-state='ready']`, { hasText: name });
  await figure.waitFor(WAIT).catch(async (error) => {
    throw new Error(`no ready ${kind}: ${await row.evaluate((m) => m.outerHTML.slice(0, 1500))} ${error}`);
  });
  const player = figure.locator(kind);
  await player.evaluate(async (m: HTMLMediaElement) => {
    m.muted = true;
    await m.play();
  });
  await player.evaluate((m: HTMLMediaElement) => new Promise<void>((resolve, reject) => {
    const deadline = Date.now() + 20_000;
    const check = () => (m.readyState >= 2 && m.currentTime > 0 ? resolve() : Date.now() > deadline ? reject(new Error(`readyState ${m.readyState}, error ${m.error?.message}`)) : setTimeout(check, 100));
    check();
  }));
  const state = await player.evaluate((m: HTMLMediaElement) => ({ readyState: m.readyState, duration: m.duration, error: m.error?.code ?? null, src: m.currentSrc.slice(0, 5), poster: (m as HTMLVideoElement).poster?.slice(0, 5) ?? null }));
  await player.evaluate((m: HTMLMediaElement) => m.pause());
  return { state, mode: await figure.getAttribute("data-media-mode"), player };
}

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

describe.skipIf(!browser)("video, audio and voice notes in two browsers", () => {
  let alice: TestUser;
  let bob: TestUser;
  let aliceS: Session;
  let bobS: Session;
  let channelPath = "";
  let video = Buffer.alloc(0);
  const wav = wavTone();
  const call: ApiCall = (...args) => apiCaller(ctx)(...args);
  const mediaCaption = `media ${RUN}`;
  const voiceCaption = `voice ${RUN}`;

  test("setup: Alice (microphone calls counted) and Bob in a channel; the record button shows", async () => {
    ({ alice, bob, channelPath } = await aliceAndBobInCommunity(ctx, call, "Media crew"));
    // Counts getUserMedia calls: the microphone is asked for only when Record is pressed.
    const countMic = async (context: BrowserContext) => {
      await context.addInitScript(() => {
        const w = window as unknown as { __micAsked: number };
        w.__micAsked = 0;
        const md = navigator.mediaDevices;
        if (!md) return;
        const original = md.getUserMedia.bind(md);
        md.getUserMedia = (c) => {
          w.__micAsked++;
          return original(c);
        };
      });
    };
    aliceS = await openSignedIn(browser!, ctx, base, alice, { track: opened, viewport: DESKTOP, beforePage: countMic });
    bobS = await openSignedIn(browser!, ctx, base, bob, { track: opened, viewport: DESKTOP });
    await openChat(aliceS, channelPath);
    await openChat(bobS, channelPath);
    expect(await aliceS.page.getByRole("button", { name: "Record a voice note" }).isVisible()).toBe(true);
    // A WebM (VP8) video recorded in Alice's page from an animated canvas.
    const b64 = await aliceS.page.evaluate(async () => {
      const c = document.createElement("canvas");
      c.width = 160;
      c.height = 120;
      const g = c.getContext("2d")!;
      const rec = new MediaRecorder(c.captureStream(20), { mimeType: "video/webm;codecs=vp8" });
      const parts: Blob[] = [];
      rec.ondataavailable = (e) => parts.push(e.data);
      let i = 0;
      const draw = () => {
        g.fillStyle = `hsl(${(i++ * 25) % 360} 80% 50%)`;
        g.fillRect(0, 0, 160, 120);
      };
      draw();
      const iv = setInterval(draw, 50);
      rec.start(200);
      await new Promise((r) => setTimeout(r, 1500));
      const stopped = new Promise((r) => (rec.onstop = r));
      rec.stop();
      await stopped;
      clearInterval(iv);
      const bytes = new Uint8Array(await new Blob(parts).arrayBuffer());
      let s = "";
      for (const b of bytes) s += String.fromCharCode(b);
      return btoa(s);
    });
    video = Buffer.from(b64, "base64");
    expect([...video.subarray(0, 4)]).toEqual([0x1a, 0x45, 0xdf, 0xa3]);
    expect(await aliceS.page.evaluate(() => (window as unknown as { __micAsked: number }).__micAsked)).toBe(0);
  });

  test("Alice sends a WebM video and a WAV file; Bob plays both from decrypted data, the video with its poster frame", async () => {
    const { page } = aliceS;
    const chooser = page.waitForEvent("filechooser", WAIT);
    await page.getByRole("button", { name: "Attach a file" }).click();
    await (await chooser).setFiles([
      { name: "clip.webm", mimeType: "video/webm", buffer: video },
      { name: "tone.wav", mimeType: "audio/wav", buffer: wav },
    ]);
    await page.waitForFunction(() => document.querySelectorAll(".file-tray__item[data-phase='done']").length === 2, undefined, WAIT);
    await page.locator("#composer-input").fill(mediaCaption);
    await page.locator("#composer-input").press("Enter");
    await seesDecrypted(bobS.page, mediaCaption, WAIT);
    const clip = await playsFromDecryptedData(bobS.page, mediaCaption, "video", /clip\.webm/);
    expect(clip.mode).toBe("stream"); // VP8 read from the track list: MediaSource
    expect(clip.state.readyState).toBeGreaterThanOrEqual(2);
    expect(clip.state.duration).toBeGreaterThan(0);
    expect(clip.state.error).toBeNull();
    expect(clip.state.src).toBe("blob:");
    const poster = await clip.player.evaluate((v: HTMLVideoElement) => new Promise<string>((resolve) => {
      const deadline = Date.now() + 10_000;
      const check = () => (v.poster || Date.now() > deadline ? resolve(v.poster.slice(0, 5)) : setTimeout(check, 100));
      check();
    }));
    expect(poster).toBe("blob:"); // the poster frame Alice's tray made, decrypted
    const tone = await playsFromDecryptedData(bobS.page, mediaCaption, "audio", /tone\.wav/);
    expect(tone.mode).toBe("whole"); // WAV: MediaSource cannot take it, decrypted into a Blob
    expect(tone.state.readyState).toBeGreaterThanOrEqual(2);
    expect(tone.state.duration).toBeCloseTo(1, 1);
    // The server links three blobs: the video, its poster frame, the WAV (ids only).
    const messageId = await bobS.page.locator(".msg", { hasText: mediaCaption }).getAttribute("data-message-id");
    const linked = await sql<{ n: number }>`select count(*)::int as n from files where message_id = ${messageId}`.execute(ctx.database.db);
    expect(linked.rows[0]!.n).toBe(3);
    // The players are reachable by keyboard (native controls).
    await clip.player.focus();
    expect(await bobS.page.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toBe("Video clip.webm");
  });

  test("Alice records a voice note (keyboard: Record, Stop, Send); Bob plays it streamed", async () => {
    const { page } = aliceS;
    await page.locator("#composer-input").fill(voiceCaption);
    const record = page.getByRole("button", { name: "Record a voice note" });
    await record.focus();
    await page.keyboard.press("Enter");
    const bar = page.getByRole("group", { name: "Voice note" });
    await bar.locator("[data-phase='recording'], .voice-rec__status", { hasText: "Recording" }).first().waitFor(WAIT);
    expect(await page.evaluate(() => (window as unknown as { __micAsked: number }).__micAsked)).toBe(1);
    await page.waitForFunction(() => document.querySelector(".voice-rec__time")?.textContent !== "0:00", undefined, WAIT);
    expect(await page.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toBe("Stop recording");
    await page.setViewportSize(PHONE);
    await screenshot(page, "voice-recording-360");
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await page.setViewportSize(DESKTOP);
    await page.keyboard.press("Enter"); // Stop
    await bar.getByRole("button", { name: "Send the voice note" }).waitFor(WAIT);
    expect(await page.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toBe("Send the voice note");
    await page.keyboard.press("Enter"); // Send
    await seesDecrypted(bobS.page, voiceCaption, WAIT);
    const note = await playsFromDecryptedData(bobS.page, voiceCaption, "audio", /voice-note-.*\.webm/);
    expect(note.mode).toBe("stream"); // WebM/Opus from MediaRecorder: MediaSource
    expect(note.state.readyState).toBeGreaterThanOrEqual(2);
    expect(note.state.duration).toBeGreaterThan(0);
    await bar.waitFor({ state: "detached", ...WAIT });
    expect(await page.getByRole("list", { name: "Attached files" }).isHidden()).toBe(true);
  });

  test("Cancel discards a recording; the record button is hidden without MediaRecorder", async () => {
    const { page } = aliceS;
    await page.getByRole("button", { name: "Record a voice note" }).click();
    const bar = page.getByRole("group", { name: "Voice note" });
    await bar.getByRole("button", { name: "Cancel the voice note" }).waitFor(WAIT);
    await bar.getByRole("button", { name: "Cancel the voice note" }).click();
    await bar.waitFor({ state: "detached", ...WAIT });
    expect(await page.locator(".file-tray__item").count()).toBe(0);
    const noRecorder = await openSignedIn(browser!, ctx, base, bob, {
      track: opened,
      viewport: DESKTOP,
      beforePage: async (c) => {
        await c.addInitScript(() => {
          delete (window as unknown as { MediaRecorder?: unknown }).MediaRecorder;
        });
      },
    });
    await openChat(noRecorder, channelPath);
    expect(await noRecorder.page.locator(".composer__record").isHidden()).toBe(true);
    expect(await noRecorder.page.getByRole("button", { name: "Attach a file" }).isEnabled()).toBe(true);
  });

  test("Bob's page at 360 px with the players: no sideways scroll, no serious axe finding", async () => {
    await bobS.page.setViewportSize(PHONE);
    await screenshot(bobS.page, "files-media-received-360");
    expect(await bobS.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    expect(await seriousAxeViolations(bobS.page, ".msg__files")).toEqual([]);
    await bobS.page.setViewportSize(DESKTOP);
  });

  test("Bob reports Alice's message and ticks its WAV file; Alice, moderator, gets the same bytes from the report queue", async () => {
    const page = bobS.page;
    const row = page.locator(".msg", { hasText: mediaCaption });
    await row.getByRole("button", { name: "More actions" }).focus();
    await page.keyboard.press("Enter");
    const report = row.getByRole("button", { name: "Report message" });
    await report.waitFor(WAIT);
    await report.focus();
    await page.keyboard.press("Enter");
    const dialog = page.locator("dialog[data-report-dialog]");
    await dialog.waitFor({ state: "visible", ...WAIT });
    const picker = dialog.getByRole("group", { name: "The message's files" });
    await picker.waitFor(WAIT);
    expect(await picker.textContent()).toContain("no longer end-to-end encrypted");
    expect(await picker.getByRole("checkbox").count()).toBe(2);
    expect(await picker.getByRole("checkbox", { name: /tone\.wav/ }).isChecked()).toBe(false); // unticked unless chosen
    await page.keyboard.type("offensive recording");
    await picker.getByRole("checkbox", { name: /tone\.wav/ }).focus();
    await page.keyboard.press("Space");
    await page.setViewportSize(PHONE);
    await screenshot(page, "report-with-file-360");
    const box = await dialog.boundingBox();
    expect(box!.x + box!.width).toBeLessThanOrEqual(PHONE.width);
    expect(await seriousAxeViolations(page, "dialog[data-report-dialog]")).toEqual([]);
    await page.setViewportSize(DESKTOP);
    await dialog.getByRole("button", { name: "Send report" }).click();
    await dialog.waitFor({ state: "hidden", ...WAIT }).catch(async (error) => {
      throw new Error(`the dialog stayed: ${await dialog.locator("[data-report-files-status]").textContent()} ${error}`);
    });
    // The moderators' queue (Alice owns the community) lists the file; its bytes are Alice's WAV.
    const aliceHeaders = (await signIn(ctx, alice)).headers;
    const messageId = await row.getAttribute("data-message-id");
    const cid = channelPath.split("/")[2]!;
    const queue = await call(aliceHeaders, "GET", `/api/communities/${cid}/reports`);
    const mine = queue.reports.find((r: { target_id: string }) => r.target_id === messageId);
    expect(mine).toMatchObject({ reason: "offensive recording", files: [{ name: "tone.wav", type: "audio/wav", size: wav.length }] });
    const res = await ctx.request(`/api/communities/${cid}/reports/${mine.id}/files/${mine.files[0].id}`, { headers: aliceHeaders });
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(wav)).toBe(true);
    // In Alice's browser: the settings page of reports offers it as a download with the same bytes.
    await aliceS.page.goto(`${base}/c/${cid}/settings/reports`, { waitUntil: "load" });
    const link = aliceS.page.getByRole("link", { name: /^Download tone\.wav/ });
    await link.waitFor(WAIT);
    const download = aliceS.page.waitForEvent("download", WAIT);
    await link.click();
    const saved = readFileSync((await (await download).path())!);
    expect(saved.equals(wav)).toBe(true);
    await openChat(aliceS, channelPath);
  });

  test("damaged blobs: 'File damaged' and no player, for the streamed video and the WAV decrypted whole", async () => {
    const row = bobS.page.locator(".msg", { hasText: mediaCaption });
    const messageId = (await row.getAttribute("data-message-id"))!;
    const blobs = await sql<{ blob_id: string }>`select blob_id from files where message_id = ${messageId}`.execute(ctx.database.db);
    let flipped = 0;
    for (const { blob_id } of blobs.rows) {
      for (const dir of findDirs(ctx.config.files.storagePath, blob_id.replace(/-/g, ""))) {
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
    const damaged = bobS.page.locator(".msg", { hasText: mediaCaption });
    await damaged.locator(".file-card--damaged[data-file-state='damaged']", { hasText: "clip.webm" }).waitFor(WAIT);
    await damaged.locator(".file-card--damaged[data-file-state='damaged']", { hasText: "tone.wav" }).waitFor(WAIT);
    expect(await damaged.locator("video, audio").count()).toBe(0);
    expect(await damaged.locator(".file-card--damaged", { hasText: "clip.webm" }).textContent()).toContain("File damaged");
    // The voice note, untouched, still plays.
    expect(await bobS.page.locator(".msg", { hasText: voiceCaption }).locator("audio").count()).toBe(1);
    for (const s of [aliceS, bobS]) expect(s.problems.all().filter((p) => !/Failed to load resource/.test(p))).toEqual([]);
  });
});
