/**
 * The body guard: runs in onRequest, before Elysia's parse phase reads any body, and decides
 * whether a request's body may be read at all.
 *
 *   1. Budget: the route's budget (body-budget.ts). A declared Content-Length over it -> 413
 *      PAYLOAD_TOO_LARGE at once, nothing read. A body of unknown length (chunked) is read here,
 *      counting bytes, and cut off one byte past the budget (413); what was read (never more than
 *      the budget plus one transport chunk) is then served to the parser in place of the stream.
 *   2. Authentication first for large bodies: a body that is, or may be, larger than
 *      LARGE_BODY_BYTES is read only after the request authenticated (401 otherwise), so an
 *      anonymous client never makes the server hold more than 64 KiB of its body.
 *   3. Bytes in flight (body-in-flight.ts): the admitted bytes count against the client IP's and
 *      the process's caps until the response is done -> 429 TOO_MANY_BODIES_IN_FLIGHT /
 *      503 SERVER_BUSY with Retry-After when full.
 *
 * Streamed routes (`bodyLimit: { bytes, streamed: true }`, for file uploads): a chunked body is
 * not read here; the handler's `request.body` is a counting stream that errors with 413 past the
 * budget, and only STREAMED_BODY_RESERVATION bytes count as in flight (the handler holds a chunk
 * at a time, not the body).
 */
import { AppError, InvalidInputError, PayloadTooLargeError, RateLimitedError } from "../errors.ts";
import { BodyBudgetTable, LARGE_BODY_BYTES, type BodyBudget, type RouteRecord } from "./body-budget.ts";
import type { InFlightBodies } from "./body-in-flight.ts";

/** What one streamed body counts as in flight (its handler's working set, not the body). */
export const STREAMED_BODY_RESERVATION = 1024 * 1024;

type HeaderSink = { headers: Record<string, unknown> };

export type BodyGuardOptions = {
  /** The app's routes (app.routes): budgets are read from their declarations, again if routes are added later. */
  routes: () => readonly RouteRecord[];
  inFlight: InFlightBodies;
  /**
   * Resolves the request's credentials before a large body is read; throws an AppError (401) when
   * it has none. Cookies it sets (a refreshed session) go into `set`.
   */
  authenticate: (request: Request, set: HeaderSink) => Promise<void>;
};

export type BodyGuard = {
  /** undefined: go on (the body may be read); an AppError: answer it, the body stays unread. */
  admit(request: Request, path: string, clientIp: string, set: HeaderSink): Promise<AppError | undefined>;
  /** The response is done: give back the request's bytes in flight. Safe to call more than once. */
  finish(request: Request): void;
  budgetOf(method: string, path: string): BodyBudget;
  /** The largest budget of any route: Bun's server-wide limit. */
  largestBudget(): number;
};

type Admission = { client: string; bytes: number; done: boolean };

const DECIMAL = /^\d+$/;

export function createBodyGuard(opts: BodyGuardOptions): BodyGuard {
  let built: { table: BodyBudgetTable; routes: number } | undefined;
  const budgets = (): BodyBudgetTable => {
    const routes = opts.routes();
    if (built?.routes !== routes.length) built = { table: new BodyBudgetTable(routes), routes: routes.length };
    return built.table;
  };
  const admissions = new WeakMap<Request, Admission>();
  const giveBack = (admission: Admission) => {
    if (admission.done) return;
    admission.done = true;
    opts.inFlight.release(admission.client, admission.bytes);
  };
  // Backstop: a request whose response never reached finish() (a later onRequest hook answered
  // early, which skips onAfterResponse) still gives its bytes back once it is collected.
  const orphans = new FinalizationRegistry<Admission>(giveBack);

  const take = (admission: Admission, bytes: number): AppError | undefined => {
    const outcome = opts.inFlight.reserve(admission.client, bytes);
    if (outcome === "ok") {
      admission.bytes += bytes;
      return undefined;
    }
    return outcome === "client-full"
      ? new RateLimitedError(1, "Too many request bodies from your address are still being received. Try again shortly.", "TOO_MANY_BODIES_IN_FLIGHT")
      : new AppError("SERVER_BUSY", 503, "The server is receiving too many request bodies right now. Try again shortly.", { retryAfterSecs: 1 });
  };

  return {
    async admit(request, path, clientIp, set) {
      const contentLength = request.headers.get("content-length");
      // Transfer-Encoding wins over Content-Length (RFC 9112 6.3): only a length without it is a length.
      const declared = contentLength !== null && request.headers.get("transfer-encoding") === null && DECIMAL.test(contentLength) ? Number(contentLength) : undefined;
      if (declared === 0) return undefined;
      if (declared === undefined && !mayHaveBody(request)) return undefined;
      const budget = budgets().budgetOf(request.method, path);
      if (declared !== undefined && declared > budget.bytes) return tooLarge(budget);
      if ((declared ?? budget.bytes) > LARGE_BODY_BYTES) {
        try {
          await opts.authenticate(request, set);
        } catch (error) {
          if (error instanceof AppError) return error;
          throw error;
        }
      }
      const admission: Admission = { client: clientIp, bytes: 0, done: false };
      let refused: AppError | undefined;
      if (declared !== undefined) refused = take(admission, budget.streamed ? Math.min(declared, STREAMED_BODY_RESERVATION) : declared);
      else if (budget.streamed) {
        refused = take(admission, Math.min(budget.bytes, STREAMED_BODY_RESERVATION));
        if (!refused) serveBody(request, countedStream(request.body!, budget));
      } else refused = await readWithinBudget(request, budget, (bytes) => take(admission, bytes));
      if (refused) {
        giveBack(admission);
        return refused;
      }
      admissions.set(request, admission);
      orphans.register(request, admission, admission);
      return undefined;
    },
    finish(request) {
      const admission = admissions.get(request);
      if (!admission) return;
      admissions.delete(request);
      orphans.unregister(admission);
      giveBack(admission);
    },
    budgetOf: (method, path) => budgets().budgetOf(method, path),
    largestBudget: () => budgets().largest,
  };
}

/** Without a usable Content-Length: chunked, or a Request built in-process (tests) with a body. */
function mayHaveBody(request: Request): boolean {
  // Bun gives GET and HEAD requests without Transfer-Encoding no body; skip creating the stream.
  if (request.headers.get("transfer-encoding") === null && (request.method === "GET" || request.method === "HEAD")) return false;
  return request.body !== null;
}

function tooLarge(budget: BodyBudget): AppError {
  return new PayloadTooLargeError(budget.bytes === 0 ? "This request takes no body." : `The request body may be at most ${describeBytes(budget.bytes)}.`);
}

export function describeBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${+(bytes / 1024 / 1024).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} bytes`;
}

/**
 * Reads a body of unknown length, refusing it one byte past the budget, and hands what was read to
 * the parser. `count` takes each chunk's bytes in flight and may refuse.
 */
async function readWithinBudget(request: Request, budget: BodyBudget, count: (bytes: number) => AppError | undefined): Promise<AppError | undefined> {
  const reader = request.body!.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      const refused = total > budget.bytes ? tooLarge(budget) : count(value.byteLength);
      if (refused) {
        // Stop reading: Bun discards the rest of the body after the response.
        await reader.cancel().catch(() => {});
        return refused;
      }
      chunks.push(value);
    }
  } catch {
    return new InvalidInputError("The request body could not be read.", undefined, "BODY_READ_FAILED");
  }
  serveBody(request, Buffer.concat(chunks, total));
  return undefined;
}

/** A stream that passes the body through and errors with 413 once it exceeds the budget. */
function countedStream(body: ReadableStream<Uint8Array>, budget: BodyBudget): ReadableStream<Uint8Array> {
  let seen = 0;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > budget.bytes) controller.error(tooLarge(budget));
        else controller.enqueue(chunk);
      },
    }),
  );
}

/**
 * Makes the request's body readers (what Elysia's parsers and handlers call) read `body` instead
 * of the original stream. The request object itself stays the same: the pipeline's per-request
 * state, the peer address and the auth memo are all keyed by it.
 */
function serveBody(request: Request, body: Uint8Array | ReadableStream<Uint8Array>): void {
  const shadow = new Request(request.url, { method: request.method, headers: request.headers, body, duplex: "half" } as RequestInit);
  const delegate = (name: "arrayBuffer" | "blob" | "bytes" | "formData" | "json" | "text") => ({ value: () => shadow[name](), configurable: true });
  Object.defineProperties(request, {
    body: { get: () => shadow.body, configurable: true },
    bodyUsed: { get: () => shadow.bodyUsed, configurable: true },
    arrayBuffer: delegate("arrayBuffer"),
    blob: delegate("blob"),
    bytes: delegate("bytes"),
    formData: delegate("formData"),
    json: delegate("json"),
    text: delegate("text"),
  });
}
