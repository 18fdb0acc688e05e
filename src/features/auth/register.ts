/**
 * Registration: mode (open / invite_only / closed), the first-run setup token, field rules,
 * invite consumption, the recovery code (shown once), and the first session — one transaction.
 */
import { registrationModeOf } from "../../db/runtime-settings.ts";
import { sql } from "kysely";
import { ConflictError, ForbiddenError, InvalidInputError, type FieldErrors } from "../../errors.ts";
import { runInTransaction } from "../../db/tx.ts";
import { ADMIN_POWERS } from "./admin-powers.ts";
import { insertAuditEntry, type RequestMeta } from "./audit.ts";
import { consumeInvite, isInviteUsable } from "./invites.ts";
import { communityInviteRedeemer } from "./community-invites.ts";
import type { AuthKernel } from "./kernel.ts";
import { checkPasswordRules, hashPassword } from "./passwords.ts";
import { createSession, type IssuedTokens } from "./sessions.ts";
import { consumeSetupToken, isSetupTokenValid } from "./setup.ts";
import { generateCode, hashToken } from "./tokens.ts";
import { findUserById, hasAnyUser, isEmailTaken, isUsernameTaken, type UserRow } from "./users.ts";
import { checkEmail, checkLength, checkUsername, cleanText } from "./validation.ts";

export type RegisterInput = { username: string; email?: string; password: string; displayName?: string; inviteCode?: string; setupToken?: string };
/** `joinedCommunityId`: the community whose invite link the account was created with (issue 13 §8). */
export type Registered = { tokens: IssuedTokens; user: UserRow; recoveryCode: string; joinedCommunityId?: string };

export function newRecoveryCode(): { code: string; hash: string } {
  const code = generateCode(4);
  return { code, hash: hashToken(code) };
}

function checkFields(input: RegisterInput): { username: string; email: string | null; displayName: string } {
  const username = input.username.trim();
  // Optional: empty means none (nothing sends users mail yet; see migration 0024).
  const email = input.email?.trim() || null;
  const displayName = cleanText(input.displayName ?? "") || username;
  const fields: FieldErrors = {};
  const u = checkUsername(username);
  if (u) fields.username = u;
  const e = email === null ? null : checkEmail(email);
  if (e) fields.email = e;
  const p = checkPasswordRules(input.password, username);
  if (p) fields.password = p;
  const d = checkLength(displayName, 1, 64);
  if (d) fields.display_name = d;
  if (Object.keys(fields).length > 0) throw new InvalidInputError("Some fields need attention.", fields);
  return { username, email, displayName };
}

function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; cause?: { code?: string } };
  return e?.code === "23505" || e?.cause?.code === "23505";
}

const SETUP_TOKEN_INVALID = () => new ForbiddenError("The setup token is not valid (it may have been used already).", "SETUP_TOKEN_INVALID");
const SETUP_TOKEN_REQUIRED = () => new ForbiddenError("This new instance is waiting for its owner. Use the one-time setup link printed in the server log.", "SETUP_TOKEN_REQUIRED");
const REGISTRATION_CLOSED = () => new ForbiddenError("Registration is closed on this server.", "REGISTRATION_CLOSED");
const INVITE_REQUIRED = () => new ForbiddenError("Registration on this server needs an invite code.", "INVITE_REQUIRED");
const INVITE_INVALID = () => new ForbiddenError("This invite code is not valid: it may be mistyped, expired or used up.", "INVITE_INVALID");

/**
 * The same refusals as inside the transaction, read-only and before the password is hashed: a
 * registration that will be refused (closed, no or a bad invite, no setup token) must not cost the
 * server ~165 ms of Argon2 (64 MiB) first, or registration is a cheap CPU and memory lever. The
 * transaction still decides (a code can be used up in between).
 */
async function refuseEarly(kernel: AuthKernel, input: RegisterInput, nowMs: number): Promise<void> {
  const db = kernel.deps.database.db;
  // The runtime value (Settings tab) when an admin set one, else REGISTRATION_MODE.
  const mode = await registrationModeOf(kernel.deps);
  if (input.setupToken) {
    if (!(await isSetupTokenValid(db, input.setupToken.trim()))) throw SETUP_TOKEN_INVALID();
    return;
  }
  if (!(await hasAnyUser(db))) throw SETUP_TOKEN_REQUIRED();
  if (mode === "closed") throw REGISTRATION_CLOSED();
  const code = input.inviteCode?.trim();
  if (mode === "invite_only" && !code) throw INVITE_REQUIRED();
  if (mode === "invite_only" && code && !(await isInviteUsable(db, code, nowMs)) && !(await communityInviteRedeemer()?.grantsRegistration(db, code, new Date(nowMs)))) throw INVITE_INVALID();
}

export async function registerUser(kernel: AuthKernel, input: RegisterInput, meta: RequestMeta, opts: { passwordHash?: string } = {}): Promise<Registered> {
  const { config } = kernel.deps;
  const fields = checkFields(input);
  const nowMs = kernel.now();
  await refuseEarly(kernel, input, nowMs);
  // Hash outside the transaction: ~165 ms of Argon2 must not hold row locks.
  const passwordHash = opts.passwordHash ?? (await hashPassword(input.password));
  const recovery = newRecoveryCode();
  try {
    return await runInTransaction({ db: kernel.deps.database.db, events: kernel.deps.events }, async (tx, outbox) => {
      let isFirst = false;
      /** The code is a community invite that carries the right to register (spent after the user row). */
      let viaCommunityInvite = false;
      if (input.setupToken) {
        isFirst = await consumeSetupToken(tx, input.setupToken.trim());
        if (!isFirst) throw SETUP_TOKEN_INVALID();
      } else if (!(await hasAnyUser(tx))) {
        throw SETUP_TOKEN_REQUIRED();
      }
      const mode = await registrationModeOf(kernel.deps, tx);
      if (!isFirst) {
        if (mode === "closed") throw REGISTRATION_CLOSED();
        const code = input.inviteCode?.trim();
        if (mode === "invite_only" && !code) throw INVITE_REQUIRED();
        // In open mode invites are not needed and not consumed.
        if (mode === "invite_only" && code && !(await consumeInvite(tx, code!, nowMs))) {
          if (!(await communityInviteRedeemer()?.grantsRegistration(tx, code, new Date(nowMs)))) throw INVITE_INVALID();
          viaCommunityInvite = true;
        }
      }
      const taken: FieldErrors = {};
      if (await isUsernameTaken(tx, fields.username)) taken.username = "This username is taken.";
      if (fields.email !== null && (await isEmailTaken(tx, fields.email))) taken.email = "An account with this email exists.";
      if (taken.username) throw new ConflictError("This username is taken.", "USERNAME_TAKEN", taken);
      if (taken.email) throw new ConflictError("An account with this email address already exists.", "EMAIL_TAKEN", taken);

      const configuredAdmin = config.adminUsername !== undefined && config.adminUsername.toLowerCase() === fields.username.toLowerCase();
      const isAdmin = isFirst || configuredAdmin;
      const id = Bun.randomUUIDv7();
      const now = new Date(nowMs);
      await tx
        .insertInto("users")
        .values({
          id,
          username: fields.username,
          email: fields.email,
          password_hash: passwordHash,
          display_name: fields.displayName,
          is_owner: isFirst,
          is_admin: isAdmin,
          admin_powers: isAdmin ? [...ADMIN_POWERS] : [],
          recovery_code_hash: recovery.hash,
          created_at: now,
          updated_at: now,
        })
        .execute();
      await insertAuditEntry(tx, { actorId: id, action: "register", targetType: "user", targetId: id, metadata: { owner: isFirst, invite: Boolean(input.inviteCode) }, at: now, meta });
      if (isAdmin) {
        await insertAuditEntry(tx, { actorId: null, action: "admin_granted", targetType: "user", targetId: id, metadata: { source: isFirst ? "setup_token" : "ADMIN_USERNAME" }, at: now, meta });
      }
      // A community invite link: join it now, in this transaction (its one use is spent here, so
      // a one-use link makes one account even when sign-ups race). In open mode a community
      // invite is joined too; any other code was a registration invite (or nothing).
      let joinedCommunityId: string | undefined;
      const code = input.inviteCode?.trim();
      if (code && !isFirst && (viaCommunityInvite || mode === "open")) {
        const joined = await communityInviteRedeemer()?.redeem(kernel.deps, tx, outbox, { code, userId: id, now, requireRight: viaCommunityInvite });
        if (viaCommunityInvite && !joined) throw INVITE_INVALID();
        joinedCommunityId = joined?.communityId;
      }
      const tokens = await createSession(tx, kernel, id, meta);
      const user = (await findUserById(tx, id))!;
      return { tokens, user, recoveryCode: recovery.code, ...(joinedCommunityId ? { joinedCommunityId } : {}) };
    });
  } catch (error) {
    // Two registrations raced past the checks: the unique index decides, reported as 409 (not 500).
    if (isUniqueViolation(error)) throw new ConflictError("This username or email is already taken.", "USERNAME_TAKEN", { username: "This username or email is already taken." });
    throw error;
  }
}

export async function countUsers(kernel: AuthKernel): Promise<number> {
  const row = await kernel.deps.database.db.selectFrom("users").select(sql<number>`count(*)::int`.as("n")).executeTakeFirstOrThrow();
  return row.n;
}
