// Minimal typing for the Alpine CSP build (a vendored classic script exposing window.Alpine).
// Component methods run as normal bundle code; markup may only name properties/methods.

export type AlpineMagics = {
  $refs: Record<string, HTMLElement | undefined>;
  $el: HTMLElement;
  $nextTick(fn: () => void): void;
};

export type AlpineLike = {
  data(name: string, factory: () => object): void;
};

export function alpineOnPage(): AlpineLike | undefined {
  return (window as unknown as { Alpine?: AlpineLike }).Alpine;
}
