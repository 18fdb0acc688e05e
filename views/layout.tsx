// The page shell. Every full page goes through Layout:
//   "<!doctype html>" + String(<Layout ...>...</Layout>)
// No inline script or style anywhere (CSP script-src/style-src 'self'): behaviour comes from
// the scripts passed in `assets`, state from data-* attributes.
import type { Child, FC, PropsWithChildren } from "hono/jsx";
import { TOAST_REGION_ID } from "./toast.tsx";
import { UserMenu } from "./user-menu.tsx";

export type ScriptAsset = {
  src: string;
  /** true for our own ES-module bundle; false/absent for vendor scripts (emitted with defer). */
  module?: boolean;
};

export type PageAssets = {
  styles: string[];
  /**
   * Emitted in this order. Module and defer scripts run in document order after parsing, so
   * the order must be: htmx, our bundle, Alpine (Alpine starts itself on load and our bundle
   * must have registered its alpine:init listener before that). Use orderScripts().
   */
  scripts: ScriptAsset[];
  /**
   * The live socket module (src/client/live/): app.js imports it on signed-in pages (the body
   * carries its URL), chat.js imports the same URL, so a tab holds one socket.
   */
  live?: string;
};

/** Builds `scripts` in the only order that works (see PageAssets.scripts). */
export function orderScripts(urls: { htmx: string; app: string; alpine: string; extra?: ScriptAsset[] }): ScriptAsset[] {
  return [{ src: urls.htmx }, ...(urls.extra ?? []), { src: urls.app, module: true }, { src: urls.alpine }];
}

export type Theme = "light" | "dark";

/** Cookie the client sets next to localStorage so the server can render data-theme (no flash). */
export const THEME_COOKIE = "hearth.theme";
export const THEME_STORAGE_KEY = "hearth.theme";

export function parseTheme(value: string | null | undefined): Theme | undefined {
  return value === "light" || value === "dark" ? value : undefined;
}

/** The htmx extension our bundle registers to finish the hardening (src/client/htmx-hardening.ts). */
export const HEARTH_HTMX_EXTENSION = "hearth-hardening";

/**
 * htmx 4 configuration (read once from <meta name="htmx-config"> when htmx loads).
 * htmx 4 removed allowEval / allowScriptTags / selfRequestsOnly / historyCacheSize; the
 * equivalents are below or in the hearth-hardening extension.
 */
export function htmxConfig(extraExtensions: string[] = []) {
  return {
    // fetch() mode for every request. htmx 4 forbids per-element overrides of `mode`, so no
    // hx-config can send a request (and our cookies' reach) to another origin.
    mode: "same-origin",
    // htmx 4 keeps no DOM snapshots; "reload" makes back/forward to an hx-push-url entry do a
    // full page load instead of an ajax re-fetch, so decrypted DOM is never cached or
    // resurrected by htmx, and pages re-run the client decryption from scratch.
    history: "reload",
    // htmx would inject its indicator rules via a constructed stylesheet; app.css has them.
    includeIndicatorCSS: false,
    // htmx 4 swaps 4xx/5xx bodies by default (htmx 2 did not). We keep that: the server's
    // error renderer returns fragments made to be swapped (422 = the re-rendered form with
    // inline field errors; other errors = an ErrorBanner the client puts in the form's
    // [data-error-slot], or a toast). 204/304 mean "nothing to swap".
    noSwap: [204, 304],
    // Attributes are not inherited unless written with :inherited (htmx 4 default; explicit).
    implicitInheritance: false,
    // Extension whitelist: only ours (plus any the page adds explicitly) may register.
    extensions: [HEARTH_HTMX_EXTENSION, ...extraExtensions].join(","),
    defaultTimeout: 30000,
    // No settle phase: with a settle delay, an innerHTML/outerHTML swap first copies each old
    // element's class/style/width/height onto its new twin (for CSS transitions) with
    // setAttribute("style", …), which the strict CSP refuses and reports whenever the old one
    // carries a style attribute (left by the browser, an extension or an automation tool):
    // every re-rendered form error logged an "inline style" violation. We use no settle
    // transitions, so none is lost.
    defaultSettleDelay: 0,
  };
}

export type LayoutUser = { id: string; displayName: string; avatarUrl?: string | null };

export type LayoutProps = PropsWithChildren<{
  title: string;
  assets: PageAssets;
  lang?: string;
  /** Server-known theme (from THEME_COOKIE or a user setting); absent = follow the OS. */
  theme?: Theme;
  /** "app" = full-viewport chat frame (no page scroll); "page" = ordinary document. */
  variant?: "app" | "page";
  /** Show the slim top bar (settings, admin and other document pages). */
  topBar?: boolean;
  user?: LayoutUser | null;
  /** Extra controls on the right of the top bar (e.g. a sign-out form). */
  topBarActions?: Child;
  /** Extra whitelisted htmx extensions (e.g. "ws") on top of ours. */
  htmxExtensions?: string[];
  siteName?: string;
  /** Toasts present at load (a flash message after a redirect); later ones arrive via htmx OOB. */
  toasts?: Child;
  /**
   * The instance announcements this signed-in user has not dismissed (src/features/announcements):
   * rendered in the #announcement-banner region on every signed-in page; live.js replaces the
   * region when an announcement changes or is dismissed on another device.
   */
  banner?: Child;
}>;

/** The id of the announcements region (views and the live client agree on it). */
export const ANNOUNCEMENT_REGION_ID = "announcement-banner";

export const ThemeToggle: FC = () => (
  <button type="button" class="icon-btn theme-toggle" data-theme-toggle aria-label="Toggle dark theme" aria-pressed="false" title="Toggle theme">
    <svg class="theme-toggle__sun" viewBox="0 0 20 20" aria-hidden="true" focusable="false">
      <path d="M10 14a4 4 0 1 0 0-8 4 4 0 0 0 0 8Zm0-12a1 1 0 0 1 1 1v1a1 1 0 1 1-2 0V3a1 1 0 0 1 1-1Zm0 14a1 1 0 0 1 1 1v0a1 1 0 1 1-2 0v0a1 1 0 0 1 1-1ZM2 10a1 1 0 0 1 1-1h1a1 1 0 1 1 0 2H3a1 1 0 0 1-1-1Zm14 0a1 1 0 0 1 1-1h0a1 1 0 1 1 0 2h0a1 1 0 0 1-1-1ZM4.3 4.3a1 1 0 0 1 1.4 0l.7.7A1 1 0 0 1 5 6.4l-.7-.7a1 1 0 0 1 0-1.4Zm9.3 9.3a1 1 0 0 1 1.4 0l.7.7a1 1 0 0 1-1.4 1.4l-.7-.7a1 1 0 0 1 0-1.4Zm1.4-9.3a1 1 0 0 1 0 1.4l-.7.7A1 1 0 0 1 13 5l.7-.7a1 1 0 0 1 1.4 0ZM6.4 13.6a1 1 0 0 1 0 1.4l-.7.7a1 1 0 0 1-1.4-1.4l.7-.7a1 1 0 0 1 1.4 0Z" />
    </svg>
    <svg class="theme-toggle__moon" viewBox="0 0 20 20" aria-hidden="true" focusable="false">
      <path d="M17.5 12.6A7 7 0 0 1 7.4 2.5a8 8 0 1 0 10.1 10.1Z" />
    </svg>
  </button>
);

export const BrandMark: FC<{ siteName?: string }> = ({ siteName = "Hearth" }) => (
  <span class="brand">
    <svg class="brand__mark" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <path d="M12 2c.6 3.2 2.6 4.9 4.3 6.6C18 10.3 19 12 19 14.5A7 7 0 0 1 5 14.5c0-2.4 1.2-4.2 2.6-5.4-.1 1.8.6 3.1 1.9 3.7C9 9 10.3 5.4 12 2Z" />
    </svg>
    <span class="brand__name">{siteName}</span>
  </span>
);

export const Layout: FC<LayoutProps> = (p) => {
  const siteName = p.siteName ?? "Hearth";
  const variant = p.variant ?? "page";
  return (
    <html lang={p.lang ?? "en"} data-theme={p.theme}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover" />
        <meta name="color-scheme" content="light dark" />
        <meta name="referrer" content="same-origin" />
        <meta name="htmx-config" content={JSON.stringify(htmxConfig(p.htmxExtensions))} />
        <title>{p.title === siteName ? siteName : `${p.title} · ${siteName}`}</title>
        {/* An empty data: icon stops the browser's /favicon.ico request (a 404 in every console). */}
        <link rel="icon" href="data:," />
        {/* Installable app (src/features/notifications/pwa.tsx): manifest and the colour of its window. */}
        <link rel="manifest" href="/manifest.webmanifest" />
        <meta name="theme-color" content="#4450c4" />
        {p.assets.styles.map((href) => (
          <link rel="stylesheet" href={href} />
        ))}
        {p.assets.scripts.map((s) => (s.module ? <script type="module" src={s.src} /> : <script defer src={s.src} />))}
      </head>
      <body class={`body--${variant}`} data-live-src={p.user && p.assets.live ? p.assets.live : undefined}>
        <a class="skip-link" href="#main">
          Skip to content
        </a>
        {p.topBar ? (
          <header class="topbar">
            <a class="topbar__home" href="/">
              <BrandMark siteName={siteName} />
            </a>
            <div class="topbar__end">
              {p.user ? (
                <nav class="topbar__nav" aria-label="Main">
                  <a class="topbar__link" href="/dms" data-live-dms>
                    Messages
                  </a>
                  <a class="topbar__link" href="/communities">
                    Communities
                  </a>
                </nav>
              ) : null}
              {p.user ? <UserMenu user={p.user} place="topbar" /> : null}
              <ThemeToggle />
              {p.topBarActions}
            </div>
          </header>
        ) : null}
        {p.user ? (
          <div id={ANNOUNCEMENT_REGION_ID} class="announcements">
            {p.banner}
          </div>
        ) : null}
        <main id="main" class={`main main--${variant}`} tabindex={-1}>
          {p.children}
        </main>
        {p.user ? null : (
          <footer class="site-footer">
            <nav aria-label="Legal">
              <a href="/terms">Terms of service</a>
              <a href="/privacy">Privacy policy</a>
            </nav>
          </footer>
        )}
        <div id={TOAST_REGION_ID} class="toast-region" aria-live="polite" aria-relevant="additions">
          {p.toasts}
        </div>
      </body>
    </html>
  );
};
