// Headless Chromium for browser tests (playwright-core + the system /usr/bin/chromium; we
// never download a browser). launchBrowser() returns null with a printed reason when the
// binary is missing, so a test file can `test.skipIf(!browser)` instead of passing silently.
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * Calls (test/e2e/calls.test.ts): a fake microphone and camera (Chromium's test patterns: a beep
 * and a moving picture), permission prompts answered yes, the screen picked for a screen share,
 * and playback without a gesture.
 */
export const MEDIA_ARGS = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream", "--auto-select-desktop-capture-source=Entire screen", "--autoplay-policy=no-user-gesture-required"];

export const SCREENSHOT_DIR = join(import.meta.dir, "..", "..", "test-artifacts", "screenshots");

/** `extraArgs` are added to CHROMIUM_ARGS (e.g. MEDIA_ARGS); no argument keeps the usual browser. */
export async function launchBrowser(extraArgs: readonly string[] = []): Promise<Browser | null> {
  if (!existsSync(CHROMIUM_PATH)) {
    console.warn(`[skip] browser tests: no Chromium at ${CHROMIUM_PATH} (set CHROMIUM_PATH or apt-get install chromium)`);
    return null;
  }
  try {
    return ignoreLateSocketFrames(await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, ...extraArgs] }));
  } catch (error) {
    console.warn(`[skip] browser tests: Chromium at ${CHROMIUM_PATH} failed to start: ${String(error)}`);
    return null;
  }
}

/** Full-page PNG into test-artifacts/screenshots/<name>.png for reviewers; returns the path. */
export async function screenshot(page: Page, name: string, fullPage = false): Promise<string> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name.replace(/[^a-z0-9._-]+/gi, "-")}.png`);
  await page.screenshot({ path, fullPage });
  return path;
}

export type PageProblems = {
  consoleErrors: string[];
  cspViolations: string[];
  pageErrors: string[];
  /** Everything above, for a single `expect(problems.all()).toEqual([])`. */
  all(): string[];
};

/**
 * Collects console errors, uncaught page errors and CSP violations. Call BEFORE page.goto:
 * the securitypolicyviolation listener is installed by an init script (which runs in the
 * page's isolated bootstrap, not as inline page script, so CSP does not block it) and
 * reports through an exposed binding.
 */
export async function collectProblems(page: Page): Promise<PageProblems> {
  const consoleErrors: string[] = [];
  const cspViolations: string[] = [];
  const pageErrors: string[] = [];
  await page.exposeBinding("__reportCspViolation", (_source, report: string) => {
    cspViolations.push(report);
  });
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      const report = (window as unknown as { __reportCspViolation?: (r: string) => void }).__reportCspViolation;
      report?.(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber} ${e.sample}`);
    });
  });
  page.on("console", (msg) => {
    // A failed load's text does not say what failed; its location does (after the text, so the
    // filters some tests apply to the text still match).
    if (msg.type() === "error") consoleErrors.push(/^Failed to load resource/.test(msg.text()) && msg.location().url ? `${msg.text()} [${msg.location().url}]` : msg.text());
    // Chromium also logs CSP refusals to the console; count them even if the event was missed.
    if (/Content Security Policy/i.test(msg.text()) && msg.type() !== "error") cspViolations.push(msg.text());
  });
  page.on("pageerror", (err) => pageErrors.push(String(err)));
  return {
    consoleErrors,
    cspViolations,
    pageErrors,
    all: () => [...consoleErrors, ...cspViolations, ...pageErrors],
  };
}

type ClientConnection = { dispatch(message: { guid?: string; method?: string }): void; _objects: Map<string, unknown> };

/**
 * Playwright reports the first frames of every WebSocket of a page, listened to or not, and its
 * client throws "Cannot find object to \"frameReceived\": ws@…" (an uncaught error that fails
 * whichever test runs) when such a frame arrives after the page navigated and the socket object
 * was disposed. Every signed-in page holds a socket (live.js), so any navigation can hit that
 * race. Events for WebSocket objects that no longer exist are dropped here; everything else is
 * dispatched as before.
 */
function ignoreLateSocketFrames(browser: Browser): Browser {
  const connection = (browser as unknown as { _connection?: ClientConnection })._connection;
  if (!connection || typeof connection.dispatch !== "function" || !(connection._objects instanceof Map)) return browser;
  const dispatch = connection.dispatch.bind(connection);
  connection.dispatch = (message) => {
    if (message.guid?.startsWith("ws@") && message.method !== "__create__" && !connection._objects.has(message.guid)) return;
    dispatch(message);
  };
  return browser;
}

/** Signs out the way a person does: the account menu (top bar or sidebar), then "Sign out". */
export async function signOutThroughMenu(page: Page): Promise<void> {
  await page.locator('[data-testid="user-menu"]:visible').first().click();
  await page.locator('[data-testid="menu-sign-out"]:visible').first().click();
}
