/**
 * Issue 13 acceptance: "axe-core: 0 serious or critical violations on every page, at 1280 px and
 * 360 px, run in CI". Every GET page route the router serves (derived from app.routes, so a new
 * page joins by itself) is filled with real ids from the hostile-walk world (test/helpers/hostile.ts),
 * fetched once to keep the ones that answer an HTML page, then opened in Chromium signed in as the
 * instance owner (every admin power, owner of the community) and, for the public pages, signed
 * out, at both widths; axe's serious and critical findings must be none.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser, BrowserContext } from "playwright-core";
import { createTestContext, type TestContext } from "../helpers/app.ts";
import { launchBrowser } from "../helpers/browser.ts";
import { seriousAxeViolations } from "../helpers/axe.ts";
import { buildWorld, realParam, type World } from "../helpers/hostile.ts";
import { cookieSignIn } from "../helpers/users.ts";

const browser: Browser | null = await launchBrowser();
if (!browser) console.log("skip: the axe sweep needs Chromium at CHROMIUM_PATH");
const WIDTHS = [
  { width: 1280, height: 800 },
  { width: 360, height: 740 },
];
/** Not pages: the API, assets, probes, the socket, redirect-only endpoints. */
const NOT_PAGES = /^\/(api|public|ws|livez|readyz|health|metrics|auth\/oidc)(\/|$)|^\/announcements\/banner$|\.(js|css|png|svg|ico|json|webmanifest|txt|xml)$|^\/sw\.js$|^\/logout/;

let ctx: TestContext;
let base = "";
let world: World;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  if (!browser) return;
  ctx = await createTestContext({ env: { COMMUNITY_CREATION_MODE: "anyone" } });
  ctx.app.listen({ hostname: "127.0.0.1", port: 0 });
  base = `http://127.0.0.1:${ctx.app.server!.port}`;
  world = await buildWorld(ctx);
  // An active announcement (docs/admin.md): its banner is on every signed-in page swept below.
  const at = new Date();
  await ctx.database.db.insertInto("announcements").values({ id: crypto.randomUUID(), body: "Maintenance at **22:00 UTC**: see [the status page](https://example.org/status).\n- item one\n- item two", created_by: world.owner.user.id, created_at: at, updated_at: at, expires_at: null }).execute();
}, 180_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await ctx?.close();
});

function pagePaths(): string[] {
  const routes = (ctx.app as unknown as { routes: { method: string; path: string }[] }).routes;
  const out = new Set<string>();
  for (const r of routes) {
    if (r.method !== "GET" || NOT_PAGES.test(r.path)) continue;
    out.add(r.path.replace(/:([A-Za-z_]+)\??|\*/g, (_m, name: string | undefined) => realParam(world, r.path, name ?? "*")));
  }
  return [...out].sort();
}

/** The paths that answer an HTML page (200) to `cookie` (or to nobody). */
async function htmlPages(paths: string[], headers: Record<string, string>): Promise<string[]> {
  const ok: string[] = [];
  for (const path of paths) {
    const res = await fetch(`${base}${path}`, { headers, redirect: "manual" });
    const html = res.status === 200 && (res.headers.get("content-type") ?? "").includes("text/html");
    await res.arrayBuffer();
    if (html) ok.push(path);
  }
  return ok;
}

describe.skipIf(!browser)("axe on every page", () => {
  test("signed in (the owner) and signed out, at 1280 and 360 px: no serious or critical violation", async () => {
    const { accessToken, refreshToken } = await cookieSignIn(ctx, world.owner.user);
    const cookieHeader = { cookie: `hearth_access=${accessToken}; hearth_refresh=${refreshToken}` };
    const all = pagePaths();
    const signedIn = await htmlPages(all, cookieHeader);
    const signedOut = await htmlPages(all, {});
    console.log(`axe sweep: ${signedIn.length} pages signed in, ${signedOut.length} signed out, of ${all.length} GET page routes`);
    expect(signedIn.length).toBeGreaterThan(20);
    expect(signedOut.length).toBeGreaterThan(2);
    const findings: string[] = [];
    for (const [who, paths] of [["signed in", signedIn], ["signed out", signedOut]] as const) {
      for (const viewport of WIDTHS) {
        const context = await browser!.newContext({ viewport, reducedMotion: "reduce" });
        contexts.push(context);
        if (who === "signed in") {
          await context.addCookies([
            { name: "hearth_access", value: accessToken, url: base, httpOnly: true, sameSite: "Lax" },
            { name: "hearth_refresh", value: refreshToken, url: base, httpOnly: true, sameSite: "Lax" },
          ]);
        }
        const page = await context.newPage();
        for (const path of paths) {
          await page.goto(`${base}${path}`, { waitUntil: "load" });
          // Client code (chat, live counts) settles the page first.
          await page.waitForTimeout(300);
          for (const v of await seriousAxeViolations(page)) findings.push(`${who} ${viewport.width}px ${path}: ${v.id} (${v.help}) ${v.targets.slice(0, 3).join(" | ")}`);
        }
        await context.close();
      }
    }
    expect(findings).toEqual([]);
  }, 600_000);
});
