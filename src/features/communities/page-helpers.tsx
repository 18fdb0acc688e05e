/** Shared bits of the community pages: the page shell and form-body reading. */
import type { Child } from "hono/jsx";
import type { AppDeps } from "../../deps.ts";
import { page } from "../../http/render.ts";
import { announcementBanner } from "../announcements/index.ts";
import { Layout, parseTheme, THEME_COOKIE, Toast } from "../../../views/index.ts";

export type PageActor = { userId: string; displayName: string };

function themeOf(request: Request) {
  const cookie = request.headers.get("cookie") ?? "";
  const match = new RegExp(`(?:^|;\\s*)${THEME_COOKIE.replace(".", "\\.")}=([^;]+)`).exec(cookie);
  return parseTheme(match?.[1]);
}

/** Async: every signed-in page carries the instance announcements this user has not dismissed. */
export async function renderPage(deps: AppDeps, request: Request, actor: PageActor, title: string, body: Child, opts: { variant?: "app" | "page"; status?: number; toast?: string } = {}): Promise<Response> {
  const variant = opts.variant ?? "page";
  const banner = await announcementBanner(deps, actor.userId);
  return page(
    <Layout
      title={title}
      assets={deps.assets.page()}
      variant={variant}
      topBar={variant === "page"}
      user={{ id: actor.userId, displayName: actor.displayName }}
      theme={themeOf(request)}
      toasts={opts.toast ? <Toast message={opts.toast} tone="success" /> : undefined}
      banner={banner}
    >
      {variant === "page" ? <div class="page-content" hx-boost:inherited="true" hx-swap:inherited="outerHTML">{body}</div> : body}
    </Layout>,
    { status: opts.status ?? 200 },
  );
}

/** Form fields as strings (urlencoded or multipart); anything else is ignored. */
export function formOf(body: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (body && typeof body === "object") for (const [k, v] of Object.entries(body)) if (typeof v === "string") out[k] = v;
  return out;
}

export function optionalInt(value: string | undefined): number | null {
  if (value === undefined || value.trim() === "") return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : NaN;
}
