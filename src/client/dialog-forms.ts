// <form data-dialog-done> inside a <dialog>: after a successful htmx submit (2xx) the form is
// emptied and its dialog closes, so the next use starts fresh (the report dialog stuck on
// "Report sent." with no way out). The server answers such forms with out-of-band parts only
// (a toast): htmx then leaves the form in place. Errors keep the dialog open with the error.
import type { HtmxEventDetail } from "./htmx-types.ts";

export function installDialogForms(): void {
  document.addEventListener("htmx:after:swap", (event) => {
    const ctx = (event as CustomEvent<HtmxEventDetail>).detail?.ctx;
    const status = ctx?.response?.status ?? 0;
    if (status < 200 || status >= 300) return;
    const form = ctx?.sourceElement?.closest("form[data-dialog-done]");
    if (!(form instanceof HTMLFormElement)) return;
    form.reset();
    form.querySelector("[data-error-slot]")?.replaceChildren();
    form.closest("dialog")?.close();
  });
}
