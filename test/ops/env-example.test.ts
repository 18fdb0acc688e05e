// .env.example is the operator's map of the configuration: every name in it must be one the
// application (or compose.yml) actually reads, and every name of the contract must be in it.
import { describe, expect, test } from "bun:test";
import { CONTRACT_ENV_NAMES, envExampleNames, readRepoFile } from "./helpers.ts";

const text = readRepoFile(".env.example");
const names = envExampleNames(text);
const contract = new Set<string>(CONTRACT_ENV_NAMES);

describe(".env.example", () => {
  test("mentions only names of the environment contract", () => {
    expect(names.filter((n) => !contract.has(n))).toEqual([]);
  });

  test("mentions every name of the environment contract", () => {
    expect(CONTRACT_ENV_NAMES.filter((n) => !names.includes(n))).toEqual([]);
  });

  test("gives each variable a comment line right above it", () => {
    const lines = text.split("\n");
    const undocumented = lines
      .map((line, i) => ({ line, above: lines[i - 1] ?? "" }))
      .filter(({ line }) => /^\s*#?\s*[A-Z][A-Z0-9_]*=/.test(line))
      .filter(({ above }) => !/^#\s*\S/.test(above) || /^#\s*[A-Z][A-Z0-9_]*=/.test(above))
      .map(({ line }) => line);
    // The line above must be prose ("# ..."), not another (commented-out) assignment.
    expect(undocumented).toEqual([]);
  });

  test("ships no secret values", () => {
    for (const name of ["DB_PASSWORD", "TOTP_ENCRYPTION_KEY", "TURN_AUTH_SECRET"]) {
      expect(text).toMatch(new RegExp(`^${name}=$`, "m"));
    }
    expect(text).not.toMatch(/^(?!#).*(SECRET|PASSWORD|TOKEN)=\S/m);
  });

  test("leaves paths the Docker image sets commented out (they would override it)", () => {
    for (const name of ["DATABASE_URL", "DATA_DIR", "LISTEN_ADDR", "JWT_PRIVATE_KEY_PATH", "JWT_PUBLIC_KEY_PATH", "NODE_ENV", "FILE_STORAGE_PATH"]) {
      expect(text).not.toMatch(new RegExp(`^${name}=`, "m"));
    }
  });
});
