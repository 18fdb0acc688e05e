/**
 * Builds the real application for a test file: its own database, a config from plain env values,
 * real secrets generated into a temp DATA_DIR, and rate limits high enough not to interfere
 * (rate-limit tests pass the seeds' numbers explicitly).
 */
import { stopActivity } from "../../src/features/messages/index.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createApp, type App, type AppDeps } from "../../src/app.ts";
// After src/app.ts: features import each other, and loading one before the app's own order can
// reach a module's constants before they are initialised.
import { stopVoice } from "../../src/features/voice/index.ts";
import { loadConfig, type Config } from "../../src/config.ts";
import { createLogger, silentLogger, type Logger } from "../../src/log.ts";
import { loadSecrets } from "../../src/secrets.ts";
import { loadAssets } from "../../src/http/assets.ts";
import { openBlobStore } from "../../src/blobs/index.ts";
import { Hub, type HubOptions } from "../../src/ws/hub.ts";
import type { RateLimits } from "../../src/http/rate-limit.ts";
import type { InFlightBodies } from "../../src/http/body-in-flight.ts";
import type { Timers } from "../../src/timers.ts";
import { createTestDatabase, type TestDatabase } from "./db.ts";

export const UNLIMITED: RateLimits = { general: { ratePerSec: 1e9, burst: 1e9 }, auth: { ratePerSec: 1e9, burst: 1e9 } };
/**
 * Tests never contact a non-loopback address: the link-preview fetcher (docs/integrations.md)
 * resolves no real name and connects to no address unless a test injects its own policy
 * (test/features/link-previews/*.test.ts admit their loopback server only).
 */
export const NO_OUTSIDE_FETCHES: NonNullable<AppDeps["linkPreviewPolicy"]> = {
  resolve: async (name) => {
    throw new Error(`tests resolve no real names (${name})`);
  },
  allowAddress: () => false,
};
export const STATIC_DIR = resolve(import.meta.dir, "../../public");

export type TestContext = {
  app: App;
  config: Config;
  database: TestDatabase;
  deps: AppDeps;
  /** The WebSocket hub, also deps.events: what services publish to after COMMIT. */
  hub: Hub;
  dataDir: string;
  logs: string[];
  /** app.handle with a path; http://localhost is required by Elysia's router. */
  request(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
};

export async function createTestContext(
  opts: {
    env?: Record<string, string>;
    rateLimits?: RateLimits;
    database?: TestDatabase;
    captureLogs?: boolean;
    /** Injected clock (lockout windows, token expiry) and sleep (progressive login delay). */
    now?: () => number;
    sleep?: (ms: number) => Promise<void>;
    /** Timers for presence and typing (test/helpers/manual-timers.ts: a clock the test advances). */
    timers?: Timers;
    /** Hub settings (fan-out, short deadlines for tests). */
    hub?: Partial<Omit<HubOptions, "log" | "version">>;
    /** The request-body ledger (caps per client and process), to inspect or to set small caps. */
    inFlightBodies?: InFlightBodies;
  } = {},
): Promise<TestContext> {
  const dataDir = mkdtempSync(join(tmpdir(), "hearth-test-"));
  const config = loadConfig({ NODE_ENV: "test", DATA_DIR: dataDir, STATIC_FILES_PATH: STATIC_DIR, ...opts.env });
  const logs: string[] = [];
  const log: Logger = opts.captureLogs ? createLogger("debug", {}, (line) => logs.push(line)) : silentLogger;
  const secrets = loadSecrets(config, log);
  const database = opts.database ?? (await createTestDatabase());
  const hub = new Hub({ log, version: config.version, now: opts.now, ...opts.hub });
  await hub.start();
  const deps: AppDeps = { config, database, log, secrets, events: hub, hub, assets: loadAssets(STATIC_DIR), blobs: openBlobStore(config.files.storage, log), rateLimits: opts.rateLimits ?? UNLIMITED, now: opts.now, sleep: opts.sleep, inFlightBodies: opts.inFlightBodies, timers: opts.timers, linkPreviewPolicy: NO_OUTSIDE_FETCHES, gifs: { apiBaseUrl: "http://127.0.0.1:9", mediaPolicy: NO_OUTSIDE_FETCHES } };
  const app = createApp(deps);
  return {
    app,
    config,
    database,
    deps,
    hub,
    dataDir,
    logs,
    request: (path, init) => app.handle(new Request(`http://localhost${path}`, init)),
    async close() {
      // An activity flush in flight must finish before the database closes (db.destroy would wait).
      await stopActivity(deps);
      await stopVoice(deps);
      await hub.stop();
      if (app.server) await app.stop(true).catch(() => {});
      await database.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
