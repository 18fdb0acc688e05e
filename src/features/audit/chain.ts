/**
 * The audit log's hash chain (docs/admin.md "Audit log", migration 0023). Actions insert their
 * rows unsealed, inside their own transactions; sealAuditLog gives committed rows their place in
 * one chain, in the order it finds them, under the chain head's row lock (so instances sealing
 * at once queue, and each row is sealed once). A row's hash is HMAC-SHA256(auditKey, previous
 * hash ‖ canonical content); verifyAuditLog recomputes every link from the latest signed
 * checkpoint (or the genesis hash) and names the first row that does not match.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { Db } from "../../db/open.ts";
import type { Executor } from "../../db/tx.ts";

export const GENESIS_HASH = new Uint8Array(32);
const BATCH = 1000;

type ChainRow = {
  id: string;
  actor_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  user_agent: string | null;
  metadata: Record<string, unknown>;
  created_at: Date;
};

/** JSON with object keys sorted at every depth: jsonb reorders keys, so the stored order is not ours. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

/** What a row's hash commits to: its place, every column, and the previous row's hash. */
export function rowHash(key: Uint8Array, pos: number, prev: Uint8Array, row: ChainRow): Uint8Array {
  const content = canonicalJson([pos, row.id, row.actor_id, row.action, row.target_type, row.target_id, row.ip, row.user_agent, row.metadata ?? {}, new Date(row.created_at).toISOString()]);
  return new Uint8Array(createHmac("sha256", key).update(prev).update(content).digest());
}

const checkpointMessage = (c: { pos: number; hash: Uint8Array; prunedRows: number; createdAt: Date }) =>
  `hearth audit checkpoint v1|${c.pos}|${Buffer.from(c.hash).toString("hex")}|${c.prunedRows}|${c.createdAt.toISOString()}`;

export function signCheckpoint(key: Uint8Array, c: { pos: number; hash: Uint8Array; prunedRows: number; createdAt: Date }): Uint8Array {
  return new Uint8Array(createHmac("sha256", key).update(checkpointMessage(c)).digest());
}

const same = (a: Uint8Array | null | undefined, b: Uint8Array) => !!a && a.length === b.length && timingSafeEqual(a, b);
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

export type ChainHead = { pos: number; hash: string };

/** Seals every committed, unsealed row; returns how many and the head after. Safe on several instances. */
export async function sealAuditLog(db: Db, key: Uint8Array): Promise<{ sealed: number; head: ChainHead }> {
  let sealed = 0;
  for (;;) {
    const done = await db.transaction().execute(async (tx) => {
      const head = await tx.selectFrom("audit_chain").select(["head_pos", "head_hash"]).where("id", "=", 1).forUpdate().executeTakeFirstOrThrow();
      const rows = await tx
        .selectFrom("audit_log")
        .select(["id", "actor_id", "action", "target_type", "target_id", "ip", "user_agent", "metadata", "created_at"])
        .where("chain_pos", "is", null)
        .orderBy("created_at")
        .orderBy("id")
        .limit(BATCH)
        .execute();
      let pos = Number(head.head_pos);
      let prev: Uint8Array = new Uint8Array(head.head_hash);
      for (const row of rows) {
        pos += 1;
        const hash = rowHash(key, pos, prev, row);
        await tx.updateTable("audit_log").set({ chain_pos: String(pos), prev_hash: prev, hash }).where("id", "=", row.id).execute();
        prev = hash;
      }
      if (rows.length > 0) await tx.updateTable("audit_chain").set({ head_pos: pos, head_hash: prev }).where("id", "=", 1).execute();
      return { count: rows.length, head: { pos, hash: hex(prev) } };
    });
    sealed += done.count;
    if (done.count < BATCH) return { sealed, head: done.head };
  }
}

export type Checkpoint = { pos: number; hash: string; prunedRows: number; createdAt: Date };

export type Verification = {
  ok: boolean;
  /** Sealed rows whose links were recomputed. */
  checked: number;
  head: ChainHead;
  /** Where verification started: the latest signed checkpoint, or null for the chain's start. */
  checkpoint: Checkpoint | null;
  /** The first broken link, if any. */
  broken: { pos: number; id: string | null; reason: "changed" | "missing" | "link" | "checkpoint" | "head" } | null;
};

/**
 * Recomputes the chain. Reasons: "changed" (the row's content no longer matches its hash),
 * "missing" (no row holds this place: a row was deleted), "link" (the row's previous-hash is not
 * the previous row's hash: rows were swapped or re-sealed), "checkpoint" (the checkpoint's
 * signature is wrong), "head" (rows at the end are gone: the head names a later place).
 */
export async function verifyAuditLog(db: Executor, key: Uint8Array): Promise<Verification> {
  const headRow = await db.selectFrom("audit_chain").select(["head_pos", "head_hash"]).where("id", "=", 1).executeTakeFirstOrThrow();
  const head = { pos: Number(headRow.head_pos), hash: hex(headRow.head_hash) };
  const cp = await db.selectFrom("audit_checkpoints").selectAll().orderBy("chain_pos", "desc").limit(1).executeTakeFirst();
  let checkpoint: Checkpoint | null = null;
  let pos = 0;
  let prev: Uint8Array = GENESIS_HASH;
  const result = (checked: number, broken: Verification["broken"]): Verification => ({ ok: broken === null, checked, head, checkpoint, broken });
  if (cp) {
    const c = { pos: Number(cp.chain_pos), hash: new Uint8Array(cp.hash), prunedRows: Number(cp.pruned_rows), createdAt: new Date(cp.created_at) };
    checkpoint = { pos: c.pos, hash: hex(c.hash), prunedRows: c.prunedRows, createdAt: c.createdAt };
    if (!same(new Uint8Array(cp.signature), signCheckpoint(key, c))) return result(0, { pos: c.pos, id: null, reason: "checkpoint" });
    pos = c.pos;
    prev = c.hash;
  }
  let checked = 0;
  for (;;) {
    const rows = await db
      .selectFrom("audit_log")
      .select(["id", "actor_id", "action", "target_type", "target_id", "ip", "user_agent", "metadata", "created_at", "chain_pos", "prev_hash", "hash"])
      .where("chain_pos", ">", String(pos))
      .orderBy("chain_pos")
      .limit(BATCH)
      .execute();
    for (const row of rows) {
      const at = Number(row.chain_pos);
      if (at !== pos + 1) return result(checked, { pos: pos + 1, id: null, reason: "missing" });
      if (!same(row.prev_hash, prev)) return result(checked, { pos: at, id: row.id, reason: "link" });
      const expected = rowHash(key, at, prev, row);
      if (!same(row.hash, expected)) return result(checked, { pos: at, id: row.id, reason: "changed" });
      pos = at;
      prev = expected;
      checked += 1;
    }
    if (rows.length < BATCH) break;
  }
  if (pos !== head.pos) return result(checked, { pos: pos + 1, id: null, reason: pos < head.pos ? "missing" : "head" });
  if (hex(prev) !== head.hash) return result(checked, { pos, id: null, reason: "head" });
  return result(checked, null);
}

/**
 * Retention: deletes the sealed rows older than `before` that form the chain's beginning, and
 * leaves a signed checkpoint at the last deleted place, so verification still starts from a
 * trusted hash. Seals first: only sealed rows are pruned. Returns the checkpoint, or null when
 * nothing was old enough.
 */
export async function pruneAuditLog(db: Db, key: Uint8Array, before: Date, now: Date): Promise<Checkpoint | null> {
  await sealAuditLog(db, key);
  return db.transaction().execute(async (tx) => {
    await tx.selectFrom("audit_chain").select("id").where("id", "=", 1).forUpdate().executeTakeFirstOrThrow();
    // The chain's prefix: up to (not including) the first row that is young enough to keep.
    const keep = await tx.selectFrom("audit_log").select("chain_pos").where("chain_pos", "is not", null).where("created_at", ">=", before).orderBy("chain_pos").limit(1).executeTakeFirst();
    const last = keep
      ? await tx.selectFrom("audit_log").select(["chain_pos", "hash"]).where("chain_pos", "<", keep.chain_pos!).orderBy("chain_pos", "desc").limit(1).executeTakeFirst()
      : await tx.selectFrom("audit_log").select(["chain_pos", "hash"]).where("chain_pos", "is not", null).orderBy("chain_pos", "desc").limit(1).executeTakeFirst();
    if (!last?.chain_pos || !last.hash) return null;
    const deleted = await tx.deleteFrom("audit_log").where("chain_pos", "<=", last.chain_pos).executeTakeFirst();
    const previous = await tx.selectFrom("audit_checkpoints").select("pruned_rows").orderBy("chain_pos", "desc").limit(1).executeTakeFirst();
    const c = { pos: Number(last.chain_pos), hash: new Uint8Array(last.hash), prunedRows: Number(previous?.pruned_rows ?? 0) + Number(deleted.numDeletedRows), createdAt: now };
    await tx.insertInto("audit_checkpoints").values({ chain_pos: c.pos, hash: c.hash, pruned_rows: c.prunedRows, created_at: c.createdAt, signature: signCheckpoint(key, c) }).execute();
    return { pos: c.pos, hash: hex(c.hash), prunedRows: c.prunedRows, createdAt: c.createdAt };
  });
}

/** The anchor line an operator copies off the server: place and hash of the chain's head. */
export const anchorText = (head: ChainHead) => `hearth-audit-anchor v1 ${head.pos} ${head.hash}`;

/** Reads an anchor line back; null if it is not one. */
export function parseAnchor(text: string): ChainHead | null {
  const m = /^hearth-audit-anchor v1 (\d{1,18}) ([0-9a-f]{64})$/.exec(text.trim());
  return m ? { pos: Number(m[1]), hash: m[2]! } : null;
}

/**
 * Checks a copied anchor against the log: the row at that place must still have that hash (or,
 * when it was pruned, the checkpoint at or after it must exist: the place is gone but the chain
 * was legitimately shortened). Catches a whole log rewritten by someone holding the key.
 */
export async function checkAnchor(db: Executor, anchor: ChainHead): Promise<"ok" | "mismatch" | "pruned" | "ahead"> {
  const head = await db.selectFrom("audit_chain").select("head_pos").where("id", "=", 1).executeTakeFirstOrThrow();
  if (anchor.pos > Number(head.head_pos)) return "ahead";
  if (anchor.pos === 0) return anchor.hash === hex(GENESIS_HASH) ? "ok" : "mismatch";
  const row = await db.selectFrom("audit_log").select("hash").where("chain_pos", "=", String(anchor.pos)).executeTakeFirst();
  if (row?.hash) return hex(row.hash) === anchor.hash ? "ok" : "mismatch";
  const cp = await db.selectFrom("audit_checkpoints").select(["chain_pos", "hash"]).where("chain_pos", "=", String(anchor.pos)).executeTakeFirst();
  if (cp) return hex(cp.hash) === anchor.hash ? "ok" : "mismatch";
  return "pruned";
}
