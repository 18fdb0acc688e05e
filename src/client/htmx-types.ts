// The slice of htmx 4's runtime API this bundle touches (htmx is a vendored classic script).

export type HtmxRequestContext = {
  sourceElement?: Element | null;
  target?: Element | string | null;
  swap?: string;
  select?: string;
  text?: string;
  hx?: { retarget?: string; reswap?: string } & Record<string, unknown>;
  response?: { status: number; headers: Headers };
};

export type HtmxSwapTask = { type: string; fragment: DocumentFragment; target: Element | null };

export type HtmxInternalApi = {
  initSecurity?: (
    policy: { createHTML(s: string): string; createScript(s: string): string } | null,
    syncFn: unknown,
    asyncFn: unknown,
  ) => void;
};

export type HtmxExtension = {
  init?: (api: HtmxInternalApi) => void;
  [hook: string]: ((...args: never[]) => unknown) | undefined;
};

export type Htmx = {
  version: string;
  config: Record<string, unknown>;
  registerExtension(name: string, ext: HtmxExtension): boolean | void;
};

export type HtmxEventDetail = { ctx?: HtmxRequestContext; tasks?: HtmxSwapTask[]; error?: unknown };

export function htmxOnPage(): Htmx | undefined {
  return (window as unknown as { htmx?: Htmx }).htmx;
}
