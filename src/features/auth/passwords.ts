/**
 * Password hashing (Argon2id, m=64 MiB, t=3, p=4: the seeds' promise) and the password rules.
 * @node-rs/argon2 runs the hash on its own thread pool, so a login never blocks the event loop.
 */
import { hash, verify } from "@node-rs/argon2";
import { dictionary } from "@zxcvbn-ts/language-common";

const ARGON2_OPTIONS = { algorithm: 2 /* Argon2id */, memoryCost: 65536, timeCost: 3, parallelism: 4, outputLen: 32 } as const;

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_OPTIONS);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

let dummyHash: Promise<string> | undefined;
/**
 * Verifies against a throw-away hash with the real parameters, so an unknown username costs the
 * same time as a wrong password and the two are indistinguishable.
 */
export async function burnPasswordVerification(password: string): Promise<void> {
  dummyHash ??= hashPassword("hearth-dummy-password-for-timing");
  await verifyPassword(await dummyHash, password);
}

let common: Set<string> | undefined;
/** The zxcvbn-ts list of common passwords (a maintained npm package), compared case-insensitively. */
export function isCommonPassword(password: string): boolean {
  common ??= new Set(dictionary["passwords-common"].map((p) => p.toLowerCase()));
  return common.has(password.toLowerCase());
}

/** Returns the problem with a new password, or null. Length counts characters (code points). */
export function checkPasswordRules(password: string, username: string): string | null {
  const length = [...password].length;
  if (length < PASSWORD_MIN) return `Use at least ${PASSWORD_MIN} characters.`;
  if (length > PASSWORD_MAX) return `Use at most ${PASSWORD_MAX} characters.`;
  if (password.toLowerCase() === username.toLowerCase()) return "The password must not be your username.";
  if (isCommonPassword(password)) return "This password is too common; choose one that is harder to guess.";
  return null;
}
