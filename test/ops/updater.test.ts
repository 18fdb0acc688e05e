// The updater profile (issue 16 §7, docs/operations.md "Managed updates"): secrets/registry_creds
// handled exactly as seeds/001 says (absent or whitespace -> anonymous; malformed JSON -> fatal
// at start naming the file; well formed -> used for pulls), run as the real script; compose.yml
// wires the one-shot before a maintained updater that touches only the labelled hearth service.
// The Traefik example of the guide parses and points at the port Hearth listens on.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readRepoFile } from "./helpers.ts";

// deno-lint-ignore no-explicit-any
type Any = any;
const repoRoot = join(import.meta.dir, "../..");
const work = mkdtempSync(join(tmpdir(), "hearth-updater-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function runCreds(name: string, content: string | null | "directory"): { code: number; stdout: string; stderr: string; out: string; input: string } {
  const dir = join(work, name);
  mkdirSync(dir);
  const input = join(dir, "registry_creds");
  if (content === "directory") mkdirSync(input);
  else if (content !== null) writeFileSync(input, content);
  const out = join(dir, "config.json");
  const r = Bun.spawnSync(["bun", join(repoRoot, "scripts/registry-creds.ts"), "--in", input, "--out", out], { stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString(), out, input };
}

describe("scripts/registry-creds.ts", () => {
  for (const [name, content] of [
    ["absent", null],
    ["empty", ""],
    ["whitespace", " \n\t \n"],
    ["a directory Docker made for a missing bind mount", "directory"],
  ] as const) {
    test(`${name}: anonymous pulls`, () => {
      const r = runCreds(name.replace(/\W+/g, "-"), content);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("anonymous");
      expect(JSON.parse(readFileSync(r.out, "utf8"))).toEqual({ auths: {} });
      expect(statSync(r.out).mode & 0o777).toBe(0o600);
    });
  }

  for (const [name, content] of [
    ["not JSON", "{username: bob"],
    ["a JSON array", '["bob"]'],
    ["a JSON string", '"bob"'],
    ["password missing", '{"username":"bob","serveraddress":"ghcr.io"}'],
    ["empty serveraddress", '{"username":"bob","password":"pw","serveraddress":" "}'],
    ["a number for the password", '{"username":"bob","password":12,"serveraddress":"ghcr.io"}'],
    ["a colon in the username", '{"username":"bo:b","password":"pw","serveraddress":"ghcr.io"}'],
  ] as const) {
    test(`malformed (${name}): fatal, naming the file, nothing written, no secret printed`, () => {
      const r = runCreds(`bad-${name.replace(/\W+/g, "-")}`, content);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(r.input);
      expect(r.stderr).not.toContain("pw");
      expect(() => statSync(r.out)).toThrow();
    });
  }

  test("well formed: a Docker config.json with the credentials for that registry; the password never printed", () => {
    const r = runCreds("good", JSON.stringify({ username: "deploy", password: "s3cret-Token", serveraddress: "registry.example.org" }));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("registry.example.org");
    expect(r.stdout + r.stderr).not.toContain("s3cret-Token");
    const config = JSON.parse(readFileSync(r.out, "utf8"));
    expect(Object.keys(config.auths)).toEqual(["registry.example.org"]);
    expect(Buffer.from(config.auths["registry.example.org"].auth, "base64").toString()).toBe("deploy:s3cret-Token");
    expect(statSync(r.out).mode & 0o777).toBe(0o600);
  });

  test("the example file in the repository is well formed", () => {
    const r = runCreds("example", readRepoFile("secrets/registry_creds.example"));
    expect(r.code).toBe(0);
  });
});

describe("compose.yml updater profile", () => {
  const compose = Bun.YAML.parse(readRepoFile("compose.yml")) as Any;
  const s = compose.services as Record<string, Any>;

  test("a one-shot turns the secret into the updater's config before the updater starts", () => {
    expect(s["updater-init"].profiles).toEqual(["updater"]);
    expect(s.updater.profiles).toEqual(["updater"]);
    expect(s["updater-init"].secrets).toEqual(["registry_creds"]);
    expect(compose.secrets.registry_creds.file).toBe("./secrets/registry_creds");
    expect(s["updater-init"].command).toEqual(["bun", "/opt/registry-creds.ts", "--in", "/run/secrets/registry_creds", "--out", "/updater-config/config.json"]);
    expect(s["updater-init"].volumes).toContain("./scripts/registry-creds.ts:/opt/registry-creds.ts:ro");
    expect(s["updater-init"].network_mode).toBe("none");
    expect(s["updater-init"].read_only).toBe(true);
    // The one-shot runs the same Bun as the app image.
    expect(readRepoFile("Dockerfile")).toContain(`ARG BUN_IMAGE=${s["updater-init"].image}`);
    expect(s.updater.depends_on["updater-init"].condition).toBe("service_completed_successfully");
  });

  test("the updater is a maintained Watchtower fork that reads that config and updates only labelled containers", () => {
    expect(s.updater.image).toStartWith("nickfedor/watchtower");
    expect(s.updater.environment.DOCKER_CONFIG).toBe("/updater-config");
    expect(s.updater.volumes).toContain("updater_config:/updater-config:ro");
    expect(s.updater.environment.WATCHTOWER_LABEL_ENABLE).toBe("true");
    expect(s.hearth.labels["com.centurylinklabs.watchtower.enable"]).toBe("true");
    expect(s.postgres.labels).toBeUndefined();
    expect(s.updater.ports).toBeUndefined();
    // The hearth image can come from a registry (what the updater pulls).
    expect(s.hearth.image).toBe("${HEARTH_IMAGE:-hearth:local}");
  });
});

describe("docs/operations.md Traefik example", () => {
  const doc = readRepoFile("docs/operations.md");
  const section = doc.slice(doc.indexOf("### Traefik"), doc.indexOf("### Cloudflare Tunnel"));
  const block = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];

  test("parses and routes the hearth service on its listening port, WebSocket included", () => {
    expect(block).toBeDefined();
    const override = Bun.YAML.parse(block!) as Any;
    const labels: string[] = override.services.hearth.labels;
    expect(labels).toContain("traefik.enable=true");
    expect(labels).toContain("traefik.http.routers.hearth.tls=true");
    const compose = Bun.YAML.parse(readRepoFile("compose.yml")) as Any;
    const port = String(compose.services.hearth.environment.LISTEN_ADDR).split(":").pop();
    expect(labels).toContain(`traefik.http.services.hearth.loadbalancer.server.port=${port}`);
    expect(override.networks.web.external).toBe(true);
    expect(override.services.hearth.networks).toEqual(["web"]);
  });
});
