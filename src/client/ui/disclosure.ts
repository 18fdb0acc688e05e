// x-data="disclosure": show/hide a region (for cases <details> can't style, e.g. "show more").
//   <div x-data="disclosure">
//     <button type="button" x-on:click="toggle" x-bind:aria-expanded="open" aria-controls="x">More</button>
//     <div id="x" x-show="open" x-cloak>…</div>
//   </div>

export function disclosure() {
  return {
    open: false,
    toggle(this: { open: boolean }) {
      this.open = !this.open;
    },
  };
}
