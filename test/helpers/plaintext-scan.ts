/**
 * The "server never sees plaintext" check of the browser tests: every row of every table (as
 * text: bytea as hex, jsonb as JSON), a full dump (pg_dump, or PGlite's dumpDataDir and data
 * directory), PostgreSQL's own files for the database and its WAL when readable, the app's
 * DATA_DIR and the blob store (its local directory, or every object under the S3 prefix plus,
 * for s3rver, the server's own data directory) are searched for each marker in UTF-8, hex,
 * UTF-16 and base64/base64url at every alignment. A control value the caller stores on purpose
 * must be found, or the scan proves nothing. The blob store also holds the public images
 * (avatars, icons, banners, custom emoji: docs/profiles.md, deliberately not E2EE, re-encoded by
 * the server); they are scanned with everything else, so message content that reached the store
 * by any path would still be found (test/features/images/api.test.ts checks the store is read whole).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { S3Client } from "bun";
import { sql } from "kysely";
import type { PGlite } from "@electric-sql/pglite";
import type { TestDatabase } from "./db.ts";
import type { FileStorage } from "../../src/config.ts";

export type ScanResult = { hits: string[]; controlFoundIn: Set<string>; rows: number; scannedBytes: number; dump: string | null; needles: number };

/** The marker as raw UTF-8, hex (bytea text), UTF-16, and base64/base64url at all three alignments. */
export function encodingsOf(marker: string): { label: string; bytes: Buffer }[] {
  const raw = Buffer.from(marker);
  const out = [
    { label: `${marker} (utf-8)`, bytes: raw },
    { label: `${marker} (hex)`, bytes: Buffer.from(raw.toString("hex")) },
    { label: `${marker} (utf-16le)`, bytes: Buffer.from(marker, "utf16le") },
  ];
  for (let pad = 0; pad < 3; pad++) {
    for (const encoding of ["base64", "base64url"] as const) {
      const text = Buffer.concat([Buffer.alloc(pad), raw]).toString(encoding);
      // Drop the characters that depend on the neighbouring bytes.
      const start = pad === 0 ? 0 : Math.ceil((pad * 4) / 3) + 1;
      out.push({ label: `${marker} (${encoding}, offset ${pad})`, bytes: Buffer.from(text.slice(start, text.length - 4)) });
    }
  }
  return out;
}

function canRead(dir: string): boolean {
  try {
    readdirSync(dir);
    return true;
  } catch {
    return false;
  }
}

export function scanTree(dir: string, scan: (what: string, haystack: Buffer) => void): number {
  let bytes = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (!stat) continue;
    if (stat.isDirectory()) bytes += scanTree(path, scan);
    else if (stat.isFile()) {
      const content = readFileSync(path);
      bytes += content.length;
      scan(path, content);
    }
  }
  return bytes;
}

/**
 * Every byte the blob store holds, reported to `scan` as "blobs <path or key>": the local
 * directory, or each object under the S3 prefix as the bucket serves it (read whole: test data
 * only) and, when given, the S3 server's own data directory (s3rver keeps objects and unfinished
 * multipart parts there). Returns the bytes scanned.
 */
export async function scanBlobStore(storage: FileStorage, scan: (what: string, haystack: Buffer) => void, opts: { s3ServerDirectory?: string } = {}): Promise<number> {
  let bytes = 0;
  if (storage.kind === "local") {
    if (canRead(storage.path)) bytes += scanTree(storage.path, (path, content) => scan(`blobs ${relative(storage.path, path)}`, content));
  } else {
    const client = new S3Client({ endpoint: storage.endpoint, bucket: storage.bucket, region: storage.region, accessKeyId: storage.accessKeyId, secretAccessKey: storage.secretAccessKey });
    let continuationToken: string | undefined;
    do {
      const page = await client.list({ prefix: storage.prefix, continuationToken });
      for (const { key } of page.contents ?? []) {
        const content = Buffer.from(await client.file(key).arrayBuffer());
        bytes += content.length;
        scan(`blobs s3:${key}`, content);
      }
      continuationToken = page.isTruncated ? page.nextContinuationToken : undefined;
    } while (continuationToken);
    if (opts.s3ServerDirectory) bytes += scanTree(opts.s3ServerDirectory, (path, content) => scan(`blobs s3-server ${relative(opts.s3ServerDirectory!, path)}`, content));
  }
  return bytes;
}

/**
 * `control` must already be stored by the caller. `controlFoundIn` holds "table", "pg_dump" or
 * "pglite", "files" (DATA_DIR) and "blobs" for each source where the control appeared. Pass
 * `blobs` (config.files.storage) to scan the blob store too; a local store inside DATA_DIR is
 * scanned once, as "files". "logs" when the control is in `logs` (the server's log lines: the
 * caller logs the control), and the first word of each `extra` source (bytes the caller captured
 * that the server never keeps, e.g. to-device payloads, deleted once fetched).
 */
export async function scanForPlaintext(opts: {
  database: TestDatabase;
  dataDir: string;
  markers: string[];
  control: string;
  pglite?: PGlite;
  pgliteDir?: string;
  blobs?: FileStorage;
  s3ServerDirectory?: string;
  logs?: readonly string[];
  extra?: readonly { what: string; bytes: Buffer }[];
}): Promise<ScanResult> {
  const needles = opts.markers.flatMap(encodingsOf);
  const controlNeedles = encodingsOf(opts.control).slice(0, 2); // utf-8 and hex
  const hits: string[] = [];
  const controlFoundIn = new Set<string>();
  const scan = (what: string, haystack: Buffer) => {
    for (const needle of needles) if (haystack.includes(needle.bytes)) hits.push(`${what}: ${needle.label}`);
    for (const needle of controlNeedles) if (haystack.includes(needle.bytes)) controlFoundIn.add(what.startsWith("/") ? "files" : what.split(" ")[0]!);
  };
  const db = opts.database.db;
  const tables = await sql<{ table_name: string }>`select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`.execute(db);
  let rows = 0;
  for (const { table_name } of tables.rows) {
    const result = await sql<{ row: string }>`select t::text as row from ${sql.table(table_name)} t`.execute(db);
    rows += result.rows.length;
    scan(`table ${table_name}`, Buffer.from(result.rows.map((r) => r.row).join("\n")));
  }
  let scannedBytes = 0;
  let dump: string | null = null;
  if (opts.database.url) {
    const result = Bun.spawnSync(["pg_dump", "--no-owner", opts.database.url]);
    if (result.exitCode === 0) {
      scannedBytes += result.stdout.length;
      dump = result.stdout.toString();
      scan("pg_dump", Buffer.from(result.stdout));
    } else console.warn(`[partial] pg_dump failed: ${result.stderr.toString().slice(0, 200)}; rows were scanned instead`);
    // The server's files for this database and its WAL, when readable (same machine, root).
    const info = await sql<{ dir: string; oid: number }>`select current_setting('data_directory') as dir, (select oid::int from pg_database where datname = current_database()) as oid`.execute(db).catch(() => undefined);
    await sql`checkpoint`.execute(db).catch(() => {});
    const dir = info?.rows[0]?.dir;
    if (dir && canRead(dir)) {
      for (const sub of [join(dir, "base", String(info!.rows[0]!.oid)), join(dir, "pg_wal")]) scannedBytes += scanTree(sub, scan);
    } else console.warn(`[partial] PostgreSQL data directory ${dir ?? "?"} not readable here; scanned pg_dump and rows`);
  } else if (opts.pglite) {
    await opts.pglite.query("checkpoint");
    const bytes = Buffer.from(await (await opts.pglite.dumpDataDir("none")).arrayBuffer());
    scannedBytes += bytes.length;
    scan("pglite dumpDataDir", bytes);
    if (opts.pgliteDir) scannedBytes += scanTree(opts.pgliteDir, scan);
  }
  scannedBytes += scanTree(opts.dataDir, scan); // DATA_DIR: secrets, anything else the app wrote
  const insideDataDir = opts.blobs?.kind === "local" && !relative(opts.dataDir, opts.blobs.path).startsWith("..");
  if (opts.blobs && !insideDataDir) scannedBytes += await scanBlobStore(opts.blobs, scan, { s3ServerDirectory: opts.s3ServerDirectory });
  if (opts.logs) {
    const log = Buffer.from(opts.logs.join("\n"));
    scannedBytes += log.length;
    scan("logs", log);
  }
  for (const x of opts.extra ?? []) {
    scannedBytes += x.bytes.length;
    scan(x.what, x.bytes);
  }
  return { hits, controlFoundIn, rows, scannedBytes, dump, needles: needles.length };
}
