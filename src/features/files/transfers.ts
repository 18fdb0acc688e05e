/**
 * Transfers in progress per session, so revoking a session (logout, "sign out other sessions",
 * password change, suspension, account deletion) stops its downloads and part uploads at once:
 * a download's stream errors, a part's write is aborted (nothing stored). Process-local: a
 * transfer on another instance stops at its next request, which no longer authenticates.
 */
import type { AppDeps } from "../../deps.ts";
import { onSessionsRevoked } from "../auth/index.ts";

type Registry = Map<string, Map<string, Set<AbortController>>>;

const registries = new WeakMap<AppDeps, Registry>();

function registryOf(deps: AppDeps): Registry {
  let registry = registries.get(deps);
  if (!registry) {
    const created: Registry = new Map();
    registries.set(deps, (registry = created));
    onSessionsRevoked(deps, (userId, sessionIds) => {
      const sessions = created.get(userId);
      if (!sessions) return;
      for (const [sessionId, controllers] of sessions) {
        if (sessionIds !== "all" && !sessionIds.includes(sessionId)) continue;
        for (const controller of controllers) controller.abort(new Error("session revoked"));
      }
    });
  }
  return registry;
}

/** A signal aborted when the session is revoked; call `done` when the transfer ends. */
export function trackTransfer(deps: AppDeps, actor: { userId: string; sessionId?: string }): { signal: AbortSignal; done: () => void } {
  const controller = new AbortController();
  if (!actor.sessionId) return { signal: controller.signal, done: () => {} };
  const registry = registryOf(deps);
  let sessions = registry.get(actor.userId);
  if (!sessions) registry.set(actor.userId, (sessions = new Map()));
  let set = sessions.get(actor.sessionId);
  if (!set) sessions.set(actor.sessionId, (set = new Set()));
  set.add(controller);
  const sessionId = actor.sessionId;
  return {
    signal: controller.signal,
    done: () => {
      set.delete(controller);
      if (set.size === 0) sessions.delete(sessionId);
      if (sessions.size === 0) registry.delete(actor.userId);
    },
  };
}

/** Passes `stream` through until `signal` aborts (then it errors and the source is cancelled); `done` once it ends either way. */
export function stoppable(stream: ReadableStream<Uint8Array>, signal: AbortSignal, done: () => void): ReadableStream<Uint8Array> {
  const reader = stream.getReader();
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    signal.removeEventListener("abort", onAbort);
    done();
  };
  let controllerRef: ReadableStreamDefaultController<Uint8Array> | undefined;
  const onAbort = () => {
    reader.cancel(signal.reason).catch(() => {});
    try {
      controllerRef?.error(signal.reason);
    } catch {}
    finish();
  };
  signal.addEventListener("abort", onAbort);
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controllerRef = controller;
      if (signal.aborted) onAbort();
    },
    async pull(controller) {
      try {
        const { done: ended, value } = await reader.read();
        if (signal.aborted) return;
        if (ended) {
          controller.close();
          finish();
        } else controller.enqueue(value);
      } catch (error) {
        controller.error(error);
        finish();
      }
    },
    cancel(reason) {
      finish();
      return reader.cancel(reason);
    },
  });
}
