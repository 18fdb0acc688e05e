// JSON over fetch with the session cookie (same-origin: the CSRF check passes on
// Sec-Fetch-Site). Errors carry the server's stable code and the HTTP status (0 = network).
import { DEVICE_REVOKED_EVENT } from "./types.ts";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfterSecs?: number,
  ) {
    super(message);
  }
}

export async function callApi<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: body === undefined ? { accept: "application/json" } : { accept: "application/json", "content-type": "application/json" },
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
    const err = (json as { error?: { code?: string; message?: string; retry_after_secs?: number } } | undefined)?.error;
    const error = new ApiError(res.status, err?.code ?? `HTTP_${res.status}`, err?.message ?? `Request failed (${res.status}).`, err?.retry_after_secs);
    // This device was revoked elsewhere: whatever asked, the page shows how to set it up again.
    if (error.code === "UNKNOWN_DEVICE" && typeof document !== "undefined") document.dispatchEvent(new CustomEvent(DEVICE_REVOKED_EVENT));
    throw error;
  }
  return json as T;
}

/** The raw text of a response (key bundles are parsed by the wire-format parser). */
export async function fetchText(path: string): Promise<string> {
  const res = await fetch(path, { credentials: "same-origin" });
  if (!res.ok) throw new ApiError(res.status, `HTTP_${res.status}`, `GET ${path} failed (${res.status}).`);
  return res.text();
}
