/**
 * The public-image pipeline (src/features/images/codec.ts): content sniffing, the decompression
 * bomb guard, metadata stripping, bounded sizes, animation kept. No database needed.
 */
import { describe, expect, test } from "bun:test";
import sharp from "sharp";
import { reencodeImage, sniffImage } from "../../../src/features/images/index.ts";
import { animatedGif, HTML, jpegWithGps, png, pngBomb, pngHtmlPolyglot, POLYGLOT_MARKER, SVG } from "./fixtures.ts";

const T = 60_000;

describe("content sniffing", () => {
  test("PNG, JPEG, GIF and WebP are recognised by their bytes; SVG, HTML, text and empty are not", async () => {
    expect(sniffImage(await png())).toBe("png");
    expect(sniffImage(await jpegWithGps(16, 16))).toBe("jpeg");
    expect(sniffImage(await animatedGif(2, 8, 8))).toBe("gif");
    expect(sniffImage(new Uint8Array(await sharp(await png()).webp().toBuffer()))).toBe("webp");
    for (const bytes of [SVG, HTML, new TextEncoder().encode("hello"), new Uint8Array(0)]) expect(sniffImage(bytes)).toBeNull();
  }, T);

  test("SVG and HTML are refused with IMAGE_UNSUPPORTED, whatever they claim to be", async () => {
    for (const bytes of [SVG, HTML]) {
      const error = await reencodeImage(bytes, "avatar").catch((e) => e);
      expect(error.code).toBe("IMAGE_UNSUPPORTED");
      expect(error.status).toBe(400);
    }
  }, T);

  test("a PNG signature followed by garbage is refused, not passed through", async () => {
    const bytes = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...new TextEncoder().encode("<html>not really</html>")]);
    expect((await reencodeImage(bytes, "avatar").catch((e) => e)).code).toBe("IMAGE_UNSUPPORTED");
  }, T);
});

describe("decompression bombs", () => {
  test("a 50,000 × 50,000 PNG bomb is refused from its header: IMAGE_TOO_LARGE, nothing decoded", async () => {
    const bomb = pngBomb();
    const rssBefore = process.memoryUsage().rss;
    const error = await reencodeImage(bomb, "avatar").catch((e) => e);
    expect(error.code).toBe("IMAGE_TOO_LARGE");
    expect(error.status).toBe(413);
    expect(error.publicMessage).toContain("50000 × 50000");
    // Decoding it would need 2.5 GB (8-bit) or 312 MB (1-bit rows): the header check reads neither.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(200 * 1024 * 1024);
  }, T);
});

describe("re-encoding", () => {
  test("EXIF and GPS are gone: no metadata block, and none of the strings survive in the bytes", async () => {
    const input = await jpegWithGps();
    expect((await sharp(input).metadata()).exif).toBeDefined(); // the control: the input has them
    expect(Buffer.from(input).includes("SecretCamMaker")).toBe(true);
    const out = await reencodeImage(input, "avatar");
    const meta = await sharp(out.bytes).metadata();
    expect(meta.format).toBe("webp");
    expect(meta.exif).toBeUndefined();
    expect(meta.xmp).toBeUndefined();
    expect(meta.icc).toBeUndefined();
    const bytes = Buffer.from(out.bytes);
    for (const needle of ["SecretCamMaker", "SecretCamModel", "Exif", "GPS"]) expect(bytes.includes(needle)).toBe(false);
  }, T);

  test("avatars are square and at most 512 px, emoji at most 128 px, banners within 1920 × 640", async () => {
    const big = await png(2000, 1000);
    const avatar = await reencodeImage(big, "avatar");
    expect([avatar.width, avatar.height]).toEqual([512, 512]);
    const emoji = await reencodeImage(big, "emoji");
    expect(Math.max(emoji.width, emoji.height)).toBeLessThanOrEqual(128);
    const banner = await reencodeImage(await png(4000, 1000), "banner");
    expect(banner.width).toBeLessThanOrEqual(1920);
    expect(banner.height).toBeLessThanOrEqual(640);
    expect(banner.contentType).toBe("image/webp");
  }, T);

  test("an avatar crop square picks the part of the image asked for", async () => {
    // Left half red, right half blue: cropping the right square gives blue.
    const left = await sharp({ create: { width: 200, height: 200, channels: 3, background: { r: 255, g: 0, b: 0 } } }).png().toBuffer();
    const input = await sharp({ create: { width: 400, height: 200, channels: 3, background: { r: 0, g: 0, b: 255 } } }).composite([{ input: left, left: 0, top: 0 }]).png().toBuffer();
    const out = await reencodeImage(new Uint8Array(input), "avatar", { x: 200, y: 0, size: 200 });
    const stats = await sharp(out.bytes).stats();
    expect(stats.channels[2]!.mean).toBeGreaterThan(200);
    expect(stats.channels[0]!.mean).toBeLessThan(50);
  }, T);

  test("an animated GIF stays animated (WebP, every frame) within the emoji bound", async () => {
    const out = await reencodeImage(await animatedGif(6), "emoji");
    expect(out.animated).toBe(true);
    const meta = await sharp(out.bytes, { animated: true }).metadata();
    expect(meta.format).toBe("webp");
    expect(meta.pages).toBe(6);
    expect(Math.max(meta.width!, meta.pageHeight!)).toBeLessThanOrEqual(128);
  }, T);

  test("a PNG/HTML polyglot comes out as a plain WebP without the HTML", async () => {
    const input = await pngHtmlPolyglot();
    expect(Buffer.from(input).includes(POLYGLOT_MARKER)).toBe(true);
    const out = await reencodeImage(input, "avatar");
    const bytes = Buffer.from(out.bytes);
    expect(bytes.includes("<script")).toBe(false);
    expect(bytes.includes("html")).toBe(false);
    expect(sniffImage(out.bytes)).toBe("webp");
  }, T);
});
