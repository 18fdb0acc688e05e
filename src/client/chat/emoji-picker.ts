// The emoji picker: a popover anchored to the button that opened it (aria-expanded), a search
// field that filters by name, and a grid with arrow-key navigation (roving tabindex). Enter
// picks, Escape closes and returns focus to the button; typing in the grid goes to the search.
// A pick that the server refuses (e.g. 409 TOO_MANY_REACTIONS) shows its message in the picker.
// Custom emoji (docs/profiles.md): a tab per community the user is in that has any (GET /api/emoji);
// picking one gives `:shortcode:`, which the server checks for reactions and the client renders.
import { EMOJI, filterEmoji } from "./emoji-data.ts";

type CustomSet = { community_id: string; name: string; emoji: { shortcode: string; url: string }[] };
let customSets: Promise<CustomSet[]> | null = null;
let customLoadedAt = 0;
function loadCustomSets(): Promise<CustomSet[]> {
  // Fetched again after a minute: an emoji added or deleted meanwhile shows in the next picker.
  if (Date.now() - customLoadedAt > 60_000) customSets = null;
  if (!customSets) customLoadedAt = Date.now();
  customSets ??= fetch("/api/emoji", { credentials: "same-origin", headers: { accept: "application/json" } })
    .then((r) => (r.ok ? (r.json() as Promise<{ communities: CustomSet[] }>) : { communities: [] }))
    .then((b) => b.communities)
    .catch(() => []);
  return customSets;
}

const COLS = 8;
let open: { trigger: HTMLElement; close(returnFocus: boolean): void } | null = null;

export interface PickerOptions {
  trigger: HTMLElement;
  label: string;
  /** May throw: the error's message is shown in the picker, which stays open. */
  onPick(emoji: string): Promise<void> | void;
}

function node<K extends keyof HTMLElementTagNameMap>(tag: K, cls: string, text?: string): HTMLElementTagNameMap[K] {
  const n = document.createElement(tag);
  n.className = cls;
  if (text !== undefined) n.textContent = text;
  return n;
}

export function closeEmojiPicker(): void {
  open?.close(false);
}

export function openEmojiPicker(opts: PickerOptions): void {
  const { trigger } = opts;
  const sameTrigger = open?.trigger === trigger;
  open?.close(false);
  if (sameTrigger) return; // a second press of the same button closes it
  const id = `emoji-${Math.random().toString(36).slice(2, 8)}`;
  const box = node("div", "emoji-picker");
  box.id = id;
  box.setAttribute("role", "dialog");
  box.setAttribute("aria-label", opts.label);
  const search = node("input", "input emoji-picker__search");
  search.type = "search";
  search.placeholder = "Search emoji";
  search.setAttribute("aria-label", "Search emoji by name");
  search.autocomplete = "off";
  const grid = node("div", "emoji-picker__grid");
  grid.setAttribute("role", "grid");
  grid.setAttribute("aria-label", "Emoji");
  grid.id = `${id}-grid`;
  search.setAttribute("aria-controls", grid.id);
  const empty = node("p", "emoji-picker__empty", "No emoji match.");
  const error = node("p", "emoji-picker__error");
  error.setAttribute("role", "alert");
  error.hidden = true;
  const tabs = node("div", "emoji-picker__tabs");
  tabs.setAttribute("role", "tablist");
  tabs.setAttribute("aria-label", "Emoji sets");
  tabs.hidden = true;
  box.append(tabs, search, grid, empty, error);
  // 0 = the standard emoji; 1… = the communities' custom sets.
  let sets: CustomSet[] = [];
  let tab = 0;
  let cells: HTMLButtonElement[] = [];
  let active = 0;
  let busy = false;

  const focusCell = (i: number) => {
    if (cells.length === 0) return;
    active = Math.max(0, Math.min(cells.length - 1, i));
    cells.forEach((c, j) => (c.tabIndex = j === active ? 0 : -1));
    cells[active]!.focus();
  };

  const pick = async (emoji: string) => {
    if (busy) return;
    busy = true;
    error.hidden = true;
    try {
      await opts.onPick(emoji);
      close(true);
    } catch (e) {
      error.textContent = (e as Error).message;
      error.hidden = false;
    } finally {
      busy = false;
    }
  };

  const render = () => {
    const q = search.value.trim().toLowerCase();
    const set = tab > 0 ? sets[tab - 1] : undefined;
    const items: { value: string; name: string; url?: string }[] = set
      ? set.emoji.filter((e) => e.shortcode.toLowerCase().includes(q)).map((e) => ({ value: `:${e.shortcode}:`, name: `:${e.shortcode}:`, url: e.url }))
      : filterEmoji(search.value, EMOJI).map((e) => ({ value: e.emoji, name: e.name }));
    grid.replaceChildren();
    cells = [];
    for (let r = 0; r < items.length; r += COLS) {
      const row = node("div", "emoji-picker__row");
      row.setAttribute("role", "row");
      for (const item of items.slice(r, r + COLS)) {
        const cell = node("button", "emoji-picker__cell", item.url ? undefined : item.value);
        if (item.url) {
          const img = node("img", "custom-emoji");
          img.src = item.url;
          img.alt = "";
          cell.append(img);
        }
        cell.dataset.value = item.value;
        cell.type = "button";
        cell.setAttribute("role", "gridcell");
        cell.setAttribute("aria-label", item.name);
        cell.title = item.name;
        cell.tabIndex = -1;
        cell.addEventListener("click", () => void pick(item.value));
        row.append(cell);
        cells.push(cell);
      }
      grid.append(row);
    }
    active = 0;
    if (cells[0]) cells[0].tabIndex = 0;
    empty.hidden = cells.length > 0;
  };

  search.addEventListener("input", render);
  search.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown") {
      e.preventDefault();
      focusCell(0);
    } else if (e.key === "Enter") {
      e.preventDefault();
      const first = cells[0];
      if (first) void pick(first.dataset.value!);
    }
  });
  grid.addEventListener("keydown", (e) => {
    const moves: Record<string, number> = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: COLS, ArrowUp: -COLS };
    if (e.key in moves) {
      e.preventDefault();
      const next = active + moves[e.key]!;
      if (next < 0 && e.key === "ArrowUp") return search.focus();
      focusCell(next);
    } else if (e.key === "Home") {
      e.preventDefault();
      focusCell(0);
    } else if (e.key === "End") {
      e.preventDefault();
      focusCell(cells.length - 1);
    } else if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      const cell = cells[active];
      if (cell) void pick(cell.dataset.value!);
    } else if (e.key.length === 1 && !e.ctrlKey && !e.metaKey && !e.altKey) {
      // Type-to-filter from the grid.
      e.preventDefault();
      search.value += e.key;
      search.focus();
      render();
    }
  });
  box.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      close(true);
    }
  });
  const outside = (e: PointerEvent) => {
    if (!box.contains(e.target as Node) && !trigger.contains(e.target as Node)) close(false);
  };

  function close(returnFocus: boolean): void {
    if (open !== handle) return;
    open = null;
    box.remove();
    document.removeEventListener("pointerdown", outside, true);
    trigger.setAttribute("aria-expanded", "false");
    if (returnFocus) trigger.focus();
  }
  const handle = { trigger, close };
  open = handle;

  const tabButtons: HTMLButtonElement[] = [];
  const selectTab = (i: number, focus: boolean) => {
    tab = i;
    tabButtons.forEach((b, j) => {
      b.setAttribute("aria-selected", j === i ? "true" : "false");
      b.tabIndex = j === i ? 0 : -1;
    });
    if (focus) tabButtons[i]?.focus();
    render();
  };
  tabs.addEventListener("keydown", (e) => {
    const step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
    if (!step) return;
    e.preventDefault();
    selectTab((tab + step + tabButtons.length) % tabButtons.length, true);
  });
  void loadCustomSets().then((found) => {
    if (open !== handle || found.length === 0) return;
    sets = found;
    for (const [i, label] of ["Emoji", ...found.map((c) => c.name)].entries()) {
      const b = node("button", "emoji-picker__tab", label);
      b.type = "button";
      b.setAttribute("role", "tab");
      b.setAttribute("aria-controls", grid.id);
      b.addEventListener("click", () => selectTab(i, false));
      tabButtons.push(b);
    }
    tabs.replaceChildren(...tabButtons);
    tabs.hidden = false;
    selectTab(tab, false);
  });
  render();
  trigger.setAttribute("aria-haspopup", "dialog");
  trigger.setAttribute("aria-expanded", "true");
  trigger.setAttribute("aria-controls", id);
  document.body.append(box);
  // Fixed position next to the trigger, kept inside the viewport (360 px phones included).
  const rect = trigger.getBoundingClientRect();
  const width = box.offsetWidth;
  const height = box.offsetHeight;
  const left = Math.max(8, Math.min(rect.right - width, window.innerWidth - width - 8));
  const below = rect.bottom + 4 + height < window.innerHeight;
  box.style.left = `${left}px`;
  box.style.top = `${below ? rect.bottom + 4 : Math.max(8, rect.top - height - 4)}px`;
  document.addEventListener("pointerdown", outside, true);
  search.focus();
}
