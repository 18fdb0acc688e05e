/** Queries on the users table and the user shapes the API returns. */
import { sql, type Selectable } from "kysely";
import type { Executor } from "../../db/tx.ts";
import type { UsersTable } from "../../db/schema.ts";

export type UserRow = Selectable<UsersTable>;

export function findUserByUsername(db: Executor, username: string): Promise<UserRow | undefined> {
  return db.selectFrom("users").selectAll().where(sql<string>`lower(username)`, "=", username.toLowerCase()).executeTakeFirst();
}

export function findUserById(db: Executor, id: string): Promise<UserRow | undefined> {
  return db.selectFrom("users").selectAll().where("id", "=", id).executeTakeFirst();
}

export async function isUsernameTaken(db: Executor, username: string): Promise<boolean> {
  return (await db.selectFrom("users").select("id").where(sql<string>`lower(username)`, "=", username.toLowerCase()).executeTakeFirst()) !== undefined;
}

export async function isEmailTaken(db: Executor, email: string): Promise<boolean> {
  return (await db.selectFrom("users").select("id").where(sql<string>`lower(email)`, "=", email.toLowerCase()).executeTakeFirst()) !== undefined;
}

export async function hasAnyUser(db: Executor): Promise<boolean> {
  return (await db.selectFrom("users").select("id").limit(1).executeTakeFirst()) !== undefined;
}

/** What other users may see. */
export type PublicUser = {
  id: string;
  username: string;
  display_name: string;
  custom_status: string | null;
  bio: string | null;
  pronouns: string | null;
  is_owner: boolean;
  is_admin: boolean;
  created_at: string;
};

/** What the user sees about themself (GET /api/account/me, register and login responses). */
export type OwnUser = PublicUser & { email: string | null; totp_enabled: boolean; admin_powers: string[]; allow_dms_from_anyone: boolean; has_password: boolean };

export function toPublicUser(row: UserRow): PublicUser {
  return {
    id: row.id,
    username: row.username,
    display_name: row.display_name,
    custom_status: row.custom_status,
    bio: row.bio,
    pronouns: row.pronouns,
    is_owner: row.is_owner,
    is_admin: row.is_admin,
    created_at: row.created_at.toISOString(),
  };
}

export function toOwnUser(row: UserRow): OwnUser {
  return {
    ...toPublicUser(row),
    email: row.email,
    totp_enabled: row.totp_enabled,
    admin_powers: row.is_owner ? ["*"] : row.admin_powers,
    allow_dms_from_anyone: row.allow_dms_from_anyone,
    has_password: row.password_hash !== null,
  };
}
