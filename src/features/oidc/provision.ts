/**
 * From verified ID-token claims to a local account (seeds/001 "User Provisioning"):
 *  1. an account already linked to (issuer, subject) signs in;
 *  2. else an unlinked account whose email matches a VERIFIED email claim is linked (this is how an
 *     admin "pre-creates" an account for someone in invite_only mode); unverified emails never link,
 *     or an IdP that lets users type any email would hand out other people's accounts;
 *  3. else a new account is provisioned from preferred_username (numeric suffix on collision),
 *     under the registration mode: closed refuses, invite_only needs an invite (consumed atomically
 *     in this transaction), and an instance with no users must be set up with its setup token first.
 * Suspended and locked-out accounts cannot sign in this way either (same lockout as passwords).
 */
import { sql } from "kysely";
import type { Config } from "../../config.ts";
import { readRegistrationMode } from "../../db/runtime-settings.ts";
import type { Tx } from "../../db/tx.ts";
import { AppError, ForbiddenError, InvalidInputError } from "../../errors.ts";
import { ADMIN_POWERS } from "../auth/admin-powers.ts";
import { insertAuditEntry, type RequestMeta } from "../auth/audit.ts";

export type VerifiedClaims = {
  issuer: string;
  subject: string;
  email?: string;
  emailVerified: boolean;
  preferredUsername?: string;
  name?: string;
};

export type OidcSignIn = { userId: string; username: string; created: boolean; linked: boolean };

const USERNAME_ALLOWED = /[^A-Za-z0-9_.-]/g;

/** A valid Hearth username from whatever the IdP calls the user (3–32 of [A-Za-z0-9_.-], starts with a letter or digit, no ".."). */
export function deriveUsername(preferred: string | undefined, email: string | undefined): string {
  const source = preferred?.trim() || email?.split("@")[0] || "user";
  let name = source.normalize("NFKD").replace(USERNAME_ALLOWED, "").replace(/\.{2,}/g, ".").replace(/^[^A-Za-z0-9]+/, "");
  name = name.slice(0, 32).replace(/[.]+$/, "");
  if (name.length < 3) name = (name + "user").slice(0, 32);
  return name;
}

async function findFreeUsername(tx: Tx, base: string): Promise<string> {
  for (let n = 0; n < 1000; n++) {
    const suffix = n === 0 ? "" : String(n + 1);
    const candidate = base.slice(0, 32 - suffix.length) + suffix;
    const taken = await tx.selectFrom("users").select("id").where(sql`lower(username)`, "=", candidate.toLowerCase()).executeTakeFirst();
    if (!taken) return candidate;
  }
  throw new AppError("USERNAME_UNAVAILABLE", 409, "No free username could be derived from your identity provider's profile.");
}

async function consumeInvite(tx: Tx, code: string | undefined, now: Date): Promise<string> {
  if (!code) throw new ForbiddenError("This server is invite-only. Open the invite link you were given, then choose single sign-on.", "INVITE_REQUIRED");
  const row = await tx
    .updateTable("registration_invites")
    .set((eb) => ({ uses: eb("uses", "+", 1) }))
    .where("code", "=", code.trim())
    .where((eb) => eb.or([eb("max_uses", "is", null), eb("uses", "<", eb.ref("max_uses"))]))
    .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", now)]))
    .returning("id")
    .executeTakeFirst();
  if (!row) throw new ForbiddenError("This invite is invalid, expired or used up.", "INVALID_INVITE");
  return row.id;
}

async function assertMaySignIn(tx: Tx, user: { id: string; username: string; suspended_at: Date | null }, now: Date): Promise<void> {
  if (user.suspended_at) throw new ForbiddenError("This account is suspended.", "ACCOUNT_SUSPENDED");
  const attempt = await tx.selectFrom("login_attempts").select("locked_until").where("key", "=", `login:${user.username.toLowerCase()}`).executeTakeFirst();
  if (attempt?.locked_until && attempt.locked_until > now) {
    const secs = Math.ceil((attempt.locked_until.getTime() - now.getTime()) / 1000);
    throw new AppError("ACCOUNT_LOCKED", 423, `This account is temporarily locked after too many failed attempts. Try again in ${Math.ceil(secs / 60)} minutes.`, { retryAfterSecs: secs });
  }
}

export async function signInWithOidc(tx: Tx, config: Config, claims: VerifiedClaims, opts: { invite?: string; meta: RequestMeta; now: Date }): Promise<OidcSignIn> {
  const columns = ["id", "username", "suspended_at", "oidc_subject"] as const;
  const linked = await tx.selectFrom("users").select(columns).where("oidc_issuer", "=", claims.issuer).where("oidc_subject", "=", claims.subject).executeTakeFirst();
  if (linked) {
    await assertMaySignIn(tx, linked, opts.now);
    return { userId: linked.id, username: linked.username, created: false, linked: false };
  }

  const email = claims.email?.trim().toLowerCase();
  if (email && claims.emailVerified) {
    const byEmail = await tx.selectFrom("users").select([...columns, "email_verified_at"]).where(sql`lower(email)`, "=", email).forUpdate().executeTakeFirst();
    if (byEmail && byEmail.oidc_subject === null && byEmail.email_verified_at === null) {
      // Anyone can type any address at registration. Linking to an account whose owner never
      // proved the address would hand that account the victim's first SSO sign-in (account
      // pre-hijacking). The identity provider's confirmation is the stronger claim: the address
      // moves to the new account, and the squatter's account keeps its password and loses it.
      await tx.updateTable("users").set({ email: null, updated_at: opts.now }).where("id", "=", byEmail.id).execute();
      await tx.deleteFrom("email_verifications").where("user_id", "=", byEmail.id).execute();
      await insertAuditEntry(tx, { actorId: null, action: "email_released", targetType: "user", targetId: byEmail.id, metadata: { reason: "OIDC_VERIFIED_ELSEWHERE" }, at: opts.now, meta: opts.meta });
    } else if (byEmail && byEmail.oidc_subject === null) {
      await assertMaySignIn(tx, byEmail, opts.now);
      await tx.updateTable("users").set({ oidc_issuer: claims.issuer, oidc_subject: claims.subject, updated_at: opts.now }).where("id", "=", byEmail.id).execute();
      await insertAuditEntry(tx, { actorId: byEmail.id, action: "login", targetType: "user", targetId: byEmail.id, metadata: { method: "oidc", linked_identity: true }, at: opts.now, meta: opts.meta });
      return { userId: byEmail.id, username: byEmail.username, created: false, linked: true };
    }
  }

  // Provisioning. Serialise against concurrent first logins of the same identity and against
  // the setup race: nobody becomes the first account through SSO.
  await sql`select pg_advisory_xact_lock(hashtext(${`oidc:${claims.issuer}:${claims.subject}`}))`.execute(tx);
  const { count } = await tx.selectFrom("users").select((eb) => eb.fn.countAll<number>().as("count")).executeTakeFirstOrThrow();
  if (Number(count) === 0) throw new ForbiddenError("This server has not been set up yet. The administrator must create the first account with the setup link.", "SETUP_REQUIRED");
  const mode = await readRegistrationMode(tx, config); // the runtime value (Settings tab) or REGISTRATION_MODE
  if (mode === "closed") throw new ForbiddenError("Registration is closed on this server. Ask an administrator to create your account.", "REGISTRATION_CLOSED");
  if (!email) throw new InvalidInputError("Your identity provider did not share an email address, which Hearth needs to create your account.", undefined, "OIDC_EMAIL_MISSING");
  const emailTaken = await tx.selectFrom("users").select("id").where(sql`lower(email)`, "=", email).executeTakeFirst();
  if (emailTaken) {
    throw new AppError("EMAIL_TAKEN", 409, "An account with this email already exists. Sign in with your password (the identity provider did not confirm that this email is yours).");
  }
  const inviteId = mode === "invite_only" ? await consumeInvite(tx, opts.invite, opts.now) : undefined;

  const username = await findFreeUsername(tx, deriveUsername(claims.preferredUsername, email));
  const isAdmin = Boolean(config.adminUsername && config.adminUsername.toLowerCase() === username.toLowerCase());
  const id = Bun.randomUUIDv7();
  await tx
    .insertInto("users")
    .values({
      id,
      username,
      email,
      password_hash: null,
      display_name: (claims.name?.trim() || username).slice(0, 64),
      is_admin: isAdmin,
      admin_powers: isAdmin ? [...ADMIN_POWERS] : [],
      oidc_issuer: claims.issuer,
      oidc_subject: claims.subject,
      created_at: opts.now,
      updated_at: opts.now,
    })
    .execute();
  await insertAuditEntry(tx, { actorId: id, action: "register", targetType: "user", targetId: id, metadata: { method: "oidc", invite_id: inviteId ?? null }, at: opts.now, meta: opts.meta });
  if (isAdmin) await insertAuditEntry(tx, { actorId: null, action: "admin_granted", targetType: "user", targetId: id, metadata: { reason: "ADMIN_USERNAME" }, at: opts.now, meta: opts.meta });
  return { userId: id, username, created: true, linked: false };
}
