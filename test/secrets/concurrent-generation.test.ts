// Several instances sharing one DATA_DIR (horizontal scaling on one PostgreSQL) may boot at the same
// moment with no secrets yet: exactly one generates each secret, the others use it, none crashes
// (CI once saw EEXIST kill the second instance). Real processes, started together.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const SCRIPT = `
import { loadConfig } from "${resolve("src/config.ts")}";
import { loadSecrets } from "${resolve("src/secrets.ts")}";
import { existsSync } from "node:fs";
const log = { warn() {}, info() {}, error() {}, debug() {}, child() { return log; } };
// Start line: every process is loaded and says so, then all go at once when the go file appears.
// The wait is bounded only against a parent that died (the parent writes it as soon as all six
// said ready), so its bound is far from anything a loaded machine needs.
console.error("ready");
for (let i = 0; i < 120_000 && !existsSync(process.env.GO_FILE!); i++) Bun.sleepSync(1);
const secrets = loadSecrets(loadConfig(process.env), log as never);
console.log(JSON.stringify({ pub: secrets.jwtPublicPem, totp: Buffer.from(secrets.totpKey).toString("hex") }));
`;

/** Reads a child's stderr: `ready` resolves at its "ready" line (or rejects at EOF without one). */
function readUntilReady(stream: ReadableStream<Uint8Array>): { ready: Promise<void>; rest: Promise<string> } {
  let text = "";
  let signal!: { resolve(): void; reject(e: Error): void };
  const ready = new Promise<void>((resolve, reject) => (signal = { resolve, reject }));
  const rest = (async () => {
    const decoder = new TextDecoder();
    const reader = stream.getReader();
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      text += decoder.decode(read.value, { stream: true });
      if (/^ready$/m.test(text)) signal.resolve();
    }
    signal.reject(new Error(`child exited before its ready line:\n${text}`));
    return text.replace(/^ready\n/m, "");
  })();
  return { ready, rest };
}

test("instances generating secrets at once on one DATA_DIR all start with the same secrets", async () => {
  for (let round = 0; round < 3; round++) {
    const dataDir = mkdtempSync(join(tmpdir(), "hearth-secrets-race-"));
    dirs.push(dataDir);
    const script = join(dataDir, "load.ts");
    await Bun.write(script, SCRIPT);
    const go = join(dataDir, "go");
    const env = { ...process.env, GO_FILE: go, DATA_DIR: dataDir, NODE_ENV: "development", TOTP_ENCRYPTION_KEY: "", JWT_PRIVATE_KEY_PATH: "", JWT_PUBLIC_KEY_PATH: "" };
    const procs = Array.from({ length: 6 }, () => Bun.spawn(["bun", script], { env, cwd: dataDir, stdout: "pipe", stderr: "pipe" }));
    const stderr = procs.map((p) => readUntilReady(p.stderr));
    await Promise.all(stderr.map((s) => s.ready));
    await Bun.write(go, "");
    const results = await Promise.all(procs.map(async (p, i) => ({ code: await p.exited, out: await new Response(p.stdout).text(), err: await stderr[i]!.rest })));
    for (const r of results) expect({ code: r.code, err: r.code === 0 ? "" : r.err }).toEqual({ code: 0, err: "" });
    const seen = new Set(results.map((r) => r.out.trim()));
    expect(seen.size).toBe(1);
    // No temporary files left behind.
    expect(readdirSync(join(dataDir, "secrets")).sort()).toEqual(["jwt_private.pem", "jwt_public.pem", "totp_encryption_key"]);
  }
});
