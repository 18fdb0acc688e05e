import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { createECDH } from "node:crypto";
import { ConfigError, ENV_SPEC, loadConfig, PLANNED_VARIABLES, type Config, type EnvName } from "../src/config.ts";

const problemsOf = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
};

describe("loadConfig", () => {
  test("defaults match the seeds", () => {
    const c = loadConfig({});
    expect(c.listen).toEqual({ hostname: "0.0.0.0", port: 8080 });
    expect(c.registrationMode).toBe("invite_only");
    expect(c.communityCreationMode).toBe("admin_only");
    expect(c.files.maxFileSizeBytes).toBe(100 * 1024 * 1024);
    expect(c.files.uploadQuotaBytes).toBe(500 * 1024 * 1024);
    expect(c.turn.credentialTtlSecs).toBe(3600);
    expect(c.turn.listeningPort).toBe(3478);
    expect(c.turn.tlsPort).toBe(5349);
    expect(c.smtp).toBeUndefined();
    expect(c.oidc).toBeUndefined();
    expect(c.logLevel).toBe("info");
    expect(c.trustedProxies).toEqual(["127.0.0.0/8", "::1"]);
    expect(c.production).toBe(false);
    expect(Object.isFrozen(c) && Object.isFrozen(c.listen)).toBe(true);
  });

  test("every bad variable is listed at once with its allowed values", () => {
    const problems = problemsOf({
      REGISTRATION_MODE: "maybe",
      MAX_FILE_SIZE_MB: "-3",
      LISTEN_ADDR: "nonsense",
      TOTP_ENCRYPTION_KEY: "abc123",
      TRUSTED_PROXIES: "10.0.0.0/8,not-an-ip",
      ICE_SERVERS: "{oops",
    });
    expect(problems).toHaveLength(6);
    expect(problems.find((p) => p.startsWith("REGISTRATION_MODE"))).toContain("one of: open, invite_only, closed");
    expect(problems.find((p) => p.startsWith("MAX_FILE_SIZE_MB"))).toContain("an integer from 1 to 10000");
    expect(problems.find((p) => p.startsWith("LISTEN_ADDR"))).toContain("host:port");
    const totp = problems.find((p) => p.startsWith("TOTP_ENCRYPTION_KEY"))!;
    expect(totp).toContain("64 hexadecimal characters");
    expect(totp).not.toContain("abc123"); // secrets are never echoed
    expect(problems.find((p) => p.startsWith("TRUSTED_PROXIES"))).toContain("not-an-ip");
  });

  test("CLIENT_IP_HEADER: default X-Forwarded-For, any case accepted, anything else stops boot with the allowed values", () => {
    expect(loadConfig({}).clientIpHeader).toBe("x-forwarded-for");
    expect(loadConfig({ CLIENT_IP_HEADER: "cf-connecting-ip" }).clientIpHeader).toBe("cf-connecting-ip");
    expect(loadConfig({ CLIENT_IP_HEADER: "X-Real-IP" }).clientIpHeader).toBe("x-real-ip");
    expect(loadConfig({ CLIENT_IP_HEADER: "NONE" }).clientIpHeader).toBe("none");
    for (const bad of ["True-Client-IP", "X-Forwarded-For,CF-Connecting-IP", "forwarded"]) {
      const problems = problemsOf({ CLIENT_IP_HEADER: bad, LOG_LEVEL: "loud" });
      expect(problems).toHaveLength(2); // listed with every other bad variable
      expect(problems.find((p) => p.startsWith("CLIENT_IP_HEADER"))).toBe(`CLIENT_IP_HEADER=${JSON.stringify(bad)} is invalid: expected one of: X-Forwarded-For, X-Real-IP, CF-Connecting-IP, none`);
    }
  });

  test("the error message names every variable", () => {
    expect(() => loadConfig({ LOG_LEVEL: "loud", SMTP_PORT: "70000" })).toThrow(/LOG_LEVEL[\s\S]*SMTP_PORT/);
  });

  test("TURN_CREDENTIAL_TTL_SECS is clamped to 60-86400 with a warning", () => {
    const warnings: string[] = [];
    expect(loadConfig({ TURN_CREDENTIAL_TTL_SECS: "5" }, warnings).turn.credentialTtlSecs).toBe(60);
    expect(loadConfig({ TURN_CREDENTIAL_TTL_SECS: "999999" }, warnings).turn.credentialTtlSecs).toBe(86_400);
    expect(warnings.filter((w) => w.includes("outside 60-86400"))).toHaveLength(2);
    expect(problemsOf({ TURN_CREDENTIAL_TTL_SECS: "soon" })).toHaveLength(1);
  });

  test("ICE_SERVERS is checked at boot as strictly as a browser would take it", () => {
    const ok = (value: unknown) => problemsOf({ ICE_SERVERS: JSON.stringify(value) });
    expect(ok([{ urls: "stun:stun.example.com:3478" }])).toEqual([]);
    expect(ok([{ urls: ["turn:t.example.com:3478?transport=tcp", "turns:[2001:db8::1]:5349"], username: "u", credential: "c" }])).toEqual([]);
    for (const bad of [
      { urls: "http://stun.example.com" }, // not an ICE URL
      { urls: "turn:t.example.com:3478" }, // a TURN server without username and credential
      { urls: [] },
      { urls: "stun:a.example.com", password: "x" }, // unknown field (a typo of credential)
      { urls: "stun:a b" },
    ]) {
      const problems = ok([bad]);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toStartWith("ICE_SERVERS is invalid");
    }
    expect(ok(Array.from({ length: 11 }, () => ({ urls: "stun:s.example.com" })))).toHaveLength(1);
    expect(problemsOf({ ICE_SERVERS: "{oops" })).toHaveLength(1);
  });

  test("TURN_URLS takes turn:/turns: URLs only; URLs without a secret warn (clients get STUN only)", () => {
    expect(problemsOf({ TURN_URLS: "turns:t.example.com:5349,turn:t.example.com:3478?transport=udp" })).toEqual([]);
    for (const bad of ["stun:t.example.com:3478", "https://t.example.com", "turn:", "turn:t.example.com:3478,nonsense"]) {
      const problems = problemsOf({ TURN_URLS: bad });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toContain("TURN_URLS has invalid entries");
    }
    const warnings: string[] = [];
    loadConfig({ TURN_URLS: "turn:t.example.com:3478" }, warnings);
    expect(warnings).toContain("TURN_URLS is set but TURN_AUTH_SECRET is not: clients get STUN only until both are set");
    const quiet: string[] = [];
    loadConfig({ TURN_AUTH_SECRET: "s".repeat(64) }, quiet); // the normal state without the turn profile
    expect(quiet).toEqual([]);
  });

  test("values are parsed and typed", () => {
    const c = loadConfig({
      LISTEN_ADDR: "[::1]:9000",
      PUBLIC_URL: "https://chat.example.com/",
      OIDC_ISSUER_URL: "https://id.example.com",
      OIDC_CLIENT_ID: "hearth",
      OIDC_CLIENT_SECRET: "s",
      OIDC_DISABLE_PASSWORD_LOGIN: "true",
      SMTP_HOST: "smtp.example.com",
      EMAIL_FROM: "noreply@example.com",
      SMTP_TLS: "false",
      TURN_URLS: "turns:t.example.com:5349, turn:t.example.com:3478",
      ICE_SERVERS: '[{"urls":"stun:stun.example.com:3478"}]',
      COMMUNITY_CREATION_MODE: "open",
    });
    expect(c.listen).toEqual({ hostname: "::1", port: 9000 });
    expect(c.publicUrl).toBe("https://chat.example.com");
    expect(c.publicOrigin).toBe("https://chat.example.com");
    expect(c.secureCookies).toBe(true);
    expect(c.oidc?.redirectUri).toBe("https://chat.example.com/auth/oidc/callback");
    expect(c.oidc?.disablePasswordLogin).toBe(true);
    expect(c.smtp?.tls).toBe(false);
    expect(c.turn.urls).toEqual(["turns:t.example.com:5349", "turn:t.example.com:3478"]);
    expect(c.iceServers).toEqual([{ urls: "stun:stun.example.com:3478" }]);
    expect(c.communityCreationMode).toBe("anyone");
  });

  test("METRICS_ADDR and METRICS_TOKEN: off by default, parsed when set, a bad value named (the token never echoed)", () => {
    expect(loadConfig({}).metrics).toEqual({ listen: undefined, token: undefined });
    const token = "0123456789abcdef0123456789abcdef";
    expect(loadConfig({ METRICS_ADDR: "127.0.0.1:9464", METRICS_TOKEN: token }).metrics).toEqual({ listen: { hostname: "127.0.0.1", port: 9464 }, token });
    expect(loadConfig({ METRICS_ADDR: "[::1]:9464" }).metrics.listen).toEqual({ hostname: "::1", port: 9464 });
    const problems = problemsOf({ METRICS_ADDR: "9464", METRICS_TOKEN: "short secret" });
    expect(problems.find((p) => p.startsWith("METRICS_ADDR="))).toContain("host:port");
    expect(problems.find((p) => p.startsWith("METRICS_TOKEN="))).toBe("METRICS_TOKEN=(hidden) is invalid: expected 16 to 256 printable characters without spaces (openssl rand -hex 32)");
  });

  test("OIDC stays off unless all three of issuer, id and secret are set", () => {
    const warnings: string[] = [];
    expect(loadConfig({ OIDC_ISSUER_URL: "https://id.example.com" }, warnings).oidc).toBeUndefined();
    expect(warnings.join()).toContain("OIDC is disabled");
  });

  test("RUST_LOG is a legacy alias only when LOG_LEVEL is unset", () => {
    expect(loadConfig({ RUST_LOG: "chatalot_server=debug,tower_http=info" }).logLevel).toBe("debug");
    expect(loadConfig({ RUST_LOG: "debug", LOG_LEVEL: "warn" }).logLevel).toBe("warn");
  });

  test(".env.example documents exactly the variables config.ts declares", () => {
    let text: string;
    try {
      text = readFileSync(new URL("../.env.example", import.meta.url), "utf8");
    } catch {
      throw new Error(".env.example is missing");
    }
    const documented = new Set([...text.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]));
    const declared = Object.keys(ENV_SPEC);
    expect(declared.filter((name) => !documented.has(name))).toEqual([]);
    expect([...documented].filter((name) => !declared.includes(name!))).toEqual([]);
  });
});

describe("planned variables (features not in this version)", () => {
  const planned = Object.keys(PLANNED_VARIABLES) as (keyof typeof PLANNED_VARIABLES)[];
  /** A valid value for each planned variable, from its schema. */
  const sample = (name: EnvName): string => {
    if (name === "ICE_SERVERS") return '[{"urls":"stun:stun.example.com:3478"}]';
    const schema = ENV_SPEC[name].schema as { type?: string; minimum?: number };
    if (schema.type === "integer") return String(Math.max(100, schema.minimum ?? 0));
    if (schema.type === "boolean") return "true";
    return "set-by-test";
  };

  test("setting one logs a warning at boot naming it and saying its feature is not in this version; a built feature's variable logs none", () => {
    // Built since they were planned (issue 18): setting one alone warns of nothing "not in this version".
    const built = ["GIPHY_API_KEY", "GIPHY_RATING", "GITHUB_API_TOKEN", "GITHUB_REPO_OWNER", "GITHUB_REPO_NAME", "SMTP_HOST", "SMTP_PORT", "SMTP_USERNAME", "SMTP_TLS", "EMAIL_FROM", "EMAIL_FROM_NAME"].filter((n): n is EnvName => n in ENV_SPEC && !(n in PLANNED_VARIABLES));
    expect(built.length).toBeGreaterThan(0);
    for (const name of built) {
      const warnings: string[] = [];
      try {
        loadConfig({ [name]: sample(name) }, warnings);
      } catch {
        // Some need a companion (EMAIL_FROM with SMTP_HOST, say): refused at boot, not warned about.
      }
      expect({ name, planned: warnings.filter((w) => w.includes("is not in this version")) }).toEqual({ name, planned: [] });
    }
    for (const name of planned) {
      const warnings: string[] = [];
      loadConfig({ [name]: sample(name) }, warnings);
      const about = warnings.filter((w) => w.startsWith(`${name} is set`));
      expect({ name, about }).toEqual({ name, about: [`${name} is set, but ${PLANNED_VARIABLES[name]} is not in this version: Hearth does not use it yet`] });
    }
  });

  test("unset or empty, they log nothing", () => {
    const warnings: string[] = [];
    loadConfig(Object.fromEntries(planned.map((name) => [name, " "])), warnings);
    loadConfig({}, warnings);
    expect(warnings).toEqual([]);
  });

  // Which variables feed each Config field (typed: a new field must be added here).
  const SOURCES = {
    version: [], production: ["NODE_ENV"], listen: ["LISTEN_ADDR"], publicUrl: ["PUBLIC_URL"], publicOrigin: ["PUBLIC_URL"],
    secureCookies: ["PUBLIC_URL"], staticDir: ["STATIC_FILES_PATH"], logLevel: ["LOG_LEVEL", "RUST_LOG"], dataDir: ["DATA_DIR"],
    databaseUrl: ["DATABASE_URL"], redisUrl: ["REDIS_URL"], metrics: ["METRICS_ADDR", "METRICS_TOKEN"], trustedProxies: ["TRUSTED_PROXIES"], jwt: ["JWT_PRIVATE_KEY_PATH", "JWT_PUBLIC_KEY_PATH"],
    totpEncryptionKey: ["TOTP_ENCRYPTION_KEY"], registrationMode: ["REGISTRATION_MODE"], adminUsername: ["ADMIN_USERNAME"], setupToken: ["SETUP_TOKEN"],
    communityCreationMode: ["COMMUNITY_CREATION_MODE"],
    auditRetentionDays: ["AUDIT_RETENTION_DAYS"], clientIpHeader: ["CLIENT_IP_HEADER"], files: [] /* by sub-field: FILE_SOURCES */,
    oidc: ["OIDC_ISSUER_URL", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET", "OIDC_REDIRECT_URI", "OIDC_DISABLE_PASSWORD_LOGIN"], giphyApiKey: ["GIPHY_API_KEY"], giphyRating: ["GIPHY_RATING"],
    github: ["GITHUB_API_TOKEN", "GITHUB_REPO_OWNER", "GITHUB_REPO_NAME"], vapid: ["VAPID_PRIVATE_KEY", "VAPID_PUBLIC_KEY", "VAPID_SUBJECT", "PUBLIC_URL"],
    smtp: ["SMTP_HOST", "SMTP_PORT", "SMTP_USERNAME", "SMTP_PASSWORD", "SMTP_TLS", "EMAIL_FROM", "EMAIL_FROM_NAME"],
    turn: ["TURN_AUTH_SECRET", "TURN_URLS", "TURN_CREDENTIAL_TTL_SECS", "TURN_EXTERNAL_IP", "TURN_LISTENING_PORT", "TURN_TLS_PORT"], iceServers: ["ICE_SERVERS"],
  } satisfies Record<keyof Config, EnvName[]>;
  // The file settings are read one by one (the store exists before uploads do).
  const FILE_SOURCES = {
    storagePath: ["FILE_STORAGE_PATH"],
    storage: ["FILE_STORAGE_PATH", "FILE_STORAGE_URL", "S3_ENDPOINT", "S3_REGION", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"],
    maxFileSizeBytes: ["MAX_FILE_SIZE_MB"],
    uploadQuotaBytes: ["UPLOAD_QUOTA_MB"],
  } satisfies Record<keyof Config["files"], EnvName[]>;
  const FIELDS: [string, EnvName[]][] = [
    ...Object.entries(SOURCES).filter(([field]) => field !== "files"),
    ...Object.entries(FILE_SOURCES).map(([sub, names]) => [`files\\??\\.${sub}`, names] as [string, EnvName[]]),
  ];
  /** Read by compose.yml, never by the server. */
  const COMPOSE_ONLY: EnvName[] = ["CLOUDFLARE_TUNNEL_TOKEN", "DB_PASSWORD", "HEARTH_IMAGE", "UPDATER_SCHEDULE"];

  const root = resolve(import.meta.dir, "..");
  const sources = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return sources(path);
      return /\.tsx?$/.test(name) ? [path] : [];
    });
  // Everything that could read the config: the server, its views and the scripts (config.ts itself excluded).
  const code = [...sources(join(root, "src")), ...sources(join(root, "views")), ...sources(join(root, "scripts"))]
    .filter((path) => !path.endsWith(join("src", "config.ts")))
    .map((path) => readFileSync(path, "utf8"))
    .join("\n");
  const isRead = (field: string) => new RegExp(`\\bconfig\\??\\.${field}\\b`).test(code);

  test("every variable is a Config field's source or compose-only", () => {
    const classified = new Set<string>([...FIELDS.flatMap(([, names]) => names), ...COMPOSE_ONLY]);
    expect(Object.keys(ENV_SPEC).filter((name) => !classified.has(name))).toEqual([]);
  });

  test("the list is exactly the variables of Config fields nothing reads", () => {
    const unread = FIELDS.filter(([field]) => !isRead(field)).map(([field]) => field);
    const unreadOnly = new Set<string>(FIELDS.filter(([field]) => !isRead(field)).flatMap(([, names]) => names));
    // A variable that also feeds a field someone reads is in use.
    for (const [field, names] of FIELDS) if (isRead(field)) for (const name of names) unreadOnly.delete(name);
    expect({ unread, planned: [...planned].sort() as string[] }).toEqual({ unread, planned: [...unreadOnly].sort() });
  });
});

describe("web push keys (VAPID_*)", () => {
  const pair = () => {
    const ecdh = createECDH("prime256v1");
    ecdh.generateKeys();
    // getPrivateKey() drops leading zero bytes (1 key in 256 comes out 31 bytes long): padded to
    // 32 as web-push's generator does, else the pair is itself invalid and a case finds 2 problems.
    const priv = ecdh.getPrivateKey();
    return { VAPID_PRIVATE_KEY: Buffer.concat([Buffer.alloc(32 - priv.length), priv]).toString("base64url"), VAPID_PUBLIC_KEY: ecdh.getPublicKey().toString("base64url") };
  };
  const problems = (env: Record<string, string>): string[] => {
    try {
      loadConfig(env);
      return [];
    } catch (error) {
      return (error as ConfigError).problems.slice();
    }
  };

  test("unset = push off; a valid pair (base64url or padded base64) is normalised, the subject defaults to an https PUBLIC_URL", () => {
    expect(loadConfig({}).vapid).toBeUndefined();
    const keys = pair();
    const padded = { VAPID_PRIVATE_KEY: Buffer.from(keys.VAPID_PRIVATE_KEY, "base64url").toString("base64"), VAPID_PUBLIC_KEY: Buffer.from(keys.VAPID_PUBLIC_KEY, "base64url").toString("base64") };
    expect(loadConfig({ ...padded, PUBLIC_URL: "https://chat.example.com/" }).vapid).toEqual({ privateKey: keys.VAPID_PRIVATE_KEY, publicKey: keys.VAPID_PUBLIC_KEY, subject: "https://chat.example.com" });
    expect(loadConfig({ ...keys, VAPID_SUBJECT: "mailto:ops@example.com" }).vapid?.subject).toBe("mailto:ops@example.com");
  });

  test("a malformed key, a missing half, a mismatched pair or no usable subject stops the boot naming the variable", () => {
    const keys = pair();
    const other = pair();
    const subject = { VAPID_SUBJECT: "mailto:ops@example.com" };
    const cases: [Record<string, string>, RegExp][] = [
      [{ ...keys, ...subject, VAPID_PRIVATE_KEY: "not*base64" }, /^VAPID_PRIVATE_KEY=\(hidden\) is invalid/],
      [{ ...keys, ...subject, VAPID_PRIVATE_KEY: "AAAA" }, /^VAPID_PRIVATE_KEY=\(hidden\) is invalid/],
      [{ ...keys, ...subject, VAPID_PUBLIC_KEY: keys.VAPID_PUBLIC_KEY.slice(0, 40) }, /^VAPID_PUBLIC_KEY=".*" is invalid/],
      [{ VAPID_PUBLIC_KEY: keys.VAPID_PUBLIC_KEY, ...subject }, /^VAPID_PRIVATE_KEY is required/],
      [{ VAPID_PRIVATE_KEY: keys.VAPID_PRIVATE_KEY, ...subject }, /^VAPID_PUBLIC_KEY is required/],
      [{ ...keys, ...subject, VAPID_PUBLIC_KEY: other.VAPID_PUBLIC_KEY }, /^VAPID_PUBLIC_KEY does not belong to VAPID_PRIVATE_KEY/],
      [{ ...keys, PUBLIC_URL: "http://chat.example.com" }, /^VAPID_SUBJECT is required/],
      [{ ...keys, VAPID_SUBJECT: "http://example.com" }, /^VAPID_SUBJECT=.* is invalid/],
    ];
    for (const [env, expected] of cases) {
      const found = problems(env);
      expect({ env: Object.keys(env), found: found.length, ok: found.some((p) => expected.test(p)) }).toEqual({ env: Object.keys(env), found: 1, ok: true });
      // The private key is never echoed.
      expect(found.join("\n")).not.toContain(keys.VAPID_PRIVATE_KEY);
    }
  });
});
