// Time to thumbnail a 4000×3000 photo in Chromium (issue 12 "Measure"): the real
// src/client/chat/image-clean.ts, bundled for the page, runs makeThumbnail (the small encrypted
// preview) and cleanImage (the metadata-free re-encode sent by default) on a JPEG drawn in the
// page. Each is timed unthrottled (the baseline, same run) and with the CPU throttled 4× through
// the DevTools protocol, as on a cheap phone; the figures print as medians and ratios.
// Run: bun scripts/bench/thumbnail-browser.ts [runs=5]
import { launchBrowser } from "../../test/helpers/browser.ts";

const runs = Number(process.argv[2] ?? 5);
const built = await Bun.build({ entrypoints: [new URL("../../src/client/chat/image-clean.ts", import.meta.url).pathname], target: "browser", format: "esm", minify: true });
if (!built.success) throw new AggregateError(built.logs, "bundling image-clean.ts failed");
const bundle = await built.outputs[0]!.text();
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === "/image-clean.js") return new Response(bundle, { headers: { "content-type": "text/javascript" } });
    if (path === "/") return new Response("<!doctype html><title>thumbnail bench</title><p>bench</p>", { headers: { "content-type": "text/html" } });
    return new Response("no", { status: 404 });
  },
});
const browser = await launchBrowser();
if (!browser) {
  server.stop(true);
  process.exit(1);
}
try {
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${server.port}/`);
  const cdp = await page.context().newCDPSession(page);
  // A 4000×3000 JPEG with detail (gradients and noise), made once in the page.
  const photoBytes = await page.evaluate(async () => {
    const canvas = new OffscreenCanvas(4000, 3000);
    const g = canvas.getContext("2d")!;
    const gradient = g.createLinearGradient(0, 0, 4000, 3000);
    gradient.addColorStop(0, "#3a6"), gradient.addColorStop(0.5, "#c84"), gradient.addColorStop(1, "#35a");
    g.fillStyle = gradient;
    g.fillRect(0, 0, 4000, 3000);
    for (let i = 0; i < 20000; i++) {
      g.fillStyle = `hsl(${(i * 37) % 360} 60% 50% / 0.5)`;
      g.fillRect((i * 7919) % 4000, (i * 104729) % 3000, 12 + (i % 40), 12 + (i % 30));
    }
    const blob = await canvas.convertToBlob({ type: "image/jpeg", quality: 0.9 });
    (globalThis as unknown as { photo: Blob }).photo = blob;
    return blob.size;
  });
  const timeOnce = () =>
    page.evaluate(async () => {
      const lib = (await import("/image-clean.js" as string)) as typeof import("../../src/client/chat/image-clean.ts");
      const photo = (globalThis as unknown as { photo: Blob }).photo;
      const t0 = performance.now();
      const thumb = await lib.makeThumbnail(photo);
      const t1 = performance.now();
      const clean = await lib.cleanImage(photo);
      const t2 = performance.now();
      if (!thumb || thumb.width !== 320) throw new Error("no thumbnail");
      return { thumbMs: t1 - t0, cleanMs: t2 - t1, thumbBytes: thumb.blob.size, cleanBytes: clean.blob.size };
    });
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const measure = async (rate: number) => {
    await cdp.send("Emulation.setCPUThrottlingRate", { rate });
    await timeOnce(); // warm-up (module load, decoder)
    const samples = [];
    for (let i = 0; i < runs; i++) samples.push(await timeOnce());
    return { thumb: median(samples.map((s) => s.thumbMs)), clean: median(samples.map((s) => s.cleanMs)), thumbBytes: samples[0]!.thumbBytes, cleanBytes: samples[0]!.cleanBytes };
  };
  const base = await measure(1);
  const slow = await measure(4);
  const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
  console.log(`photo: 4000×3000 JPEG, ${kib(photoBytes)}; thumbnail 320 px ${kib(base.thumbBytes)}; cleaned re-encode ${kib(base.cleanBytes)}; medians of ${runs}`);
  console.log(`time to thumbnail: ${base.thumb.toFixed(0)} ms unthrottled (baseline), ${slow.thumb.toFixed(0)} ms at 4× CPU throttle (${(slow.thumb / base.thumb).toFixed(1)}× baseline)`);
  console.log(`metadata-free re-encode: ${base.clean.toFixed(0)} ms unthrottled, ${slow.clean.toFixed(0)} ms at 4× (${(slow.clean / base.clean).toFixed(1)}×)`);
} finally {
  await browser.close();
  server.stop(true);
}
