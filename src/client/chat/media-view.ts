// Inline video and audio (docs/files.md "Video and audio"): a <video>/<audio> element with the
// browser's controls (keyboard usable), fed one of two ways —
//
//   - streamed: when the sender recorded the container's codecs (`codecs`) and MediaSource
//     accepts that type (in Chromium: WebM with VP8/VP9/Opus/Vorbis, MP3), the ciphertext is
//     fetched and decrypted chunk by chunk and each authenticated chunk is appended to a
//     SourceBuffer, so playback can start before the whole file arrived;
//   - whole: otherwise (MP4/MOV, which MediaSource takes only fragmented, WAV, unknown codecs, or
//     a stream MediaSource refused) the file is decrypted whole into a Blob and played from a
//     blob: URL, like an image.
//
// Either way only authenticated bytes reach the player. A damaged or truncated blob fails
// authentication (attachments.ts): the player is removed and the file reads "File damaged" — a
// streamed file may have played its first, authenticated seconds before the damage further on was
// reached; it never stays on screen as a shorter media.
import { downloadFile } from "../files/index.ts";
import { formatSize, type SentFile } from "./file-ref.ts";

/** Played inline up to this plaintext size (streamed or whole); larger files are offered as a card. */
export const MEDIA_INLINE_MAX = 100 * 1024 * 1024;
/** Decrypted bytes appended to the SourceBuffer at once (fewer, larger appends). */
const APPEND_BYTES = 1 << 20;

export function isInlineMedia(file: SentFile): boolean {
  return (file.type.startsWith("video/") || file.type.startsWith("audio/")) && file.size <= MEDIA_INLINE_MAX;
}

/** The MediaSource type for the file, or null when it must be played whole. */
export function streamType(file: SentFile): string | null {
  if (typeof MediaSource === "undefined") return null;
  const full = file.codecs ? `${file.type}; codecs="${file.codecs}"` : file.type;
  try {
    return MediaSource.isTypeSupported(full) ? full : null;
  } catch {
    return null;
  }
}

class Damaged extends Error {}
class Refused extends Error {}

type Host = {
  /** The decrypted whole file (fetchFile of files-view.ts). */
  fetchWhole(file: SentFile): Promise<Blob>;
  fetchThumb(file: SentFile): Promise<Blob>;
  damaged(box: HTMLElement, file: SentFile): void;
};

function h<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const n = document.createElement(tag);
  if (cls) n.className = cls;
  if (text !== undefined) n.textContent = text;
  return n;
}

function once(target: EventTarget, ok: string, fail?: string): Promise<Event> {
  return new Promise((resolve, reject) => {
    target.addEventListener(ok, resolve, { once: true });
    if (fail) target.addEventListener(fail, () => reject(new Refused(fail)), { once: true });
  });
}

/** Decrypts into a SourceBuffer; Damaged when authentication fails, Refused when MediaSource does. */
async function stream(player: HTMLMediaElement, file: SentFile, type: string, signal: AbortSignal): Promise<void> {
  const source = new MediaSource();
  const url = URL.createObjectURL(source);
  player.src = url;
  await once(source, "sourceopen");
  URL.revokeObjectURL(url);
  let buffer: SourceBuffer;
  try {
    buffer = source.addSourceBuffer(type);
  } catch {
    throw new Refused("type");
  }
  const append = async (bytes: Uint8Array) => {
    const done = once(buffer, "updateend", "error");
    try {
      buffer.appendBuffer(bytes as BufferSource);
    } catch {
      throw new Refused("append"); // QuotaExceeded, or the element errored (not a stream it can play)
    }
    await done;
  };
  let reader: ReadableStreamDefaultReader<Uint8Array>;
  try {
    reader = (await downloadFile({}, file, { signal })).getReader();
  } catch (error) {
    if (signal.aborted) throw error;
    throw new Damaged("fetch");
  }
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let total = 0;
  const flush = async () => {
    if (!pendingBytes) return;
    const joined = new Uint8Array(pendingBytes);
    let at = 0;
    for (const p of pending) {
      joined.set(p, at);
      at += p.length;
    }
    pending = [];
    pendingBytes = 0;
    await append(joined);
  };
  for (;;) {
    let step: Awaited<ReturnType<typeof reader.read>>;
    try {
      step = await reader.read();
    } catch (error) {
      if (signal.aborted) throw error;
      throw new Damaged("decrypt");
    }
    if (step.done) break;
    total += step.value.length;
    pending.push(step.value);
    pendingBytes += step.value.length;
    if (pendingBytes >= APPEND_BYTES) await flush();
  }
  await flush();
  if (total !== file.size) throw new Damaged("size");
  if (source.readyState === "open") source.endOfStream();
}

/** Shows a playable <video>/<audio> for the file in `box` (replacing what is there). */
export function renderMedia(box: HTMLElement, file: SentFile, host: Host): void {
  const video = file.type.startsWith("video/");
  const figure = h("figure", video ? "msg-media msg-media--video" : "msg-media msg-media--audio");
  figure.dataset.fileState = "loading";
  const player = h(video ? "video" : "audio", "msg-media__player");
  player.controls = true;
  player.preload = "metadata";
  player.setAttribute("aria-label", `${video ? "Video" : "Audio"} ${file.name}`);
  if (video && file.width && file.height) {
    (player as HTMLVideoElement).width = Math.min(file.width, 360);
    (player as HTMLVideoElement).height = Math.round((Math.min(file.width, 360) / file.width) * file.height);
  }
  const caption = h("figcaption", "msg-media__caption", `${file.name} · ${formatSize(file.size)}`);
  figure.append(player, caption);
  box.replaceChildren(figure);
  const abort = new AbortController();
  let wholeUrl = "";
  const fail = () => {
    abort.abort();
    player.pause();
    player.removeAttribute("src");
    player.load();
    if (wholeUrl) URL.revokeObjectURL(wholeUrl);
    host.damaged(box, file);
  };
  if (video && file.thumb) {
    void host.fetchThumb(file).then((blob) => {
      if (figure.isConnected) (player as HTMLVideoElement).poster = URL.createObjectURL(blob);
    }, () => {});
  }
  const whole = async () => {
    const blob = await host.fetchWhole(file);
    wholeUrl = URL.createObjectURL(blob);
    player.src = wholeUrl;
    figure.dataset.fileState = "ready";
    figure.dataset.mediaMode = "whole";
  };
  const type = streamType(file);
  const run = async () => {
    if (!type) return whole();
    figure.dataset.mediaMode = "stream";
    try {
      await stream(player, file, type, abort.signal);
      figure.dataset.fileState = "ready";
    } catch (error) {
      if (!(error instanceof Refused)) throw error;
      // MediaSource refused this stream (codecs not as declared…): played whole instead.
      player.removeAttribute("src");
      player.load();
      await whole();
    }
  };
  run().catch(fail);
}
