/**
 * Bytes on the wire for a first visit (empty cache) of the main pages: the HTML plus every
 * stylesheet and script it loads (on chat pages also chat.js, which app.js imports, and its lazy
 * chunk), with `Accept-Encoding: br, gzip` as a browser sends it and without (what an
 * uncompressed server sends). Bodies only: headers are not counted. Runs the app in-process
 * (app.handle) on a fresh embedded database: two users, a community, a DM; no messages (history
 * is ciphertext and adds the same to both columns).
 *
 *   bun scripts/bench/transfer-sizes.ts
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { openDatabase } from "../../src/db/open.ts";
import { migrate } from "../../src/db/migrate.ts";
import { noEvents, runInTransaction } from "../../src/db/tx.ts";
import { authKernelOf, createSession } from "../../src/features/auth/index.ts";
import { loadAssets } from "../../src/http/assets.ts";
import { silentLogger } from "../../src/log.ts";
import { loadSecrets } from "../../src/secrets.ts";
import { ensureClientBuild } from "../build.ts";

const dataDir = mkdtempSync(join(tmpdir(), "hearth-bench-transfer-"));
try {
  await ensureClientBuild();
  const config = loadConfig({ ...process.env, DATA_DIR: dataDir, NODE_ENV: "test", LOG_LEVEL: "error", COMMUNITY_CREATION_MODE: "anyone" });
  const database = await openDatabase({ databaseUrl: undefined, dataDir });
  await migrate(database.db);
  const unlimited = { general: { ratePerSec: 1e9, burst: 1e9 }, auth: { ratePerSec: 1e9, burst: 1e9 } };
  const deps = { config, database, log: silentLogger, secrets: loadSecrets(config, silentLogger), events: noEvents, assets: loadAssets(config.staticDir), rateLimits: unlimited };
  const app = createApp(deps);
  const request = (path: string, init: RequestInit = {}) => app.handle(new Request(`http://localhost${path}`, init));

  // Alice and Bob with real sessions; Alice's community (Bob joins by invite) and a DM.
  const kernel = authKernelOf(deps as never);
  const users: { id: string; token: string }[] = [];
  await runInTransaction({ db: database.db, events: noEvents }, async (tx) => {
    for (const name of ["alice", "bob"]) {
      const id = Bun.randomUUIDv7();
      await tx.insertInto("users").values({ id, username: name, email: `${name}@example.test`, password_hash: null, display_name: name === "alice" ? "Alice" : "Bob", is_owner: false, is_admin: false, admin_powers: [] }).execute();
      users.push({ id, token: (await createSession(tx, kernel, id, { ip: "127.0.0.1", userAgent: "bench" })).accessToken });
    }
  });
  const [alice, bob] = users as [{ id: string; token: string }, { id: string; token: string }];
  const api = async (token: string, method: string, path: string, body?: unknown) => {
    const res = await request(path, { method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<any>;
  };
  const community = await api(alice.token, "POST", "/api/communities", { name: "Hearth team", description: "Where we talk about the product" });
  const invite = await api(alice.token, "POST", `/api/communities/${community.id}/invites`, {});
  await api(bob.token, "POST", `/api/community-invites/${invite.code}/accept`);
  const groups = await api(alice.token, "GET", `/api/communities/${community.id}/groups`);
  const dm = await api(alice.token, "POST", "/api/dms", { user_id: bob.id });

  const pages: [string, string, string | null][] = [
    ["login page", "/login", null],
    ["home", "/", alice.token],
    ["community channel (chat)", `/c/${community.id}/ch/${groups.groups[0].channels[0].id}`, alice.token],
    ["DM (chat)", `/dms/${dm.channel_id}`, alice.token],
  ];

  /** Body bytes of one response as sent, and what it encoded with. */
  async function fetchSize(path: string, token: string | null, acceptEncoding: string | null): Promise<{ bytes: number; text: string; encoding: string }> {
    const headers: Record<string, string> = {};
    if (token) headers.cookie = `hearth_access=${token}`;
    if (acceptEncoding) headers["accept-encoding"] = acceptEncoding;
    const res = await request(path, { headers });
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status}`);
    const raw = new Uint8Array(await res.arrayBuffer());
    const encoding = res.headers.get("content-encoding") ?? "identity";
    const { brotliDecompressSync, gunzipSync } = await import("node:zlib");
    const plain = encoding === "br" ? brotliDecompressSync(raw) : encoding === "gzip" ? gunzipSync(raw) : raw;
    return { bytes: raw.length, text: new TextDecoder().decode(plain), encoding };
  }

  /** The page's HTML, then each asset it loads (chat.js and its lazy chunk on chat pages). */
  async function firstVisit(path: string, token: string | null, acceptEncoding: string | null) {
    const html = await fetchSize(path, token, acceptEncoding);
    const assets = new Set<string>();
    for (const m of html.text.matchAll(/(?:href|src|data-chat-src)="(\/public\/[^"]+\.(?:js|css))"/g)) assets.add(m[1]!);
    let assetBytes = 0;
    for (const asset of [...assets]) {
      const got = await fetchSize(asset, null, acceptEncoding);
      assetBytes += got.bytes;
      for (const chunk of got.text.matchAll(/chat-chunk-[a-z0-9]+\.js/g)) {
        const url = `/public/build/${chunk[0]}`;
        if (!assets.has(url)) {
          assets.add(url);
          assetBytes += (await fetchSize(url, null, acceptEncoding)).bytes;
        }
      }
    }
    return { html: html.bytes, htmlEncoding: html.encoding, assets: assetBytes, files: assets.size, total: html.bytes + assetBytes };
  }

  const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  console.log("bytes on the wire for a first visit (bodies only), uncompressed vs Accept-Encoding: br, gzip");
  console.log(["page", "files", "HTML plain", "HTML sent", "assets plain", "assets sent", "total plain", "total sent", "saved"].join(" | "));
  for (const [name, path, token] of pages) {
    const plain = await firstVisit(path, token, null);
    const sent = await firstVisit(path, token, "br, gzip");
    console.log([name, String(sent.files), kib(plain.html), `${kib(sent.html)} (${sent.htmlEncoding})`, kib(plain.assets), kib(sent.assets), kib(plain.total), kib(sent.total), `${Math.round((1 - sent.total / plain.total) * 100)} %`].join(" | "));
  }
  await database.close();
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
