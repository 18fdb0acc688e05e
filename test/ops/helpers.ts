// Shared readers for the deployment-file tests. There is no Docker engine where these run, so
// the Dockerfile and compose.yml are checked by reading them the way Docker would.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";

export const repoRoot = resolve(import.meta.dir, "../..");
export const readRepoFile = (path: string) => readFileSync(join(repoRoot, path), "utf8");

/** The environment contract of src/config.ts and compose.yml (docs/operations.md lists them too). */
export const CONTRACT_ENV_NAMES = [
  "DATABASE_URL", "DATA_DIR", "LISTEN_ADDR", "PUBLIC_URL", "STATIC_FILES_PATH", "LOG_LEVEL", "RUST_LOG",
  "NODE_ENV", "TRUSTED_PROXIES", "CLIENT_IP_HEADER", "REDIS_URL", "METRICS_ADDR", "METRICS_TOKEN", "JWT_PRIVATE_KEY_PATH", "JWT_PUBLIC_KEY_PATH",
  "TOTP_ENCRYPTION_KEY", "REGISTRATION_MODE", "ADMIN_USERNAME", "SETUP_TOKEN", "COMMUNITY_CREATION_MODE", "AUDIT_RETENTION_DAYS",
  "FILE_STORAGE_PATH", "MAX_FILE_SIZE_MB", "UPLOAD_QUOTA_MB", "FILE_STORAGE_URL", "S3_ENDPOINT",
  "S3_REGION", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "OIDC_ISSUER_URL", "OIDC_CLIENT_ID",
  "OIDC_CLIENT_SECRET", "OIDC_REDIRECT_URI", "OIDC_DISABLE_PASSWORD_LOGIN", "GIPHY_API_KEY", "GIPHY_RATING",
  "GITHUB_API_TOKEN", "GITHUB_REPO_OWNER", "GITHUB_REPO_NAME", "VAPID_PRIVATE_KEY", "VAPID_PUBLIC_KEY", "VAPID_SUBJECT",
  "SMTP_HOST", "SMTP_PORT", "SMTP_USERNAME", "SMTP_PASSWORD", "SMTP_TLS", "EMAIL_FROM", "EMAIL_FROM_NAME",
  "TURN_AUTH_SECRET", "TURN_URLS", "TURN_CREDENTIAL_TTL_SECS", "TURN_EXTERNAL_IP", "TURN_LISTENING_PORT",
  "TURN_TLS_PORT", "ICE_SERVERS", "CLOUDFLARE_TUNNEL_TOKEN", "DB_PASSWORD",
  "HEARTH_IMAGE", "UPDATER_SCHEDULE",
] as const;

// --- Dockerfile ------------------------------------------------------------------------------

export interface Instruction {
  keyword: string; // upper case
  args: string; // raw text after the keyword, continuation lines joined
}

export interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

/** Splits a Dockerfile into stages of instructions (comments dropped, "\" continuations joined). */
export function parseDockerfile(text: string): { args: Instruction[]; stages: Stage[] } {
  const logical: string[] = [];
  let pending = "";
  for (const raw of text.split("\n")) {
    const line = raw.trimEnd();
    if (pending === "" && /^\s*#/.test(line)) continue;
    if (pending !== "" && /^\s*#/.test(line)) continue; // comments inside a continuation
    if (line.endsWith("\\")) {
      pending += line.slice(0, -1) + " ";
      continue;
    }
    const full = (pending + line).trim();
    pending = "";
    if (full !== "") logical.push(full);
  }
  const args: Instruction[] = [];
  const stages: Stage[] = [];
  for (const line of logical) {
    const match = /^(\S+)\s*(.*)$/.exec(line)!;
    const instruction = { keyword: match[1]!.toUpperCase(), args: match[2]!.trim() };
    if (instruction.keyword === "FROM") {
      const from = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args)!;
      stages.push({ from: from[1]!, name: from[2], instructions: [] });
    } else if (stages.length === 0) {
      args.push(instruction);
    } else {
      stages.at(-1)!.instructions.push(instruction);
    }
  }
  return { args, stages };
}

/** Reads `ENV A=1 B="x y"` and the legacy `ENV A 1` into a map. */
export function parseEnvArgs(args: string): Record<string, string> {
  const env: Record<string, string> = {};
  if (!args.includes("=") || /^\S+\s+[^=]*$/.test(args)) {
    const legacy = /^(\S+)\s+(.*)$/.exec(args);
    if (legacy) env[legacy[1]!] = legacy[2]!;
    return env;
  }
  const pair = /([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g;
  for (const m of args.matchAll(pair)) {
    let value = m[2]!;
    if (value.startsWith('"')) value = value.slice(1, -1).replace(/\\(.)/g, "$1");
    else if (value.startsWith("'")) value = value.slice(1, -1);
    env[m[1]!] = value;
  }
  return env;
}

/** CMD/ENTRYPOINT/HEALTHCHECK CMD in exec form (JSON array); shell form is returned as sh -c. */
export function parseCommand(args: string): string[] {
  const trimmed = args.trim();
  if (trimmed.startsWith("[")) return JSON.parse(trimmed) as string[];
  return ["/bin/sh", "-c", trimmed];
}

export function finalStage(text: string): Stage {
  return parseDockerfile(text).stages.at(-1)!;
}

/** ENV of the final stage, merged in order. */
export function dockerfileEnv(stage: Stage): Record<string, string> {
  return Object.assign({}, ...stage.instructions.filter((i) => i.keyword === "ENV").map((i) => parseEnvArgs(i.args)));
}

/** ENTRYPOINT + CMD as Docker combines them (exec forms). */
export function dockerfileCommand(stage: Stage): string[] {
  const last = (kw: string) => stage.instructions.filter((i) => i.keyword === kw).at(-1);
  const entrypoint = last("ENTRYPOINT");
  const cmd = last("CMD");
  return [...(entrypoint ? parseCommand(entrypoint.args) : []), ...(cmd ? parseCommand(cmd.args) : [])];
}

// --- compose interpolation -------------------------------------------------------------------

const INTERPOLATION = /\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])((?:[^{}]|\{[^{}]*\})*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g;

/** Names referenced as ${NAME} / $NAME in a compose string ($$ is a literal dollar). */
export function referencedNames(value: string): string[] {
  const names: string[] = [];
  for (const m of value.matchAll(INTERPOLATION)) {
    const name = m[1] ?? m[4];
    if (name) names.push(name);
    if (m[3]) names.push(...referencedNames(m[3]));
  }
  return names;
}

/** Compose-spec interpolation: ${A}, ${A:-d}, ${A-d}, ${A:?e}, ${A?e}, ${A:+r}, ${A+r}, $A, $$. */
export function interpolate(value: string, env: Record<string, string | undefined>): string {
  return value.replace(INTERPOLATION, (whole, braced, op, word, bare) => {
    if (whole === "$$") return "$";
    const name = (braced ?? bare) as string;
    const v = env[name];
    const inner = () => interpolate(word ?? "", env);
    switch (op) {
      case ":-": return v ? v : inner();
      case "-": return v !== undefined ? v : inner();
      case ":?": if (!v) throw new Error(`${name}: ${inner()}`); return v;
      case "?": if (v === undefined) throw new Error(`${name}: ${inner()}`); return v;
      case ":+": return v ? inner() : "";
      case "+": return v !== undefined ? inner() : "";
      default: return v ?? "";
    }
  });
}

/** Every string anywhere inside a parsed YAML document. */
export function allStrings(node: unknown): string[] {
  if (typeof node === "string") return [node];
  if (Array.isArray(node)) return node.flatMap(allStrings);
  if (node && typeof node === "object") return Object.values(node).flatMap(allStrings);
  return [];
}

// --- .env.example ----------------------------------------------------------------------------

/** Variable names assigned in .env.example, commented out ("# NAME=") or not. */
export function envExampleNames(text: string): string[] {
  const names = new Set<string>();
  for (const line of text.split("\n")) {
    const m = /^\s*#?\s*([A-Z][A-Z0-9_]*)=/.exec(line);
    if (m) names.add(m[1]!);
  }
  return [...names];
}

// --- IP ranges (coturn --denied-peer-ip) -----------------------------------------------------

/**
 * Every address range the relay must refuse (seeds/000: no SSRF into private networks).
 * Not "::" nor "::/96": coturn 4.6 matches those against every IPv4 peer (test/ops/turn.test.ts
 * showed it), which would disable relaying altogether; the unspecified address is not routable.
 */
export const REQUIRED_DENIED = [
  "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
  "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24",
  "224.0.0.0/4", "240.0.0.0/4", "255.255.255.255/32",
  "::1/128", "::ffff:0:0/96", "64:ff9b::/96", "100::/64", "2001:db8::/32", "fc00::/7", "fe80::/10",
  "ff00::/8",
];

export function ipToBigInt(ip: string): { family: 4 | 6; value: bigint } {
  if (!ip.includes(":")) {
    const parts = ip.split(".").map(Number);
    if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
      throw new Error(`bad IPv4 ${ip}`);
    }
    return { family: 4, value: parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n) };
  }
  let text = ip;
  // Trailing dotted quad (::ffff:1.2.3.4) -> two hex groups.
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (quad) {
    const v4 = ipToBigInt(quad[1]!).value;
    text = text.slice(0, -quad[1]!.length) + `${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.split("::") as [string, string | undefined];
  const headGroups = head ? head.split(":") : [];
  const tailGroups = tail ? tail.split(":") : [];
  const fill = tail === undefined ? 0 : 8 - headGroups.length - tailGroups.length;
  const groups = [...headGroups, ...Array(fill).fill("0"), ...tailGroups];
  if (groups.length !== 8) throw new Error(`bad IPv6 ${ip}`);
  return { family: 6, value: groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n) };
}

export interface IpRange { family: 4 | 6; first: bigint; last: bigint }

/** "a.b.c.d/n" or "x::/n" -> range. */
export function cidrToRange(cidr: string): IpRange {
  const [ip, bitsText] = cidr.split("/") as [string, string];
  const { family, value } = ipToBigInt(ip);
  const width = family === 4 ? 32n : 128n;
  const host = width - BigInt(bitsText);
  const first = (value >> host) << host;
  return { family, first, last: first + (1n << host) - 1n };
}

/** coturn's "first-last" or single-address syntax -> range. */
export function coturnRangeToRange(text: string): IpRange {
  const dash = text.indexOf("-");
  const firstText = dash === -1 ? text : text.slice(0, dash);
  const lastText = dash === -1 ? text : text.slice(dash + 1);
  const first = ipToBigInt(firstText);
  const last = ipToBigInt(lastText);
  if (first.family !== last.family) throw new Error(`mixed families in ${text}`);
  return { family: first.family, first: first.value, last: last.value };
}

/** True when the union of `ranges` covers every address of `target`. */
export function rangesCover(ranges: IpRange[], target: IpRange): boolean {
  const sorted = ranges.filter((r) => r.family === target.family).sort((a, b) => (a.first < b.first ? -1 : 1));
  let next = target.first;
  for (const r of sorted) {
    if (r.first > next) continue;
    if (r.last >= next) next = r.last + 1n;
    if (next > target.last) return true;
  }
  return next > target.last;
}

// --- processes -------------------------------------------------------------------------------

/** A free TCP port on loopback (bind to 0, read it back, release it). */
export function freePort(): number {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

export function hasCommand(name: string): boolean {
  return Bun.which(name) !== null;
}
