/**
 * hearthctl (issue 15 §4, docs/admin.md "Command line") as an operator runs it: `bun run
 * hearthctl …` as a real process beside a real Hearth process.
 *  - PostgreSQL (+ Redis when set): users registered through the API; the CLI suspends Bob (his
 *    open socket on the server closes, his sign-in answers ACCOUNT_SUSPENDED, the entry is
 *    audited with the user agent "hearthctl"), is idempotent, lifts it, lists and finds users,
 *    creates an invite that registers someone, refuses the owner as a target, and verifies the
 *    audit chain (exit 1 and the place once a row is edited; anchors checked). Exit codes 2/3.
 *  - PGlite: with the server running the CLI refuses with exit 4 (the server holds the embedded
 *    database); stopped, it works.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEmptyPostgresDatabase, TEST_DATABASE_URL } from "../helpers/db.ts";
import { REPO_ROOT, spawnHearth, type HearthProcess } from "../helpers/process.ts";
import { connectWithToken } from "../helpers/ws.ts";

const REDIS_URL = process.env.REDIS_URL?.trim() || undefined;
if (!TEST_DATABASE_URL) console.log("[skip] hearthctl beside a running server on PostgreSQL: TEST_DATABASE_URL is not set");
const SETUP_TOKEN = "hearthctl-test-setup-token";
const work = mkdtempSync(join(tmpdir(), "hearth-ctl-"));
const processes: HearthProcess[] = [];
const databases: { drop(): Promise<void> }[] = [];

afterAll(async () => {
  for (const p of processes) await p.stop().catch(() => {});
  for (const d of databases) await d.drop().catch(() => {});
  rmSync(work, { recursive: true, force: true });
}, 60_000);

function ctl(env: Record<string, string>, ...args: string[]): { code: number; out: string; err: string } {
  const r = Bun.spawnSync(["bun", "run", "hearthctl", ...args], { cwd: REPO_ROOT, env: { PATH: process.env.PATH!, HOME: process.env.HOME!, ...env }, stdout: "pipe", stderr: "pipe", timeout: 60_000 });
  return { code: r.exitCode ?? -1, out: r.stdout.toString(), err: r.stderr.toString() };
}

async function api(base: string, method: string, path: string, token: string | null, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}${path}`, { method, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { "content-type": "application/json" }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const register = async (base: string, username: string, extra: Record<string, unknown> = {}) =>
  api(base, "POST", "/api/auth/register", null, { username, email: `${username}@example.test`, password: `${username} password 1234 long`, ...extra });

describe.skipIf(!TEST_DATABASE_URL)("hearthctl beside a running server (PostgreSQL)", () => {
  test("suspend closes the socket and blocks sign-in, idempotently; unsuspend, list, find, invite, refusals, audit verify", async () => {
    const db = (await createEmptyPostgresDatabase())!;
    databases.push(db);
    const env = { DATABASE_URL: db.url, DATA_DIR: join(work, "pg"), SETUP_TOKEN, REGISTRATION_MODE: "invite_only", ...(REDIS_URL ? { REDIS_URL } : {}) };
    const server = spawnHearth({ env: { ...env, LISTEN_ADDR: "127.0.0.1:0" } });
    processes.push(server);
    const base = await server.ready(120_000);
    const owner = await register(base, "ctlowner", { setup_token: SETUP_TOKEN });
    expect(owner.status).toBe(201);

    // An invite made by the CLI registers Bob (invite_only).
    const invite = ctl(env, "invite", "create", "--max-uses", "1", "--json");
    expect([invite.code, invite.err]).toEqual([0, expect.any(String)]);
    const code = JSON.parse(invite.out).code as string;
    const bob = await register(base, "ctlbob", { invite_code: code });
    expect(bob.status).toBe(201);

    const listed = ctl(env, "users", "list", "--json");
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.out).users as { username: string }[]).map((u) => u.username).sort()).toEqual(["ctlbob", "ctlowner"]);
    const found = ctl(env, "users", "find", "ctlb");
    expect([found.code, found.out]).toEqual([0, expect.stringContaining("ctlbob")]);
    expect(found.out).not.toContain("ctlowner");

    const socket = await connectWithToken(`${base.replace("http", "ws")}/ws`, bob.body.access_token);
    const suspended = ctl(env, "users", "suspend", "CTLBOB", "--reason", "spam from the console");
    expect([suspended.code, suspended.out.trim()]).toEqual([0, "Suspended ctlbob; their sessions ended."]);
    // With Redis the server hears it at once; without, its 30-second session sweep closes it.
    const closed = await Promise.race([socket.closed, Bun.sleep(REDIS_URL ? 10_000 : 45_000).then(() => null)]);
    expect(closed?.code).toBeGreaterThanOrEqual(4000);
    const login = await api(base, "POST", "/api/auth/login", null, { username: "ctlbob", password: "ctlbob password 1234 long" });
    expect([login.status, login.body.error.code]).toEqual([403, "ACCOUNT_SUSPENDED"]);
    const again = ctl(env, "users", "suspend", "ctlbob", "--reason", "twice");
    expect([again.code, again.out.trim()]).toEqual([0, "ctlbob is already suspended."]);

    const owners = await api(base, "GET", `/api/admin/audit-log?action=user_suspended`, owner.body.access_token);
    expect(owners.body.entries).toHaveLength(1);
    expect(owners.body.entries[0]).toMatchObject({ user_agent: "hearthctl", actor_username: "ctlowner", metadata: { reason: "spam from the console" } });

    expect(ctl(env, "users", "unsuspend", "ctlbob").code).toBe(0);
    expect(ctl(env, "users", "unsuspend", "ctlbob").out.trim()).toBe("ctlbob is not suspended.");
    expect((await api(base, "POST", "/api/auth/login", null, { username: "ctlbob", password: "ctlbob password 1234 long" })).status).toBe(200);
    const ended = ctl(env, "users", "end-sessions", "ctlbob", "--json");
    expect([ended.code, JSON.parse(ended.out).revoked_count]).toEqual([0, 1]);

    // A reset link to hand over; powers granted and taken back.
    const reset = ctl(env, "users", "reset-link", "ctlbob", "--json");
    expect(reset.code).toBe(0);
    expect(JSON.parse(reset.out).reset_url).toMatch(/\/reset-password\/[A-Za-z0-9_-]{20,}$/);
    const granted = ctl(env, "admin", "grant", "ctlbob", "--powers", "audit,users", "--json");
    expect([granted.code, JSON.parse(granted.out).powers.sort()]).toEqual([0, ["audit", "users"]]);
    expect((await api(base, "GET", "/api/admin/audit-log?limit=1", (await api(base, "POST", "/api/auth/login", null, { username: "ctlbob", password: "ctlbob password 1234 long" })).body.access_token)).status).toBe(200);
    expect(ctl(env, "admin", "grant", "ctlbob", "--powers", "everything").code).toBe(2);
    expect(ctl(env, "admin", "revoke", "ctlbob").code).toBe(0);
    expect(ctl(env, "admin", "grant", "ctlowner").code).toBe(3);

    // Refusals and usage errors.
    const onOwner = ctl(env, "users", "suspend", "ctlowner", "--reason", "no");
    expect([onOwner.code, onOwner.err]).toEqual([3, expect.stringContaining("owner")]);
    expect(ctl(env, "users", "suspend", "nobody-here", "--reason", "x").code).toBe(3);
    expect(ctl(env, "users", "suspend", "ctlbob").code).toBe(2);
    expect(ctl(env, "users", "suspend", "ctlbob", "--reason", " ").code).toBe(2);
    expect(ctl(env, "frobnicate").code).toBe(2);
    expect(ctl(env, "users", "list", "--filter", "everyone").code).toBe(2);
    expect(ctl(env, "setup-link").code).toBe(3);

    // The audit chain: intact; an anchor taken now checks; an edited row is named, exit 1.
    const anchor = ctl(env, "audit", "anchor").out.trim();
    expect(anchor).toMatch(/^hearth-audit-anchor v1 \d+ [0-9a-f]{64}$/);
    const verified = ctl(env, "audit", "verify", "--anchor", anchor);
    expect([verified.code, verified.out]).toEqual([0, expect.stringContaining("Chain intact")]);
    const victim = Bun.spawnSync(["psql", db.url, "-Atc", "update audit_log set action = 'login' where chain_pos = 2 returning chain_pos"]);
    expect(victim.stdout.toString().split("\n")[0]).toBe("2");
    const broken = ctl(env, "audit", "verify", "--json");
    expect(broken.code).toBe(1);
    expect(JSON.parse(broken.out)).toMatchObject({ ok: false, broken: { pos: 2, reason: "changed" } });
    expect(ctl(env, "audit", "verify", "--anchor", "not an anchor").code).toBe(2);
    expect(await server.stop()).toBe(0);
  }, 240_000);
});

describe("hearthctl with the embedded database", () => {
  test("refuses with exit 4 while the server holds the database; works once it is stopped", async () => {
    const env = { DATA_DIR: join(work, "embedded"), SETUP_TOKEN };
    const server = spawnHearth({ env: { ...env, LISTEN_ADDR: "127.0.0.1:0" } });
    processes.push(server);
    const base = await server.ready(120_000);
    expect((await register(base, "embowner", { setup_token: SETUP_TOKEN })).status).toBe(201);
    const locked = ctl(env, "users", "list");
    expect(locked.code).toBe(4);
    expect(locked.err).toContain("stop it first");
    expect(await server.stop()).toBe(0);
    const listed = ctl(env, "users", "list");
    expect([listed.code, listed.out]).toEqual([0, expect.stringContaining("embowner")]);
    expect(ctl(env, "audit", "verify").code).toBe(0);
  }, 180_000);
});
