/**
 * The only reader of the environment. Every variable of seeds/001 (plus Hearth's own) is declared
 * here once with a TypeBox schema, a default and a one-line meaning; `loadConfig` validates all of
 * them, collects every problem into one error, and returns a deep-frozen Config.
 *
 * Secrets (JWT key files, TOTP key) are resolved separately by `src/secrets.ts` because resolving
 * them touches the file system; this module stays pure so tests can build configs from plain objects.
 */
import { Type as t, type TSchema, type Static, type TLiteral, type TUnion } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { createECDH } from "node:crypto";
import { isIP } from "node:net";
import { join, resolve } from "node:path";
import pkg from "../package.json" with { type: "json" };

type Spec<S extends TSchema> = { schema: S; default?: Static<S>; doc: string; allowed?: string };
const v = <S extends TSchema>(schema: S, doc: string, extra: Omit<Spec<S>, "schema" | "doc"> = {}): Spec<S> => ({
  schema,
  doc,
  ...extra,
});

const Str = t.String({ minLength: 1 });
const Bool = t.Boolean();
const oneOf = <const L extends string[]>(...values: L) =>
  t.Union(values.map((x) => t.Literal(x))) as unknown as TUnion<{ [K in keyof L]: TLiteral<L[K]> }>;
const Int = (minimum: number, maximum: number) => t.Integer({ minimum, maximum });
const HostPort = t.String({ pattern: "^(\\[[0-9a-fA-F:.]+\\]|[A-Za-z0-9.-]+):[0-9]{1,5}$" });
const Hex64 = t.String({ pattern: "^[0-9a-fA-F]{64}$" });
const HttpUrl = t.String({ pattern: "^https?://[^\\s]+$" });
const PgUrl = t.String({ pattern: "^postgres(ql)?://[^\\s]+$" });
const RedisUrl = t.String({ pattern: "^rediss?://[^\\s]+$" });

/** Where the client IP comes from behind a trusted proxy (src/http/client-ip.ts); "none" = the peer. */
export const CLIENT_IP_HEADERS = ["X-Forwarded-For", "X-Real-IP", "CF-Connecting-IP", "none"] as const;
export type ClientIpHeader = "x-forwarded-for" | "x-real-ip" | "cf-connecting-ip" | "none";

/** Every variable, in the order of seeds/001. `allowed` overrides the text derived from the schema. */
export const ENV_SPEC = {
  // Server
  DATABASE_URL: v(PgUrl, "PostgreSQL connection URL; unset = embedded PGlite in DATA_DIR/db", { allowed: "a postgres:// or postgresql:// URL" }),
  LISTEN_ADDR: v(HostPort, "Address and port the server binds to", { default: "0.0.0.0:8080", allowed: "host:port, e.g. 0.0.0.0:8080 or [::]:8080" }),
  STATIC_FILES_PATH: v(Str, "Directory of static assets (vendored htmx/Alpine, built bundle)", { default: "./public" }),
  PUBLIC_URL: v(HttpUrl, "Public-facing URL of the instance (links, invites, cookie Secure flag)", { allowed: "an http:// or https:// URL" }),
  LOG_LEVEL: v(oneOf("debug", "info", "warn", "error"), "Minimum level of the JSON-lines log", { default: "info" }),
  RUST_LOG: v(Str, "Legacy alias from the reference product; its level word is used when LOG_LEVEL is unset"),
  NODE_ENV: v(oneOf("production", "development", "test"), "production = never generate secrets, refuse to start without them", { default: "development" }),
  DATA_DIR: v(Str, "Directory for the embedded database, generated secrets and files", { default: "./data" }),
  TRUSTED_PROXIES: v(Str, "Comma-separated IPs/CIDRs of reverse proxies whose CLIENT_IP_HEADER is believed", { default: "127.0.0.0/8,::1", allowed: "comma-separated IP addresses or CIDR ranges" }),
  CLIENT_IP_HEADER: v(Str, "The one header a trusted proxy's client IP is read from (CF-Connecting-IP only behind Cloudflare)", { default: "X-Forwarded-For", allowed: `one of: ${CLIENT_IP_HEADERS.join(", ")}` }),
  REDIS_URL: v(RedisUrl, "Redis for multi-instance fan-out, shared rate limits and presence", { allowed: "a redis:// or rediss:// URL" }),
  METRICS_ADDR: v(HostPort, "Serve Prometheus metrics (GET /metrics) on this separate address only; unset = on the public address when METRICS_TOKEN is set", { allowed: "host:port, e.g. 127.0.0.1:9464" }),
  METRICS_TOKEN: v(t.String({ minLength: 16, maxLength: 256, pattern: "^[\\x21-\\x7e]+$" }), "Bearer token GET /metrics requires (unset with METRICS_ADDR unset = no metrics endpoint)", { allowed: "16 to 256 printable characters without spaces (openssl rand -hex 32)" }),
  // Authentication
  JWT_PRIVATE_KEY_PATH: v(Str, "Ed25519 private key PEM for signing access tokens"),
  JWT_PUBLIC_KEY_PATH: v(Str, "Ed25519 public key PEM for verifying access tokens"),
  TOTP_ENCRYPTION_KEY: v(Hex64, "32-byte hex key encrypting TOTP secrets at rest (openssl rand -hex 32)", { allowed: "64 hexadecimal characters (openssl rand -hex 32)" }),
  // Registration
  REGISTRATION_MODE: v(oneOf("open", "invite_only", "closed"), "Who may register", { default: "invite_only" }),
  ADMIN_USERNAME: v(Str, "Username granted instance admin at startup and on registration"),
  SETUP_TOKEN: v(t.String({ minLength: 16, maxLength: 128 }), "Presets the one-time first-account setup token (automated installs)", { allowed: "16 to 128 characters" }),
  COMMUNITY_CREATION_MODE: v(oneOf("anyone", "admin_only", "open"), "Who may create communities (open = anyone)", { default: "admin_only" }),
  AUDIT_RETENTION_DAYS: v(Int(0, 36_500), "Days the instance audit log is kept (0 = forever); pruning leaves a signed checkpoint", { default: 0 }),
  // File uploads
  FILE_STORAGE_PATH: v(Str, "Directory where uploaded (encrypted) files are stored; default DATA_DIR/files"),
  MAX_FILE_SIZE_MB: v(Int(1, 10_000), "Maximum single file upload size in MB", { default: 100 }),
  UPLOAD_QUOTA_MB: v(Int(0, 100_000), "Per-user upload quota in MB (0 = unlimited)", { default: 500 }),
  FILE_STORAGE_URL: v(Str, "s3://bucket[/prefix] = store files in S3-compatible object storage; unset = local FILE_STORAGE_PATH", { allowed: "s3://bucket or s3://bucket/prefix" }),
  S3_ENDPOINT: v(HttpUrl, "Endpoint of the S3-compatible service; unset = AWS S3 in S3_REGION", { allowed: "an http:// or https:// URL" }),
  S3_REGION: v(t.String({ pattern: "^[a-z0-9-]{1,32}$" }), "Region used to sign S3 requests", { default: "us-east-1", allowed: "a region name such as us-east-1 or auto" }),
  S3_ACCESS_KEY_ID: v(Str, "Access key id for FILE_STORAGE_URL (required with s3://)"),
  S3_SECRET_ACCESS_KEY: v(Str, "Secret access key for FILE_STORAGE_URL (required with s3://)"),
  // OIDC / SSO
  OIDC_ISSUER_URL: v(HttpUrl, "OIDC issuer (must serve /.well-known/openid-configuration)", { allowed: "an http:// or https:// URL" }),
  OIDC_CLIENT_ID: v(Str, "OIDC client id"),
  OIDC_CLIENT_SECRET: v(Str, "OIDC client secret"),
  OIDC_REDIRECT_URI: v(HttpUrl, "OIDC callback URL; default PUBLIC_URL + /auth/oidc/callback", { allowed: "an http:// or https:// URL" }),
  OIDC_DISABLE_PASSWORD_LOGIN: v(Bool, "Hide the password form and refuse password login", { default: false }),
  // Integrations
  GIPHY_API_KEY: v(Str, "Giphy API key for GIF search (kept on the server: the browser asks Hearth, which asks Giphy); unset = no GIF button, GIF routes 404"),
  GIPHY_RATING: v(oneOf("g", "pg", "pg-13", "r"), "Highest Giphy content rating GIF search returns", { default: "g" }),
  GITHUB_API_TOKEN: v(Str, "GitHub token for feedback issues"),
  GITHUB_REPO_OWNER: v(Str, "GitHub owner for feedback issues"),
  GITHUB_REPO_NAME: v(Str, "GitHub repository for feedback issues"),
  // Web push
  VAPID_PRIVATE_KEY: v(Str, "Base64 or base64url ECDSA P-256 private key for web push (32 bytes; npx web-push generate-vapid-keys); unset = push off", { allowed: "the base64url private key printed by npx web-push generate-vapid-keys" }),
  VAPID_PUBLIC_KEY: v(Str, "Base64 or base64url ECDSA P-256 public key for web push (65 bytes, uncompressed); unset = push off", { allowed: "the base64url public key printed by npx web-push generate-vapid-keys" }),
  VAPID_SUBJECT: v(t.String({ pattern: "^(mailto:[^\\s@]+@[^\\s@]+|https://[^\\s]+)$" }), "Contact push services may use (RFC 8292): a mailto: address or https: URL; default PUBLIC_URL when it is https://", { allowed: "mailto:you@example.com or an https:// URL" }),
  // Email
  SMTP_HOST: v(Str, "SMTP relay host (email disabled unless SMTP_HOST and EMAIL_FROM are set)"),
  SMTP_PORT: v(Int(1, 65_535), "SMTP port", { default: 587 }),
  SMTP_USERNAME: v(Str, "SMTP username"),
  SMTP_PASSWORD: v(Str, "SMTP password (else read from /run/secrets/smtp_password)"),
  SMTP_TLS: v(Bool, "true = STARTTLS + auth; false = plaintext (local catchers only)", { default: true }),
  EMAIL_FROM: v(Str, "Envelope and From: address"),
  EMAIL_FROM_NAME: v(Str, "Display name in the From: header", { default: "Hearth" }),
  // Voice & video
  TURN_AUTH_SECRET: v(Str, "Shared HMAC secret with coturn (use-auth-secret)"),
  TURN_URLS: v(Str, "Comma-separated turn:/turns: URLs returned to clients"),
  TURN_CREDENTIAL_TTL_SECS: v(t.Integer(), "Lifetime of minted TURN credentials, clamped to 60-86400", { default: 3600, allowed: "an integer (clamped to 60-86400)" }),
  TURN_EXTERNAL_IP: v(Str, "Public IP coturn advertises"),
  TURN_LISTENING_PORT: v(Int(1, 65_535), "Plaintext STUN/TURN port", { default: 3478 }),
  TURN_TLS_PORT: v(Int(1, 65_535), "TLS/DTLS STUN/TURN port", { default: 5349 }),
  ICE_SERVERS: v(Str, "Deprecated: JSON array of RTCIceServer objects", { allowed: "a JSON array of {urls, username?, credential?}" }),
  // Compose-only (declared so the names never drift; the server does not use them)
  CLOUDFLARE_TUNNEL_TOKEN: v(Str, "Cloudflare Tunnel token (compose only)"),
  DB_PASSWORD: v(Str, "PostgreSQL password used by compose to build DATABASE_URL (compose only)"),
  HEARTH_IMAGE: v(Str, "The hearth service's image: built here or pulled from a registry (compose only)"),
  UPDATER_SCHEDULE: v(Str, "When the updater profile checks for a new image, 6-field cron (compose only)"),
} as const;

export type EnvName = keyof typeof ENV_SPEC;

/**
 * Variables of features that are not in this version, and the feature each belongs to. They are
 * validated like the others (a typo is caught before the feature exists) but nothing reads them:
 * setting one logs a warning at boot naming it. Building a feature deletes its entries;
 * test/config.test.ts keeps the list true (every Config field no module reads comes only from
 * variables listed here, and every variable listed here feeds only such fields).
 */
export const PLANNED_VARIABLES = {
} as const satisfies Partial<Record<EnvName, string>>;

/** The boot warning for a planned variable that is set. */
export function plannedVariableWarning(name: keyof typeof PLANNED_VARIABLES): string {
  return `${name} is set, but ${PLANNED_VARIABLES[name]} is not in this version: Hearth does not use it yet`;
}
type EnvValues = { [K in EnvName]: Static<(typeof ENV_SPEC)[K]["schema"]> | undefined };

/** Where encrypted file blobs live: the local directory (default) or an S3-compatible bucket. */
export type FileStorage =
  | Readonly<{ kind: "local"; path: string }>
  | Readonly<{ kind: "s3"; bucket: string; prefix: string; endpoint: string; region: string; accessKeyId: string; secretAccessKey: string }>;

export type IceServer = { urls: string | string[]; username?: string; credential?: string };

export type Config = Readonly<{
  version: string;
  production: boolean;
  listen: Readonly<{ hostname: string; port: number }>;
  publicUrl: string | undefined;
  /** Origin browsers send for same-site requests; derived from PUBLIC_URL when set. */
  publicOrigin: string | undefined;
  secureCookies: boolean;
  staticDir: string;
  logLevel: "debug" | "info" | "warn" | "error";
  dataDir: string;
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  /** GET /metrics: on its own listener (`listen`), or on the public address behind `token`; neither = not served. */
  metrics: Readonly<{ listen: Readonly<{ hostname: string; port: number }> | undefined; token: string | undefined }>;
  trustedProxies: readonly string[];
  /** Lower-case header name (or "none"): the only place a trusted proxy's client IP is read from. */
  clientIpHeader: ClientIpHeader;
  jwt: Readonly<{ privateKeyPath: string | undefined; publicKeyPath: string | undefined }>;
  totpEncryptionKey: string | undefined;
  registrationMode: "open" | "invite_only" | "closed";
  adminUsername: string | undefined;
  setupToken: string | undefined;
  communityCreationMode: "anyone" | "admin_only";
  /** Days the audit log is kept; 0 = forever (features/audit). */
  auditRetentionDays: number;
  files: Readonly<{ storagePath: string; storage: FileStorage; maxFileSizeBytes: number; uploadQuotaBytes: number }>;
  oidc: Readonly<{ issuerUrl: string; clientId: string; clientSecret: string; redirectUri: string | undefined; disablePasswordLogin: boolean }> | undefined;
  giphyApiKey: string | undefined;
  /** Giphy's `rating` parameter for search and trending (src/features/gifs). */
  giphyRating: "g" | "pg" | "pg-13" | "r";
  github: Readonly<{ token: string; owner: string; repo: string }> | undefined;
  /** Web push (docs/notifications.md): both keys base64url, the pair checked at boot; unset = push off and hidden. */
  vapid: Readonly<{ privateKey: string; publicKey: string; subject: string }> | undefined;
  smtp: Readonly<{ host: string; port: number; username: string | undefined; password: string | undefined; tls: boolean; from: string; fromName: string }> | undefined;
  turn: Readonly<{ authSecret: string | undefined; urls: readonly string[]; credentialTtlSecs: number; externalIp: string | undefined; listeningPort: number; tlsPort: number }>;
  iceServers: readonly IceServer[] | undefined;
}>;

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** Human text for what a variable accepts, derived from its schema unless given. */
function describeAllowed(spec: Spec<TSchema>): string {
  if (spec.allowed) return spec.allowed;
  const s = spec.schema as TSchema & { anyOf?: { const: string }[]; minimum?: number; maximum?: number; type?: string; minLength?: number };
  if (s.anyOf) return `one of: ${s.anyOf.map((x) => x.const).join(", ")}`;
  if (s.type === "integer") return s.minimum !== undefined ? `an integer from ${s.minimum} to ${s.maximum}` : "an integer";
  if (s.type === "boolean") return "true or false";
  return "a non-empty string";
}

/** Parses one variable; returns its value or a problem line. Empty strings count as unset. */
function parseVar(name: EnvName, raw: string | undefined): { value?: unknown; problem?: string } {
  const spec = ENV_SPEC[name] as Spec<TSchema>;
  if (raw === undefined || raw.trim() === "") return { value: spec.default };
  const trimmed = raw.trim();
  const converted = Value.Convert(spec.schema, trimmed);
  if (Value.Check(spec.schema, converted)) return { value: converted };
  const shown = name === "TOTP_ENCRYPTION_KEY" || name.includes("SECRET") || name.includes("PASSWORD") || name.includes("TOKEN") ? "(hidden)" : JSON.stringify(trimmed);
  return { problem: `${name}=${shown} is invalid: expected ${describeAllowed(spec)}` };
}

const LEVELS = ["debug", "info", "warn", "error"] as const;

/** RUST_LOG uses tracing syntax (`crate=info,tower=debug`): take the most verbose level word present. */
function levelFromRustLog(rustLog: string | undefined): Config["logLevel"] | undefined {
  if (!rustLog) return undefined;
  const words = rustLog.toLowerCase().match(/trace|debug|info|warn|error/g) ?? [];
  const mapped = words.map((w) => (w === "trace" ? "debug" : w) as Config["logLevel"]);
  return LEVELS.find((l) => mapped.includes(l));
}

/** Validates an IP or CIDR (IPv4 or IPv6). */
export function isIpOrCidr(entry: string): boolean {
  const [ip, bits, ...rest] = entry.split("/");
  if (rest.length > 0 || !ip) return false;
  const family = isIP(ip);
  if (family === 0) return false;
  if (bits === undefined) return true;
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

function parseListenAddr(addr: string): { hostname: string; port: number } | undefined {
  const idx = addr.lastIndexOf(":");
  let hostname = addr.slice(0, idx);
  const port = Number(addr.slice(idx + 1));
  if (hostname.startsWith("[") && hostname.endsWith("]")) hostname = hostname.slice(1, -1);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) return undefined;
  if (isIP(hostname) === 0 && !/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9-]{1,63})*$/.test(hostname)) return undefined;
  return { hostname, port };
}

// A prefix is "/"-separated segments that never start with a dot (no "." or ".." segments).
const S3_URL = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/([A-Za-z0-9_-][A-Za-z0-9._-]*(?:\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*)?\/?)?$/;
const S3_VARIABLES = ["S3_ENDPOINT", "S3_REGION", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"] as const;
const LOOPBACK_HOST = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/;

/**
 * FILE_STORAGE_URL selects the blob store: unset = the local directory, s3://bucket[/prefix] = an
 * S3-compatible bucket with the S3_* variables. Every inconsistent combination is a problem (the
 * server must not silently write files somewhere the operator did not mean), and neither the URL
 * nor the secret is ever echoed when it could carry credentials.
 */
function parseFileStorage(
  e: EnvValues,
  env: Record<string, string | undefined>,
  localPath: string,
  production: boolean,
  warnings: ConfigWarnings,
): { value?: FileStorage; problems: string[] } {
  const problems: string[] = [];
  const url = e.FILE_STORAGE_URL;
  const s3Set = S3_VARIABLES.filter((name) => env[name]?.trim());
  if (url === undefined) {
    if (s3Set.length > 0) problems.push(`${s3Set.join(", ")} ${s3Set.length > 1 ? "are" : "is"} set but FILE_STORAGE_URL is not: set FILE_STORAGE_URL=s3://bucket[/prefix] to store files in S3-compatible storage, or unset ${s3Set.length > 1 ? "them" : "it"} to keep files in FILE_STORAGE_PATH`);
    return { value: { kind: "local", path: localPath }, problems };
  }
  const match = S3_URL.exec(url);
  if (!match) {
    const shown = url.includes("@") ? "(hidden: credentials belong in S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY)" : JSON.stringify(url);
    problems.push(`FILE_STORAGE_URL=${shown} is invalid: expected s3://bucket or s3://bucket/prefix (bucket: 3-63 lowercase letters, digits, dots and hyphens; prefix: /-separated names of letters, digits, . _ - not starting with a dot); unset = files on local disk in FILE_STORAGE_PATH`);
  }
  for (const name of ["S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"] as const) {
    if (!e[name]) problems.push(`${name} is required when FILE_STORAGE_URL is an s3:// URL`);
  }
  const region = e.S3_REGION ?? "us-east-1";
  let endpoint = `https://s3.${region}.amazonaws.com`;
  if (e.S3_ENDPOINT) {
    const parsed = URL.parse(e.S3_ENDPOINT);
    if (!parsed || (parsed.pathname !== "/" && parsed.pathname !== "") || parsed.search || parsed.username || parsed.password) {
      problems.push(`S3_ENDPOINT is invalid: expected the service's origin only, e.g. https://s3.example.com or http://127.0.0.1:9000 (the bucket goes in FILE_STORAGE_URL)`);
    } else {
      endpoint = parsed.origin;
      if (production && parsed.protocol === "http:" && !LOOPBACK_HOST.test(parsed.host.replace(/:\d+$/, ""))) {
        warnings.push(`S3_ENDPOINT uses plain http to ${parsed.host}: file ciphertext and request metadata cross the network unencrypted; prefer https`);
      }
    }
  }
  if (problems.length > 0) return { problems };
  if (e.FILE_STORAGE_PATH) warnings.push("FILE_STORAGE_PATH is ignored: FILE_STORAGE_URL stores files in S3-compatible storage");
  // Bun's S3 client adds a session token from the environment on its own (verified on 1.4.5).
  for (const name of ["AWS_SESSION_TOKEN", "S3_SESSION_TOKEN"]) {
    if (env[name]?.trim()) warnings.push(`${name} is set in the environment: Bun's S3 client sends it with every request to the file storage; unset it unless the access key needs it`);
  }
  const prefix = match![2] ?? "";
  return {
    value: { kind: "s3", bucket: match![1]!, prefix: prefix ? `${prefix}/` : "", endpoint, region, accessKeyId: e.S3_ACCESS_KEY_ID!, secretAccessKey: e.S3_SECRET_ACCESS_KEY! },
    problems,
  };
}

/** Base64 (standard or url-safe, padded or not) to bytes; undefined when it is neither. */
function decodeBase64Key(raw: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(raw)) return undefined;
  return Buffer.from(raw.replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_"), "base64url");
}

/**
 * VAPID_PRIVATE_KEY + VAPID_PUBLIC_KEY (seeds/001): both or neither. Each must decode to a P-256
 * key of the right length, and the public key must be the private key's own: a mismatched pair
 * would sign tokens every push service rejects, found only when the first push fails. Keys are
 * normalised to base64url without padding (what web-push and PushManager.subscribe take).
 */
function parseVapid(e: EnvValues, subjectInvalid: boolean): { value?: Config["vapid"]; problems: string[] } {
  const priv = e.VAPID_PRIVATE_KEY;
  const pub = e.VAPID_PUBLIC_KEY;
  if (!priv && !pub) return { problems: [] };
  const generate = "generate a pair with: npx web-push generate-vapid-keys";
  if (!priv || !pub) return { problems: [`${priv ? "VAPID_PUBLIC_KEY" : "VAPID_PRIVATE_KEY"} is required when ${priv ? "VAPID_PRIVATE_KEY" : "VAPID_PUBLIC_KEY"} is set (web push needs both; unset both to turn push off): ${generate}`] };
  const problems: string[] = [];
  const privBytes = decodeBase64Key(priv);
  const pubBytes = decodeBase64Key(pub);
  if (!privBytes || privBytes.length !== 32) problems.push(`VAPID_PRIVATE_KEY=(hidden) is invalid: expected a base64url P-256 private key (32 bytes); ${generate}`);
  if (!pubBytes || pubBytes.length !== 65 || pubBytes[0] !== 4) problems.push(`VAPID_PUBLIC_KEY=${JSON.stringify(pub)} is invalid: expected a base64url uncompressed P-256 public key (65 bytes starting with 0x04); ${generate}`);
  if (problems.length > 0) return { problems };
  let derived: Buffer | undefined;
  try {
    const ecdh = createECDH("prime256v1");
    ecdh.setPrivateKey(privBytes!);
    derived = ecdh.getPublicKey();
  } catch {
    return { problems: [`VAPID_PRIVATE_KEY=(hidden) is invalid: not a valid P-256 private key; ${generate}`] };
  }
  if (!derived.equals(pubBytes!)) return { problems: ["VAPID_PUBLIC_KEY does not belong to VAPID_PRIVATE_KEY: set both from one pair (npx web-push generate-vapid-keys)"] };
  const subject = e.VAPID_SUBJECT ?? (e.PUBLIC_URL?.startsWith("https://") ? e.PUBLIC_URL.replace(/\/+$/, "") : undefined);
  if (!subject) return { problems: subjectInvalid ? [] : ["VAPID_SUBJECT is required with the VAPID keys when PUBLIC_URL is not an https:// URL: set it to mailto:you@example.com or an https:// URL (push services use it to contact you)"] };
  return { value: { privateKey: privBytes!.toString("base64url"), publicKey: pubBytes!.toString("base64url"), subject }, problems };
}

/** A STUN/TURN URL as RTCIceServer takes it (RFC 7064 / 7065): scheme, host, optional port and transport. */
const ICE_URL = /^(stuns?|turns?):(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?(\?transport=(udp|tcp))?$/;
const MAX_ICE_SERVERS = 10;

export function isIceUrl(url: string): boolean {
  return url.length <= 256 && ICE_URL.test(url);
}

/** Comma-separated TURN_URLS: each a turn:/turns: URL (stun: entries belong in ICE_SERVERS). */
function parseTurnUrls(raw: string | undefined): { value: string[]; problem?: string } {
  const urls = (raw ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  const bad = urls.filter((u) => !isIceUrl(u) || !u.startsWith("turn"));
  if (bad.length === 0) return { value: urls };
  return { value: [], problem: `TURN_URLS has invalid entries ${JSON.stringify(bad)}: expected comma-separated turn: or turns: URLs, e.g. turns:turn.example.com:5349,turn:turn.example.com:3478` };
}

/**
 * The deprecated ICE_SERVERS: a JSON array of RTCIceServer objects, checked at boot as strictly
 * as a browser would (a bad entry would otherwise make every RTCPeerConnection of every client
 * throw): urls are stun:/stuns:/turn:/turns: URLs, and a TURN entry carries a username and credential.
 */
function parseIceServers(raw: string | undefined): { value?: IceServer[]; problem?: string } {
  if (raw === undefined) return {};
  const problem = `ICE_SERVERS is invalid: expected a JSON array of at most ${MAX_ICE_SERVERS} {urls, username?, credential?} with stun:, stuns:, turn: or turns: URLs (TURN entries need username and credential)`;
  try {
    const parsed: unknown = JSON.parse(raw);
    const entryOk = (s: unknown) => {
      if (typeof s !== "object" || s === null || Array.isArray(s)) return false;
      const e = s as Record<string, unknown>;
      if (Object.keys(e).some((k) => k !== "urls" && k !== "username" && k !== "credential")) return false;
      const urls = typeof e.urls === "string" ? [e.urls] : e.urls;
      if (!Array.isArray(urls) || urls.length === 0 || !urls.every((u) => typeof u === "string" && isIceUrl(u))) return false;
      if (e.username !== undefined && (typeof e.username !== "string" || e.username.length > 512)) return false;
      if (e.credential !== undefined && (typeof e.credential !== "string" || e.credential.length > 512)) return false;
      const turn = urls.some((u: string) => u.startsWith("turn"));
      return !turn || (typeof e.username === "string" && typeof e.credential === "string");
    };
    const ok = Array.isArray(parsed) && parsed.length <= MAX_ICE_SERVERS && parsed.every(entryOk);
    return ok ? { value: parsed as IceServer[] } : { problem };
  } catch {
    return { problem };
  }
}

export type ConfigWarnings = string[];

/**
 * Validates the whole environment at once. Throws ConfigError listing every bad variable.
 * `warnings` receives non-fatal notes (e.g. a clamped TURN TTL, OIDC partially configured).
 */
export function loadConfig(env: Record<string, string | undefined>, warnings: ConfigWarnings = []): Config {
  const problems: string[] = [];
  const values = {} as Record<EnvName, unknown>;
  for (const name of Object.keys(ENV_SPEC) as EnvName[]) {
    const { value, problem } = parseVar(name, env[name]);
    if (problem) problems.push(problem);
    values[name] = value;
  }
  const e = values as EnvValues;

  const listen = e.LISTEN_ADDR ? parseListenAddr(e.LISTEN_ADDR) : undefined;
  if (e.LISTEN_ADDR && !listen && !problems.some((p) => p.startsWith("LISTEN_ADDR="))) {
    problems.push(`LISTEN_ADDR=${JSON.stringify(e.LISTEN_ADDR)} is invalid: expected host:port, e.g. 0.0.0.0:8080 or [::]:8080`);
  }
  const metricsListen = e.METRICS_ADDR ? parseListenAddr(e.METRICS_ADDR) : undefined;
  if (e.METRICS_ADDR && !metricsListen && !problems.some((p) => p.startsWith("METRICS_ADDR="))) {
    problems.push(`METRICS_ADDR=${JSON.stringify(e.METRICS_ADDR)} is invalid: expected host:port, e.g. 127.0.0.1:9464`);
  }
  const trustedProxies = (e.TRUSTED_PROXIES ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  const badProxies = trustedProxies.filter((p) => !isIpOrCidr(p));
  if (badProxies.length > 0) problems.push(`TRUSTED_PROXIES has invalid entries ${JSON.stringify(badProxies)}: expected comma-separated IP addresses or CIDR ranges`);
  // Header names are case-insensitive, so is this setting.
  const clientIpHeader = CLIENT_IP_HEADERS.find((h) => h.toLowerCase() === (e.CLIENT_IP_HEADER ?? "X-Forwarded-For").toLowerCase())?.toLowerCase() as ClientIpHeader | undefined;
  if (!clientIpHeader) problems.push(`CLIENT_IP_HEADER=${JSON.stringify(e.CLIENT_IP_HEADER)} is invalid: expected one of: ${CLIENT_IP_HEADERS.join(", ")}`);
  const ice = parseIceServers(env.ICE_SERVERS?.trim() || undefined);
  if (ice.problem) problems.push(ice.problem);
  const turnUrls = parseTurnUrls(e.TURN_URLS);
  if (turnUrls.problem) problems.push(turnUrls.problem);
  const dataDir = resolve(e.DATA_DIR ?? "./data");
  const storagePath = resolve(e.FILE_STORAGE_PATH ?? join(dataDir, "files"));
  const storage = parseFileStorage(e, env, storagePath, e.NODE_ENV === "production", warnings);
  problems.push(...storage.problems);
  const vapid = parseVapid(e, problems.some((p) => p.startsWith("VAPID_SUBJECT=")));
  problems.push(...vapid.problems);

  if (problems.length > 0) throw new ConfigError(problems);

  let ttl = e.TURN_CREDENTIAL_TTL_SECS ?? 3600;
  if (ttl < 60 || ttl > 86_400) {
    const clamped = Math.min(86_400, Math.max(60, ttl));
    warnings.push(`TURN_CREDENTIAL_TTL_SECS=${ttl} is outside 60-86400; using ${clamped}`);
    ttl = clamped;
  }
  const oidcParts = [e.OIDC_ISSUER_URL, e.OIDC_CLIENT_ID, e.OIDC_CLIENT_SECRET];
  const oidcEnabled = oidcParts.every(Boolean);
  if (!oidcEnabled && oidcParts.some(Boolean)) {
    warnings.push("OIDC is disabled: OIDC_ISSUER_URL, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET must all be set");
  }
  if (e.ICE_SERVERS) warnings.push("ICE_SERVERS is deprecated; prefer TURN_AUTH_SECRET + TURN_URLS");
  for (const name of Object.keys(PLANNED_VARIABLES) as (keyof typeof PLANNED_VARIABLES)[]) {
    if (env[name]?.trim()) warnings.push(plannedVariableWarning(name));
  }
  // A secret alone is the normal state of an install without the turn profile (generate-secrets.sh
  // always writes one); URLs without a secret would hand clients a TURN server they cannot use.
  if (turnUrls.value.length > 0 && !e.TURN_AUTH_SECRET) warnings.push("TURN_URLS is set but TURN_AUTH_SECRET is not: clients get STUN only until both are set");

  const publicUrl = e.PUBLIC_URL?.replace(/\/+$/, "");
  const smtpEnabled = Boolean(e.SMTP_HOST && e.EMAIL_FROM);
  const config: Config = {
    version: pkg.version,
    production: e.NODE_ENV === "production",
    listen: listen ?? { hostname: "0.0.0.0", port: 8080 },
    publicUrl,
    publicOrigin: publicUrl ? new URL(publicUrl).origin : undefined,
    secureCookies: publicUrl?.startsWith("https://") ?? false,
    staticDir: resolve(e.STATIC_FILES_PATH ?? "./public"),
    logLevel: env.LOG_LEVEL?.trim() ? (e.LOG_LEVEL ?? "info") : (levelFromRustLog(e.RUST_LOG) ?? "info"),
    dataDir,
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    metrics: { listen: metricsListen, token: e.METRICS_TOKEN },
    trustedProxies,
    clientIpHeader: clientIpHeader!,
    jwt: { privateKeyPath: e.JWT_PRIVATE_KEY_PATH, publicKeyPath: e.JWT_PUBLIC_KEY_PATH },
    totpEncryptionKey: e.TOTP_ENCRYPTION_KEY?.toLowerCase(),
    registrationMode: e.REGISTRATION_MODE ?? "invite_only",
    adminUsername: e.ADMIN_USERNAME,
    setupToken: e.SETUP_TOKEN,
    communityCreationMode: e.COMMUNITY_CREATION_MODE === "admin_only" || e.COMMUNITY_CREATION_MODE === undefined ? "admin_only" : "anyone",
    auditRetentionDays: e.AUDIT_RETENTION_DAYS ?? 0,
    files: {
      storagePath,
      storage: storage.value!,
      maxFileSizeBytes: (e.MAX_FILE_SIZE_MB ?? 100) * 1024 * 1024,
      uploadQuotaBytes: (e.UPLOAD_QUOTA_MB ?? 500) * 1024 * 1024,
    },
    oidc: oidcEnabled
      ? {
          issuerUrl: e.OIDC_ISSUER_URL!,
          clientId: e.OIDC_CLIENT_ID!,
          clientSecret: e.OIDC_CLIENT_SECRET!,
          redirectUri: e.OIDC_REDIRECT_URI ?? (publicUrl ? `${publicUrl}/auth/oidc/callback` : undefined),
          disablePasswordLogin: e.OIDC_DISABLE_PASSWORD_LOGIN ?? false,
        }
      : undefined,
    giphyApiKey: e.GIPHY_API_KEY,
    giphyRating: e.GIPHY_RATING ?? "g",
    github: e.GITHUB_API_TOKEN && e.GITHUB_REPO_OWNER && e.GITHUB_REPO_NAME ? { token: e.GITHUB_API_TOKEN, owner: e.GITHUB_REPO_OWNER, repo: e.GITHUB_REPO_NAME } : undefined,
    vapid: vapid.value,
    smtp: smtpEnabled
      ? { host: e.SMTP_HOST!, port: e.SMTP_PORT ?? 587, username: e.SMTP_USERNAME, password: e.SMTP_PASSWORD, tls: e.SMTP_TLS ?? true, from: e.EMAIL_FROM!, fromName: e.EMAIL_FROM_NAME ?? "Hearth" }
      : undefined,
    turn: {
      authSecret: e.TURN_AUTH_SECRET,
      urls: turnUrls.value,
      credentialTtlSecs: ttl,
      externalIp: e.TURN_EXTERNAL_IP,
      listeningPort: e.TURN_LISTENING_PORT ?? 3478,
      tlsPort: e.TURN_TLS_PORT ?? 5349,
    },
    iceServers: ice.value,
  };
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
