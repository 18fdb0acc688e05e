/**
 * Request-body budgets: how many bytes each route may receive as a body. Every route has one:
 *
 *   - GET and HEAD routes: 0 (they take no body);
 *   - every other route: DEFAULT_BODY_BUDGET (64 KiB), enough for any JSON or form body whose
 *     fields have the usual short limits;
 *   - a route that needs more declares it next to itself, with the documented maximum it
 *     derives from:
 *
 *       new Elysia().use(bodyBudgets)
 *         .put("/api/keys/backup", handler, { auth: true, body: backupBody, bodyLimit: MAX_BACKUP_JSON_BYTES })
 *
 * The budget is enforced by the body guard (body-guard.ts) from onRequest, i.e. BEFORE Elysia's
 * parse phase reads anything: a route's own `auth` macro runs after parsing, too late to protect
 * the parser. Bodies above LARGE_BODY_BYTES are read only once the request has authenticated.
 */
import { Elysia } from "elysia";
import { Memoirist } from "memoirist";

/** The budget of every body-taking route that declares none: a few KiB of JSON or form fields with room to spare. */
export const DEFAULT_BODY_BUDGET = 64 * 1024;
/** A body above this size is "large": the guard authenticates the request before reading it. */
export const LARGE_BODY_BYTES = DEFAULT_BODY_BUDGET;

const BODYLESS_METHODS = new Set(["GET", "HEAD"]);

/**
 * What a route may declare. A number is its budget in bytes. `{ bytes, streamed: true }` is for a
 * handler that consumes `request.body` as a stream (a file upload): the guard then neither
 * buffers a chunked body nor counts the whole budget as held in memory; it counts the bytes as
 * they pass and cuts the stream at the budget (see body-guard.ts).
 */
export type BodyLimit = number | Readonly<{ bytes: number; streamed?: boolean }>;
export type BodyBudget = Readonly<{ bytes: number; streamed: boolean }>;

/**
 * The `bodyLimit` route option. The macro adds no hook (nothing may run in the request's own
 * lifecycle: that is after parsing); it only records the declaration on the route, where the
 * body guard reads it.
 */
export const bodyBudgets = new Elysia({ name: "body-budgets" }).macro({
  bodyLimit: (_limit: BodyLimit) => ({}),
});

export function defaultBudget(method: string): BodyBudget {
  return { bytes: BODYLESS_METHODS.has(method.toUpperCase()) ? 0 : DEFAULT_BODY_BUDGET, streamed: false };
}

function toBudget(limit: BodyLimit): BodyBudget {
  const budget = typeof limit === "number" ? { bytes: limit, streamed: false } : { bytes: limit.bytes, streamed: limit.streamed ?? false };
  if (!Number.isSafeInteger(budget.bytes) || budget.bytes < 0) throw new Error(`bodyLimit must be a whole number of bytes, not ${budget.bytes}`);
  return budget;
}

/** The subset of Elysia's route records the table needs (app.routes). */
export type RouteRecord = { method: string; path: string; hooks?: unknown };

/** A route's declared budget, or its method's default. */
export function budgetOfRoute(route: RouteRecord): BodyBudget {
  const declared = (route.hooks as { bodyLimit?: BodyLimit } | undefined)?.bodyLimit;
  return declared === undefined ? defaultBudget(route.method) : toBudget(declared);
}

/**
 * Method + path -> budget, matched with the router Elysia itself uses (memoirist), so a request
 * gets the budget of the route that will serve it. Unmatched requests (404s) get the default.
 */
export class BodyBudgetTable {
  private readonly router = new Memoirist<BodyBudget>();
  /** The largest budget of any route: Bun's own server-wide body limit (see createApp). */
  readonly largest: number;

  constructor(routes: readonly RouteRecord[]) {
    let largest = DEFAULT_BODY_BUDGET;
    for (const route of routes) {
      // WebSocket upgrades are GETs to the router; their frames have their own limits (src/ws).
      const method = route.method === "WS" ? "GET" : route.method.toUpperCase();
      const budget = budgetOfRoute(route);
      largest = Math.max(largest, budget.bytes);
      this.router.add(method, route.path, budget, { ignoreError: true });
      if (method === "GET") this.router.add("HEAD", route.path, budget, { ignoreError: true });
    }
    this.largest = largest;
  }

  budgetOf(method: string, path: string): BodyBudget {
    const m = method.toUpperCase();
    // Elysia serves "/x/" as "/x" (loose paths); so must the lookup.
    const p = path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
    return this.router.find(m, p)?.store ?? defaultBudget(m);
  }
}
