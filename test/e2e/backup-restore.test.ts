/**
 * Issue 16 §6: backups proven by restore, on both databases, checked in a browser. A real Hearth
 * process (`bun src/main.ts`) is populated through real browsers: Alice and Bob sign in with the
 * login form, talk in an end-to-end encrypted channel and Bob sends an encrypted file. The server
 * is stopped, `scripts/backup.sh` takes a backup, `scripts/restore.sh` restores it into an EMPTY
 * place (a new DATA_DIR for the embedded database; a new PostgreSQL database and a new files
 * directory in url mode, with only the secrets put back first, as docs/operations.md "Restore"
 * says), and every table's row count is compared with the original. A new process then serves the
 * restored data on the same address (IndexedDB is per origin: the browsers keep their device
 * keys, which never leave them), both users sign in again through the form, the history decrypts,
 * and the file downloads with the same SHA-256.
 *
 * PGlite always; PostgreSQL when TEST_DATABASE_URL is set and pg_dump/pg_restore/psql exist
 * (skipped with a printed reason otherwise).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { PGlite } from "@electric-sql/pglite";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { collectProblems, launchBrowser, type PageProblems } from "../helpers/browser.ts";
import { seesDecrypted } from "../helpers/chat-e2e.ts";
import { createEmptyPostgresDatabase, TEST_DATABASE_URL } from "../helpers/db.ts";
import { REPO_ROOT, spawnHearth, type HearthProcess } from "../helpers/process.ts";

const browser: Browser | null = await launchBrowser();
const WAIT = { timeout: 45_000 };
const SETUP_TOKEN = "backup-restore-setup-token";
const RUN = crypto.randomUUID().replace(/-/g, "").slice(0, 12);

const hasCommand = (cmd: string) => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;
const pgTools = ["pg_dump", "pg_restore", "psql"].every(hasCommand);
const pgMissing = !TEST_DATABASE_URL ? "TEST_DATABASE_URL is not set" : !pgTools ? "pg_dump, pg_restore or psql is missing" : undefined;
if (pgMissing) console.log(`[skip] backup → restore in a browser, PostgreSQL: ${pgMissing}`);

const work = mkdtempSync(join(tmpdir(), "hearth-backup-restore-"));
const contexts: BrowserContext[] = [];
const processes: HearthProcess[] = [];
const databases: { drop(): Promise<void> }[] = [];

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  for (const p of processes) await p.stop().catch(() => {});
  for (const d of databases) await d.drop().catch(() => {});
  rmSync(work, { recursive: true, force: true });
}, 120_000);

type User = { username: string; password: string };
type Session = { context: BrowserContext; page: Page; problems: PageProblems };

function run(cmd: string[], env: Record<string, string> = {}): string {
  const r = spawnSync(cmd[0]!, cmd.slice(1), { cwd: REPO_ROOT, env: { PATH: process.env.PATH!, HOME: process.env.HOME!, ...env }, encoding: "utf8", timeout: 120_000 });
  if (r.status !== 0) throw new Error(`${cmd.join(" ")} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

async function api(base: string, method: string, path: string, token: string | null, body?: unknown): Promise<any> {
  const headers: Record<string, string> = { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { "content-type": "application/json" }) };
  const res = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** Alice (the admin, through the setup token) and Bob in one community; returns #general's page. */
async function populate(base: string, alice: User, bob: User): Promise<string> {
  const register = async (u: User, extra: Record<string, unknown>) =>
    (await api(base, "POST", "/api/auth/register", null, { username: u.username, email: `${u.username}@example.test`, password: u.password, ...extra })).access_token as string;
  const a = await register(alice, { setup_token: SETUP_TOKEN });
  const b = await register(bob, {});
  const community = await api(base, "POST", "/api/communities", a, { name: `Backups ${RUN}` });
  const invite = await api(base, "POST", `/api/communities/${community.id}/invites`, a, {});
  await api(base, "POST", `/api/community-invites/${invite.code}/accept`, b);
  const groups = await api(base, "GET", `/api/communities/${community.id}/groups`, a);
  return `/c/${community.id}/ch/${groups.groups[0].channels[0].id}`;
}

async function newSession(): Promise<Session> {
  const context = await browser!.newContext({ viewport: { width: 1200, height: 800 }, reducedMotion: "reduce", acceptDownloads: true });
  contexts.push(context);
  const page = await context.newPage();
  return { context, page, problems: await collectProblems(page) };
}

/** Signs in through the login form (no cookies planted) and opens the channel. */
async function signInAndOpen(s: Session, base: string, user: User, channelPath: string): Promise<void> {
  await s.page.goto(`${base}/login?next=${encodeURIComponent(channelPath)}`, { waitUntil: "load" });
  await s.page.getByLabel("Username").fill(user.username);
  await s.page.getByLabel("Password").fill(user.password);
  await s.page.getByRole("button", { name: "Sign in" }).click();
  await s.page.waitForURL((url) => url.pathname === channelPath, WAIT);
  await s.page.waitForSelector("[data-chat-ready]", WAIT).catch(async (error) => {
    const state = await s.page.evaluate(() => ({ error: document.querySelector<HTMLElement>("[data-chat-channel]")?.dataset.chatError, status: document.querySelector("[data-chat-status]")?.textContent }));
    throw new Error(`chat did not start: ${JSON.stringify(state)} ${JSON.stringify(s.problems.all())} ${error}`);
  });
}

async function say(s: Session, text: string): Promise<void> {
  const input = s.page.locator("#composer-input");
  await s.page.waitForFunction(() => !document.querySelector<HTMLTextAreaElement>("#composer-input")?.disabled, undefined, WAIT);
  await input.fill(text);
  await input.press("Enter");
  await s.page.waitForFunction((t) => [...document.querySelectorAll<HTMLElement>(".msg")].some((m) => m.textContent?.includes(t) && m.dataset.messageId && !m.classList.contains("msg--pending")), text, WAIT);
}

/** Attaches `file` with the paperclip and sends it with `caption`; waits until the server has it. */
async function sendFile(s: Session, file: { name: string; buffer: Buffer }, caption: string): Promise<void> {
  const chooser = s.page.waitForEvent("filechooser", WAIT);
  await s.page.getByRole("button", { name: "Attach a file" }).click();
  await (await chooser).setFiles([{ name: file.name, mimeType: "text/plain", buffer: file.buffer }]);
  await s.page.waitForFunction(() => document.querySelectorAll(".file-tray__item[data-phase='done']").length === 1, undefined, WAIT);
  await say(s, caption);
}

async function downloadSha(s: Session, name: string): Promise<string> {
  const card = s.page.locator(".file-card", { hasText: name });
  await card.waitFor(WAIT);
  const download = s.page.waitForEvent("download", WAIT);
  await card.getByRole("button", { name: new RegExp(`^Download ${name}`) }).click();
  const saved = readFileSync((await (await download).path())!);
  return new Bun.CryptoHasher("sha256").update(saved).digest("hex");
}

const TABLES = "select table_name as t from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1";

/** Row count of every table of the embedded database in `dataDir` (the server must be stopped). */
async function pgliteCounts(dataDir: string): Promise<Record<string, number>> {
  const db = await PGlite.create(join(dataDir, "db"));
  try {
    const out: Record<string, number> = {};
    for (const { t } of (await db.query<{ t: string }>(TABLES)).rows) out[t] = Number((await db.query<{ n: number }>(`select count(*)::int as n from "${t}"`)).rows[0]!.n);
    return out;
  } finally {
    await db.close();
  }
}

function postgresCounts(url: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of run(["psql", url, "-Atc", TABLES]).split("\n").filter(Boolean)) out[t] = Number(run(["psql", url, "-Atc", `select count(*) from "${t}"`]).trim());
  return out;
}

type Mode = {
  name: string;
  skip: boolean;
  /** The original instance's environment. */
  original(): Promise<Record<string, string>>;
  counts(env: Record<string, string>): Promise<Record<string, number>>;
  backup(env: Record<string, string>, out: string): void;
  /** Restores into an empty place; returns the restored instance's environment. */
  restore(env: Record<string, string>, out: string): Promise<Record<string, string>>;
};

const common = { SETUP_TOKEN, REGISTRATION_MODE: "open", COMMUNITY_CREATION_MODE: "anyone" };

const modes: Mode[] = [
  {
    name: "embedded PGlite",
    skip: false,
    original: async () => ({ ...common, DATA_DIR: join(work, "embedded", "data") }),
    counts: (env) => pgliteCounts(env.DATA_DIR!),
    backup: (env, out) => void run(["scripts/backup.sh", "--mode", "embedded", "--data-dir", env.DATA_DIR!, "--out", out]),
    restore: async (_env, out) => {
      const restored = join(work, "embedded", "restored");
      expect(existsSync(restored)).toBe(false);
      run(["scripts/restore.sh", out, "--data-dir", restored, "--yes"]);
      return { ...common, DATA_DIR: restored };
    },
  },
  {
    name: "PostgreSQL",
    skip: !!pgMissing,
    original: async () => {
      const db = (await createEmptyPostgresDatabase())!;
      databases.push(db);
      return { ...common, DATABASE_URL: db.url, DATA_DIR: join(work, "pg", "data") };
    },
    counts: async (env) => postgresCounts(env.DATABASE_URL!),
    backup: (env, out) => void run(["scripts/backup.sh", "--mode", "url", "--database-url", env.DATABASE_URL!, "--data-dir", env.DATA_DIR!, "--out", out]),
    restore: async (env, out) => {
      const db = (await createEmptyPostgresDatabase())!;
      databases.push(db);
      const files = join(work, "pg", "restored-files");
      run(["scripts/restore.sh", out, "--database-url", db.url, "--files-dir", files, "--yes"]);
      // A new machine: the secrets (DATA_DIR's keys, kept apart from backups) are put back, the
      // original files are gone; only the backup's copy can serve the download below.
      rmSync(join(env.DATA_DIR!, "files"), { recursive: true, force: true });
      return { ...common, DATABASE_URL: db.url, DATA_DIR: env.DATA_DIR!, FILE_STORAGE_PATH: files };
    },
  },
];

for (const mode of modes) {
  describe.skipIf(!browser || mode.skip)(`backup → restore, ${mode.name}`, () => {
    test("history decrypts and the file downloads in the browser after a restore into an empty instance; every table's row count matches", async () => {
      const marker = `${mode.name.split(" ")[0]}-${RUN}`;
      const alice: User = { username: `alice${RUN.slice(0, 6)}`, password: `alice password ${RUN}` };
      const bob: User = { username: `bob${RUN.slice(0, 6)}`, password: `bob password ${RUN}` };
      const env = await mode.original();

      const first = spawnHearth({ env: { ...env, LISTEN_ADDR: "127.0.0.1:0" } });
      processes.push(first);
      const base = await first.ready(120_000);
      const channelPath = await populate(base, alice, bob);
      const aliceS = await newSession();
      const bobS = await newSession();
      await signInAndOpen(aliceS, base, alice, channelPath);
      await signInAndOpen(bobS, base, bob, channelPath);
      await say(aliceS, `before the backup, from Alice ${marker}`);
      await seesDecrypted(bobS.page, `before the backup, from Alice ${marker}`, WAIT);
      const file = { name: `notes-${marker}.txt`, buffer: Buffer.from(`a file in the backup ${marker}\n`.repeat(200)) };
      const fileSha = new Bun.CryptoHasher("sha256").update(file.buffer).digest("hex");
      await sendFile(bobS, file, `the file, from Bob ${marker}`);
      await seesDecrypted(aliceS.page, `the file, from Bob ${marker}`, WAIT);
      expect(await first.stop()).toBe(0);

      const before = await mode.counts(env);
      expect(before.users).toBe(2);
      expect(before.messages).toBeGreaterThanOrEqual(2);
      expect(before.files).toBe(1);
      const out = join(work, `backup-${mode.name.split(" ")[0]}`);
      mode.backup(env, out);
      const restoredEnv = await mode.restore(env, out);
      expect(await mode.counts(restoredEnv)).toEqual(before);

      // Same address, so the browsers' IndexedDB (their device keys) belongs to the restored origin.
      const second = spawnHearth({ env: { ...restoredEnv, LISTEN_ADDR: base.slice("http://".length) } });
      processes.push(second);
      expect(await second.ready(120_000)).toBe(base);
      for (const s of [aliceS, bobS]) await s.context.clearCookies();
      await signInAndOpen(aliceS, base, alice, channelPath);
      await signInAndOpen(bobS, base, bob, channelPath);
      for (const s of [aliceS, bobS]) {
        await seesDecrypted(s.page, `before the backup, from Alice ${marker}`, WAIT);
        await seesDecrypted(s.page, `the file, from Bob ${marker}`, WAIT);
      }
      expect(await downloadSha(aliceS, file.name)).toBe(fileSha);
      // And the restored instance keeps working: a new message goes both ways.
      await say(bobS, `after the restore, from Bob ${marker}`);
      await seesDecrypted(aliceS.page, `after the restore, from Bob ${marker}`, WAIT);
      expect([...aliceS.problems.all(), ...bobS.problems.all()].filter((p) => !/WebSocket|net::ERR_CONNECTION_REFUSED|Failed to load resource/.test(p))).toEqual([]);
      expect(await second.stop()).toBe(0);
    }, 300_000);
  });
}
