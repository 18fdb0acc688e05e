// Finishes the htmx hardening that <meta name="htmx-config"> cannot express (htmx 4 has no
// allowEval / allowScriptTags switches any more). Registered as the whitelisted extension
// "hearth-hardening" (views/layout.tsx) before htmx processes the page:
//  - eval off: htmx's Function/AsyncFunction are replaced by a constructor that throws, so
//    hx-on:*, hx-vals="js:...", trigger filters [..] and hx-confirm="js:..." never compile
//    code (CSP without 'unsafe-eval' would block them too; this fails cleanly and early).
//  - no scripts from fragments: htmx re-creates <script> tags found in swapped HTML; we
//    empty their text via the policy and drop the elements before they reach the DOM, so an
//    injected <script src="/same-origin/path"> cannot run either.
import type { HtmxEventDetail, Htmx } from "./htmx-types.ts";

export const HARDENING_EXTENSION = "hearth-hardening";

export class HtmxEvalDisabled extends Error {
  constructor() {
    super("htmx JavaScript evaluation is disabled on Hearth (use data attributes + the client bundle)");
  }
}

function BlockedFunction(): never {
  throw new HtmxEvalDisabled();
}

const policy = {
  createHTML: (s: string) => s,
  createScript: () => "",
};

export function registerHtmxHardening(htmx: Htmx): void {
  htmx.registerExtension(HARDENING_EXTENSION, {
    init(api) {
      api.initSecurity?.(policy, BlockedFunction, BlockedFunction);
    },
    htmx_before_swap(_elt: Element, detail: HtmxEventDetail) {
      for (const task of detail.tasks ?? []) {
        for (const script of task.fragment.querySelectorAll("script")) script.remove();
      }
    },
  });
}
