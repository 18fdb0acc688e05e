// The quick switcher (issue 17 §6): Ctrl/Cmd+K on every signed-in page, or "Jump to…" in the
// account menu, opens a dialog that finds communities, channels, DMs and people the user can
// reach (GET /api/switcher lists only those; people beyond the DMs come from GET /api/users/search
// as the user types). A lazy chunk of live.js. Combobox pattern: the input keeps focus, Up/Down
// move the active option (aria-activedescendant), Enter opens it, Escape closes the dialog and
// focus returns to where it was. Matching: a name that starts with the query first, then a word
// of it, then anywhere in it, then its letters in order (fuzzy).

type Item = { kind: "Community" | "Channel" | "DM" | "Person"; label: string; detail: string; href: string };
type SwitcherAnswer = {
  communities: { id: string; name: string }[];
  channels: { id: string; name: string; kind: string; community_id: string; community_name: string }[];
  dms: { channel_id: string; kind: "dm" | "group_dm"; name: string }[];
  people: { id: string; username: string; display_name: string; dm_channel_id: string | null }[];
};

const MAX_SHOWN = 30;
let cached: { at: number; items: Item[] } | null = null;
let open: HTMLDialogElement | null = null;

function itemsOf(a: SwitcherAnswer): Item[] {
  return [
    ...a.channels.map((c): Item => ({ kind: "Channel", label: `#${c.name}`, detail: c.community_name, href: `/c/${c.community_id}/ch/${c.id}` })),
    ...a.dms.map((d): Item => ({ kind: "DM", label: d.name, detail: d.kind === "dm" ? "Direct message" : "Group message", href: `/dms/${d.channel_id}` })),
    ...a.communities.map((c): Item => ({ kind: "Community", label: c.name, detail: "Community", href: `/c/${c.id}` })),
    ...a.people.map((p): Item => ({ kind: "Person", label: p.display_name, detail: `@${p.username}`, href: p.dm_channel_id ? `/dms/${p.dm_channel_id}` : `/dms/new?q=${encodeURIComponent(p.username)}` })),
  ];
}

async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: { accept: "application/json" }, credentials: "same-origin" });
  const body = (await res.json().catch(() => null)) as { error?: { message?: string } } | null;
  if (!res.ok) throw new Error(body?.error?.message ?? `The server answered ${res.status}.`);
  return body as T;
}

/** 0: starts with the query; 1: a word starts with it; 2: contains it; 3: its letters in order; -1: no match. */
export function matchScore(text: string, query: string): number {
  const t = text.toLowerCase().replace(/^[#@]/, "");
  const q = query.toLowerCase().replace(/^[#@]/, "");
  if (!q) return 0;
  if (t.startsWith(q)) return 0;
  if (t.split(/[\s\-_.,()]+/).some((w) => w.startsWith(q))) return 1;
  if (t.includes(q)) return 2;
  let i = 0;
  for (const ch of t) if (ch === q[i]) i++;
  return i === q.length ? 3 : -1;
}

export function rank(items: Item[], query: string): Item[] {
  const scored: { item: Item; score: number; index: number }[] = [];
  items.forEach((item, index) => {
    const label = matchScore(item.label, query);
    const detail = matchScore(item.detail, query);
    // A match in the name ranks before the same match in the detail (community, @username).
    const score = label >= 0 ? label : detail >= 0 ? detail + 1 : -1;
    if (score >= 0) scored.push({ item, score, index });
  });
  return scored.sort((a, b) => a.score - b.score || a.index - b.index).map((s) => s.item);
}

export async function openSwitcher(opener: HTMLElement | null): Promise<void> {
  if (open) return open.querySelector("input")?.focus();
  const dialog = document.createElement("dialog");
  dialog.className = "dialog switcher";
  dialog.setAttribute("aria-label", "Jump to a conversation");
  const title = Object.assign(document.createElement("h2"), { className: "visually-hidden", textContent: "Jump to" });
  const input = document.createElement("input");
  input.type = "text";
  input.className = "input switcher__input";
  input.placeholder = "Jump to a channel, DM, community or person";
  input.autocomplete = "off";
  input.maxLength = 64;
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-label", "Jump to");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-expanded", "true");
  input.setAttribute("aria-controls", "switcher-list");
  const list = document.createElement("ul");
  list.id = "switcher-list";
  list.className = "switcher__list";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", "Matches");
  const status = Object.assign(document.createElement("p"), { className: "switcher__status muted" });
  status.setAttribute("role", "status");
  const hint = Object.assign(document.createElement("p"), { className: "switcher__hint field__hint", textContent: "↑ ↓ to move, Enter to open, Esc to close." });
  const close = Object.assign(document.createElement("button"), { type: "button", className: "btn btn--ghost btn--sm switcher__close", textContent: "Close" });
  close.setAttribute("aria-label", "Close the switcher");
  close.addEventListener("click", () => dialog.close());
  const head = Object.assign(document.createElement("div"), { className: "switcher__head" });
  head.append(input, close);
  dialog.append(title, head, status, list, hint);
  document.body.append(dialog);
  open = dialog;
  dialog.addEventListener("close", () => {
    dialog.remove();
    open = null;
    if (opener?.isConnected) opener.focus();
  });
  dialog.addEventListener("click", (e) => {
    if (e.target === dialog) dialog.close(); // the backdrop
  });
  dialog.showModal();
  input.focus();

  let items: Item[] = cached && Date.now() - cached.at < 60_000 ? cached.items : [];
  let people: Item[] = [];
  let shown: Item[] = [];
  let active = 0;
  const go = (item: Item | undefined) => {
    if (!item) return;
    dialog.close();
    location.assign(item.href);
  };
  const setActive = (i: number) => {
    active = shown.length ? (i + shown.length) % shown.length : 0;
    list.querySelectorAll<HTMLElement>("[role=option]").forEach((li, j) => {
      li.setAttribute("aria-selected", String(j === active));
      if (j === active) li.scrollIntoView?.({ block: "nearest" });
    });
    if (shown.length) input.setAttribute("aria-activedescendant", `switcher-opt-${active}`);
    else input.removeAttribute("aria-activedescendant");
  };
  const render = () => {
    const q = input.value.trim();
    const known = new Set(items.filter((i) => i.kind === "Person").map((i) => i.detail));
    shown = rank([...items, ...people.filter((p) => !known.has(p.detail))], q).slice(0, MAX_SHOWN);
    list.replaceChildren(
      ...shown.map((item, j) => {
        const li = document.createElement("li");
        li.id = `switcher-opt-${j}`;
        li.className = "switcher__option";
        li.setAttribute("role", "option");
        const name = Object.assign(document.createElement("span"), { className: "switcher__label", textContent: item.label });
        const detail = Object.assign(document.createElement("span"), { className: "switcher__detail", textContent: `${item.kind} · ${item.detail}` });
        li.append(name, detail);
        li.addEventListener("click", () => go(item));
        return li;
      }),
    );
    status.textContent = shown.length ? `${shown.length} match${shown.length === 1 ? "" : "es"}` : items.length || q ? "Nothing matches." : "";
    setActive(0);
  };
  let searchTimer: ReturnType<typeof setTimeout> | undefined;
  input.addEventListener("input", () => {
    render();
    clearTimeout(searchTimer);
    const q = input.value.trim().replace(/^@/, "");
    if (q.length < 2) return;
    searchTimer = setTimeout(() => {
      void getJson<{ users: { id: string; username: string; display_name: string }[] }>(`/api/users/search?q=${encodeURIComponent(q)}`)
        .then((a) => {
          people = a.users.map((u) => ({ kind: "Person" as const, label: u.display_name, detail: `@${u.username}`, href: `/dms/new?q=${encodeURIComponent(u.username)}` }));
          if (open === dialog) render();
        })
        .catch(() => {});
    }, 250);
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      setActive(active + (e.key === "ArrowDown" ? 1 : -1));
    } else if (e.key === "Enter") {
      e.preventDefault();
      go(shown[active]);
    }
  });
  render();
  if (!items.length) {
    status.textContent = "Loading…";
    try {
      items = itemsOf(await getJson<SwitcherAnswer>("/api/switcher"));
      cached = { at: Date.now(), items };
      if (open === dialog) render();
    } catch (error) {
      status.setAttribute("role", "alert");
      status.className = "switcher__status field__error";
      status.textContent = `Your conversations could not be loaded: ${(error as Error).message}`;
    }
  }
}
