// x-data="dialog": opens a native <dialog> as a modal (focus trap, Escape and ::backdrop
// come from the browser).
//   <div x-data="dialog">
//     <button type="button" x-on:click="show">Delete…</button>
//     <dialog class="dialog" x-ref="dialog" aria-labelledby="…"> … <button x-on:click="close">Cancel</button></dialog>
//   </div>
// Forms inside may use method="dialog" to close without JS.
import type { AlpineMagics } from "./alpine-types.ts";

export function dialog() {
  return {
    show(this: AlpineMagics) {
      const el = this.$refs.dialog;
      if (el instanceof HTMLDialogElement && !el.open) el.showModal();
    },
    close(this: AlpineMagics) {
      const el = this.$refs.dialog;
      if (el instanceof HTMLDialogElement) el.close();
    },
  };
}
