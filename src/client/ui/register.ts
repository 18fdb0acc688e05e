// Alpine (CSP build) components. They must be registered before Alpine starts, so the
// bundle listens for alpine:init; the Layout loads our module before Alpine's script.
import { alpineOnPage } from "./alpine-types.ts";
import { dialog } from "./dialog.ts";
import { disclosure } from "./disclosure.ts";
import { menu } from "./menu.ts";

export function registerAlpineComponents(): void {
  document.addEventListener("alpine:init", () => {
    const Alpine = alpineOnPage();
    if (!Alpine) return;
    Alpine.data("menu", menu);
    Alpine.data("dialog", dialog);
    Alpine.data("disclosure", disclosure);
  });
}
