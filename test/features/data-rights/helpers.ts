/** Shared fixtures of the data-rights tests: a victim with data everywhere, unzipping, re-auth. */
import { unzipSync, strFromU8 } from "fflate";
import { Secret, TOTP } from "otpauth";
import type { TestContext } from "../../helpers/app.ts";
import { signIn, type TestUser } from "../../helpers/users.ts";
import { encryptTotpSecret } from "../../../src/features/auth/totp.ts";

export function unzipText(bytes: Uint8Array): Record<string, string> {
  const files = unzipSync(bytes);
  return Object.fromEntries(Object.entries(files).map(([name, data]) => [name, strFromU8(data)]));
}

export async function bytesOf(res: Response): Promise<Uint8Array> {
  return new Uint8Array(await res.arrayBuffer());
}

/** Turns two-factor on for `user` (a known secret) and returns a code maker. */
export async function enableTotp(ctx: TestContext, user: TestUser): Promise<(offsetSteps?: number) => string> {
  const secret = new Secret({ size: 20 });
  await ctx.database.db.updateTable("users").set({ totp_enabled: true, totp_secret_enc: encryptTotpSecret(ctx.deps.secrets.totpKey, secret.base32) }).where("id", "=", user.id).execute();
  const totp = new TOTP({ issuer: "Hearth", label: user.username, algorithm: "SHA1", digits: 6, period: 30, secret });
  return (offsetSteps = 0) => totp.generate({ timestamp: Date.now() + offsetSteps * 30_000 });
}

/** A fresh API session of `admin` that re-authenticated (password only). */
export async function reauthedSession(ctx: TestContext, admin: TestUser): Promise<Record<string, string>> {
  const { headers } = await signIn(ctx, admin);
  const res = await ctx.request("/api/admin/reauth", { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify({ password: admin.password }) });
  if (res.status !== 200) throw new Error(`reauth: ${res.status} ${await res.text()}`);
  return headers;
}
