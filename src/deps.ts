/**
 * What the application is built from (createApp in src/app.ts, main.ts, the test helper): every
 * feature takes this. It lives here, below the features, so that no feature imports src/app.ts
 * (which imports every feature): test/ops/import-cycles.test.ts keeps it that way.
 */
import type { Config } from "./config.ts";
import type { Database } from "./db/open.ts";
import type { EventPublisher } from "./db/tx.ts";
import type { Logger } from "./log.ts";
import type { Secrets } from "./secrets.ts";
import type { RateLimits, RateLimitStore } from "./http/rate-limit.ts";
import type { InFlightBodies } from "./http/body-in-flight.ts";
import type { AssetResolver } from "./http/assets.ts";
import type { BlobStore } from "./blobs/index.ts";
import type { Hub } from "./ws/hub.ts";
import type { Timers } from "./timers.ts";

export type AppDeps = {
  config: Config;
  database: Database;
  log: Logger;
  secrets: Secrets;
  events: EventPublisher;
  /** The WebSocket hub (/ws). main.ts and tests pass the same object as `events`. */
  hub?: Hub;
  assets: AssetResolver;
  /** Encrypted file bytes (local directory or S3; docs/files.md). main.ts and the test helper always set it. */
  blobs?: BlobStore;
  rateLimits?: RateLimits;
  rateLimitStore?: RateLimitStore;
  /** Request-body bytes in flight per client IP and per process; tests pass small caps to inspect it. */
  inFlightBodies?: InFlightBodies;
  now?: () => number;
  /** The progressive login delay waits through this; tests pass a recorder instead of sleeping. */
  sleep?: (ms: number) => Promise<void>;
  /** Presence grace/batching and typing auto-stop run on these; tests pass timers they advance. */
  timers?: Timers;
  /**
   * The link-preview fetcher's policy (src/features/link-previews/fetcher.ts FetchPolicy): tests
   * inject a resolver and an address policy that admits their loopback server; unset in
   * production (system resolver, public addresses only).
   */
  /**
   * Mail (src/features/meetings/mailer.ts): tests inject the password file's path, TLS options for
   * their self-signed loopback server, and a short backoff; unset in production.
   */
  mail?: {
    secretPath?: string;
    tls?: { rejectUnauthorized?: boolean };
    backoffMs?: number;
    maxAttempts?: number;
    timeoutMs?: number;
  };
  linkPreviewPolicy?: {
    resolve?: (hostname: string) => Promise<string[]>;
    allowAddress?: (ip: string) => boolean;
    allowPort?: (port: number) => boolean;
    timeoutMs?: number;
    maxBytes?: number;
    maxRedirects?: number;
  };
  /**
   * GIF search (src/features/gifs): the Giphy API's base URL (default https://api.giphy.com) and
   * the media proxy's fetch policy. Tests point the API at a loopback stand-in and let the media
   * hosts (still media*.giphy.com / i.giphy.com by name) resolve to it over http.
   */
  gifs?: {
    apiBaseUrl?: string;
    allowHttpMedia?: boolean;
    mediaPolicy?: {
      resolve?: (hostname: string) => Promise<string[]>;
      allowAddress?: (ip: string) => boolean;
      allowPort?: (port: number) => boolean;
    };
    mediaMaxBytes?: number;
    mediaTimeoutMs?: number;
  };
  /** Feedback issues (src/features/feedback): GitHub's REST API base URL (default https://api.github.com); tests use a loopback stand-in. */
  github?: { apiBaseUrl?: string };
};
