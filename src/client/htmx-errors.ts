// Error fragments (htmx 4 swaps 4xx/5xx bodies; we keep that, see views/layout.tsx):
//  - 422: the server re-renders the form with inline field errors; it swaps wherever the form
//    targets (forms use hx-target="this" hx-swap="outerHTML"). Nothing to do here.
//  - other 4xx/5xx: the body is an ErrorBanner. If the element declares its own
//    hx-status:* handling or the server sent HX-Retarget, htmx does as told. Otherwise it goes
//    into the submitting form's [data-error-slot]; without a slot it becomes a toast (swap none),
//    so an error never replaces a chunk of the page.
//  - network failure / timeout: a toast.
// After any error swap, focus moves to the first invalid field, else to the error banner.
import type { HtmxEventDetail } from "./htmx-types.ts";
import { showToast } from "./toasts.ts";

const FOCUS_MARK = "data-focus-after-swap";

function ownsStatusHandling(elt: Element): boolean {
  return elt.getAttributeNames().some((n) => n.startsWith("hx-status") || n.startsWith("data-hx-status"));
}

function findErrorSlot(source: Element): Element | null {
  const scope = source.closest("form, [data-error-scope]") ?? source;
  return scope.querySelector("[data-error-slot]");
}

/** Plain text of an error body; DOMParser documents never run scripts or load resources. */
export function errorTextOf(html: string | undefined, status: number): string {
  const fallback = status >= 500 ? "Something went wrong on the server. Please try again." : `The request failed (${status}).`;
  if (!html) return fallback;
  const doc = new DOMParser().parseFromString(html, "text/html");
  const node = doc.querySelector(".error-banner__message, .error-page__message") ?? doc.body;
  const text = (node?.textContent ?? "").replace(/\s+/g, " ").trim();
  return text ? text.slice(0, 300) : fallback;
}

export function installHtmxErrorHandling(): void {
  document.addEventListener("htmx:response:error", (event) => {
    const ctx = (event as CustomEvent<HtmxEventDetail>).detail?.ctx;
    const status = ctx?.response?.status ?? 0;
    const source = ctx?.sourceElement;
    if (!ctx || !source || status === 422) return;
    if (ctx.hx?.retarget || ownsStatusHandling(source)) return;
    const slot = findErrorSlot(source);
    if (slot) {
      ctx.target = slot;
      ctx.swap = "innerHTML";
      ctx.select = undefined;
    } else {
      ctx.swap = "none";
      showToast(errorTextOf(ctx.text, status), "error");
    }
  });

  document.addEventListener("htmx:error", (event) => {
    const ctx = (event as CustomEvent<HtmxEventDetail>).detail?.ctx;
    if (ctx && !ctx.response) showToast("Could not reach the server. Check your connection and try again.", "error");
  });

  // Mark what to focus while the new content is still a fragment...
  document.addEventListener("htmx:before:swap", (event) => {
    const detail = (event as CustomEvent<HtmxEventDetail>).detail;
    if ((detail?.ctx?.response?.status ?? 0) < 400) return;
    for (const task of detail.tasks ?? []) {
      const target = task.fragment.querySelector('[aria-invalid="true"]') ?? task.fragment.querySelector("[data-error-banner]");
      if (target) {
        target.setAttribute(FOCUS_MARK, "");
        return;
      }
    }
  });
  // ...and focus it once it is in the document.
  document.addEventListener("htmx:after:swap", () => {
    const el = document.querySelector<HTMLElement>(`[${FOCUS_MARK}]`);
    if (!el) return;
    el.removeAttribute(FOCUS_MARK);
    el.focus();
  });
}
