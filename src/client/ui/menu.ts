// x-data="menu": a button that opens a list of actions.
//   <div class="menu" x-data="menu" {...xOn("keydown.escape", "close")} {...xOn("click.outside", "close")}>
//     <button type="button" x-ref="button" x-on:click="toggle" x-bind:aria-expanded="open" aria-haspopup="menu">…</button>
//     <ul class="menu__list" role="menu" x-show="open" x-cloak> <li><button class="menu__item" role="menuitem">…</li></ul>
//   </div>
import type { AlpineMagics } from "./alpine-types.ts";

export function menu() {
  return {
    open: false,
    toggle(this: { open: boolean } & AlpineMagics) {
      this.open = !this.open;
      if (this.open) {
        this.$nextTick(() => this.$el.querySelector<HTMLElement>('[role="menuitem"]')?.focus());
      }
    },
    close(this: { open: boolean } & AlpineMagics) {
      if (!this.open) return;
      this.open = false;
      this.$refs.button?.focus();
    },
  };
}
