// Browser acceptance test for issue 4: two users, each on their own Chromium page under the app's
// real CSP, load the built e2ee.js bundle from the server, register devices through the real key
// service, fetch each other's bundles, exchange a DM (X3DH + Double Ratchet) and a channel
// message (Sender Keys, distribution carried inside the pairwise channel), and decrypt. Then a new
// device of Alice restores the key backup (PUT /api/keys/backup) with the recovery key and reads
// the old messages. Messages travel between pages through this test (no messaging API yet).
// Finally the whole database (pg_dump / PGlite dumpDataDir + every row) and the data
// directories are scanned for the plaintext markers: none may appear.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { sql } from "kysely";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { page as htmlPage } from "../../src/http/render.ts";
import { makeContacts } from "../helpers/contacts.ts";
import { createTestContext, type TestContext } from "../helpers/app.ts";
import { scanForPlaintext } from "../helpers/plaintext-scan.ts";
import { collectProblems, launchBrowser, screenshot, type PageProblems } from "../helpers/browser.ts";
import { createInspectableTestDatabase, TEST_DATABASE_URL } from "../helpers/db.ts";
import { createUser, signIn, type TestUser } from "../helpers/users.ts";
import { benchInPage, formatFigures } from "../../scripts/bench/crypto-browser.ts";

const browser: Browser | null = await launchBrowser();
const RUN = crypto.randomUUID().replace(/-/g, "").slice(0, 16);
const MARKERS = {
  dm: `PLAINTEXT-MARKER-DM-${RUN}`,
  reply: `PLAINTEXT-MARKER-REPLY-${RUN}`,
  channel: `PLAINTEXT-MARKER-CHANNEL-${RUN}`,
};
const CHANNEL_ID = "channel-general";

let ctx: TestContext;
let baseUrl = "";
let bundleUrl = "";
let pglite: PGlite | undefined;
let pgliteDir: string | undefined;
let removeDatabaseDir = () => {};
const opened: BrowserContext[] = [];

beforeAll(async () => {
  if (!browser) return;
  const inspectable = await createInspectableTestDatabase("e2e-pglite");
  ({ pglite, pgliteDir } = inspectable);
  removeDatabaseDir = inspectable.removeDir;
  const database = inspectable.database;
  ctx = await createTestContext({ database });
  bundleUrl = ctx.deps.assets.url("e2ee.js");
  const scripts = ctx.deps.assets.page(["e2ee.js"]).scripts;
  // A page like the app's chat pages: the crypto bundle is among its scripts (other pages do not load it).
  const markup = `<html lang="en"><head><meta charset="utf-8"><title>E2EE keys</title><link rel="icon" href="data:,"><link rel="stylesheet" href="${ctx.deps.assets.url("app.css")}">${scripts
    .map((s) => (s.module ? `<script type="module" src="${s.src}"></script>` : `<script defer src="${s.src}"></script>`))
    .join("")}</head><body><main class="welcome"><h1 id="who">…</h1><section id="log" aria-live="polite"></section></main></body></html>`;
  ctx.app.get("/test/e2ee-keys", () => htmlPage(markup));
  ctx.app.listen({ hostname: "127.0.0.1", port: 0 });
  baseUrl = `http://127.0.0.1:${ctx.app.server!.port}`;
});

afterAll(async () => {
  for (const c of opened) await c.close().catch(() => {});
  await browser?.close();
  await ctx?.close();
  removeDatabaseDir();
});

type Device = { page: Page; problems: PageProblems; user: TestUser };

/** A browser profile (own IndexedDB) signed in as `user` with a Bearer token, on the test page. */
async function openDevice(user: TestUser, label: string, deviceId: string): Promise<Device> {
  const context = await browser!.newContext({ viewport: { width: 900, height: 640 }, deviceScaleFactor: 1 });
  opened.push(context);
  const page = await context.newPage();
  const problems = await collectProblems(page);
  const response = await page.goto(`${baseUrl}/test/e2ee-keys`, { waitUntil: "load" });
  expect(response?.headers()["content-security-policy"]).toContain("script-src 'self'");
  const { accessToken } = await signIn(ctx, user);
  await page.evaluate(
    async ({ bundleUrl, token, userId, label, deviceId }) => {
      // Same module instance the page's <script type="module"> loaded (same URL, same origin).
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const lib: any = await import(bundleUrl);
      const api = async (method: string, path: string, body?: unknown) => {
        const res = await fetch(path, {
          method,
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await res.text();
        if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
        return text;
      };
      const log = (line: string) => {
        const p = document.createElement("p");
        p.textContent = line; // never innerHTML
        document.getElementById("log")!.append(p);
      };
      document.getElementById("who")!.textContent = `${label} · device ${deviceId}`;
      const store = await lib.IndexedDbKeyStore.open(`hearth-e2ee-${deviceId}`);
      const identity = JSON.parse(await api("GET", "/api/keys/server-identity"));
      const pin = await lib.checkServerIdentity(store, identity.fingerprint);
      log(`server identity ${identity.fingerprint.slice(0, 16)}…: ${pin}`);
      const device = lib.createDeviceIdentity({ userId, deviceId, now: Date.now() });
      const registered = JSON.parse(await api("POST", "/api/keys/devices", lib.encodeDevicePublicBundle(lib.exportDevicePublicBundle(device))));
      await store.put("device", lib.encodeUtf8(JSON.stringify(lib.serialiseDeviceIdentity(device))));
      log(`registered device ${registered.deviceId} with ${registered.oneTimePrekeysRemaining} one-time prekeys`);
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const w = window as any;
      w.t = { lib, api, log, userId, device, store, pin, sessions: new Map(), senderKeys: new lib.SenderKeyStore(), archive: new lib.MessageKeyArchive() };
    },
    { bundleUrl, token: accessToken, userId: user.id, label, deviceId },
  );
  return { page, problems, user };
}

/** Sender side: (re)uses sessions with every device of `toUserId`, starting X3DH from fetched bundles. */
function sendPairwise(d: Device, toUserId: string, text: string, messageId: string): Promise<string> {
  return d.page.evaluate(
    async ({ toUserId, text, messageId }) => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const t = (window as any).t;
      const { lib } = t;
      const devices = JSON.parse(await t.api("GET", `/api/keys/users/${toUserId}/devices`)).devices as { deviceId: string }[];
      const missing = devices.filter((x) => !t.sessions.has(x.deviceId));
      if (missing.length > 0) {
        const bundles = lib.parsePrekeyBundleList(await t.api("GET", `/api/keys/users/${toUserId}/bundles`));
        for (const bundle of bundles) {
          if (t.sessions.has(bundle.deviceId)) continue;
          const check = await lib.checkContactIdentity(t.store, bundle.userId, bundle.deviceId, lib.encodeIdentityKeyBytes(bundle));
          t.log(`bundle of ${bundle.deviceId}: one-time prekey ${bundle.oneTimePrekey ? bundle.oneTimePrekey.id : "none"}, identity ${check}`);
          t.sessions.set(bundle.deviceId, [lib.startSessionAsInitiator(t.device, bundle)]);
        }
      }
      const recipients = devices.map((x) => ({ deviceId: x.deviceId, session: t.sessions.get(x.deviceId)[0] }));
      const { envelope, messageKeys } = lib.encryptForDevices(t.device.deviceId, recipients, lib.encodeUtf8(text));
      // Own history: the key of (the first recipient's copy of) what we sent.
      t.archive.rememberMessageKey(messageId, messageKeys.get(recipients[0]!.deviceId));
      t.log(`sent ${messageId} to ${recipients.length} device(s) (pairwise, Double Ratchet)`);
      return JSON.stringify(lib.encodePairwiseEnvelope(envelope));
    },
    { toUserId, text, messageId },
  );
}

/** Receiver side of a pairwise envelope; returns the plaintext (a distribution is stored, not returned). */
function receivePairwise(d: Device, fromUserId: string, envelopeJson: string, messageId: string, kind: "chat" | "sender-key"): Promise<string> {
  return d.page.evaluate(
    async ({ fromUserId, envelopeJson, messageId, kind }) => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const t = (window as any).t;
      const { lib } = t;
      const envelope = lib.parsePairwiseEnvelope(envelopeJson);
      const entry = envelope.recipients.find((r: { deviceId: string }) => r.deviceId === t.device.deviceId);
      const sessions = t.sessions.get(envelope.senderDeviceId) ?? [];
      const result = lib.receivePairwiseMessage(t.device, sessions, { userId: fromUserId, deviceId: envelope.senderDeviceId }, entry.message);
      t.sessions.set(envelope.senderDeviceId, lib.promoteSession(sessions, result.session));
      if (kind === "sender-key") {
        const state = t.senderKeys.acceptDistribution(result.session, result.plaintext);
        t.log(`received sender key ${state.keyId} for ${state.channelId ?? "channel"} from ${envelope.senderDeviceId} (inside the pairwise channel)`);
        return "";
      }
      t.archive.rememberMessageKey(messageId, result.messageKey);
      const text = lib.decodeUtf8(result.plaintext);
      t.log(`decrypted ${messageId}: ${text}`);
      return text;
    },
    { fromUserId, envelopeJson, messageId, kind },
  );
}

const texts: Record<string, string> = {};

describe.skipIf(!browser)("E2EE through the real key service in Chromium", () => {
  let alice: TestUser;
  let bob: TestUser;
  let alicePhone: Device;
  let bobLaptop: Device;
  const server: Record<string, { kind: "dm" | "channel"; wire: string; senderDevice: string }> = {};
  let recoveryKeyText = "";

  test("two users register devices, exchange a DM and a channel message, and decrypt", async () => {
    alice = await createUser(ctx, { displayName: "Alice" });
    bob = await createUser(ctx, { displayName: "Bob" });
    // Alice and Bob have a DM, so each may fetch the other's keys (shareCommunityOrDm).
    await makeContacts(ctx, alice.id, bob.id);
    alicePhone = await openDevice(alice, "Alice (phone)", "alice-phone");
    bobLaptop = await openDevice(bob, "Bob (laptop)", "bob-laptop");

    // DM: Alice -> Bob (X3DH with a one-time prekey from the server), Bob -> Alice (ratchet turn).
    server["m1"] = { kind: "dm", wire: await sendPairwise(alicePhone, bob.id, MARKERS.dm, "m1"), senderDevice: "alice-phone" };
    expect(await receivePairwise(bobLaptop, alice.id, server["m1"]!.wire, "m1", "chat")).toBe(MARKERS.dm);
    server["m2"] = { kind: "dm", wire: await sendPairwise(bobLaptop, alice.id, MARKERS.reply, "m2"), senderDevice: "bob-laptop" };
    expect(await receivePairwise(alicePhone, bob.id, server["m2"]!.wire, "m2", "chat")).toBe(MARKERS.reply);

    // Channel: Alice's sender key goes to Bob's device only inside the pairwise channel; then
    // one group ciphertext for everyone.
    const distribution = await alicePhone.page.evaluate(async ({ channelId }) => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const t = (window as any).t;
      const own = t.senderKeys.getOrCreateOwnKey(channelId, Date.now()).key;
      const members = [...t.sessions.entries()].map(([deviceId, sessions]) => ({ deviceId, session: sessions[0] }));
      t.log(`distributing sender key ${own.keyId} to ${members.length} member device(s)`);
      return JSON.stringify(t.lib.encodePairwiseEnvelope(t.lib.distributeSenderKey(own, t.device.deviceId, members)));
    }, { channelId: CHANNEL_ID });
    expect(distribution).not.toContain(MARKERS.channel);
    await receivePairwise(bobLaptop, alice.id, distribution, "dist-1", "sender-key");
    const groupWire = await alicePhone.page.evaluate(async ({ channelId, text }) => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const t = (window as any).t;
      const own = t.senderKeys.getOrCreateOwnKey(channelId, Date.now()).key;
      const { message, messageKey } = t.lib.encryptGroupMessage(own, t.device.deviceId, t.lib.encodeUtf8(text));
      t.archive.rememberMessageKey("m3", messageKey);
      t.log(`sent m3 to ${channelId} (sender key ${message.keyId}, iteration ${message.iteration})`);
      return JSON.stringify(t.lib.encodeSenderKeyMessage(message));
    }, { channelId: CHANNEL_ID, text: MARKERS.channel });
    server["m3"] = { kind: "channel", wire: groupWire, senderDevice: "alice-phone" };
    const channelText = await bobLaptop.page.evaluate(async ({ channelId, wire, sender }) => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const t = (window as any).t;
      const message = t.lib.parseSenderKeyMessage(wire);
      const state = t.senderKeys.findReceivedKey(channelId, sender, message.keyId);
      const text = t.lib.decodeUtf8(t.lib.decryptGroupMessage(state, message).plaintext);
      t.log(`decrypted m3 in ${channelId}: ${text}`);
      return text;
    }, { channelId: CHANNEL_ID, wire: groupWire, sender: "alice-phone" });
    expect(channelText).toBe(MARKERS.channel);
    for (const [id, m] of Object.entries(server)) texts[id] = m.wire;

    // The server identity was pinned on first use by both.
    expect(await alicePhone.page.evaluate(() => (window as unknown as { t: { pin: string } }).t.pin)).toBe("first-use");
    await screenshot(alicePhone.page, "e2ee-keys-alice-phone");
    await screenshot(bobLaptop.page, "e2ee-keys-bob-laptop");
  });

  test("a new device of Alice restores the key backup with the recovery key and reads old messages", async () => {
    recoveryKeyText = await alicePhone.page.evaluate(async () => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const t = (window as any).t;
      const recoveryKey = t.lib.generateRecoveryKey();
      const sessions = [...t.sessions.values()].flat();
      const blob = t.lib.createKeyBackup(recoveryKey, { createdAt: Date.now(), device: t.device, sessions, senderKeys: t.senderKeys, archive: t.archive }, 1);
      const stored = JSON.parse(await t.api("PUT", "/api/keys/backup", t.lib.encodeKeyBackupBlob(blob)));
      t.log(`key backup version ${stored.version} uploaded (recovery key shown once to the user)`);
      return t.lib.formatRecoveryKey(recoveryKey);
    });
    const aliceLaptop = await openDevice(alice, "Alice (new laptop)", "alice-laptop");
    const restored = await aliceLaptop.page.evaluate(async ({ recoveryKeyText, messages }) => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const t = (window as any).t;
      const { lib } = t;
      const blob = lib.parseKeyBackupBlob(await t.api("GET", "/api/keys/backup"));
      const snapshot = lib.restoreKeyBackup(lib.parseRecoveryKey(recoveryKeyText), blob);
      t.log(`restored backup version ${blob.version}: ${snapshot.archive.size} message keys, ${snapshot.sessions.length} session(s)`);
      const out: Record<string, string> = {};
      for (const [id, m] of Object.entries(messages as Record<string, { kind: string; wire: string; senderDevice: string }>)) {
        const key = snapshot.archive.findMessageKey(id);
        if (m.kind === "dm") {
          const envelope = lib.parsePairwiseEnvelope(m.wire);
          // Alice's copy: the entry for Bob's device (sent by her) or for her old device (received).
          const entry = envelope.recipients[0];
          const peer = m.senderDevice === snapshot.device.deviceId ? entry.deviceId : m.senderDevice;
          const session = snapshot.sessions.find((s: { remote: { deviceId: string } }) => s.remote.deviceId === peer);
          out[id] = lib.decodeUtf8(lib.decryptRatchetMessageWithKey(key, session.ratchet.associatedData, entry.message));
        } else {
          const signingKey = snapshot.senderKeys.own.get("channel-general").signing.publicKey;
          out[id] = lib.decodeUtf8(lib.decryptGroupMessageWithKey(key, "channel-general", m.senderDevice, lib.parseSenderKeyMessage(m.wire), signingKey));
        }
        t.log(`history ${id}: ${out[id]}`);
      }
      // A wrong recovery key opens nothing.
      let wrong = "opened";
      try {
        lib.restoreKeyBackup(lib.generateRecoveryKey(), blob);
      } catch (error) {
        wrong = (error as { code?: string }).code ?? String(error);
      }
      t.log(`wrong recovery key: ${wrong}`);
      return { out, wrong, pin: t.pin };
    }, { recoveryKeyText, messages: server });
    expect(restored.out).toEqual({ m1: MARKERS.dm, m2: MARKERS.reply, m3: MARKERS.channel });
    expect(restored.wrong).toBe("DECRYPT_FAILED");
    expect(restored.pin).toBe("first-use"); // its own fresh store; same fingerprint as the others saw
    // The new device registered its own identity: Alice now has two devices, Bob sees both.
    const list = await bobLaptop.page.evaluate(async (aliceId) => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const t = (window as any).t;
      return JSON.parse(await t.api("GET", `/api/keys/users/${aliceId}/devices`)).devices.map((d: { deviceId: string }) => d.deviceId).sort();
    }, alice.id);
    expect(list).toEqual(["alice-laptop", "alice-phone"]);
    await screenshot(aliceLaptop.page, "e2ee-keys-alice-new-laptop-restored");
    for (const d of [alicePhone, bobLaptop, aliceLaptop]) expect(d.problems.all()).toEqual([]);
  });

  test("Chromium figures: 1 KiB encrypt+decrypt and attachment throughput", async () => {
    const figures = await benchInPage(bobLaptop.page, bundleUrl, 32);
    console.log(formatFigures(figures));
    expect(figures.ratchetMicros).toBeGreaterThan(0);
  });

  test("no plaintext marker anywhere in a full database dump or the data directories", async () => {
    // Positive control: a marker we DO store (as jsonb and as bytea) must be found by the same
    // scan in every source, or the scan proves nothing.
    const control = `CTRL-${RUN}`.padEnd(32, "-");
    await ctx.database.db.insertInto("instance_settings").values({ key: "e2e-scan-control", value: sql<string>`cast(cast(${JSON.stringify({ probe: control })} as text) as jsonb)` }).execute();
    await ctx.database.db
      .insertInto("key_one_time_prekeys")
      .values({ user_id: (await ctx.database.db.selectFrom("key_devices").select("user_id").where("device_id", "=", "alice-phone").executeTakeFirstOrThrow()).user_id, device_id: "alice-phone", prekey_id: 4_000_000_000, public_key: Buffer.from(control), created_at: new Date() })
      .execute();
    const { hits, controlFoundIn: controlHits, rows, scannedBytes, dump, needles } = await scanForPlaintext({ database: ctx.database, dataDir: ctx.dataDir, markers: Object.values(MARKERS), control, pglite, pgliteDir });
    expect(rows).toBeGreaterThan(200); // users, sessions, devices, prekeys, the backup...
    const backupRows = await sql<{ n: number }>`select count(*)::int as n from key_backups`.execute(ctx.database.db);
    expect(backupRows.rows[0]!.n).toBe(1);
    if (dump !== null) expect(dump).toContain("COPY public.key_backups");
    console.log(`plaintext scan: ${needles} encodings of ${Object.keys(MARKERS).length} markers over ${rows} rows and ${(scannedBytes / 1e6).toFixed(1)} MB of dumps and files: ${hits.length} hits`);
    console.log(`positive control found in: ${[...controlHits].sort().join(", ")}`);
    expect(hits).toEqual([]);
    expect(controlHits.has("table")).toBe(true);
    expect(controlHits.has(TEST_DATABASE_URL ? "pg_dump" : "pglite")).toBe(true);
    expect(controlHits.has("files")).toBe(true);
  });
});
