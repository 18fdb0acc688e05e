// The files UI, its own bundle (chat-files.js, imported by files-hook.ts on first use): the tray
// of attached files above the composer — each file re-encoded when it is an image (image-clean.ts,
// unless "Send original" is ticked), encrypted and uploaded in parts by the files library
// (src/client/files) with its own progress bar, Cancel, and Retry that resumes from the parts the
// server acknowledged — and the display of received files (files-view.ts).
import { FileApiError, resumeUpload, uploadFile, type FilesApi, type UploadState } from "../files/index.ts";
import { describeFile, formatSize, readSentFile } from "./file-ref.ts";
import type { Attached, FilesHost, FilesModule, FilesTray } from "./files-types.ts";
import { fetchFile, renderAttachments } from "./files-view.ts";
import { recordVoice } from "./voice-ui.ts";
import { CLEANABLE, cleanImage, makeThumbnail, measureImage, type Picture } from "./image-clean.ts";
import { videoPoster, webmCodecs } from "./media-prep.ts";

export { recordVoice, renderAttachments };

export async function decryptSent(raw: unknown): Promise<{ name: string; type: string; blob: Blob }> {
  const file = readSentFile(raw);
  if (!file) throw new Error("not a file");
  return { name: file.name, type: file.type, blob: await fetchFile(file, file.size, file.type) };
}

/** file_ids per message (src/features/files/limits.ts MAX_FILES_PER_MESSAGE): thumbnails count too. */
const MAX_IDS = 10;
const api: FilesApi = {};

function h<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const n = document.createElement(tag);
  if (cls) n.className = cls;
  if (text !== undefined) n.textContent = text;
  return n;
}

function button(text: string, label: string): HTMLButtonElement {
  const b = h("button", "btn btn--ghost btn--sm", text);
  b.type = "button";
  b.setAttribute("aria-label", label);
  return b;
}

type Item = {
  file: File;
  image: boolean;
  original: boolean;
  row: HTMLElement;
  bar: HTMLProgressElement;
  status: HTMLElement;
  action: HTMLButtonElement;
  retry: HTMLButtonElement;
  abort: AbortController | null;
  /** What is uploaded: the re-encoded image, or the file itself. */
  sent: { blob: Blob; type: string; width?: number; height?: number; codecs?: string } | null;
  /** A video's poster frame, uploaded as its thumbnail. */
  poster: Picture | null;
  upload: UploadState | null;
  thumb: { state: UploadState; width: number; height: number } | null;
  done: Record<string, unknown> | null;
};

function cancelSession(state: UploadState | null): void {
  if (state) void fetch(`/api/files/uploads/${state.id}`, { method: "DELETE", credentials: "same-origin" }).catch(() => {});
}

function reasonOf(error: unknown): string {
  if (error instanceof FileApiError) return error.message;
  if (error instanceof TypeError) return "The connection dropped.";
  return (error as Error)?.message || "Something went wrong.";
}

export function createTray(host: FilesHost): FilesTray {
  const tray = h("ul", "file-tray");
  tray.setAttribute("aria-label", "Attached files");
  tray.hidden = true;
  host.form.before(tray);
  let items: Item[] = [];
  /** A voice note asked to be sent as soon as the uploads are done. */
  let autoSend = false;

  const drop = (item: Item) => {
    item.abort?.abort();
    items = items.filter((i) => i !== item);
    item.row.remove();
    tray.hidden = items.length === 0;
  };

  const show = (item: Item, phase: "working" | "failed" | "done", text: string) => {
    item.row.dataset.phase = phase;
    item.status.textContent = text;
    item.retry.hidden = phase !== "failed";
    item.action.textContent = phase === "working" ? "Cancel" : "Remove";
    item.action.setAttribute("aria-label", `${phase === "working" ? "Cancel" : "Remove"} ${item.file.name}`);
    if (phase === "done") item.bar.value = 1;
  };

  const run = async (item: Item) => {
    item.abort?.abort();
    const abort = (item.abort = new AbortController());
    const signal = abort.signal;
    try {
      if (!item.sent) {
        show(item, "working", item.image && !item.original ? "Removing location and camera data…" : "Preparing…");
        if (item.image && !item.original) item.sent = await cleanImage(item.file);
        else if (/^(video|audio)\//.test(item.file.type)) {
          const type = item.file.type.split(";")[0]!;
          const frame = type.startsWith("video/") ? await videoPoster(item.file) : null;
          item.poster = frame?.poster ?? null;
          item.sent = { blob: item.file, type, width: frame?.width, height: frame?.height, codecs: await webmCodecs(item.file, type) };
        } else {
          const size = item.image ? await measureImage(item.file) : null;
          item.sent = { blob: item.file, type: item.file.type, ...size };
        }
      }
      signal.throwIfAborted();
      const sent = item.sent;
      // A thumbnail of its own (shown before the full image) while message ids remain.
      const ids = items.reduce((n, i) => n + 1 + (i.thumb ? 1 : 0), 0);
      if ((item.image || item.poster) && !item.thumb && ids < MAX_IDS && sent.width) {
        const small = item.poster ?? (await makeThumbnail(sent.blob));
        if (small) {
          const state = await uploadFile(api, { channelId: host.channelId, file: small.blob }, { signal });
          item.thumb = { state, width: small.width, height: small.height };
        }
      }
      show(item, "working", "Encrypting and uploading…");
      const onProgress = (done: number, total: number) => {
        item.bar.value = total ? done / total : 1;
        item.status.textContent = `Uploading… ${Math.floor((100 * done) / (total || 1))}%`;
      };
      if (item.upload) await resumeUpload(api, item.upload, sent.blob, { signal, onProgress });
      // 1 MiB parts for files up to 16 MiB (a fine progress bar, little lost to a dropped
      // connection), 4 MiB beyond (fewer requests against the upload rate limit).
      else await uploadFile(api, { channelId: host.channelId, file: sent.blob }, { signal, onProgress, chunksPerPart: sent.blob.size <= 16 << 20 ? 16 : 64, onStart: (state) => (item.upload = state) });
      item.done = describeFile(item.upload!, { name: item.file.name, type: sent.type || "application/octet-stream", size: sent.blob.size, width: sent.width, height: sent.height, codecs: sent.codecs }, item.thumb ?? undefined);
      show(item, "done", item.image && !item.original ? "Ready · location and camera data removed" : "Ready");
      if (autoSend && items.every((i) => i.done)) {
        autoSend = false;
        host.form.requestSubmit();
      }
    } catch (error) {
      if (signal.aborted) return;
      show(item, "failed", `Not uploaded: ${reasonOf(error)}`);
    }
  };

  const add = (file: File) => {
    if (items.length >= MAX_IDS) return host.notify(`At most ${MAX_IDS} files per message.`);
    const image = CLEANABLE.has(file.type);
    const row = h("li", "file-tray__item");
    const name = h("span", "file-tray__name", file.name);
    const size = h("span", "file-tray__size", formatSize(file.size));
    const bar = h("progress", "file-tray__bar");
    bar.max = 1;
    bar.value = 0;
    bar.setAttribute("aria-label", `Upload of ${file.name}`);
    const status = h("span", "file-tray__status");
    status.setAttribute("role", "status");
    const retry = button("Retry", `Retry ${file.name}`);
    const action = button("Cancel", `Cancel ${file.name}`);
    const item: Item = { file, image, original: false, row, bar, status, action, retry, abort: null, sent: null, poster: null, upload: null, thumb: null, done: null };
    const head = h("div", "file-tray__head");
    head.append(name, size);
    const controls = h("div", "file-tray__controls");
    if (image) {
      const label = h("label", "file-tray__original");
      const box = h("input");
      box.type = "checkbox";
      label.append(box, " Send original (keeps location and camera data)");
      box.addEventListener("change", () => {
        // Another file goes up: the one uploaded so far is cancelled (quota back).
        item.abort?.abort();
        cancelSession(item.upload);
        cancelSession(item.thumb?.state ?? null);
        Object.assign(item, { original: box.checked, sent: null, upload: null, thumb: null, done: null });
        item.bar.value = 0;
        void run(item);
      });
      controls.append(label);
    }
    controls.append(retry, action);
    row.append(head, bar, status, controls);
    retry.addEventListener("click", () => void run(item));
    action.addEventListener("click", () => {
      cancelSession(item.upload);
      cancelSession(item.thumb?.state ?? null);
      drop(item);
      host.form.querySelector<HTMLElement>(".composer__attach")?.focus();
    });
    items.push(item);
    tray.append(row);
    tray.hidden = false;
    void run(item);
  };

  return {
    add(files, opts) {
      if (opts?.send) autoSend = true;
      for (const f of files) add(f);
    },
    take(): Attached | string | null {
      if (items.length === 0) return null;
      if (items.some((i) => !i.done)) return "Wait until every file is uploaded, or remove the ones that failed.";
      // Files added after the thumbnails were made: thumbnails give way, last first.
      let count = items.reduce((n, i) => n + 1 + (i.thumb ? 1 : 0), 0);
      for (const i of [...items].reverse()) {
        if (count <= MAX_IDS) break;
        if (!i.thumb) continue;
        cancelSession(i.thumb.state);
        i.thumb = null;
        delete i.done!.thumb;
        count--;
      }
      const files = items.map((i) => i.done!);
      const ids = items.flatMap((i) => [i.upload!.id, ...(i.thumb ? [i.thumb.state.id] : [])]);
      for (const i of [...items]) drop(i);
      return { files, ids };
    },
    dispose() {
      for (const i of [...items]) {
        cancelSession(i.upload);
        cancelSession(i.thumb?.state ?? null);
        drop(i);
      }
      tray.remove();
    },
  };
}

export default { createTray, renderAttachments, recordVoice, decryptSent } satisfies FilesModule;
