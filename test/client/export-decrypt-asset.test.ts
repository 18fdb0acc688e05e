// The Settings › Your data bundle as shipped (issue 15 §3): export-decrypt.js carries the chat's
// E2EE engine and a zip reader/writer (fflate) for "Decrypt my export". It is a bundle of its
// own, loaded by /settings/data and /settings/data/decrypt only: chat.js (at its budget) and
// app.js carry none of it.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { STATIC_DIR } from "../helpers/app.ts";

const manifest = JSON.parse(readFileSync(join(STATIC_DIR, "build", "manifest.json"), "utf8")) as { files: Record<string, string> };
const read = (name: string) => readFileSync(join(STATIC_DIR, manifest.files[name]!));

test("export-decrypt.js: a bundle of its own within 48 KiB gzip, no server code; chat.js and app.js carry no zip code", () => {
  const bytes = read("export-decrypt.js");
  const gzip = Bun.gzipSync(bytes).length;
  console.log(`built ${manifest.files["export-decrypt.js"]}: ${(bytes.length / 1024).toFixed(1)} KiB minified, ${(gzip / 1024).toFixed(1)} KiB gzip`);
  expect(gzip).toBeLessThanOrEqual(48 * 1024);
  const text = bytes.toString("utf8");
  for (const forbidden of ["elysia", "kysely", "postgres", "pglite", "innerHTML", "insertAdjacentHTML", "outerHTML"]) expect({ forbidden, found: text.includes(forbidden) }).toEqual({ forbidden, found: false });
  expect(text).toContain("hearth-export v1");
  for (const other of ["chat.js", "app.js"]) expect(read(other).toString("utf8")).not.toContain("hearth-export v1");
});
