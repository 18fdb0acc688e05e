// Client side of the toast region (#toasts, rendered by Layout). Server toasts arrive as
// htmx out-of-band fragments; client toasts are built here with textContent only.

const REGION_ID = "toasts";
const LIFETIME_MS = 6000;

export type ToastTone = "info" | "success" | "warning" | "error";

const SVG_NS = "http://www.w3.org/2000/svg";

function closeIcon(): SVGSVGElement {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 20 20");
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS(SVG_NS, "path");
  path.setAttribute("d", "M5.3 5.3a1 1 0 0 1 1.4 0L10 8.6l3.3-3.3a1 1 0 1 1 1.4 1.4L11.4 10l3.3 3.3a1 1 0 0 1-1.4 1.4L10 11.4l-3.3 3.3a1 1 0 0 1-1.4-1.4L8.6 10 5.3 6.7a1 1 0 0 1 0-1.4Z");
  svg.append(path);
  return svg;
}

/** Builds the same markup as views/toast.tsx. Text goes in via textContent, never HTML. */
export function showToast(message: string, tone: ToastTone = "info", title?: string): HTMLElement | null {
  const region = document.getElementById(REGION_ID);
  if (!region) return null;
  const toast = document.createElement("div");
  toast.className = `toast toast--${tone}`;
  toast.setAttribute("role", tone === "error" ? "alert" : "status");
  toast.dataset.toast = "true";
  if (tone === "error") toast.dataset.sticky = "true";
  const mark = document.createElement("span");
  mark.className = "toast__mark";
  mark.setAttribute("aria-hidden", "true");
  const body = document.createElement("div");
  body.className = "toast__body";
  if (title) {
    const t = document.createElement("p");
    t.className = "toast__title";
    t.textContent = title;
    body.append(t);
  }
  const m = document.createElement("p");
  m.className = "toast__message";
  m.textContent = message;
  body.append(m);
  const close = document.createElement("button");
  close.type = "button";
  close.className = "icon-btn icon-btn--sm toast__close";
  close.dataset.dismiss = "true";
  close.setAttribute("aria-label", "Dismiss notification");
  close.append(closeIcon());
  toast.append(mark, body, close);
  region.append(toast);
  return toast;
}

export function dismissToast(toast: HTMLElement): void {
  if (toast.dataset.leaving) return;
  toast.dataset.leaving = "true";
  const reduced = matchMedia("(prefers-reduced-motion: reduce)").matches;
  if (reduced) toast.remove();
  else toast.addEventListener("animationend", () => toast.remove(), { once: true });
  setTimeout(() => toast.remove(), 400); // in case animationend never fires
}

function schedule(toast: HTMLElement): void {
  if (toast.dataset.sticky === "true" || toast.dataset.scheduled) return;
  toast.dataset.scheduled = "true";
  let timer = setTimeout(() => dismissToast(toast), LIFETIME_MS);
  // Don't yank a toast away while someone is reading or focusing it.
  const pause = () => clearTimeout(timer);
  const resume = () => {
    clearTimeout(timer);
    timer = setTimeout(() => dismissToast(toast), LIFETIME_MS / 2);
  };
  toast.addEventListener("mouseenter", pause);
  toast.addEventListener("focusin", pause);
  toast.addEventListener("mouseleave", resume);
  toast.addEventListener("focusout", resume);
}

export function installToasts(): void {
  const region = document.getElementById(REGION_ID);
  if (!region) return;
  region.querySelectorAll<HTMLElement>("[data-toast]").forEach(schedule);
  new MutationObserver((records) => {
    for (const r of records) {
      for (const node of r.addedNodes) {
        if (node instanceof HTMLElement && node.matches("[data-toast]")) schedule(node);
      }
    }
  }).observe(region, { childList: true });
  document.addEventListener("click", (event) => {
    const btn = (event.target as Element | null)?.closest?.("[data-dismiss]");
    const toast = btn?.closest<HTMLElement>("[data-toast]");
    if (toast) dismissToast(toast);
  });
}
