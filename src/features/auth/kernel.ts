/**
 * Per-application auth state: the token signer, the clock, the sleep used for the progressive
 * login delay, and the listeners told about revoked sessions. Keyed by the AppDeps object so two
 * apps in one process (tests) never share listeners.
 */
import type { AppDeps } from "../../deps.ts";
import type { Outbox } from "../../db/tx.ts";
import { createTokenSigner, type TokenSigner } from "./tokens.ts";

/** Called after COMMIT when sessions end: the WebSocket hub closes the matching sockets. */
export type SessionsRevokedListener = (userId: string, sessionIds: string[] | "all") => void;

export type AuthKernel = {
  id: number;
  deps: AppDeps;
  signer: TokenSigner;
  now(): number;
  sleep(ms: number): Promise<void>;
  listeners: Set<SessionsRevokedListener>;
};

const kernels = new WeakMap<AppDeps, AuthKernel>();
let nextId = 1;

export function authKernelOf(deps: AppDeps): AuthKernel {
  let kernel = kernels.get(deps);
  if (!kernel) {
    kernel = {
      id: nextId++,
      deps,
      signer: createTokenSigner(deps.secrets),
      now: deps.now ?? Date.now,
      sleep: deps.sleep ?? ((ms) => Bun.sleep(ms)),
      listeners: new Set(),
    };
    kernels.set(deps, kernel);
  }
  return kernel;
}

/** Subscribe to session revocations; returns the unsubscribe function. */
export function onSessionsRevoked(deps: AppDeps, listener: SessionsRevokedListener): () => void {
  const { listeners } = authKernelOf(deps);
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Queues the notification for after COMMIT: a rolled-back revocation tells nobody. */
export function notifySessionsRevoked(kernel: AuthKernel, outbox: Outbox, userId: string, sessionIds: string[] | "all"): void {
  if (sessionIds !== "all" && sessionIds.length === 0) return;
  outbox.afterCommit(() => {
    for (const listener of kernel.listeners) {
      try {
        listener(userId, sessionIds);
      } catch (error) {
        kernel.deps.log.error("auth.revocation_listener_failed", { error: error instanceof Error ? error : String(error) });
      }
    }
  });
}
