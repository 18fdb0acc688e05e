/**
 * Data rights, exports (issue 15 §3, docs/admin.md "Data rights"): the user's own zip (streamed,
 * paged, ciphertext only, rate limited, audited), the admin's export behind a fresh
 * re-authentication (per session, five minutes, TOTP when on), encrypted to a passphrase
 * (hearth-sealed v1) and holding nothing of other users; the hearthctl decrypt path.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { TestContext } from "../../helpers/app.ts";
import { cookieSignIn, createUser, signIn, type TestUser } from "../../helpers/users.ts";
import { client, expectOk, messagingContext, populatedCommunity, send, type Client, type Populated } from "../messages/helpers.ts";
import { openSealed, SealError } from "../../../src/features/data-rights/index.ts";
import { MESSAGE_PAGE } from "../../../src/features/data-rights/collect.ts";
import { bytesOf, enableTotp, reauthedSession, unzipText } from "./helpers.ts";

let ctx: TestContext;
let world: Populated;
let victim: Client;
let other: Client;
let admin: TestUser;
const sent: { id: string; ciphertext: string }[] = [];
const OTHER_MARKER = "OTHERPERSON-MARKER-7f3a";

beforeAll(async () => {
  ctx = await messagingContext();
  world = await populatedCommunity(ctx, "Export community");
  victim = world.member;
  other = await client(ctx, { displayName: OTHER_MARKER });
  admin = await createUser(ctx, { isAdmin: true, adminPowers: ["privacy"] });
  // Two pages and a bit of the victim's messages (bounded memory: the export pages through them).
  const rows = Array.from({ length: MESSAGE_PAGE * 2 + 7 }, (_, i) => i);
  for (const i of rows.slice(0, 3)) {
    const m = await send(victim, world.generalChannelId, { mentions: [world.owner.user.id] });
    sent.push({ id: m.id, ciphertext: m.ciphertext });
    void i;
  }
  // The rest straight in the database (the send path is measured elsewhere).
  const channel = await ctx.database.db.selectFrom("channels").select("last_seq").where("id", "=", world.generalChannelId).executeTakeFirstOrThrow();
  let seq = Number(channel.last_seq);
  const values = rows.slice(3).map(() => {
    seq += 1;
    const ciphertext = crypto.getRandomValues(new Uint8Array(48));
    const id = Bun.randomUUIDv7();
    sent.push({ id, ciphertext: Buffer.from(ciphertext).toString("base64url") });
    return { id, channel_id: world.generalChannelId, seq, sender_id: victim.user.id, sender_device_id: "dev1", client_id: crypto.randomUUID(), scheme: "sk", ciphertext };
  });
  await ctx.database.db.insertInto("messages").values(values).execute();
  await ctx.database.db.updateTable("channels").set({ last_seq: seq }).where("id", "=", world.generalChannelId).execute();
  // Others' data near the victim: their messages, a block of the victim, the victim's block of them.
  await send(other, world.generalChannelId).catch(() => undefined);
  await send(world.owner, world.generalChannelId, { mentions: [victim.user.id] });
  await expectOk(victim.call("PUT", `/api/users/${other.user.id}/block`), 204).catch(() => undefined);
  await ctx.database.db.insertInto("user_blocks").values({ blocker_id: victim.user.id, blocked_id: other.user.id }).onConflict((oc) => oc.doNothing()).execute();
  await ctx.database.db.insertInto("key_backups").values({ user_id: victim.user.id, version: 1, salt: new Uint8Array(32).fill(1), nonce: new Uint8Array(24).fill(2), ciphertext: new Uint8Array([9, 9, 9]), updated_at: new Date() }).execute();
}, 120_000);
afterAll(async () => {
  await ctx.close();
});

test("self-service export: a zip of every kind of data, every message as the ciphertext stored, paged, audited", async () => {
  const res = await ctx.request("/api/account/export", { headers: victim.headers });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("application/zip");
  expect(res.headers.get("content-disposition")).toContain(`hearth-export-${victim.user.username}`);
  expect(res.body).toBeInstanceOf(ReadableStream);
  const files = unzipText(await bytesOf(res));
  expect(Object.keys(files).sort()).toEqual(["README.txt", "account.json", "audit.json", "blocks.json", "bookmarks.json", "key-backup.json", "memberships.json", "messages.jsonl", "sessions.json"]);
  const account = JSON.parse(files["account.json"]!);
  expect(account.user.id).toBe(victim.user.id);
  expect(files["account.json"]).not.toContain("password");
  expect(JSON.parse(files["memberships.json"]!).communities.map((c: { name: string }) => c.name)).toContain("Export community");
  expect(JSON.parse(files["blocks.json"]!).map((b: { user_id: string }) => b.user_id)).toContain(other.user.id);
  expect(JSON.parse(files["key-backup.json"]!).ciphertext).toBe(Buffer.from([9, 9, 9]).toString("base64url"));
  expect(JSON.parse(files["sessions.json"]!).length).toBeGreaterThan(0);
  const lines = files["messages.jsonl"]!.trim().split("\n").map((l) => JSON.parse(l));
  expect(lines.length).toBe(sent.length);
  const byId = new Map(lines.map((m) => [m.id, m]));
  for (const s of sent) expect(byId.get(s.id)?.ciphertext).toBe(s.ciphertext);
  expect(lines[0]).toMatchObject({ channel_id: world.generalChannelId, channel_kind: "text", scheme: "sk", sender_device_id: "dev1" });
  expect(lines[0].mentions).toBeUndefined();
  const audit = await ctx.database.db.selectFrom("audit_log").select(["metadata"]).where("actor_id", "=", victim.user.id).where("action", "=", "data_exported").execute();
  expect(audit.length).toBe(1);
  expect(audit[0]!.metadata).toEqual({ messages: sent.length });
});

test("self-service export: signed out → 401; a personal access token → 403 TOKEN_NOT_ALLOWED; rate limited (429 EXPORT_RATE_LIMITED)", async () => {
  expect((await ctx.request("/api/account/export")).status).toBe(401);
  const someone = await client(ctx);
  const created = await expectOk(someone.call("POST", "/api/account/tokens", { name: "export", scope: "write" }), 201);
  const viaToken = await ctx.request("/api/account/export", { headers: { authorization: `Bearer ${created.token}` } });
  expect([viaToken.status, (await viaToken.json()).error.code]).toEqual([403, "TOKEN_NOT_ALLOWED"]);
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) {
    const res = await ctx.request("/api/account/export", { headers: someone.headers });
    statuses.push(res.status);
    const body = await res.text();
    if (res.status === 429) expect(body).toContain("EXPORT_RATE_LIMITED");
  }
  expect(statuses).toEqual([200, 200, 200, 429]);
});

test("self-service export started by another site (a cross-site link or navigation) → 403 CSRF_REJECTED, nothing exported; from the page or a typed URL it works", async () => {
  const { headers } = await cookieSignIn(ctx, (await client(ctx)).user);
  for (const site of ["cross-site", "same-site"]) {
    const res = await ctx.request("/api/account/export", { headers: { ...headers, "sec-fetch-site": site } });
    expect([res.status, (await res.json()).error.code]).toEqual([403, "CSRF_REJECTED"]);
  }
  for (const site of ["same-origin", "none"]) {
    const res = await ctx.request("/api/account/export", { headers: { ...headers, "sec-fetch-site": site } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("zip");
    await res.arrayBuffer();
  }
});

test("Settings › Your data: the page offers the download and the decrypt page; both load the decrypt chunk only", async () => {
  const { headers } = await cookieSignIn(ctx, victim.user);
  for (const path of ["/settings/data", "/settings/data/decrypt"]) {
    const res = await ctx.request(path, { headers });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toMatch(/export-decrypt-[a-z0-9]+\.js/);
    expect(html).not.toMatch(/chat-[a-z0-9]+\.js/);
  }
  expect(await (await ctx.request("/settings/data", { headers })).text()).toContain('href="/api/account/export"');
  expect((await ctx.request("/settings/data")).status).toBeOneOf([302, 303, 401]);
});

test("admin export without a fresh re-authentication → 403 REAUTH_REQUIRED; wrong password → 400; the grant is per session and lasts 5 minutes", async () => {
  const { headers } = await signIn(ctx, admin);
  const json = { ...headers, "content-type": "application/json" };
  const exportOnce = (h: Record<string, string>) => ctx.request(`/api/admin/users/${victim.user.id}/export`, { method: "POST", headers: h, body: JSON.stringify({ passphrase: "a long passphrase here" }) });
  let res = await exportOnce(json);
  expect(res.status).toBe(403);
  expect((await res.json()).error.code).toBe("REAUTH_REQUIRED");
  res = await ctx.request("/api/admin/reauth", { method: "POST", headers: json, body: JSON.stringify({ password: "wrong password!" }) });
  expect(res.status).toBe(400);
  expect((await res.json()).error.code).toBe("INVALID_PASSWORD");
  res = await ctx.request("/api/admin/reauth", { method: "POST", headers: json, body: JSON.stringify({ password: admin.password }) });
  expect(res.status).toBe(200);
  expect(Date.parse((await res.json()).reauthenticated_until)).toBeGreaterThan(Date.now() + 4 * 60_000);
  expect((await exportOnce(json)).status).toBe(200);
  // Another session of the same admin holds no grant.
  const second = await signIn(ctx, admin);
  res = await exportOnce({ ...second.headers, "content-type": "application/json" });
  expect(res.status).toBe(403);
  // Six minutes later the grant is gone.
  await ctx.database.db.updateTable("sessions").set({ reauthenticated_at: new Date(Date.now() - 6 * 60_000) }).where("user_id", "=", admin.id).execute();
  res = await exportOnce(json);
  expect(res.status).toBe(403);
  expect((await res.json()).error.code).toBe("REAUTH_REQUIRED");
  // The wipe is refused the same way, and nothing happened.
  res = await ctx.request(`/api/admin/users/${victim.user.id}/wipe`, { method: "POST", headers: json, body: JSON.stringify({ confirm_username: victim.user.username }) });
  expect(res.status).toBe(403);
  expect((await res.json()).error.code).toBe("REAUTH_REQUIRED");
  expect(await ctx.database.db.selectFrom("users").select("id").where("id", "=", victim.user.id).executeTakeFirst()).toBeDefined();
  const reauths = await ctx.database.db.selectFrom("audit_log").select(["action", "metadata"]).where("actor_id", "=", admin.id).where("action", "in", ["reauthenticated", "verification_failed"]).execute();
  expect(reauths.map((r) => r.action).sort()).toEqual(["reauthenticated", "verification_failed"]);
});

test("re-authentication with two-factor on needs the code too", async () => {
  const totpAdmin = await createUser(ctx, { isAdmin: true, adminPowers: ["privacy"] });
  const code = await enableTotp(ctx, totpAdmin);
  const { headers } = await signIn(ctx, totpAdmin);
  const json = { ...headers, "content-type": "application/json" };
  let res = await ctx.request("/api/admin/reauth", { method: "POST", headers: json, body: JSON.stringify({ password: totpAdmin.password }) });
  expect(res.status).toBe(400);
  expect((await res.json()).error.code).toBe("TOTP_REQUIRED");
  res = await ctx.request("/api/admin/reauth", { method: "POST", headers: json, body: JSON.stringify({ password: totpAdmin.password, totp_code: "000000" === code() ? "111111" : "000000" }) });
  expect(res.status).toBe(400);
  expect((await res.json()).error.code).toBe("INVALID_TOTP");
  res = await ctx.request("/api/admin/reauth", { method: "POST", headers: json, body: JSON.stringify({ password: totpAdmin.password, totp_code: code() }) });
  expect(res.status).toBe(200);
});

let sealedFile = "";
const PASSPHRASE = "correct horse export passphrase";

test("admin export: encrypted to the passphrase, decrypts, holds the user's data and nothing of other users", async () => {
  const headers = await reauthedSession(ctx, admin);
  const res = await ctx.request(`/api/admin/users/${victim.user.id}/export`, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify({ passphrase: PASSPHRASE }) });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-disposition")).toContain(".zip.hearthseal");
  const sealed = await bytesOf(res);
  expect(Buffer.from(sealed.subarray(0, 12)).toString()).toBe("HEARTHSEAL1\n");
  // Ciphertext: the victim's username (in account.json) is not readable in the file.
  expect(Buffer.from(sealed).includes(Buffer.from(victim.user.username))).toBe(false);
  await expect(openSealed(sealed, "not the passphrase!")).rejects.toBeInstanceOf(SealError);
  const truncated = sealed.subarray(0, sealed.length - 5);
  await expect(openSealed(truncated, PASSPHRASE)).rejects.toBeInstanceOf(SealError);
  const zip = await openSealed(sealed, PASSPHRASE);
  const files = unzipText(zip);
  expect(JSON.parse(files["account.json"]!).user.username).toBe(victim.user.username);
  expect(files["messages.jsonl"]!.trim().split("\n").length).toBe(sent.length);
  const everything = Object.values(files).join("\n");
  const others = [world.owner, world.admin, world.moderator, world.outsider, other].map((c) => c.user);
  const found = others.flatMap((u) => [u.id, u.username, u.displayName, u.email].filter((v) => everything.includes(v)));
  expect(found).toEqual([]);
  expect(everything).not.toContain(OTHER_MARKER);
  expect(everything).not.toContain(admin.id);
  expect(JSON.parse(files["blocks.json"]!)).toMatchObject({ count: 1 });
  const entry = await ctx.database.db.selectFrom("audit_log").select(["actor_id", "target_id", "metadata"]).where("action", "=", "user_data_exported").where("target_id", "=", victim.user.id).orderBy("created_at", "desc").executeTakeFirstOrThrow();
  expect(entry.actor_id).toBe(admin.id);
  expect(JSON.stringify(entry.metadata)).not.toContain(PASSPHRASE);
  const dir = mkdtempSync(join(tmpdir(), "hearth-seal-"));
  sealedFile = join(dir, "export.zip.hearthseal");
  writeFileSync(sealedFile, sealed);
}, 120_000);

test("hearthctl export decrypt FILE --out OUT: the documented decrypt path (exit 0; wrong passphrase exit 1)", async () => {
  expect(sealedFile).not.toBe("");
  const out = `${sealedFile}.zip`;
  const root = resolve(import.meta.dir, "../../..");
  const ok = Bun.spawnSync(["bun", "src/cli/hearthctl.ts", "export", "decrypt", sealedFile, "--out", out], { cwd: root, env: { ...process.env, HEARTH_EXPORT_PASSPHRASE: PASSPHRASE } });
  expect([ok.exitCode, ok.stderr.toString()]).toEqual([0, ""]);
  expect(JSON.parse(unzipText(new Uint8Array(readFileSync(out)))["account.json"]!).user.id).toBe(victim.user.id);
  const bad = Bun.spawnSync(["bun", "src/cli/hearthctl.ts", "export", "decrypt", sealedFile, "--out", `${out}.bad`], { cwd: root, env: { ...process.env, HEARTH_EXPORT_PASSPHRASE: "wrong wrong wrong" } });
  expect(bad.exitCode).toBe(1);
  expect(bad.stderr.toString()).toContain("Wrong passphrase");
}, 120_000);

test("admin export: a short passphrase → 400 PASSPHRASE_TOO_SHORT; the owner as target → 403; an unknown id → 404", async () => {
  const headers = { ...(await reauthedSession(ctx, admin)), "content-type": "application/json" };
  let res = await ctx.request(`/api/admin/users/${victim.user.id}/export`, { method: "POST", headers, body: JSON.stringify({ passphrase: "short" }) });
  expect([res.status, (await res.json()).error.code]).toEqual([400, "PASSPHRASE_TOO_SHORT"]);
  const owner = await createUser(ctx, { isOwner: true });
  res = await ctx.request(`/api/admin/users/${owner.id}/export`, { method: "POST", headers, body: JSON.stringify({ passphrase: PASSPHRASE }) });
  expect([res.status, (await res.json()).error.code]).toEqual([403, "ADMIN_TARGET_FORBIDDEN"]);
  res = await ctx.request(`/api/admin/users/${crypto.randomUUID()}/export`, { method: "POST", headers, body: JSON.stringify({ passphrase: PASSPHRASE }) });
  expect(res.status).toBe(404);
});
