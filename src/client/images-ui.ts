// Public image uploads (docs/profiles.md): the avatar on Settings › Profile, and the icon, banner
// and custom emoji on a community's Appearance settings. A bundle of its own (images-ui.js),
// imported by app.js only where a page carries [data-images-src]. These images are NOT end-to-end
// encrypted; the pages say so next to the controls.
//
// [data-image-upload] widgets: a file input, a square crop for avatars and icons that works by
// keyboard (arrow keys move it, Shift moves faster, + and − resize), an upload and a remove
// button. The raw file goes to the widget's endpoint; the server sniffs, re-encodes and crops.

type Widget = {
  root: HTMLElement;
  file: HTMLInputElement;
  save: HTMLButtonElement;
  status: HTMLElement;
  current: HTMLImageElement | null;
  canvas: HTMLCanvasElement | null;
  image: HTMLImageElement | null;
  crop: { x: number; y: number; size: number } | null;
};

function say(w: Widget, text: string, error = false): void {
  w.status.textContent = text;
  w.status.classList.toggle("field__error", error);
}

async function errorOf(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as { error?: { message?: string } };
    return body.error?.message ?? `Failed (${res.status}).`;
  } catch {
    return `Failed (${res.status}).`;
  }
}

function draw(w: Widget): void {
  if (!w.canvas || !w.image || !w.crop) return;
  const ctx = w.canvas.getContext("2d");
  if (!ctx) return;
  ctx.clearRect(0, 0, w.canvas.width, w.canvas.height);
  ctx.drawImage(w.image, w.crop.x, w.crop.y, w.crop.size, w.crop.size, 0, 0, w.canvas.width, w.canvas.height);
}

function clampCrop(w: Widget): void {
  if (!w.image || !w.crop) return;
  const max = Math.min(w.image.naturalWidth, w.image.naturalHeight);
  w.crop.size = Math.max(16, Math.min(max, Math.round(w.crop.size)));
  w.crop.x = Math.max(0, Math.min(w.image.naturalWidth - w.crop.size, Math.round(w.crop.x)));
  w.crop.y = Math.max(0, Math.min(w.image.naturalHeight - w.crop.size, Math.round(w.crop.y)));
}

function onCropKey(w: Widget, e: KeyboardEvent): void {
  if (!w.crop || !w.image) return;
  const step = Math.max(1, Math.round(Math.min(w.image.naturalWidth, w.image.naturalHeight) * (e.shiftKey ? 0.1 : 0.02)));
  const c = w.crop;
  switch (e.key) {
    case "ArrowLeft": c.x -= step; break;
    case "ArrowRight": c.x += step; break;
    case "ArrowUp": c.y -= step; break;
    case "ArrowDown": c.y += step; break;
    case "+": case "=": c.x += step / 2; c.y += step / 2; c.size -= step; break;
    case "-": case "_": c.x -= step / 2; c.y -= step / 2; c.size += step; break;
    default: return;
  }
  e.preventDefault();
  clampCrop(w);
  draw(w);
  const out = w.root.querySelector<HTMLElement>("[data-crop-readout]");
  if (out) out.textContent = `Square of ${c.size} px at ${c.x}, ${c.y}.`;
}

async function pick(w: Widget): Promise<void> {
  const f = w.file.files?.[0];
  w.save.disabled = !f;
  w.crop = null;
  const area = w.root.querySelector<HTMLElement>("[data-crop-area]");
  if (!f || !w.canvas || !area) return;
  const img = new Image();
  img.src = URL.createObjectURL(f);
  try {
    await img.decode();
  } catch {
    area.hidden = true;
    return; // not an image the browser shows: the server will say why on upload
  }
  w.image = img;
  const side = Math.min(img.naturalWidth, img.naturalHeight);
  w.crop = { x: (img.naturalWidth - side) / 2, y: (img.naturalHeight - side) / 2, size: side };
  clampCrop(w);
  area.hidden = false;
  draw(w);
}

async function refreshCurrent(w: Widget): Promise<void> {
  const src = w.root.dataset.currentSrc;
  const field = w.root.dataset.currentField;
  if (!src || !field || !w.current) return;
  const res = await fetch(src, { credentials: "same-origin", headers: { accept: "application/json" } });
  if (!res.ok) return;
  const url = ((await res.json()) as Record<string, unknown>)[field];
  const remove = w.root.querySelector<HTMLButtonElement>("[data-image-remove]");
  if (typeof url === "string" && url.startsWith("/media/")) {
    w.current.src = url;
    w.current.hidden = false;
    if (remove) remove.hidden = false;
  } else {
    w.current.removeAttribute("src");
    w.current.hidden = true;
    if (remove) remove.hidden = true;
  }
}

async function upload(w: Widget): Promise<void> {
  const f = w.file.files?.[0];
  if (!f) return;
  const endpoint = w.root.dataset.endpoint!;
  const params = new URLSearchParams();
  const shortcode = w.root.querySelector<HTMLInputElement>("[data-image-shortcode]");
  if (shortcode) params.set("shortcode", shortcode.value.trim());
  if (w.crop && w.root.dataset.crop === "square") {
    params.set("crop_x", String(w.crop.x));
    params.set("crop_y", String(w.crop.y));
    params.set("crop_size", String(w.crop.size));
  }
  w.save.disabled = true;
  say(w, "Uploading…");
  const query = params.toString();
  const res = await fetch(query ? `${endpoint}?${query}` : endpoint, { method: w.root.dataset.method ?? "PUT", body: f, credentials: "same-origin", headers: { "content-type": "application/octet-stream" } });
  if (!res.ok) {
    say(w, await errorOf(res), true);
    w.save.disabled = false;
    return;
  }
  say(w, "Saved.");
  w.file.value = "";
  if (shortcode) shortcode.value = "";
  const area = w.root.querySelector<HTMLElement>("[data-crop-area]");
  if (area) area.hidden = true;
  await refreshCurrent(w);
  w.root.dispatchEvent(new CustomEvent("hearth:image-saved", { bubbles: true }));
}

async function remove(w: Widget): Promise<void> {
  const res = await fetch(w.root.dataset.endpoint!, { method: "DELETE", credentials: "same-origin" });
  if (!res.ok) return say(w, await errorOf(res), true);
  say(w, "Removed.");
  await refreshCurrent(w);
}

function mountUpload(root: HTMLElement): void {
  const file = root.querySelector<HTMLInputElement>("[data-image-file]");
  const save = root.querySelector<HTMLButtonElement>("[data-image-save]");
  const status = root.querySelector<HTMLElement>("[data-image-status]");
  if (!file || !save || !status) return;
  const w: Widget = { root, file, save, status, current: root.querySelector("[data-image-current]"), canvas: root.querySelector("[data-crop-preview]"), image: null, crop: null };
  file.addEventListener("change", () => void pick(w));
  save.addEventListener("click", () => void upload(w));
  root.querySelector<HTMLButtonElement>("[data-image-remove]")?.addEventListener("click", () => void remove(w));
  w.canvas?.addEventListener("keydown", (e) => onCropKey(w, e));
  void refreshCurrent(w);
}

type Emoji = { shortcode: string; url: string };

async function listEmoji(root: HTMLElement): Promise<void> {
  const list = root.querySelector<HTMLElement>("[data-emoji-list]");
  const count = root.querySelector<HTMLElement>("[data-emoji-count]");
  const id = root.dataset.communityId;
  if (!list || !id) return;
  const res = await fetch(`/api/communities/${encodeURIComponent(id)}/emoji`, { credentials: "same-origin" });
  if (!res.ok) return;
  const { emoji } = (await res.json()) as { emoji: Emoji[] };
  if (count) count.textContent = `${emoji.length} of ${root.dataset.emojiMax ?? "50"}`;
  const items = emoji.map((e) => {
    const li = document.createElement("li");
    li.className = "emoji-admin__item";
    const img = document.createElement("img");
    img.src = e.url;
    img.alt = "";
    img.width = 32;
    img.height = 32;
    const name = document.createElement("code");
    name.textContent = `:${e.shortcode}:`;
    const del = document.createElement("button");
    del.type = "button";
    del.className = "btn btn--ghost btn--sm";
    del.textContent = "Delete";
    del.setAttribute("aria-label", `Delete :${e.shortcode}:`);
    del.addEventListener("click", async () => {
      const r = await fetch(`/api/communities/${encodeURIComponent(id)}/emoji/${encodeURIComponent(e.shortcode)}`, { method: "DELETE", credentials: "same-origin" });
      if (r.ok) void listEmoji(root);
    });
    li.append(img, name, del);
    return li;
  });
  if (items.length === 0) {
    const li = document.createElement("li");
    li.className = "muted";
    li.textContent = "No custom emoji yet.";
    items.push(li);
  }
  list.replaceChildren(...items);
}

export function mountImages(root: HTMLElement): void {
  for (const el of root.querySelectorAll<HTMLElement>("[data-image-upload]")) mountUpload(el);
  mountWelcomeForms(root);
  const manager = root.querySelector<HTMLElement>("[data-emoji-manager]");
  if (manager) {
    void listEmoji(manager);
    manager.addEventListener("hearth:image-saved", () => void listEmoji(manager));
  }
}

async function mountWelcome(section: HTMLElement): Promise<void> {
  const endpoint = section.dataset.welcomeForm!;
  const text = section.querySelector<HTMLTextAreaElement>("[data-welcome-text]");
  const save = section.querySelector<HTMLButtonElement>("[data-welcome-save]");
  const status = section.querySelector<HTMLElement>("[data-welcome-status]");
  if (!text || !save || !status) return;
  const current = await fetch(endpoint.replace(/\/welcome$/, "/appearance"), { credentials: "same-origin" });
  if (current.ok) text.value = ((await current.json()) as { welcome_message: string | null }).welcome_message ?? "";
  save.addEventListener("click", async () => {
    const res = await fetch(endpoint, { method: "PUT", credentials: "same-origin", headers: { "content-type": "application/json" }, body: JSON.stringify({ welcome_message: text.value }) });
    status.textContent = res.ok ? "Saved." : await errorOf(res);
  });
}

export function mountWelcomeForms(root: HTMLElement): void {
  for (const section of root.querySelectorAll<HTMLElement>("[data-welcome-form]")) void mountWelcome(section);
}
