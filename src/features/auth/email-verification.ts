/**
 * Email verification (docs/meetings.md): nothing is mailed to an address before its owner opened
 * the link sent to it, so nobody can aim invitations at a stranger's mailbox. Setting or changing
 * the address in settings clears the verified state and, when email is configured, queues a
 * link: a random token whose SHA-256 only is stored, valid VERIFY_LINK_HOURS, used once, and only
 * for the address it was sent to. Resending is rate-limited per user (VERIFY_RATE).
 */
import type { AppDeps } from "../../deps.ts";
import { ConflictError, InvalidInputError, NotFoundError, RateLimitedError } from "../../errors.ts";
import { MemoryRateLimitStore, type Limit, type RateLimitStore } from "../../http/rate-limit.ts";
import { isUniqueViolation } from "../../db/error-kinds.ts";
import { runInTransaction, type Tx } from "../../db/tx.ts";
import { enqueueMail } from "../../mail/outbox.ts";
import { checkEmail } from "./validation.ts";

const dbOf = (deps: AppDeps) => deps.database.db;
const nowOf = (deps: AppDeps) => new Date((deps.now ?? Date.now)());
const mutate = <T>(deps: AppDeps, fn: (tx: Tx) => Promise<T>): Promise<T> => runInTransaction({ db: deps.database.db, events: deps.events }, (tx) => fn(tx));

export const VERIFY_LINK_HOURS = 24;
export const VERIFY_PATH = "/settings/email/verify";
/** Per user: 3 verification mails at once, then one every 10 minutes. */
export const VERIFY_RATE: Limit = { ratePerSec: 1 / 600, burst: 3 };

const stores = new WeakMap<AppDeps, RateLimitStore>();
export function rateStoreOf(deps: AppDeps): RateLimitStore {
  if (deps.rateLimitStore) return deps.rateLimitStore;
  let store = stores.get(deps);
  if (!store) stores.set(deps, (store = new MemoryRateLimitStore()));
  return store;
}

export function hashToken(token: string): Uint8Array {
  return new Uint8Array(new Bun.CryptoHasher("sha256").update(token).digest());
}

export type EmailState = { email: string | null; verified: boolean; mailEnabled: boolean };

export async function emailStateOf(deps: AppDeps, userId: string): Promise<EmailState> {
  const row = await dbOf(deps).selectFrom("users").select(["email", "email_verified_at"]).where("id", "=", userId).executeTakeFirst();
  if (!row) throw new NotFoundError("No such user.");
  return { email: row.email, verified: row.email !== null && row.email_verified_at !== null, mailEnabled: deps.config.smtp !== undefined };
}

async function queueVerification(deps: AppDeps, userId: string, email: string, baseUrl: string): Promise<void> {
  const now = nowOf(deps);
  const taken = await rateStoreOf(deps).take(`email-verify:${userId}`, VERIFY_RATE, now.getTime());
  if (!taken.allowed) throw new RateLimitedError(taken.retryAfterSecs, `A verification link was sent recently. Try again in ${Math.ceil(taken.retryAfterSecs / 60)} minutes.`, "VERIFY_RATE_LIMITED");
  const token = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
  const link = `${baseUrl.replace(/\/+$/, "")}${VERIFY_PATH}/${token}`;
  await mutate(deps, async (tx) => {
    await tx.insertInto("email_verifications").values({ id: crypto.randomUUID(), user_id: userId, email, token_hash: hashToken(token), created_at: now, expires_at: new Date(now.getTime() + VERIFY_LINK_HOURS * 3600_000) }).execute();
    await enqueueMail(
      tx,
      {
        kind: "verify",
        userId,
        to: email,
        subject: "Confirm your email address for Hearth",
        text: `Someone (hopefully you) added this address to a Hearth account. Open this link within ${VERIFY_LINK_HOURS} hours to confirm it:\n\n${link}\n\nUntil then Hearth sends nothing else to this address. If this was not you, ignore this mail.\n`,
      },
      now,
    );
  });
}

/** Sets (or, with an empty value, removes) the account's email; a new address starts unverified. */
export async function setEmail(deps: AppDeps, userId: string, raw: string, baseUrl: string): Promise<EmailState> {
  const email = raw.trim();
  if (email !== "") {
    const problem = checkEmail(email);
    if (problem) throw new InvalidInputError(problem, { email: problem }, "INVALID_EMAIL");
  }
  const before = await emailStateOf(deps, userId);
  if ((before.email ?? "").toLowerCase() === email.toLowerCase() && before.email === (email || null)) return before;
  const changedAddress = (before.email ?? "").toLowerCase() !== email.toLowerCase();
  try {
    await dbOf(deps)
      .updateTable("users")
      .set({ email: email || null, ...(changedAddress ? { email_verified_at: null } : {}), updated_at: nowOf(deps) })
      .where("id", "=", userId)
      .execute();
  } catch (error) {
    if (isUniqueViolation(error)) throw new ConflictError("Another account uses this email address.", "EMAIL_TAKEN", { email: "Another account uses this email address." });
    throw error;
  }
  if (email !== "" && changedAddress && deps.config.smtp) await queueVerification(deps, userId, email, baseUrl);
  return emailStateOf(deps, userId);
}

export async function resendVerification(deps: AppDeps, userId: string, baseUrl: string): Promise<void> {
  const state = await emailStateOf(deps, userId);
  if (!state.mailEnabled) throw new ConflictError("This server sends no email.", "EMAIL_DISABLED");
  if (!state.email) throw new ConflictError("Add an email address first.", "NO_EMAIL");
  if (state.verified) throw new ConflictError("This address is already confirmed.", "EMAIL_VERIFIED");
  await queueVerification(deps, userId, state.email, baseUrl);
}

/** Opens a link: the account whose address it confirmed, or 404 (unknown, used, expired, or the address changed since). */
export async function verifyEmail(deps: AppDeps, token: string): Promise<{ userId: string }> {
  const now = nowOf(deps);
  return mutate(deps, async (tx) => {
    const row = await tx.selectFrom("email_verifications").selectAll().where("token_hash", "=", hashToken(token)).forUpdate().executeTakeFirst();
    const user = row ? await tx.selectFrom("users").select(["email"]).where("id", "=", row.user_id).executeTakeFirst() : undefined;
    if (!row || row.used_at || new Date(row.expires_at).getTime() <= now.getTime() || !user?.email || user.email.toLowerCase() !== row.email.toLowerCase()) {
      throw new NotFoundError("This link is not valid: it was used, it expired, or the address changed since. Send a new one from your settings.", "VERIFY_LINK_INVALID");
    }
    await tx.updateTable("email_verifications").set({ used_at: now }).where("id", "=", row.id).execute();
    await tx.updateTable("users").set({ email_verified_at: now }).where("id", "=", row.user_id).execute();
    return { userId: row.user_id };
  });
}
