// Phone/tablet drawers of the AppFrame. Buttons with data-panel-toggle="nav|members" open
// and close the panels by setting data-open on #app-frame (CSS does the sliding); the scrim
// ([data-panel-close]) and Escape close them. On wide screens the members toggle collapses the
// member column instead (data-members="shown|hidden"). aria-expanded mirrors the state.

const WIDE_MEMBERS = "(min-width: 1100px)";
const WIDE_NAV = "(min-width: 768px)";

type PanelName = "nav" | "members";

function frame(): HTMLElement | null {
  return document.querySelector<HTMLElement>("[data-app-frame]");
}

function panelElement(f: HTMLElement, name: PanelName): HTMLElement | null {
  return f.querySelector<HTMLElement>(name === "nav" ? ".app-nav" : ".members");
}

function isOverlay(name: PanelName): boolean {
  return !matchMedia(name === "nav" ? WIDE_NAV : WIDE_MEMBERS).matches;
}

function sync(f: HTMLElement): void {
  const open = f.dataset.open;
  for (const btn of f.querySelectorAll<HTMLElement>("[data-panel-toggle]")) {
    const name = btn.dataset.panelToggle as PanelName;
    const expanded = isOverlay(name) ? open === name : name === "members" ? f.dataset.members === "shown" : true;
    btn.setAttribute("aria-expanded", String(expanded));
  }
  // While a drawer covers the pane, keep keyboard and screen readers inside the drawer.
  const pane = f.querySelector<HTMLElement>(".pane");
  if (pane) pane.inert = Boolean(open);
}

/**
 * Chromium sometimes refuses focus() for a few frames after a panel leaves visibility:hidden
 * (seen with prefers-reduced-motion), so retry each frame for up to half a second.
 */
function focusWhenPossible(el: HTMLElement, deadline = performance.now() + 500): void {
  el.focus();
  if (document.activeElement !== el && performance.now() < deadline) {
    requestAnimationFrame(() => focusWhenPossible(el, deadline));
  }
}

function setOpen(f: HTMLElement, name: PanelName | null, returnFocusTo?: HTMLElement | null): void {
  if (name) {
    f.dataset.open = name;
    sync(f);
    // Prefer the current channel, else the first focusable thing.
    const panel = panelElement(f, name);
    const first =
      panel?.querySelector<HTMLElement>('.channel[aria-current="page"]') ??
      panel?.querySelector<HTMLElement>('a[href], button:not([disabled]), summary, input, [tabindex]:not([tabindex="-1"])');
    if (first) focusWhenPossible(first);
  } else {
    const was = f.dataset.open as PanelName | undefined;
    delete f.dataset.open;
    sync(f);
    const back = returnFocusTo ?? (was ? f.querySelector<HTMLElement>(`[data-panel-toggle="${was}"]`) : null);
    back?.focus();
  }
}

export function installPanels(): void {
  document.addEventListener("click", (event) => {
    const target = event.target as Element | null;
    const f = frame();
    if (!f || !target?.closest) return;
    const toggle = target.closest<HTMLElement>("[data-panel-toggle]");
    if (toggle) {
      const name = toggle.dataset.panelToggle as PanelName;
      if (!isOverlay(name)) {
        if (name === "members") {
          f.dataset.members = f.dataset.members === "shown" ? "hidden" : "shown";
          sync(f);
        }
        return;
      }
      setOpen(f, f.dataset.open === name ? null : name, toggle);
      return;
    }
    if (target.closest("[data-panel-close]")) {
      setOpen(f, null);
      return;
    }
    // Following a link inside an open drawer (e.g. a channel) closes it.
    if (f.dataset.open && target.closest(".app-nav a[href], .members a[href]")) {
      delete f.dataset.open;
      sync(f);
    }
  });

  document.addEventListener("keydown", (event) => {
    const f = frame();
    if (event.key === "Escape" && f?.dataset.open) {
      event.preventDefault();
      setOpen(f, null);
    }
  });

  const onResize = () => {
    const f = frame();
    if (!f) return;
    if (f.dataset.open && !isOverlay(f.dataset.open as PanelName)) delete f.dataset.open;
    sync(f);
  };
  matchMedia(WIDE_NAV).addEventListener("change", onResize);
  matchMedia(WIDE_MEMBERS).addEventListener("change", onResize);
  document.addEventListener("htmx:after:swap", onResize);
  onResize();
}
