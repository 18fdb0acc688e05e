// New conversations: a dm:created frame adds the conversation to this tab's "new" set; the
// Messages links ([data-live-dms]: the rail's and the top bar's) show how many, and the
// conversation's own links say "New" until it is opened.

const KEY = "hearth.newDms";

function load(): string[] {
  try {
    const parsed: unknown = JSON.parse(sessionStorage.getItem(KEY) ?? "[]");
    return Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === "string").slice(0, 100) : [];
  } catch {
    return [];
  }
}

function save(ids: string[]): void {
  try {
    sessionStorage.setItem(KEY, JSON.stringify(ids));
  } catch {
    // no storage: badges last until the next page
  }
}

let ids = load();

export function rememberNewDm(id: string): void {
  if (!/^[0-9a-f-]{36}$/.test(id) || ids.includes(id)) return;
  ids = [...ids, id];
  save(ids);
}

export function forgetNewDm(id: string): void {
  if (!id || !ids.includes(id)) return;
  ids = ids.filter((x) => x !== id);
  save(ids);
}

/** A count badge: the visible text, and words for screen readers ("3" + " unread"); shared with unread.ts. */
export function countBadge(cls: string, text: string, hidden: string): HTMLElement {
  const b = document.createElement("span");
  b.className = cls;
  b.textContent = text;
  const sr = document.createElement("span");
  sr.className = "visually-hidden";
  sr.textContent = hidden;
  b.append(sr);
  return b;
}

/** Counts past 99 read "99+". */
export const formatCount = (n: number): string => (n > 99 ? "99+" : String(n));

function badge(cls: string, text: string, hidden: string): HTMLElement {
  const b = countBadge(cls, text, hidden);
  b.dataset.liveBadge = "";
  return b;
}

export function applyNewDmBadges(): void {
  for (const link of document.querySelectorAll<HTMLElement>("[data-live-dms]")) {
    link.querySelector("[data-live-badge]")?.remove();
    if (!ids.length) continue;
    const railItem = link.classList.contains("rail-item");
    const n = formatCount(ids.length);
    link.append(badge(`badge badge--count live-badge${railItem ? " rail-item__badge" : ""}`, n, ids.length === 1 ? " new conversation" : " new conversations"));
  }
  for (const id of ids) {
    for (const link of document.querySelectorAll<HTMLElement>(`a[href="/dms/${CSS.escape(id)}"]`)) {
      if (link.querySelector("[data-live-badge]")) continue;
      link.append(badge("badge badge--accent live-badge", "New", ", new conversation"));
    }
  }
}
