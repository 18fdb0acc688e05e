/**
 * Time to decrypt and play a ~20 MB video in Chromium (issue 12 §5, docs/files.md "Video and
 * audio"): Alice's page records a WebM (VP8) of canvas noise at a high bitrate and sends it through
 * the files tray; Bob's page is reloaded and the time from the player's creation to its first
 * frame (`loadeddata`, readyState ≥ 2) and to the whole file decrypted (data-file-state="ready")
 * is measured, streamed into a MediaSource and then decrypted whole (MediaSource hidden from the
 * page). Runs against an in-process server on loopback with PGlite and the local blob store.
 *
 *   bun scripts/bench/media-play.ts [--runs 3] [--mb 20] [--seconds 14]
 */
import { chromium, type Page } from "playwright-core";
import { createTestContext } from "../../test/helpers/app.ts";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "../../test/helpers/browser.ts";
import { aliceAndBobInCommunity, apiCaller, openSignedIn } from "../../test/helpers/chat-e2e.ts";
import { ensureClientBuild } from "../build.ts";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const RUNS = arg("runs", 3);
const TARGET_MB = arg("mb", 20);
const WAIT = { timeout: 300_000 };

await ensureClientBuild();
const ctx = await createTestContext({ env: { COMMUNITY_CREATION_MODE: "anyone" } });
ctx.app.listen({ hostname: "127.0.0.1", port: 0 });
const base = `http://127.0.0.1:${ctx.app.server!.port}`;
const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
const opened: Parameters<typeof openSignedIn>[4]["track"] = [];
try {
  const call = apiCaller(ctx);
  const { alice, bob, channelPath } = await aliceAndBobInCommunity(ctx, call, "Bench");
  const a = await openSignedIn(browser, ctx, base, alice, { track: opened });
  const open = async (page: Page) => {
    await page.goto(`${base}${channelPath}`, { waitUntil: "load" });
    await page.waitForSelector("[data-chat-ready]", WAIT);
  };
  await open(a.page);
  // ~TARGET_MB of VP8: noise defeats compression, so the bitrate sets the size.
  // Asks for twice the bitrate of the target size: the encoder falls short of it under load.
  const seconds = arg("seconds", 14);
  const b64 = await a.page.evaluate(async ({ seconds, mb }) => {
    const c = document.createElement("canvas");
    c.width = 640;
    c.height = 360;
    const g = c.getContext("2d")!;
    // Thirty frames of noise made up front and cycled: noise defeats compression, and drawing a
    // ready frame keeps up with 25 fps where generating one per frame did not (frames dropped).
    const frames = Array.from({ length: 30 }, () => {
      const img = g.createImageData(640, 360);
      const words = new Uint32Array(img.data.buffer);
      for (let i = 0; i < words.length; i++) words[i] = (Math.random() * 0xffffffff) | 0xff000000;
      return img;
    });
    const rec = new MediaRecorder(c.captureStream(25), { mimeType: "video/webm;codecs=vp8", videoBitsPerSecond: Math.round((mb * 8e6 * 2) / seconds) });
    const parts: Blob[] = [];
    rec.ondataavailable = (e) => parts.push(e.data);
    let n = 0;
    const draw = () => g.putImageData(frames[n++ % frames.length]!, 0, 0);
    draw();
    const iv = setInterval(draw, 40);
    rec.start(500);
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const stopped = new Promise((r) => (rec.onstop = r));
    rec.stop();
    await stopped;
    clearInterval(iv);
    const bytes = new Uint8Array(await new Blob(parts).arrayBuffer());
    let s = "";
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(s);
  }, { seconds, mb: TARGET_MB });
  const video = Buffer.from(b64, "base64");
  const chooser = a.page.waitForEvent("filechooser", WAIT);
  await a.page.getByRole("button", { name: "Attach a file" }).click();
  await (await chooser).setFiles([{ name: "bench.webm", mimeType: "video/webm", buffer: video }]);
  await a.page.waitForFunction(() => document.querySelector(".file-tray__item")?.getAttribute("data-phase") === "done", undefined, WAIT);
  await a.page.locator("#composer-input").fill("bench video");
  await a.page.locator("#composer-input").press("Enter");
  console.log(`video: ${(video.length / 1e6).toFixed(1)} MB WebM/VP8, ${seconds} s`);

  for (const mode of ["stream", "whole"] as const) {
    const b = await openSignedIn(browser, ctx, base, bob, {
      track: opened,
      beforePage: async (context) => {
        // Times the first player that appears: created → first frame → whole file decrypted.
        await context.addInitScript((hideMse: boolean) => {
          if (hideMse) (MediaSource as unknown as { isTypeSupported: () => boolean }).isTypeSupported = () => false;
          const w = window as unknown as { __t: Record<string, number> };
          w.__t = {};
          new MutationObserver(() => {
            const v = document.querySelector<HTMLVideoElement>("video.msg-media__player");
            if (!v || w.__t.created) return;
            w.__t.created = performance.now();
            v.muted = true;
            v.autoplay = true;
            v.addEventListener("loadeddata", () => (w.__t.firstFrame ??= performance.now()));
            const fig = v.closest("figure")!;
            new MutationObserver(() => {
              if (fig.dataset.fileState === "ready") w.__t.ready ??= performance.now();
            }).observe(fig, { attributes: true });
          }).observe(document, { childList: true, subtree: true });
        }, mode === "whole");
      },
    });
    const rows: string[] = [];
    for (let run = 0; run < RUNS; run++) {
      await open(b.page);
      await b.page.waitForFunction(() => {
        const t = (window as unknown as { __t: Record<string, number> }).__t;
        return t.firstFrame && t.ready;
      }, undefined, WAIT);
      const t = await b.page.evaluate(() => (window as unknown as { __t: Record<string, number> }).__t);
      const state = await b.page.locator("figure.msg-media").getAttribute("data-media-mode");
      rows.push(`${state}: first frame ${Math.round(t.firstFrame! - t.created!)} ms, whole file decrypted ${Math.round(t.ready! - t.created!)} ms`);
    }
    console.log(`${mode}:\n  ${rows.join("\n  ")}`);
    await b.context.close();
  }
} finally {
  for (const c of opened) await c.close().catch(() => {});
  await browser.close();
  await ctx.close();
}
