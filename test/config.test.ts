import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { ConfigError, ENV_SPEC, loadConfig } from "../src/config.ts";

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
    expect(warnings).toHaveLength(2);
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
