// docs/operations.md: the proxy configs operators copy must be valid, and the guide must only
// name settings that exist. nginx and caddy check their own syntax when installed.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CONTRACT_ENV_NAMES, hasCommand, readRepoFile } from "./helpers.ts";

const doc = readRepoFile("docs/operations.md");
const blocks = (lang: string) => [...doc.matchAll(new RegExp("```" + lang + "\\n([\\s\\S]*?)```", "g"))].map((m) => m[1]!);
const nginxBlocks = blocks("nginx");
const caddyBlocks = blocks("caddyfile");
const work = mkdtempSync(join(tmpdir(), "hearth-docs-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("docs/operations.md", () => {
  test("covers every operator task", () => {
    for (const heading of [
      "## Install with Docker Compose", "## Embedded database or PostgreSQL", "## TLS and reverse proxy",
      "## Several instances behind one proxy", "## Backups", "## Restore", "## Upgrade", "## Voice and video: TURN",
      "## Health probes", "## Metrics", "## Troubleshooting",
    ]) {
      expect(doc).toContain(heading);
    }
  });

  test("names only real environment variables", () => {
    // Plus Bun's own switch used in the systemd unit: not a Hearth setting.
    const contract = new Set<string>([...CONTRACT_ENV_NAMES, "BUN_RUNTIME_TRANSPILER_CACHE_PATH"]);
    // Upper-case snake-case words are how the guide refers to variables.
    // Error codes the server really answers with (string literals in src/) are the other kind.
    const codes = new Set<string>();
    for (const file of new Bun.Glob("src/**/*.{ts,tsx}").scanSync({ cwd: join(import.meta.dir, "../..") })) {
      for (const m of readRepoFile(file).matchAll(/"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)"/g)) codes.add(m[1]!);
    }
    const mentioned = new Set(doc.match(/\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/g) ?? []);
    expect([...mentioned].filter((name) => !contract.has(name) && !codes.has(name))).toEqual([]);
  });

  test("the nginx config proxies /ws with upgrade headers and day-long timeouts", () => {
    const main = nginxBlocks.find((b) => b.includes("location /ws") && b.includes("ssl_certificate"))!;
    expect(main).toContain("proxy_set_header Upgrade $http_upgrade;");
    expect(main).toContain('proxy_set_header Connection "upgrade";');
    expect(main).toContain("proxy_http_version 1.1;");
    expect(main).toContain("proxy_read_timeout 86400s;");
    expect(main).toContain("client_max_body_size 110M;");
    const upstream = nginxBlocks.find((b) => b.includes("upstream hearth"))!;
    expect(upstream).toContain("proxy_read_timeout 86400s;");
  });

  test("the Caddy configs set the body limit and a load-balancing policy", () => {
    expect(caddyBlocks.every((b) => b.includes("max_size 110MB"))).toBe(true);
    expect(caddyBlocks.some((b) => /reverse_proxy \S+ \S+ \{[\s\S]*lb_policy/.test(b))).toBe(true);
  });

  const nginx = hasCommand("nginx");
  if (!nginx) console.log("[skip] nginx -t on the documented configs: nginx is not installed");
  test.skipIf(!nginx)("every nginx block passes nginx -t", () => {
    const dir = join(work, "nginx");
    mkdirSync(join(dir, "tmp"), { recursive: true });
    // A throwaway certificate stands in for the Let's Encrypt paths.
    const cert = Bun.spawnSync(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
      "-nodes", "-days", "1", "-subj", "/CN=chat.example.com", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")]);
    expect(cert.exitCode).toBe(0);
    nginxBlocks.forEach((block, i) => {
      const body = block
        .replaceAll("/etc/letsencrypt/live/chat.example.com/fullchain.pem", join(dir, "cert.pem"))
        .replaceAll("/etc/letsencrypt/live/chat.example.com/privkey.pem", join(dir, "key.pem"));
      const conf = join(dir, `block-${i}.conf`);
      writeFileSync(conf, [
        `pid ${dir}/nginx.pid;`, `error_log ${dir}/error.log;`, "events {}", "http {", "access_log off;",
        `client_body_temp_path ${dir}/tmp;`, `proxy_temp_path ${dir}/tmp;`, body, "}",
      ].join("\n"));
      const r = Bun.spawnSync(["nginx", "-t", "-q", "-p", dir, "-e", join(dir, "error.log"), "-c", conf], { stderr: "pipe" });
      expect({ block: i, code: r.exitCode, stderr: r.stderr.toString() }).toEqual({ block: i, code: 0, stderr: "" });
    });
  });

  const caddy = hasCommand("caddy");
  if (!caddy) console.log("[skip] caddy validate on the documented configs: caddy is not installed");
  test.skipIf(!caddy)("every Caddyfile block passes caddy validate", () => {
    caddyBlocks.forEach((block, i) => {
      const file = join(work, `Caddyfile-${i}`);
      writeFileSync(file, block);
      const home = join(work, "caddy-home");
      const r = Bun.spawnSync(["caddy", "validate", "--config", file, "--adapter", "caddyfile"], {
        env: { ...process.env, HOME: home, XDG_DATA_HOME: join(home, "data"), XDG_CONFIG_HOME: join(home, "config") },
        stdout: "pipe",
        stderr: "pipe",
      });
      expect({ block: i, code: r.exitCode, err: r.exitCode ? r.stderr.toString().slice(-400) : "" })
        .toEqual({ block: i, code: 0, err: "" });
    });
  });

  test("the compose override example parses and uses documented variables only", () => {
    for (const yaml of blocks("yaml")) {
      const parsed = Bun.YAML.parse(yaml) as { services?: Record<string, unknown> };
      expect(parsed.services).toBeDefined();
    }
  });
});
