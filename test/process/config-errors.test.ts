/**
 * A bad configuration stops the real process before it touches anything, with one message that
 * lists every bad variable and its allowed values (CLIENT_IP_HEADER among them).
 */
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnHearth } from "../helpers/process.ts";

test("an invalid CLIENT_IP_HEADER stops boot, listed with the other configuration errors", async () => {
  const root = mkdtempSync(join(tmpdir(), "hearth-config-"));
  try {
    const dataDir = join(root, "data");
    const hearth = spawnHearth({ env: { LISTEN_ADDR: "127.0.0.1:0", DATA_DIR: dataDir, CLIENT_IP_HEADER: "True-Client-IP", TRUSTED_PROXIES: "10.0.0.0/8,nope" } });
    expect(await hearth.exited).toBe(1);
    const out = hearth.output();
    expect(out).toContain("Invalid configuration:");
    expect(out).toContain('CLIENT_IP_HEADER="True-Client-IP" is invalid: expected one of: X-Forwarded-For, X-Real-IP, CF-Connecting-IP, none');
    expect(out).toContain("TRUSTED_PROXIES has invalid entries");
    expect(existsSync(dataDir)).toBe(false); // nothing was created
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}, 60_000);
