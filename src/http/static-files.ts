/**
 * Serves STATIC_FILES_PATH under /public/. Content-hashed files (build/, vendor/) are immutable
 * and cached for a year; anything else revalidates. Paths are confined to the static directory.
 */
import { resolve, sep } from "node:path";
import { NotFoundError } from "../errors.ts";

const IMMUTABLE = "public, max-age=31536000, immutable";

export async function serveStatic(staticDir: string, relativePath: string): Promise<Response> {
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
  return new Response(file, {
    headers: {
      "content-type": file.type,
      "cache-control": hashed && !isManifest ? IMMUTABLE : "no-cache",
    },
  });
}
