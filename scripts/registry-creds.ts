/**
 * The updater profile's credentials step (compose.yml `updater-init`, docs/operations.md
 * "Managed updates"): turns secrets/registry_creds into the Docker config.json the updater
 * (Watchtower) reads for its pulls, exactly as seeds/001 says:
 *
 *   - absent, empty or whitespace only  -> anonymous pulls (a config.json with no credentials)
 *   - present but not {"username","password","serveraddress"} JSON -> fatal, naming the file
 *   - well formed -> used for every pull from that registry
 *
 *   bun scripts/registry-creds.ts [--in /run/secrets/registry_creds] [--out /updater-config/config.json]
 *
 * The secret is never printed. The output is written to a temporary file, mode 0600, then
 * renamed into place, so the updater never reads half a file.
 */
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";

type Creds = { username: string; password: string; serveraddress: string };

export type Outcome = { kind: "anonymous" } | { kind: "credentials"; serveraddress: string; username: string };

/** The Docker config.json for `raw` (the file's text, or null when there is no file), or an error naming `path`. */
export function dockerConfigFor(raw: string | null, path: string): { config: { auths: Record<string, { auth: string }> }; outcome: Outcome } {
  if (raw === null || raw.trim() === "") return { config: { auths: {} }, outcome: { kind: "anonymous" } };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error(`${path} is not valid JSON. Expected {"username":"…","password":"…","serveraddress":"…"}, or an empty file for anonymous pulls.`);
  }
  const c = parsed as Partial<Creds> | null;
  const fields = ["username", "password", "serveraddress"] as const;
  const bad = fields.filter((f) => typeof c?.[f] !== "string" || c[f]!.trim() === "" || /[\u0000-\u001f]/.test(c[f]!));
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed) || bad.length > 0) {
    throw new Error(`${path} must be a JSON object with non-empty string fields username, password and serveraddress (${bad.length > 0 ? `missing or invalid: ${bad.join(", ")}` : "got something else"}).`);
  }
  const creds = c as Creds;
  if (creds.username.includes(":")) throw new Error(`${path}: the username may not contain ":".`);
  const auth = Buffer.from(`${creds.username}:${creds.password}`).toString("base64");
  return { config: { auths: { [creds.serveraddress]: { auth } } }, outcome: { kind: "credentials", serveraddress: creds.serveraddress, username: creds.username } };
}

function readIfFile(path: string): string | null {
  if (!existsSync(path)) return null;
  // A bind mount of a missing host file shows up as an empty directory: no credentials either.
  if (statSync(path).isDirectory()) return null;
  return readFileSync(path, "utf8");
}

function main(argv: string[]): number {
  let input = "/run/secrets/registry_creds";
  let output = "/updater-config/config.json";
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--in" && argv[i + 1]) input = argv[++i]!;
    else if (arg === "--out" && argv[i + 1]) output = argv[++i]!;
    else {
      console.error(`registry-creds: unknown argument ${arg}\nUsage: bun scripts/registry-creds.ts [--in FILE] [--out FILE]`);
      return 2;
    }
  }
  try {
    const { config, outcome } = dockerConfigFor(readIfFile(input), input);
    const temp = `${output}.tmp-${process.pid}`;
    writeFileSync(temp, JSON.stringify(config, null, 2) + "\n", { mode: 0o600 });
    renameSync(temp, output);
    console.log(outcome.kind === "anonymous" ? `registry-creds: no credentials in ${input}: pulls are anonymous` : `registry-creds: pulls from ${outcome.serveraddress} authenticate as ${outcome.username}`);
    return 0;
  } catch (error) {
    console.error(`registry-creds: ${(error as Error).message}`);
    return 1;
  }
}

if (import.meta.main) process.exit(main(process.argv.slice(2)));
