/**
 * TOTP two-factor authentication: otpauth with SHA-1, 6 digits, 30 s, ±1 step. The secret is
 * encrypted at rest with AES-256-GCM under TOTP_ENCRYPTION_KEY. Every accepted code records its
 * time step, and a step is never accepted twice (the reference had no replay protection).
 * 8 single-use backup codes, stored as SHA-256.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { sql } from "kysely";
import { Secret, TOTP } from "otpauth";
import QRCode from "qrcode";
import { ConflictError, InvalidInputError } from "../../errors.ts";
import { runInTransaction, type Executor } from "../../db/tx.ts";
import { insertAuditEntry, type RequestMeta } from "./audit.ts";
import { checkSignedInCredential } from "./credential-check.ts";
import type { AuthKernel } from "./kernel.ts";
import { generateCode, hashToken, normalizeCode } from "./tokens.ts";
import { findUserById, type UserRow } from "./users.ts";
import type { Actor } from "./guard.ts";

const PERIOD_SECS = 30;
const BACKUP_CODE_COUNT = 8;

export function encryptTotpSecret(key: Uint8Array, base32: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const body = Buffer.concat([cipher.update(base32, "utf8"), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]).toString("base64");
}

export function decryptTotpSecret(key: Uint8Array, stored: string): string {
  const raw = Buffer.from(stored, "base64");
  const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(raw.length - 16));
  return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString("utf8");
}

function totpFor(username: string, base32: string): TOTP {
  return new TOTP({ issuer: "Hearth", label: username, algorithm: "SHA1", digits: 6, period: PERIOD_SECS, secret: Secret.fromBase32(base32) });
}

/** The matching time step for `code`, or null. Does not check replay. */
export function matchTotpStep(username: string, base32: string, code: string, nowMs: number): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const delta = totpFor(username, base32).validate({ token: code, timestamp: nowMs, window: 1 });
  if (delta === null) return null;
  return Math.floor(nowMs / 1000 / PERIOD_SECS) + delta;
}

/** Accepts a TOTP code once: the step must be newer than the last one accepted (atomic). */
export async function consumeTotpCode(db: Executor, kernel: AuthKernel, user: UserRow, code: string): Promise<boolean> {
  if (!user.totp_secret_enc) return false;
  const step = matchTotpStep(user.username, decryptTotpSecret(kernel.deps.secrets.totpKey, user.totp_secret_enc), code.trim(), kernel.now());
  if (step === null) return false;
  const row = await db
    .updateTable("users")
    .set({ totp_last_step: step })
    .where("id", "=", user.id)
    .where((eb) => eb.or([eb("totp_last_step", "is", null), eb("totp_last_step", "<", step)]))
    .returning("id")
    .executeTakeFirst();
  return row !== undefined;
}

/** Spends one backup code (atomic: a code can be spent once even by two parallel logins). */
export async function consumeBackupCode(db: Executor, userId: string, input: string): Promise<boolean> {
  const code = normalizeCode(input, 2);
  if (!code) return false;
  const hash = hashToken(code);
  const row = await db
    .updateTable("users")
    .set({ totp_backup_code_hashes: sql`array_remove(totp_backup_code_hashes, ${hash})` })
    .where("id", "=", userId)
    .where(sql<boolean>`${hash} = any(totp_backup_code_hashes)`)
    .returning("id")
    .executeTakeFirst();
  return row !== undefined;
}

function newBackupCodes(): { codes: string[]; hashes: string[] } {
  const codes = Array.from({ length: BACKUP_CODE_COUNT }, () => generateCode(2));
  return { codes, hashes: codes.map(hashToken) };
}

export type TotpSetup = { secret: string; otpauthUrl: string; qrDataUrl: string };

/** Starts (or restarts) enrolment: a new secret, stored encrypted, not enabled until verified. */
export async function startTotpSetup(kernel: AuthKernel, actor: Actor): Promise<TotpSetup> {
  const db = kernel.deps.database.db;
  const user = await findUserById(db, actor.userId);
  if (!user) throw new InvalidInputError("Unknown user.");
  if (user.totp_enabled) throw new ConflictError("Two-factor authentication is already on.", "TOTP_ALREADY_ENABLED");
  const secret = new Secret({ size: 20 }).base32;
  await db.updateTable("users").set({ totp_secret_enc: encryptTotpSecret(kernel.deps.secrets.totpKey, secret), totp_last_step: null, updated_at: new Date(kernel.now()) }).where("id", "=", user.id).execute();
  return describeSetup(user.username, secret);
}

/** The pending setup (secret, URL, QR) while enrolment is not finished; null otherwise. */
export async function pendingTotpSetup(kernel: AuthKernel, user: UserRow): Promise<TotpSetup | null> {
  if (user.totp_enabled || !user.totp_secret_enc) return null;
  return describeSetup(user.username, decryptTotpSecret(kernel.deps.secrets.totpKey, user.totp_secret_enc));
}

async function describeSetup(username: string, secret: string): Promise<TotpSetup> {
  const otpauthUrl = totpFor(username, secret).toString();
  // Rendered server-side as SVG and shown through a data: URL in <img>: never inline SVG markup.
  const svg = await QRCode.toString(otpauthUrl, { type: "svg", margin: 2, errorCorrectionLevel: "M" });
  return { secret, otpauthUrl, qrDataUrl: `data:image/svg+xml;base64,${Buffer.from(svg).toString("base64")}` };
}

const invalidCode = () => new InvalidInputError("That code is not valid. Check the time on your device and use a fresh code.", { code: "That code is not valid." }, "TOTP_INVALID");

/**
 * Every code typed on a settings page is checked through credential-check.ts (lockout, failure
 * count, audit) BEFORE the transaction that acts on it: the failure must be recorded even though
 * the action is refused. Spending a TOTP step or backup code is atomic on its own.
 */
async function requireCode(kernel: AuthKernel, user: UserRow, code: string, meta: RequestMeta, context: string): Promise<void> {
  await checkSignedInCredential(kernel, user, meta, context, "wrong_totp", () => consumeTotpCode(kernel.deps.database.db, kernel, user, code), invalidCode);
}

export async function confirmTotpSetup(kernel: AuthKernel, actor: Actor, code: string, meta: RequestMeta): Promise<string[]> {
  const user = await findUserById(kernel.deps.database.db, actor.userId);
  if (!user) throw new InvalidInputError("Unknown user.");
  if (user.totp_enabled) throw new ConflictError("Two-factor authentication is already on.", "TOTP_ALREADY_ENABLED");
  if (!user.totp_secret_enc) throw new InvalidInputError("Start the setup first.", undefined, "TOTP_NOT_SET_UP");
  await requireCode(kernel, user, code, meta, "enable_2fa");
  return runInTransaction({ db: kernel.deps.database.db, events: kernel.deps.events }, async (tx) => {
    const fresh = await tx.selectFrom("users").selectAll().where("id", "=", actor.userId).forUpdate().executeTakeFirstOrThrow();
    if (fresh.totp_enabled) throw new ConflictError("Two-factor authentication is already on.", "TOTP_ALREADY_ENABLED");
    // The setup was restarted (a new secret) between the check and now: the code was for the old one.
    if (fresh.totp_secret_enc !== user.totp_secret_enc) throw new ConflictError("The setup was restarted. Scan the new QR code and enter its code.", "TOTP_SETUP_RESTARTED");
    const { codes, hashes } = newBackupCodes();
    await tx.updateTable("users").set({ totp_enabled: true, totp_backup_code_hashes: hashes, updated_at: new Date(kernel.now()) }).where("id", "=", user.id).execute();
    await insertAuditEntry(tx, { actorId: user.id, action: "2fa_enabled", targetType: "user", targetId: user.id, at: new Date(kernel.now()), meta });
    return codes;
  });
}

async function requireEnabledWithCode(kernel: AuthKernel, actor: Actor, code: string, meta: RequestMeta, context: string): Promise<UserRow> {
  const user = await findUserById(kernel.deps.database.db, actor.userId);
  if (!user?.totp_enabled) throw new ConflictError("Two-factor authentication is not on.", "TOTP_NOT_ENABLED");
  await requireCode(kernel, user, code, meta, context);
  return user;
}

export async function disableTotp(kernel: AuthKernel, actor: Actor, code: string, meta: RequestMeta): Promise<void> {
  const user = await requireEnabledWithCode(kernel, actor, code, meta, "disable_2fa");
  await runInTransaction({ db: kernel.deps.database.db, events: kernel.deps.events }, async (tx) => {
    await tx.updateTable("users").set({ totp_enabled: false, totp_secret_enc: null, totp_backup_code_hashes: [], updated_at: new Date(kernel.now()) }).where("id", "=", user.id).execute();
    await insertAuditEntry(tx, { actorId: user.id, action: "2fa_disabled", targetType: "user", targetId: user.id, at: new Date(kernel.now()), meta });
  });
}

export async function regenerateBackupCodes(kernel: AuthKernel, actor: Actor, code: string, meta: RequestMeta): Promise<string[]> {
  const user = await requireEnabledWithCode(kernel, actor, code, meta, "regenerate_backup_codes");
  return runInTransaction({ db: kernel.deps.database.db, events: kernel.deps.events }, async (tx) => {
    const { codes, hashes } = newBackupCodes();
    // Still on: a parallel "disable" must not be undone by writing codes for a disabled 2FA.
    const updated = await tx.updateTable("users").set({ totp_backup_code_hashes: hashes, updated_at: new Date(kernel.now()) }).where("id", "=", user.id).where("totp_enabled", "=", true).returning("id").executeTakeFirst();
    if (!updated) throw new ConflictError("Two-factor authentication is not on.", "TOTP_NOT_ENABLED");
    await insertAuditEntry(tx, { actorId: user.id, action: "backup_codes_regenerated", targetType: "user", targetId: user.id, at: new Date(kernel.now()), meta });
    return codes;
  });
}
