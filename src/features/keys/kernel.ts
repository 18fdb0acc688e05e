/**
 * Per-application state of the key service: its rate limits and their bucket store, the
 * in-process listeners for key changes, and the cached server identity. Keyed by the AppDeps
 * object (like the auth kernel) so two apps in one test process never share buckets or listeners.
 */
import type { AppDeps } from "../../deps.ts";
import { MemoryRateLimitStore, type Limit, type RateLimitStore } from "../../http/rate-limit.ts";
import type { KeysChangedEvent } from "./events.ts";

export type KeyFetchLimits = Readonly<{
  /** Bundle fetches by one viewer of one owner's keys (the drain guard for one pair). */
  perPair: Limit;
  /** All bundle fetches of one viewer, whoever the owner (stops one account sweeping many). */
  perViewer: Limit;
  /**
   * One-time prekeys handed out per owner device, whoever asks. When it is spent, bundles still
   * come back, without a one-time prekey (X3DH works without one: Signal spec §3.3), so many
   * colluding contacts together cannot empty a device's pool either.
   */
  oneTimePrekeysPerDevice: Limit;
}>;

export const DEFAULT_KEY_FETCH_LIMITS: KeyFetchLimits = Object.freeze({
  perPair: { ratePerSec: 10 / 60, burst: 10 },
  perViewer: { ratePerSec: 60 / 60, burst: 60 },
  oneTimePrekeysPerDevice: { ratePerSec: 50 / 3600, burst: 50 },
});

export type KeysKernel = {
  deps: AppDeps;
  limits: KeyFetchLimits;
  store: RateLimitStore;
  now(): number;
  listeners: Set<(event: KeysChangedEvent) => void>;
  serverIdentity?: Promise<{ publicKey: Uint8Array; privateKey: Uint8Array }>;
};

const kernels = new WeakMap<AppDeps, KeysKernel>();

export function keysKernelOf(deps: AppDeps): KeysKernel {
  let kernel = kernels.get(deps);
  if (!kernel) {
    kernel = {
      deps,
      limits: DEFAULT_KEY_FETCH_LIMITS,
      // The shared store when one is configured (several instances: Redis), so the limits hold
      // across instances; otherwise this app's own memory buckets.
      store: deps.rateLimitStore ?? new MemoryRateLimitStore(),
      now: deps.now ?? Date.now,
      listeners: new Set(),
    };
    kernels.set(deps, kernel);
  }
  return kernel;
}

/** Tests and operators tune the drain guard; unspecified limits keep their defaults. */
export function setKeyFetchLimits(deps: AppDeps, limits: Partial<KeyFetchLimits>): void {
  const kernel = keysKernelOf(deps);
  kernel.limits = { ...kernel.limits, ...limits };
}
