// Link previews made by the sender (issue 18 §3, docs/integrations.md), a lazy chunk of chat.js:
// loaded when a link is first typed (composer.ts) or a decrypted message carries a preview
// (controller.ts). The composer asks POST /api/link-preview for the first link of the draft
// (unless the user turned previews off), shows a card that can be removed, and hands the preview
// to the send: it travels inside the encrypted message. Readers render it from the decrypted
// payload as text, and fetch nothing (no image is loaded).

export type Preview = { url: string; title: string | null; description: string | null; site_name: string | null };

/** A link the writer finished (a space or newline after it): no preview is asked for half a URL. */
const URL_RE = /https?:\/\/[^\s<>"']+(?=\s)/;
const NOTE = "Preview fetched by the server, which learns this link (not your message).";

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = cls;
  if (text) node.textContent = text;
  return node;
}

const str = (v: unknown, max: number): string | null => (typeof v === "string" && v.trim() ? v.trim().slice(0, max) : null);

/** A preview from a decrypted payload: only known fields, as bounded strings, an http(s) URL. */
export function parsePreview(raw: unknown): Preview | null {
  if (!raw || typeof raw !== "object") return null;
  const o = raw as Record<string, unknown>;
  const url = str(o.url, 2048);
  if (!url || !/^https?:\/\//i.test(url)) return null;
  const p = { url, title: str(o.title, 300), description: str(o.description, 1000), site_name: str(o.site_name, 100) };
  return p.title || p.description ? p : null;
}

function card(p: Preview): HTMLElement {
  const box = el("div", "link-preview");
  const link = el("a", "link-preview__title", p.title ?? p.url);
  link.href = p.url;
  link.rel = "noopener noreferrer nofollow ugc";
  link.target = "_blank";
  box.append(el("p", "link-preview__site", p.site_name ?? new URL(p.url).hostname), link);
  if (p.description) box.append(el("p", "link-preview__description", p.description));
  return box;
}

/** A GIF chosen in the picker (gif-picker.ts): `{type: "gif", url, title, width, height}`, a Giphy media URL. */
export type GifRef = { type: "gif"; url: string; title: string; width: number; height: number };
const GIF_HOST = /^(?:media[0-9]?|i)\.giphy\.com$/;

export function parseGif(raw: unknown): GifRef | null {
  if (!raw || typeof raw !== "object" || (raw as { type?: unknown }).type !== "gif") return null;
  const o = raw as Record<string, unknown>;
  const url = str(o.url, 2048);
  let parsed: URL;
  try {
    parsed = new URL(url ?? "");
  } catch {
    return null;
  }
  if (!/^https?:$/.test(parsed.protocol) || !GIF_HOST.test(parsed.hostname)) return null;
  const dim = (v: unknown) => (typeof v === "number" && v > 0 && v < 10_000 ? Math.round(v) : 0);
  return { type: "gif", url: parsed.href, title: str(o.title, 200) ?? "", width: dim(o.width), height: dim(o.height) };
}

/** The GIF, loaded through Hearth's media proxy (the server checks the host again): Giphy sees Hearth, not the reader. */
export function gifElement(g: Pick<GifRef, "url" | "width" | "height"> & { title?: string }, alt = g.title ? `GIF: ${g.title}` : "GIF"): HTMLImageElement | HTMLVideoElement {
  const src = `/api/gifs/media?url=${encodeURIComponent(g.url)}`;
  const media = g.url.endsWith(".mp4") ? Object.assign(document.createElement("video"), { autoplay: true, loop: true, muted: true, playsInline: true }) : Object.assign(document.createElement("img"), { alt, loading: "lazy" as const, decoding: "async" as const });
  if (media instanceof HTMLVideoElement) media.setAttribute("aria-label", alt);
  media.src = src;
  if (g.width && g.height) {
    media.width = g.width;
    media.height = g.height;
  }
  return media;
}

/** The reader's side: a card under the message text, from the decrypted payload only. */
export function showPreview(msg: HTMLElement, raw: unknown): void {
  msg.querySelector(":scope > .link-preview")?.remove();
  const gif = parseGif(raw);
  if (gif) {
    const box = el("div", "link-preview msg__gif");
    box.append(gifElement(gif));
    msg.querySelector(".msg__text")?.after(box);
    return;
  }
  const p = parsePreview(raw);
  if (!p) return;
  msg.querySelector(".msg__text")?.after(card(p));
}

/** The composer's side: watches the draft; `take(text)` gives the preview to send (and clears it). */
export function watchComposer(form: HTMLFormElement, input: HTMLTextAreaElement): { take(text: string): Preview | null } {
  let current: Preview | null = null;
  let shown: HTMLElement | null = null;
  let asked = "";
  const dismissed = new Set<string>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const enabled = fetch("/api/account/link-previews", { credentials: "same-origin" })
    .then((r) => (r.ok ? (r.json() as Promise<{ enabled: boolean }>) : { enabled: false }))
    .then((b) => b.enabled, () => false);
  const clear = () => {
    shown?.remove();
    shown = null;
    current = null;
  };
  const show = (p: Preview) => {
    clear();
    current = p;
    shown = el("div", "link-preview link-preview--draft");
    shown.setAttribute("role", "group");
    shown.setAttribute("aria-label", "Link preview");
    shown.dataset.linkPreview = "";
    const remove = el("button", "btn btn--ghost btn--sm link-preview__remove", "Remove preview");
    remove.type = "button";
    remove.addEventListener("click", () => {
      dismissed.add(p.url);
      clear();
      input.focus();
    });
    shown.append(...card(p).childNodes, el("p", "link-preview__note", NOTE), remove);
    form.before(shown);
  };
  const check = async () => {
    const url = URL_RE.exec(input.value)?.[0] ?? "";
    if (!url && current && input.value.includes(current.url)) return; // still being edited after it
    if (!url || dismissed.has(url)) {
      if (current && current.url !== url) clear();
      return;
    }
    if (url === asked || !(await enabled)) return;
    asked = url;
    const response = await fetch("/api/link-preview", { method: "POST", credentials: "same-origin", headers: { "content-type": "application/json", accept: "application/json" }, body: JSON.stringify({ url }) }).catch(() => null);
    if (!response?.ok || asked !== url) return;
    const p = parsePreview(await response.json());
    if (p && input.value.includes(url)) show(p);
  };
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => void check(), 500);
  });
  void check();
  return {
    take(text: string) {
      const p = current && text.includes(current.url) ? current : null; // text is trimmed: match by inclusion
      clear();
      asked = "";
      return p;
    },
  };
}
