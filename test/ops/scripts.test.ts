// The operator scripts: syntax, lint, --help, and what they actually produce.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SignJWT, importPKCS8, importSPKI, jwtVerify } from "jose";
import { allStrings, hasCommand, interpolate, readRepoFile, repoRoot } from "./helpers.ts";

const SCRIPTS = ["generate-keys.sh", "generate-secrets.sh", "backup.sh", "restore.sh"].map((s) => join(repoRoot, "scripts", s));
const work = mkdtempSync(join(tmpdir(), "hearth-ops-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(cmd: string[], opts: { cwd?: string; env?: Record<string, string> } = {}) {
  const result = Bun.spawnSync(cmd, { cwd: opts.cwd ?? work, env: { ...process.env, ...opts.env }, stdin: "ignore" });
  return { code: result.exitCode, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
}
const mode = (path: string) => statSync(path).mode & 0o777;

describe("shell scripts", () => {
  test.each(SCRIPTS)("%s is executable, strict, and parses (bash -n)", (script) => {
    expect(mode(script) & 0o111).not.toBe(0);
    const text = readFileSync(script, "utf8");
    expect(text.startsWith("#!/usr/bin/env bash\n")).toBe(true);
    expect(text).toContain("set -euo pipefail");
    const r = run(["bash", "-n", script]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  test.each(SCRIPTS)("%s --help prints usage and exits 0", (script) => {
    const r = run([script, "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage:");
  });

  const shellcheck = hasCommand("shellcheck");
  if (!shellcheck) console.log("[skip] shellcheck: not installed (apt-get install -y shellcheck)");
  test.skipIf(!shellcheck)("pass shellcheck", () => {
    const r = run(["shellcheck", ...SCRIPTS]);
    expect(r.stdout + r.stderr).toBe("");
    expect(r.code).toBe(0);
  });
});

describe("generate-keys.sh", () => {
  const dir = join(work, "keys", "secrets");
  const script = join(repoRoot, "scripts/generate-keys.sh");

  test("writes an Ed25519 pair with modes 600/644 that signs and verifies a JWT", async () => {
    const r = run([script, "--out-dir", dir]);
    expect(r.code).toBe(0);
    const privatePath = join(dir, "jwt_private.pem");
    const publicPath = join(dir, "jwt_public.pem");
    expect(mode(privatePath)).toBe(0o600);
    expect(mode(publicPath)).toBe(0o644);
    expect(mode(dir)).toBe(0o700);
    const privatePem = readFileSync(privatePath, "utf8");
    const publicPem = readFileSync(publicPath, "utf8");
    expect(privatePem).toStartWith("-----BEGIN PRIVATE KEY-----");
    expect(publicPem).toStartWith("-----BEGIN PUBLIC KEY-----");
    // Load them the way the server does (jose, EdDSA) and check they belong together.
    const privateKey = await importPKCS8(privatePem, "EdDSA");
    const publicKey = await importSPKI(publicPem, "EdDSA");
    const jwt = await new SignJWT({ sub: "u1" }).setProtectedHeader({ alg: "EdDSA" }).sign(privateKey);
    const { payload } = await jwtVerify(jwt, publicKey, { algorithms: ["EdDSA"] });
    expect(payload.sub).toBe("u1");
    expect(readdirSync(dir).sort()).toEqual(["jwt_private.pem", "jwt_public.pem"]); // no temp files left
  });

  test("refuses to overwrite existing keys", () => {
    const before = readFileSync(join(dir, "jwt_private.pem"), "utf8");
    const r = run([script, "--out-dir", dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("refusing to overwrite");
    expect(readFileSync(join(dir, "jwt_private.pem"), "utf8")).toBe(before);
  });

  test("--force rotates and keeps the old pair as .bak", () => {
    const before = readFileSync(join(dir, "jwt_private.pem"), "utf8");
    const r = run([script, "--out-dir", dir, "--force"]);
    expect(r.code).toBe(0);
    expect(readFileSync(join(dir, "jwt_private.pem"), "utf8")).not.toBe(before);
    expect(readFileSync(join(dir, "jwt_private.pem.bak"), "utf8")).toBe(before);
    expect(mode(join(dir, "jwt_private.pem"))).toBe(0o600);
  });
});

describe("generate-secrets.sh", () => {
  const script = join(repoRoot, "scripts/generate-secrets.sh");
  const valueOf = (env: string, name: string) => new RegExp(`^${name}=(.*)$`, "m").exec(env)?.[1];

  test("creates keys and a 600 .env with generated secrets", () => {
    const dir = join(work, "secrets-fresh");
    mkdirSync(dir);
    const r = run([script, "--env-file", join(dir, ".env"), "--secrets-dir", join(dir, "secrets")]);
    expect(r.code).toBe(0);
    expect(existsSync(join(dir, "secrets/jwt_private.pem"))).toBe(true);
    // The updater profile's registry credentials: empty (anonymous pulls), owner-only.
    expect(readFileSync(join(dir, "secrets/registry_creds"), "utf8")).toBe("");
    expect(mode(join(dir, "secrets/registry_creds"))).toBe(0o600);
    expect(mode(join(dir, ".env"))).toBe(0o600);
    const env = readFileSync(join(dir, ".env"), "utf8");
    expect(valueOf(env, "DB_PASSWORD")).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(valueOf(env, "TOTP_ENCRYPTION_KEY")).toMatch(/^[0-9a-f]{64}$/);
    expect(valueOf(env, "TURN_AUTH_SECRET")).toMatch(/^[0-9a-f]{64}$/);
    // The rest of the template is still there.
    expect(env).toContain("REGISTRATION_MODE=invite_only");
    expect(env.match(/^DB_PASSWORD=/gm)?.length).toBe(1);

    // A second run changes nothing.
    const again = run([script, "--env-file", join(dir, ".env"), "--secrets-dir", join(dir, "secrets")]);
    expect(again.code).toBe(0);
    expect(readFileSync(join(dir, ".env"), "utf8")).toBe(env);
  });

  test("a fresh .env satisfies compose.yml; the bare template fails closed on DB_PASSWORD", () => {
    // KEY=VALUE lines as Compose reads .env (no quotes or inline comments in our template).
    const parseEnv = (text: string) =>
      Object.fromEntries(text.split("\n").filter((l) => /^[A-Z][A-Z0-9_]*=/.test(l)).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
    const compose = Bun.YAML.parse(readRepoFile("compose.yml"));
    const interpolateAll = (env: Record<string, string>) => allStrings(compose).map((v) => interpolate(v, env));

    const generated = parseEnv(readFileSync(join(work, "secrets-fresh/.env"), "utf8"));
    const values = interpolateAll(generated);
    expect(values).toContain(`postgres://hearth:${generated.DB_PASSWORD}@postgres:5432/hearth`);

    expect(() => interpolateAll(parseEnv(readRepoFile(".env.example")))).toThrow("DB_PASSWORD");
  });

  test("never overwrites values already set, fills commented-out ones in place", () => {
    const dir = join(work, "secrets-existing");
    mkdirSync(dir);
    writeFileSync(join(dir, ".env"), "DB_PASSWORD=keep-me\n# TOTP_ENCRYPTION_KEY=\nPUBLIC_URL=https://x\n");
    chmodSync(join(dir, ".env"), 0o644);
    const r = run([script, "--env-file", join(dir, ".env"), "--secrets-dir", join(dir, "secrets")]);
    expect(r.code).toBe(0);
    const env = readFileSync(join(dir, ".env"), "utf8");
    const lines = env.trim().split("\n");
    expect(lines[0]).toBe("DB_PASSWORD=keep-me");
    expect(lines[1]).toMatch(/^TOTP_ENCRYPTION_KEY=[0-9a-f]{64}$/);
    expect(lines[2]).toBe("PUBLIC_URL=https://x");
    expect(lines[3]).toMatch(/^TURN_AUTH_SECRET=[0-9a-f]{64}$/);
    expect(mode(join(dir, ".env"))).toBe(0o600);
  });
});

describe("backup.sh / restore.sh", () => {
  const backup = join(repoRoot, "scripts/backup.sh");
  const restore = join(repoRoot, "scripts/restore.sh");

  test("embedded mode: DATA_DIR round trip, checksums, confirmation required", () => {
    const data = join(work, "embedded/data");
    mkdirSync(join(data, "files/ab"), { recursive: true });
    mkdirSync(join(data, "db"), { recursive: true });
    writeFileSync(join(data, "files/ab/blob"), "ciphertext");
    writeFileSync(join(data, "db/PG_VERSION"), "18");
    const out = join(work, "embedded/backup");
    const b = run([backup, "--mode", "embedded", "--data-dir", data, "--out", out]);
    expect(b.code).toBe(0);
    expect(mode(out)).toBe(0o700);
    expect(readdirSync(out).sort()).toEqual(["MANIFEST", "SHA256SUMS", "data-dir.tar.gz"]);
    expect(readFileSync(join(out, "MANIFEST"), "utf8")).toContain("mode=embedded");

    writeFileSync(join(data, "files/ab/blob"), "changed");
    const refused = run([restore, out, "--data-dir", data]);
    expect(refused.code).toBe(2); // no --yes and no terminal
    expect(readFileSync(join(data, "files/ab/blob"), "utf8")).toBe("changed");

    const r = run([restore, out, "--data-dir", data, "--yes"]);
    expect(r.code).toBe(0);
    expect(readFileSync(join(data, "files/ab/blob"), "utf8")).toBe("ciphertext");
    expect(readFileSync(join(data, "db/PG_VERSION"), "utf8")).toBe("18");
    expect(readdirSync(join(work, "embedded")).some((n) => n.startsWith("data.before-restore-"))).toBe(true);
  });

  test("restore refuses a backup whose checksum does not match", () => {
    const data = join(work, "tamper/data");
    mkdirSync(join(data, "files"), { recursive: true });
    const out = join(work, "tamper/backup");
    expect(run([backup, "--mode", "embedded", "--data-dir", data, "--out", out]).code).toBe(0);
    writeFileSync(join(out, "data-dir.tar.gz"), "garbage");
    const r = run([restore, out, "--data-dir", data, "--yes"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("checksum mismatch");
  });

  test("backup refuses to write into a non-empty directory", () => {
    const out = join(work, "nonempty");
    mkdirSync(out);
    writeFileSync(join(out, "x"), "x");
    const r = run([backup, "--mode", "embedded", "--data-dir", work, "--out", out]);
    expect(r.code).toBe(1);
    expect(existsSync(join(out, "x"))).toBe(true);
  });

  // compose mode without Docker: a stand-in `docker` on PATH runs what the script asks of each
  // container on this machine (pg_dump/pg_restore against a scratch database, the files
  // snippet under sh), so the script's commands, pipes and ordering are exercised for real.
  const dockerShim = `#!/usr/bin/env bash
set -euo pipefail
echo "$*" >>"$SHIM_LOG"
[[ "$1" == compose ]] || exit 64; shift
[[ "$1" == --project-directory ]] && shift 2
sub="$1"; shift
case "$sub" in
  version|stop|start|up) exit 0 ;;
  exec)
    [[ "$1" == -T ]] && shift
    [[ "$1" == postgres ]] || exit 65; shift
    cmd="$1"; shift; args=()
    while [[ $# -gt 0 ]]; do case "$1" in -U|-d) shift 2 ;; *) args+=("$1"); shift ;; esac; done
    exec "$cmd" "\${args[@]}" -d "$SHIM_DB_URL" ;;
  run)
    while [[ "$1" == -* ]]; do [[ "$1" == --entrypoint ]] && shift; shift; done
    [[ "$1" == hearth ]] || exit 66; shift
    exec env DATA_DIR="$SHIM_DATA_DIR" sh "$@" ;;
esac
exit 67
`;

  // url mode against a real PostgreSQL: CI's TEST_DATABASE_URL, or the machine's local server.
  const baseUrl = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
  const psqlReady =
    hasCommand("psql") && hasCommand("pg_dump") && hasCommand("pg_restore") &&
    run(["psql", baseUrl, "-Atc", "select 1"]).stdout.trim() === "1";
  if (!psqlReady) console.log(`[skip] backup/restore url mode: no PostgreSQL reachable at ${baseUrl.replace(/:[^:@/]*@/, ":***@")} or no psql/pg_dump`);

  test.skipIf(!psqlReady)("url mode: database and files round trip through pg_dump/pg_restore", () => {
    const db = `hearth_ops_backup_${process.pid}_${Date.now()}`;
    const url = new URL(baseUrl);
    url.pathname = `/${db}`;
    const dbUrl = url.toString();
    expect(run(["psql", baseUrl, "-c", `create database ${db}`]).code).toBe(0);
    try {
      expect(run(["psql", dbUrl, "-c", "create table messages (id int primary key, body bytea); insert into messages values (1, '\\x01'), (2, '\\x02');"]).code).toBe(0);
      const files = join(work, "url/files");
      mkdirSync(join(files, "ab"), { recursive: true });
      writeFileSync(join(files, "ab/blob"), "ciphertext");
      const out = join(work, "url/backup");
      const b = run([backup, "--database-url", dbUrl, "--files-dir", files, "--out", out]);
      expect(b.stderr).not.toContain("error");
      expect(b.code).toBe(0);
      expect(readFileSync(join(out, "MANIFEST"), "utf8")).toContain("mode=url");

      // Damage both, then restore.
      run(["psql", dbUrl, "-c", "delete from messages where id = 1; insert into messages values (3, '\\x03');"]);
      writeFileSync(join(files, "ab/blob"), "changed");
      writeFileSync(join(files, "stray"), "not in the backup");
      const r = run([restore, out, "--database-url", dbUrl, "--files-dir", files, "--yes"]);
      expect(r.code).toBe(0);
      expect(run(["psql", dbUrl, "-Atc", "select string_agg(id::text, ',' order by id) from messages"]).stdout.trim()).toBe("1,2");
      expect(readFileSync(join(files, "ab/blob"), "utf8")).toBe("ciphertext");
      expect(existsSync(join(files, "stray"))).toBe(false);
    } finally {
      run(["psql", baseUrl, "-c", `drop database if exists ${db} with (force)`]);
    }
  });

  test.skipIf(!psqlReady)("compose mode: pg_dump/pg_restore in the postgres service, files via the hearth image", () => {
    const db = `hearth_ops_compose_${process.pid}_${Date.now()}`;
    const url = new URL(baseUrl);
    url.pathname = `/${db}`;
    const shimDir = join(work, "compose/bin");
    mkdirSync(shimDir, { recursive: true });
    writeFileSync(join(shimDir, "docker"), dockerShim, { mode: 0o755 });
    const data = join(work, "compose/data");
    mkdirSync(join(data, "files/ab"), { recursive: true });
    writeFileSync(join(data, "files/ab/blob"), "ciphertext");
    const log = join(work, "compose/docker.log");
    const env = { PATH: `${shimDir}:${process.env.PATH}`, SHIM_LOG: log, SHIM_DB_URL: url.toString(), SHIM_DATA_DIR: data, DATABASE_URL: "" };
    expect(run(["psql", baseUrl, "-c", `create database ${db}`]).code).toBe(0);
    try {
      run(["psql", url.toString(), "-c", "create table rooms (id int primary key); insert into rooms values (1);"]);
      const out = join(work, "compose/backup");
      const b = run([backup, "--out", out], { env }); // mode chosen automatically: docker compose is there
      expect(b.stderr).toBe("");
      expect(b.code).toBe(0);
      expect(readFileSync(join(out, "MANIFEST"), "utf8")).toContain("mode=compose");

      run(["psql", url.toString(), "-c", "insert into rooms values (2);"]);
      writeFileSync(join(data, "files/ab/blob"), "changed");
      writeFileSync(join(log), "");
      const r = run([restore, out, "--yes"], { env });
      expect(r.code).toBe(0);
      expect(run(["psql", url.toString(), "-Atc", "select count(*) from rooms"]).stdout.trim()).toBe("1");
      expect(readFileSync(join(data, "files/ab/blob"), "utf8")).toBe("ciphertext");
      // hearth is stopped before the database is replaced and started after the files are back.
      const steps = readFileSync(log, "utf8").trim().split("\n").map((l) => l.split(" ").slice(3, 5).join(" "));
      expect(steps).toEqual(["stop hearth", "up -d", "exec -T", "run --rm", "up -d"]);
    } finally {
      run(["psql", baseUrl, "-c", `drop database if exists ${db} with (force)`]);
    }
  });
});
