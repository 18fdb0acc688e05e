/**
 * The legal pages /terms and /privacy (issue 15 §1, docs/admin.md "Legal pages"): public,
 * markdown, stored in instance_settings (`legal:terms`, `legal:privacy`) once an admin with the
 * power `server_settings` edits them; until then (and after "Restore the default") a default text
 * that names the instance (PUBLIC_URL's host, the one instance name the configuration has).
 */
import type { Config } from "../../config.ts";
import { deleteSetting, readSetting, writeSetting } from "../../db/instance-settings.ts";
import { runInTransaction } from "../../db/tx.ts";
import type { AppDeps } from "../../deps.ts";
import { InvalidInputError } from "../../errors.ts";
import { insertAuditEntry, type Actor, type RequestMeta } from "../auth/index.ts";

export const LEGAL_PAGES = ["terms", "privacy"] as const;
export type LegalPage = (typeof LEGAL_PAGES)[number];
export const MAX_LEGAL_CHARS = 20_000;
export const LEGAL_TITLES: Record<LegalPage, string> = { terms: "Terms of service", privacy: "Privacy policy" };

const keyOf = (page: LegalPage) => `legal:${page}`;

/** The name this instance goes by: PUBLIC_URL's host, else a generic phrase. */
export function instanceNameOf(config: Config): string {
  if (!config.publicUrl) return "this Hearth server";
  try {
    return new URL(config.publicUrl).host;
  } catch {
    return "this Hearth server";
  }
}

export function defaultLegalText(page: LegalPage, name: string): string {
  if (page === "terms") {
    return [
      `These terms apply to your use of **${name}**, a self-hosted Hearth chat server run by its administrators.`,
      "",
      "- Use it lawfully and respect the other people here; the administrators and community moderators may remove content they can see, suspend accounts and end sessions.",
      "- You are responsible for what you post and for keeping your password and recovery key safe. Without your recovery key, nobody can restore your encrypted history: the server cannot read it.",
      "- The service is provided as is, without any warranty; it may change or end.",
      "",
      `The administrators of ${name} have not written their own terms yet; this is the default text.`,
    ].join("\n");
  }
  return [
    `This policy describes what **${name}** (a self-hosted Hearth chat server) stores about you.`,
    "",
    "- **Messages and files** are end-to-end encrypted in your browser: the server stores ciphertext it cannot read.",
    "- **Account data** the server can read: your username, display name, optional email, profile, your memberships, and when you sign in (with IP address and browser, in sessions and the security audit log).",
    "- **Metadata** of messages: who sent one to which channel or conversation and when, reactions, and read positions.",
    "- Nothing is sold or shared with third parties by the software; the administrators run the server and can see the account data above.",
    "- You can delete your account in Settings; the administrators can also export or delete your data on request.",
    "",
    `The administrators of ${name} have not written their own policy yet; this is the default text.`,
  ].join("\n");
}

export type LegalText = { page: LegalPage; body: string; isDefault: boolean; updatedAt: Date | null };

export async function readLegalText(deps: AppDeps, page: LegalPage): Promise<LegalText> {
  const row = await readSetting<{ body?: unknown }>(deps.database.db, keyOf(page));
  if (row && typeof row.value?.body === "string") return { page, body: row.value.body, isDefault: false, updatedAt: row.updatedAt };
  return { page, body: defaultLegalText(page, instanceNameOf(deps.config)), isDefault: true, updatedAt: null };
}

/** Saves the page's text; `null` restores the default. Audited (`legal_page_updated`). */
export async function writeLegalText(deps: AppDeps, actor: Actor, page: LegalPage, raw: string | null, meta: RequestMeta): Promise<LegalText> {
  const body = raw === null ? null : raw.replace(/\r\n?/g, "\n").trim();
  if (body !== null && (body.length === 0 || body.length > MAX_LEGAL_CHARS)) throw new InvalidInputError(`The text needs 1 to ${MAX_LEGAL_CHARS} characters (or restore the default).`, { body: `1 to ${MAX_LEGAL_CHARS} characters.` }, "INVALID_LEGAL_TEXT");
  const now = new Date((deps.now ?? Date.now)());
  await runInTransaction({ db: deps.database.db, events: deps.events }, async (tx) => {
    if (body === null) await deleteSetting(tx, keyOf(page));
    else await writeSetting(tx, keyOf(page), { body, updated_by: actor.userId }, now);
    await insertAuditEntry(tx, { actorId: actor.userId, action: "legal_page_updated", targetType: "legal_page", metadata: { page, restored_default: body === null, chars: body?.length ?? 0 }, at: now, meta });
  });
  return readLegalText(deps, page);
}
