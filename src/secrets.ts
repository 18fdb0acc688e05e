/**
 * Resolves the secrets the server cannot run without: the Ed25519 JWT key pair and the TOTP
 * encryption key. Outside production, missing ones are generated once into DATA_DIR/secrets
 * (mode 0600) with a loud warning to back them up. In production nothing is generated: a missing
 * secret is a fatal, named error (seeds/000: the server refuses to start without it).
 *
 * Two values are derived, not stored: the key id of the JWT pair (RFC 7638 thumbprint of the
 * public key; sessions remember it, so rotating the pair signs everyone out) and the HMAC key of
 * trusted-device cookies (HKDF-SHA256 of the JWT private key with its own label: no new secret
 * to provision or lose; rotating the JWT pair also resets every browser's trusted-device status).
 */
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, hkdfSync, randomBytes } from "node:crypto";
import { join, resolve } from "node:path";
import type { Config } from "./config.ts";
import type { Logger } from "./log.ts";

export type Secrets = Readonly<{
  jwtPrivatePem: string;
  jwtPublicPem: string;
  /** RFC 7638 thumbprint of the JWT public key: the `kid` of access tokens and of sessions. */
  jwtKeyId: string;
  totpKey: Uint8Array;
  /** HMAC-SHA256 key of trusted-device cookies, derived from the JWT private key. */
  deviceCookieKey: Uint8Array;
  /**
   * HMAC-SHA256 key of the audit log's hash chain and checkpoints (features/audit), derived from
   * the TOTP key: that key is never rotated (2FA users would be locked out), so the chain stays
   * verifiable for as long as the log is kept, and nobody holding only the database can forge it.
   */
  auditKey: Uint8Array;
}>;

export class MissingSecretsError extends Error {
  constructor(readonly problems: string[]) {
    super(`Missing secrets (NODE_ENV=production never generates them):\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "MissingSecretsError";
  }
}

const LEGACY_DIR = resolve("./secrets");

/** Key paths: explicit env wins; else ./secrets/*.pem if an operator generated them there (seeds/003); else DATA_DIR/secrets. */
export function resolveJwtPaths(config: Config): { privatePath: string; publicPath: string; explicit: boolean } {
  if (config.jwt.privateKeyPath || config.jwt.publicKeyPath) {
    return {
      privatePath: resolve(config.jwt.privateKeyPath ?? join(LEGACY_DIR, "jwt_private.pem")),
      publicPath: resolve(config.jwt.publicKeyPath ?? join(LEGACY_DIR, "jwt_public.pem")),
      explicit: true,
    };
  }
  const legacyPrivate = join(LEGACY_DIR, "jwt_private.pem");
  if (existsSync(legacyPrivate)) return { privatePath: legacyPrivate, publicPath: join(LEGACY_DIR, "jwt_public.pem"), explicit: false };
  const dir = join(config.dataDir, "secrets");
  return { privatePath: join(dir, "jwt_private.pem"), publicPath: join(dir, "jwt_public.pem"), explicit: false };
}

/**
 * Publishes a newly generated secret atomically: written in full to a temporary file, then
 * hard-linked into place (link never overwrites). False when another process sharing DATA_DIR
 * (several instances on one PostgreSQL) published it first; its file is complete, use that one.
 */
function publishSecret(path: string, content: string, mode: number): boolean {
  mkdirSync(resolve(path, ".."), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  writeFileSync(tmp, content, { mode, flag: "wx" });
  chmodSync(tmp, mode);
  try {
    linkSync(tmp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** The other process that won the private key publishes the public half right after it. */
function waitForFile(path: string): void {
  for (let i = 0; i < 200 && !existsSync(path); i++) Bun.sleepSync(25);
}

export function loadSecrets(config: Config, log: Logger): Secrets {
  const { privatePath, publicPath, explicit } = resolveJwtPaths(config);
  const totpPath = join(config.dataDir, "secrets", "totp_encryption_key");
  const problems: string[] = [];
  const generated: string[] = [];

  let totpHex = config.totpEncryptionKey;
  if (!totpHex && !config.production && existsSync(totpPath)) totpHex = readFileSync(totpPath, "utf8").trim();
  if (!totpHex) {
    if (config.production) problems.push("TOTP_ENCRYPTION_KEY is not set. Generate one with: openssl rand -hex 32 (or scripts/generate-secrets.sh)");
    else {
      const fresh = randomBytes(32).toString("hex");
      if (publishSecret(totpPath, fresh + "\n", 0o600)) {
        totpHex = fresh;
        generated.push(totpPath);
      } else totpHex = readFileSync(totpPath, "utf8").trim();
    }
  }

  // The public half first: a generating instance publishes the private half, then the public
  // one, so looking in the opposite order can never see "public only" from a race (it did, in
  // CI: private looked absent, then both appeared before the public half was looked at).
  let havePublic = existsSync(publicPath);
  const havePrivate = existsSync(privatePath);
  // Another instance may be between publishing the private half and the public one.
  if (havePrivate && !havePublic && !config.production && !explicit) {
    waitForFile(publicPath);
    havePublic = existsSync(publicPath);
  }
  if (!havePrivate || !havePublic) {
    if (config.production || explicit) {
      if (!havePrivate) problems.push(`JWT private key file not found at ${privatePath} (JWT_PRIVATE_KEY_PATH). Generate the pair with scripts/generate-keys.sh or: openssl genpkey -algorithm Ed25519 -out jwt_private.pem`);
      if (!havePublic) problems.push(`JWT public key file not found at ${publicPath} (JWT_PUBLIC_KEY_PATH). Derive it with: openssl pkey -in jwt_private.pem -pubout -out jwt_public.pem`);
    } else if (havePrivate !== havePublic) {
      problems.push(`Only one half of the JWT key pair exists (${havePrivate ? privatePath : publicPath}); restore the other half or remove both to regenerate`);
    } else {
      const { privateKey, publicKey } = generateKeyPairSync("ed25519");
      if (publishSecret(privatePath, privateKey.export({ type: "pkcs8", format: "pem" }).toString(), 0o600)) {
        publishSecret(publicPath, publicKey.export({ type: "spki", format: "pem" }).toString(), 0o600);
        generated.push(privatePath, publicPath);
      } else waitForFile(publicPath); // checkKeyPair below proves the two halves match
    }
  }
  if (problems.length > 0) throw new MissingSecretsError(problems);

  const jwtPrivatePem = readFileSync(privatePath, "utf8");
  const jwtPublicPem = readFileSync(publicPath, "utf8");
  checkKeyPair(jwtPrivatePem, jwtPublicPem, privatePath);
  if (generated.length > 0) {
    log.warn("secrets.generated", {
      files: generated,
      note: "Generated new secrets. Back them up with your data: losing the TOTP key locks 2FA users out; losing the JWT keys signs everyone out.",
    });
  }
  return Object.freeze({
    jwtPrivatePem,
    jwtPublicPem,
    jwtKeyId: jwtKeyIdOf(jwtPublicPem),
    totpKey: Uint8Array.from(Buffer.from(totpHex!, "hex")),
    deviceCookieKey: deriveSubkey(jwtPrivatePem, "hearth device cookie v1"),
    auditKey: new Uint8Array(hkdfSync("sha256", Buffer.from(totpHex!, "hex"), "hearth", "hearth audit chain v1", 32)),
  });
}

/** RFC 7638 JWK thumbprint (SHA-256, base64url) of an Ed25519 public key. */
export function jwtKeyIdOf(publicPem: string): string {
  const jwk = createPublicKey(publicPem).export({ format: "jwk" });
  // Required members only, in lexicographic order, no whitespace (RFC 7638 §3.2).
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x });
  return createHash("sha256").update(canonical).digest("base64url");
}

/** A 32-byte key for one purpose, derived from the JWT private key (HKDF-SHA256, label = info). */
function deriveSubkey(privatePem: string, label: string): Uint8Array {
  const seed = Buffer.from(createPrivateKey(privatePem).export({ format: "jwk" }).d!, "base64url");
  return new Uint8Array(hkdfSync("sha256", seed, "hearth", label, 32));
}

function checkKeyPair(privatePem: string, publicPem: string, privatePath: string): void {
  let ok = false;
  try {
    const priv = createPrivateKey(privatePem);
    const derived = createPublicKey(priv).export({ type: "spki", format: "der" });
    const given = createPublicKey(publicPem).export({ type: "spki", format: "der" });
    ok = priv.asymmetricKeyType === "ed25519" && Buffer.compare(derived, given) === 0;
  } catch {
    ok = false;
  }
  if (!ok) throw new MissingSecretsError([`The JWT key pair at ${privatePath} is not a matching Ed25519 key pair`]);
}
