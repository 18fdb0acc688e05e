// compose.yml, parsed with Bun.YAML and checked for the promises docs/operations.md makes.
import { describe, expect, test } from "bun:test";
import {
  REQUIRED_DENIED, allStrings, cidrToRange, coturnRangeToRange, envExampleNames, interpolate, readRepoFile,
  rangesCover, referencedNames,
} from "./helpers.ts";

// deno-lint-ignore no-explicit-any
type Any = any;
const compose = Bun.YAML.parse(readRepoFile("compose.yml")) as Any;
const services = compose.services as Record<string, Any>;
const postgres = services.postgres;
const hearth = services.hearth;
const turn = services.turn;

/** Names of the networks a service joins (list or map form). */
const networksOf = (service: Any): string[] =>
  Array.isArray(service.networks) ? service.networks : Object.keys(service.networks ?? {});

/** Environment as a map (list or map form). */
const environmentOf = (service: Any): Record<string, string> =>
  Array.isArray(service.environment)
    ? Object.fromEntries(service.environment.map((e: string) => [e.split("=")[0], e.slice(e.indexOf("=") + 1)]))
    : (service.environment ?? {});


describe("compose.yml", () => {
  test("uses the compose spec (no version key)", () => {
    expect(compose.version).toBeUndefined();
    expect(Object.keys(services)).toEqual(expect.arrayContaining(["postgres", "hearth", "turn"]));
  });

  describe("postgres", () => {
    test("is never published on the host", () => {
      expect(postgres.ports).toBeUndefined();
      expect(postgres.network_mode).toBeUndefined();
    });

    test("is only on internal networks", () => {
      const nets = networksOf(postgres);
      expect(nets.length).toBeGreaterThan(0);
      for (const net of nets) expect(compose.networks[net]?.internal).toBe(true);
    });

    test("has a pg_isready healthcheck, a named volume and the DB_PASSWORD password", () => {
      expect(JSON.stringify(postgres.healthcheck.test)).toContain("pg_isready");
      expect(postgres.image).toMatch(/^postgres:1[5-9]/);
      const volume = String(postgres.volumes[0]).split(":")[0]!;
      expect(Object.keys(compose.volumes)).toContain(volume);
      expect(referencedNames(environmentOf(postgres).POSTGRES_PASSWORD!)).toEqual(["DB_PASSWORD"]);
    });
  });

  describe("hearth", () => {
    test("builds this repository and waits for a healthy database", () => {
      expect(hearth.build === "." || hearth.build?.context === ".").toBe(true);
      expect(hearth.depends_on.postgres.condition).toBe("service_healthy");
    });

    test("reaches postgres over the internal network with DB_PASSWORD", () => {
      const env = environmentOf(hearth);
      expect(interpolate(env.DATABASE_URL!, { DB_PASSWORD: "pw" })).toBe("postgres://hearth:pw@postgres:5432/hearth");
      const shared = networksOf(hearth).filter((n) => networksOf(postgres).includes(n));
      expect(shared.length).toBeGreaterThan(0);
    });

    test("pins the container-side settings the image and port mapping rely on", () => {
      const env = environmentOf(hearth);
      expect(env.DATA_DIR).toBe("/app/data");
      expect(env.LISTEN_ADDR).toBe("0.0.0.0:8080");
      expect(env.JWT_PRIVATE_KEY_PATH).toBe("/run/secrets/jwt_private_key");
      expect(env.JWT_PUBLIC_KEY_PATH).toBe("/run/secrets/jwt_public_key");
      expect(hearth.env_file === ".env" || JSON.stringify(hearth.env_file).includes(".env")).toBe(true);
    });

    test("gets the JWT keys as Docker secrets from ./secrets", () => {
      expect(hearth.secrets).toEqual(expect.arrayContaining(["jwt_private_key", "jwt_public_key"]));
      expect(compose.secrets.jwt_private_key.file).toBe("./secrets/jwt_private.pem");
      expect(compose.secrets.jwt_public_key.file).toBe("./secrets/jwt_public.pem");
    });

    test("keeps DATA_DIR on a named volume and publishes 8080", () => {
      expect(hearth.volumes.some((v: string) => /^[a-z_]+:\/app\/data$/.test(v))).toBe(true);
      expect(hearth.ports.some((p: string) => /(^|:)8080:8080$/.test(p))).toBe(true);
    });

    test("runs hardened: read-only root, tmpfs /tmp, no capabilities, no privilege gain", () => {
      expect(hearth.read_only).toBe(true);
      expect(hearth.tmpfs).toContain("/tmp");
      expect(hearth.cap_drop).toEqual(["ALL"]);
      expect(hearth.security_opt).toContain("no-new-privileges:true");
      expect(hearth.restart).toBe("unless-stopped");
      expect(hearth.privileged).toBeUndefined();
    });

    test("has the same healthcheck as the image", () => {
      expect(hearth.healthcheck.test).toEqual(["CMD", "bun", "scripts/healthcheck.ts", "/readyz"]);
    });
  });

  describe("turn profile", () => {
    const command: string[] = turn.command;
    const flag = (name: string) => command.filter((c) => c === name || c.startsWith(`${name}=`));

    test("runs coturn on the host network only under the turn profile", () => {
      expect(turn.image).toMatch(/^coturn\/coturn:/);
      expect(turn.profiles).toEqual(["turn"]);
      expect(turn.network_mode).toBe("host");
      expect(turn.ports).toBeUndefined();
    });

    test("uses ephemeral HMAC credentials, never static users", () => {
      expect(command).toContain("--use-auth-secret");
      expect(flag("--static-auth-secret").map(referencedNames).flat()).toEqual(["TURN_AUTH_SECRET"]);
      expect(command.some((c) => /^--(user|lt-cred-mech)/.test(c))).toBe(false);
    });

    test("has the hardening flags", () => {
      for (const f of ["--no-cli", "--fingerprint", "--no-multicast-peers", "--realm", "--external-ip"]) {
        expect(flag(f).length).toBeGreaterThan(0);
      }
      expect(interpolate(flag("--listening-port")[0]!, {})).toBe("--listening-port=3478");
      expect(interpolate(flag("--tls-listening-port")[0]!, {})).toBe("--tls-listening-port=5349");
      expect(interpolate(flag("--listening-port")[0]!, { TURN_LISTENING_PORT: "3479" })).toBe("--listening-port=3479");
      expect(flag("--min-port")).toEqual(["--min-port=49152"]);
      expect(flag("--max-port")).toEqual(["--max-port=49200"]);
    });

    test("denies relaying to every private, loopback, link-local and reserved range", () => {
      const ranges = flag("--denied-peer-ip")
        .map((c) => interpolate(c.slice("--denied-peer-ip=".length), { TURN_EXTERNAL_IP: "198.51.100.7" }))
        .map(coturnRangeToRange);
      const missing = REQUIRED_DENIED.filter((cidr) => !rangesCover(ranges, cidrToRange(cidr)));
      expect(missing).toEqual([]);
      // coturn 4.6 does not understand CIDR: a "/" would be looked up as a host name.
      expect(flag("--denied-peer-ip").some((c) => c.includes("/"))).toBe(false);
      // The server's own public address, so the relay cannot reach host-local services.
      expect(flag("--denied-peer-ip")).toContain("--denied-peer-ip=${TURN_EXTERNAL_IP:-0.0.0.0}");
    });

    test("gets its TLS certificate from the turn_certs volume, made on first boot", () => {
      expect(Object.keys(compose.volumes)).toContain("turn_certs");
      expect(turn.volumes.some((v: string) => v.startsWith("turn_certs:"))).toBe(true);
      const init = services["turn-init"];
      expect(init.profiles).toEqual(["turn"]);
      expect(turn.depends_on["turn-init"].condition).toBe("service_completed_successfully");
      expect(allStrings(init.command).join("\n")).toContain("openssl req -x509");
      expect(init.volumes.some((v: string) => v.startsWith("turn_certs:"))).toBe(true);
    });
  });

  test("every ${NAME} it reads is documented in .env.example", () => {
    const documented = new Set(envExampleNames(readRepoFile(".env.example")));
    const used = [...new Set(allStrings(compose).flatMap(referencedNames))];
    expect(used.length).toBeGreaterThan(0);
    expect(used.filter((name) => !documented.has(name))).toEqual([]);
  });

  test("optional profiles never start by default", () => {
    for (const [name, service] of Object.entries(services)) {
      if (name === "postgres" || name === "hearth") expect(service.profiles).toBeUndefined();
      else expect(service.profiles?.length).toBeGreaterThan(0);
    }
  });
});
