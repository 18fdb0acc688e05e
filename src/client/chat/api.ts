// JSON over fetch with the session cookie (same-origin: the CSRF check passes on
// Sec-Fetch-Site). Errors carry the server's stable code and the HTTP status (0 = network).
import { DEVICE_REVOKED_EVENT } from "./types.ts";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfterSecs?: number,
    /** The server's per-field details (e.g. QUEUE_FULL names each refused "messages.<i>"). */
    readonly fields?: Record<string, string>,
  ) {
    super(message);
  }
}

/** How the engine talks to the server: the page's own API, or (tests, the soak) another user's. */
export type Api = {
  call<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  /** The raw text of a response (key bundles are parsed by the wire-format parser). */
  text(path: string): Promise<string>;
};

type Fetch = (url: string, init: RequestInit) => Promise<Response>;

/**
 * In the browser: the page's origin with its cookies (the default). Outside a page — the real
 * engine driven under Bun by tests and the soak script, one per simulated user — a fetch, base
 * URL and headers that authenticate as that user.
 */
export function createApi(opts: { fetch?: Fetch; base?: string; headers?: Record<string, string> } = {}): Api {
  const send: Fetch = opts.fetch ?? ((url, init) => fetch(url, init));
  const base = opts.base ?? "";
  const auth = opts.headers ?? {};
  return {
    async call<T>(method: string, path: string, body?: unknown): Promise<T> {
      let res: Response;
      try {
        res = await send(base + path, {
          method,
          credentials: "same-origin",
          headers: { ...auth, accept: "application/json", ...(body === undefined ? {} : { "content-type": "application/json" }) },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch {
        throw new ApiError(0, "NETWORK", "You appear to be offline.");
      }
      if (res.status === 204 || res.status === 202 && res.headers.get("content-length") === "0") return undefined as T;
      const text = await res.text();
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      if (!res.ok) {
        const err = (json as { error?: { code?: string; message?: string; retry_after_secs?: number; fields?: Record<string, string> } } | undefined)?.error;
        const error = new ApiError(res.status, err?.code ?? `HTTP_${res.status}`, err?.message ?? `Request failed (${res.status}).`, err?.retry_after_secs, err?.fields);
        // This device was revoked elsewhere: whatever asked, the page shows how to set it up again.
        if (error.code === "UNKNOWN_DEVICE" && typeof document !== "undefined") document.dispatchEvent(new CustomEvent(DEVICE_REVOKED_EVENT));
        throw error;
      }
      return json as T;
    },
    async text(path: string): Promise<string> {
      const res = await send(base + path, { credentials: "same-origin", headers: auth });
      const text = await res.text();
      if (!res.ok) {
        let code = `HTTP_${res.status}`;
        try {
          code = (JSON.parse(text) as { error?: { code?: string } }).error?.code ?? code; // e.g. USER_NOT_FOUND: no longer a contact
        } catch {
          // not JSON
        }
        throw new ApiError(res.status, code, `GET ${path} failed (${res.status}).`);
      }
      return text;
    },
  };
}

/** The page's own API. */
export const pageApi = createApi();
export const callApi: Api["call"] = (method, path, body) => pageApi.call(method, path, body);
export const fetchText: Api["text"] = (path) => pageApi.text(path);
