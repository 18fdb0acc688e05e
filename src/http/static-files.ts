/**
 * Serves STATIC_FILES_PATH under /public/. Content-hashed files (build/, vendor/) are immutable
 * and cached for a year; anything else revalidates. Paths are confined to the static directory.
 * A file with build-time brotli/gzip variants beside it (`name.br`, `name.gz`: scripts/build.ts)
 * is sent as the best one the client accepts, with Content-Encoding, the variant's Content-Length
 * and `Vary: Accept-Encoding`; a Range request gets the plain file (ranges of an encoded variant
 * would be byte ranges of something else than what the client asked for).
 */
import { resolve, sep } from "node:path";
import { NotFoundError } from "../errors.ts";
import { pickEncoding, varyOnEncoding, type Encoding } from "./compression.ts";

const IMMUTABLE = "public, max-age=31536000, immutable";
const EXTENSION: Record<Encoding, string> = { br: ".br", gzip: ".gz" };

export async function serveStatic(staticDir: string, relativePath: string, request?: Request): Promise<Response> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(relativePath);
  } catch {
    throw new NotFoundError();
  }
  if (decoded.includes("\0") || decoded.split("/").some((seg) => seg === ".." || seg.startsWith("."))) throw new NotFoundError();
  const root = resolve(staticDir);
  const full = resolve(root, decoded);
  if (!full.startsWith(root + sep)) throw new NotFoundError();
  const file = Bun.file(full);
  if (!(await file.exists())) throw new NotFoundError();
  const hashed = decoded.startsWith("build/") || decoded.startsWith("vendor/");
  const isManifest = decoded.endsWith("manifest.json");
  const headers = new Headers({ "content-type": file.type, "cache-control": hashed && !isManifest ? IMMUTABLE : "no-cache" });
  const available: Encoding[] = [];
  for (const encoding of ["br", "gzip"] as const) if (await Bun.file(full + EXTENSION[encoding]).exists()) available.push(encoding);
  if (available.length === 0) return new Response(file, { headers });
  varyOnEncoding(headers);
  const encoding = request && !request.headers.has("range") ? pickEncoding(request.headers.get("accept-encoding"), available) : null;
  if (!encoding) return new Response(file, { headers });
  const variant = Bun.file(full + EXTENSION[encoding]);
  headers.set("content-encoding", encoding);
  headers.set("content-length", String(variant.size));
  return new Response(variant, { headers });
}
