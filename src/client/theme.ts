// Theme override: "light" | "dark" in localStorage (and a cookie, so the server can render
// <html data-theme> on the next page and avoid a flash); no value = follow the OS.
// CSP forbids an inline <script> in <head>, so this runs from the deferred bundle: the very
// first statement of app.ts applies the stored theme before anything else is wired up.

export type Theme = "light" | "dark";
export const THEME_KEY = "hearth.theme";

export function readStoredTheme(): Theme | null {
  try {
    const v = localStorage.getItem(THEME_KEY);
    return v === "light" || v === "dark" ? v : null;
  } catch {
    return null; // storage disabled (private mode, policies): fall back to the OS theme
  }
}

export function applyTheme(theme: Theme | null): void {
  const root = document.documentElement;
  if (theme) root.dataset.theme = theme;
  else delete root.dataset.theme;
  syncToggles();
}

export function effectiveTheme(): Theme {
  const set = document.documentElement.dataset.theme;
  if (set === "light" || set === "dark") return set;
  return matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

export function storeTheme(theme: Theme): void {
  try {
    localStorage.setItem(THEME_KEY, theme);
  } catch {
    /* not persisted; still applied for this page */
  }
  const secure = location.protocol === "https:" ? "; Secure" : "";
  document.cookie = `${THEME_KEY}=${theme}; Path=/; Max-Age=31536000; SameSite=Lax${secure}`;
}

function syncToggles(): void {
  const dark = effectiveTheme() === "dark";
  for (const btn of document.querySelectorAll<HTMLElement>("[data-theme-toggle]")) {
    btn.setAttribute("aria-pressed", String(dark));
  }
}

export function installThemeToggle(): void {
  document.addEventListener("click", (event) => {
    const btn = (event.target as Element | null)?.closest?.("[data-theme-toggle]");
    if (!btn) return;
    const next: Theme = effectiveTheme() === "dark" ? "light" : "dark";
    storeTheme(next);
    applyTheme(next);
  });
  // Follow OS changes while no override is set; keeps aria-pressed truthful.
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", syncToggles);
  // Toggles swapped in by htmx later get the right state too.
  document.addEventListener("htmx:after:swap", syncToggles);
  syncToggles();
}
