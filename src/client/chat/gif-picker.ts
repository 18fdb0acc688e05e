// The GIF picker (docs/integrations.md "GIF search"), a lazy chunk of chat.js loaded with the
// first click on the composer's GIF button. It searches through Hearth (GET /api/gifs/search and
// /trending: the key stays on the server) and shows thumbnails through Hearth's media proxy
// (GET /api/gifs/media). Choosing one sends it at once: the GIF's URL travels inside the
// encrypted message (`preview: {type: "gif", …}`), and readers load it through the proxy too.
//
// Keyboard: the search box has the focus; Arrow keys move through the grid, Enter or Space sends,
// Escape closes and gives the focus back to the GIF button.
import type { GifRef } from "./link-preview.ts";

type Media = { url: string; width: number; height: number };
type Gif = { id: string; title: string; preview: Media; gif: Media };
type Page = { results: Gif[]; next_offset: number | null };

let open: { close(): void } | null = null;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = cls;
  if (text) node.textContent = text;
  return node;
}

/** A thumbnail through Hearth's media proxy (the server checks the host again). Own code, not
 * link-preview.ts's: a shared import would make a shared chunk. */
function thumbnail(m: Media): HTMLImageElement {
  const img = Object.assign(document.createElement("img"), { alt: "", loading: "lazy" as const, decoding: "async" as const });
  img.src = `/api/gifs/media?url=${encodeURIComponent(m.url)}`;
  if (m.width && m.height) {
    img.width = m.width;
    img.height = m.height;
  }
  return img;
}

async function fetchPage(q: string, offset: number): Promise<Page> {
  const path = q ? `/api/gifs/search?q=${encodeURIComponent(q)}&offset=${offset}` : `/api/gifs/trending?offset=${offset}`;
  const response = await fetch(path, { credentials: "same-origin", headers: { accept: "application/json" } });
  if (!response.ok) {
    const body = (await response.json().catch(() => null)) as { error?: { message?: string } } | null;
    throw new Error(body?.error?.message ?? `GIF search failed (${response.status}).`);
  }
  return (await response.json()) as Page;
}

/** Opens the picker above the composer; `send` gets the chosen GIF; `sent` runs after it. */
export function openGifPicker(form: HTMLFormElement, button: HTMLButtonElement, send: (gif: GifRef) => void, sent: () => void): void {
  if (open) return open.close();
  const box = el("div", "gif-picker");
  box.id = "gif-picker";
  box.setAttribute("role", "dialog");
  box.setAttribute("aria-label", "Choose a GIF");
  const head = el("div", "gif-picker__head");
  const label = el("label", "visually-hidden", "Search GIFs");
  label.htmlFor = "gif-picker-search";
  const search = el("input", "input gif-picker__search");
  search.id = "gif-picker-search";
  search.type = "search";
  search.placeholder = "Search GIFs";
  search.maxLength = 100;
  search.autocomplete = "off";
  const close = el("button", "btn btn--ghost btn--sm", "Close");
  close.type = "button";
  head.append(label, search, close);
  const status = el("p", "gif-picker__status");
  status.setAttribute("role", "status");
  const grid = el("ul", "gif-picker__grid");
  grid.setAttribute("aria-label", "GIFs");
  const more = el("button", "btn btn--ghost btn--sm gif-picker__more", "More GIFs");
  more.type = "button";
  more.hidden = true;
  const note = el("p", "gif-picker__note", "Search by GIPHY, through this server: GIPHY sees the server, not you. The GIF is sent inside your encrypted message.");
  box.append(head, status, grid, more, note);
  form.before(box);
  button.setAttribute("aria-expanded", "true");
  button.setAttribute("aria-controls", box.id);

  let query = "";
  let next: number | null = null;
  let generation = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const items = () => [...grid.querySelectorAll<HTMLButtonElement>(".gif-picker__item")];
  const choose = (g: Gif) => {
    send({ type: "gif", url: g.gif.url, title: g.title, width: g.gif.width, height: g.gif.height });
    sent();
    finish();
  };
  const load = async (append: boolean) => {
    const mine = ++generation;
    const offset = append ? (next ?? 0) : 0;
    status.textContent = "Loading GIFs…";
    status.classList.remove("gif-picker__status--error");
    try {
      const page = await fetchPage(query, offset);
      if (mine !== generation) return;
      if (!append) grid.replaceChildren();
      for (const g of page.results) {
        const li = el("li", "gif-picker__cell");
        const pick = el("button", "gif-picker__item");
        pick.type = "button";
        pick.setAttribute("aria-label", g.title ? `Send GIF: ${g.title}` : "Send this GIF");
        pick.append(thumbnail(g.preview));
        pick.addEventListener("click", () => choose(g));
        li.append(pick);
        grid.append(li);
      }
      next = page.next_offset;
      more.hidden = next === null || page.results.length === 0;
      status.textContent = items().length ? `${items().length} GIFs${query ? ` for “${query}”` : ", trending"}.` : "No GIFs found.";
    } catch (error) {
      if (mine !== generation) return;
      status.textContent = (error as Error).message;
      status.classList.add("gif-picker__status--error");
    }
  };
  const onDocKey = (e: KeyboardEvent) => {
    if (e.key === "Escape") {
      e.preventDefault();
      finish();
      button.focus();
    }
  };
  const onDocClick = (e: MouseEvent) => {
    if (!box.contains(e.target as Node) && e.target !== button && !button.contains(e.target as Node)) finish();
  };
  function finish(): void {
    clearTimeout(timer);
    generation++;
    box.remove();
    document.removeEventListener("keydown", onDocKey);
    document.removeEventListener("mousedown", onDocClick);
    button.setAttribute("aria-expanded", "false");
    open = null;
  }
  open = { close: finish };

  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      query = search.value.trim();
      void load(false);
    }, 350);
  });
  search.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown" && items().length) {
      e.preventDefault();
      items()[0]!.focus();
    } else if (e.key === "Enter") {
      e.preventDefault();
      clearTimeout(timer);
      query = search.value.trim();
      void load(false);
    }
  });
  // Arrow keys through the grid: Left/Right by one, Up/Down by a row (as many as fit across).
  grid.addEventListener("keydown", (e) => {
    const all = items();
    const at = all.indexOf(document.activeElement as HTMLButtonElement);
    if (at < 0) return;
    const top = all[0]!.offsetTop;
    const across = Math.max(1, all.filter((b) => b.offsetTop === top).length);
    const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: across, ArrowUp: -across }[e.key];
    if (step === undefined) return;
    e.preventDefault();
    const to = at + step;
    if (to < 0) search.focus();
    else all[Math.min(to, all.length - 1)]!.focus();
  });
  more.addEventListener("click", () => void load(true));
  close.addEventListener("click", () => {
    finish();
    button.focus();
  });
  document.addEventListener("keydown", onDocKey);
  document.addEventListener("mousedown", onDocClick);
  search.focus();
  void load(false);
}
