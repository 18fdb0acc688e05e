/**
 * Response compression (issue 10 "Responses are compressed"; docs/decisions/0004-compression.md).
 *
 * - Static files: brotli and gzip variants are made at build time (scripts/build.ts writes
 *   `name.br` / `name.gz` beside each bundle); static-files.ts picks one with `pickEncoding`.
 * - Dynamic HTML and JSON over COMPRESS_MIN_BYTES are compressed here, in the response pipeline
 *   (app.ts mapResponse calls `compressDynamic`), with brotli or gzip per Accept-Encoding and
 *   `Vary: Accept-Encoding`.
 * - BREACH: a compressed response that holds a secret next to text an attacker can choose leaks
 *   the secret through its length. Hearth's CSRF defence holds no token (Origin /
 *   Sec-Fetch-Site checks, src/features/auth/csrf.ts), so ordinary pages hold no secret; the ones
 *   that do are never compressed. They are recognised by what marks the secret itself: HTML
 *   renders every secret inside an element with the `data-secret` attribute (views), JSON carries
 *   secrets only under the field names in SECRET_JSON_FIELDS. A marker that an attacker injects
 *   as text can only switch compression off, never on.
 */
import { brotliCompressSync, constants as zlib } from "node:zlib";

/** Bodies smaller than this go out as they are: compression would save little and cost a round of CPU. */
export const COMPRESS_MIN_BYTES = 1024;

/** The attribute on every HTML element that shows a secret (one-time codes, TOTP keys, invite links…). */
export const SECRET_MARKER = "data-secret";

/** JSON field names whose values are secrets (tokens, one-time codes, TOTP keys, invite codes, TURN credentials). */
export const SECRET_JSON_FIELDS = [
  "access_token",
  "refresh_token",
  "pending_token",
  "setup_token",
  "recovery_code",
  "backup_codes",
  "codes",
  "secret",
  "otpauth_url",
  "code",
  "invite_code",
  "credential",
  "reset_url",
] as const;
const SECRET_JSON_KEYS = SECRET_JSON_FIELDS.map((name) => `"${name}":`);

export type Encoding = "br" | "gzip";

/**
 * The encoding to use among `available` (in the server's order of preference), honouring the
 * client's q-values (`gzip;q=0` refuses gzip; `*` covers the rest); null: send it unencoded.
 */
export function pickEncoding(acceptEncoding: string | null, available: readonly Encoding[]): Encoding | null {
  if (!acceptEncoding) return null;
  const weights = new Map<string, number>();
  for (const part of acceptEncoding.split(",")) {
    const [name, ...params] = part.trim().toLowerCase().split(";");
    if (!name) continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    const weight = q ? Number(q.slice(2)) : 1;
    weights.set(name, Number.isFinite(weight) ? weight : 0);
  }
  let best: Encoding | null = null;
  let bestWeight = 0;
  for (const encoding of available) {
    const weight = weights.get(encoding) ?? weights.get("*") ?? 0;
    if (weight > bestWeight) {
      best = encoding;
      bestWeight = weight;
    }
  }
  return best;
}

/** Adds Accept-Encoding to a response's Vary header (kept with what is there, e.g. HX-Request). */
export function varyOnEncoding(headers: Headers): void {
  const vary = headers.get("vary");
  if (!vary) headers.set("vary", "Accept-Encoding");
  else if (!/(^|,)\s*accept-encoding\s*(,|$)/i.test(vary)) headers.set("vary", `${vary}, Accept-Encoding`);
}

/** Whether a body holds a secret, by the markers the views and the JSON API put on every secret. */
export function carriesSecret(contentType: string, body: string): boolean {
  if (contentType.startsWith("text/html")) return body.includes(SECRET_MARKER);
  return SECRET_JSON_KEYS.some((key) => body.includes(key));
}

function encode(body: string, encoding: Encoding): Uint8Array {
  // Dynamic responses: a fast setting (brotli 4 is both quicker and smaller than gzip 6 on our pages).
  if (encoding === "br") return brotliCompressSync(body, { params: { [zlib.BROTLI_PARAM_QUALITY]: 4, [zlib.BROTLI_PARAM_MODE]: zlib.BROTLI_MODE_TEXT } });
  return Bun.gzipSync(body, { level: 6 });
}

const COMPRESSIBLE = /^(text\/html|application\/json)\b/i;
const NO_BODY = new Set([101, 204, 205, 304]);

/**
 * The response to send for `request`: compressed when it is HTML or JSON over the threshold, the
 * client accepts brotli or gzip, and no secret is marked in it; otherwise the same content.
 * Already-encoded responses, static files (they carry Vary: Accept-Encoding already), HEAD and
 * bodiless statuses pass through untouched.
 */
export async function compressResponse(request: Request, response: Response): Promise<Response> {
  const type = response.headers.get("content-type") ?? "";
  if (!COMPRESSIBLE.test(type) || request.method === "HEAD" || NO_BODY.has(response.status) || !response.body) return response;
  if (response.headers.has("content-encoding") || /accept-encoding/i.test(response.headers.get("vary") ?? "")) return response;
  const body = await response.text();
  const headers = new Headers(response.headers);
  const rebuilt = (content: string | Uint8Array) => new Response(content as BodyInit, { status: response.status, statusText: response.statusText, headers });
  if (body.length < COMPRESS_MIN_BYTES || carriesSecret(type, body)) return rebuilt(body);
  varyOnEncoding(headers);
  const encoding = pickEncoding(request.headers.get("accept-encoding"), ["br", "gzip"]);
  if (!encoding) return rebuilt(body);
  headers.set("content-encoding", encoding);
  headers.delete("content-length");
  return rebuilt(encode(body, encoding));
}

/**
 * For app.ts mapResponse: a route's return value, compressed when that applies. A Response goes
 * through compressResponse; a plain object or array (Elysia would send it as JSON) is serialised
 * here when it is worth compressing; anything else is left to Elysia (undefined).
 */
export function compressDynamic(request: Request, value: unknown, set: { status?: number | string; headers: Record<string, string | number> }): Promise<Response> | undefined {
  if (value instanceof Response) return compressResponse(request, value);
  if (typeof value !== "object" || value === null || value instanceof Uint8Array || value instanceof Blob || value instanceof ReadableStream) return undefined;
  if (Object.getPrototypeOf(value) !== Object.prototype && !Array.isArray(value)) return undefined;
  if (set.headers["content-type"] !== undefined && !/json/i.test(String(set.headers["content-type"]))) return undefined;
  if (set.status !== undefined && typeof set.status !== "number") return undefined;
  const text = JSON.stringify(value);
  if (text.length < COMPRESS_MIN_BYTES) return undefined; // Elysia sends it as before
  return compressResponse(request, new Response(text, { status: set.status ?? 200, headers: { "content-type": "application/json; charset=utf-8" } }));
}
