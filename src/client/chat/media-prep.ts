// What the sender's tray learns about a video or audio file before it goes (files-ui.ts): a
// poster frame of a video (a small JPEG uploaded as its own blob, like an image's thumbnail) with
// its dimensions, and the codecs of a WebM file, read from its track list, so a reader can stream
// it into a MediaSource (media-view.ts). Both stay inside the encrypted message.
import { thumbnailOf, type Picture } from "./image-clean.ts";

/** Matroska CodecIDs MediaSource plays in WebM, and their codecs= names. */
const WEBM_CODECS: [string, string][] = [["V_VP8", "vp8"], ["V_VP9", "vp9"], ["A_OPUS", "opus"], ["A_VORBIS", "vorbis"]];
/** The track list sits near the start of a WebM file (after the EBML header and segment info). */
const SNIFF_BYTES = 64 * 1024;
const POSTER_WAIT_MS = 10_000;

/** "vp8,opus"-style codecs of a WebM file, or undefined when it is not WebM or holds another codec. */
export async function webmCodecs(file: Blob, type: string): Promise<string | undefined> {
  if (type !== "video/webm" && type !== "audio/webm") return undefined;
  const head = new Uint8Array(await file.slice(0, SNIFF_BYTES).arrayBuffer());
  if (head[0] !== 0x1a || head[1] !== 0x45 || head[2] !== 0xdf || head[3] !== 0xa3) return undefined; // EBML magic
  const text = new TextDecoder("latin1").decode(head);
  if (/V_AV1|V_MPEG|A_AAC|A_MPEG|A_FLAC|A_PCM/.test(text)) return undefined; // a codec not listed: played whole
  const found = WEBM_CODECS.filter(([id]) => text.includes(id)).map(([, name]) => name);
  return found.length && found.length <= 2 ? found.join(",") : undefined;
}

function settle(target: EventTarget, ok: string): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), POSTER_WAIT_MS);
    const done = (value: boolean) => () => {
      clearTimeout(timer);
      resolve(value);
    };
    target.addEventListener(ok, done(true), { once: true });
    target.addEventListener("error", done(false), { once: true });
  });
}

/** A poster frame (a frame a little into the video) and the video's size; null when this browser cannot decode it. */
export async function videoPoster(file: Blob): Promise<{ poster: Picture; width: number; height: number } | null> {
  const url = URL.createObjectURL(file);
  const video = document.createElement("video");
  video.muted = true;
  video.preload = "auto";
  video.src = url;
  try {
    if (!(await settle(video, "loadeddata")) || !video.videoWidth) return null;
    // The very first frame is often black: a tenth of the way in, at most one second.
    if (Number.isFinite(video.duration) && video.duration > 0.2) {
      video.currentTime = Math.min(1, video.duration / 10);
      if (!(await settle(video, "seeked"))) return null;
    }
    const bitmap = await createImageBitmap(video);
    try {
      return { poster: await thumbnailOf(bitmap), width: video.videoWidth, height: video.videoHeight };
    } finally {
      bitmap.close();
    }
  } catch {
    return null;
  } finally {
    video.removeAttribute("src");
    video.load();
    URL.revokeObjectURL(url);
  }
}
