/**
 * The hierarchy gate is the only door (docs/permissions.md, "Changing roles"): the tables that say
 * who holds what are written only by src/features/permissions/changes.ts, whose every write runs
 * after `decideChange`. A new write anywhere else — a new route, a WS handler, an admin tool —
 * fails here until it goes through `applyChange` (or is listed below with the reason it is safe).
 * The gate's own codes come from nowhere else either.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../../..");
const GATE = "src/features/permissions/changes.ts";

function sources(): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = [];
  for (const dir of ["src", "scripts"]) {
    for (const path of new Bun.Glob("**/*.{ts,tsx}").scanSync({ cwd: join(ROOT, dir), absolute: true })) out.push({ file: relative(ROOT, path), text: readFileSync(path, "utf8") });
  }
  return out;
}

const PRIVILEGE_TABLES = ["community_roles", "community_member_roles", "channel_role_overrides"];
/** Writes that change roles, assignments, overrides, ranks or ownership. */
const PATTERNS: { what: string; re: RegExp }[] = [
  ...PRIVILEGE_TABLES.map((t) => ({ what: `write to ${t}`, re: new RegExp(`(insertInto|updateTable|deleteFrom|replaceInto|mergeInto)\\(\\s*["'\`]${t}["'\`]`, "g") })),
  ...PRIVILEGE_TABLES.map((t) => ({ what: `raw SQL write to ${t}`, re: new RegExp(`(insert\\s+into|update|delete\\s+from)\\s+${t}\\b`, "gi") })),
  { what: "base role update", re: /updateTable\(\s*["'`]community_members["'`]\)/g },
  { what: "raw SQL base role update", re: /update\s+community_members\b/gi },
  { what: "ownership update", re: /\.set\(\s*\{[^}]*\bowner_id\b/g },
  { what: "raw SQL ownership update", re: /update\s+communities\s+set[^;`]*\bowner_id\b/gi },
];

/** Writes outside the gate that are safe by construction, each with its reason. */
const ALLOWED: { file: string; what: string; count: number; why: string }[] = [
  { file: "src/features/images/profiles.ts", what: "base role update", count: 1, why: "sets only the actor's own nickname column (`.set({ nickname })`), never the role" },
];

describe("one writer of who holds what", () => {
  test("roles, assignments, overrides, base roles and ownership are written only by the gate", () => {
    const found: string[] = [];
    const counts = new Map<string, number>();
    for (const { file, text } of sources()) {
      if (file === GATE) continue;
      for (const p of PATTERNS) {
        const n = [...text.matchAll(p.re)].length;
        if (!n) continue;
        const key = `${file}: ${p.what}`;
        counts.set(key, n);
        const allowed = ALLOWED.find((a) => a.file === file && a.what === p.what);
        if (!allowed || allowed.count !== n) found.push(`${key} ×${n}`);
      }
    }
    expect(found).toEqual([]);
    // The allow-list (empty today) stays honest: every entry still matches something.
    expect(ALLOWED.filter((a) => counts.get(`${a.file}: ${a.what}`) !== a.count).map((a) => `${a.file} (${a.why})`)).toEqual([]);
  });

  test("the gate writes each of them (the patterns are not dead)", () => {
    const gate = readFileSync(join(ROOT, GATE), "utf8");
    for (const p of PATTERNS.filter((x) => !x.what.startsWith("raw SQL"))) expect([p.what, [...gate.matchAll(p.re)].length > 0]).toEqual([p.what, true]);
  });

  test("ROLE_HIERARCHY and PERMISSION_NOT_HELD are raised only by the hierarchy rule", () => {
    const raisers = sources().filter((s) => /["'`](ROLE_HIERARCHY|PERMISSION_NOT_HELD)["'`]/.test(s.text)).map((s) => s.file);
    expect(raisers).toEqual(["src/features/permissions/hierarchy.ts"]);
  });

  test("private-channel membership of community channels changes only through the gate", () => {
    // channel_members is also the DM participant list (dms/) and is cleared when someone leaves or
    // is removed from the community (removeMembershipRows, after the gate or by themselves).
    const writers = sources()
      .filter((s) => s.file !== GATE && /(insertInto|deleteFrom)\(\s*["'`]channel_members["'`]/.test(s.text))
      .map((s) => s.file)
      .sort();
    expect(writers).toEqual(["src/features/channels/service.ts", "src/features/communities/service.ts", "src/features/dms/service.ts"]);
    const channels = sources().find((s) => s.file === "src/features/channels/service.ts")!.text;
    // The one insert there: the creator of a private channel is its first member.
    expect([...channels.matchAll(/insertInto\(\s*["'`]channel_members["'`]\)/g)].length).toBe(1);
    expect(channels).not.toMatch(/deleteFrom\(\s*["'`]channel_members["'`]/);
  });
});
