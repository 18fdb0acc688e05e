// Received files under a message's text: images inline (the small thumbnail first when there is
// one, then the full image, both decrypted into blob: URLs; a lightbox with the arrow keys), video
// and audio in a player (media-view.ts: streamed into a MediaSource or decrypted whole), every
// other file as a card with its name, size and a Download button. A file is shown only once it
// decrypted whole: a damaged or truncated blob fails authentication (attachments.ts) and reads
// "File damaged", never a partial image.
import { downloadFile, type FileRef } from "../files/index.ts";
import { formatSize, readSentFile, type SentFile } from "./file-ref.ts";
import { isInlineMedia, renderMedia } from "./media-view.ts";

/** Shown inline (decoded by the browser as an <img>, never as a document). */
const INLINE = new Set(["image/jpeg", "image/png", "image/webp", "image/gif", "image/avif"]);
/** Larger images are offered as a card: decrypting them in memory to show them is too much. */
const INLINE_MAX = 25 * 1024 * 1024;
const DAMAGED = "File damaged: it could not be decrypted, so it is not shown.";

function h<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const n = document.createElement(tag);
  if (cls) n.className = cls;
  if (text !== undefined) n.textContent = text;
  return n;
}

/** The whole file, decrypted and authenticated, as a Blob of `type`; throws on any damage. */
export async function fetchFile(ref: FileRef, size: number | null, type: string): Promise<Blob> {
  const stream = await downloadFile({}, ref);
  const blob = await new Response(stream).blob();
  if (size !== null && blob.size !== size) throw new Error("size mismatch");
  return new Blob([blob], { type });
}

function damaged(box: HTMLElement, file: SentFile | null): void {
  const card = h("div", "file-card file-card--damaged");
  card.dataset.fileState = "damaged";
  if (file) card.append(h("span", "file-card__name", file.name));
  card.append(h("span", "file-card__status", file ? DAMAGED : "File damaged: its description in the message is not readable."));
  box.replaceChildren(card);
}

const mediaHost = {
  fetchWhole: (file: SentFile) => fetchFile(file, file.size, file.type),
  fetchThumb: (file: SentFile) => fetchFile(file.thumb!, null, "image/jpeg"),
  damaged,
};

function renderCard(box: HTMLElement, file: SentFile): void {
  const card = h("div", "file-card");
  card.dataset.fileState = "ready";
  const name = h("span", "file-card__name", file.name);
  const size = h("span", "file-card__size", formatSize(file.size));
  const download = h("button", "btn btn--secondary btn--sm file-card__download", "Download");
  download.type = "button";
  download.setAttribute("aria-label", `Download ${file.name} (${formatSize(file.size)})`);
  const status = h("span", "file-card__status");
  status.setAttribute("role", "status");
  download.addEventListener("click", async () => {
    download.disabled = true;
    status.textContent = "Decrypting…";
    try {
      const blob = await fetchFile(file, file.size, "application/octet-stream");
      const url = URL.createObjectURL(blob);
      const a = h("a");
      a.href = url;
      a.download = file.name;
      a.hidden = true;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      status.textContent = "Downloaded.";
      card.dataset.fileState = "downloaded";
    } catch {
      status.textContent = DAMAGED;
      card.classList.add("file-card--damaged");
      card.dataset.fileState = "damaged";
    } finally {
      download.disabled = false;
    }
  });
  card.append(name, size, download, status);
  box.replaceChildren(card);
}

function renderImage(box: HTMLElement, file: SentFile): void {
  const figure = h("figure", "msg-image");
  figure.dataset.fileState = "loading";
  const open = h("button", "msg-image__open");
  open.type = "button";
  open.setAttribute("aria-label", `Open image ${file.name}`);
  const img = h("img", "msg-image__img");
  img.alt = file.name;
  const w = file.width ?? file.thumb?.width;
  const ht = file.height ?? file.thumb?.height;
  if (w && ht) {
    img.width = Math.min(w, 360);
    img.height = Math.round((img.width / w) * ht);
  }
  open.append(img);
  const caption = h("figcaption", "msg-image__caption", `${file.name} · ${formatSize(file.size)}`);
  figure.append(open, caption);
  box.replaceChildren(figure);
  open.addEventListener("click", () => openLightbox(open));
  if (file.thumb) {
    void fetchFile(file.thumb, null, "image/jpeg").then((blob) => {
      if (figure.dataset.fileState !== "loading") return;
      img.src = URL.createObjectURL(blob);
      figure.dataset.fileState = "thumbnail";
    }, () => {});
  }
  void fetchFile(file, file.size, file.type).then(
    (blob) => {
      const old = img.src;
      img.src = URL.createObjectURL(blob);
      if (old.startsWith("blob:")) URL.revokeObjectURL(old);
      figure.dataset.fileState = "ready";
    },
    () => {
      if (img.src.startsWith("blob:")) URL.revokeObjectURL(img.src);
      damaged(box, file);
    },
  );
}

export function renderAttachments(msg: HTMLElement, files: readonly unknown[]): void {
  const key = JSON.stringify(files.map((f) => (f as { id?: unknown })?.id ?? null));
  const existing = msg.querySelector<HTMLElement>(":scope > .msg__files");
  if (existing?.dataset.files === key) return; // already shown (a retry or an edit of the text)
  const list = h("ul", "msg__files");
  list.dataset.files = key;
  list.setAttribute("aria-label", files.length === 1 ? "1 file" : `${files.length} files`);
  for (const raw of files) {
    const item = h("li", "msg__file");
    const file = readSentFile(raw);
    if (!file) damaged(item, null);
    else if (INLINE.has(file.type) && file.size <= INLINE_MAX) renderImage(item, file);
    else if (isInlineMedia(file)) renderMedia(item, file, mediaHost);
    else renderCard(item, file);
    list.append(item);
  }
  if (existing) existing.replaceWith(list);
  else msg.querySelector(":scope > .msg__text")?.after(list);
}

/** The images of the conversation whose full version is shown, in page order. */
function shownImages(): HTMLButtonElement[] {
  return [...document.querySelectorAll<HTMLButtonElement>(".msg-image[data-file-state='ready'] .msg-image__open")];
}

/** A modal view of one image; ←/→ go through the conversation's images, Escape closes (focus returns). */
function openLightbox(opener: HTMLButtonElement): void {
  const dialog = h("dialog", "lightbox");
  dialog.setAttribute("aria-label", "Image");
  const img = h("img", "lightbox__img");
  const caption = h("p", "lightbox__caption");
  const bar = h("div", "lightbox__bar");
  const mk = (text: string, label: string) => {
    const b = h("button", "btn btn--secondary btn--sm", text);
    b.type = "button";
    b.setAttribute("aria-label", label);
    bar.append(b);
    return b;
  };
  const prev = mk("←", "Previous image");
  const next = mk("→", "Next image");
  const close = mk("Close", "Close image");
  dialog.append(img, caption, bar);
  let current = opener;
  const show = (target: HTMLButtonElement) => {
    const source = target.querySelector("img");
    if (!source) return;
    current = target;
    img.src = source.src;
    img.alt = source.alt;
    caption.textContent = target.closest("figure")?.querySelector("figcaption")?.textContent ?? "";
    const all = shownImages();
    const i = all.indexOf(target);
    prev.disabled = i <= 0;
    next.disabled = i < 0 || i >= all.length - 1;
  };
  const step = (d: number) => {
    const all = shownImages();
    const target = all[all.indexOf(current) + d];
    if (target) show(target);
  };
  prev.addEventListener("click", () => step(-1));
  next.addEventListener("click", () => step(1));
  close.addEventListener("click", () => dialog.close());
  dialog.addEventListener("keydown", (e) => {
    if (e.key === "ArrowLeft") step(-1);
    else if (e.key === "ArrowRight") step(1);
    else return;
    e.preventDefault();
  });
  dialog.addEventListener("close", () => {
    dialog.remove();
    (current.isConnected ? current : opener).focus();
  });
  document.body.append(dialog);
  show(opener);
  dialog.showModal();
  close.focus();
}
